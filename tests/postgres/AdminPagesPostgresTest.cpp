// The admin pages of webhook_receiver, cloud_api and outbox on PostgreSQL: every query and write
// they make (keyset lists with filters, RETURNING ids, the replay transaction, settings rows) runs
// against the real engine; so do the B2B lead pages and the matched records' summaries.
#include <cppunit/extensions/HelperMacros.h>

#include <regex>

#include <Poco/Data/Session.h>
#include <Poco/URI.h>

#include "AdminSession.hpp"
#include "UsersPageChecks.hpp"
#include "HostProcess.hpp"
#include "WebhookSupport.hpp"
#include "whatsapp/MetaPayloads.hpp"

using namespace tawasul;
using namespace tawasul::test;

namespace {

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

// A host on its own PostgreSQL server, an admin signed in to it, and the database open beside it.
struct AdminOnPostgres {
    PostgresDatabase pg;
    HostProcess host;
    std::unique_ptr<tawasul::host::SqlDatabase> db;
    AdminBrowser admin;

    AdminOnPostgres() : host(withWebhookSecrets(optionsFor(pg))), db(startThenOpen(host, pg)),
                        admin(signInAs(host, "admin@example.test", "admin")) {}

    static std::unique_ptr<tawasul::host::SqlDatabase> startThenOpen(HostProcess& host, const PostgresDatabase& pg) {
        host.start();
        return openDatabase(pg.url());
    }

    static HostOptions optionsFor(const PostgresDatabase& pg) {
        HostOptions options;
        options.databaseUrl = pg.url();
        return options;
    }
};

class AdminPagesPostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(AdminPagesPostgresTest);
    CPPUNIT_TEST(everyPageAndActionOnPostgres);
    CPPUNIT_TEST(leadAndRecordPagesOnPostgres);
    CPPUNIT_TEST(usersPageOnPostgres);
    CPPUNIT_TEST_SUITE_END();

public:
    // The users page's every action and bad input (UsersPageChecks.cpp) on PostgreSQL.
    void usersPageOnPostgres() {
        AdminOnPostgres on;
        checkUsersPage(on.host, *on.db);
    }

    void everyPageAndActionOnPostgres() {
        AdminOnPostgres on;
        HostProcess& host = on.host;
        auto& db = on.db;
        const AdminBrowser& admin = on.admin;

        // Webhook events: list, filter, page, show, raw, replay.
        const HttpResult posted = postSigned(host, "not json");
        CPPUNIT_ASSERT_EQUAL(200, posted.status);
        const std::string id = posted.headers.at("x-tawasul-event-id");
        waitForProcessing(*db);
        const std::string events = "/admin/messaging/whatsapp/webhook-events";
        CPPUNIT_ASSERT(contains(admin.get(events + "?status=failed").body, events + "/" + id + "\""));
        CPPUNIT_ASSERT_EQUAL(200, admin.get(events + "?status=failed&before=" + id).status);
        CPPUNIT_ASSERT_EQUAL(200, admin.get(events + "/" + id).status);
        CPPUNIT_ASSERT(admin.get(events + "/" + id + "/raw").body == "not json");
        CPPUNIT_ASSERT_EQUAL(303, admin.post(events + "/" + id + "/replay", {}).status);
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(std::string("failed|1"), queryRows(*db, "SELECT status, attempts FROM whatsapp_webhook_events WHERE id = " + id));

        // Settings: both pages, a save, a refused save, the reveal.
        CPPUNIT_ASSERT_EQUAL(303, admin.post("/admin/messaging/whatsapp/settings", {{"phone_number_id", "12345"}}).status);
        CPPUNIT_ASSERT_EQUAL(422, admin.post("/admin/messaging/whatsapp/settings", {{"phone_number_id", "x"}}).status);
        CPPUNIT_ASSERT(contains(admin.get("/admin/messaging/whatsapp/settings").body, "value=\"12345\""));
        CPPUNIT_ASSERT(contains(admin.get("/admin/messaging/whatsapp/settings/webhook").body, "••••"));
        CPPUNIT_ASSERT(contains(admin.post("/admin/messaging/whatsapp/settings/webhook/reveal", {}).body, "verify-me"));

        // Templates, flows, outbox, logs.
        const std::string templates = "/admin/messaging/whatsapp/templates";
        const HttpResult created = admin.post(templates, {{"name", "rappel"}, {"language", "fr"}, {"category", "utility"},
                                                          {"status", "active"}, {"body", "Bonjour {{full_name}}"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(created.body, 303, created.status);
        const std::string templateId = queryText(*db, "SELECT id FROM whatsapp_templates WHERE name = 'rappel'");
        CPPUNIT_ASSERT_EQUAL(303, admin.post(templates + "/" + templateId, {{"name", "rappel"}, {"language", "fr"}, {"category", "marketing"},
                                                                          {"status", "draft"}, {"body", "Salut {{full_name}}"}}).status);
        CPPUNIT_ASSERT_EQUAL(422, admin.post(templates, {{"name", "rappel"}, {"language", "fr"}, {"category", "utility"},
                                                         {"status", "active"}, {"body", "x"}}).status);
        CPPUNIT_ASSERT(contains(admin.get(templates + "/" + templateId + "?preview=1&value.full_name=Amina").body, "Salut Amina"));
        // A header and buttons (issue 15, 6) are stored, and a template without them keeps NULLs.
        CPPUNIT_ASSERT_EQUAL(303, admin.post(templates, {{"name", "bienvenue"}, {"language", "fr"}, {"category", "utility"}, {"status", "active"},
                                                         {"header", "Bienvenue {{full_name}}"}, {"body", "Bonjour {{full_name}}"},
                                                         {"button1_type", "url"}, {"button1_text", "Suivi"},
                                                         {"button1_url", "https://formation.example.dz/{{1}}"}}).status);
        CPPUNIT_ASSERT_EQUAL(std::string("Bienvenue {{full_name}}|[{\"text\":\"Suivi\",\"type\":\"url\",\"url\":\"https://formation.example.dz/{{1}}\"}]"),
                             queryRows(*db, "SELECT header, buttons FROM whatsapp_templates WHERE name = 'bienvenue'"));
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_templates WHERE name = 'rappel' AND header IS NULL AND buttons IS NULL"));
        const std::string flows = "/admin/messaging/whatsapp/flows";
        const HttpResult flow = admin.post(flows, {{"name", "Accueil"}, {"trigger_event", "registration.confirmed"},
                                                   {"step_template", templateId}, {"step_delay", "10"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(flow.body, 303, flow.status);
        const std::string flowId = queryText(*db, "SELECT id FROM whatsapp_flows WHERE name = 'Accueil'");
        CPPUNIT_ASSERT_EQUAL(303, admin.post(flows + "/" + flowId, {{"name", "Accueil"}, {"trigger_event", "registration.paid"},
                                                                  {"step_template", templateId}, {"step_delay", "0"}}).status);
        CPPUNIT_ASSERT_EQUAL(303, admin.post(flows + "/" + flowId + "/deactivate", {}).status);
        CPPUNIT_ASSERT_EQUAL(200, admin.get(flows).status);
        CPPUNIT_ASSERT_EQUAL(200, admin.get(flows + "/" + flowId).status);
        {
            Poco::Data::Session session = db->session();
            session << "INSERT INTO whatsapp_outbox_messages (recipient_phone, rendered_text, wa_me_link, status, channel, created_at, updated_at) "
                       "VALUES ('+213555123456', 'Bonjour', 'https://wa.me/213555123456?text=Bonjour', 'pending', 'manual', 1, 1)",
                Poco::Data::Keywords::now;
        }
        const std::string rowId = queryText(*db, "SELECT id FROM whatsapp_outbox_messages");
        const std::string outbox = "/admin/messaging/whatsapp/outbox";
        CPPUNIT_ASSERT(contains(admin.get(outbox + "?status=pending&channel=manual").body, "outbox-" + rowId));
        CPPUNIT_ASSERT_EQUAL(200, admin.get(outbox + "?before=" + rowId).status);
        CPPUNIT_ASSERT_EQUAL(303, admin.post(outbox + "/" + rowId + "/cancel", {}).status);
        CPPUNIT_ASSERT_EQUAL(409, admin.post(outbox + "/" + rowId + "/sent", {}).status);
        const std::string logs = admin.get("/admin/messaging/whatsapp/logs?level=info&source=admin").body;
        // The page says each line from its code; the table keeps the English message.
        CPPUNIT_ASSERT(contains(logs, "Outbox message " + rowId + " cancelled by admin@example.test"));
        CPPUNIT_ASSERT(contains(logs, "Flow Accueil created by admin@example.test"));
        CPPUNIT_ASSERT(contains(queryRows(*db, "SELECT code, message FROM whatsapp_logs WHERE code = 'outbox_cancelled'"),
                                "outbox_cancelled|outbox message " + rowId + " cancelled by admin@example.test"));
    }

    // Issue #15 item 5 on PostgreSQL: the lead list, page and actions, and a record's summary
    // (its columns read as text, the conversations of its phones through the matcher's index).
    void leadAndRecordPagesOnPostgres() {
        AdminOnPostgres on;
        HostProcess& host = on.host;
        auto& db = on.db;
        const AdminBrowser& admin = on.admin;
        {
            Poco::Data::Session session = db->session();
            session << "INSERT INTO organizations (id, name, city) VALUES (7, 'Cevital', 'Béjaïa')", Poco::Data::Keywords::now;
            session << "INSERT INTO registrations (id, full_name, phone, programme, status) VALUES (4, 'Amina Benali', '0555 12 34 56', "
                       "'Excel', 'pending')", Poco::Data::Keywords::now;
            session << "INSERT INTO b2b_leads (id, organization_id, contact_name, phone, status, notes, created_at, updated_at) VALUES "
                       "(1, 7, 'Karim Brahimi', '0661 23 45 67', 'new', 'Excel pour 12', 1000, 1000), "
                       "(2, NULL, 'Nadia Kaci', '0770 55 66 77', 'won', NULL, 2000, 2000)", Poco::Data::Keywords::now;
        }
        const auto reindex = host.cli({"contacts", "reindex"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(reindex.second, 0, reindex.first);
        host::InboundText message;
        message.from = "213661234567";
        message.name = "Karim";
        message.wamid = "wamid.PGLEAD1";
        message.timestamp = 1700000000;
        message.text = "Bonjour";
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, host::inboundTextBody(message)).status);
        waitForProcessing(*db);
        const std::string conversation = queryText(*db, "SELECT conversation_id FROM whatsapp_messages WHERE wa_message_id = 'wamid.PGLEAD1'");
        {
            Poco::Data::Session session = db->session();
            session << "UPDATE whatsapp_conversations SET b2b_lead_id = 1 WHERE id = " + conversation, Poco::Data::Keywords::now;
        }

        CPPUNIT_ASSERT(contains(admin.get("/admin/b2b-leads?status=new&q=cevital").body, "Karim Brahimi"));
        CPPUNIT_ASSERT(!contains(admin.get("/admin/b2b-leads?status=new&q=cevital").body, "Nadia"));
        CPPUNIT_ASSERT(contains(admin.get("/admin/b2b-leads?q=%2B213770556677").body, "Nadia"));
        const std::string page = admin.get("/admin/b2b-leads/1").body;
        CPPUNIT_ASSERT_MESSAGE(page, contains(page, "Béjaïa") && contains(page, "/admin/messaging/whatsapp/conversations/" + conversation + "\""));
        CPPUNIT_ASSERT_EQUAL(303, admin.post("/admin/b2b-leads/1/status", {{"status", "contacted"}}).status);
        CPPUNIT_ASSERT_EQUAL(303, admin.post("/admin/b2b-leads/1/notes", {{"note", "Rappeler jeudi"}}).status);
        CPPUNIT_ASSERT_EQUAL(303, admin.post("/admin/b2b-leads/2/notes", {{"note", "Première note"}}).status);
        CPPUNIT_ASSERT_EQUAL(303, admin.post("/admin/b2b-leads/1/unlink", {{"conversation_id", conversation}}).status);
        const std::string leads = queryRows(*db, "SELECT status, notes FROM b2b_leads ORDER BY id");
        CPPUNIT_ASSERT_MESSAGE(leads, std::regex_match(leads, std::regex("contacted\\|Excel pour 12\n\nUser admin [0-9T:.Z-]+: Rappeler jeudi\n"
                                                                         "won\\|User admin [0-9T:.Z-]+: Première note")));
        CPPUNIT_ASSERT_EQUAL(std::string("lead_unlinked|1"), queryRows(*db, "SELECT kind, lead_id FROM whatsapp_conversation_events"));
        CPPUNIT_ASSERT_EQUAL(404, admin.get("/admin/b2b-leads/99").status);
        // A long search is cut to 200 bytes between characters: half an Arabic letter is not UTF-8,
        // which PostgreSQL refuses (a 500 for the inbox's search before).
        std::string arabic = "a";
        for (int i = 0; i < 150; ++i) arabic += "\xD8\xB4";  // ش
        std::string query;
        Poco::URI::encode(arabic, "", query);
        for (const std::string& page : {std::string("/admin/b2b-leads?q="), std::string("/admin/messaging/whatsapp/inbox?q=")})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(page, 200, admin.get(page + query).status);

        const std::string record = admin.get("/admin/registrations/4").body;
        CPPUNIT_ASSERT_MESSAGE(record, contains(record, "Amina Benali") && contains(record, "Excel") && contains(record, "Pending"));
        CPPUNIT_ASSERT_EQUAL(200, admin.get("/admin/organizations/7").status);
        CPPUNIT_ASSERT_EQUAL(404, admin.get("/admin/enrollments/4").status);
        // Karim's phone is the lead's: the lead page links back to the conversation, the index has it.
        CPPUNIT_ASSERT(contains(admin.get("/admin/messaging/whatsapp/conversations/" + conversation).body, "href=\"/admin/b2b-leads/1\""));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AdminPagesPostgresTest);
