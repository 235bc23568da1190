// The example provider of docs/plugin-guide.md, loaded into a real host and named first in the
// chain: a message goes through it, and one it refuses passes to the next provider (the outbox).
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <regex>

#include "MediaChecks.hpp"
#include "OutboundSupport.hpp"
#include "WebhookSupport.hpp"
#include "tawasul/sdk/Crypto.hpp"

using namespace tawasul;
using namespace tawasul::test;

class ExampleProviderTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ExampleProviderTest);
    CPPUNIT_TEST(sendsThroughTheExampleAndFallsBackWhenItRefuses);
    CPPUNIT_TEST(providerConfigurationErrorsNameTheirLocation);
    CPPUNIT_TEST(itsMediaSourceFeedsTheInbox);
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
            {"    - example_provider: { file: x, media: y }\n", "media"},
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

    // The example's MediaSource (docs/plugin-guide.md, "Serving inbound media"): admin_inbox's
    // media.source names it, and every media id is its one file, kept as any other.
    void itsMediaSourceFeedsTheInbox() {
        TempDir work;
        const std::string png = receiptPng();
        HostOptions options = withWebhookSecrets();
        options.pluginDir = TAWASUL_TEST_PLUGIN_DIR;
        options.pluginsYaml = "    - webhook_receiver: {}\n    - contact_matcher: {}\n    - inbound_router: {}\n"
                              "    - example_provider: { file: \"" + work.file("sent.jsonl") + "\", media_file: \"" TAWASUL_SOURCE_DIR
                              "/tests/fixtures/media/receipt.png\" }\n"
                              "    - admin_inbox: { media: { source: example_provider, dir: \"" + work.file("media") + "\" } }\n";
        options.extraYaml = "dispatch:\n  chain: [example_provider]\n";
        HostProcess host(options);
        host.start();
        auto db = openDatabase(host.databaseUrl());
        InboundMedia image;
        image.wamid = "wamid.EXAMPLE.MEDIA";
        image.mediaId = "any-id-at-all";
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, inboundMediaBody(image)).status);
        waitForRows(*db, "SELECT d.status, d.sha256, d.size_bytes FROM whatsapp_media d JOIN whatsapp_messages m ON m.id = d.message_id "
                         "WHERE m.wa_message_id = 'wamid.EXAMPLE.MEDIA'",
                    "stored|" + sdk::sha256Hex(png) + "|" + std::to_string(png.size()));
        CPPUNIT_ASSERT(png == readFile(work.file("media") + "/" + sdk::sha256Hex(png).substr(0, 2) + "/" + sdk::sha256Hex(png)));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ExampleProviderTest);
