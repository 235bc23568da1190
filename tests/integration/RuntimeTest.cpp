// The host in-process with real test plugins: start order, registrations owned and removed,
// a plugin that throws in start, and a plugin that throws while serving a request.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/JSON/Parser.h>

#include "app/Runtime.hpp"
#include "TestService.hpp"
#include "TestSupport.hpp"

using namespace tawasul;
using tawasul::test::TempDir;

namespace {

host::HostConfig configFor(const TempDir& dir, const std::string& plugins) {
    return host::HostConfig::parse(sdk::ConfigNode::loadString(
        test::testConfigYaml(dir, TAWASUL_TEST_PLUGIN_DIR, plugins), dir.file("tawasul.yaml")));
}

// A runtime with migrated schema and open secrets, as `serve` has it before starting plugins.
std::unique_ptr<host::Runtime> makeRuntime(const TempDir& dir, const std::string& plugins) {
    auto runtime = std::make_unique<host::Runtime>(configFor(dir, plugins));
    runtime->loadPlugins();
    runtime->migrator().migrate();
    runtime->openSecrets(true);
    return runtime;
}

std::size_t routesOwnedBy(host::Runtime& runtime, const std::string& owner) {
    std::size_t count = 0;
    for (const auto& route : runtime.router().routes()) count += route->owner == owner ? 1 : 0;
    return count;
}

}  // namespace

class RuntimeTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RuntimeTest);
    CPPUNIT_TEST(startedPluginRegistersAndStopRemovesEverything);
    CPPUNIT_TEST(pluginThrowingInStartStopsStartupNamingIt);
    CPPUNIT_TEST(pluginThrowingDuringRequestGives500AndHostStaysUp);
    CPPUNIT_TEST(bodyLimitAndRoutingErrors);
    CPPUNIT_TEST(readyzReportsPendingMigrations);
    CPPUNIT_TEST(unknownPluginPointsAtItsConfigLine);
    CPPUNIT_TEST_SUITE_END();

public:
    void startedPluginRegistersAndStopRemovesEverything() {
        TempDir dir;
        auto runtime = makeRuntime(dir, "    - good: { greeting: salam }\n");
        runtime->startPlugins();
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), routesOwnedBy(*runtime, "good"));
        auto service = std::static_pointer_cast<test::TestService>(
            runtime->services().find(typeid(test::TestService).name(), test::TestService::kServiceName));
        CPPUNIT_ASSERT(service);
        CPPUNIT_ASSERT_EQUAL(std::string("hello, Amina"), service->greet("Amina"));
        CPPUNIT_ASSERT_EQUAL(std::string("started"), runtime->pluginStates().at(0).status);
        service.reset();
        runtime->stopPlugins();
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), routesOwnedBy(*runtime, "good"));
        CPPUNIT_ASSERT(!runtime->services().find(typeid(test::TestService).name(), test::TestService::kServiceName));
        CPPUNIT_ASSERT_EQUAL(std::string("stopped"), runtime->pluginStates().at(0).status);
    }

    void pluginThrowingInStartStopsStartupNamingIt() {
        TempDir dir;
        auto runtime = makeRuntime(dir, "    - good: {}\n    - throwing: {}\n");
        try {
            runtime->startPlugins();
            CPPUNIT_FAIL("start succeeded with a throwing plugin");
        } catch (const host::StartupError& error) {
            CPPUNIT_ASSERT_EQUAL(std::string("plugin 'throwing' failed to start: cannot reach the frobnicator"), std::string(error.what()));
        }
        // The plugin started before it was stopped again, and the thrower left no route behind.
        CPPUNIT_ASSERT_EQUAL(std::string("stopped"), runtime->pluginStates().at(0).status);
        CPPUNIT_ASSERT_EQUAL(std::string("failed: cannot reach the frobnicator"), runtime->pluginStates().at(1).status);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), routesOwnedBy(*runtime, "throwing"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), routesOwnedBy(*runtime, "good"));
    }

    void pluginThrowingDuringRequestGives500AndHostStaysUp() {
        TempDir dir;
        auto runtime = makeRuntime(dir, "    - good: {}\n");
        runtime->registerHostRoutes();
        runtime->startPlugins();
        runtime->startServing();
        const int port = runtime->httpPort();
        const auto failed = test::httpRequest("GET", "127.0.0.1", port, "/test/throw");
        CPPUNIT_ASSERT_EQUAL(500, failed.status);
        auto body = Poco::JSON::Parser().parse(failed.body).extract<Poco::JSON::Object::Ptr>();
        CPPUNIT_ASSERT_EQUAL(std::string("internal_error"), body->getObject("error")->getValue<std::string>("code"));
        CPPUNIT_ASSERT_EQUAL(failed.headers.at("x-request-id"), body->getValue<std::string>("request_id"));
        // The message of the exception stays in the log, not in the answer.
        CPPUNIT_ASSERT(failed.body.find("deliberate") == std::string::npos);
        for (int i = 0; i < 3; ++i) {
            const auto ok = test::httpRequest("GET", "127.0.0.1", port, "/test/items/42");
            CPPUNIT_ASSERT_EQUAL(200, ok.status);
            CPPUNIT_ASSERT_EQUAL(std::string("item 42"), ok.body);
        }
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), runtime->metrics().counterValue("tawasul_http_requests_total{status=\"5xx\"}"));
        runtime->stopServing();
        runtime->stopPlugins();
    }

    void bodyLimitAndRoutingErrors() {
        TempDir dir;
        auto runtime = makeRuntime(dir, "    - good: {}\n");
        runtime->registerHostRoutes();
        runtime->startPlugins();
        runtime->startServing();
        const int port = runtime->httpPort();
        const std::int64_t limit = runtime->config().server.maxBodyBytes;
        std::string body(static_cast<std::size_t>(limit), 'x');
        body[0] = '\0';
        body[1] = '\xff';
        const auto echoed = test::httpRequest("POST", "127.0.0.1", port, "/test/echo", body);
        CPPUNIT_ASSERT_EQUAL(200, echoed.status);
        CPPUNIT_ASSERT(echoed.body == body);  // bytes exactly as sent, NUL and 0xFF included
        const auto tooBig = test::httpRequest("POST", "127.0.0.1", port, "/test/echo", body + "y");
        CPPUNIT_ASSERT_EQUAL(413, tooBig.status);
        const auto missing = test::httpRequest("GET", "127.0.0.1", port, "/api/v1/nothing");
        CPPUNIT_ASSERT_EQUAL(404, missing.status);
        CPPUNIT_ASSERT(missing.body.find("\"code\":\"not_found\"") != std::string::npos);
        const auto wrongMethod = test::httpRequest("DELETE", "127.0.0.1", port, "/test/hello");
        CPPUNIT_ASSERT_EQUAL(405, wrongMethod.status);
        CPPUNIT_ASSERT_EQUAL(std::string("GET"), wrongMethod.headers.at("allow"));
        runtime->stopServing();
        runtime->stopPlugins();
    }

    void readyzReportsPendingMigrations() {
        TempDir dir;
        host::Runtime runtime(configFor(dir, "    - good: {}\n"));
        runtime.loadPlugins();
        runtime.openSecrets(true);
        runtime.registerHostRoutes();
        runtime.startPlugins();
        runtime.startServing();
        const auto notReady = test::httpRequest("GET", "127.0.0.1", runtime.httpPort(), "/readyz");
        CPPUNIT_ASSERT_EQUAL(503, notReady.status);
        CPPUNIT_ASSERT_MESSAGE(notReady.body, notReady.body.find("migration(s) pending: run `tawasul migrate`") != std::string::npos);
        runtime.migrator().migrate();
        const auto ready = test::httpRequest("GET", "127.0.0.1", runtime.httpPort(), "/readyz");
        CPPUNIT_ASSERT_EQUAL(200, ready.status);
        CPPUNIT_ASSERT(ready.body.find("{\"name\":\"good\",\"status\":\"started\",\"version\":\"1.2.3\"}") != std::string::npos);
        runtime.stopServing();
        runtime.stopPlugins();
    }

    void unknownPluginPointsAtItsConfigLine() {
        TempDir dir;
        host::Runtime runtime(configFor(dir, "    - good: {}\n    - nonexistent: {}\n"));
        try {
            runtime.loadPlugins();
            CPPUNIT_FAIL("an unknown plugin was accepted");
        } catch (const host::StartupError& error) {
            // Line 17 of the generated file is the second `- name` entry under plugins.load.
            const std::string expected = dir.file("tawasul.yaml") + ":17:7: plugin 'nonexistent': no library at ";
            CPPUNIT_ASSERT_MESSAGE(error.what(), std::string(error.what()).rfind(expected, 0) == 0);
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RuntimeTest);
