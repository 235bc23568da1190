// The SDK as plugin authors get it: installed into a prefix with `cmake --install --component runtime|sdk`,
// examples/out_of_tree_provider copied out of the source tree and built against that prefix alone
// (find_package(Tawasul)), loaded by a host from a config line, sending through the fake Graph API
// standing in for the BSP; and the same example built with NDEBUG flipped, refused by name.
#include <cppunit/extensions/HelperMacros.h>

#include <filesystem>
#include <string>

#include "FakeGraphApi.hpp"
#include "HostProcess.hpp"
#include "OutboundSupport.hpp"
#include "TestSupport.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;
namespace fs = std::filesystem;

namespace {

// The plugins a host needs for an outbound message, next to the one built out of the tree.
const char* const kTreePlugins[] = {"webhook_receiver", "contact_matcher", "inbound_router", "outbox", "outbound_probe"};

// Configures and builds the example in `build` against `prefix` only; returns the build's output.
std::pair<int, std::string> buildExample(const fs::path& source, const fs::path& build, const fs::path& prefix,
                                         const std::string& buildType) {
    auto configured = runCommand({TAWASUL_CMAKE, "-S", source.string(), "-B", build.string(), "-DCMAKE_PREFIX_PATH=" + prefix.string(),
                                  "-DCMAKE_BUILD_TYPE=" + buildType, "-DCMAKE_CXX_COMPILER=" TAWASUL_CXX_COMPILER});
    if (configured.first != 0) return configured;
    return runCommand({TAWASUL_CMAKE, "--build", build.string(), "-j2"});
}

}  // namespace

class SdkPackageTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SdkPackageTest);
    CPPUNIT_TEST(outOfTreeProviderBuildsLoadsAndSends);
    CPPUNIT_TEST_SUITE_END();

public:
    void outOfTreeProviderBuildsLoadsAndSends() {
        TempDir work;
        const fs::path prefix = work.path() / "prefix";
        // The library is component runtime (the Debian package tawasul), the rest component sdk (tawasul-dev).
        for (const char* component : {"runtime", "sdk"}) {
            const auto installed = runCommand({TAWASUL_CMAKE, "--install", TAWASUL_BUILD_DIR, "--component", component, "--prefix", prefix.string()});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(installed.second, 0, installed.first);
        }
        // What a plugin author gets: headers, the library by its SONAME, the CMake package.
        for (const char* file : {"include/tawasul/sdk/Plugin.hpp", "include/tawasul/sdk/EveryHostEvents.hpp", "include/tawasul/whatsapp/Messaging.hpp",
                                 "include/tawasul/whatsapp/Templates.hpp", "include/tawasul/whatsapp/Media.hpp", "lib/libtawasul-sdk.so",
                                 "lib/libtawasul-sdk.so.1", "lib/cmake/Tawasul/TawasulConfig.cmake",
                                 "lib/cmake/Tawasul/TawasulConfigVersion.cmake", "lib/cmake/Tawasul/TawasulTargets.cmake",
                                 "lib/cmake/Tawasul/TawasulPlugin.cmake"})
            CPPUNIT_ASSERT_MESSAGE(file, fs::exists(prefix / file));
        CPPUNIT_ASSERT(!fs::exists(prefix / "include/tawasul/sdk/../../host"));  // nothing of the host
        // The installed headers are the SDK ABI this host provides (2.10: Database::requestsWroteWithin; 2.9: SqlDialect::inSubquery; 2.8: TypingIndicator and the dispatcher's showTyping and
        // retry; 2.7: gauge families; 2.6: inbound media, Media.hpp; 2.5: webhook field handlers and template approval, after
        // 2.3's OutboundMessage::userId).
        const std::string signature = readFile((prefix / "include/tawasul/sdk/BuildSignature.hpp").string());
        CPPUNIT_ASSERT_MESSAGE(signature, signature.find("#define TAWASUL_SDK_ABI_MAJOR 2\n#define TAWASUL_SDK_ABI_MINOR 10\n") != std::string::npos);

        // The example, copied where nothing of the source tree is near it.
        const fs::path source = work.path() / "bsp_relay";
        fs::copy(fs::path(TAWASUL_SOURCE_DIR) / "examples/out_of_tree_provider", source, fs::copy_options::recursive);
        const auto built = buildExample(source, work.path() / "build", prefix, TAWASUL_BUILD_TYPE);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(built.second, 0, built.first);
        const fs::path plugin = work.path() / "build/plugins/bsp_relay/bsp_relay.so";
        CPPUNIT_ASSERT_MESSAGE(built.second, fs::exists(plugin));

        // A plugin folder with Tawasul's own plugins and the new one; the host loads it by config.
        const fs::path plugins = work.path() / "plugins";
        fs::create_directories(plugins);
        for (const char* name : kTreePlugins) fs::create_directory_symlink(fs::path(TAWASUL_TEST_PLUGIN_DIR) / name, plugins / name);
        fs::create_directory_symlink(plugin.parent_path(), plugins / "bsp_relay");

        FakeGraphApi bsp;
        HostOptions options = withWebhookSecrets();
        options.pluginDir = plugins.string();
        options.pluginsYaml = "    - webhook_receiver: {}\n    - contact_matcher: {}\n    - inbound_router: {}\n"
                              "    - bsp_relay: { base_url: \"" + bsp.url() + "/v1\", api_key_env: BSP_KEY }\n"
                              "    - outbox: {}\n    - outbound_probe: {}\n";
        options.extraYaml = "dispatch:\n  chain: [bsp_relay, outbox]\n";
        options.environment = {"BSP_KEY=bsp-secret-key"};
        HostProcess host(options);
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const std::int64_t conversation = customerWrites(host, *db, "wamid.IN1");
        const auto receipt = sendThroughProbe(host, "{\"conversation_id\":" + std::to_string(conversation) + ",\"text\":\"Salam\"}");
        const std::int64_t id = receipt->getValue<Poco::Int64>("message_id");
        waitForRows(*db, "SELECT status, provider FROM whatsapp_messages WHERE id = " + std::to_string(id), "sent|bsp_relay");
        const auto sends = bsp.sends();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sends.size());
        CPPUNIT_ASSERT_EQUAL(std::string("/v1/messages"), sends[0].path);
        CPPUNIT_ASSERT_EQUAL(std::string("bsp-secret-key"), sends[0].headers.at("d360-api-key"));
        CPPUNIT_ASSERT(sends[0].body.find("\"body\":\"Salam\"") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(bsp.wamids().at(0), queryText(*db, "SELECT wa_message_id FROM whatsapp_messages WHERE id = " + std::to_string(id)));
        host.stop();

        // Its keys are checked by `config check` through the reader it names in TAWASUL_PLUGIN (SDK 2.1).
        const std::string wrong = work.file("wrong.yaml");
        writeFile(wrong, testConfigYaml(work, plugins.string(), "    - bsp_relay: { base_url: \"http://127.0.0.1:9/v1\", timeout_ms: 50 }\n"));
        const auto refused = runCommand({TAWASUL_BINARY, "--config", wrong, "config", "check"}, {"BSP_RELAY_API_KEY=k"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(refused.second, 2, refused.first);
        CPPUNIT_ASSERT_EQUAL("tawasul: " + wrong + ":16:67: plugins.load[0].bsp_relay.timeout_ms: must be between 100 and 60000, got 50\n",
                             refused.second);

        // The same example with NDEBUG flipped: the host refuses it, naming the plugin and the field.
        const bool hostNdebug = std::string(TAWASUL_BUILD_TYPE) != "Debug";
        const auto flipped = buildExample(source, work.path() / "build-flipped", prefix, hostNdebug ? "Debug" : "Release");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(flipped.second, 0, flipped.first);
        fs::remove(plugins / "bsp_relay");
        fs::create_directory_symlink(work.path() / "build-flipped/plugins/bsp_relay", plugins / "bsp_relay");
        const auto [status, output] = host.cli({"config", "check"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 2, status);
        const std::string expected = std::string("plugin 'bsp_relay': build signature differs from the host's in ndebug (plugin ") +
                                     (hostNdebug ? "0, host 1)" : "1, host 0)");
        CPPUNIT_ASSERT_MESSAGE(output, output.find(expected) != std::string::npos);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SdkPackageTest);
