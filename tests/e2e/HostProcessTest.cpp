// The real `tawasul` binary, started with a temporary configuration and driven over HTTP.
#include <cppunit/extensions/HelperMacros.h>

#include "HostProcess.hpp"

using tawasul::test::HostOptions;
using tawasul::test::HostProcess;

class HostProcessTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(HostProcessTest);
    CPPUNIT_TEST(servesReadyzWithAllSixPluginsStarted);
    CPPUNIT_TEST(pluginExceptionDuringRequestLeavesHostUp);
    CPPUNIT_TEST(stopsCleanlyOnSigterm);
    CPPUNIT_TEST(refusesToStartWhenAPluginThrows);
    CPPUNIT_TEST_SUITE_END();

public:
    void servesReadyzWithAllSixPluginsStarted() {
        HostProcess host;
        host.start();
        const auto ready = host.request("GET", "/readyz");
        CPPUNIT_ASSERT_EQUAL(200, ready.status);
        for (const char* name : {"webhook_receiver", "contact_matcher", "inbound_router", "cloud_api", "outbox", "admin_inbox"}) {
            const std::string expected = std::string("{\"name\":\"") + name + "\",\"status\":\"started\"";
            CPPUNIT_ASSERT_MESSAGE(ready.body, ready.body.find(expected) != std::string::npos);
        }
        CPPUNIT_ASSERT_EQUAL(200, host.request("GET", "/healthz").status);
        const auto metrics = host.request("GET", "/metrics");
        CPPUNIT_ASSERT_EQUAL(200, metrics.status);
        CPPUNIT_ASSERT(metrics.body.find("tawasul_http_requests_total{status=\"2xx\"}") != std::string::npos);
        // plugins list, run beside the live host, reports the same six as started.
        auto [status, output] = host.cli({"plugins", "list"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
        CPPUNIT_ASSERT(output.find("admin_inbox         0.1.0     started") != std::string::npos);
    }

    void pluginExceptionDuringRequestLeavesHostUp() {
        HostOptions options;
        options.pluginDir = TAWASUL_TEST_PLUGIN_DIR;
        options.pluginsYaml = "    - good: {}\n";
        HostProcess host(options);
        host.start();
        const auto failed = host.request("GET", "/test/throw");
        CPPUNIT_ASSERT_EQUAL(500, failed.status);
        CPPUNIT_ASSERT_EQUAL(200, host.request("GET", "/test/hello").status);
        CPPUNIT_ASSERT_EQUAL(200, host.request("GET", "/readyz").status);
        const std::string log = host.log();
        CPPUNIT_ASSERT_MESSAGE(log, log.find("plugin.good: request " + failed.headers.at("x-request-id") +
                                             " GET /test/throw failed: deliberate failure inside a request") != std::string::npos);
    }

    void stopsCleanlyOnSigterm() {
        HostProcess host;
        host.start();
        CPPUNIT_ASSERT_EQUAL(0, host.stop());
        CPPUNIT_ASSERT(host.log().find("host: stopped") != std::string::npos);
    }

    void refusesToStartWhenAPluginThrows() {
        HostOptions options;
        options.pluginDir = TAWASUL_TEST_PLUGIN_DIR;
        options.pluginsYaml = "    - good: {}\n    - throwing: {}\n";
        HostProcess host(options);
        try {
            host.start();
            CPPUNIT_FAIL("the host started with a plugin that throws in start()");
        } catch (const std::runtime_error& error) {
            CPPUNIT_ASSERT_MESSAGE(error.what(), std::string(error.what()).find(
                "tawasul: plugin 'throwing' failed to start: cannot reach the frobnicator") != std::string::npos);
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HostProcessTest);
