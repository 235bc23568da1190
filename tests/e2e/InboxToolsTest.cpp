// The agent's tools over HTTP, on the real binary with the fake Graph API standing in for Meta:
// internal notes (stored with author and time, shown in the timeline in order, pushed to the
// conversation's open pages, never reaching the Graph API or the outbox; a read-only role sees
// them and may not write one; an empty or over-long note is a 422 with nothing stored) and canned
// replies (their page under whatsapp.replies.manage: create, edit, delete; a bad or duplicate
// shortcut and an unknown field are 422s with nothing written; the conversation offers them
// filled for its contact, in the page's language, escaped).
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <thread>

#include <Poco/Data/Session.h>

#include "AdminSession.hpp"
#include "FakeGraphApi.hpp"
#include "HostProcess.hpp"
#include "LiveStream.hpp"
#include "WebhookSupport.hpp"
#include "whatsapp/MetaPayloads.hpp"

using namespace tawasul;
using namespace tawasul::test;

namespace {

const std::string kConversation = "/admin/messaging/whatsapp/conversations/";
const std::string kCanned = "/admin/messaging/whatsapp/canned-replies";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string repeat(const std::string& piece, std::size_t times) {
    std::string out;
    for (std::size_t i = 0; i < times; ++i) out += piece;
    return out;
}

class ToolsHost {
public:
    ToolsHost() : fake_(std::make_unique<FakeGraphApi>()) {
        HostOptions options = withWebhookSecrets();
        options.pluginsYaml =
            "    - webhook_receiver: {}\n    - contact_matcher: {}\n    - inbound_router: {}\n"
            "    - cloud_api: { graph_url: \"" + fake_->url() + "\", api_version: v21.0, messages_per_second: 1000, timeout_ms: 1000 }\n"
            "    - outbox: {}\n    - admin_inbox: {}\n";
        options.extraYaml = "dispatch:\n  chain: [cloud_api, outbox]\n";
        options.settings.emplace_back("whatsapp.cloud.access_token", "test-token-1");
        options.settings.emplace_back("whatsapp.cloud.phone_number_id", "100000000000001");
        host_ = std::make_unique<HostProcess>(options);
        host_->start();
        db_ = openDatabase(host_->databaseUrl());
    }

    HostProcess& host() { return *host_; }
    FakeGraphApi& fake() { return *fake_; }
    std::string sql(const std::string& query) { return queryRows(*db_, query); }

    std::int64_t customerWrites(const std::string& wamid, const std::string& text, const std::string& name = "Amina Benali") {
        host::InboundText message;
        message.from = "213555123456";
        message.name = name;
        message.wamid = wamid;
        message.timestamp = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        message.text = text;
        CPPUNIT_ASSERT_EQUAL(200, postSigned(*host_, host::inboundTextBody(message)).status);
        waitForProcessing(*db_);
        return std::stoll(queryText(*db_, "SELECT conversation_id FROM whatsapp_messages WHERE wa_message_id = '" + wamid + "'"));
    }

private:
    std::unique_ptr<FakeGraphApi> fake_;
    std::unique_ptr<HostProcess> host_;
    std::unique_ptr<host::SqlDatabase> db_;
};

// Nothing the Graph API received carries `text`, and no message went out by any provider.
void nothingSent(ToolsHost& h, const std::string& text) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a send would be a job: give it time to show
    for (const auto& request : h.fake().requests()) CPPUNIT_ASSERT_MESSAGE(request.body, !contains(request.body, text));
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), h.fake().sendCount());
    CPPUNIT_ASSERT_EQUAL(std::string("0"), h.sql("SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'out'"));
    CPPUNIT_ASSERT_EQUAL(std::string("0"), h.sql("SELECT COUNT(*) FROM whatsapp_outbox_messages"));
}

}  // namespace

class InboxToolsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(InboxToolsTest);
    CPPUNIT_TEST(aNoteIsStoredShownInOrderAndNeverSent);
    CPPUNIT_TEST(aReadOnlyRoleSeesNotesAndMayNotWriteOne);
    CPPUNIT_TEST(anEmptyOrOverLongNoteIsRefused);
    CPPUNIT_TEST(cannedRepliesAreManagedOnTheirPage);
    CPPUNIT_TEST(badCannedRepliesAreRefusedWithNothingWritten);
    CPPUNIT_TEST(theConversationOffersCannedRepliesFilledForItsContact);
    CPPUNIT_TEST_SUITE_END();

public:
    void aNoteIsStoredShownInOrderAndNeverSent() {
        ToolsHost h;
        const AdminBrowser agent = signInAs(h.host(), "agent@example.dz", "agent");
        const AdminBrowser colleague = signInAs(h.host(), "colleague@example.dz", "agent");
        const std::int64_t id = h.customerWrites("wamid.NOTE1", "Bonjour, j'ai payé hier");
        const std::string url = kConversation + std::to_string(id);
        CPPUNIT_ASSERT_EQUAL(200, agent.get(url).status);  // opened (the mark-read goes to the Graph API: not a send)
        // A colleague has the conversation open: the note reaches their page live.
        LiveStream live(h.host().port(), "/admin/messaging/whatsapp/live?conversation=" + std::to_string(id), colleague.cookie());
        CPPUNIT_ASSERT(live.waitFor("event: hello"));

        const HttpResult posted = agent.post(url + "/notes", {{"note", "<b>Reçu vérifié</b>, à rappeler demain"}});
        CPPUNIT_ASSERT_EQUAL(303, posted.status);
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", posted.location());
        CPPUNIT_ASSERT_EQUAL(std::string("1|<b>Reçu vérifié</b>, à rappeler demain|User agent"),
                             h.sql("SELECT COUNT(*), MIN(body), MIN(author_name) FROM whatsapp_conversation_notes WHERE conversation_id = " +
                                   std::to_string(id) + " AND author_user_id = (SELECT id FROM users WHERE email = 'agent@example.dz') AND created_at > 0"));
        CPPUNIT_ASSERT_MESSAGE(live.text(), live.waitFor("\"reason\":\"note\""));
        nothingSent(h, "rappeler demain");

        // The customer writes again: the note stands between the two messages, styled as a note,
        // labelled, with its author; the markup in it is text.
        // (Meta stamps a message to the second: the next one comes a second later, so it is after the note.)
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
        h.customerWrites("wamid.NOTE2", "Alors, c'est bon ?");
        // The timeline only: the list beside it (desktop's first pane) shows the latest message too.
        const std::string whole = colleague.get(url).body;
        const std::string page = whole.substr(whole.find("<ol id=\"timeline\""));
        const auto first = page.find("j&#39;ai payé hier") != std::string::npos ? page.find("j&#39;ai payé hier") : page.find("j'ai payé hier");
        const auto note = page.find("<li class=\"note\"");
        const auto second = page.find("c&#39;est bon") != std::string::npos ? page.find("c&#39;est bon") : page.find("c'est bon");
        CPPUNIT_ASSERT_MESSAGE(page, first != std::string::npos && note != std::string::npos && second != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(page, first < note && note < second);
        const std::string item = page.substr(note, page.find("</li>", note) - note);
        CPPUNIT_ASSERT_MESSAGE(item, contains(item, "class=\"note-label\">Note<"));
        CPPUNIT_ASSERT_MESSAGE(item, contains(item, "User agent"));
        CPPUNIT_ASSERT_MESSAGE(item, contains(item, "&lt;b&gt;Reçu vérifié&lt;/b&gt;"));
        CPPUNIT_ASSERT_MESSAGE(item, contains(item, "<time>"));
        CPPUNIT_ASSERT(!contains(page, "<b>Reçu"));
        // A note is no message: the conversation's preview in the list is still the customer's.
        CPPUNIT_ASSERT(!contains(colleague.get("/admin/inbox").body, "Reçu vérifié"));
        nothingSent(h, "rappeler demain");
    }

    void aReadOnlyRoleSeesNotesAndMayNotWriteOne() {
        ToolsHost h;
        const AdminBrowser agent = signInAs(h.host(), "agent@example.dz", "agent");
        const AdminBrowser viewer = signInAs(h.host(), "viewer@example.dz", "viewer");
        const std::int64_t id = h.customerWrites("wamid.NOTE3", "Bonjour");
        const std::string url = kConversation + std::to_string(id);
        CPPUNIT_ASSERT_EQUAL(303, agent.post(url + "/notes", {{"note", "Client important"}}).status);

        const HttpResult page = viewer.get(url);
        CPPUNIT_ASSERT_EQUAL(200, page.status);
        CPPUNIT_ASSERT(contains(page.body, "Client important"));
        CPPUNIT_ASSERT(!contains(page.body, "/notes\""));
        CPPUNIT_ASSERT(!contains(page.body, "name=\"note\""));
        CPPUNIT_ASSERT_EQUAL(403, viewer.post(url + "/notes", {{"note", "Je ne peux pas"}}).status);
        // An agent without the CSRF token, or with another session's, is refused too.
        CPPUNIT_ASSERT_EQUAL(403, agent.post(url + "/notes", {{"note", "Sans jeton"}}, false).status);
        CPPUNIT_ASSERT_EQUAL(403, h.host().request("POST", url + "/notes", "_csrf=" + viewer.csrf() + "&note=Autre+jeton",
                                                   {{"Cookie", agent.cookie()}, {"Content-Type", "application/x-www-form-urlencoded"}})
                                      .status);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), h.sql("SELECT COUNT(*) FROM whatsapp_conversation_notes"));
        // Without a session: the sign-in page, nothing written.
        CPPUNIT_ASSERT_EQUAL(302, h.host().request("POST", url + "/notes", "note=x", {{"Content-Type", "application/x-www-form-urlencoded"}}).status);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), h.sql("SELECT COUNT(*) FROM whatsapp_conversation_notes"));
    }

    void anEmptyOrOverLongNoteIsRefused() {
        ToolsHost h;
        const AdminBrowser agent = signInAs(h.host(), "agent@example.dz", "agent");
        const std::int64_t id = h.customerWrites("wamid.NOTE4", "Bonjour");
        const std::string url = kConversation + std::to_string(id);

        const HttpResult empty = agent.post(url + "/notes", {{"note", "  \r\n  "}});
        CPPUNIT_ASSERT_EQUAL(422, empty.status);
        CPPUNIT_ASSERT_MESSAGE(empty.body, contains(empty.body, "Write the note first."));
        const HttpResult missing = agent.post(url + "/notes", {});
        CPPUNIT_ASSERT_EQUAL(422, missing.status);
        const std::string tooLong = repeat("é", 4001);
        const HttpResult longNote = agent.post(url + "/notes", {{"note", tooLong}});
        CPPUNIT_ASSERT_EQUAL(422, longNote.status);
        CPPUNIT_ASSERT_MESSAGE(longNote.body, contains(longNote.body, "The note is too long: 4,000 characters at most.") ||
                                                  contains(longNote.body, "The note is too long: 4000 characters at most."));
        CPPUNIT_ASSERT_MESSAGE("what was typed is kept", contains(longNote.body, tooLong));
        CPPUNIT_ASSERT(contains(longNote.body, "aria-invalid=\"true\" aria-describedby=\"note-error\""));
        const HttpResult notText = agent.post(url + "/notes", {{"note", std::string("abc\xC3(def")}});  // not UTF-8
        CPPUNIT_ASSERT_EQUAL(422, notText.status);
        CPPUNIT_ASSERT_EQUAL(404, agent.post(kConversation + "999999/notes", {{"note", "Perdue"}}).status);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), h.sql("SELECT COUNT(*) FROM whatsapp_conversation_notes"));
        // 4,000 characters is the cap, not less.
        CPPUNIT_ASSERT_EQUAL(303, agent.post(url + "/notes", {{"note", repeat("é", 4000)}}).status);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), h.sql("SELECT COUNT(*) FROM whatsapp_conversation_notes"));
        nothingSent(h, "éééé");
    }

    void cannedRepliesAreManagedOnTheirPage() {
        ToolsHost h;
        const AdminBrowser agent = signInAs(h.host(), "agent@example.dz", "agent");
        const AdminBrowser viewer = signInAs(h.host(), "viewer@example.dz", "viewer");
        const AdminBrowser admin = signInAs(h.host(), "admin@example.dz", "admin");
        // The page and its menu entry: for the roles that hold whatsapp.replies.manage (migration 0018).
        const HttpResult list = agent.get(kCanned);
        CPPUNIT_ASSERT_EQUAL(200, list.status);
        CPPUNIT_ASSERT(contains(list.body, "No canned reply yet."));
        CPPUNIT_ASSERT(contains(list.body, "href=\"" + kCanned + "\""));
        CPPUNIT_ASSERT_EQUAL(200, admin.get(kCanned).status);
        CPPUNIT_ASSERT_EQUAL(403, viewer.get(kCanned).status);
        CPPUNIT_ASSERT(!contains(viewer.get("/admin/inbox").body, "href=\"" + kCanned + "\""));
        CPPUNIT_ASSERT_EQUAL(403, viewer.post(kCanned, {{"title", "x"}, {"shortcut", "x"}, {"text_fr", "x"}}).status);
        CPPUNIT_ASSERT_EQUAL(403, agent.post(kCanned, {{"title", "x"}, {"shortcut", "x"}, {"text_fr", "x"}}, false).status);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), h.sql("SELECT COUNT(*) FROM whatsapp_canned_replies"));

        CPPUNIT_ASSERT_EQUAL(200, agent.get(kCanned + "/new").status);
        const HttpResult created = agent.post(kCanned, {{"title", "Horaires <d'ouverture>"}, {"shortcut", "/Horaires"},
                                                        {"text_en", "Hello {{first_name}}, we are open 8 to 5."},
                                                        {"text_fr", "Bonjour {{first_name}}, nous sommes ouverts de 8 h à 17 h."},
                                                        {"text_ar", ""}});
        CPPUNIT_ASSERT_EQUAL(303, created.status);
        CPPUNIT_ASSERT_EQUAL(kCanned + "?done=1", created.location());
        CPPUNIT_ASSERT_EQUAL(std::string("horaires|Horaires <d'ouverture>|1"),
                             h.sql("SELECT shortcut, title, CASE WHEN body_ar IS NULL THEN 1 ELSE 0 END FROM whatsapp_canned_replies"));
        const std::string id = h.sql("SELECT id FROM whatsapp_canned_replies");
        const std::string listed = agent.get(kCanned).body;
        CPPUNIT_ASSERT(contains(listed, "/horaires"));
        CPPUNIT_ASSERT(contains(listed, "Horaires &lt;d"));
        CPPUNIT_ASSERT(!contains(listed, "<d'ouverture>"));
        CPPUNIT_ASSERT_MESSAGE(listed, contains(listed, "Bonjour <code class=\"field\" dir=\"ltr\" translate=\"no\">{{first_name}}</code>, nous"));

        // Edit: the form holds what is stored; a change is saved.
        const HttpResult form = agent.get(kCanned + "/" + id);
        CPPUNIT_ASSERT_EQUAL(200, form.status);
        CPPUNIT_ASSERT(contains(form.body, "value=\"horaires\""));
        CPPUNIT_ASSERT_EQUAL(303, agent.post(kCanned + "/" + id, {{"title", "Nos horaires"}, {"shortcut", "horaires"}, {"text_ar", "مرحبًا {{name}}"}}).status);
        CPPUNIT_ASSERT_EQUAL(std::string("Nos horaires|1|1|مرحبًا {{name}}"),
                             h.sql("SELECT title, CASE WHEN body_en IS NULL THEN 1 ELSE 0 END, CASE WHEN body_fr IS NULL THEN 1 ELSE 0 END, body_ar "
                                   "FROM whatsapp_canned_replies"));
        CPPUNIT_ASSERT_EQUAL(404, agent.get(kCanned + "/999999").status);
        CPPUNIT_ASSERT_EQUAL(404, agent.get(kCanned + "/abc").status);
        CPPUNIT_ASSERT_EQUAL(404, agent.post(kCanned + "/999999", {{"title", "x"}, {"shortcut", "x"}, {"text_fr", "x"}}).status);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), h.sql("SELECT COUNT(*) FROM whatsapp_canned_replies"));

        // Delete: the viewer may not, the agent may, once.
        CPPUNIT_ASSERT_EQUAL(403, viewer.post(kCanned + "/" + id + "/delete", {}).status);
        CPPUNIT_ASSERT_EQUAL(kCanned + "?done=1", agent.post(kCanned + "/" + id + "/delete", {}).location());
        CPPUNIT_ASSERT_EQUAL(std::string("0"), h.sql("SELECT COUNT(*) FROM whatsapp_canned_replies"));
        CPPUNIT_ASSERT_EQUAL(kCanned + "?error=not_found", agent.post(kCanned + "/" + id + "/delete", {}).location());
    }

    void badCannedRepliesAreRefusedWithNothingWritten() {
        ToolsHost h;
        const AdminBrowser agent = signInAs(h.host(), "agent@example.dz", "agent");
        CPPUNIT_ASSERT_EQUAL(303, agent.post(kCanned, {{"title", "Adresse"}, {"shortcut", "adresse"}, {"text_fr", "12 rue Didouche Mourad"}}).status);
        const std::string before = h.sql("SELECT id, title, shortcut, body_fr, updated_at FROM whatsapp_canned_replies");
        struct Case {
            FormFields form;
            std::string message;
        };
        const std::vector<Case> cases{
            {{{"title", "Deux mots"}, {"shortcut", "deux mots"}, {"text_fr", "x"}}, "The shortcut must be one word"},
            {{{"title", "Accent"}, {"shortcut", "café"}, {"text_fr", "x"}}, "The shortcut must be one word"},
            {{{"title", "Vide"}, {"shortcut", ""}, {"text_fr", "x"}}, "Give it a shortcut."},
            {{{"title", "Long"}, {"shortcut", repeat("a", 31)}, {"text_fr", "x"}}, "The shortcut is too long: 30 characters at most."},
            {{{"title", "Copie"}, {"shortcut", "ADRESSE"}, {"text_fr", "Autre"}}, "Another canned reply already has this shortcut."},
            {{{"title", "Champ"}, {"shortcut", "champ"}, {"text_fr", "Bonjour {{email}}"}}, "The text in French has an unknown field, {{email}}."},
            {{{"title", "Mal"}, {"shortcut", "mal"}, {"text_en", "Hello {{name"}}, "The text in English has a field that is not written as {{name}}."},
            {{{"title", "Rien"}, {"shortcut", "rien"}, {"text_en", " "}, {"text_fr", ""}}, "Write the text in at least one language."},
            {{{"title", " "}, {"shortcut", "titre"}, {"text_fr", "x"}}, "Give it a title."},
        };
        for (const Case& c : cases) {
            const HttpResult refused = agent.post(kCanned, c.form);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(c.message, 422, refused.status);
            CPPUNIT_ASSERT_MESSAGE(c.message + "\n" + refused.body, contains(refused.body, c.message));
        }
        // A form sent back keeps what was typed, escaped.
        const HttpResult kept = agent.post(kCanned, {{"title", "<script>x</script>"}, {"shortcut", "deux mots"}, {"text_fr", "Bonjour {{ville}}"}});
        CPPUNIT_ASSERT_EQUAL(422, kept.status);
        CPPUNIT_ASSERT_MESSAGE(kept.body.substr(kept.body.find("canned-title"), 300), contains(kept.body, "&lt;script&gt;x&lt;/script&gt;"));
        CPPUNIT_ASSERT(!contains(kept.body, "<script>x"));
        CPPUNIT_ASSERT(contains(kept.body, "Bonjour {{ville}}"));
        CPPUNIT_ASSERT(contains(kept.body, "{{ville}}"));
        // Moving an existing reply onto another's shortcut, too.
        CPPUNIT_ASSERT_EQUAL(303, agent.post(kCanned, {{"title", "Prix"}, {"shortcut", "prix"}, {"text_en", "It costs 12,000 DA."}}).status);
        const std::string prix = h.sql("SELECT id FROM whatsapp_canned_replies WHERE shortcut = 'prix'");
        const HttpResult moved = agent.post(kCanned + "/" + prix, {{"title", "Prix"}, {"shortcut", "adresse"}, {"text_en", "It costs 12,000 DA."}});
        CPPUNIT_ASSERT_EQUAL(422, moved.status);
        CPPUNIT_ASSERT(contains(moved.body, "Another canned reply already has this shortcut."));
        CPPUNIT_ASSERT_EQUAL(before, h.sql("SELECT id, title, shortcut, body_fr, updated_at FROM whatsapp_canned_replies WHERE shortcut = 'adresse'"));
        CPPUNIT_ASSERT_EQUAL(std::string("2"), h.sql("SELECT COUNT(*) FROM whatsapp_canned_replies"));
        // In French, the page says it in French.
        agent.setLocale("fr");
        const HttpResult french = agent.post(kCanned, {{"title", "Copie"}, {"shortcut", "adresse"}, {"text_fr", "x"}});
        CPPUNIT_ASSERT_EQUAL(422, french.status);
        CPPUNIT_ASSERT_MESSAGE(french.body, contains(french.body, "Une autre réponse type a déjà ce raccourci."));
    }

    void theConversationOffersCannedRepliesFilledForItsContact() {
        ToolsHost h;
        const AdminBrowser agent = signInAs(h.host(), "agent@example.dz", "agent");
        const AdminBrowser viewer = signInAs(h.host(), "viewer@example.dz", "viewer");
        CPPUNIT_ASSERT_EQUAL(303, agent.post(kCanned, {{"title", "Accueil \"VIP\""}, {"shortcut", "accueil"},
                                                       {"text_en", "Hello {{name}}, we will call {{phone}}."},
                                                       {"text_fr", "Bonjour {{first_name}}, nous appellerons le {{phone}}."}})
                                      .status);
        CPPUNIT_ASSERT_EQUAL(303, agent.post(kCanned, {{"title", "Arabe"}, {"shortcut", "salam"}, {"text_ar", "مرحبًا {{first_name}}"}}).status);
        const std::int64_t id = h.customerWrites("wamid.CANNED1", "Bonjour", "Amina <Benali>");
        const std::string url = kConversation + std::to_string(id);

        // The page's language (English here), the contact's fields filled, every value escaped.
        const std::string page = agent.get(url).body;
        CPPUNIT_ASSERT_MESSAGE(page, contains(page, "data-shortcut=\"accueil\""));
        CPPUNIT_ASSERT_MESSAGE(page, contains(page, "data-text=\"Hello Amina &lt;Benali&gt;, we will call +213555123456.\""));
        CPPUNIT_ASSERT_MESSAGE(page, contains(page, "data-title=\"Accueil &quot;VIP&quot;\"") || contains(page, "data-title=\"Accueil &#34;VIP&#34;\""));
        // Only an Arabic text: that one, whatever the page's language.
        CPPUNIT_ASSERT_MESSAGE(page, contains(page, "data-text=\"مرحبًا Amina\""));
        CPPUNIT_ASSERT(!contains(page, "<Benali>"));
        CPPUNIT_ASSERT(contains(page, "canned.js"));
        agent.setLocale("fr");
        const std::string french = agent.get(url).body;
        CPPUNIT_ASSERT_MESSAGE(french, contains(french, "data-text=\"Bonjour Amina, nous appellerons le +213555123456.\""));
        // A read-only role has no reply box, and so no canned replies.
        const std::string viewed = viewer.get(url).body;
        CPPUNIT_ASSERT(!contains(viewed, "data-shortcut="));
        nothingSent(h, "appellerons");
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(InboxToolsTest);
