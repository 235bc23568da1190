// The command line: every misuse answers one clear line and exit status 2; configuration errors
// name FILE:LINE:COL.
#include <cppunit/extensions/HelperMacros.h>

#include <filesystem>

#include "HostProcess.hpp"
#include "TestSupport.hpp"
#include "tawasul/sdk/BuildSignature.hpp"

using namespace tawasul::test;

namespace {

std::pair<int, std::string> runTawasul(const std::vector<std::string>& args) {
    std::vector<std::string> argv{TAWASUL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv);
}

void assertOneLineError(const std::pair<int, std::string>& result, int status, const std::string& expected) {
    CPPUNIT_ASSERT_EQUAL_MESSAGE(result.second, status, result.first);
    CPPUNIT_ASSERT_EQUAL(expected + "\n", result.second);
}

}  // namespace

class CliTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CliTest);
    CPPUNIT_TEST(helpForEveryCommand);
    CPPUNIT_TEST(misuseExitsTwoWithOneLine);
    CPPUNIT_TEST(fakeGraphApiHelpAndMisuse);
    CPPUNIT_TEST(badConfigurationNamesFileLineColumn);
    CPPUNIT_TEST(refusedPluginsAreNamedWithTheReason);
    CPPUNIT_TEST(pluginKeysAreCheckedBeforeAnyPluginStarts);
    CPPUNIT_TEST(migrateStatusListsEveryMigration);
    CPPUNIT_TEST(rekeyRotatesTheMasterKey);
    CPPUNIT_TEST_SUITE_END();

public:
    void helpForEveryCommand() {
        auto [status, output] = runTawasul({"--help"});
        CPPUNIT_ASSERT_EQUAL(0, status);
        CPPUNIT_ASSERT(output.find("usage: tawasul [--config FILE] COMMAND") == 0);
        for (const char* command : {"serve", "migrate", "config", "plugins"}) {
            auto [s, text] = runTawasul({command, "--help"});
            CPPUNIT_ASSERT_EQUAL(0, s);
            CPPUNIT_ASSERT_MESSAGE(text, text.find(std::string("usage: tawasul [--config FILE] ") + command) == 0);
        }
    }

    // The bench's fake Graph API is a program too: --help is usage and 0, a bad argument 2 and one line.
    void fakeGraphApiHelpAndMisuse() {
        for (const char* flag : {"--help", "-h"}) {
            const auto [status, output] = runCommand({TAWASUL_FAKE_GRAPH_API, flag});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
            CPPUNIT_ASSERT_MESSAGE(output, output.rfind("usage: fake_graph_api [PORT]", 0) == 0);
        }
        const std::vector<std::vector<std::string>> wrong = {{"abc"}, {"-1"}, {"70000"}, {"80x"}, {""}, {"1", "2"}};
        for (const auto& arguments : wrong) {
            std::vector<std::string> argv{TAWASUL_FAKE_GRAPH_API};
            argv.insert(argv.end(), arguments.begin(), arguments.end());
            const auto [status, output] = runCommand(argv);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 2, status);
            CPPUNIT_ASSERT_MESSAGE(output, output.rfind("fake_graph_api: ", 0) == 0 && output.find('\n') == output.size() - 1);
        }
    }

    void misuseExitsTwoWithOneLine() {
        assertOneLineError(runTawasul({}), 2, "tawasul: no command given (see tawasul --help)");
        assertOneLineError(runTawasul({"frobnicate"}), 2, "tawasul: unknown command 'frobnicate' (see tawasul --help)");
        assertOneLineError(runTawasul({"--verbose", "serve"}), 2, "tawasul: unknown option '--verbose' (see tawasul --help)");
        assertOneLineError(runTawasul({"--config"}), 2, "tawasul: --config needs a FILE (see tawasul --help)");
        assertOneLineError(runTawasul({"config", "fix"}), 2, "tawasul: usage: tawasul config check (see tawasul --help)");
        assertOneLineError(runTawasul({"plugins"}), 2, "tawasul: usage: tawasul plugins list (see tawasul --help)");
        assertOneLineError(runTawasul({"serve", "now"}), 2, "tawasul: serve takes no arguments (see tawasul --help)");
        TempDir dir;
        writeFile(dir.file("ok.yaml"), testConfigYaml(dir, TAWASUL_PLUGIN_DIR, "    - outbox: {}\n"));
        assertOneLineError(runTawasul({"--config", dir.file("ok.yaml"), "migrate", "--force"}), 2,
                           "tawasul: migrate: unknown argument '--force' (expected --status) (see tawasul --help)");
    }

    void badConfigurationNamesFileLineColumn() {
        TempDir dir;
        const std::string file = dir.file("bad.yaml");
        auto check = [&](const std::string& yaml, const std::string& expected) {
            writeFile(file, yaml);
            assertOneLineError(runTawasul({"--config", file, "config", "check"}), 2, "tawasul: " + file + expected);
        };
        check("server:\n  listen: \"127.0.0.1:8080\"\n  thread: 4\n",
              ":3:3: unknown key 'server.thread' (expected one of: listen, listeners, threads, io_threads, max_queued, "
              "max_body_bytes, max_header_bytes, head_timeout_seconds, body_timeout_seconds, keep_alive_seconds, max_connections, "
              "max_connections_per_address, stream_buffer_bytes, public_url, web_dir, trusted_proxies)");
        check("server:\n  threads: many\n", ":2:12: server.threads: expected an integer, got 'many'");
        check("workers:\n  threads: [1, 2]\n", ":2:12: workers.threads: expected an integer, got a list");
        check("server:\n  listen: \"localhost\"\n", ":2:11: server.listen: expected HOST:PORT, got 'localhost'");
        check("server: [\n", ":2:1: end of sequence flow not found");
        check("database:\n  url: \"${TAWASUL_TEST_SURELY_UNSET}\"\n",
              ":2:8: environment variable TAWASUL_TEST_SURELY_UNSET is not set and has no default");
        check("plugins:\n  dir: \"" TAWASUL_PLUGIN_DIR "\"\n  load:\n    - outbox: {}\n    - nosuch: {}\n",
              ":5:7: plugin 'nosuch': no library at " TAWASUL_PLUGIN_DIR "/nosuch/nosuch.so");
        check("plugins:\n  load:\n    - outbox: {}\ndispatch:\n  chain: [cloud_api]\n",
              ":5:11: dispatch.chain[0]: 'cloud_api' is not a loaded plugin");
        assertOneLineError(runTawasul({"--config", dir.file("absent.yaml"), "config", "check"}), 2,
                           "tawasul: " + dir.file("absent.yaml") + ":1:1: cannot read configuration file: No such file or directory");
        // TAWASUL_CONFIG names the file when --config does not.
        auto viaEnvironment = runCommand({TAWASUL_BINARY, "config", "check"}, {"TAWASUL_CONFIG=" + dir.file("absent.yaml")});
        CPPUNIT_ASSERT_EQUAL(2, viaEnvironment.first);
        CPPUNIT_ASSERT(viaEnvironment.second.find(dir.file("absent.yaml") + ":1:1:") != std::string::npos);
    }

    void refusedPluginsAreNamedWithTheReason() {
        TempDir dir;
        const std::string file = dir.file("t.yaml");
        writeFile(file, testConfigYaml(dir, TAWASUL_TEST_PLUGIN_DIR, "    - wrong_abi: {}\n"));
        assertOneLineError(runTawasul({"--config", file, "config", "check"}), 2,
                           "tawasul: " + file + ":16:7: plugin 'wrong_abi': built for SDK ABI 99.0, this host provides " +
                               std::to_string(TAWASUL_SDK_ABI_MAJOR) + "." + std::to_string(TAWASUL_SDK_ABI_MINOR));
        writeFile(file, testConfigYaml(dir, TAWASUL_TEST_PLUGIN_DIR, "    - cycle_a: {}\n    - cycle_b: {}\n"));
        assertOneLineError(runTawasul({"--config", file, "config", "check"}), 2,
                           "tawasul: " + file + ":16:5: plugins form a dependency cycle: cycle_a -> cycle_b -> cycle_a");
        writeFile(file, testConfigYaml(dir, TAWASUL_TEST_PLUGIN_DIR, "    - good: {}\n    - throwing: {}\n"));
        CPPUNIT_ASSERT_EQUAL(0, runCommand({TAWASUL_BINARY, "--config", file, "migrate"}).first);
        auto [status, output] = runTawasul({"--config", file, "plugins", "list"});
        CPPUNIT_ASSERT_EQUAL(1, status);
        CPPUNIT_ASSERT_MESSAGE(output, output.find("failed: cannot reach the frobnicator") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(output, output.find("tawasul: plugin 'throwing' failed to start: cannot reach the frobnicator\n") != std::string::npos);
    }

    // Issue #15: each plugin's reader (the one its start() uses, named in TAWASUL_PLUGIN) runs when
    // the plugins are loaded, so `config check` refuses an unknown key, a wrong type or a value out
    // of range in a plugin's node as it does the host's, and `serve` refuses it alike before any
    // plugin starts. The plugin's line is line 16 of the test configuration.
    void pluginKeysAreCheckedBeforeAnyPluginStarts() {
        TempDir dir;
        const std::string file = dir.file("t.yaml");
        auto check = [&](const std::string& plugin, const std::string& expected) {
            writeFile(file, testConfigYaml(dir, TAWASUL_PLUGIN_DIR, "    - " + plugin + "\n"));
            assertOneLineError(runTawasul({"--config", file, "config", "check"}), 2, "tawasul: " + file + expected);
        };
        check("outbox: { default_regon: DZ }",
              ":16:17: unknown key 'plugins.load[0].outbox.default_regon' (expected one of: default_region)");
        check("cloud_api: { messages_per_second: \"fast\" }",
              ":16:41: plugins.load[0].cloud_api.messages_per_second: expected an integer, got 'fast'");
        check("admin_inbox: { live_buffer: 5 }", ":16:35: plugins.load[0].admin_inbox.live_buffer: must be between 10 and 100000, got 5");
        check("outbox: { default_region: XX }",
              ":16:33: plugins.load[0].outbox.default_region: 'XX' is not a region libphonenumber knows (use a code such as DZ or FR)");
        check("webhook_receiver: { path: webhooks }",
              ":16:33: plugins.load[0].webhook_receiver.path: must be an absolute path such as /webhooks/whatsapp");
        check("contact_matcher: { refresh_seconds: 1.5 }", ":16:43: plugins.load[0].contact_matcher.refresh_seconds: expected an integer, got '1.5'");
        check("inbound_router: { keywords: [ { intent: x, keywords: { de: [hallo] } } ] }",
              ":16:62: unknown key 'plugins.load[0].inbound_router.keywords[0].keywords.de' (expected one of: fr, ar, en)");
        check("example_provider: {}", ":16:25: plugins.load[0].example_provider: missing required key 'file'");

        // serve: the same line and status, and no plugin started.
        writeFile(file, testConfigYaml(dir, TAWASUL_PLUGIN_DIR, "    - contact_matcher: {}\n    - outbox: { default_regon: DZ }\n"));
        const auto [status, output] = runTawasul({"--config", file, "serve"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 2, status);
        const std::string line = "tawasul: " + file + ":17:17: unknown key 'plugins.load[1].outbox.default_regon' (expected one of: default_region)\n";
        CPPUNIT_ASSERT_MESSAGE(output, output.size() >= line.size() && output.compare(output.size() - line.size(), line.size(), line) == 0);
        CPPUNIT_ASSERT_MESSAGE(output, output.find("started plugin") == std::string::npos);

        // Every plugin with every key it takes: accepted without starting any (the database was never
        // migrated, which a start would need, and the example provider has not made its file).
        writeFile(file, testConfigYaml(dir, TAWASUL_PLUGIN_DIR,
                                       "    - webhook_receiver: { path: /hooks/meta, max_batch: 64 }\n"
                                       "    - contact_matcher: { refresh_seconds: 0, default_region: FR, batch_size: 100,\n"
                                       "        sources: [ { kind: registration, table: registrations, phone_columns: [phone], name_column: full_name } ] }\n"
                                       "    - inbound_router: { default_region: DZ, batch_size: 32, keywords: [ { intent: quote, keywords: { fr: [devis] },"
                                       " actions: [ { create_b2b_lead: {} } ] } ] }\n"
                                       "    - cloud_api: { graph_url: \"http://127.0.0.1:9\", api_version: v21.0, messages_per_second: 20,"
                                       " phone_number_id: \"123\", connect_timeout_ms: 100, timeout_ms: 200, max_idle_connections: 2 }\n"
                                       "    - outbox: { default_region: DZ }\n    - admin_inbox: { live_buffer: 50 }\n"
                                       "    - example_provider: { file: \"" + dir.file("sent.jsonl") + "\" }\n"));
        const auto [okStatus, okOutput] = runTawasul({"--config", file, "config", "check"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(okOutput, 0, okStatus);
        CPPUNIT_ASSERT_MESSAGE(okOutput, okOutput.rfind("ok: " + file + " (7 plugins, database sqlite:", 0) == 0);
        CPPUNIT_ASSERT(!std::filesystem::exists(dir.file("sent.jsonl")));
    }

    void migrateStatusListsEveryMigration() {
        TempDir dir;
        const std::string file = dir.file("t.yaml");
        writeFile(file, testConfigYaml(dir, TAWASUL_TEST_PLUGIN_DIR, "    - good: {}\n"));
        auto before = runTawasul({"--config", file, "migrate", "--status"});
        CPPUNIT_ASSERT_EQUAL(0, before.first);
        CPPUNIT_ASSERT(before.second.find("good              1       pending") != std::string::npos);
        auto migrate = runTawasul({"--config", file, "migrate"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(migrate.second, 0, migrate.first);
        CPPUNIT_ASSERT(migrate.second.find("applied good/0001 items") != std::string::npos);
        auto again = runTawasul({"--config", file, "migrate"});
        CPPUNIT_ASSERT(again.second.find("database is up to date") != std::string::npos);
        auto after = runTawasul({"--config", file, "migrate", "--status"});
        CPPUNIT_ASSERT(after.second.find("pending") == std::string::npos);
        CPPUNIT_ASSERT(after.second.find("good              1       applied") != std::string::npos);
    }

    void rekeyRotatesTheMasterKey() {
        TempDir dir;
        const std::string file = dir.file("t.yaml");
        writeFile(file, testConfigYaml(dir, TAWASUL_TEST_PLUGIN_DIR, "    - good: {}\n"));
        CPPUNIT_ASSERT_EQUAL(0, runTawasul({"--config", file, "migrate"}).first);
        CPPUNIT_ASSERT_EQUAL(0, runTawasul({"--config", file, "settings", "set", "whatsapp.cloud.app_secret", "s3cret"}).first);
        assertOneLineError(runTawasul({"--config", file, "settings", "rekey"}), 2,
                           "tawasul: usage: tawasul settings rekey --new-key-file FILE (see tawasul --help)");
        auto [status, output] = runTawasul({"--config", file, "settings", "rekey", "--new-key-file", dir.file("new.key")});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
        CPPUNIT_ASSERT(output.find("re-sealed 2 secret(s)") == 0);  // the app secret and the key check
        // The old key no longer opens anything; the new one does.
        auto old = runTawasul({"--config", file, "settings", "get", "whatsapp.cloud.app_secret", "--reveal"});
        CPPUNIT_ASSERT_EQUAL(1, old.first);
        CPPUNIT_ASSERT(old.second.find("master key does not match") != std::string::npos);
        std::filesystem::rename(dir.file("new.key"), dir.file("master.key"));
        auto fresh = runTawasul({"--config", file, "settings", "get", "whatsapp.cloud.app_secret", "--reveal"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(fresh.second, 0, fresh.first);
        CPPUNIT_ASSERT_EQUAL(std::string("s3cret\n"), fresh.second);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CliTest);
