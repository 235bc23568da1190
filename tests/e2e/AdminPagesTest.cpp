// The admin pages of the plugins other than the inbox, end to end against the real binary with a
// signed-in session: webhook events (webhook_receiver), settings (cloud_api and webhook_receiver)
// and the outbox (outbox). Each page in the three languages, each action with and without its
// permission and CSRF token, refused input that writes nothing, and stored text shown as text.
#include <cppunit/extensions/HelperMacros.h>

#include <regex>
#include <set>

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>

#include "AdminSession.hpp"
#include "HostProcess.hpp"
#include "db/SqlDatabase.hpp"
#include "TestSupport.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;
using namespace Poco::Data::Keywords;

namespace {

const std::string kEvents = "/admin/messaging/whatsapp/webhook-events";
const std::string kSettings = "/admin/messaging/whatsapp/settings";
const std::string kWebhookSettings = "/admin/messaging/whatsapp/settings/webhook";

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

std::string header(const HttpResult& result, const std::string& name) {
    const auto it = result.headers.find(name);
    return it == result.headers.end() ? std::string() : it->second;
}

std::string count(sdk::Database& db, const std::string& sql) { return queryText(db, sql); }

// The ids of the events listed on a page, in order.
std::vector<std::string> listedEventIds(const std::string& html) {
    std::vector<std::string> ids;
    const std::regex link("href=\"/admin/messaging/whatsapp/webhook-events/([0-9]+)\"");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), link); it != std::sregex_iterator(); ++it) ids.push_back((*it)[1]);
    return ids;
}

// The href of the "Older" link, HTML-unescaped ("&amp;" in the page).
std::string olderLink(const std::string& html) {
    std::smatch match;
    if (!std::regex_search(html, match, std::regex("href=\"([^\"]+)\" rel=\"next\""))) return {};
    std::string href = match[1];
    for (std::size_t at; (at = href.find("&amp;")) != std::string::npos;) href.replace(at, 5, "&");
    return href;
}

std::string storedPayload(sdk::Database& db, const std::string& id) {
    Poco::Data::Session session = db.session();
    Poco::Data::BLOB payload;
    Poco::Int64 eventId = std::stoll(id);
    session << "SELECT payload FROM whatsapp_webhook_events WHERE id = $1", use(eventId), into(payload), now;
    return std::string(reinterpret_cast<const char*>(payload.rawContent()), payload.size());
}

// A signed event whose body is valid JSON with markup in a string, so that its page must escape it.
std::string scriptEvent() {
    return "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\","
           "\"value\":{\"messaging_product\":\"whatsapp\",\"contacts\":[{\"profile\":{\"name\":\"<script>alert(1)</script>\"},"
           "\"wa_id\":\"213555000001\"}],\"messages\":[{\"from\":\"213555000001\",\"id\":\"wamid.SCRIPT1\",\"timestamp\":\"1764000000\","
           "\"type\":\"text\",\"text\":{\"body\":\"<img src=x onerror=alert(2)>\"}}]}}]}]}";
}

std::string postEvent(const HostProcess& host, const std::string& body) {
    const HttpResult result = postSigned(host, body);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(result.body, 200, result.status);
    return result.headers.at("x-tawasul-event-id");
}

}  // namespace

class AdminPagesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(AdminPagesTest);
    CPPUNIT_TEST(eventsPagesInThreeLanguages);
    CPPUNIT_TEST(eventPageEscapesThePayloadAndDownloadIsByteForByte);
    CPPUNIT_TEST(eventsListFiltersAndPagesByKeyset);
    CPPUNIT_TEST(replayNeedsPermissionAndCsrfAndRequeues);
    CPPUNIT_TEST(eventsPagesNeedTheirPermission);
    CPPUNIT_TEST(settingsPagesNeverContainAStoredSecret);
    CPPUNIT_TEST(settingsFormsRefuseBadInputAndWriteNothing);
    CPPUNIT_TEST(settingsFormsSaveWithCsrfAndPermissionOnly);
    CPPUNIT_TEST(connectionTestSaysWhatHappenedInWords);
    CPPUNIT_TEST_SUITE_END();

public:
    void eventsPagesInThreeLanguages() {
        HostProcess host(withWebhookSecrets());
        host.start();
        const std::string id = postEvent(host, fixture("text-fr.json"));
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        const std::vector<std::tuple<std::string, std::string, std::string>> languages{
            {"en", "Webhook events", "ltr"}, {"fr", "Événements webhook", "ltr"}, {"ar", "أحداث الويب هوك", "rtl"}};
        for (const auto& [locale, title, dir] : languages) {
            admin.setLocale(locale);
            const HttpResult list = admin.get(kEvents);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(locale + ": " + list.body, 200, list.status);
            CPPUNIT_ASSERT_MESSAGE(locale, contains(list.body, "<h1>" + title + "</h1>"));
            CPPUNIT_ASSERT_MESSAGE(locale, contains(list.body, "dir=\"" + dir + "\""));
            CPPUNIT_ASSERT_MESSAGE(locale, contains(list.body, "href=\"" + kEvents + "/" + id + "\""));
            const HttpResult event = admin.get(kEvents + "/" + id);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(locale, 200, event.status);
            CPPUNIT_ASSERT_MESSAGE(locale, contains(event.body, "dir=\"" + dir + "\""));
        }
    }

    void eventPageEscapesThePayloadAndDownloadIsByteForByte() {
        HostProcess host(withWebhookSecrets());
        host.start();
        const std::string body = scriptEvent();
        const std::string id = postEvent(host, body);
        auto db = openDatabase(host.databaseUrl());
        waitForProcessing(*db);
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        const HttpResult page = admin.get(kEvents + "/" + id);
        CPPUNIT_ASSERT_EQUAL(200, page.status);
        // Processed without an error: the facts say when, and there is no empty "Last error".
        CPPUNIT_ASSERT(contains(page.body, "<dt>Processed</dt>"));
        CPPUNIT_ASSERT(!contains(page.body, "<dt>Last error</dt>"));
        CPPUNIT_ASSERT(!contains(page.body, "<script>alert(1)"));
        CPPUNIT_ASSERT(!contains(page.body, "<img src=x"));
        CPPUNIT_ASSERT(contains(page.body, "&lt;script&gt;alert(1)&lt;&#x2F;script&gt;") || contains(page.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
        // Pretty-printed: one key per line, indented.
        CPPUNIT_ASSERT(std::regex_search(page.body, std::regex("\n +&quot;object&quot; ?: ?&quot;whatsapp_business_account&quot;")));

        const HttpResult raw = admin.get(kEvents + "/" + id + "/raw");
        CPPUNIT_ASSERT_EQUAL(200, raw.status);
        CPPUNIT_ASSERT(raw.body == body);
        CPPUNIT_ASSERT(storedPayload(*db, id) == body);
        CPPUNIT_ASSERT(contains(header(raw, "content-disposition"), "attachment"));
        CPPUNIT_ASSERT_EQUAL(std::string("application/octet-stream"), header(raw, "content-type"));

        CPPUNIT_ASSERT_EQUAL(404, admin.get(kEvents + "/999999").status);
        CPPUNIT_ASSERT_EQUAL(404, admin.get(kEvents + "/abc").status);
        CPPUNIT_ASSERT_EQUAL(404, admin.get(kEvents + "/999999/raw").status);
    }

    void eventsListFiltersAndPagesByKeyset() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const std::string notJson = postEvent(host, "this is not json <b>");
        std::set<std::string> posted{notJson};
        for (int i = 0; i < 59; ++i) posted.insert(postEvent(host, fixture("text-fr.json")));
        waitForProcessing(*db);
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");

        // Two pages: 50 then 10, newest first, no event twice, none missing.
        const HttpResult first = admin.get(kEvents);
        CPPUNIT_ASSERT_EQUAL(200, first.status);
        const auto firstIds = listedEventIds(first.body);
        CPPUNIT_ASSERT_EQUAL(std::size_t(50), firstIds.size());
        const std::string older = olderLink(first.body);
        CPPUNIT_ASSERT_EQUAL(kEvents + "?before=" + firstIds.back(), older);
        const auto secondIds = listedEventIds(admin.get(older).body);
        CPPUNIT_ASSERT_EQUAL(std::size_t(10), secondIds.size());
        std::set<std::string> seen(firstIds.begin(), firstIds.end());
        seen.insert(secondIds.begin(), secondIds.end());
        CPPUNIT_ASSERT(seen == posted);
        CPPUNIT_ASSERT(std::stoll(firstIds.front()) > std::stoll(firstIds.back()));

        // The failed event alone under its status; its error is on the row, escaped.
        const HttpResult failed = admin.get(kEvents + "?status=failed");
        CPPUNIT_ASSERT_EQUAL(200, failed.status);
        CPPUNIT_ASSERT(listedEventIds(failed.body) == std::vector<std::string>{notJson});
        CPPUNIT_ASSERT(olderLink(failed.body).empty());
        const std::string error = count(*db, "SELECT last_error FROM whatsapp_webhook_events WHERE id = " + notJson);
        CPPUNIT_ASSERT(!error.empty());
        CPPUNIT_ASSERT(listedEventIds(admin.get(kEvents + "?status=processed").body).size() == 50);
        // A long error: its start in the list, all of it on the event's page.
        {
            Poco::Data::Session session = db->session();
            std::string longError = std::string(300, 'e') + "TAIL";
            Poco::Int64 eventId = std::stoll(notJson);
            session << "UPDATE whatsapp_webhook_events SET last_error = $1 WHERE id = $2", use(longError), use(eventId), now;
        }
        const std::string listed = admin.get(kEvents + "?status=failed").body;
        CPPUNIT_ASSERT(contains(listed, std::string(200, 'e') + "…") && !contains(listed, "TAIL"));
        CPPUNIT_ASSERT(contains(admin.get(kEvents + "/" + notJson).body, std::string(300, 'e') + "TAIL"));

        // A status that does not exist: the page says so with a 400 and lists everything.
        const HttpResult bad = admin.get(kEvents + "?status=%3Cdone%3E");
        CPPUNIT_ASSERT_EQUAL(400, bad.status);
        CPPUNIT_ASSERT(contains(bad.body, "Unknown status"));
        CPPUNIT_ASSERT(contains(bad.body, "&lt;done&gt;"));
        CPPUNIT_ASSERT(!contains(bad.body, "<done>"));
        CPPUNIT_ASSERT_EQUAL(400, admin.get(kEvents + "?before=x1").status);
    }

    void replayNeedsPermissionAndCsrfAndRequeues() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const std::string id = postEvent(host, "not json either");
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(std::string("failed"), count(*db, "SELECT status FROM whatsapp_webhook_events WHERE id = " + id));
        // The event is its own queue entry (issue #13): no job row, before or after a replay.
        const std::string eventJobs = "SELECT COUNT(*) FROM jobs WHERE ref_table = 'whatsapp_webhook_events' AND ref_id = " + id;
        CPPUNIT_ASSERT_EQUAL(std::string("0"), count(*db, eventJobs));

        // Reading events (the viewer role has whatsapp.webhooks.view) is not enough to replay one.
        const AdminBrowser viewer = signInAs(host, "viewer@example.test", "viewer");
        CPPUNIT_ASSERT_EQUAL(200, viewer.get(kEvents + "/" + id).status);
        CPPUNIT_ASSERT(!contains(viewer.get(kEvents + "/" + id).body, "/replay"));
        CPPUNIT_ASSERT_EQUAL(403, viewer.post(kEvents + "/" + id + "/replay", {}).status);

        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        CPPUNIT_ASSERT_EQUAL(403, admin.post(kEvents + "/" + id + "/replay", {}, false).status);
        CPPUNIT_ASSERT_EQUAL(404, admin.post(kEvents + "/424242/replay", {}).status);
        CPPUNIT_ASSERT_EQUAL(std::string("failed"), count(*db, "SELECT status FROM whatsapp_webhook_events WHERE id = " + id));

        const HttpResult replay = admin.post(kEvents + "/" + id + "/replay", {});
        CPPUNIT_ASSERT_EQUAL(303, replay.status);
        CPPUNIT_ASSERT_EQUAL(kEvents + "/" + id + "?done=replayed", header(replay, "location"));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), count(*db, eventJobs));
        CPPUNIT_ASSERT(contains(admin.get(header(replay, "location")).body, "queued to be processed again"));
        // Processed again (and failing again, the body being what it is): a fresh attempt count.
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(std::string("failed|1"),
                             queryRows(*db, "SELECT status, attempts FROM whatsapp_webhook_events WHERE id = " + id));
    }

    void eventsPagesNeedTheirPermission() {
        HostProcess host(withWebhookSecrets());
        host.start();
        const std::string id = postEvent(host, fixture("text-fr.json"));
        // The agent role does not read webhook events (0002_auth_seed).
        const AdminBrowser agent = signInAs(host, "agent@example.test", "agent");
        for (const std::string& path : {kEvents, kEvents + "/" + id, kEvents + "/" + id + "/raw"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(path, 403, agent.get(path).status);
        CPPUNIT_ASSERT_EQUAL(403, agent.post(kEvents + "/" + id + "/replay", {}).status);
        // Without a session: to the sign-in page.
        const HttpResult anonymous = host.request("GET", kEvents);
        CPPUNIT_ASSERT_EQUAL(302, anonymous.status);
        CPPUNIT_ASSERT(contains(header(anonymous, "location"), "/admin/login"));
    }

    void settingsPagesNeverContainAStoredSecret() {
        const std::string token = "EAAGsecretAccessToken0123456789abcdefXYZ";
        const std::string appSecret = "0123456789abcdef0123456789abcdef";
        const std::string verify = "verify-token-in-plain-sight";
        HostOptions options;
        options.settings = {{"whatsapp.cloud.access_token", token},
                            {"whatsapp.cloud.app_secret", appSecret},
                            {"whatsapp.webhook.verify_token", verify},
                            {"whatsapp.cloud.phone_number_id", "106540352242922"}};
        HostProcess host(options);
        host.start();
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        for (const std::string locale : {"en", "fr", "ar"}) {
            admin.setLocale(locale);
            for (const std::string& path : {kSettings, kWebhookSettings}) {
                const HttpResult page = admin.get(path);
                CPPUNIT_ASSERT_EQUAL_MESSAGE(locale + " " + path + ": " + page.body, 200, page.status);
                for (const std::string& secret : {token, appSecret, verify})
                    CPPUNIT_ASSERT_MESSAGE(locale + " " + path + " shows a secret", !contains(page.body, secret));
                CPPUNIT_ASSERT(contains(page.body, "••••"));
            }
            CPPUNIT_ASSERT(contains(admin.get(kSettings).body, "106540352242922"));
            // server.public_url (here derived from server.listen) followed by the receiver's path.
            CPPUNIT_ASSERT(std::regex_search(admin.get(kWebhookSettings).body,
                                             std::regex("<code class=\"copy\" dir=\"ltr\">http://127\\.0\\.0\\.1:[0-9]+/webhooks/whatsapp</code>")));
        }
        // Asked for, the verify token is shown (it has to be pasted into Meta); the others never are.
        const HttpResult revealed = admin.post(kWebhookSettings + "/reveal", {});
        CPPUNIT_ASSERT_EQUAL(200, revealed.status);
        CPPUNIT_ASSERT(contains(revealed.body, verify));
        CPPUNIT_ASSERT(!contains(revealed.body, token));
        CPPUNIT_ASSERT(!contains(revealed.body, appSecret));
        CPPUNIT_ASSERT_EQUAL(std::string("no-store"), header(revealed, "cache-control"));
        CPPUNIT_ASSERT_EQUAL(403, admin.post(kWebhookSettings + "/reveal", {}, false).status);
        // A refused form does not echo what was typed either.
        const HttpResult refused = admin.post(kSettings, {{"access_token", "short secret"}});
        CPPUNIT_ASSERT_EQUAL(422, refused.status);
        CPPUNIT_ASSERT(!contains(refused.body, "short secret"));
        CPPUNIT_ASSERT(!contains(refused.body, token));
    }

    void settingsFormsRefuseBadInputAndWriteNothing() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        const std::string before = queryRows(*db, "SELECT key, value, updated_at FROM site_settings ORDER BY key");
        struct Case {
            std::string path;
            FormFields fields;
            std::string message;
        };
        const std::vector<Case> cases{
            {kSettings, {{"access_token", "", }, {"phone_number_id", "12a4"}}, "The phone number ID is digits only"},
            {kSettings, {{"access_token", "EAAGvalidlookingtoken0123456789"}, {"business_account_id", "12 34"}},
             "The WhatsApp Business Account ID is digits only"},
            {kSettings, {{"access_token", "tooshort"}}, "The access token must be 20 to 4096 characters long"},
            {kSettings, {{"access_token", "EAAG token with spaces 0123456789"}}, "no spaces"},
            {kSettings, {}, "Nothing to save"},
            {kWebhookSettings, {{"verify_token", "short"}}, "8 to 200 characters"},
            {kWebhookSettings, {{"verify_token", "long-enough-token"}, {"app_secret", "not-hex"}}, "32 hexadecimal characters"},
            {kWebhookSettings, {{"verify_token", ""}, {"app_secret", ""}}, "Nothing to save"},
        };
        for (const Case& c : cases) {
            const HttpResult result = admin.post(c.path, c.fields);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(c.message + ": " + result.body, 422, result.status);
            CPPUNIT_ASSERT_MESSAGE(c.message, contains(result.body, c.message));
        }
        CPPUNIT_ASSERT_EQUAL(before, queryRows(*db, "SELECT key, value, updated_at FROM site_settings ORDER BY key"));
    }

    void settingsFormsSaveWithCsrfAndPermissionOnly() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        const AdminBrowser agent = signInAs(host, "agent@example.test", "agent");
        const std::string newToken = "EAAGnewAccessToken0123456789abcdef";
        const FormFields cloud{{"access_token", newToken}, {"phone_number_id", "1065403522"}, {"business_account_id", "998877"}};
        const std::string before = queryRows(*db, "SELECT key, value, updated_at FROM site_settings ORDER BY key");
        CPPUNIT_ASSERT_EQUAL(403, agent.get(kSettings).status);
        CPPUNIT_ASSERT_EQUAL(403, agent.get(kWebhookSettings).status);
        CPPUNIT_ASSERT_EQUAL(403, agent.post(kSettings, cloud).status);
        CPPUNIT_ASSERT_EQUAL(403, agent.post(kWebhookSettings, {{"verify_token", "a-new-verify-token"}}).status);
        CPPUNIT_ASSERT_EQUAL(403, agent.post(kSettings + "/test", {}).status);
        CPPUNIT_ASSERT_EQUAL(403, agent.post(kWebhookSettings + "/reveal", {}).status);
        CPPUNIT_ASSERT_EQUAL(403, admin.post(kSettings + "/test", {}, false).status);
        CPPUNIT_ASSERT_EQUAL(403, admin.post(kSettings, cloud, false).status);
        CPPUNIT_ASSERT_EQUAL(403, admin.post(kWebhookSettings, {{"verify_token", "a-new-verify-token"}}, false).status);
        CPPUNIT_ASSERT_EQUAL(403, agent.post(kSettings + "/enabled", {{"enabled", "false"}}).status);
        CPPUNIT_ASSERT_EQUAL(403, admin.post(kSettings + "/enabled", {{"enabled", "false"}}, false).status);
        CPPUNIT_ASSERT_EQUAL(422, admin.post(kSettings + "/enabled", {{"enabled", "maybe"}}).status);
        CPPUNIT_ASSERT_EQUAL(before, queryRows(*db, "SELECT key, value, updated_at FROM site_settings ORDER BY key"));

        // The Cloud API switch: off, and the page says so and offers to turn it on again.
        CPPUNIT_ASSERT(contains(admin.get(kSettings).body, "Turn off"));
        const HttpResult off = admin.post(kSettings + "/enabled", {{"enabled", "false"}});
        CPPUNIT_ASSERT_EQUAL(303, off.status);
        CPPUNIT_ASSERT_EQUAL(std::string("false"), count(*db, "SELECT value FROM site_settings WHERE key = 'whatsapp.cloud.enabled'"));
        const std::string offPage = admin.get(kSettings).body;
        CPPUNIT_ASSERT(contains(offPage, "Turn on"));
        CPPUNIT_ASSERT(contains(offPage, "nothing is sent through the Cloud API"));
        CPPUNIT_ASSERT_EQUAL(303, admin.post(kSettings + "/enabled", {{"enabled", "true"}}).status);
        CPPUNIT_ASSERT_EQUAL(std::string("true"), count(*db, "SELECT value FROM site_settings WHERE key = 'whatsapp.cloud.enabled'"));

        const HttpResult saved = admin.post(kSettings, cloud);
        CPPUNIT_ASSERT_EQUAL(303, saved.status);
        CPPUNIT_ASSERT_EQUAL(kSettings + "?done=saved", header(saved, "location"));
        CPPUNIT_ASSERT_EQUAL(std::string("1065403522"), count(*db, "SELECT value FROM site_settings WHERE key = 'whatsapp.cloud.phone_number_id'"));
        CPPUNIT_ASSERT_EQUAL(std::string("998877"), count(*db, "SELECT value FROM site_settings WHERE key = 'whatsapp.cloud.business_account_id'"));
        // Sealed at rest, and readable by the host: the CLI opens it.
        CPPUNIT_ASSERT_EQUAL(std::string("1"), count(*db, "SELECT encrypted FROM site_settings WHERE key = 'whatsapp.cloud.access_token'"));
        CPPUNIT_ASSERT(!contains(queryRows(*db, "SELECT value FROM site_settings"), newToken));
        const auto [status, output] = host.cli({"settings", "get", "whatsapp.cloud.access_token", "--reveal"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
        CPPUNIT_ASSERT(contains(output, newToken));
        CPPUNIT_ASSERT(contains(admin.get(header(saved, "location")).body, "Saved."));

        const HttpResult webhook = admin.post(kWebhookSettings, {{"verify_token", "a-new-verify-token"}});
        CPPUNIT_ASSERT_EQUAL(303, webhook.status);
        // The receiver answers Meta's handshake with the new token.
        CPPUNIT_ASSERT_EQUAL(200, host.request("GET", kWebhookPath + "?hub.mode=subscribe&hub.verify_token=a-new-verify-token&hub.challenge=7").status);
    }

    void connectionTestSaysWhatHappenedInWords() {
        HostOptions options;
        options.pluginsYaml =
            "    - webhook_receiver: {}\n    - contact_matcher: {}\n    - inbound_router: {}\n"
            "    - cloud_api: { graph_url: \"http://127.0.0.1:1\" }\n    - outbox: {}\n    - admin_inbox: {}\n";
        HostProcess host(options);
        host.start();
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        // Nothing configured yet.
        CPPUNIT_ASSERT_EQUAL(303, admin.post(kSettings + "/test", {}).status);
        CPPUNIT_ASSERT(contains(admin.get(kSettings).body, "Set the access token and the phone number ID first."));
        // Configured, but nothing listens there.
        CPPUNIT_ASSERT_EQUAL(303, admin.post(kSettings, {{"access_token", "EAAGaccessToken0123456789abc"}, {"phone_number_id", "42"}}).status);
        CPPUNIT_ASSERT_EQUAL(303, admin.post(kSettings + "/test", {}).status);
        const std::string page = admin.get(kSettings).body;
        CPPUNIT_ASSERT(contains(page, "The connection test failed: no answer from http://127.0.0.1:1"));
        CPPUNIT_ASSERT(!contains(page, "EAAGaccessToken0123456789abc"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AdminPagesTest);
