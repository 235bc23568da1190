#include "MetaFieldsCheck.hpp"

#include <chrono>
#include <memory>
#include <thread>

#include <cppunit/extensions/HelperMacros.h>

#include <Poco/Data/Session.h>
#include <Poco/JSON/Parser.h>

#include "tawasul/sdk/Json.hpp"

#include "AdminSession.hpp"
#include "OutboundSupport.hpp"
#include "WebhookSupport.hpp"
#include "whatsapp/MetaPayloads.hpp"

namespace tawasul::test {
namespace {

using namespace Poco::Data::Keywords;

const std::string kTemplateJson =
    "{\"phone\":\"+213555123456\",\"template\":{\"name\":\"rappel\",\"language\":\"fr\",\"components\":[{\"type\":\"body\","
    "\"parameters\":[{\"name\":\"first_name\",\"value\":\"Amina\"}]}]}}";

void seedTemplate(sdk::Database& db) {
    Poco::Data::Session session = db.session();
    session << "INSERT INTO whatsapp_templates (name, language, category, body, status, created_at, updated_at) "
               "VALUES ('rappel', 'fr', 'utility', 'Bonjour {{first_name}}.', 'active', 1, 1)",
        now;
}

void postReview(const HostProcess& host, sdk::Database& db, const std::string& event, const std::string& reason, std::int64_t time) {
    host::TemplateStatusUpdate update;
    update.name = "rappel";
    update.language = "fr";
    update.event = event;
    update.reason = reason;
    update.templateId = 771234;
    update.time = time;
    const auto answer = postSigned(host, host::templateStatusBody(update));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(answer.body, 200, answer.status);
    waitForProcessing(db);
}

void postAccountUpdate(const HostProcess& host, sdk::Database& db, const host::AccountUpdate& update) {
    const auto answer = postSigned(host, host::accountUpdateBody(update));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(answer.body, 200, answer.status);
    waitForProcessing(db);
}

host::AccountUpdate restriction(const std::string& type, std::int64_t time, std::int64_t expiration = 0) {
    host::AccountUpdate update;
    update.event = "ACCOUNT_RESTRICTION";
    update.restrictionType = type;
    update.expiration = expiration;
    update.time = time;
    return update;
}

// Until the host's chain shows cloud_api with (or without) `word` in its entry; the chain's
// restrictions are read again every half second.
void waitForChain(const HostProcess& host, const std::string& word, bool present) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string chain;
    while (std::chrono::steady_clock::now() < deadline) {
        chain = host.request("GET", "/test/chain").body;
        if ((chain.find(word) != std::string::npos) == present) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CPPUNIT_FAIL("the chain never " + std::string(present ? "showed " : "lost ") + word + ": " + chain);
}

std::int64_t sendAndWait(const HostProcess& host, sdk::Database& db, const std::string& json, const std::string& expected) {
    const auto receipt = sendThroughProbe(host, json);
    CPPUNIT_ASSERT_EQUAL(std::string("accepted"), receipt->getValue<std::string>("status"));
    const std::int64_t id = receipt->getValue<Poco::Int64>("message_id");
    waitForRows(db, "SELECT status, provider FROM whatsapp_messages WHERE id = " + std::to_string(id), expected);
    return id;
}

// The platform API's template list, with a token made for it (the line after "created token").
Poco::JSON::Object::Ptr templateList(const HostProcess& host, const std::string& token, const std::string& query = "") {
    const auto answer = host.request("GET", "/api/v1/templates" + query, "", {{"Authorization", "Bearer " + token}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(answer.body, 200, answer.status);
    return Poco::JSON::Parser().parse(answer.body).extract<Poco::JSON::Object::Ptr>();
}

std::string apiToken(const HostProcess& host) {
    const auto [status, output] = host.cli({"token", "create", "--name", "platform", "--scopes", "messages.send"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
    const auto created = output.find("created token ");
    CPPUNIT_ASSERT_MESSAGE(output, created != std::string::npos);
    const auto start = output.find('\n', created) + 1;
    return output.substr(start, output.find('\n', start) - start);
}

}  // namespace

void checkTemplateReviews(HostOptions options, FakeGraphApi& fake) {
    HostProcess host(options);
    host.start();
    auto db = openDatabase(host.databaseUrl());
    seedTemplate(*db);
    const std::int64_t t = nowSeconds();

    postReview(host, *db, "REJECTED", "INVALID_FORMAT", t - 100);
    CPPUNIT_ASSERT_EQUAL(std::string("REJECTED|INVALID_FORMAT|771234"),
                         queryRows(*db, "SELECT meta_status, meta_reason, meta_id FROM whatsapp_templates WHERE name = 'rappel'"));
    // Refused at once, with Meta's reason, before anything is stored or sent.
    auto receipt = sendThroughProbe(host, kTemplateJson);
    CPPUNIT_ASSERT_EQUAL(std::string("invalid"), receipt->getValue<std::string>("status"));
    CPPUNIT_ASSERT_EQUAL(std::string("template.name"), receipt->getValue<std::string>("field"));
    const std::string why = receipt->getValue<std::string>("message");
    CPPUNIT_ASSERT_MESSAGE(why, why.find("rejected") != std::string::npos && why.find("INVALID_FORMAT") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_messages"));
    // The platform API offers it no more, and says why when asked for the refused ones too.
    const std::string token = apiToken(host);
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), templateList(host, token)->getArray("templates")->size());
    auto listed = templateList(host, token, "?include=refused")->getArray("templates");
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), listed->size());
    CPPUNIT_ASSERT_EQUAL(std::string("rappel|fr|REJECTED|0|Meta has not approved it (status rejected: INVALID_FORMAT)|body|first_name"),
                         listed->getObject(0)->getValue<std::string>("name") + "|" + listed->getObject(0)->getValue<std::string>("language") +
                             "|" + listed->getObject(0)->getValue<std::string>("review") + "|" +
                             std::to_string(listed->getObject(0)->getValue<bool>("sendable")) + "|" +
                             listed->getObject(0)->getValue<std::string>("refusal") + "|" +
                             listed->getObject(0)->getArray("fields")->getObject(0)->getValue<std::string>("component") + "|" +
                             listed->getObject(0)->getArray("fields")->getObject(0)->getValue<std::string>("variable"));
    // A wrong query, no token, a token without the scope: the API's precise answers.
    auto answer = host.request("GET", "/api/v1/templates?include=all", "", {{"Authorization", "Bearer " + token}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(answer.body, 422, answer.status);
    CPPUNIT_ASSERT_MESSAGE(answer.body, answer.body.find("\"field\":\"include\"") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(401, host.request("GET", "/api/v1/templates").status);
    const auto [made, said] = host.cli({"token", "create", "--name", "reader", "--scopes", "messages.read"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(said, 0, made);
    const auto line = said.find('\n', said.find("created token ")) + 1;
    answer = host.request("GET", "/api/v1/templates", "", {{"Authorization", "Bearer " + said.substr(line, said.find('\n', line) - line)}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(answer.body, 403, answer.status);

    // Approved after a new review: sent through the Cloud API.
    postReview(host, *db, "APPROVED", "", t - 50);
    listed = templateList(host, token)->getArray("templates");
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), listed->size());
    CPPUNIT_ASSERT(listed->getObject(0)->getValue<bool>("sendable"));
    CPPUNIT_ASSERT(!listed->getObject(0)->has("refusal"));
    CPPUNIT_ASSERT_EQUAL(std::string("APPROVED|"),
                         queryRows(*db, "SELECT meta_status, COALESCE(meta_reason, '') FROM whatsapp_templates WHERE name = 'rappel'"));
    sendAndWait(host, *db, kTemplateJson, "sent|cloud_api");
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), fake.sendCount());

    // The rejection delivered again, late: older than the approval, it changes nothing.
    postReview(host, *db, "REJECTED", "INVALID_FORMAT", t - 100);
    CPPUNIT_ASSERT_EQUAL(std::string("APPROVED"), queryText(*db, "SELECT meta_status FROM whatsapp_templates WHERE name = 'rappel'"));

    // Paused later: refused again, and the send's answer names the pause (the picker's side is in
    // checkFieldFixtures, whose host runs the inbox).
    postReview(host, *db, "PAUSED", "", t);
    receipt = sendThroughProbe(host, kTemplateJson);
    CPPUNIT_ASSERT_EQUAL(std::string("invalid"), receipt->getValue<std::string>("status"));
    CPPUNIT_ASSERT_MESSAGE(receipt->getValue<std::string>("message"), receipt->getValue<std::string>("message").find("paused") != std::string::npos);

    // A review of a template the outbox does not hold changes nothing and fails nothing.
    host::TemplateStatusUpdate other;
    other.name = "inconnu";
    other.language = "ar";
    other.event = "APPROVED";
    other.time = t;
    CPPUNIT_ASSERT_EQUAL(200, postSigned(host, host::templateStatusBody(other)).status);
    waitForProcessing(*db);
    CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_templates"));
    CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status <> 'processed'"));
}

void checkAccountEvents(HostOptions options, FakeGraphApi& fake, int hosts) {
    std::vector<std::unique_ptr<HostProcess>> running;
    for (int i = 0; i < hosts; ++i) {
        running.push_back(std::make_unique<HostProcess>(options));
        running.back()->start();
        options.migrate = false;
        options.settings.clear();  // already in the shared database
    }
    HostProcess& first = *running.front();
    HostProcess& last = *running.back();
    auto db = openDatabase(first.databaseUrl());
    seedTemplate(*db);
    const std::int64_t conversation = customerWrites(first, *db, "wamid.ACC1");
    const std::string text = "{\"conversation_id\":" + std::to_string(conversation) + ",\"text\":\"Merci\"}";
    const std::int64_t t = nowSeconds();

    // Customer-initiated messaging restricted (reaching the first host): every host stops.
    postAccountUpdate(first, *db, restriction("RESTRICTED_CUSTOMER_INITIATED_MESSAGING", t - 30));
    CPPUNIT_ASSERT_EQUAL(std::string("meta_account|RESTRICTED_CUSTOMER_INITIATED_MESSAGING|1"),
                         queryRows(*db, "SELECT source, code, CASE WHEN resolved_at IS NULL THEN 1 ELSE 0 END FROM whatsapp_alerts"));
    waitForChain(last, "restricted by Meta", true);
    std::int64_t id = sendAndWait(last, *db, text, "queued|outbox");
    CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|unavailable|0|0\noutbox|1|queued|0|0"), attemptRows(*db, id));
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), fake.sendCount());
    // The same update again changes nothing (one open alert).
    postAccountUpdate(first, *db, restriction("RESTRICTED_CUSTOMER_INITIATED_MESSAGING", t - 30));
    CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_alerts"));

    // Lifted by a later update that lists no restriction: sends go to Meta again.
    postAccountUpdate(last, *db, restriction("", t - 20));
    CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_alerts WHERE resolved_at IS NULL"));
    waitForChain(first, "restricted by Meta", false);
    sendAndWait(first, *db, text, "sent|cloud_api");
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), fake.sendCount());
    // The restriction delivered late (older than the lift) does not come back.
    postAccountUpdate(first, *db, restriction("RESTRICTED_CUSTOMER_INITIATED_MESSAGING", t - 30));
    CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_alerts WHERE resolved_at IS NULL"));

    // Business-initiated messaging restricted: replies in the window go, templates do not.
    postAccountUpdate(first, *db, restriction("RESTRICTED_BIZ_INITIATED_MESSAGING", t - 10));
    waitForChain(first, "templates restricted by Meta", true);
    id = sendAndWait(first, *db, kTemplateJson, "queued|outbox");
    CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|unavailable|0|0\noutbox|1|queued|0|0"), attemptRows(*db, id));
    sendAndWait(first, *db, text, "sent|cloud_api");
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), fake.sendCount());

    // A restriction whose end has passed stops nothing.
    postAccountUpdate(first, *db, restriction("RESTRICTED_CUSTOMER_INITIATED_MESSAGING", t - 5, t - 1));
    waitForChain(last, "restricted by Meta", false);
    CPPUNIT_ASSERT_EQUAL(std::string("RESTRICTED_CUSTOMER_INITIATED_MESSAGING|1"),
                         queryRows(*db, "SELECT code, CASE WHEN expires_at IS NOT NULL THEN 1 ELSE 0 END FROM whatsapp_alerts WHERE resolved_at IS NULL "
                                        "AND code = 'RESTRICTED_CUSTOMER_INITIATED_MESSAGING'"));
    sendAndWait(last, *db, text, "sent|cloud_api");
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), fake.sendCount());

    // The number's messaging limit and quality: every host's /metrics and settings page say what
    // the latest change said, whichever host processed it; a change delivered late changes nothing.
    const auto quality = [&](HostProcess& host, const std::string& event, const std::string& limit, std::int64_t time) {
        host::QualityUpdate update;
        update.event = event;
        update.currentLimit = limit;
        update.time = time;
        const auto answer = postSigned(host, host::qualityUpdateBody(update));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(answer.body, 200, answer.status);
        waitForProcessing(*db);
    };
    const auto everyHostSays = [&](const std::string& series) {
        for (const auto& host : running) {
            const std::string metrics = host->request("GET", "/metrics").body;
            CPPUNIT_ASSERT_MESSAGE(series + " in\n" + metrics, metrics.find(series) != std::string::npos);
        }
    };
    quality(first, "DOWNGRADE", "TIER_250", t - 4);
    quality(last, "FLAGGED", "TIER_250", t - 3);
    quality(first, "UPGRADE", "TIER_10K", t - 2);
    quality(last, "DOWNGRADE", "TIER_50", t - 6);  // late
    quality(last, "UNFLAGGED", "", t - 8);         // late too
    everyHostSays("# TYPE tawasul_whatsapp_messaging_limit gauge\n"
                  "tawasul_whatsapp_messaging_limit{number=\"15550000000\",tier=\"TIER_10K\"} 10000\n");
    everyHostSays("tawasul_whatsapp_quality_flagged{number=\"15550000000\"} 1\n");
    const AdminBrowser admin = signInAs(last, "admin@example.test", "admin");
    std::string settings = admin.get("/admin/messaging/whatsapp/settings").body;
    CPPUNIT_ASSERT_MESSAGE(settings, settings.find("+15550000000</bdi></strong> Messaging limit: <bdi dir=\"ltr\" translate=\"no\">TIER_10K</bdi> "
                                                   "<span class=\"badge badge-unhealthy\">Quality flagged by Meta</span>") != std::string::npos);
    quality(first, "UNFLAGGED", "", t - 1);
    everyHostSays("tawasul_whatsapp_quality_flagged{number=\"15550000000\"} 0\n");
    everyHostSays("tawasul_whatsapp_messaging_limit{number=\"15550000000\",tier=\"TIER_10K\"} 10000\n");
    settings = admin.get("/admin/messaging/whatsapp/settings").body;
    CPPUNIT_ASSERT_MESSAGE(settings, settings.find("Quality not flagged") != std::string::npos);

    // The same alert reaching every host at once is one open alert (the database keeps one: each
    // host's batch saw none open when it wrote).
    for (int round = 0; round < 5; ++round) {
        const std::string type = "SAME_ALERT_" + std::to_string(round);
        // Each post its own body (Meta's time apart), so that each is its own stored event.
        const auto body = [&](std::size_t post) {
            return "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"100000000000000\",\"time\":" +
                                 std::to_string(t + static_cast<std::int64_t>(post)) + ",\"changes\":[{\"value\":{\"entity_type\":\"WABA\",\"alert_info\":{\"alert_severity\":"
                                 "\"CRITICAL\",\"alert_status\":\"ACTIVE\",\"alert_type\":\"" + type + "\",\"alert_description\":\"Round " +
                                 std::to_string(round) + "\"}},\"field\":\"account_alerts\"}]}]}";
        };
        std::vector<std::thread> posts;
        std::vector<int> statuses(running.size() * 2);
        for (std::size_t i = 0; i < statuses.size(); ++i)
            posts.emplace_back([&, i] { statuses[i] = postSigned(*running[i % running.size()], body(i)).status; });
        for (auto& post : posts) post.join();
        for (const int status : statuses) CPPUNIT_ASSERT_EQUAL(200, status);
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_alerts WHERE code = 'ALERT_" + type + "'"));
    }

    // A field no plugin takes: kept in its event, counted, its job done.
    const std::string unknown =
        "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"100000000000000\",\"time\":" + std::to_string(t) +
        ",\"changes\":[{\"value\":{\"max_daily_conversation_per_phone\":1000},\"field\":\"business_capability_update\"}]}]}";
    const long long events = std::stoll(queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
    CPPUNIT_ASSERT_EQUAL(200, postSigned(first, unknown).status);
    waitForProcessing(*db);
    CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status <> 'processed'"));
    CPPUNIT_ASSERT_EQUAL(std::to_string(events + 1), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
    std::string metrics;
    for (const auto& host : running) metrics += host->request("GET", "/metrics").body;
    CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("tawasul_webhook_field_changes_unhandled_total{field=\"business_capability_update\"} 1\n") !=
                                        std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("tawasul_whatsapp_account_events_total{field=\"account_update\",event=\"ACCOUNT_RESTRICTION\"}") !=
                                        std::string::npos);
}

void checkFieldFixtures(HostOptions options) {
    options.pluginsYaml += "    - admin_inbox: {}\n";  // the inbox shows Meta's alerts
    HostProcess host(options);
    host.start();
    auto db = openDatabase(host.databaseUrl());
    seedTemplate(*db);
    const auto post = [&](const std::string& name) {
        const auto answer = postSigned(host, readFile(std::string(TAWASUL_SOURCE_DIR) + "/tests/fixtures/fields/" + name));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(name + ": " + answer.body, 200, answer.status);
        waitForProcessing(*db);
    };
    const auto alerts = [&] {
        return queryRows(*db, "SELECT code, message, CASE WHEN resolved_at IS NULL THEN 1 ELSE 0 END FROM whatsapp_alerts WHERE source = 'meta_account' ORDER BY id");
    };
    post("template-status-rejected.json");
    post("template-quality-yellow.json");
    post("template-category-marketing.json");
    CPPUNIT_ASSERT_EQUAL(std::string("REJECTED|INCORRECT_CATEGORY|YELLOW|MARKETING|771234"),
                         queryRows(*db, "SELECT meta_status, meta_reason, meta_quality, meta_category, meta_id FROM whatsapp_templates"));
    // The inbox picker (window closed) offers the local template, not the one Meta rejected.
    {
        Poco::Data::Session session = db->session();
        session << "INSERT INTO whatsapp_templates (name, language, category, body, status, created_at, updated_at) "
                   "VALUES ('accueil', 'fr', 'utility', 'Bienvenue.', 'active', 1, 1)",
            now;
    }
    const std::int64_t closed = customerWrites(host, *db, "wamid.OLD1", 3 * 86400);
    const AdminBrowser picker = signInAs(host, "picker@example.test", "agent");
    const std::string conversationPage = picker.get("/admin/messaging/whatsapp/conversations/" + std::to_string(closed)).body;
    CPPUNIT_ASSERT_MESSAGE(conversationPage, conversationPage.find("value=\"accueil|fr\"") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(conversationPage, conversationPage.find("value=\"rappel|fr\"") == std::string::npos);

    CPPUNIT_ASSERT_MESSAGE("no number yet", host.request("GET", "/metrics").body.find("tawasul_whatsapp_messaging_limit") == std::string::npos);
    post("account-alerts-active.json");
    post("phone-number-downgrade.json");
    const std::string metrics = host.request("GET", "/metrics").body;
    CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("tawasul_whatsapp_messaging_limit{number=\"15550000000\",tier=\"TIER_250\"} 250\n") !=
                                        std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("tawasul_whatsapp_quality_flagged{number=\"15550000000\"} 0\n") != std::string::npos);
    // Meta's words as Meta wrote them: the \u escapes and "\/" read back as UTF-8 and '/'.
    CPPUNIT_ASSERT_EQUAL(std::string("ALERT_OBA_APPROVED|Meta alert (WARNING): Votre demande de compte professionnel officiel a été "
                                     "approuvée — https://business.facebook.com|1\n"
                                     "MESSAGING_LIMIT_LOWERED|Meta lowered the messaging limit of 15550000000 to TIER_250|1"),
                         alerts());
    // Neither stops sending.
    CPPUNIT_ASSERT_MESSAGE(host.request("GET", "/test/chain").body,
                           host.request("GET", "/test/chain").body.find("restricted by Meta") == std::string::npos);

    // They reach the agents: a line each above the inbox, in the page's words, Meta's detail beside.
    const AdminBrowser agent = signInAs(host, "agent@example.test", "agent");
    std::string inbox = agent.get("/admin/messaging/whatsapp/inbox").body;
    for (const char* line : {"messaging limit: fewer new conversations a day.", "Meta sent an alert about the account.",
                             "(Meta lowered the messaging limit of 15550000000 to TIER_250)"})
        CPPUNIT_ASSERT_MESSAGE(line, inbox.find(line) != std::string::npos);
    agent.setLocale("fr");
    inbox = agent.get("/admin/messaging/whatsapp/inbox").body;
    CPPUNIT_ASSERT_MESSAGE(inbox, inbox.find("Meta a baissé la limite de messages du numéro") != std::string::npos);

    post("account-disabled.json");
    waitForChain(host, "restricted by Meta: Meta disabled the WhatsApp Business Account", true);
    post("account-reinstated.json");
    waitForChain(host, "restricted by Meta", false);
    CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_alerts WHERE code = 'ACCOUNT_DISABLED' AND resolved_at IS NULL"));

    // Coexistence with the Business app. An echo of what the business sent from the app is an
    // outbound message of the customer's conversation, once however often it comes, and no unread.
    const std::int64_t conversation = customerWrites(host, *db, "wamid.FIX1");
    post("smb-message-echo.json");
    post("smb-message-echo.json");
    const std::string id = std::to_string(conversation);
    CPPUNIT_ASSERT_EQUAL(std::string("out|business_app|sent|Bonjour, nous avons bien reçu votre demande.|" + id),
                         queryRows(*db, "SELECT direction, provider, status, body, conversation_id FROM whatsapp_messages WHERE wa_message_id = 'wamid.ECHO1'"));
    // (One unread: the agent who opened the conversation above read the old message.)
    CPPUNIT_ASSERT_EQUAL(std::string("1|1"), queryRows(*db, "SELECT unread_count, (SELECT COUNT(*) FROM whatsapp_messages WHERE "
                                                            "wa_message_id = 'wamid.ECHO1') FROM whatsapp_conversations WHERE id = " + id));
    // The simulator posts one as Meta would (a national number is the same customer).
    const auto [simulated, said] = host.cli({"simulate", "echo", "--to", "0555 12 34 56", "--text", "Depuis l'application — شكرا", "--wamid",
                                             "wamid.ECHO2", "--url", "http://127.0.0.1:" + std::to_string(host.port()) + "/webhooks/whatsapp"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(said, 0, simulated);
    waitForProcessing(*db);
    CPPUNIT_ASSERT_EQUAL(std::string("out|business_app|Depuis l'application — شكرا|" + id),
                         queryRows(*db, "SELECT direction, provider, body, conversation_id FROM whatsapp_messages WHERE wa_message_id = 'wamid.ECHO2'"));
    // History: past chats join quietly (a resolved conversation stays resolved, no unread), a new
    // customer's past chat is a resolved conversation.
    {
        Poco::Data::Session session = db->session();
        session << "UPDATE whatsapp_conversations SET status = 'resolved', resolved_at = 1 WHERE id = " + id, now;
    }
    post("history.json");
    post("history.json");
    CPPUNIT_ASSERT_EQUAL(std::string("wamid.HIST1|in|received|" + id + "\nwamid.HIST2|out|delivered|" + id),
                         queryRows(*db, "SELECT wa_message_id, direction, status, conversation_id FROM whatsapp_messages WHERE wa_message_id IN "
                                        "('wamid.HIST1', 'wamid.HIST2') ORDER BY wa_message_id"));
    CPPUNIT_ASSERT_EQUAL(std::string("resolved|1"), queryRows(*db, "SELECT status, unread_count FROM whatsapp_conversations WHERE id = " + id));
    CPPUNIT_ASSERT_EQUAL(std::string("resolved|0|مرحبا"),
                         queryRows(*db, "SELECT c.status, c.unread_count, m.body FROM whatsapp_messages m JOIN whatsapp_conversations c ON "
                                        "c.id = m.conversation_id WHERE m.wa_message_id = 'wamid.HIST3'"));
    // The app's address book names the new contact.
    post("smb-app-state-sync.json");
    CPPUNIT_ASSERT_EQUAL(std::string("Karim Brahimi"), queryText(*db, "SELECT profile_name FROM whatsapp_contacts WHERE wa_id = '213661234567'"));
    CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status <> 'processed'"));
}

void checkTemplateSync(HostOptions options, FakeGraphApi& fake) {
    options.settings.push_back({"whatsapp.cloud.business_account_id", "100000000000000"});
    HostProcess host(options);
    host.start();
    auto db = openDatabase(host.databaseUrl());
    seedTemplate(*db);  // rappel (fr), local until Meta's copy lands
    {
        Poco::Data::Session session = db->session();
        session << "INSERT INTO whatsapp_templates (name, language, category, body, status, created_at, updated_at) "
                   "VALUES ('a_la_main', 'ar', 'utility', 'مرحبا {{1}}', 'active', 1, 1)",
            now;
    }
    const std::string rappel =
        "{\"name\":\"rappel\",\"language\":\"fr\",\"status\":\"APPROVED\",\"category\":\"UTILITY\",\"id\":\"881001\","
        "\"quality_score\":{\"score\":\"GREEN\"},\"components\":[{\"type\":\"HEADER\",\"format\":\"TEXT\",\"text\":\"Rappel\"},"
        "{\"type\":\"BODY\",\"text\":\"Bonjour {{first_name}}, votre session commence bient\\u00f4t.\"},{\"type\":\"FOOTER\",\"text\":\"Tawasul\"},"
        "{\"type\":\"BUTTONS\",\"buttons\":[{\"type\":\"URL\",\"text\":\"Suivi\",\"url\":\"https:\\/\\/example.dz\\/suivi\\/{{1}}\"}]}]}";
    const std::string bienvenue =
        "{\"name\":\"bienvenue\",\"language\":\"ar\",\"status\":\"REJECTED\",\"category\":\"MARKETING\",\"id\":\"881002\","
        "\"rejected_reason\":\"INVALID_FORMAT\",\"components\":[{\"type\":\"BODY\",\"text\":\"\\u0645\\u0631\\u062d\\u0628\\u0627 {{1}}\"}]}";
    const std::string promo =
        "{\"name\":\"promo\",\"language\":\"en\",\"status\":\"APPROVED\",\"category\":\"MARKETING\",\"id\":\"881003\",\"components\":"
        "[{\"type\":\"HEADER\",\"format\":\"IMAGE\"},{\"type\":\"BODY\",\"text\":\"New sessions\"}]}";
    fake.holdTemplates({rappel, bienvenue, promo}, 2);

    auto [status, output] = host.cli({"templates", "sync"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
    // (On PostgreSQL the server's notices come first.)
    const std::string report = "templates sync: 3 template(s) at Meta: 1 added, 1 updated, 0 deleted at Meta, 1 skipped\n"
                               "skipped promo (en): a header of format IMAGE (Tawasul sends text headers only)\n";
    CPPUNIT_ASSERT_MESSAGE(output, output.size() >= report.size() && output.compare(output.size() - report.size(), report.size(), report) == 0);
    std::vector<std::string> pages;
    for (const GraphRequest& request : fake.requests())
        if (request.path.find("/message_templates") != std::string::npos) pages.push_back(request.path);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), pages.size());
    CPPUNIT_ASSERT_MESSAGE(pages[0], pages[0].find("/v21.0/100000000000000/message_templates?fields=") == 0 &&
                                         pages[0].find("after=") == std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(pages[1], pages[1].find("&after=2") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(std::string("a_la_main|ar|utility|active|-|-\n"
                                     "bienvenue|ar|marketing|active|REJECTED|INVALID_FORMAT\n"
                                     "rappel|fr|utility|active|APPROVED|-"),
                         queryRows(*db, "SELECT name, language, category, status, COALESCE(meta_status, '-'), COALESCE(meta_reason, '-') "
                                        "FROM whatsapp_templates ORDER BY name"));
    CPPUNIT_ASSERT_EQUAL(std::string("Rappel|Bonjour {{first_name}}, votre session commence bientôt.|GREEN|881001"),
                         queryRows(*db, "SELECT header, body, meta_quality, meta_id FROM whatsapp_templates WHERE name = 'rappel'"));
    CPPUNIT_ASSERT_MESSAGE(queryText(*db, "SELECT buttons FROM whatsapp_templates WHERE name = 'rappel'"),
                           queryText(*db, "SELECT buttons FROM whatsapp_templates WHERE name = 'rappel'").find("https://example.dz/suivi/{{1}}") !=
                               std::string::npos);

    // The rejected one is refused with Meta's reason; the approved one goes to Meta.
    auto receipt = sendThroughProbe(host, "{\"phone\":\"+213555123456\",\"template\":{\"name\":\"bienvenue\",\"language\":\"ar\"}}");
    CPPUNIT_ASSERT_EQUAL(std::string("invalid"), receipt->getValue<std::string>("status"));
    CPPUNIT_ASSERT_MESSAGE(receipt->getValue<std::string>("message"), receipt->getValue<std::string>("message").find("INVALID_FORMAT") != std::string::npos);
    sendAndWait(host, *db, kTemplateJson, "sent|cloud_api");

    // Meta no longer lists bienvenue: deleted at Meta, refused. The page's button does it for an admin.
    fake.holdTemplates({rappel}, 2);
    const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
    const HttpResult page = admin.post("/admin/messaging/whatsapp/templates/sync", {});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(page.body, 200, page.status);
    CPPUNIT_ASSERT_MESSAGE(page.body, page.body.find("1 deleted at Meta") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(std::string("DELETED"), queryText(*db, "SELECT meta_status FROM whatsapp_templates WHERE name = 'bienvenue'"));
    // Without the form's token, or as a viewer, nothing is read from Meta.
    const std::size_t asked = fake.requests().size();
    CPPUNIT_ASSERT_EQUAL(403, admin.post("/admin/messaging/whatsapp/templates/sync", {}, false).status);
    const AdminBrowser viewer = signInAs(host, "viewer@example.test", "viewer");
    CPPUNIT_ASSERT_EQUAL(403, viewer.post("/admin/messaging/whatsapp/templates/sync", {}).status);
    CPPUNIT_ASSERT_EQUAL(asked, fake.requests().size());

    // A token Meta refuses: exit 1 with Meta's answer, nothing written; the page says it with 502.
    const std::string before = queryRows(*db, "SELECT name, language, meta_status, updated_at FROM whatsapp_templates ORDER BY name");
    fake.requireToken("another-token");
    std::tie(status, output) = host.cli({"templates", "sync"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 1, status);
    // (The plugin's own log line, that the Cloud API is unhealthy, comes first.)
    CPPUNIT_ASSERT_MESSAGE(output, output.find("\ntawasul: templates sync: cannot read Meta's templates: HTTP 401 (190): Invalid OAuth") !=
                                       std::string::npos);
    CPPUNIT_ASSERT_EQUAL(502, admin.post("/admin/messaging/whatsapp/templates/sync", {}).status);
    CPPUNIT_ASSERT_EQUAL(before, queryRows(*db, "SELECT name, language, meta_status, updated_at FROM whatsapp_templates ORDER BY name"));
}

void checkTemplateSubmission(HostOptions options, FakeGraphApi& fake) {
    options.settings.push_back({"whatsapp.cloud.business_account_id", "100000000000000"});
    HostProcess host(options);
    host.start();
    auto db = openDatabase(host.databaseUrl());
    {
        Poco::Data::Session session = db->session();
        session << "INSERT INTO whatsapp_templates (name, language, category, body, status, header, buttons, created_at, updated_at) "
                   "VALUES ('suivi', 'fr', 'utility', 'Bonjour {{first_name}}, rendez-vous le {{date}}.', 'active', 'Session {{session}}', "
                   "'[{\"type\":\"url\",\"text\":\"Suivi\",\"url\":\"https://example.dz/suivi/{{1}}\"},{\"type\":\"quick_reply\",\"text\":\"Oui\"}]', 1, 1)",
            now;
        session << "INSERT INTO whatsapp_templates (name, language, category, body, status, created_at, updated_at) "
                   "VALUES ('bref', 'ar', 'marketing', 'مرحبا {{1}}', 'active', 1, 1)",
            now;
    }
    const std::string suivi = queryText(*db, "SELECT id FROM whatsapp_templates WHERE name = 'suivi'");
    const std::string bref = queryText(*db, "SELECT id FROM whatsapp_templates WHERE name = 'bref'");
    const std::string page = "/admin/messaging/whatsapp/templates/" + suivi;
    const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
    const HttpResult form = admin.get(page);
    CPPUNIT_ASSERT_EQUAL(200, form.status);
    for (const char* field : {"example.header:session", "example.body:first_name", "example.body:date", "example.button0:1"})
        CPPUNIT_ASSERT_MESSAGE(field, form.body.find(std::string("name=\"") + field + "\"") != std::string::npos);
    const auto submissions = [&] {
        std::vector<GraphRequest> found;
        for (const GraphRequest& request : fake.requests())
            if (request.method == "POST" && request.path.find("/message_templates") != std::string::npos) found.push_back(request);
        return found;
    };

    // An example missing: 422, nothing asked of Meta.
    FormFields examples{{"example.header:session", "Excel avancé"}, {"example.body:first_name", "Amina"}, {"example.body:date", "lundi 7"}};
    HttpResult answer = admin.post(page + "/submit", examples);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(answer.body, 422, answer.status);
    CPPUNIT_ASSERT(submissions().empty());

    examples.push_back({"example.button0:1", "AB12"});
    answer = admin.post(page + "/submit", examples);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(answer.body, 303, answer.status);
    const auto sent = submissions();
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), sent.size());
    CPPUNIT_ASSERT_EQUAL(std::string("/v21.0/100000000000000/message_templates"), sent[0].path);
    CPPUNIT_ASSERT_EQUAL(
        std::string("{\"category\":\"UTILITY\",\"components\":[{\"example\":{\"header_text_named_params\":[{\"example\":\"Excel avancé\","
                    "\"param_name\":\"session\"}]},\"format\":\"TEXT\",\"text\":\"Session {{session}}\",\"type\":\"HEADER\"},{\"example\":"
                    "{\"body_text_named_params\":[{\"example\":\"Amina\",\"param_name\":\"first_name\"},{\"example\":\"lundi 7\",\"param_name\":"
                    "\"date\"}]},\"text\":\"Bonjour {{first_name}}, rendez-vous le {{date}}.\",\"type\":\"BODY\"},{\"buttons\":[{\"example\":"
                    "[\"https://example.dz/suivi/AB12\"],\"text\":\"Suivi\",\"type\":\"URL\",\"url\":\"https://example.dz/suivi/{{1}}\"},"
                    "{\"text\":\"Oui\",\"type\":\"QUICK_REPLY\"}],\"type\":\"BUTTONS\"}],\"language\":\"fr\",\"name\":\"suivi\","
                    "\"parameter_format\":\"NAMED\"}"),
        sdk::jsonString(*Poco::JSON::Parser().parse(sent[0].body).extract<Poco::JSON::Object::Ptr>()));
    CPPUNIT_ASSERT_EQUAL(std::string("PENDING|UTILITY|1"),
                         queryRows(*db, "SELECT meta_status, meta_category, CASE WHEN meta_id IS NOT NULL THEN 1 ELSE 0 END FROM "
                                        "whatsapp_templates WHERE id = " + suivi));
    CPPUNIT_ASSERT_MESSAGE(admin.get(page + "?done=submitted").body, admin.get(page + "?done=submitted").body.find("In review at Meta") != std::string::npos);
    // In review: refused; approved by Meta's webhook: sendable.
    const std::string json = "{\"phone\":\"+213555123456\",\"template\":{\"name\":\"suivi\",\"language\":\"fr\",\"components\":["
                             "{\"type\":\"header\",\"parameters\":[{\"name\":\"session\",\"value\":\"Excel\"}]},"
                             "{\"type\":\"body\",\"parameters\":[{\"name\":\"first_name\",\"value\":\"Amina\"},{\"name\":\"date\",\"value\":\"lundi\"}]}]}}";
    auto receipt = sendThroughProbe(host, json);
    CPPUNIT_ASSERT_EQUAL(std::string("invalid"), receipt->getValue<std::string>("status"));
    host::TemplateStatusUpdate approved;
    approved.name = "suivi";
    approved.language = "fr";
    approved.event = "APPROVED";
    approved.time = nowSeconds() + 1;
    CPPUNIT_ASSERT_EQUAL(200, postSigned(host, host::templateStatusBody(approved)).status);
    waitForProcessing(*db);
    receipt = sendThroughProbe(host, json);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(receipt->getValue<std::string>("message"), std::string("accepted"), receipt->getValue<std::string>("status"));

    // Meta refuses the other one: 502 with Meta's words, nothing stored.
    fake.answerSubmission(GraphReply::metaError(400, 100, "Invalid parameter", "Template name already exists"));
    answer = admin.post("/admin/messaging/whatsapp/templates/" + bref + "/submit", {{"example.body:1", "Karim"}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(answer.body, 502, answer.status);
    CPPUNIT_ASSERT_MESSAGE(answer.body, answer.body.find("Meta refused the template: HTTP 400 (100)") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(std::string("-"), queryText(*db, "SELECT COALESCE(meta_status, '-') FROM whatsapp_templates WHERE id = " + bref));
    // A viewer cannot; an unknown template is 404.
    const AdminBrowser viewer = signInAs(host, "viewer@example.test", "viewer");
    CPPUNIT_ASSERT_EQUAL(403, viewer.post("/admin/messaging/whatsapp/templates/" + bref + "/submit", {{"example.body:1", "Karim"}}).status);
    CPPUNIT_ASSERT_EQUAL(404, admin.post("/admin/messaging/whatsapp/templates/99999/submit", {{"example.body:1", "Karim"}}).status);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), submissions().size());
}

}  // namespace tawasul::test
