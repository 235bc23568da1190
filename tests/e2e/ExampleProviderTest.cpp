// The example provider of docs/plugin-guide.md, loaded into a real host and named first in the
// chain: a message goes through it, and one it refuses passes to the next provider (the outbox).
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <regex>

#include "OutboundSupport.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;

class ExampleProviderTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ExampleProviderTest);
    CPPUNIT_TEST(sendsThroughTheExampleAndFallsBackWhenItRefuses);
    CPPUNIT_TEST(providerConfigurationErrorsNameTheirLocation);
    CPPUNIT_TEST_SUITE_END();

public:
    void sendsThroughTheExampleAndFallsBackWhenItRefuses() {
        TempDir sink;
        HostOptions options;
        options.pluginDir = TAWASUL_TEST_PLUGIN_DIR;
        options.pluginsYaml = "    - example_provider: { file: \"" + sink.file("sent.jsonl") + "\" }\n    - outbox: {}\n"
                              "    - outbound_probe: {}\n";
        options.extraYaml = "dispatch:\n  chain: [example_provider, outbox]\n";
        HostProcess host(options);
        host.start();
        auto db = openDatabase(host.databaseUrl());

        auto receipt = sendThroughProbe(host, "{\"phone\":\"0555 12 34 56\",\"template\":{\"name\":\"hello\",\"language\":\"fr\"}}");
        const std::int64_t id = receipt->getValue<Poco::Int64>("message_id");
        waitForRows(*db, "SELECT status, provider, wa_message_id FROM whatsapp_messages WHERE id = " + std::to_string(id),
                    "sent|example_provider|example." + std::to_string(id));
        CPPUNIT_ASSERT_EQUAL("{\"message_id\":" + std::to_string(id) + ",\"text\":\"template hello\",\"to\":\"+213555123456\"}\n",
                             readFile(sink.file("sent.jsonl")));

        receipt = sendThroughProbe(host, "{\"phone\":\"0555 12 34 56\",\"template\":{\"name\":\"refuse_me\",\"language\":\"fr\"}}");
        const std::int64_t refused = receipt->getValue<Poco::Int64>("message_id");
        // The outbox has no template of that name either: both refusals are on the timeline.
        waitForRows(*db, "SELECT status FROM whatsapp_messages WHERE id = " + std::to_string(refused), "failed");
        CPPUNIT_ASSERT_EQUAL(std::string("example_provider|1|refused|0|0\noutbox|1|refused|0|0"), attemptRows(*db, refused));
    }

    void providerConfigurationErrorsNameTheirLocation() {
        const std::pair<std::string, std::string> cases[] = {
            {"    - cloud_api: { graph_url: \"ftp://graph.example\" }\n", "graph_url must be an http:// or https:// URL, not 'ftp://graph.example'"},
            {"    - cloud_api: { messages_per_second: 0 }\n", "messages_per_second"},
            {"    - cloud_api: { pair_interval_ms: 0 }\n", "pair_interval_ms"},
            {"    - cloud_api: { pair_burst: 0 }\n", "pair_burst"},
            {"    - cloud_api: { pair_burst: many }\n", "pair_burst"},
            {"    - cloud_api: { token: secret }\n", "token"},
            {"    - example_provider: {}\n", "file"},
        };
        for (const auto& [yaml, where] : cases) {
            HostOptions options;
            options.pluginDir = TAWASUL_TEST_PLUGIN_DIR;
            options.pluginsYaml = yaml;
            HostProcess host(options);
            try {
                host.start();
                CPPUNIT_FAIL("the host started with " + yaml);
            } catch (const CppUnit::Exception&) {
                throw;
            } catch (const std::exception& error) {
                const std::string text = error.what();
                // FILE:LINE:COL of the value at fault, on the plugin's line of the written config.
                const std::string config = readFile(host.configPath());
                const auto line = 1 + std::count(config.begin(), config.begin() + static_cast<long>(config.find(yaml)), '\n');
                const std::regex located("tawasul\\.yaml:" + std::to_string(line) + ":[0-9]+: [^\\n]*" + where);
                CPPUNIT_ASSERT_MESSAGE(text, std::regex_search(text, located));
            }
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ExampleProviderTest);
