// The outbox's admin pages end to end: templates (variable check, preview), flows (steps, on/off),
// outbox messages (wa.me link, mark sent, cancel), the log; and one whole fallback story across the
// settings page: Meta refuses an expired token, the message lands in the outbox, the settings page
// shows the alert and the unhealthy chain, a person sends it by hand, and a connection test clears
// the alert.
#include <cppunit/extensions/HelperMacros.h>

#include <regex>

#include <unistd.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "AdminSession.hpp"
#include "FakeGraphApi.hpp"
#include "HostProcess.hpp"
#include "db/SqlDatabase.hpp"
#include "TestSupport.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;

namespace {

const std::string kOutbox = "/admin/messaging/whatsapp/outbox";
const std::string kTemplates = "/admin/messaging/whatsapp/templates";
const std::string kFlows = "/admin/messaging/whatsapp/flows";
const std::string kLogs = "/admin/messaging/whatsapp/logs";
const std::string kSettings = "/admin/messaging/whatsapp/settings";

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

std::string header(const HttpResult& result, const std::string& name) {
    const auto it = result.headers.find(name);
    return it == result.headers.end() ? std::string() : it->second;
}

// The whole state the forms may write, to check that a refused form wrote nothing.
std::string outboxState(sdk::Database& db) {
    return queryRows(db, "SELECT id, name, language, category, status, body, updated_at FROM whatsapp_templates ORDER BY id") + "#" +
           queryRows(db, "SELECT id, name, trigger_event, active, updated_at FROM whatsapp_flows ORDER BY id") + "#" +
           queryRows(db, "SELECT flow_id, position, template_name, language, delay_seconds FROM whatsapp_flow_steps ORDER BY id") + "#" +
           queryRows(db, "SELECT id, status, updated_at FROM whatsapp_outbox_messages ORDER BY id") + "#" +
           queryRows(db, "SELECT COUNT(*) FROM whatsapp_logs");
}

FormFields templateForm(const std::string& name, const std::string& language, const std::string& body,
                        const std::string& status = "active") {
    return {{"name", name}, {"language", language}, {"category", "utility"}, {"status", status}, {"body", body}};
}

// Creates a template through the page and returns its id.
std::string createTemplate(const AdminBrowser& admin, const std::string& name, const std::string& language, const std::string& body) {
    const HttpResult created = admin.post(kTemplates, templateForm(name, language, body));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(created.body, 303, created.status);
    std::smatch match;
    const std::string location = header(created, "location");
    CPPUNIT_ASSERT_MESSAGE(location, std::regex_match(location, match, std::regex(".*/templates/([0-9]+)\\?done=saved")));
    return match[1];
}

// An outbox row as the outbox provider writes it, for the pages to show.
std::string insertOutboxRow(sdk::Database& db, const std::string& phone, const std::string& text, const std::string& link,
                            const std::string& channel = "manual") {
    Poco::Data::Session session = db.session();
    std::string p = phone, t = text, l = link, c = channel;
    Poco::Int64 at = 1764000000000;
    using namespace Poco::Data::Keywords;
    session << "INSERT INTO whatsapp_outbox_messages (recipient_phone, rendered_text, wa_me_link, status, channel, created_at, updated_at) "
               "VALUES ($1, $2, $3, 'pending', $4, $5, $5)",
        use(p), use(t), use(l), use(c), use(at), now;
    return queryText(db, "SELECT MAX(id) FROM whatsapp_outbox_messages");
}

}  // namespace

class OutboxPagesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(OutboxPagesTest);
    CPPUNIT_TEST(pagesInThreeLanguagesShowStoredTextAsText);
    CPPUNIT_TEST(templateFormChecksVariablesAndWritesNothingWhenRefused);
    CPPUNIT_TEST(templatePreviewRendersSampleValues);
    CPPUNIT_TEST(templateHeaderAndButtonsAreCheckedAndStored);
    CPPUNIT_TEST(flowsSaveStepsAndRefuseUnknownTemplates);
    CPPUNIT_TEST(outboxActionsNeedPermissionCsrfAndAPendingRow);
    CPPUNIT_TEST(logsFilterByLevelAndSource);
    CPPUNIT_TEST(expiredTokenFallbackSentByHandAndClearedByATest);
    CPPUNIT_TEST_SUITE_END();

public:
    void pagesInThreeLanguagesShowStoredTextAsText() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        const std::string templateId = createTemplate(admin, "bienvenue", "fr", "<script>alert(1)</script> Bonjour {{first_name}}");
        const HttpResult flow = admin.post(kFlows, {{"name", "<b>Accueil</b>"}, {"trigger_event", "registration.confirmed"},
                                                    {"step_template", templateId}, {"step_delay", "5"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(flow.body, 303, flow.status);
        insertOutboxRow(*db, "+213555123456", "<img src=x onerror=alert(2)>", "javascript:alert(3)");
        const std::vector<std::tuple<std::string, std::string, std::string>> languages{
            {"en", "Outbox", "ltr"}, {"fr", "Boîte d’envoi", "ltr"}, {"ar", "صندوق الإرسال", "rtl"}};
        for (const auto& [locale, title, dir] : languages) {
            admin.setLocale(locale);
            for (const std::string& path : {kOutbox, kTemplates, kTemplates + "/new", kTemplates + "/" + templateId, kFlows, kFlows + "/new", kLogs}) {
                const HttpResult page = admin.get(path);
                CPPUNIT_ASSERT_EQUAL_MESSAGE(locale + " " + path + ": " + page.body, 200, page.status);
                CPPUNIT_ASSERT_MESSAGE(locale + " " + path, contains(page.body, "dir=\"" + dir + "\""));
                CPPUNIT_ASSERT_MESSAGE(locale + " " + path, !contains(page.body, "<script>alert"));
                CPPUNIT_ASSERT_MESSAGE(locale + " " + path, !contains(page.body, "<img src=x"));
                CPPUNIT_ASSERT_MESSAGE(locale + " " + path, !contains(page.body, "<b>Accueil"));
                CPPUNIT_ASSERT_MESSAGE(locale + " " + path, !contains(page.body, "javascript:"));
            }
            CPPUNIT_ASSERT_MESSAGE(locale, contains(admin.get(kOutbox).body, "<h1>" + title + "</h1>"));
        }
        CPPUNIT_ASSERT(contains(admin.get(kTemplates).body, "&lt;script&gt;alert(1)"));
        CPPUNIT_ASSERT(contains(admin.get(kOutbox).body, "&lt;img src=x onerror=alert(2)&gt;"));
        CPPUNIT_ASSERT(contains(admin.get(kFlows).body, "&lt;b&gt;Accueil&lt;"));
    }

    // Issue 15 (6): a template has Meta's header and buttons besides its text; their variables
    // follow the text's kind, a link takes {{1}} at its end, and a refused form writes nothing.
    void templateHeaderAndButtonsAreCheckedAndStored() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        auto form = [](const std::string& header, const std::string& type1, const std::string& text1, const std::string& url1) {
            FormFields fields = templateForm("bienvenue", "fr", "Bonjour {{first_name}}, votre session {{programme}}.");
            fields.emplace_back("header", header);
            fields.emplace_back("button1_type", type1);
            fields.emplace_back("button1_text", text1);
            fields.emplace_back("button1_url", url1);
            fields.emplace_back("button2_type", "quick_reply");
            fields.emplace_back("button2_text", "Merci");
            fields.emplace_back("button2_url", "");
            return fields;
        };
        const std::string before = queryRows(*db, "SELECT COUNT(*) FROM whatsapp_templates");
        const std::pair<FormFields, std::string> refused[] = {
            {form("Session {{1}}", "url", "Suivi", "https://formation.example.dz/suivi/{{1}}"), "not both"},
            {form("{{first_name}} {{programme}}", "url", "Suivi", "https://x.dz/{{1}}"), "a header has at most one variable"},
            {form("Bienvenue", "url", "Suivi", "http://x.dz/{{1}}"), "Button 1 is incomplete"},
            {form("Bienvenue", "url", "", "https://x.dz/{{1}}"), "Button 1 is incomplete"},
            {form("Bienvenue", "url", "Suivi", "https://x.dz/{{code}}"), "a link takes one variable, {{1}}, at its end"},
            {form(std::string(61, 'x'), "", "", ""), "The header is longer than 60 characters."},
        };
        for (const auto& [fields, message] : refused) {
            const HttpResult result = admin.post(kTemplates, fields);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(message + ": " + result.body, 422, result.status);
            CPPUNIT_ASSERT_MESSAGE(message + " in " + result.body, contains(result.body, message));
        }
        CPPUNIT_ASSERT_EQUAL(before, queryRows(*db, "SELECT COUNT(*) FROM whatsapp_templates"));

        const HttpResult saved = admin.post(kTemplates, form("Bienvenue {{first_name}}", "url", "Suivi", "https://formation.example.dz/suivi/{{1}}"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(saved.body, 303, saved.status);
        CPPUNIT_ASSERT_EQUAL(std::string("Bienvenue {{first_name}}|[{\"text\":\"Suivi\",\"type\":\"url\",\"url\":\"https://formation.example.dz/suivi/{{1}}\"},"
                                         "{\"text\":\"Merci\",\"type\":\"quick_reply\"}]"),
                             queryRows(*db, "SELECT header, buttons FROM whatsapp_templates WHERE name = 'bienvenue'"));
        // The form shows them again; a template without them stores NULLs.
        const std::string page = admin.get(header(saved, "location")).body;
        CPPUNIT_ASSERT(contains(page, "name=\"header\" value=\"Bienvenue {{first_name}}\""));
        CPPUNIT_ASSERT(contains(page, "name=\"button1_url\" value=\"https://formation.example.dz/suivi/{{1}}\""));
        CPPUNIT_ASSERT(contains(page, "<option value=\"quick_reply\" selected>Quick reply</option>"));
        createTemplate(admin, "simple", "fr", "Bonjour");
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryRows(*db, "SELECT COUNT(*) FROM whatsapp_templates WHERE name = 'simple' AND header IS NULL AND buttons IS NULL"));
    }

    void templateFormChecksVariablesAndWritesNothingWhenRefused() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        const std::string existing = createTemplate(admin, "rappel", "fr", "Bonjour {{1}}, à {{2}}.");
        const std::string before = outboxState(*db);
        struct Case {
            FormFields form;
            std::string message;
        };
        const std::vector<Case> cases{
            {templateForm("", "fr", "Bonjour"), "The name is required."},
            {templateForm("Rappel Session", "fr", "Bonjour"), "The name may only hold lowercase letters"},
            {templateForm("rappel2", "french", "Bonjour"), "The language must be a code such as fr"},
            {templateForm("rappel2", "fr", "Bonjour {{prenom"), "The text is refused: &#39;{{&#39; without &#39;}}&#39; at character 9."},
            {templateForm("rappel2", "fr", "Bonjour {{1}} et {{3}}"), "The text is refused:"},
            {templateForm("rappel2", "fr", "Bonjour {{1}} {{nom}}"), "not both"},
            {templateForm("rappel2", "fr", "Bonjour {{ pré nom }}"), "is not a variable"},
            {templateForm("rappel2", "fr", "   "), "the body is empty"},
            {templateForm("rappel", "fr", "Bonjour"), "A template named rappel in fr exists already."},
            {{{"name", "rappel2"}, {"language", "fr"}, {"category", "spam"}, {"status", "active"}, {"body", "x"}}, "Choose a category"},
        };
        for (const Case& c : cases) {
            const HttpResult result = admin.post(kTemplates, c.form);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(c.message + ": " + result.body, 422, result.status);
            CPPUNIT_ASSERT_MESSAGE(c.message + " in " + result.body, contains(result.body, c.message));
        }
        // The form comes back with what was typed.
        const HttpResult kept = admin.post(kTemplates, templateForm("rappel2", "fr", "Bonjour {{prenom"));
        CPPUNIT_ASSERT(contains(kept.body, "value=\"rappel2\""));
        CPPUNIT_ASSERT(contains(kept.body, "Bonjour {{prenom</textarea>"));
        // Editing refuses the same way, and renaming onto another template too.
        createTemplate(admin, "relance", "fr", "Relance");
        const std::string middle = outboxState(*db);
        CPPUNIT_ASSERT_EQUAL(422, admin.post(kTemplates + "/" + existing, templateForm("rappel", "fr", "{{1}} {{3}}")).status);
        CPPUNIT_ASSERT_EQUAL(422, admin.post(kTemplates + "/" + existing, templateForm("relance", "fr", "ok")).status);
        CPPUNIT_ASSERT_EQUAL(404, admin.post(kTemplates + "/99999", templateForm("x", "fr", "ok")).status);
        CPPUNIT_ASSERT_EQUAL(404, admin.get(kTemplates + "/99999").status);
        CPPUNIT_ASSERT_EQUAL(middle, outboxState(*db));
        CPPUNIT_ASSERT(before != middle);

        // Without CSRF, or without whatsapp.templates.manage (agents do not hold it): 403, nothing written.
        CPPUNIT_ASSERT_EQUAL(403, admin.post(kTemplates, templateForm("neuf", "fr", "ok"), false).status);
        const AdminBrowser agent = signInAs(host, "agent@example.test", "agent");
        CPPUNIT_ASSERT_EQUAL(403, agent.get(kTemplates).status);
        CPPUNIT_ASSERT_EQUAL(403, agent.post(kTemplates, templateForm("neuf", "fr", "ok")).status);
        CPPUNIT_ASSERT_EQUAL(403, agent.post(kTemplates + "/" + existing, templateForm("rappel", "fr", "changed")).status);
        CPPUNIT_ASSERT_EQUAL(middle, outboxState(*db));

        // A good edit is saved and logged.
        const HttpResult saved = admin.post(kTemplates + "/" + existing, templateForm("rappel", "fr", "Bonjour {{1}} !"));
        CPPUNIT_ASSERT_EQUAL(303, saved.status);
        CPPUNIT_ASSERT_EQUAL(std::string("Bonjour {{1}} !"), queryText(*db, "SELECT body FROM whatsapp_templates WHERE id = " + existing));
        CPPUNIT_ASSERT(contains(queryRows(*db, "SELECT message FROM whatsapp_logs"), "template rappel (fr) changed by admin@example.test"));
    }

    void templatePreviewRendersSampleValues() {
        HostProcess host(withWebhookSecrets());
        host.start();
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        const std::string id = createTemplate(admin, "rappel", "fr", "Bonjour {{first_name}}, séance {{session}}.");
        const HttpResult form = admin.get(kTemplates + "/" + id);
        CPPUNIT_ASSERT(contains(form.body, "name=\"value.first_name\""));
        CPPUNIT_ASSERT(contains(form.body, "name=\"value.session\""));
        const HttpResult preview = admin.get(kTemplates + "/" + id + "?preview=1&value.first_name=Amina&value.session=%3Cb%3E3%3C%2Fb%3E");
        CPPUNIT_ASSERT_EQUAL(200, preview.status);
        CPPUNIT_ASSERT(contains(preview.body, "Bonjour Amina, séance &lt;b&gt;3&lt;&#x2F;b&gt;.") ||
                       contains(preview.body, "Bonjour Amina, séance &lt;b&gt;3&lt;/b&gt;."));
        const HttpResult missing = admin.get(kTemplates + "/" + id + "?preview=1&value.first_name=Amina");
        CPPUNIT_ASSERT(contains(missing.body, "Cannot render the preview:"));
        CPPUNIT_ASSERT(contains(missing.body, "session"));
    }

    void flowsSaveStepsAndRefuseUnknownTemplates() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        const std::string welcome = createTemplate(admin, "bienvenue", "fr", "Bienvenue {{full_name}}");
        const std::string reminder = createTemplate(admin, "rappel", "ar", "تذكير {{full_name}}");
        const std::string before = outboxState(*db);
        struct Case {
            FormFields form;
            std::string message;
        };
        const std::vector<Case> cases{
            {{{"name", ""}, {"trigger_event", "registration.confirmed"}, {"step_template", welcome}, {"step_delay", "0"}}, "The name is required"},
            {{{"name", "Accueil"}, {"trigger_event", "Registration Confirmed"}, {"step_template", welcome}}, "The trigger event is a lowercase name"},
            {{{"name", "Accueil"}, {"trigger_event", "registration.confirmed"}}, "A flow needs at least one step."},
            {{{"name", "Accueil"}, {"trigger_event", "registration.confirmed"}, {"step_template", welcome}, {"step_delay", "0"},
              {"step_template", "4242"}, {"step_delay", "10"}},
             "Step 2: there is no template 4242."},
            {{{"name", "Accueil"}, {"trigger_event", "registration.confirmed"}, {"step_template", ""}, {"step_delay", "10"}},
             "Step 1 has a delay but no template."},
            {{{"name", "Accueil"}, {"trigger_event", "registration.confirmed"}, {"step_template", welcome}, {"step_delay", "-5"}},
             "Step 1: the delay &quot;-5&quot; must be a whole number of minutes"},
        };
        for (const Case& c : cases) {
            const HttpResult result = admin.post(kFlows, c.form);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(c.message + ": " + result.body, 422, result.status);
            CPPUNIT_ASSERT_MESSAGE(c.message + " in " + result.body, contains(result.body, c.message));
        }
        CPPUNIT_ASSERT_EQUAL(before, outboxState(*db));

        const HttpResult created = admin.post(kFlows, {{"name", "Accueil"}, {"trigger_event", "registration.confirmed"},
                                                       {"step_template", welcome}, {"step_delay", "0"},
                                                       {"step_template", ""}, {"step_delay", ""},
                                                       {"step_template", reminder}, {"step_delay", "1440"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(created.body, 303, created.status);
        const std::string flowId = queryText(*db, "SELECT id FROM whatsapp_flows WHERE name = 'Accueil'");
        CPPUNIT_ASSERT_EQUAL(std::string("1|bienvenue|fr|0\n2|rappel|ar|86400"),
                             queryRows(*db, "SELECT position, template_name, language, delay_seconds FROM whatsapp_flow_steps "
                                            "WHERE flow_id = " + flowId + " ORDER BY position"));
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT active FROM whatsapp_flows WHERE id = " + flowId));
        // The edit form shows the steps with their templates chosen and delays in minutes.
        const std::string edit = admin.get(kFlows + "/" + flowId).body;
        CPPUNIT_ASSERT(contains(edit, "<option value=\"" + reminder + "\" selected>rappel (ar)</option>"));
        CPPUNIT_ASSERT(contains(edit, "value=\"1440\""));
        // A duplicate name is refused; an edit replaces the steps.
        CPPUNIT_ASSERT_EQUAL(422, admin.post(kFlows, {{"name", "Accueil"}, {"trigger_event", "x.y"}, {"step_template", welcome}}).status);
        CPPUNIT_ASSERT_EQUAL(303, admin.post(kFlows + "/" + flowId, {{"name", "Accueil"}, {"trigger_event", "registration.paid"},
                                                                    {"step_template", reminder}, {"step_delay", "30"}}).status);
        CPPUNIT_ASSERT_EQUAL(std::string("registration.paid|1|rappel|1800"),
                             queryRows(*db, "SELECT f.trigger_event, s.position, s.template_name, s.delay_seconds FROM whatsapp_flows f "
                                            "JOIN whatsapp_flow_steps s ON s.flow_id = f.id WHERE f.id = " + flowId));

        // Off and on again, with CSRF and whatsapp.outbox.manage only.
        CPPUNIT_ASSERT_EQUAL(403, admin.post(kFlows + "/" + flowId + "/deactivate", {}, false).status);
        CPPUNIT_ASSERT_EQUAL(403, admin.post(kFlows + "/" + flowId + "/activate", {}, false).status);
        CPPUNIT_ASSERT_EQUAL(403, admin.post(kFlows, {{"name", "Sans jeton"}, {"trigger_event", "a.b"}, {"step_template", welcome}}, false).status);
        const AdminBrowser viewer = signInAs(host, "viewer@example.test", "viewer");
        CPPUNIT_ASSERT_EQUAL(403, viewer.post(kFlows + "/" + flowId + "/deactivate", {}).status);
        CPPUNIT_ASSERT_EQUAL(403, viewer.get(kFlows).status);
        CPPUNIT_ASSERT_EQUAL(403, viewer.post(kFlows, {{"name", "Vue"}, {"trigger_event", "a.b"}, {"step_template", welcome}}).status);
        CPPUNIT_ASSERT_EQUAL(403, viewer.post(kFlows + "/" + flowId, {{"name", "Vue"}, {"trigger_event", "a.b"}, {"step_template", welcome}}).status);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_flows WHERE name IN ('Sans jeton', 'Vue')"));
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT active FROM whatsapp_flows WHERE id = " + flowId));
        CPPUNIT_ASSERT_EQUAL(303, admin.post(kFlows + "/" + flowId + "/deactivate", {}).status);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT active FROM whatsapp_flows WHERE id = " + flowId));
        CPPUNIT_ASSERT(contains(admin.get(kFlows + "?done=deactivated").body, "Flow deactivated."));
        CPPUNIT_ASSERT_EQUAL(303, admin.post(kFlows + "/" + flowId + "/activate", {}).status);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT active FROM whatsapp_flows WHERE id = " + flowId));
        CPPUNIT_ASSERT_EQUAL(404, admin.post(kFlows + "/777/activate", {}).status);
    }

    void outboxActionsNeedPermissionCsrfAndAPendingRow() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const std::string first = insertOutboxRow(*db, "+213555123456", "Bonjour Amina", "https://wa.me/213555123456?text=Bonjour%20Amina");
        const std::string second = insertOutboxRow(*db, "+213555000002", "Salam", "https://wa.me/213555000002?text=Salam", "flow");
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        const HttpResult list = admin.get(kOutbox);
        CPPUNIT_ASSERT(contains(list.body, "href=\"https:&#x2F;&#x2F;wa.me&#x2F;213555123456?text=Bonjour%20Amina\"") ||
                       contains(list.body, "href=\"https://wa.me/213555123456?text=Bonjour%20Amina\""));
        CPPUNIT_ASSERT(contains(list.body, "rel=\"noopener noreferrer\""));
        // Filters.
        const std::string flowOnly = admin.get(kOutbox + "?channel=flow").body;
        CPPUNIT_ASSERT(contains(flowOnly, "outbox-" + second) && !contains(flowOnly, "outbox-" + first));
        CPPUNIT_ASSERT_EQUAL(400, admin.get(kOutbox + "?status=done").status);

        const std::string before = outboxState(*db);
        CPPUNIT_ASSERT_EQUAL(403, admin.post(kOutbox + "/" + first + "/sent", {}, false).status);
        const AdminBrowser viewer = signInAs(host, "viewer@example.test", "viewer");
        CPPUNIT_ASSERT_EQUAL(403, viewer.get(kOutbox).status);
        CPPUNIT_ASSERT_EQUAL(403, viewer.post(kOutbox + "/" + first + "/sent", {}).status);
        CPPUNIT_ASSERT_EQUAL(403, viewer.post(kOutbox + "/" + first + "/cancel", {}).status);
        CPPUNIT_ASSERT_EQUAL(before, outboxState(*db));

        // Agents send by hand: they hold whatsapp.outbox.manage.
        const AdminBrowser agent = signInAs(host, "agent@example.test", "agent");
        const HttpResult sent = agent.post(kOutbox + "/" + first + "/sent", {});
        CPPUNIT_ASSERT_EQUAL(303, sent.status);
        CPPUNIT_ASSERT_EQUAL(std::string("sent"), queryText(*db, "SELECT status FROM whatsapp_outbox_messages WHERE id = " + first));
        CPPUNIT_ASSERT(contains(agent.get(header(sent, "location")).body, "Marked as sent."));
        CPPUNIT_ASSERT_EQUAL(303, agent.post(kOutbox + "/" + second + "/cancel", {}).status);
        CPPUNIT_ASSERT_EQUAL(std::string("cancelled"), queryText(*db, "SELECT status FROM whatsapp_outbox_messages WHERE id = " + second));
        // Only from pending: a second click is refused with the reason, and changes nothing.
        const std::string after = outboxState(*db);
        const HttpResult again = agent.post(kOutbox + "/" + first + "/cancel", {});
        CPPUNIT_ASSERT_EQUAL(409, again.status);
        CPPUNIT_ASSERT(contains(again.body, "is already &quot;Sent&quot;"));
        CPPUNIT_ASSERT_EQUAL(404, agent.post(kOutbox + "/31337/sent", {}).status);
        CPPUNIT_ASSERT_EQUAL(after, outboxState(*db));
        CPPUNIT_ASSERT(contains(queryRows(*db, "SELECT message FROM whatsapp_logs"), "outbox message " + first + " sent by agent@example.test"));
    }

    void logsFilterByLevelAndSource() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        {
            Poco::Data::Session session = db->session();
            session << "INSERT INTO whatsapp_logs (level, source, message, created_at) VALUES "
                       "('info', 'provider', 'queued <one>', 1764000000000), ('error', 'flow', 'step failed', 1764000001000)",
                Poco::Data::Keywords::now;
        }
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        const std::string all = admin.get(kLogs).body;
        CPPUNIT_ASSERT(contains(all, "queued &lt;one&gt;") && contains(all, "step failed"));
        const std::string errors = admin.get(kLogs + "?level=error").body;
        CPPUNIT_ASSERT(contains(errors, "step failed") && !contains(errors, "queued &lt;one&gt;"));
        const std::string provider = admin.get(kLogs + "?source=provider").body;
        CPPUNIT_ASSERT(!contains(provider, "step failed") && contains(provider, "queued &lt;one&gt;"));
        // Read-only diagnostics: viewers read the log, agents (who send by hand) do not.
        CPPUNIT_ASSERT_EQUAL(200, signInAs(host, "viewer@example.test", "viewer").get(kLogs).status);
        CPPUNIT_ASSERT_EQUAL(403, signInAs(host, "agent@example.test", "agent").get(kLogs).status);
        const HttpResult bad = admin.get(kLogs + "?level=debug");
        CPPUNIT_ASSERT_EQUAL(400, bad.status);
        CPPUNIT_ASSERT(contains(bad.body, "Unknown level &quot;debug&quot;"));
    }

    void expiredTokenFallbackSentByHandAndClearedByATest() {
        FakeGraphApi fake;
        HostOptions options = withWebhookSecrets();
        options.pluginDir = TAWASUL_TEST_PLUGIN_DIR;
        options.pluginsYaml = "    - webhook_receiver: {}\n    - contact_matcher: {}\n    - inbound_router: {}\n"
                              "    - cloud_api: { graph_url: \"" + fake.url() + "\", timeout_ms: 2000 }\n"
                              "    - outbox: {}\n    - outbound_probe: {}\n";
        options.extraYaml = "dispatch:\n  chain: [cloud_api, outbox]\n";
        options.settings.emplace_back("whatsapp.cloud.access_token", "EAAGexpiredToken0123456789");
        options.settings.emplace_back("whatsapp.cloud.phone_number_id", "100000000000001");
        HostProcess host(options);
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        createTemplate(admin, "rappel", "fr", "Bonjour {{first_name}}, rappel de votre séance.");

        fake.script({GraphReply::metaError(401, 190, "Error validating access token: Session has expired")});
        const HttpResult send = host.request("POST", "/test/send",
                                             "{\"phone\":\"+213 555 12 34 56\",\"template\":{\"name\":\"rappel\",\"language\":\"fr\","
                                             "\"components\":[{\"type\":\"body\",\"parameters\":[{\"name\":\"first_name\",\"value\":\"Amina\"}]}]}}");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(send.body, 200, send.status);
        const std::string messageId = Poco::JSON::Parser().parse(send.body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("message_id");
        for (int i = 0; i < 200 && queryText(*db, "SELECT COUNT(*) FROM whatsapp_outbox_messages") == "0"; ++i) usleep(50000);
        CPPUNIT_ASSERT_EQUAL(std::string("queued"), queryText(*db, "SELECT status FROM whatsapp_messages WHERE id = " + messageId));

        // Settings: the alert and the unhealthy primary, the outbox behind it.
        const std::string settings = admin.get(kSettings).body;
        CPPUNIT_ASSERT_MESSAGE(settings, contains(settings, "cloud_api (190)"));
        CPPUNIT_ASSERT(contains(settings, "badge-unhealthy"));
        CPPUNIT_ASSERT(std::regex_search(settings, std::regex("<strong dir=\"ltr\" translate=\"no\">outbox</strong> <span class=\"role\">fallback</span>")));
        CPPUNIT_ASSERT(!contains(settings, "EAAGexpiredToken0123456789"));

        // The outbox: the rendered template, its wa.me link, sent by hand.
        const std::string outboxId = queryText(*db, "SELECT id FROM whatsapp_outbox_messages WHERE message_id = " + messageId);
        const std::string outbox = admin.get(kOutbox + "?status=pending").body;
        CPPUNIT_ASSERT(contains(outbox, "Bonjour Amina, rappel de votre séance."));
        CPPUNIT_ASSERT(contains(outbox, "wa.me"));
        CPPUNIT_ASSERT_EQUAL(303, admin.post(kOutbox + "/" + outboxId + "/sent", {}).status);
        CPPUNIT_ASSERT_EQUAL(std::string("sent|sent"),
                             queryRows(*db, "SELECT o.status, m.status FROM whatsapp_outbox_messages o JOIN whatsapp_messages m "
                                            "ON m.id = o.message_id WHERE o.id = " + outboxId));

        // A connection test that Meta accepts clears the state and resolves the alert.
        CPPUNIT_ASSERT_EQUAL(303, admin.post(kSettings + "/test", {}).status);
        const std::string after = admin.get(kSettings).body;
        CPPUNIT_ASSERT_MESSAGE(after, contains(after, "Connected: Meta accepts the access token for the phone number ID 100000000000001."));
        CPPUNIT_ASSERT(contains(after, "No open alerts."));
        CPPUNIT_ASSERT(!contains(after, "badge-unhealthy"));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_alerts WHERE resolved_at IS NULL"));
        bool tested = false;
        for (const GraphRequest& request : fake.requests())
            tested |= request.method == "GET" && contains(request.path, "/100000000000001") &&
                      header(HttpResult{0, "", request.headers}, "authorization") == "Bearer EAAGexpiredToken0123456789";
        CPPUNIT_ASSERT(tested);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(OutboxPagesTest);
