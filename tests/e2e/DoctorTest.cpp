// `tawasul doctor` on a good installation (every check ok) and on installations broken one way
// each: that check alone says FAIL, on its own line, and the exit status is 1.
#include <cppunit/extensions/HelperMacros.h>

#include <optional>
#include <sstream>

#include <sys/stat.h>

#include <Poco/Net/NetworkInterface.h>

#include "Assertions.hpp"
#include "FakeGraphApi.hpp"
#include "HostProcess.hpp"
#include "TestSupport.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul::test;

namespace {

const std::string kToken = "doctor-good-token";

// An IPv4 address of this machine that is not loopback: where Meta could reach a host (the doctor
// refuses a loopback public URL without asking it).
std::string outsideAddress() {
    for (const Poco::Net::NetworkInterface& interface : Poco::Net::NetworkInterface::list(true, true))
        for (const auto& entry : interface.addressList()) {
            const Poco::Net::IPAddress& address = entry.get<Poco::Net::NetworkInterface::IP_ADDRESS>();
            if (address.family() == Poco::Net::IPAddress::IPv4 && !address.isLoopback() && !address.isWildcard()) return address.toString();
        }
    throw std::runtime_error("DoctorTest needs a network interface with a non-loopback IPv4 address");
}

std::vector<std::string> failLines(const std::string& output) {
    std::vector<std::string> lines;
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);)
        if (line.rfind("FAIL", 0) == 0) lines.push_back(line);
    return lines;
}

void assertFailsAlone(const std::pair<int, std::string>& result, const std::string& check) {
    CPPUNIT_ASSERT_EQUAL_MESSAGE(result.second, 1, result.first);
    const auto lines = failLines(result.second);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(result.second, std::size_t(1), lines.size());
    CPPUNIT_ASSERT_MESSAGE(result.second, lines[0].rfind("FAIL  " + check, 0) == 0);
}

}  // namespace

class DoctorTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DoctorTest);
    CPPUNIT_TEST(eachCheckFailsAlone);
    CPPUNIT_TEST_SUITE_END();

public:
    void eachCheckFailsAlone() {
        FakeGraphApi graph;
        graph.requireToken(kToken);
        const std::string plugins = "    - webhook_receiver: {}\n    - contact_matcher: {}\n    - inbound_router: {}\n"
                                    "    - cloud_api: { graph_url: \"" + graph.url() + "\", phone_number_id: \"1234567890\" }\n"
                                    "    - outbox: {}\n    - admin_inbox: {}\n";
        HostOptions options = withWebhookSecrets();
        options.pluginsYaml = plugins;
        options.listenHost = "0.0.0.0";  // answers on the outside address too
        const std::string outside = outsideAddress();
        options.settings.emplace_back("whatsapp.cloud.access_token", kToken);
        HostProcess host(options);
        host.start();
        // The doctor's configuration is the host's with the public URL where the host listens, on an
        // address of this machine that is not loopback.
        const TempDir& dir = host.dir();
        const std::string publicUrl = "  public_url: \"http://" + outside + ":" + std::to_string(host.port()) + "\"\n";
        auto doctor = [&](const std::string& pluginsYaml, const std::string& databaseUrl = "",
                          const std::vector<std::string>& environment = {}, const std::optional<std::string>& serverYaml = std::nullopt) {
            writeFile(dir.file("doctor.yaml"),
                      testConfigYaml(dir, TAWASUL_PLUGIN_DIR, pluginsYaml, databaseUrl, "", 2, serverYaml.value_or(publicUrl)));
            return runCommand({TAWASUL_BINARY, "--config", dir.file("doctor.yaml"), "doctor"}, environment);
        };

        const auto good = doctor(plugins);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(good.second, 0, good.first);
        CPPUNIT_ASSERT_MESSAGE(good.second, failLines(good.second).empty());
        for (const char* check : {"config", "database", "master key", "plugins", "cloud api", "public url", "file modes", "disk space"})
            assertContains(good.second, std::string("ok    ") + check);
        assertLacks(good.second, kToken);

        // Another valid key than the one that sealed the secrets.
        assertFailsAlone(doctor(plugins, "", {"TAWASUL_MASTER_KEY=" + std::string(43, 'A') + "="}), "master key");
        // A plugin the configuration names but the plugin folder lacks.
        assertFailsAlone(doctor(plugins + "    - missing_plugin: {}\n"), "plugins");
        // A database nobody migrated.
        const std::string empty = dir.file("empty.db");
        writeFile(empty, "");
        ::chmod(empty.c_str(), 0600);
        assertFailsAlone(doctor(plugins, "sqlite:" + empty), "database");
        // The database readable by everyone.
        const std::string database = dir.file("tawasul.db");
        ::chmod(database.c_str(), 0644);
        assertFailsAlone(doctor(plugins), "file modes");
        ::chmod(database.c_str(), 0600);
        // The public URL pointing where no host answers.
        const auto nobody = doctor(plugins, "", {}, "  public_url: \"http://" + outside + ":9\"\n");
        assertFailsAlone(nobody, "public url");
        assertContains(nobody.second, "no answer");
        // No public URL: it is the listen address, which Meta cannot reach (even though it answers here).
        const auto derived = doctor(plugins, "", {}, "");
        assertFailsAlone(derived, "public url");
        assertContains(derived.second, "server.public_url is not set");
        // A loopback public URL answers the handshake here, and Meta still cannot reach it.
        for (const std::string& loopback : {"127.0.0.1", "localhost", "[::1]"}) {
            const auto local = doctor(plugins, "", {}, "  public_url: \"http://" + loopback + ":" + std::to_string(host.port()) + "\"\n");
            assertFailsAlone(local, "public url");
            assertContains(local.second, "loopback or wildcard address");
        }
        // Meta no longer takes the stored token.
        graph.requireToken("a-rotated-token");
        const auto badToken = doctor(plugins);
        assertFailsAlone(badToken, "cloud api");
        assertContains(badToken.second, "HTTP 401");
        assertLacks(badToken.second, kToken);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DoctorTest);
