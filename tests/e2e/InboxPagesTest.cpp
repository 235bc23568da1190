// The inbox over HTTP, on the real binary with all six plugins and the fake Graph API standing in
// for Meta: signed-in users open the inbox and a conversation, reply (once, however often the form
// is sent), assign, resolve, reopen, create and link B2B leads, each action under its own
// permission and CSRF; what customers write is shown as text, never as markup; the live stream
// delivers new messages and resumes from Last-Event-ID; legacy addresses redirect. The B2B lead
// pages (list, one lead, status, notes, unlink) and the summary page behind every match link.
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <regex>
#include <sstream>
#include <thread>
#include <tuple>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "AdminSession.hpp"
#include "FakeGraphApi.hpp"
#include "HostProcess.hpp"
#include "LiveStream.hpp"
#include "whatsapp/MetaPayloads.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;

namespace {

const std::string kInbox = "/admin/messaging/whatsapp/inbox";
const std::string kConversation = "/admin/messaging/whatsapp/conversations/";
const std::string kCustomer = "213555123456";
const std::string kLeads = "/admin/b2b-leads";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::int64_t nowSeconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string encode(const std::string& text) {
    std::string out;
    Poco::URI::encode(text, "&=+?#%@/;:$,<>\"' ", out);
    return out;
}

std::string::size_type countOf(const std::string& text, const std::string& part) {
    std::string::size_type count = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++count;
    return count;
}

// A JSON text with every object's members in name order (Poco keeps insertion order otherwise).
std::string sortedJson(const std::string& json) {
    std::ostringstream out;
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var value = parser.parse(json);
    std::function<void(const Poco::Dynamic::Var&)> write = [&](const Poco::Dynamic::Var& v) {
        if (v.type() == typeid(Poco::JSON::Object::Ptr)) {
            const auto object = v.extract<Poco::JSON::Object::Ptr>();
            std::vector<std::string> names;
            object->getNames(names);
            std::sort(names.begin(), names.end());
            out << '{';
            for (std::size_t i = 0; i < names.size(); ++i) {
                out << (i ? "," : "") << '"' << names[i] << "\":";
                write(object->get(names[i]));
            }
            out << '}';
        } else if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
            const auto array = v.extract<Poco::JSON::Array::Ptr>();
            out << '[';
            for (std::size_t i = 0; i < array->size(); ++i) {
                out << (i ? "," : "");
                write(array->get(static_cast<unsigned>(i)));
            }
            out << ']';
        } else {
            out << '"' << v.convert<std::string>() << '"';
        }
    };
    write(value);
    return out.str();
}

std::string firstMatch(const std::string& text, const std::string& pattern) {
    std::smatch match;
    if (!std::regex_search(text, match, std::regex(pattern))) return "";
    return match[1];
}

// A form body as the pages send it ("a=1&b=2", already encoded) into the helper's fields.
FormFields fieldsOf(const std::string& form) {
    FormFields fields;
    std::istringstream in(form);
    std::string pair;
    while (std::getline(in, pair, '&')) {
        const auto eq = pair.find('=');
        std::string name, value;
        Poco::URI::decode(pair.substr(0, eq), name);
        Poco::URI::decode(eq == std::string::npos ? "" : pair.substr(eq + 1), value);
        std::replace(value.begin(), value.end(), '+', ' ');
        fields.emplace_back(name, value);
    }
    return fields;
}

using User = AdminBrowser;

class InboxHost {
public:
    explicit InboxHost(const std::string& chain = "[cloud_api, outbox]") : fake_(std::make_unique<FakeGraphApi>()) {
        HostOptions options = withWebhookSecrets();
        options.pluginsYaml =
            "    - webhook_receiver: {}\n    - contact_matcher: {}\n    - inbound_router: {}\n"
            "    - cloud_api: { graph_url: \"" + fake_->url() + "\", api_version: v21.0, messages_per_second: 1000, timeout_ms: 1000 }\n"
            "    - outbox: {}\n    - admin_inbox: {}\n";
        options.extraYaml = "dispatch:\n  chain: " + chain + "\n";
        options.settings.emplace_back("whatsapp.cloud.access_token", "test-token-1");
        options.settings.emplace_back("whatsapp.cloud.phone_number_id", "100000000000001");
        host_ = std::make_unique<HostProcess>(options);
        host_->start();
        db_ = openDatabase(host_->databaseUrl());
    }

    HostProcess& host() { return *host_; }
    FakeGraphApi& fake() { return *fake_; }
    sdk::Database& db() { return *db_; }

    void addUser(const std::string& email, const std::string& role) { test::addUser(*host_, email, role, "inbox-test-password"); }
    User newUser(const std::string& email, const std::string& role) { return signInAs(*host_, email, role); }
    HttpResult get(const User& user, const std::string& path) { return user.get(path); }
    // A form POST as the page sends it: the session's CSRF token in the `_csrf` field.
    HttpResult post(const User& user, const std::string& path, const std::string& form) { return user.post(path, fieldsOf(form)); }

    // The customer writes `text` (at `secondsAgo`); returns the conversation id once processed.
    std::int64_t customerWrites(const std::string& wamid, const std::string& text, std::int64_t secondsAgo = 0,
                                const std::string& name = "Amina Benali", const std::string& from = kCustomer) {
        host::InboundText message;
        message.from = from;
        message.name = name;
        message.wamid = wamid;
        message.timestamp = nowSeconds() - secondsAgo;
        message.text = text;
        const auto response = postSigned(*host_, host::inboundTextBody(message));
        CPPUNIT_ASSERT_EQUAL(200, response.status);
        waitForProcessing(*db_);
        return std::stoll(queryText(*db_, "SELECT conversation_id FROM whatsapp_messages WHERE wa_message_id = '" + wamid + "'"));
    }

    std::string sql(const std::string& query) { return queryRows(*db_, query); }
    void exec(const std::string& statement) {
        Poco::Data::Session session = db_->session();
        session << statement, Poco::Data::Keywords::now;
    }

    void waitFor(const std::string& query, const std::string& expected, int seconds = 30) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
        std::string last;
        while (std::chrono::steady_clock::now() < deadline) {
            last = sql(query);
            if (last == expected) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        CPPUNIT_ASSERT_EQUAL_MESSAGE(query, expected, last);
    }

private:
    std::unique_ptr<FakeGraphApi> fake_;
    std::unique_ptr<HostProcess> host_;
    std::unique_ptr<host::SqlDatabase> db_;
};


}  // namespace

class InboxPagesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(InboxPagesTest);
    CPPUNIT_TEST(inboxListsFiltersAndShowsMarkupAsText);
    CPPUNIT_TEST(replyIsSentOnceAndShowsItsTicks);
    CPPUNIT_TEST(eachActionNeedsItsPermissionAndTheCsrfToken);
    CPPUNIT_TEST(expiredTokenIsShownWhereAgentsReply);
    CPPUNIT_TEST(assignResolveReopenAndLeads);
    CPPUNIT_TEST(closedWindowOffersTemplatesAndRefusesFreeText);
    CPPUNIT_TEST(namedTemplateVariablesAreAskedPreviewedAndSent);
    CPPUNIT_TEST(aRefusedTemplateShowsMetasReason);
    CPPUNIT_TEST(liveStreamPushesAndResumes);
    CPPUNIT_TEST(legacyAddressesRedirectAndArabicIsRightToLeft);
    CPPUNIT_TEST(demoSeedOnlyOnAFreshDatabase);
    CPPUNIT_TEST(leadPageListsChangesNotesAndUnlinks);
    CPPUNIT_TEST(leadPagesNeedThePermissionAndTheCsrfToken);
    CPPUNIT_TEST(everyMatchLinkLeadsToAPage);
    CPPUNIT_TEST(frenchAndArabicPagesSayItInTheirWords);
    CPPUNIT_TEST(aFailedSendIsRetriedOnceOrSentByWaMe);
    CPPUNIT_TEST(typingSendsMetasReadCallWithTheIndicator);
    CPPUNIT_TEST(theListBesideTheConversationKeepsItsFilters);
    CPPUNIT_TEST_SUITE_END();

public:
    void inboxListsFiltersAndShowsMarkupAsText() {
        InboxHost h;
        const User agent = h.newUser("agent@example.dz", "agent");
        const std::int64_t id = h.customerWrites("wamid.XSS1", "<script>alert('text')</script> bonjour", 0, "<script>alert('name')</script>");
        h.customerWrites("wamid.OTHER", "Salam", 0, "Karim", "213661234567");

        for (const std::string& path : {kInbox, std::string("/admin/inbox")}) {
            const HttpResult page = h.get(agent, path);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(path, 200, page.status);
            CPPUNIT_ASSERT_MESSAGE(page.body, !contains(page.body, "<script>alert"));
            CPPUNIT_ASSERT_MESSAGE(page.body, contains(page.body, "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;") ||
                                                  contains(page.body, "&lt;script&gt;alert(&apos;name&apos;)&lt;/script&gt;") ||
                                                  contains(page.body, "&lt;script&gt;alert('name')&lt;/script&gt;"));
            CPPUNIT_ASSERT(contains(page.body, kConversation + std::to_string(id)));
            CPPUNIT_ASSERT(contains(page.body, "Karim"));
            CPPUNIT_ASSERT(contains(page.body, "Window open until"));
        }
        // Filters and search: by phone in another form, by name; resolved ones only under "resolved".
        const HttpResult byPhone = h.get(agent, kInbox + "?q=0661+23+45+67");
        CPPUNIT_ASSERT(contains(byPhone.body, "Karim"));
        CPPUNIT_ASSERT(!contains(byPhone.body, kConversation + std::to_string(id) + "\""));
        CPPUNIT_ASSERT(!contains(h.get(agent, kInbox + "?status=resolved").body, "Karim"));
        CPPUNIT_ASSERT(contains(h.get(agent, kInbox + "?owner=unassigned&status=open").body, "Karim"));
        CPPUNIT_ASSERT(!contains(h.get(agent, kInbox + "?owner=mine").body, "Karim"));
        // A cursor that is not one is ignored, not an error.
        CPPUNIT_ASSERT_EQUAL(200, h.get(agent, kInbox + "?after=1%3B+DROP+TABLE+users").status);

        // The conversation: the text as text, the unread count cleared, the last inbound marked read.
        CPPUNIT_ASSERT_EQUAL(std::string("1"), h.sql("SELECT unread_count FROM whatsapp_conversations WHERE id = " + std::to_string(id)));
        const HttpResult conversation = h.get(agent, kConversation + std::to_string(id));
        CPPUNIT_ASSERT_EQUAL(200, conversation.status);
        CPPUNIT_ASSERT_MESSAGE(conversation.body, !contains(conversation.body, "<script>alert"));
        CPPUNIT_ASSERT(contains(conversation.body, "&lt;script&gt;"));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), h.sql("SELECT unread_count FROM whatsapp_conversations WHERE id = " + std::to_string(id)));
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        bool markedRead = false;
        while (!markedRead && std::chrono::steady_clock::now() < deadline) {
            for (const auto& request : h.fake().requests())
                markedRead = markedRead || (contains(request.body, "\"status\":\"read\"") && contains(request.body, "wamid.XSS1"));
            if (!markedRead) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        CPPUNIT_ASSERT_MESSAGE("mark-read reached the Graph API", markedRead);
        CPPUNIT_ASSERT_EQUAL(404, h.get(agent, kConversation + "999999").status);
        CPPUNIT_ASSERT_EQUAL(404, h.get(agent, kConversation + "abc").status);

        // A right-to-left override (and its kin) in a name would reorder the tab title, where no
        // <bdi> can isolate it: the title shows the name without them.
        const std::int64_t spoofed =
            h.customerWrites("wamid.RLO1", "salut", 0, "\xE2\x80\xAEgnp.exe\xE2\x81\xA6 Amina\xE2\x80\x8F", "213770000001");
        const HttpResult spoof = h.get(agent, kConversation + std::to_string(spoofed));
        CPPUNIT_ASSERT_EQUAL(200, spoof.status);
        const auto open = spoof.body.find("<title>"), close = spoof.body.find("</title>");
        CPPUNIT_ASSERT(open != std::string::npos && close != std::string::npos && open < close);
        const std::string title = spoof.body.substr(open, close - open);
        CPPUNIT_ASSERT_MESSAGE(title, contains(title, "gnp.exe Amina"));
        for (const char* control : {"\xE2\x80\xAE", "\xE2\x81\xA6", "\xE2\x80\x8F"})
            CPPUNIT_ASSERT_MESSAGE(title, !contains(title, control));
    }

    void replyIsSentOnceAndShowsItsTicks() {
        InboxHost h;
        const User agent = h.newUser("agent@example.dz", "agent");
        const std::int64_t id = h.customerWrites("wamid.IN1", "Bonjour, des nouvelles ?");
        const std::string url = kConversation + std::to_string(id);
        const HttpResult page = h.get(agent, url);
        const std::string key = firstMatch(page.body, "name=\"idempotency_key\" value=\"([^\"]+)\"");
        CPPUNIT_ASSERT_MESSAGE(page.body, !key.empty());

        // A double-clicked Send: two POSTs with the same form.
        for (int i = 0; i < 2; ++i) {
            const HttpResult sent = h.post(agent, url + "/reply", "idempotency_key=" + key + "&text=" + encode("Oui, la session commence lundi"));
            CPPUNIT_ASSERT_EQUAL(303, sent.status);
            CPPUNIT_ASSERT_EQUAL(url + "?done=1", sent.headers.at("location"));
        }
        CPPUNIT_ASSERT(h.fake().waitForSends(1, std::chrono::seconds(20)));
        h.waitFor("SELECT COUNT(*), MIN(status) FROM whatsapp_messages WHERE direction = 'out'", "1|sent");
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), h.fake().sendCount());
        CPPUNIT_ASSERT_EQUAL(std::string("1"), h.sql("SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'out' AND created_by_user_id IS NOT NULL"));

        const std::string wamid = h.fake().wamids().at(0);
        CPPUNIT_ASSERT_EQUAL(200, FakeGraphApi::postStatus(h.host(), wamid, "delivered", nowSeconds()).status);
        CPPUNIT_ASSERT_EQUAL(200, FakeGraphApi::postStatus(h.host(), wamid, "read", nowSeconds() + 1).status);
        h.waitFor("SELECT status FROM whatsapp_messages WHERE direction = 'out'", "read");
        const HttpResult after = h.get(agent, url);
        CPPUNIT_ASSERT(contains(after.body, "Oui, la session commence lundi"));
        CPPUNIT_ASSERT(contains(after.body, "tick-read"));
        CPPUNIT_ASSERT(contains(after.body, "User agent"));  // who sent it

        // An empty reply and a form without its key are refused with words, and send nothing.
        CPPUNIT_ASSERT_EQUAL(url + "?error=empty_text",
                             h.post(agent, url + "/reply", "idempotency_key=k2&text=+++").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(url + "?error=invalid", h.post(agent, url + "/reply", "text=hello").headers.at("location"));
        CPPUNIT_ASSERT(contains(h.get(agent, url + "?error=empty_text").body, "Write a message first."));
        CPPUNIT_ASSERT_EQUAL(std::string("1"), h.sql("SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'out'"));
    }

    void eachActionNeedsItsPermissionAndTheCsrfToken() {
        InboxHost h;
        const User viewer = h.newUser("viewer@example.dz", "viewer");
        const User agent = h.newUser("agent@example.dz", "agent");
        const std::int64_t id = h.customerWrites("wamid.P1", "Bonjour");
        const std::string url = kConversation + std::to_string(id);
        // A viewer sees, and may do nothing: no forms on the page, 403 on every action. Opening the
        // conversation leaves it unread and sends no mark-as-read to Meta.
        const HttpResult page = h.get(viewer, url);
        CPPUNIT_ASSERT_EQUAL(200, page.status);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), h.sql("SELECT unread_count FROM whatsapp_conversations WHERE id = " + std::to_string(id)));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), h.sql("SELECT COUNT(*) FROM whatsapp_conversation_events"));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a mark-read would be a job: give it time to show
        for (const auto& request : h.fake().requests())
            CPPUNIT_ASSERT_MESSAGE(request.body, !contains(request.body, "\"status\":\"read\""));
        CPPUNIT_ASSERT(!contains(page.body, "/reply\""));
        CPPUNIT_ASSERT(!contains(page.body, "/assign\""));
        for (const std::string action : {"/reply", "/assign", "/resolve", "/reopen", "/pending", "/lead", "/lead/link"}) {
            const HttpResult refused = h.post(viewer, url + action, "idempotency_key=v1&text=hi&user=me&lead_id=1");
            CPPUNIT_ASSERT_EQUAL_MESSAGE(action, 403, refused.status);
        }
        CPPUNIT_ASSERT_EQUAL(std::string("0"), h.sql("SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'out'"));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), h.sql("SELECT COUNT(*) FROM whatsapp_conversation_events"));
        // An agent without the CSRF token, or with another's, is refused too.
        const HttpResult noToken = h.host().request("POST", url + "/assign", "user=me",
                                                    {{"Cookie", agent.cookie()}, {"Content-Type", "application/x-www-form-urlencoded"}});
        CPPUNIT_ASSERT_EQUAL(403, noToken.status);
        const HttpResult wrongToken = h.host().request("POST", url + "/assign", "_csrf=" + viewer.csrf() + "&user=me",
                                                       {{"Cookie", agent.cookie()}, {"Content-Type", "application/x-www-form-urlencoded"}});
        CPPUNIT_ASSERT_EQUAL(403, wrongToken.status);
        CPPUNIT_ASSERT_EQUAL(std::string(""), h.sql("SELECT assigned_user_id FROM whatsapp_conversations WHERE id = " + std::to_string(id)));
        // Without a session: the sign-in page.
        const HttpResult anonymous = h.host().request("GET", url);
        CPPUNIT_ASSERT_EQUAL(302, anonymous.status);
    }

    void expiredTokenIsShownWhereAgentsReply() {
        InboxHost h;
        const User agent = h.newUser("agent@example.dz", "agent");
        const User admin = h.newUser("admin@example.dz", "admin");
        const std::int64_t id = h.customerWrites("wamid.T1", "Bonjour");
        const std::string url = kConversation + std::to_string(id);
        CPPUNIT_ASSERT(!contains(h.get(agent, kInbox).body, "sending-notice"));
        // Meta answers 190: the Cloud API is unhealthy and the reply waits in the Outbox.
        // (Opening the page marks it read, which takes a scripted answer too: script enough for both.)
        const GraphReply expired = GraphReply::metaError(401, 190, "Error validating access token: Session has expired");
        h.fake().script({expired, expired, expired});
        const std::string key = firstMatch(h.get(agent, url).body, "name=\"idempotency_key\" value=\"([^\"]+)\"");
        CPPUNIT_ASSERT_EQUAL(303, h.post(agent, url + "/reply", "idempotency_key=" + key + "&text=Bonjour").status);
        h.waitFor("SELECT provider FROM whatsapp_messages WHERE direction = 'out'", "outbox");
        for (const std::string& page : {kInbox, url}) {
            const std::string body = h.get(agent, page).body;
            CPPUNIT_ASSERT_MESSAGE(page, contains(body, "Replies are not going out through the Cloud API"));
            CPPUNIT_ASSERT_MESSAGE(page, !contains(body, "/admin/messaging/whatsapp/settings\""));  // an agent cannot change them
        }
        CPPUNIT_ASSERT(contains(h.get(admin, kInbox).body, "href=\"/admin/messaging/whatsapp/settings\""));
    }

    void assignResolveReopenAndLeads() {
        InboxHost h;
        const User agent = h.newUser("agent@example.dz", "agent");
        h.addUser("colleague@example.dz", "agent");
        const std::int64_t id = h.customerWrites("wamid.A1", "Nous voulons former 12 employés");
        const std::string url = kConversation + std::to_string(id);
        const std::string where = " FROM whatsapp_conversations WHERE id = " + std::to_string(id);

        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/assign", "user=me").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(std::string("agent@example.dz"), h.sql("SELECT u.email FROM users u WHERE u.id = (SELECT assigned_user_id" + where + ")"));
        const std::string colleague = h.sql("SELECT id FROM users WHERE email = 'colleague@example.dz'");
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/assign", "user=" + colleague).headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(colleague, h.sql("SELECT assigned_user_id" + where));
        CPPUNIT_ASSERT_EQUAL(url + "?error=invalid_user", h.post(agent, url + "/assign", "user=987654").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(url + "?error=invalid_user", h.post(agent, url + "/assign", "user=x").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/assign", "user=none").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), h.sql("SELECT assigned_user_id" + where));

        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/resolve", "").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(std::string("resolved"), h.sql("SELECT status" + where));
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/reopen", "").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(std::string("open"), h.sql("SELECT status" + where));
        // Pending (the filter offers it; the panel sets it), then open again; a resolved one is reopened first.
        CPPUNIT_ASSERT(contains(h.get(agent, url).body, "/pending\""));
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/pending", "").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(std::string("pending"), h.sql("SELECT status" + where));
        CPPUNIT_ASSERT(contains(h.get(agent, kInbox + "?status=pending").body, url + "?status=pending&amp;owner=all&amp;intent=&amp;q=\""));  // the row keeps the list's filter
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/reopen", "").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(std::string("open"), h.sql("SELECT status" + where));
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/resolve", "").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(url + "?error=resolved", h.post(agent, url + "/pending", "").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/reopen", "").headers.at("location"));

        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/lead", "").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(std::string("Amina Benali|+213555123456|Nous voulons former 12 employés"),
                             h.sql("SELECT contact_name, phone, notes FROM b2b_leads WHERE id = (SELECT b2b_lead_id" + where + ")"));
        CPPUNIT_ASSERT_EQUAL(url + "?error=lead_exists", h.post(agent, url + "/lead", "").headers.at("location"));
        CPPUNIT_ASSERT(contains(h.get(agent, url + "?error=lead_exists").body, "A lead is already linked to this conversation."));

        // Link an existing lead found by the search.
        h.exec("INSERT INTO b2b_leads (contact_name, phone, created_at, updated_at) VALUES ('M. Brahimi', '0770 11 22 33', 1, 1)");
        const HttpResult search = h.get(agent, url + "?lead_q=brahimi");
        const std::string other = firstMatch(search.body, "name=\"lead_id\" value=\"([0-9]+)\"");
        CPPUNIT_ASSERT_MESSAGE(search.body, !other.empty());
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/lead/link", "lead_id=" + other).headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(other, h.sql("SELECT b2b_lead_id" + where));
        CPPUNIT_ASSERT_EQUAL(url + "?error=invalid_lead", h.post(agent, url + "/lead/link", "lead_id=999999").headers.at("location"));

        // Every change is a system line of the timeline, in order.
        CPPUNIT_ASSERT_EQUAL(std::string("assigned\nassigned\nunassigned\nresolved\nreopened\npending\nreopened\nresolved\nreopened\nlead_created\nlead_linked"),
                             h.sql("SELECT kind FROM whatsapp_conversation_events ORDER BY id"));
        const HttpResult page = h.get(agent, url);
        CPPUNIT_ASSERT(contains(page.body, "User agent assigned the conversation to User agent"));
        CPPUNIT_ASSERT(contains(page.body, "User agent resolved the conversation"));
        CPPUNIT_ASSERT(contains(page.body, "User agent marked the conversation as pending"));
        CPPUNIT_ASSERT(contains(page.body, "User agent linked B2B lead #" + other));
        // A conversation that does not exist.
        CPPUNIT_ASSERT_EQUAL(404, h.post(agent, kConversation + "999999/resolve", "").status);
    }

    void closedWindowOffersTemplatesAndRefusesFreeText() {
        InboxHost h;
        const User agent = h.newUser("agent@example.dz", "agent");
        const std::int64_t id = h.customerWrites("wamid.OLD", "Bonjour", 25 * 3600);
        h.exec("INSERT INTO whatsapp_templates (name, language, body, status, created_at, updated_at) VALUES "
              "('relance', 'fr', 'Bonjour {{1}}, votre session commence le {{2}}.', 'active', 1, 1)");
        const std::string url = kConversation + std::to_string(id);
        const HttpResult page = h.get(agent, url);
        CPPUNIT_ASSERT(contains(page.body, "Window closed"));
        CPPUNIT_ASSERT(contains(page.body, "only a template can be sent"));
        CPPUNIT_ASSERT(contains(page.body, "value=\"relance|fr\""));
        CPPUNIT_ASSERT(!contains(page.body, "name=\"text\""));
        const std::string key = firstMatch(page.body, "name=\"idempotency_key\" value=\"([^\"]+)\"");

        CPPUNIT_ASSERT_EQUAL(url + "?error=window_closed",
                             h.post(agent, url + "/reply", "idempotency_key=" + key + "&text=hello").headers.at("location"));
        CPPUNIT_ASSERT(contains(h.get(agent, url + "?error=window_closed").body, "The 24-hour window has closed"));
        // Meta holds the template with two body parameters: a send with another count is refused.
        h.fake().approveTemplate("relance", "fr", {{"body", {"1", "2"}}});
        CPPUNIT_ASSERT(contains(page.body, "name=\"var:body:1\"") && contains(page.body, "name=\"var:body:2\""));
        // A blank variable: the page comes back (422) with the field marked and what was typed kept; nothing is sent.
        const HttpResult missing = h.post(agent, url + "/reply", "idempotency_key=" + key + "&template=relance%7Cfr&var:body:1=Amina&var:body:2=+");
        CPPUNIT_ASSERT_EQUAL(422, missing.status);
        CPPUNIT_ASSERT(contains(missing.body, "Fill in every variable of the template."));
        CPPUNIT_ASSERT_MESSAGE(missing.body, contains(missing.body, "value=\"Amina\""));
        CPPUNIT_ASSERT_EQUAL(std::string::size_type(1), countOf(missing.body, "aria-invalid=\"true\""));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), h.sql("SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'out'"));
        CPPUNIT_ASSERT_EQUAL(url + "?error=no_template",
                             h.post(agent, url + "/reply", "idempotency_key=" + key + "&template=nope%7Cfr").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/reply", "idempotency_key=" + key +
                                                                                "&template=relance%7Cfr&var:body:1=Amina&var:body:2=lundi").headers.at("location"));
        CPPUNIT_ASSERT(h.fake().waitForSends(1, std::chrono::seconds(20)));
        const std::string body = h.fake().sends().at(0).body;
        CPPUNIT_ASSERT_MESSAGE(body, contains(body, "\"relance\"") && contains(body, "Amina") && contains(body, "lundi"));
        h.waitFor("SELECT status, provider FROM whatsapp_messages WHERE direction = 'out'", "sent|cloud_api");
    }

    // Issue 15 (6): a template with named variables in its header, body and a link button. The
    // picker asks for each by name, previews the filled template, refuses a blank one (422, never
    // a send), and the send carries Meta's components; the outbox's fallback renders the same text.
    void namedTemplateVariablesAreAskedPreviewedAndSent() {
        InboxHost h;
        const User agent = h.newUser("agent@example.dz", "agent");
        const std::int64_t id = h.customerWrites("wamid.OLD", "Bonjour", 25 * 3600);
        h.exec("INSERT INTO whatsapp_templates (name, language, header, body, buttons, status, created_at, updated_at) VALUES "
               "('bienvenue', 'fr', 'Bienvenue {{first_name}}', 'Bonjour {{first_name}}, votre session {{programme}} commence le {{date}}.', "
               "'[{\"type\":\"url\",\"text\":\"Suivi\",\"url\":\"https://formation.example.dz/suivi/{{1}}\"},"
               "{\"type\":\"quick_reply\",\"text\":\"Merci\"}]', 'active', 1, 1)");
        h.fake().approveTemplate("bienvenue", "fr", {{"header", {"first_name"}}, {"body", {"first_name", "programme", "date"}}, {"button0", {"1"}}});
        const std::string url = kConversation + std::to_string(id);
        const HttpResult page = h.get(agent, url);
        for (const std::string field : {"var:header:first_name", "var:body:first_name", "var:body:programme", "var:body:date", "var:button0:1"})
            CPPUNIT_ASSERT_MESSAGE(field, contains(page.body, "name=\"" + field + "\" value=\"\" required"));
        CPPUNIT_ASSERT(contains(page.body, "<span class=\"part\">Header</span> <bdi class=\"variable\" dir=\"ltr\">{{first_name}}</bdi>"));
        CPPUNIT_ASSERT(contains(page.body, "<span class=\"part\">Button 1 (Suivi)</span> <bdi class=\"variable\" dir=\"ltr\">{{1}}</bdi>"));
        CPPUNIT_ASSERT(contains(page.body, "data-preview-part=\"body\" data-text=\"Bonjour {{first_name}}, votre session {{programme}} commence le {{date}}.\""));
        CPPUNIT_ASSERT(contains(page.body, "data-preview-part=\"button0\" data-text=\"Suivi: https://formation.example.dz/suivi/{{1}}\""));
        const std::string key = firstMatch(page.body, "name=\"idempotency_key\" value=\"([^\"]+)\"");
        const std::string filled = "&var:header:first_name=Amina&var:body:first_name=Amina&var:body:programme=" + encode("Comptabilité") +
                                   "&var:body:date=lundi&var:button0:1=A-12";

        // The date left out: 422, the page previews what was typed, nothing reaches Meta.
        const HttpResult missing = h.post(agent, url + "/reply", "idempotency_key=" + key + "&template=bienvenue%7Cfr" +
                                                                     std::regex_replace(filled, std::regex("date=lundi"), "date="));
        CPPUNIT_ASSERT_EQUAL(422, missing.status);
        CPPUNIT_ASSERT(contains(missing.body, "Fill in every variable of the template."));
        CPPUNIT_ASSERT_MESSAGE(missing.body, contains(missing.body, ">Bonjour Amina, votre session Comptabilité commence le {{date}}.</p>"));
        CPPUNIT_ASSERT(contains(missing.body, "name=\"var:body:date\" value=\"\" required maxlength=\"1000\" dir=\"auto\" data-part=\"body\" "
                                              "data-variable=\"date\" aria-invalid=\"true\""));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), h.fake().sendCount());

        // Meta takes the parameters (the fake checks them as Meta does) but cannot deliver: the
        // outbox gets the same values and renders the filled template for a person to send.
        h.fake().script({GraphReply::metaError(400, 131026, "(#131026) Message undeliverable")});
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/reply", "idempotency_key=" + key + "&template=bienvenue%7Cfr" + filled)
                                                  .headers.at("location"));
        CPPUNIT_ASSERT(h.fake().waitForSends(1, std::chrono::seconds(20)));
        h.waitFor("SELECT provider FROM whatsapp_messages WHERE direction = 'out'", "outbox");
        const auto sent = Poco::JSON::Parser().parse(h.fake().sends().at(0).body).extract<Poco::JSON::Object::Ptr>();
        std::ostringstream components;
        sent->getObject("template")->getArray("components")->stringify(components);
        CPPUNIT_ASSERT_EQUAL(std::string("[{\"parameters\":[{\"parameter_name\":\"first_name\",\"text\":\"Amina\",\"type\":\"text\"}],\"type\":\"header\"},"
                                         "{\"parameters\":[{\"parameter_name\":\"first_name\",\"text\":\"Amina\",\"type\":\"text\"},"
                                         "{\"parameter_name\":\"programme\",\"text\":\"Comptabilité\",\"type\":\"text\"},"
                                         "{\"parameter_name\":\"date\",\"text\":\"lundi\",\"type\":\"text\"}],\"type\":\"body\"},"
                                         "{\"index\":\"0\",\"parameters\":[{\"text\":\"A-12\",\"type\":\"text\"}],\"sub_type\":\"url\",\"type\":\"button\"}]"),
                             sortedJson(components.str()));
        CPPUNIT_ASSERT_EQUAL(std::string("Bienvenue Amina\n\nBonjour Amina, votre session Comptabilité commence le lundi.\n"
                                         "Suivi: https://formation.example.dz/suivi/A-12"),
                             h.sql("SELECT rendered_text FROM whatsapp_outbox_messages"));
    }

    // Issue 15 (6): when no provider sends a template, the timeline says why, in the agent's
    // language, with Meta's code and message, where it said "Error 0:".
    void aRefusedTemplateShowsMetasReason() {
        InboxHost h("[cloud_api]");
        const User agent = h.newUser("agent@example.dz", "agent");
        const std::int64_t id = h.customerWrites("wamid.OLD", "Bonjour", 25 * 3600);
        h.exec("INSERT INTO whatsapp_templates (name, language, body, status, created_at, updated_at) VALUES "
               "('rappel', 'fr', 'Bonjour {{first_name}}.', 'active', 1, 1)");
        // Meta's copy of the template takes a second variable that the outbox's copy lacks.
        h.fake().approveTemplate("rappel", "fr", {{"body", {"first_name", "date"}}});
        const std::string url = kConversation + std::to_string(id);
        const std::string key = firstMatch(h.get(agent, url).body, "name=\"idempotency_key\" value=\"([^\"]+)\"");
        CPPUNIT_ASSERT_EQUAL(url + "?done=1",
                             h.post(agent, url + "/reply", "idempotency_key=" + key + "&template=rappel%7Cfr&var:body:first_name=Amina")
                                 .headers.at("location"));
        h.waitFor("SELECT status FROM whatsapp_messages WHERE direction = 'out'", "failed");
        h.waitFor("SELECT status, error_code, error_title FROM whatsapp_messages WHERE direction = 'out'",
                  "failed|132000|(#132000) Number of parameters does not match the expected number of params");
        const std::string english = h.get(agent, url).body;
        CPPUNIT_ASSERT_MESSAGE(english, contains(english, "The number of template variables does not match the template. Error 132000: "
                                                          "<bdi class=\"error-reason\" dir=\"auto\" lang=\"en\">(#132000) Number of "
                                                          "parameters does not match the expected number of params</bdi>"));
        CPPUNIT_ASSERT(!contains(english, "Error 0:"));
        agent.setLocale("fr");
        CPPUNIT_ASSERT(contains(h.get(agent, url).body, "Le nombre de variables ne correspond pas au modèle. Erreur 132000 : "
                                                       "<bdi class=\"error-reason\" dir=\"auto\" lang=\"en\">(#132000)"));
        agent.setLocale("ar");
        CPPUNIT_ASSERT(contains(h.get(agent, url).body, "عدد متغيرات القالب لا يطابق القالب. الخطأ 132000: <bdi class=\"error-reason\" dir=\"auto\" lang=\"en\">(#132000)"));
    }

    void liveStreamPushesAndResumes() {
        InboxHost h;
        const User agent = h.newUser("agent@example.dz", "agent");
        const std::string live = "/admin/messaging/whatsapp/live";
        std::string lastId;
        {
            LiveStream stream(h.host().port(), live, agent.cookie());
            CPPUNIT_ASSERT_EQUAL(200, stream.status());
            CPPUNIT_ASSERT(contains(stream.contentType(), "text/event-stream"));
            CPPUNIT_ASSERT(stream.waitFor("event: hello"));
            const std::int64_t id = h.customerWrites("wamid.L1", "Bonjour en direct");
            CPPUNIT_ASSERT_MESSAGE(stream.text(), stream.waitFor("event: message.received"));
            CPPUNIT_ASSERT(stream.waitFor("\"conversation_id\":" + std::to_string(id)));
            CPPUNIT_ASSERT(stream.waitFor("event: conversation.updated"));
            // The conversation page's stream sees only its own conversation.
            LiveStream only(h.host().port(), live + "?conversation=" + std::to_string(id), agent.cookie());
            CPPUNIT_ASSERT(only.waitFor("event: hello"));
            CPPUNIT_ASSERT_EQUAL(303, h.post(agent, kConversation + std::to_string(id) + "/assign", "user=me").status);
            CPPUNIT_ASSERT_MESSAGE(only.text(), only.waitFor("\"reason\":\"assigned\""));
            // A reply: the page hears that it was queued, then sent (the tick moves without a reload).
            CPPUNIT_ASSERT_EQUAL(303, h.post(agent, kConversation + std::to_string(id) + "/reply",
                                             "idempotency_key=live-reply-1&text=Bien%20re%C3%A7u").status);
            CPPUNIT_ASSERT_MESSAGE(only.text(), only.waitFor("event: message.queued"));
            CPPUNIT_ASSERT_MESSAGE(only.text(), only.waitFor("event: message.sent"));
            // A page names the last event it was rendered after; what comes between the render and
            // its stream's connection is sent first, not lost.
            const std::string page = h.get(agent, kConversation + std::to_string(id)).body;
            std::smatch rendered;
            CPPUNIT_ASSERT_MESSAGE(page, std::regex_search(page, rendered, std::regex("live\\?after=([0-9a-f]{8}-[0-9]+)")));
            h.customerWrites("wamid.L1b", "Entre le rendu et la connexion");
            LiveStream late(h.host().port(), live + "?conversation=" + std::to_string(id) + "&after=" + rendered[1].str(), agent.cookie());
            CPPUNIT_ASSERT_MESSAGE(late.text(), late.waitFor("event: message.received"));
            // The last id the browser saw before the connection dropped.
            const std::string seen = stream.text();
            const std::regex idLine("id: ([0-9a-f]{8}-[0-9]+)");
            for (std::sregex_iterator it(seen.begin(), seen.end(), idLine), end; it != end; ++it) lastId = (*it)[1];
            CPPUNIT_ASSERT(!lastId.empty());
        }
        // Dropped: meanwhile another customer writes. Back with Last-Event-ID: what was missed comes first.
        const std::int64_t missed = h.customerWrites("wamid.L2", "Pendant la coupure", 0, "Karim", "213661234567");
        LiveStream resumed(h.host().port(), live, agent.cookie(), lastId);
        CPPUNIT_ASSERT_MESSAGE(resumed.text(), resumed.waitFor("\"conversation_id\":" + std::to_string(missed)));
        CPPUNIT_ASSERT(contains(resumed.text(), "event: message.received"));
        // A browser from before a restart, or from another host (a cursor this run never gave,
        // whatever its number), is told to refresh; so is a page rendered by another host.
        for (const std::string& foreign : {std::string("999999"), std::string("00000000-1"), lastId.substr(0, 8) + "-999999"}) {
            LiveStream stale(h.host().port(), live, agent.cookie(), foreign);
            CPPUNIT_ASSERT_MESSAGE(foreign + ": " + stale.text(), stale.waitFor("event: refresh"));
        }
        LiveStream otherHost(h.host().port(), live + "?after=0badc0de-1", agent.cookie());
        CPPUNIT_ASSERT_MESSAGE(otherHost.text(), otherHost.waitFor("event: refresh"));
        // Without a session there is no stream.
        CPPUNIT_ASSERT_EQUAL(401, h.host().request("GET", live).status);
    }

    void legacyAddressesRedirectAndArabicIsRightToLeft() {
        InboxHost h;
        const HttpResult legacy = h.host().request("GET", "/admin/whatsapp/inbox?status=open&q=amina");
        CPPUNIT_ASSERT_EQUAL(301, legacy.status);
        CPPUNIT_ASSERT_EQUAL(std::string("/admin/messaging/whatsapp/inbox?status=open&q=amina"), legacy.headers.at("location"));
        const HttpResult deep = h.host().request("GET", "/admin/whatsapp/conversations/12");
        CPPUNIT_ASSERT_EQUAL(301, deep.status);
        CPPUNIT_ASSERT_EQUAL(std::string("/admin/messaging/whatsapp/conversations/12"), deep.headers.at("location"));

        const User agent = h.newUser("agent@example.dz", "agent");
        h.customerWrites("wamid.AR1", "السلام عليكم");
        agent.setLocale("ar");
        const HttpResult arabic = h.get(agent, kInbox);
        CPPUNIT_ASSERT_EQUAL(200, arabic.status);
        CPPUNIT_ASSERT(contains(arabic.body, "dir=\"rtl\""));
        CPPUNIT_ASSERT(contains(arabic.body, "صندوق الوارد"));
        CPPUNIT_ASSERT(contains(arabic.body, "السلام عليكم"));
        agent.setLocale("fr");
        const HttpResult french = h.get(agent, kInbox);
        CPPUNIT_ASSERT(contains(french.body, "dir=\"ltr\""));
        CPPUNIT_ASSERT(contains(french.body, "Boîte de réception"));
    }

    void demoSeedOnlyOnAFreshDatabase() {
        InboxHost h;
        const std::string counts = "SELECT (SELECT COUNT(*) FROM organizations), (SELECT COUNT(*) FROM registrations), "
                                   "(SELECT COUNT(*) FROM enrollments), (SELECT COUNT(*) FROM b2b_leads)";
        auto [status, output] = h.host().cli({"demo", "seed"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
        CPPUNIT_ASSERT_MESSAGE(output, contains(output, "demo: seeded"));
        CPPUNIT_ASSERT_EQUAL(std::string("2|2|1|1"), h.sql(counts));
        CPPUNIT_ASSERT_EQUAL(std::string("Karim Brahimi|0661 23 45 67|Cevital Formation"),
                             h.sql("SELECT l.contact_name, l.phone, o.name FROM b2b_leads l JOIN organizations o ON o.id = l.organization_id"));
        // Again: nothing changes.
        std::tie(status, output) = h.host().cli({"demo", "seed"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
        CPPUNIT_ASSERT_MESSAGE(output, contains(output, "nothing seeded"));
        CPPUNIT_ASSERT_EQUAL(std::string("2|2|1|1"), h.sql(counts));
        // Misuse: one line, exit status 2.
        for (const std::vector<std::string>& args : {std::vector<std::string>{"demo"}, {"demo", "sed"}, {"demo", "seed", "now"}}) {
            std::tie(status, output) = h.host().cli(args);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 2, status);
            CPPUNIT_ASSERT_MESSAGE(output, output.find('\n') == output.size() - 1);
        }
    }

    // Issue #15, item 5: the B2B lead page. The list filters and searches, the lead shows its
    // contact, organization, notes and conversations; status, note and unlink change it.
    void leadPageListsChangesNotesAndUnlinks() {
        InboxHost h;
        const User agent = h.newUser("agent@example.dz", "agent");
        const std::int64_t id = h.customerWrites("wamid.LP1", "Nous voulons former 12 employés");
        const std::string conversation = kConversation + std::to_string(id);
        CPPUNIT_ASSERT_EQUAL(conversation + "?done=1", h.post(agent, conversation + "/lead", "").headers.at("location"));
        const std::string lead = h.sql("SELECT b2b_lead_id FROM whatsapp_conversations WHERE id = " + std::to_string(id));
        h.exec("INSERT INTO organizations (id, name, city) VALUES (7, 'Cevital', 'Béjaïa')");
        h.exec("UPDATE b2b_leads SET organization_id = 7, email = 'amina@cevital.example' WHERE id = " + lead);
        h.exec("INSERT INTO b2b_leads (contact_name, phone, source, status, created_at, updated_at) VALUES "
               "('<b>Nadia</b> Kaci', '0770 55 66 77', 'website', 'won', 1, 1)");
        const std::string url = kLeads + "/" + lead;

        // The list: both, newest first; by status; by company, name or phone; the menu leads here.
        const HttpResult list = h.get(agent, kLeads);
        CPPUNIT_ASSERT_EQUAL(200, list.status);
        CPPUNIT_ASSERT_MESSAGE(list.body, contains(list.body, "href=\"" + url + "\""));
        CPPUNIT_ASSERT(contains(list.body, "Amina Benali"));
        CPPUNIT_ASSERT(contains(list.body, "&lt;b&gt;Nadia&lt;/b&gt; Kaci"));
        CPPUNIT_ASSERT(!contains(list.body, "<b>Nadia</b>"));
        CPPUNIT_ASSERT(contains(list.body, "href=\"/admin/b2b-leads\" aria-current=\"page\""));
        CPPUNIT_ASSERT(list.body.find("Amina Benali") < list.body.find("Nadia"));
        CPPUNIT_ASSERT(!contains(h.get(agent, kLeads + "?status=won").body, "Amina Benali"));
        CPPUNIT_ASSERT(contains(h.get(agent, kLeads + "?status=new").body, "Amina Benali"));
        CPPUNIT_ASSERT(!contains(h.get(agent, kLeads + "?status=new").body, "Nadia"));
        CPPUNIT_ASSERT(contains(h.get(agent, kLeads + "?q=cevital").body, "Amina Benali"));
        CPPUNIT_ASSERT(!contains(h.get(agent, kLeads + "?q=cevital").body, "Nadia"));
        CPPUNIT_ASSERT(contains(h.get(agent, kLeads + "?q=%2B213770556677").body, "Nadia"));
        CPPUNIT_ASSERT_EQUAL(200, h.get(agent, kLeads + "?status=%27%3B+DROP+TABLE+b2b_leads&after=x").status);
        CPPUNIT_ASSERT(contains(h.get(agent, kInbox).body, "href=\"/admin/b2b-leads\""));

        // One lead: contact, organization, status, the customer's request as a note, the conversation.
        const HttpResult page = h.get(agent, url);
        CPPUNIT_ASSERT_EQUAL(200, page.status);
        for (const std::string& part : {std::string("Amina Benali"), std::string("+213555123456"), std::string("amina@cevital.example"),
                                        std::string("Cevital"), std::string("Béjaïa"), std::string("Nous voulons former 12 employés"),
                                        "href=\"" + conversation + "\"", "action=\"" + url + "/status\"", "action=\"" + url + "/notes\"",
                                        "action=\"" + url + "/unlink\"", std::string("<option value=\"new\" selected>New</option>")})
            CPPUNIT_ASSERT_MESSAGE(part + "\n" + page.body, contains(page.body, part));
        // The conversation's panel links to the lead.
        CPPUNIT_ASSERT(contains(h.get(agent, conversation).body, "href=\"" + url + "\""));

        // Status.
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/status", "status=qualified").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(std::string("qualified"), h.sql("SELECT status FROM b2b_leads WHERE id = " + lead));
        CPPUNIT_ASSERT_EQUAL(url + "?error=invalid_status", h.post(agent, url + "/status", "status=sold%27").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(std::string("qualified"), h.sql("SELECT status FROM b2b_leads WHERE id = " + lead));
        CPPUNIT_ASSERT(contains(h.get(agent, url + "?error=invalid_status").body, "Choose one of the statuses offered."));
        CPPUNIT_ASSERT(contains(h.get(agent, kLeads + "?status=qualified").body, "Amina Benali"));

        // Notes: a paragraph at the end, shown as text.
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/notes", "note=" + encode("Rappeler jeudi <script>x</script>")).headers.at("location"));
        // After the customer's request, who wrote the note and when (as the router notes a request).
        const std::string notes = h.sql("SELECT notes FROM b2b_leads WHERE id = " + lead);
        CPPUNIT_ASSERT_MESSAGE(notes, std::regex_match(notes, std::regex("Nous voulons former 12 employés\n\nUser agent "
                                                                          "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z: Rappeler jeudi <script>x</script>")));
        CPPUNIT_ASSERT_EQUAL(url + "?error=empty_note", h.post(agent, url + "/notes", "note=+%0D%0A+").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(url + "?error=note_too_long", h.post(agent, url + "/notes", "note=" + std::string(4001, 'a')).headers.at("location"));
        const HttpResult noted = h.get(agent, url);
        CPPUNIT_ASSERT(contains(noted.body, "Rappeler jeudi &lt;script&gt;x&lt;/script&gt;"));
        CPPUNIT_ASSERT(!contains(noted.body, "<script>x"));
        CPPUNIT_ASSERT(contains(noted.body, "<option value=\"qualified\" selected>Qualified</option>"));

        // Unlink: the conversation leaves the lead, and its timeline says who did it.
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", h.post(agent, url + "/unlink", "conversation_id=" + std::to_string(id)).headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), h.sql("SELECT b2b_lead_id FROM whatsapp_conversations WHERE id = " + std::to_string(id)));
        CPPUNIT_ASSERT_EQUAL(url + "?error=not_linked", h.post(agent, url + "/unlink", "conversation_id=" + std::to_string(id)).headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(url + "?error=not_linked", h.post(agent, url + "/unlink", "conversation_id=abc").headers.at("location"));
        CPPUNIT_ASSERT(contains(h.get(agent, url).body, "No conversation is linked to this lead."));
        CPPUNIT_ASSERT(contains(h.get(agent, conversation).body, "User agent unlinked B2B lead #" + lead));

        // A lead that does not exist: 404 inside the layout, for the page and every action.
        const HttpResult missing = h.get(agent, kLeads + "/999999");
        CPPUNIT_ASSERT_EQUAL(404, missing.status);
        CPPUNIT_ASSERT(contains(missing.body, "This B2B lead does not exist."));
        CPPUNIT_ASSERT(contains(missing.body, "class=\"topbar\""));
        CPPUNIT_ASSERT_EQUAL(404, h.get(agent, kLeads + "/abc").status);
        for (const std::string action : {"/status", "/notes", "/unlink"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(action, 404, h.post(agent, kLeads + "/999999" + action, "status=won&note=x&conversation_id=1").status);

        // In French and Arabic: the page's words, and the status in the reader's language.
        agent.setLocale("fr");
        const HttpResult french = h.get(agent, url);
        CPPUNIT_ASSERT(contains(french.body, "Conversations liées") && contains(french.body, ">Qualifié</option>"));
        agent.setLocale("ar");
        const HttpResult arabic = h.get(agent, url);
        CPPUNIT_ASSERT(contains(arabic.body, "dir=\"rtl\"") && contains(arabic.body, "المحادثات المرتبطة"));
    }

    void leadPagesNeedThePermissionAndTheCsrfToken() {
        InboxHost h;
        const User viewer = h.newUser("viewer@example.dz", "viewer");
        const User agent = h.newUser("agent@example.dz", "agent");
        const std::int64_t id = h.customerWrites("wamid.LP2", "Bonjour");
        const std::string conversation = kConversation + std::to_string(id);
        CPPUNIT_ASSERT_EQUAL(303, h.post(agent, conversation + "/lead", "").status);
        const std::string lead = h.sql("SELECT b2b_lead_id FROM whatsapp_conversations WHERE id = " + std::to_string(id));
        const std::string url = kLeads + "/" + lead;
        const std::string state = "SELECT l.status, COALESCE(l.notes, ''), c.b2b_lead_id FROM b2b_leads l JOIN whatsapp_conversations c ON c.b2b_lead_id = l.id";
        const std::string before = h.sql(state);

        // A viewer (read-only) neither sees nor changes leads: 403 everywhere, no menu entry, no link.
        CPPUNIT_ASSERT_EQUAL(403, h.get(viewer, kLeads).status);
        CPPUNIT_ASSERT_EQUAL(403, h.get(viewer, url).status);
        CPPUNIT_ASSERT_EQUAL(403, h.post(viewer, url + "/status", "status=won").status);
        CPPUNIT_ASSERT_EQUAL(403, h.post(viewer, url + "/notes", "note=hello").status);
        CPPUNIT_ASSERT_EQUAL(403, h.post(viewer, url + "/unlink", "conversation_id=" + std::to_string(id)).status);
        const HttpResult viewed = h.get(viewer, conversation);
        CPPUNIT_ASSERT(!contains(viewed.body, "href=\"/admin/b2b-leads"));
        CPPUNIT_ASSERT(!contains(h.get(viewer, kInbox).body, "href=\"/admin/b2b-leads\""));
        CPPUNIT_ASSERT_EQUAL(before, h.sql(state));

        // An agent without the CSRF token, or with another's, is refused too.
        for (const std::string& body : {std::string("status=won"), "_csrf=" + viewer.csrf() + "&status=won"}) {
            const HttpResult refused = h.host().request("POST", url + "/status", body,
                                                        {{"Cookie", agent.cookie()}, {"Content-Type", "application/x-www-form-urlencoded"}});
            CPPUNIT_ASSERT_EQUAL(403, refused.status);
        }
        const HttpResult noToken = h.host().request("POST", url + "/unlink", "conversation_id=" + std::to_string(id),
                                                    {{"Cookie", agent.cookie()}, {"Content-Type", "application/x-www-form-urlencoded"}});
        CPPUNIT_ASSERT_EQUAL(403, noToken.status);
        CPPUNIT_ASSERT_EQUAL(before, h.sql(state));
        // Without a session: the sign-in page.
        CPPUNIT_ASSERT_EQUAL(302, h.host().request("GET", url).status);
    }

    // Every admin_link the contact matcher gives (registration, enrollment, lead, organization)
    // opens a page: the lead page, or a read-only summary of the platform's record.
    void everyMatchLinkLeadsToAPage() {
        InboxHost h;
        const User agent = h.newUser("agent@example.dz", "agent");
        const User viewer = h.newUser("viewer@example.dz", "viewer");
        h.exec("INSERT INTO organizations (id, name, phone, email, city) VALUES (3, 'Sonatrach Formation', '+213 555 12 34 56', "
               "'formation@sonatrach.example', 'Alger')");
        h.exec("INSERT INTO registrations (id, full_name, phone, email, programme, status) VALUES "
               "(4, 'Amina <i>Benali</i>', '0555 12 34 56', 'amina@example.dz', 'Excel avancé', 'pending')");
        h.exec("INSERT INTO enrollments (id, registration_id, full_name, phone, programme, status) VALUES "
               "(5, 4, 'Amina Benali', '213555123456', 'Excel avancé', 'active')");
        h.exec("INSERT INTO b2b_leads (id, organization_id, contact_name, phone, created_at, updated_at) VALUES "
               "(6, 3, 'M. Brahimi', '00213555123456', 1, 1)");
        const auto reindex = h.host().cli({"contacts", "reindex"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(reindex.second, 0, reindex.first);
        const std::int64_t id = h.customerWrites("wamid.RP1", "Bonjour");
        const std::string conversation = kConversation + std::to_string(id);

        const HttpResult panel = h.get(agent, conversation);
        const std::vector<std::string> links{"/admin/enrollments/5", "/admin/registrations/4", "/admin/b2b-leads/6", "/admin/organizations/3"};
        for (const std::string& link : links) {
            CPPUNIT_ASSERT_MESSAGE(link + "\n" + panel.body, contains(panel.body, "href=\"" + link + "\""));
            const HttpResult opened = h.get(agent, link);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(link + "\n" + opened.body + "\n" + h.host().log(), 200, opened.status);
            CPPUNIT_ASSERT_MESSAGE(link, contains(opened.body, "class=\"topbar\""));
        }
        // The registration's summary: its fields as text, its status in words, the conversation of its phone.
        const HttpResult registration = h.get(agent, "/admin/registrations/4");
        for (const std::string& part : {std::string("Amina &lt;i&gt;Benali&lt;/i&gt;"), std::string("0555 12 34 56"),
                                        std::string("amina@example.dz"), std::string("Excel avancé"), std::string("Pending"),
                                        std::string("Registration"), "href=\"" + conversation + "\""})
            CPPUNIT_ASSERT_MESSAGE(part + "\n" + registration.body, contains(registration.body, part));
        CPPUNIT_ASSERT(!contains(registration.body, "<i>Benali"));
        CPPUNIT_ASSERT(!contains(registration.body, "action=\"/admin/registrations"));
        CPPUNIT_ASSERT(contains(h.get(agent, "/admin/organizations/3").body, "Alger"));
        CPPUNIT_ASSERT(contains(h.get(agent, "/admin/enrollments/5").body, "Active"));
        // Read-only: nothing is posted to a record.
        CPPUNIT_ASSERT(h.post(agent, "/admin/registrations/4", "full_name=x").status >= 400);
        CPPUNIT_ASSERT_EQUAL(std::string("Amina <i>Benali</i>"), h.sql("SELECT full_name FROM registrations WHERE id = 4"));
        // A record that does not exist: 404 inside the layout, in the reader's words.
        const HttpResult missing = h.get(agent, "/admin/registrations/999");
        CPPUNIT_ASSERT_EQUAL(404, missing.status);
        CPPUNIT_ASSERT(contains(missing.body, "This registration does not exist.") && contains(missing.body, "class=\"topbar\""));
        CPPUNIT_ASSERT_EQUAL(404, h.get(agent, "/admin/organizations/abc").status);
        // A viewer sees the platform's records, not the lead page (its panel shows the lead unlinked).
        CPPUNIT_ASSERT_EQUAL(200, h.get(viewer, "/admin/registrations/4").status);
        const HttpResult viewerPanel = h.get(viewer, conversation);
        CPPUNIT_ASSERT(contains(viewerPanel.body, "href=\"/admin/registrations/4\""));
        CPPUNIT_ASSERT(!contains(viewerPanel.body, "href=\"/admin/b2b-leads/6\""));
        CPPUNIT_ASSERT(contains(viewerPanel.body, "M. Brahimi"));
        agent.setLocale("ar");
        const HttpResult arabic = h.get(agent, "/admin/registrations/4");
        CPPUNIT_ASSERT(contains(arabic.body, "dir=\"rtl\"") && contains(arabic.body, "طلب تسجيل") && contains(arabic.body, "قيد الانتظار"));
        CPPUNIT_ASSERT_EQUAL(302, h.host().request("GET", "/admin/registrations/4").status);
    }

    // Issue #15, item 9: no raw word of the code in a French or Arabic page: intents, the match's
    // table and column, "template NAME (LANG)", the provider's reason for a fallback, the logs,
    // the lead's notes and status changes (who made them), and the 403 and 404 pages in the layout.
    // Meta refuses a reply for good (131026, and no fallback in the chain): the message is failed
    // and shows "Retry" and a wa.me link with its text encoded. A viewer may not retry, nor may a
    // POST without the CSRF token; the agent's double click queues it once, and it is sent once.
    void aFailedSendIsRetriedOnceOrSentByWaMe() {
        InboxHost h("[cloud_api]");
        const User agent = h.newUser("agent@example.dz", "agent");
        const User viewer = h.newUser("viewer@example.dz", "viewer");
        const std::int64_t conversation = h.customerWrites("wamid.RETRY-IN", "Bonjour");
        const std::string url = kConversation + std::to_string(conversation);
        h.fake().script({GraphReply::metaError(400, 131026, "Message undeliverable", "Message failed to send")});
        const std::string text = "Merci & à lundi? نعم #1";
        CPPUNIT_ASSERT_EQUAL(303, h.post(agent, url + "/reply", "idempotency_key=r1&text=" + encode(text)).status);
        h.waitFor("SELECT status, error_code FROM whatsapp_messages WHERE direction = 'out'", "failed|131026");
        const std::string id = h.sql("SELECT id FROM whatsapp_messages WHERE direction = 'out'");
        const std::string retry = url + "/messages/" + id + "/retry";
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), h.fake().sendCount());

        const std::string page = h.get(agent, url).body;
        CPPUNIT_ASSERT_MESSAGE(page, contains(page, "action=\"" + retry + "\""));
        // Every byte but letters, digits and -._~ percent-encoded; the phone's digits only.
        CPPUNIT_ASSERT_MESSAGE(page, contains(page, "href=\"https://wa.me/213555123456?text=Merci%20%26%20%C3%A0%20lundi%3F%20"
                                                    "%D9%86%D8%B9%D9%85%20%231\""));
        CPPUNIT_ASSERT(!contains(h.get(viewer, url).body, retry));

        CPPUNIT_ASSERT_EQUAL(403, h.post(viewer, retry, "").status);
        CPPUNIT_ASSERT_EQUAL(403, agent.post(retry, {}, false).status);
        CPPUNIT_ASSERT_EQUAL(std::string("failed"), h.sql("SELECT status FROM whatsapp_messages WHERE id = " + id));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), h.fake().sendCount());

        // Two clicks: the first queues it again, the second finds it not failed any more.
        const HttpResult first = h.post(agent, retry, "");
        const HttpResult second = h.post(agent, retry, "");
        CPPUNIT_ASSERT_EQUAL(url + "?done=1", first.headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(url + "?error=not_failed", second.headers.at("location"));
        h.waitFor("SELECT status, COALESCE(error_code, 0) FROM whatsapp_messages WHERE id = " + id, "sent|0");
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a second send would have come by now
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), h.fake().sendCount());
        CPPUNIT_ASSERT_EQUAL(std::string("1"), h.sql("SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'out'"));
        const auto resent = Poco::JSON::Parser().parse(h.fake().sends().at(1).body).extract<Poco::JSON::Object::Ptr>();
        CPPUNIT_ASSERT_EQUAL(text, resent->getObject("text")->getValue<std::string>("body"));
        // Sent now: neither Retry nor wa.me any more, and a third POST changes nothing.
        const std::string after = h.get(agent, url).body;
        CPPUNIT_ASSERT(!contains(after, retry));
        CPPUNIT_ASSERT(!contains(after, "https://wa.me/"));
        CPPUNIT_ASSERT_EQUAL(url + "?error=not_failed", h.post(agent, retry, "").headers.at("location"));
        // A message of another conversation, or an inbound one, is not this conversation's to retry.
        const std::string inbound = h.sql("SELECT id FROM whatsapp_messages WHERE direction = 'in'");
        CPPUNIT_ASSERT_EQUAL(url + "?error=not_found", h.post(agent, url + "/messages/" + inbound + "/retry", "").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(url + "?error=not_found", h.post(agent, url + "/messages/x/retry", "").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), h.fake().sendCount());
    }

    // The reply box being written in: the read call with typing_indicator for the last inbound
    // message, exactly as Meta documents it; again within 20 s asks nothing; a viewer gets 403, a
    // POST without the X-CSRF-Token 403, and neither reaches Meta.
    void typingSendsMetasReadCallWithTheIndicator() {
        InboxHost h;
        const User agent = h.newUser("agent@example.dz", "agent");
        const User viewer = h.newUser("viewer@example.dz", "viewer");
        h.customerWrites("wamid.TYPING-1", "Bonjour", 60);
        const std::int64_t conversation = h.customerWrites("wamid.TYPING-2", "Vous êtes là ?");
        const std::string url = kConversation + std::to_string(conversation);
        const auto readCalls = [&] {
            std::vector<std::string> bodies;
            for (const auto& request : h.fake().requests())
                if (request.method == "POST" && contains(request.body, "\"status\":\"read\"")) bodies.push_back(request.body);
            return bodies;
        };
        const auto typingPost = [&](const User& user, bool withToken) {
            std::vector<std::pair<std::string, std::string>> headers{{"Cookie", user.cookie()}};
            if (withToken) headers.emplace_back("X-CSRF-Token", user.csrf());
            return h.host().request("POST", url + "/typing", "", headers);
        };
        CPPUNIT_ASSERT_EQUAL(403, typingPost(viewer, true).status);
        CPPUNIT_ASSERT_EQUAL(403, typingPost(agent, false).status);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), readCalls().size());

        CPPUNIT_ASSERT_EQUAL(202, typingPost(agent, true).status);
        const auto calls = readCalls();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), calls.size());
        CPPUNIT_ASSERT_EQUAL(std::string("{\"message_id\":\"wamid.TYPING-2\",\"messaging_product\":\"whatsapp\",\"status\":\"read\","
                                         "\"typing_indicator\":{\"type\":\"text\"}}"),
                             sortedJson(calls[0]));
        for (const auto& request : h.fake().requests())
            if (contains(request.body, "typing_indicator")) CPPUNIT_ASSERT_EQUAL(std::string("/v21.0/100000000000001/messages"), request.path);
        // Again at once: not asked of Meta (at most once per 20 s per conversation).
        CPPUNIT_ASSERT_EQUAL(204, typingPost(agent, true).status);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), readCalls().size());
        CPPUNIT_ASSERT_EQUAL(404, h.host().request("POST", kConversation + "999999/typing", "",
                                                   {{"Cookie", agent.cookie()}, {"X-CSRF-Token", agent.csrf()}}).status);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), h.fake().sendCount());
        // The viewer's page offers no typing; the agent's names its route.
        CPPUNIT_ASSERT(contains(h.get(agent, url).body, "data-typing=\"" + url + "/typing\""));
        CPPUNIT_ASSERT(contains(h.get(viewer, url).body, "data-typing=\"\""));
    }

    // The three panes: a conversation opened from a filtered list shows that list beside it (the
    // open one marked), links that keep the filters, and actions that come back with them; the
    // tab's title counts the unread messages.
    void theListBesideTheConversationKeepsItsFilters() {
        InboxHost h;
        const User agent = h.newUser("agent@example.dz", "agent");
        const User viewer = h.newUser("viewer@example.dz", "viewer");
        const std::int64_t first = h.customerWrites("wamid.PANES-1", "Inscription", 0, "Amina Benali", "213555123456");
        const std::int64_t second = h.customerWrites("wamid.PANES-2", "Formation", 0, "Karim Haddad", "213555765432");
        const std::string query = "status=open&owner=all&intent=&q=Karim";
        const std::string page = h.get(viewer, kConversation + std::to_string(second) + "?" + query).body;
        CPPUNIT_ASSERT_MESSAGE(page, contains(page, "data-list-pane"));
        const std::string escaped = "status=open&amp;owner=all&amp;intent=&amp;q=Karim";  // as the page writes it
        CPPUNIT_ASSERT_MESSAGE(page, contains(page, "href=\"" + kConversation + std::to_string(second) + "?" + escaped + "\" aria-current=\"page\""));
        CPPUNIT_ASSERT_MESSAGE(page, !contains(page, "data-conversation=\"" + std::to_string(first) + "\""));  // filtered out
        CPPUNIT_ASSERT_MESSAGE(page, contains(page, "<title>(2) Karim Haddad"));
        CPPUNIT_ASSERT(contains(h.get(viewer, kInbox).body, "<title>(2) "));
        // An action posted from that page comes back to it with the filters (from the page's address).
        const HttpResult assigned =
            h.host().request("POST", kConversation + std::to_string(second) + "/assign", "_csrf=" + agent.csrf() + "&user=me",
                             {{"Cookie", agent.cookie()}, {"Content-Type", "application/x-www-form-urlencoded"},
                              {"Referer", "http://127.0.0.1" + kConversation + std::to_string(second) + "?" + query + "&evil=%0d"}});
        CPPUNIT_ASSERT_EQUAL(kConversation + std::to_string(second) + "?done=1&" + query, assigned.headers.at("location"));
    }

    void frenchAndArabicPagesSayItInTheirWords() {
        InboxHost h;
        const User agent = h.newUser("agent@example.dz", "agent");
        const User viewer = h.newUser("viewer@example.dz", "viewer");
        const User admin = h.newUser("admin@example.dz", "admin");
        h.exec("INSERT INTO b2b_leads (id, contact_name, phone, source, status, created_at, updated_at) VALUES "
               "(6, 'M. Brahimi', '0555 12 34 56', 'manual', 'new', 1, 1)");
        const auto reindex = h.host().cli({"contacts", "reindex"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(reindex.second, 0, reindex.first);
        const std::int64_t id = h.customerWrites("wamid.W1", "Une formation pour nos employés", 25 * 3600);
        CPPUNIT_ASSERT_EQUAL(std::string("institution"), h.sql("SELECT intent FROM whatsapp_conversations WHERE id = " + std::to_string(id)));
        const std::string url = kConversation + std::to_string(id);
        h.exec("INSERT INTO whatsapp_templates (name, language, body, status, created_at, updated_at) VALUES "
               "('rappel', 'fr', 'Bonjour {{first_name}}.', 'active', 1, 1)");
        h.fake().approveTemplate("rappel", "fr", {{"body", {"first_name"}}});
        agent.setLocale("fr");
        const HttpResult picker = h.get(agent, url);
        CPPUNIT_ASSERT_MESSAGE(picker.body, contains(picker.body, ">rappel (français)</option>"));
        // Meta refuses it (131026): the outbox takes it, and the timeline says why in words.
        h.fake().script({GraphReply::metaError(400, 131026, "(#131026) Message undeliverable")});
        const std::string key = firstMatch(picker.body, "name=\"idempotency_key\" value=\"([^\"]+)\"");
        CPPUNIT_ASSERT_EQUAL(url + "?done=1",
                             h.post(agent, url + "/reply", "idempotency_key=" + key + "&template=rappel%7Cfr&var:body:first_name=Amina")
                                 .headers.at("location"));
        h.waitFor("SELECT provider FROM whatsapp_messages WHERE direction = 'out'", "outbox");
        // The stored words stay as they were, for the logs and the platform.
        CPPUNIT_ASSERT_EQUAL(std::string("template rappel (fr)"), h.sql("SELECT body FROM whatsapp_messages WHERE direction = 'out'"));

        const HttpResult french = h.get(agent, url);
        for (const std::string& part : {std::string("<span class=\"pill intent\">Formation d’entreprise</span>"),
                                        std::string("Téléphone du prospect B2B : <bdi class=\"phone\" dir=\"ltr\">0555 12 34 56</bdi>"),
                                        std::string("<bdi>rappel (français)</bdi>"),
                                        std::string("Envoyé par la boîte d’envoi à la place : l’API Cloud a refusé le message (erreur 131026)")})
            CPPUNIT_ASSERT_MESSAGE(part + "\n" + french.body, contains(french.body, part));
        for (const std::string& raw : {"b2b_leads", ">institution<", "cloud_api", "refused", "template rappel", "(fr)"})
            CPPUNIT_ASSERT_MESSAGE(raw, !contains(french.body, raw));
        const HttpResult inbox = h.get(agent, kInbox);
        CPPUNIT_ASSERT(contains(inbox.body, "<option value=\"institution\">Formation d’entreprise</option>"));
        CPPUNIT_ASSERT(contains(inbox.body, "Modèle · rappel (français)"));
        CPPUNIT_ASSERT(!contains(inbox.body, ">institution<") && !contains(inbox.body, ">registration<"));
        agent.setLocale("ar");
        const HttpResult arabic = h.get(agent, url);
        for (const std::string& part : {std::string("<span class=\"pill intent\">تكوين للمؤسسات</span>"),
                                        std::string("هاتف العميل المحتمل للشركات: <bdi class=\"phone\" dir=\"ltr\">0555 12 34 56</bdi>"),
                                        std::string("rappel (الفرنسية)"), std::string("رفضت واجهة Cloud API الرسالة (الخطأ 131026)")})
            CPPUNIT_ASSERT_MESSAGE(part + "\n" + arabic.body, contains(arabic.body, part));
        CPPUNIT_ASSERT(!contains(arabic.body, "b2b_leads") && !contains(arabic.body, "cloud_api"));

        // The lead: who changed the status, from what to what; a note's author and time apart,
        // the time as the inbox writes times, never the stored ISO form.
        const std::string lead = kLeads + "/6";
        CPPUNIT_ASSERT_EQUAL(lead + "?done=1", h.post(agent, lead + "/status", "status=contacted").headers.at("location"));
        CPPUNIT_ASSERT_EQUAL(std::string("status|new|contacted"),
                             h.sql("SELECT e.kind, e.from_status, e.to_status FROM whatsapp_lead_events e JOIN users u ON u.id = e.actor_user_id "
                                   "WHERE e.lead_id = 6 AND u.email = 'agent@example.dz'"));
        CPPUNIT_ASSERT_EQUAL(lead + "?done=1", h.post(agent, lead + "/notes", "note=" + encode("Rappeler jeudi")).headers.at("location"));
        agent.setLocale("fr");
        const HttpResult leadPage = h.get(agent, lead);
        CPPUNIT_ASSERT_MESSAGE(leadPage.body, contains(leadPage.body, "User agent a changé le statut de Nouveau à Contacté"));
        CPPUNIT_ASSERT(contains(leadPage.body, "<bdi class=\"author\">User agent</bdi> <time>"));
        CPPUNIT_ASSERT(contains(leadPage.body, "<span class=\"note-text\" dir=\"auto\">Rappeler jeudi</span>"));
        CPPUNIT_ASSERT(contains(leadPage.body, "Saisi à la main"));
        CPPUNIT_ASSERT_MESSAGE(leadPage.body, !std::regex_search(leadPage.body, std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z")));

        // The logs: each line in the reader's language (the English stays in the table).
        admin.setLocale("fr");
        const HttpResult logs = h.get(admin, "/admin/messaging/whatsapp/logs");
        CPPUNIT_ASSERT_MESSAGE(logs.body, contains(logs.body, "attend dans la boîte d’envoi pour un envoi manuel"));
        CPPUNIT_ASSERT(!contains(logs.body, "queued for manual sending") && !contains(logs.body, ">provider<"));
        CPPUNIT_ASSERT(contains(h.sql("SELECT message FROM whatsapp_logs WHERE code = 'message_queued'"), "queued for manual sending"));
        const HttpResult outboxPage = h.get(admin, "/admin/messaging/whatsapp/outbox");
        CPPUNIT_ASSERT_MESSAGE(outboxPage.body, contains(outboxPage.body, "<span data-channel=\"manual\">À la main (lien wa.me)</span>"));

        // Cancelled in the outbox: the conversation says who did it, in the reader's words.
        const std::string outboxRow = h.sql("SELECT id FROM whatsapp_outbox_messages");
        CPPUNIT_ASSERT_EQUAL(303, admin.post("/admin/messaging/whatsapp/outbox/" + outboxRow + "/cancel", {}).status);
        agent.setLocale("fr");
        const HttpResult cancelled = h.get(agent, url);
        CPPUNIT_ASSERT_MESSAGE(cancelled.body, contains(cancelled.body, ">annulé dans la boîte d’envoi par admin@example.dz</bdi>"));
        CPPUNIT_ASSERT(!contains(cancelled.body, "cancelled in the outbox"));

        // 403 and 404 in the layout, in the reader's language, with their status.
        viewer.setLocale("fr");
        const HttpResult forbidden = h.get(viewer, kLeads);
        CPPUNIT_ASSERT_EQUAL(403, forbidden.status);
        for (const std::string& part : {"class=\"topbar\"", "lang=\"fr\"", "Accès refusé", "whatsapp.leads.manage"})
            CPPUNIT_ASSERT_MESSAGE(part + "\n" + forbidden.body, contains(forbidden.body, part));
        CPPUNIT_ASSERT(!contains(forbidden.body, "your roles do not include"));
        const HttpResult refusedPost = h.post(viewer, lead + "/status", "status=won");
        CPPUNIT_ASSERT_EQUAL(403, refusedPost.status);
        CPPUNIT_ASSERT(contains(refusedPost.body, "Accès refusé"));
        const HttpResult expired = h.host().request("POST", lead + "/status", "status=won",
                                                    {{"Cookie", agent.cookie()}, {"Content-Type", "application/x-www-form-urlencoded"}});
        CPPUNIT_ASSERT_EQUAL(403, expired.status);
        CPPUNIT_ASSERT_MESSAGE(expired.body, contains(expired.body, "Formulaire expiré") && contains(expired.body, "class=\"topbar\""));
        CPPUNIT_ASSERT_EQUAL(std::string("contacted"), h.sql("SELECT status FROM b2b_leads WHERE id = 6"));
        viewer.setLocale("ar");
        const HttpResult missing = h.get(viewer, "/admin/no-such-page");
        CPPUNIT_ASSERT_EQUAL(404, missing.status);
        for (const std::string& part : {"class=\"topbar\"", "dir=\"rtl\"", "الصفحة غير موجودة"})
            CPPUNIT_ASSERT_MESSAGE(part + "\n" + missing.body, contains(missing.body, part));
        // Signed out: the server's plain 404, and a page behind a permission still asks to sign in.
        const HttpResult anonymous = h.host().request("GET", "/admin/no-such-page");
        CPPUNIT_ASSERT_EQUAL(404, anonymous.status);
        CPPUNIT_ASSERT(!contains(anonymous.body, "class=\"topbar\""));
        CPPUNIT_ASSERT_EQUAL(302, h.host().request("GET", kLeads).status);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(InboxPagesTest);
