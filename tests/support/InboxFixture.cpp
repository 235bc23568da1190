#include "InboxFixture.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <set>

#include <Poco/Data/Session.h>

#include "Assertions.hpp"
#include "WebhookSupport.hpp"

namespace CppUnit {
template <>
struct assertion_traits<std::vector<std::int64_t>> {
    static bool equal(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) { return a == b; }
    static std::string toString(const std::vector<std::int64_t>& v) {
        std::string out = "[";
        for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
        return out + "]";
    }
};
}  // namespace CppUnit

using namespace Poco::Data::Keywords;
using tawasul::plugins::admin_inbox::Cursor;
using tawasul::plugins::admin_inbox::InboxFilter;
using tawasul::plugins::admin_inbox::InboxPage;

namespace tawasul::test {
namespace {

host::HostConfig configFor(const TempDir& dir, const std::string& databaseUrl) {
    // admin_inbox is loaded (not started) so that its own migration creates the events table;
    // the outbox for its templates table, which the template picker reads.
    return host::HostConfig::parse(sdk::ConfigNode::loadString(
        testConfigYaml(dir, TAWASUL_PLUGIN_DIR, "    - contact_matcher: {}\n    - inbound_router: {}\n    - outbox: {}\n    - admin_inbox: {}\n",
                       databaseUrl),
        dir.file("tawasul.yaml")));
}

std::vector<std::int64_t> idsOf(const InboxPage& page) {
    std::vector<std::int64_t> ids;
    for (const auto& row : page.rows) ids.push_back(row.id);
    return ids;
}

std::vector<std::int64_t> idsOf(InboxFixture& f, InboxFilter filter) {
    filter.limit = 200;
    return idsOf(f.store().list(filter));
}

InboxFilter filter(const std::string& status, const std::string& owner = "all", std::int64_t user = 0, const std::string& intent = "") {
    InboxFilter out;
    out.status = status;
    out.owner = owner;
    out.userId = user;
    out.intent = intent;
    return out;
}

using Ids = std::vector<std::int64_t>;

}  // namespace

InboxFixture::InboxFixture(const TempDir& dir, const std::string& databaseUrl) {
    runtime_ = std::make_unique<host::Runtime>(configFor(dir, databaseUrl));
    runtime_->loadPlugins();
    runtime_->migrator().migrate();
    store_ = std::make_unique<plugins::admin_inbox::InboxStore>(runtime_->database(), phones_);
}

InboxFixture::~InboxFixture() = default;

void InboxFixture::sql(const std::string& statement) {
    Poco::Data::Session session = runtime_->database().session();
    session << statement, now;
}

std::int64_t InboxFixture::count(const std::string& query) {
    Poco::Data::Session session = runtime_->database().session();
    Poco::Int64 n = 0;
    session << query, into(n), now;
    return n;
}

void InboxFixture::seedUsers() {
    sql("INSERT INTO users (id, email, name) VALUES (1, 'amel@example.test', 'Admin Amel'), (2, 'bilal@example.test', 'Agent Bilal'),"
        " (3, 'chafia@example.test', 'Viewer Chafia'), (4, 'djamel@example.test', 'No Role Djamel')");
    sql("INSERT INTO user_roles (user_id, role_id) SELECT 1, id FROM roles WHERE name = 'admin'");
    sql("INSERT INTO user_roles (user_id, role_id) SELECT 2, id FROM roles WHERE name = 'agent'");
    sql("INSERT INTO user_roles (user_id, role_id) SELECT 3, id FROM roles WHERE name = 'viewer'");
}

std::int64_t InboxFixture::conversation(std::int64_t id, const std::string& name, const std::string& waId, const std::string& status,
                                        std::int64_t lastMessageAt, std::int64_t assignedUserId, const std::string& intent) {
    const std::string phone = waId.empty() ? "NULL" : "'+" + waId + "'";
    const std::string wa = waId.empty() ? "NULL" : "'" + waId + "'";
    const std::string user = waId.empty() ? "'bsuid-" + std::to_string(id) + "'" : "NULL";
    sql("INSERT INTO whatsapp_contacts (id, wa_id, user_id, phone_e164, profile_name) VALUES (" + std::to_string(id) + ", " + wa + ", " +
        user + ", " + phone + ", '" + name + "')");
    sql("INSERT INTO whatsapp_conversations (id, contact_id, status, assigned_user_id, intent, last_message_at, last_inbound_at, "
        "unread_count, created_at) VALUES (" +
        std::to_string(id) + ", " + std::to_string(id) + ", '" + status + "', " +
        (assignedUserId ? std::to_string(assignedUserId) : "NULL") + ", " + (intent.empty() ? "NULL" : "'" + intent + "'") + ", " +
        std::to_string(lastMessageAt) + ", " + std::to_string(lastMessageAt) + ", 1, 1000)");
    return id;
}

void checkInboxFilters(InboxFixture& f) {
    f.seedUsers();
    f.conversation(1, "Amina Benali", "213555123456", "open", 5000, 2, "b2b");
    f.conversation(2, "Karim Haddad", "213661234567", "pending", 4000, 0, "registration");
    f.conversation(3, "Lina Ait", "213770000001", "resolved", 6000, 1);
    f.conversation(4, "Yacine", "33612345678", "open", 3000, 0, "b2b");
    f.conversation(5, "BSUID only", "", "open", 7000, 2);

    CPPUNIT_ASSERT_EQUAL(Ids({5, 3, 1, 2, 4}), idsOf(f, filter("")));
    CPPUNIT_ASSERT_EQUAL(Ids({5, 1, 4}), idsOf(f, filter("open")));
    CPPUNIT_ASSERT_EQUAL(Ids({2}), idsOf(f, filter("pending")));
    CPPUNIT_ASSERT_EQUAL(Ids({3}), idsOf(f, filter("resolved")));
    CPPUNIT_ASSERT_EQUAL(Ids({5, 1}), idsOf(f, filter("", "mine", 2)));
    CPPUNIT_ASSERT_EQUAL(Ids({5, 1}), idsOf(f, filter("open", "mine", 2)));
    CPPUNIT_ASSERT_EQUAL(Ids({3}), idsOf(f, filter("", "mine", 1)));
    CPPUNIT_ASSERT_EQUAL(Ids({2, 4}), idsOf(f, filter("", "unassigned")));
    CPPUNIT_ASSERT_EQUAL(Ids({4}), idsOf(f, filter("open", "unassigned")));
    CPPUNIT_ASSERT_EQUAL(Ids({1, 4}), idsOf(f, filter("", "all", 0, "b2b")));
    CPPUNIT_ASSERT_EQUAL(Ids({4}), idsOf(f, filter("open", "unassigned", 0, "b2b")));
    CPPUNIT_ASSERT_EQUAL(Ids({}), idsOf(f, filter("resolved", "all", 0, "b2b")));
    CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"b2b", "registration"}), f.store().intents());

    // What a row carries: the assignee's name, the preview of the latest message, the unread count.
    f.sql("INSERT INTO whatsapp_messages (conversation_id, direction, type, body, status, created_at) VALUES"
          " (1, 'in', 'text', 'first', 'received', 4000), (1, 'out', 'text', 'latest answer', 'sent', 5000)");
    const auto rows = f.store().list(filter("open", "mine", 2)).rows;
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), rows.size());
    CPPUNIT_ASSERT_EQUAL(std::string("Agent Bilal"), rows[1].assignedName);
    CPPUNIT_ASSERT_EQUAL(std::string("latest answer"), rows[1].previewBody);
    CPPUNIT_ASSERT_EQUAL(std::string("out"), rows[1].previewDirection);
    CPPUNIT_ASSERT_EQUAL(std::string("+213555123456"), rows[1].phone);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1), rows[1].unread);
    CPPUNIT_ASSERT_EQUAL(std::string(""), rows[0].phone);  // BSUID-only contact
    CPPUNIT_ASSERT_EQUAL(std::int64_t(4), f.store().unreadTotal());  // the resolved one does not count

    // The newest inbound message assigned to a user (the page's notification), and the
    // conversation of an outbound message (Retry's check): only what they say, on each engine.
    const std::int64_t inbound = std::stoll(queryText(f.database(), "SELECT id FROM whatsapp_messages WHERE body = 'first'"));
    const std::int64_t outbound = std::stoll(queryText(f.database(), "SELECT id FROM whatsapp_messages WHERE body = 'latest answer'"));
    const auto mine = f.store().latestInboundAssignedTo(2);
    CPPUNIT_ASSERT_EQUAL(inbound, mine.messageId);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1), mine.conversationId);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(0), f.store().latestInboundAssignedTo(1).messageId);  // conversation 3 has no message
    CPPUNIT_ASSERT_EQUAL(std::int64_t(0), f.store().latestInboundAssignedTo(0).messageId);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1), f.store().outboundConversationOf(outbound));
    CPPUNIT_ASSERT_EQUAL(std::int64_t(0), f.store().outboundConversationOf(inbound));
    CPPUNIT_ASSERT_EQUAL(std::int64_t(0), f.store().outboundConversationOf(999999));
}

void checkInboxSearch(InboxFixture& f) {
    f.conversation(1, "Amina Benali", "213555123456", "open", 5000);
    f.conversation(2, "Karim Haddad", "213661234567", "open", 4000);
    f.conversation(3, "AMINE 50%_off", "33612345678", "open", 3000);
    auto search = [&](const std::string& term) {
        InboxFilter byTerm;
        byTerm.search = term;
        return idsOf(f, byTerm);
    };
    CPPUNIT_ASSERT_EQUAL(Ids({1, 3}), search("amin"));          // name, any case
    CPPUNIT_ASSERT_EQUAL(Ids({2}), search("HADDAD"));
    // One phone in every form people type it.
    for (const std::string form : {"0555 12 34 56", "+213 555 12 34 56", "00213555123456", "213555123456", "555123456", "555 12 34"})
        CPPUNIT_ASSERT_EQUAL_MESSAGE(form, Ids({1}), search(form));
    CPPUNIT_ASSERT_EQUAL(Ids({3}), search("+33 6 12 34 56 78"));
    CPPUNIT_ASSERT_EQUAL(Ids({2}), search("0661"));
    // LIKE's own characters are taken literally.
    CPPUNIT_ASSERT_EQUAL(Ids({3}), search("50%_"));
    CPPUNIT_ASSERT_EQUAL(Ids({}), search("5_%"));
    CPPUNIT_ASSERT_EQUAL(Ids({}), search("nobody"));
}

void checkKeysetPages(InboxFixture& f) {
    // 40 conversations, many sharing a last_message_at: the id breaks the ties.
    for (int i = 1; i <= 40; ++i)
        f.conversation(i, "Person " + std::to_string(i), "2135550000" + std::to_string(10 + i), i % 3 ? "open" : "pending", 1000 + (i / 4) * 10);
    std::vector<std::int64_t> expected = idsOf(f, filter(""));
    CPPUNIT_ASSERT_EQUAL(std::size_t(40), expected.size());

    // Walk in pages of 7; between pages, newer conversations arrive at the top: the walk neither
    // repeats nor skips any of the conversations that were there when it began.
    std::vector<std::int64_t> seen;
    InboxFilter page = filter("");
    page.limit = 7;
    int pages = 0, added = 100;
    while (true) {
        const InboxPage result = f.store().list(page);
        CPPUNIT_ASSERT(result.rows.size() <= 7);
        for (const auto& row : result.rows) seen.push_back(row.id);
        ++pages;
        f.conversation(added, "Newcomer " + std::to_string(added), "2135559990" + std::to_string(added), "open", 900000 + added);
        ++added;
        if (!result.next) break;
        // The cursor travels through the URL: it must survive its text form.
        page.after = Cursor::decode(result.next->encode());
        CPPUNIT_ASSERT(page.after);
    }
    CPPUNIT_ASSERT_EQUAL(6, pages);
    CPPUNIT_ASSERT_EQUAL(expected, seen);

    // A filtered walk too.
    InboxFilter open = filter("open");
    open.limit = 4;
    std::vector<std::int64_t> openSeen;
    while (true) {
        const InboxPage result = f.store().list(open);
        for (const auto& row : result.rows)
            if (row.id < 100) openSeen.push_back(row.id);
        if (!result.next) break;
        open.after = result.next;
    }
    std::vector<std::int64_t> openExpected;
    for (const auto id : expected)
        if (id % 3) openExpected.push_back(id);
    CPPUNIT_ASSERT_EQUAL(openExpected, openSeen);

    CPPUNIT_ASSERT(!Cursor::decode("12.x"));
    CPPUNIT_ASSERT(!Cursor::decode("-1.3"));
    CPPUNIT_ASSERT(!Cursor::decode("1.3; DROP TABLE users"));
    CPPUNIT_ASSERT(!Cursor::decode(""));
}

void checkTimelineAndChanges(InboxFixture& f) {
    f.seedUsers();
    f.conversation(1, "Amina", "213555123456", "open", 5000);
    f.sql("INSERT INTO whatsapp_messages (id, conversation_id, direction, wa_message_id, type, body, payload, status, created_at) VALUES"
          " (1, 1, 'in', 'wamid.A', 'text', 'Bonjour', '{}', 'received', 1000),"
          " (2, 1, 'in', 'wamid.B', 'image', 'photo du devis', '{}', 'received', 2000)");
    f.sql("INSERT INTO whatsapp_messages (id, conversation_id, direction, wa_message_id, type, body, status, error_code, error_title,"
          " context_wa_message_id, created_by_user_id, created_at) VALUES"
          " (3, 1, 'out', 'wamid.C', 'text', 'Merci', 'failed', 131047, 'Re-engagement message', 'wamid.A', 2, 3000)");
    f.sql("INSERT INTO whatsapp_messages (id, conversation_id, direction, wa_message_id, type, body, payload, status,"
          " context_wa_message_id, created_at) VALUES"
          " (4, 1, 'in', 'wamid.D', 'reaction', 'reacted', '{\"reaction\":{\"message_id\":\"wamid.C\",\"emoji\":\"\xF0\x9F\x91\x8D\"}}',"
          " 'received', 'wamid.C', 4000)");

    // The dispatcher's attempts: the Cloud API refused (outside the window), the outbox took it.
    f.sql("INSERT INTO whatsapp_message_attempts (message_id, provider, attempt, outcome, error_code, created_at) VALUES"
          " (3, 'cloud_api', 1, 'refused', 131047, 3100), (3, 'outbox', 1, 'queued', NULL, 3200)");

    CPPUNIT_ASSERT(f.store().markOpened(1, 6000));
    CPPUNIT_ASSERT(!f.store().markOpened(1, 6001));  // nothing left to clear
    CPPUNIT_ASSERT_EQUAL(std::int64_t(0), f.count("SELECT unread_count FROM whatsapp_conversations WHERE id = 1"));

    // Changes, each with its system line; refusals change nothing.
    CPPUNIT_ASSERT(f.store().assign(1, 2, 1, 7000).ok);
    CPPUNIT_ASSERT_EQUAL(std::string("invalid_user"), f.store().assign(1, 4, 1, 7001).error);  // holds no inbox permission
    CPPUNIT_ASSERT_EQUAL(std::string("invalid_user"), f.store().assign(1, 99, 1, 7001).error);
    CPPUNIT_ASSERT_EQUAL(std::string("not_found"), f.store().assign(99, 2, 1, 7001).error);
    CPPUNIT_ASSERT(f.store().resolve(1, 2, 8000).ok);
    CPPUNIT_ASSERT(f.store().resolve(1, 2, 8001).ok);  // already resolved: no second line
    f.conversation(2, "Amina again", "213555000002", "open", 100);
    f.sql("UPDATE whatsapp_conversations SET contact_id = 1 WHERE id = 2");  // the same person wrote again meanwhile
    CPPUNIT_ASSERT_EQUAL(std::string("other_open"), f.store().reopen(1, 2, 8500).error);
    f.sql("UPDATE whatsapp_conversations SET status = 'resolved' WHERE id = 2");
    CPPUNIT_ASSERT(f.store().reopen(1, 2, 9000).ok);
    std::int64_t lead = 0;
    CPPUNIT_ASSERT(f.store().createLead(1, 1, 10000, lead).ok);
    CPPUNIT_ASSERT(lead > 0);
    std::int64_t second = 0;
    CPPUNIT_ASSERT_EQUAL(std::string("lead_exists"), f.store().createLead(1, 1, 10001, second).error);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1), f.count("SELECT COUNT(*) FROM b2b_leads"));
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1), f.count("SELECT COUNT(*) FROM b2b_leads WHERE contact_name = 'Amina'") +
                                              100 * f.count("SELECT COUNT(*) FROM b2b_leads WHERE contact_name IS NULL") +
                                              1000 * f.count("SELECT COUNT(*) FROM b2b_leads WHERE contact_name = '+213555123456'"));
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1), f.count("SELECT COUNT(*) FROM b2b_leads WHERE phone = '+213555123456'"));
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1),
                         f.count("SELECT COUNT(*) FROM b2b_leads WHERE contact_name = 'Amina' AND phone = '+213555123456' AND notes = 'Bonjour'"));
    CPPUNIT_ASSERT_EQUAL(std::string("invalid_lead"), f.store().linkLead(1, 424242, 1, 11000).error);
    f.sql("INSERT INTO organizations (name) VALUES ('Sonatrach Formation')");
    f.sql("INSERT INTO b2b_leads (organization_id, contact_name, phone, created_at) SELECT id, 'M. Brahimi', '0555 99 88 77', 500 "
          "FROM organizations");
    const auto found = f.store().searchLeads("sonatrach");
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), found.size());
    CPPUNIT_ASSERT_EQUAL(std::string("M. Brahimi"), found[0].name);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), f.store().searchLeads("+213 555 99 88 77").size());
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), f.store().searchLeads("").size());
    CPPUNIT_ASSERT(f.store().linkLead(1, found[0].id, 1, 12000).ok);
    CPPUNIT_ASSERT(f.store().assign(1, 0, 1, 13000).ok);

    const auto view = f.store().conversation(1);
    CPPUNIT_ASSERT(view);
    CPPUNIT_ASSERT(!f.store().conversation(99));
    CPPUNIT_ASSERT_EQUAL(std::string("open"), view->summary.status);
    CPPUNIT_ASSERT_EQUAL(found[0].id, view->summary.leadId);
    CPPUNIT_ASSERT_EQUAL(std::string("M. Brahimi"), view->leadName);
    CPPUNIT_ASSERT_EQUAL(std::string("wamid.D"), view->lastInboundWamid);
    std::vector<std::string> lines;
    for (const auto& item : view->timeline)
        lines.push_back(item.message ? "msg:" + std::to_string(item.message->id) : "sys:" + item.system->kind);
    CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"msg:1", "msg:2", "msg:3", "sys:provider_fallback", "sys:assigned", "sys:resolved", "sys:reopened",
                                                   "sys:lead_created", "sys:lead_linked", "sys:unassigned"}),
                         lines);  // the reaction is on message 3, not a line of its own
    const auto& reply = *view->timeline[2].message;
    CPPUNIT_ASSERT(reply.quoteFound);
    CPPUNIT_ASSERT_EQUAL(std::string("Bonjour"), reply.quotedBody);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(131047), reply.errorCode);
    CPPUNIT_ASSERT_EQUAL(std::string("Agent Bilal"), reply.authorName);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), reply.reactions.size());
    CPPUNIT_ASSERT_EQUAL(std::string("\xF0\x9F\x91\x8D"), reply.reactions[0].emoji);
    CPPUNIT_ASSERT_EQUAL(std::string("outbox"), view->timeline[3].system->targetName);
    CPPUNIT_ASSERT_EQUAL(std::string("cloud_api: refused 131047"), view->timeline[3].system->detail);
    CPPUNIT_ASSERT_EQUAL(std::string("Agent Bilal"), view->timeline[4].system->targetName);
    CPPUNIT_ASSERT_EQUAL(std::string("Admin Amel"), view->timeline[4].system->actorName);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1), f.count("SELECT COUNT(*) FROM whatsapp_conversation_events WHERE kind = 'resolved'"));
}

void checkLeads(InboxFixture& f) {
    using plugins::admin_inbox::LeadFilter;
    f.seedUsers();
    f.sql("INSERT INTO organizations (id, name, city) VALUES (1, 'Cevital', 'Béjaïa'), (2, 'Sonatrach Formation', NULL)");
    f.sql("INSERT INTO b2b_leads (id, organization_id, contact_name, phone, email, source, status, notes, created_at, updated_at) VALUES"
          " (1, 1, 'Karim Brahimi', '0661 23 45 67', 'k@cevital.example', 'website', 'new', 'Excel pour 12 employés', 1000, 1000),"
          " (2, NULL, 'Nadia Kaci', '0770 55 66 77', NULL, 'whatsapp', 'contacted', NULL, 2000, 2000),"
          " (3, 2, 'Yacine', NULL, NULL, 'whatsapp', 'new', '', 3000, 3000),"
          " (4, NULL, NULL, '+213 555 00 11 22', NULL, 'platform', 'archived', NULL, 3000, 3000)");
    f.conversation(10, "Karim", "213661234567", "open", 5000);
    f.conversation(11, "Karim", "213661234568", "resolved", 4000);
    f.sql("UPDATE whatsapp_conversations SET b2b_lead_id = 1 WHERE id IN (10, 11)");

    auto ids = [&](LeadFilter filter) {
        std::vector<std::int64_t> out;
        for (const auto& row : f.store().leads(filter).rows) out.push_back(row.id);
        return out;
    };
    LeadFilter all;
    CPPUNIT_ASSERT_EQUAL(Ids({4, 3, 2, 1}), ids(all));  // newest first, the id breaking the tie
    LeadFilter fresh;
    fresh.status = "new";
    CPPUNIT_ASSERT_EQUAL(Ids({3, 1}), ids(fresh));
    LeadFilter byCompany;
    byCompany.search = "cevi";
    CPPUNIT_ASSERT_EQUAL(Ids({1}), ids(byCompany));
    LeadFilter byPhone;
    byPhone.search = "+213 770 55 66 77";  // another form of the number the lead was typed with
    CPPUNIT_ASSERT_EQUAL(Ids({2}), ids(byPhone));
    LeadFilter byName;
    byName.search = "nadia";
    byName.status = "new";
    CPPUNIT_ASSERT_EQUAL(Ids({}), ids(byName));
    // Pages of two: no gap, no repeat, the cursor of the last row shown.
    LeadFilter first;
    first.limit = 2;
    const auto page1 = f.store().leads(first);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), page1.rows.size());
    CPPUNIT_ASSERT(page1.next.has_value());
    LeadFilter second = first;
    second.after = page1.next;
    const auto page2 = f.store().leads(second);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), page2.rows.size());
    CPPUNIT_ASSERT_EQUAL(std::int64_t(2), page2.rows[0].id);
    CPPUNIT_ASSERT(!page2.next.has_value());
    // A row carries its organization and how many conversations it has.
    const auto karim = f.store().leads(byCompany).rows.at(0);
    CPPUNIT_ASSERT_EQUAL(std::string("Cevital"), karim.organization);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(2), karim.conversations);
    CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"archived", "contacted", "new"}), f.store().leadStatuses());

    // One lead.
    CPPUNIT_ASSERT(!f.store().lead(99).has_value());
    CPPUNIT_ASSERT(!f.store().leadExists(99));
    const auto view = f.store().lead(1);
    CPPUNIT_ASSERT(view.has_value());
    CPPUNIT_ASSERT_EQUAL(std::string("Karim Brahimi"), view->lead.contactName);
    CPPUNIT_ASSERT_EQUAL(std::string("k@cevital.example"), view->lead.email);
    CPPUNIT_ASSERT_EQUAL(std::string("Béjaïa"), view->organizationCity);
    CPPUNIT_ASSERT_EQUAL(std::string("Excel pour 12 employés"), view->notes);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), view->conversations.size());
    CPPUNIT_ASSERT_EQUAL(std::int64_t(10), view->conversations[0].id);  // the latest message first
    CPPUNIT_ASSERT_EQUAL(std::string("+213661234567"), view->conversations[0].phone);

    // Status, notes, unlink.
    const std::string statusBefore = queryText(f.database(), "SELECT status FROM b2b_leads WHERE id = 1");
    CPPUNIT_ASSERT(f.store().setLeadStatus(1, "qualified", 2, 9000).ok);
    CPPUNIT_ASSERT_EQUAL(std::string("qualified|9000"), queryRows(f.database(), "SELECT status, updated_at FROM b2b_leads WHERE id = 1"));
    CPPUNIT_ASSERT(f.store().setLeadStatus(1, "qualified", 1, 9500).ok);  // already so: nothing moves, nothing recorded
    CPPUNIT_ASSERT_EQUAL(std::string("qualified|9000"), queryRows(f.database(), "SELECT status, updated_at FROM b2b_leads WHERE id = 1"));
    CPPUNIT_ASSERT_EQUAL(std::string("not_found"), f.store().setLeadStatus(99, "won", 2, 9000).error);
    // Who changed it, from what to what: one event, read back as the lead's history.
    CPPUNIT_ASSERT_EQUAL("1|status|2|" + statusBefore + "|qualified|9000",
                         queryRows(f.database(), "SELECT lead_id, kind, actor_user_id, from_status, to_status, created_at FROM whatsapp_lead_events"));
    {
        const auto history = f.store().lead(1)->history;
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), history.size());
        CPPUNIT_ASSERT_EQUAL(std::string("Agent Bilal"), history[0].actorName);
        CPPUNIT_ASSERT_EQUAL(statusBefore, history[0].fromStatus);
        CPPUNIT_ASSERT_EQUAL(std::string("qualified"), history[0].toStatus);
    }
    CPPUNIT_ASSERT(f.store().addLeadNote(1, "Rappeler jeudi", 9100).ok);
    CPPUNIT_ASSERT(f.store().addLeadNote(2, "Première note", 9100).ok);  // NULL notes
    CPPUNIT_ASSERT(f.store().addLeadNote(3, "Sur une note vide", 9100).ok);  // '' notes
    CPPUNIT_ASSERT_EQUAL(std::string("Excel pour 12 employés\n\nRappeler jeudi"), queryText(f.database(), "SELECT notes FROM b2b_leads WHERE id = 1"));
    CPPUNIT_ASSERT_EQUAL(std::string("Première note"), queryText(f.database(), "SELECT notes FROM b2b_leads WHERE id = 2"));
    CPPUNIT_ASSERT_EQUAL(std::string("Sur une note vide"), queryText(f.database(), "SELECT notes FROM b2b_leads WHERE id = 3"));
    CPPUNIT_ASSERT_EQUAL(std::string("not_found"), f.store().addLeadNote(99, "x", 9100).error);
    CPPUNIT_ASSERT_EQUAL(std::string("not_linked"), f.store().unlinkLead(2, 10, 2, 9200).error);  // another lead's conversation
    CPPUNIT_ASSERT(f.store().unlinkLead(1, 11, 2, 9200).ok);
    CPPUNIT_ASSERT_EQUAL(std::string("not_linked"), f.store().unlinkLead(1, 11, 2, 9300).error);  // already
    CPPUNIT_ASSERT_EQUAL(std::string("|1"), queryRows(f.database(), "SELECT b2b_lead_id FROM whatsapp_conversations WHERE id = 11") + "|" +
                                                queryRows(f.database(), "SELECT b2b_lead_id FROM whatsapp_conversations WHERE id = 10"));
    CPPUNIT_ASSERT_EQUAL(std::string("lead_unlinked|2|1|9200"),
                         queryRows(f.database(), "SELECT kind, actor_user_id, lead_id, created_at FROM whatsapp_conversation_events WHERE conversation_id = 11"));
    const auto timeline = f.store().conversation(11)->timeline;
    CPPUNIT_ASSERT(std::any_of(timeline.begin(), timeline.end(), [](const auto& item) {
        return item.system && item.system->kind == "lead_unlinked" && item.system->actorName == "Agent Bilal" && item.system->leadId == 1;
    }));
}

void checkTemplateOptions(InboxFixture& f) {
    // Active templates only, in name order, each with its header, body and buttons.
    f.sql("INSERT INTO whatsapp_templates (name, language, header, body, buttons, status, created_at, updated_at) VALUES "
          "('bienvenue', 'fr', 'Bienvenue {{first_name}}', 'Bonjour {{first_name}}, le {{date}}.', "
          "'[{\"type\":\"url\",\"text\":\"Suivi\",\"url\":\"https://x.dz/{{1}}\"}]', 'active', 1, 1), "
          "('ancien', 'fr', NULL, 'Ancien', NULL, 'disabled', 1, 1), ('relance', 'ar', NULL, 'مرحبا {{1}}', NULL, 'active', 1, 1)");
    const auto options = f.store().templates();
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), options.size());
    CPPUNIT_ASSERT_EQUAL(std::string("bienvenue|fr"), options[0].name + "|" + options[0].language);
    CPPUNIT_ASSERT_EQUAL(std::string("Bienvenue {{first_name}}"), options[0].definition.header);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), options[0].definition.buttons.size());
    CPPUNIT_ASSERT_EQUAL(std::string("https://x.dz/{{1}}"), options[0].definition.buttons[0].url);
    std::string keys;
    for (const auto& field : sdk::templateFields(options[0].definition)) keys += field.key() + " ";
    CPPUNIT_ASSERT_EQUAL(std::string("header:first_name body:first_name body:date button0:1 "), keys);
    CPPUNIT_ASSERT_EQUAL(std::string("relance|ar"), options[1].name + "|" + options[1].language);
    CPPUNIT_ASSERT(options[1].definition.header.empty() && options[1].definition.buttons.empty());
}

}  // namespace tawasul::test
