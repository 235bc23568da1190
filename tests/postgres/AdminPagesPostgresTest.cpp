// The admin pages of webhook_receiver, cloud_api and outbox on PostgreSQL: every query and write
// they make (keyset lists with filters, RETURNING ids, the replay transaction, settings rows) runs
// against the real engine.
#include <cppunit/extensions/HelperMacros.h>

#include "AdminSession.hpp"
#include "HostProcess.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;

namespace {

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

class AdminPagesPostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(AdminPagesPostgresTest);
    CPPUNIT_TEST(everyPageAndActionOnPostgres);
    CPPUNIT_TEST_SUITE_END();

public:
    void everyPageAndActionOnPostgres() {
        PostgresDatabase pg;
        HostOptions options;
        options.databaseUrl = pg.url();
        HostProcess host(withWebhookSecrets(options));
        host.start();
        auto db = openDatabase(pg.url());
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");

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
        CPPUNIT_ASSERT(contains(logs, "outbox message " + rowId + " cancelled by admin@example.test"));
        CPPUNIT_ASSERT(contains(logs, "flow Accueil created by admin@example.test"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AdminPagesPostgresTest);
