// Inbound media end to end on SQLite (issue #16): the fetch_media job through cloud_api's
// MediaSource against the fake Graph API, the private files, the media route and the conversation
// page; the same checks run on PostgreSQL in postgres/MediaPostgresTest.cpp.
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <regex>

#include "MediaChecks.hpp"
#include "OutboundSupport.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;

class MediaTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MediaTest);
    CPPUNIT_TEST(anImageIsStoredOnceAndServedToSignedInUsers);
    CPPUNIT_TEST(failuresAreShownAndKeepNoFile);
    CPPUNIT_TEST(inTheDatabaseOnRequest);
    CPPUNIT_TEST(rangesFromTheDirectory);
    CPPUNIT_TEST(rangesFromTheDatabase);
    CPPUNIT_TEST(locationAndContactsAreShownAsCards);
    CPPUNIT_TEST(mediaConfigurationErrorsNameTheirLocation);
    CPPUNIT_TEST_SUITE_END();

public:
    void anImageIsStoredOnceAndServedToSignedInUsers() {
        MediaHost h;
        checkImageStoredOnceAndServed(h);
    }

    void failuresAreShownAndKeepNoFile() {
        MediaHost h;
        checkFailuresAreShownAndKeepNoFile(h);
    }

    void rangesFromTheDirectory() {
        MediaHost h;
        checkRangeRequests(h);
    }

    void rangesFromTheDatabase() {
        MediaHost h("", 65536, "database");
        checkRangeRequests(h);
    }

    void inTheDatabaseOnRequest() {
        MediaHost h("", 65536, "database");
        checkImageStoredInTheDatabase(h);
    }

    void locationAndContactsAreShownAsCards() {
        MediaHost h;
        const std::string location =
            R"J({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",)J"
            R"J("metadata":{"display_phone_number":"213000000001","phone_number_id":"100000000000001"},"contacts":[{"profile":{"name":"Amina"},"wa_id":"213555123456"}],)J"
            R"J("messages":[{"from":"213555123456","id":"wamid.LOC1","timestamp":")J" + std::to_string(nowSeconds()) +
            R"J(","type":"location","location":{"latitude":36.7538,"longitude":3.0588,"name":"Centre de formation","address":"Rue Didouche Mourad, Alger","url":"javascript:alert(1)"}},)J"
            R"J({"from":"213555123456","id":"wamid.CONTACT1","timestamp":")J" + std::to_string(nowSeconds()) +
            R"J(","type":"contacts","contacts":[{"name":{"formatted_name":"Karim <b>Haddad</b>","first_name":"Karim"},"org":{"company":"Sonatrach"},)J"
            R"J("phones":[{"phone":"+213 661 23 45 67","wa_id":"213661234567","type":"CELL"}],"emails":[{"email":"karim@example.dz","type":"WORK"}]}]}]}}]}]})J";
        CPPUNIT_ASSERT_EQUAL(200, postSigned(h.host(), location).status);
        waitForProcessing(h.db());
        addUser(h.host(), "agent.cards@example.dz", "agent", "media-test-password");
        const AdminBrowser agent = signIn(h.host(), "agent.cards@example.dz", "media-test-password");
        const std::int64_t id = std::stoll(queryText(h.db(), "SELECT id FROM whatsapp_messages WHERE wa_message_id = 'wamid.LOC1'"));
        const HttpResult page = agent.get(h.conversationUrl(id));
        CPPUNIT_ASSERT_EQUAL(200, page.status);
        const auto has = [&](const std::string& part) { return page.body.find(part) != std::string::npos; };
        CPPUNIT_ASSERT_MESSAGE(page.body, has("<a href=\"https://www.openstreetmap.org/?mlat=36.753800&amp;mlon=3.058800#map=16/36.753800/3.058800\""));
        CPPUNIT_ASSERT(has("<strong><bdi>Centre de formation</bdi></strong>"));
        // A link the customer's app sent that is not http(s) stays out of the page.
        CPPUNIT_ASSERT(!has("javascript:alert"));
        CPPUNIT_ASSERT(has("<strong><bdi>Karim &lt;b&gt;Haddad&lt;/b&gt;</bdi></strong>"));
        CPPUNIT_ASSERT(has("<a href=\"tel:+213661234567\" dir=\"ltr\">+213 661 23 45 67</a>"));
        CPPUNIT_ASSERT(has("karim@example.dz"));
        CPPUNIT_ASSERT(has("Sonatrach"));
        // No media to fetch for either.
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(h.db(), "SELECT COUNT(*) FROM jobs WHERE type = 'fetch_media'"));
    }

    void mediaConfigurationErrorsNameTheirLocation() {
        const std::pair<std::string, std::string> cases[] = {
            {"{ media: { max_bytes: 12 } }", "max_bytes"},
            {"{ media: { max_bytes: lots } }", "max_bytes"},
            {"{ media: { dir: \"\" } }", "dir must name a directory"},
            {"{ media: { source: \"\" } }", "source must name"},
            {"{ media: { timeout_seconds: 0 } }", "timeout_seconds"},
            {"{ media: { storage: s3 } }", "storage must be files or database"},
            {"{ media: { folder: /tmp } }", "folder"},
            {"{ media: 5 }", "media"},
        };
        for (const auto& [node, where] : cases) {
            HostOptions options;
            const std::string line = "    - admin_inbox: " + node + "\n";
            options.pluginsYaml = "    - webhook_receiver: {}\n    - contact_matcher: {}\n    - inbound_router: {}\n" + line;
            HostProcess host(options);
            try {
                host.start();
                CPPUNIT_FAIL("the host started with " + node);
            } catch (const CppUnit::Exception&) {
                throw;
            } catch (const std::exception& error) {
                const std::string text = error.what();
                const std::string config = readFile(host.configPath());
                const auto number = 1 + std::count(config.begin(), config.begin() + static_cast<long>(config.find(line)), '\n');
                const std::regex located("tawasul\\.yaml:" + std::to_string(number) + ":[0-9]+: [^\\n]*" + where);
                CPPUNIT_ASSERT_MESSAGE(text, std::regex_search(text, located));
            }
            // `config check` finds the same without starting anything.
            const auto [status, output] = host.cli({"config", "check"});
            CPPUNIT_ASSERT_MESSAGE(output, status != 0);
            CPPUNIT_ASSERT_MESSAGE(output, output.find(where) != std::string::npos);
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MediaTest);
