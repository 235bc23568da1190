#include "InboxStore.hpp"

#include <algorithm>
#include <functional>
#include <cctype>
#include <map>
#include <regex>
#include <set>

#include <Poco/Data/Statement.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Nullable.h>

namespace tawasul::plugins::admin_inbox {
namespace {

using namespace Poco::Data::Keywords;
using NullableText = Poco::Nullable<std::string>;
using NullableInt = Poco::Nullable<Poco::Int64>;

std::string text(const NullableText& value) { return value.isNull() ? std::string() : value.value(); }
std::int64_t number(const NullableInt& value) { return value.isNull() ? 0 : value.value(); }

// SQL assembled from optional parts, with its parameters numbered in the order they are added
// (SQLite numbers `$N` by first appearance, so each part takes the next numbers).
class QueryBuilder {
public:
    std::string placeholder(Poco::Int64 value) {
        numbers_.push_back(value);
        kinds_.push_back(true);
        return "$" + std::to_string(kinds_.size());
    }
    std::string placeholder(const std::string& value) {
        texts_.push_back(value);
        kinds_.push_back(false);
        return "$" + std::to_string(kinds_.size());
    }
    void bindTo(Poco::Data::Statement& statement) const {
        std::size_t n = 0, t = 0;
        for (const bool isNumber : kinds_) {
            if (isNumber)
                statement, bind(numbers_[n++]);
            else
                statement, bind(texts_[t++]);
        }
    }

private:
    std::vector<bool> kinds_;
    std::vector<Poco::Int64> numbers_;
    std::vector<std::string> texts_;
};

std::string lower(std::string value) {
    std::transform(value.begin(), value.end(), value.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return value;
}

std::string onlyDigits(const std::string& value) {
    std::string digits;
    for (const char c : value)
        if (c >= '0' && c <= '9') digits += c;
    return digits;
}

// The emoji of a stored reaction message (the raw message object is in `payload`).
std::string reactionEmoji(const std::string& payload) {
    try {
        Poco::JSON::Parser parser;
        const auto root = parser.parse(payload).extract<Poco::JSON::Object::Ptr>();
        const auto reaction = root ? root->getObject("reaction") : nullptr;
        return reaction ? reaction->optValue<std::string>("emoji", "") : "";
    } catch (const std::exception&) {
        return "";
    }
}

}  // namespace

std::string Cursor::encode() const { return std::to_string(lastMessageAt) + "." + std::to_string(id); }

std::optional<Cursor> Cursor::decode(const std::string& value) {
    static const std::regex form("([0-9]{1,18})\\.([0-9]{1,18})");
    std::smatch parts;
    if (!std::regex_match(value, parts, form)) return std::nullopt;
    return Cursor{std::stoll(parts[1].str()), std::stoll(parts[2].str())};
}

std::string likeEscape(const std::string& value) {
    std::string out;
    for (const char c : value) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

InboxStore::InboxStore(sdk::Database& database, const sdk::PhoneNormalizer& phones) : database_(database), phones_(phones) {
    // The outbox plugin's table, there only when that plugin's migrations ran: asked once, since
    // migrations do not run while the host serves.
    Poco::Data::Session session = database_.session();
    hasTemplates_ = database_.sql().tableExists(session, "whatsapp_templates");
}

std::string InboxStore::phoneDigitsPattern(const std::string& search) const {
    if (const auto e164 = phones_.toE164(search)) return onlyDigits(*e164);
    std::string digits = onlyDigits(search);
    // "0555 12": the national trunk 0 is not in the E.164 form; "00213..." is an international prefix.
    if (digits.rfind("00", 0) == 0) digits.erase(0, 2);
    else if (digits.rfind('0', 0) == 0) digits.erase(0, 1);
    return digits;
}

namespace {
struct ListQuery {
    std::string sql;
    QueryBuilder params;
    int limit = 0;
};
}  // namespace

static ListQuery buildList(const InboxFilter& filter, const sdk::SqlDialect& dialect, const std::function<std::optional<std::string>(const std::string&)>& phoneOf,
                           const std::function<std::string(const std::string&)>& digitsOf) {
    ListQuery out;
    QueryBuilder& q = out.params;
    std::string where;
    auto condition = [&where](const std::string& part) { where += (where.empty() ? " WHERE " : " AND ") + part; };
    // Conditions in the order of the composite indexes (assigned, intent, status), then the keyset.
    if (filter.owner == "mine") condition("c.assigned_user_id = " + q.placeholder(Poco::Int64(filter.userId)));
    if (filter.owner == "unassigned") condition("c.assigned_user_id IS NULL");
    if (!filter.intent.empty()) condition("c.intent = " + q.placeholder(filter.intent));
    if (!filter.status.empty()) condition("c.status = " + q.placeholder(filter.status));
    if (!filter.search.empty()) {
        // A whole phone number in any form: one lookup in the phone index. Anything else: a
        // case-insensitive substring of the name, or of the phone's digits (a partial number).
        // Matching contacts first, then the list walks its index keeping theirs.
        const auto e164 = phoneOf(filter.search);
        if (e164) {
            condition("c.contact_id IN (SELECT id FROM whatsapp_contacts WHERE phone_e164 = " + q.placeholder(*e164) + ")");
        } else {
            // SQLite's LIKE ignores ASCII case by itself (and its LOWER() knows no more than ASCII);
            // PostgreSQL's ILIKE ignores case in every script.
            const std::string like = " " + dialect.caseInsensitiveLike() + " ";
            std::string part = "c.contact_id IN (SELECT id FROM whatsapp_contacts WHERE profile_name" + like +
                               q.placeholder("%" + likeEscape(filter.search) + "%") + " ESCAPE '\\'";
            const std::string digits = digitsOf(filter.search);
            if (digits.size() >= 3) part += " OR phone_e164 LIKE " + q.placeholder("%" + digits + "%");
            condition(part + ")");
        }
    }
    if (filter.after) {
        const std::string at = q.placeholder(Poco::Int64(filter.after->lastMessageAt));
        const std::string id = q.placeholder(Poco::Int64(filter.after->id));
        // Spelled out rather than a row value: both engines turn it into one index range.
        condition("(c.last_message_at < " + at + " OR (c.last_message_at = " + at + " AND c.id < " + id + "))");
    }
    const int limit = out.limit = std::clamp(filter.limit, 1, 200);
    out.sql =
        "SELECT c.id, c.contact_id, ct.profile_name, ct.phone_e164, ct.wa_id, c.status, c.assigned_user_id, u.name, c.intent, "
        "c.last_inbound_at, c.last_message_at, c.unread_count, c.b2b_lead_id, ct.username, "
        "(SELECT m.type FROM whatsapp_messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1), "
        "(SELECT m.body FROM whatsapp_messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1), "
        "(SELECT m.direction FROM whatsapp_messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) "
        "FROM whatsapp_conversations c JOIN whatsapp_contacts ct ON ct.id = c.contact_id "
        "LEFT JOIN users u ON u.id = c.assigned_user_id" +
        where + " ORDER BY c.last_message_at DESC, c.id DESC LIMIT " + std::to_string(limit + 1);
    return out;
}

std::vector<std::string> InboxStore::explainList(const InboxFilter& filter) {
    const ListQuery query = buildList(
        filter, database_.sql(), [this](const std::string& s) { return phones_.toE164(s); }, [this](const std::string& s) { return phoneDigitsPattern(s); });
    Poco::Data::Session session = database_.session();
    return database_.sql().queryPlan(session, query.sql, [&](Poco::Data::Statement& explain) { query.params.bindTo(explain); });
}

InboxPage InboxStore::list(const InboxFilter& filter) {
    const ListQuery query = buildList(
        filter, database_.sql(), [this](const std::string& s) { return phones_.toE164(s); }, [this](const std::string& s) { return phoneDigitsPattern(s); });
    const int limit = query.limit;
    Poco::Data::Session session = database_.session();
    Poco::Data::Statement select(session);
    select << query.sql;
    query.params.bindTo(select);
    std::vector<Poco::Int64> ids, contactIds, lastMessage, unread;
    std::vector<NullableText> names, phones, waIds, assignedNames, intents, usernames, previewTypes, previewBodies, previewDirections;
    std::vector<std::string> statuses;
    std::vector<NullableInt> assigned, lastInbound, leads;
    select, into(ids), into(contactIds), into(names), into(phones), into(waIds), into(statuses), into(assigned), into(assignedNames),
        into(intents), into(lastInbound), into(lastMessage), into(unread), into(leads), into(usernames), into(previewTypes),
        into(previewBodies), into(previewDirections);
    select.execute();

    InboxPage page;
    const std::size_t shown = std::min(ids.size(), static_cast<std::size_t>(limit));
    for (std::size_t i = 0; i < shown; ++i) {
        InboxRow row;
        row.id = ids[i];
        row.contactId = contactIds[i];
        row.name = text(names[i]);
        row.phone = text(phones[i]);
        row.waId = text(waIds[i]);
        row.username = text(usernames[i]);
        row.status = statuses[i];
        row.assignedUserId = number(assigned[i]);
        row.assignedName = text(assignedNames[i]);
        row.intent = text(intents[i]);
        row.lastInboundAt = number(lastInbound[i]);
        row.lastMessageAt = lastMessage[i];
        row.unread = unread[i];
        row.leadId = number(leads[i]);
        row.previewType = text(previewTypes[i]);
        row.previewBody = text(previewBodies[i]);
        row.previewDirection = text(previewDirections[i]);
        page.rows.push_back(std::move(row));
    }
    if (ids.size() > shown) page.next = Cursor{page.rows.back().lastMessageAt, page.rows.back().id};
    return page;
}

std::vector<std::string> InboxStore::intents() {
    Poco::Data::Session session = database_.session();
    std::vector<std::string> out;
    // DISTINCT over the intent index: one step per intent, not per conversation.
    session << "SELECT DISTINCT intent FROM whatsapp_conversations WHERE intent IS NOT NULL ORDER BY intent LIMIT 50", into(out), now;
    return out;
}

std::int64_t InboxStore::unreadTotal() {
    Poco::Data::Session session = database_.session();
    Poco::Nullable<Poco::Int64> total;
    session << "SELECT SUM(unread_count) FROM whatsapp_conversations WHERE status <> 'resolved' AND unread_count > 0", into(total),
        now;
    return total.isNull() ? 0 : total.value();
}

InboxStore::MineLatest InboxStore::latestInboundAssignedTo(std::int64_t userId) {
    MineLatest out;
    if (userId <= 0) return out;
    Poco::Data::Session session = database_.session();
    Poco::Int64 user = userId;
    std::vector<Poco::Int64> ids, conversations;
    std::vector<std::string> names;
    session << "SELECT m.id, m.conversation_id, COALESCE(ct.profile_name, ct.phone_e164, ct.username, '') FROM whatsapp_messages m "
               "JOIN whatsapp_conversations c ON c.id = m.conversation_id JOIN whatsapp_contacts ct ON ct.id = c.contact_id "
               "WHERE c.assigned_user_id = $1 AND m.direction = 'in' ORDER BY m.id DESC LIMIT 1",
        use(user), into(ids), into(conversations), into(names), now;
    if (ids.empty()) return out;
    out.messageId = ids.front();
    out.conversationId = conversations.front();
    out.name = names.front();
    return out;
}

std::int64_t InboxStore::outboundConversationOf(std::int64_t messageId) {
    Poco::Data::Session session = database_.session();
    Poco::Int64 id = messageId;
    std::vector<Poco::Int64> conversations;
    session << "SELECT conversation_id FROM whatsapp_messages WHERE id = $1 AND direction = 'out'", use(id), into(conversations), now;
    return conversations.empty() ? 0 : conversations.front();
}

std::optional<ConversationView> InboxStore::conversation(std::int64_t id, int messageLimit) {
    Poco::Data::Session session = database_.session();
    Poco::Int64 conversationId = id;
    ConversationView view;
    {
        std::vector<Poco::Int64> contactIds, lastMessage, unread, created;
        std::vector<NullableText> names, phones, waIds, assignedNames, intents, leadNames, leadStatuses, usernames;
        std::vector<std::string> statuses;
        std::vector<NullableInt> assigned, lastInbound, leads;
        session << "SELECT c.contact_id, ct.profile_name, ct.phone_e164, ct.wa_id, c.status, c.assigned_user_id, u.name, c.intent, "
                   "c.last_inbound_at, c.last_message_at, c.unread_count, c.b2b_lead_id, c.created_at, l.contact_name, l.status, ct.username "
                   "FROM whatsapp_conversations c JOIN whatsapp_contacts ct ON ct.id = c.contact_id "
                   "LEFT JOIN users u ON u.id = c.assigned_user_id LEFT JOIN b2b_leads l ON l.id = c.b2b_lead_id WHERE c.id = $1",
            use(conversationId), into(contactIds), into(names), into(phones), into(waIds), into(statuses), into(assigned),
            into(assignedNames), into(intents), into(lastInbound), into(lastMessage), into(unread), into(leads), into(created),
            into(leadNames), into(leadStatuses), into(usernames), now;
        if (contactIds.empty()) return std::nullopt;
        InboxRow& s = view.summary;
        s.id = id;
        s.contactId = contactIds[0];
        s.name = text(names[0]);
        s.phone = text(phones[0]);
        s.waId = text(waIds[0]);
        s.username = text(usernames[0]);
        s.status = statuses[0];
        s.assignedUserId = number(assigned[0]);
        s.assignedName = text(assignedNames[0]);
        s.intent = text(intents[0]);
        s.lastInboundAt = number(lastInbound[0]);
        s.lastMessageAt = lastMessage[0];
        s.unread = unread[0];
        s.leadId = number(leads[0]);
        view.createdAt = created[0];
        view.leadName = text(leadNames[0]);
        view.leadStatus = text(leadStatuses[0]);
    }

    // The latest messages, with the message each one replies to (when it is in this conversation).
    std::vector<Poco::Int64> ids, createdAt;
    std::vector<std::string> directions, types, statuses;
    std::vector<NullableText> wamids, bodies, errorTitles, errorDetails, providers, authors, contexts, payloads, quotedTypes,
        quotedBodies;
    std::vector<NullableInt> errorCodes, quotedIds;
    Poco::Int64 limit = std::clamp(messageLimit, 1, 1000);
    session << "SELECT m.id, m.direction, m.wa_message_id, m.type, m.body, m.status, m.error_code, m.error_title, m.error_details, "
               "m.provider, u.name, m.created_at, m.context_wa_message_id, m.payload, q.id, q.type, q.body "
               "FROM whatsapp_messages m LEFT JOIN users u ON u.id = m.created_by_user_id "
               "LEFT JOIN whatsapp_messages q ON q.wa_message_id = m.context_wa_message_id AND q.conversation_id = m.conversation_id "
               "WHERE m.conversation_id = $1 ORDER BY m.id DESC LIMIT $2",
        use(conversationId), use(limit), into(ids), into(directions), into(wamids), into(types), into(bodies), into(statuses),
        into(errorCodes), into(errorTitles), into(errorDetails), into(providers), into(authors), into(createdAt), into(contexts),
        into(payloads), into(quotedIds), into(quotedTypes), into(quotedBodies), now;

    std::vector<TimelineMessage> messages;
    std::map<std::string, std::size_t> byWamid;
    for (std::size_t i = ids.size(); i-- > 0;) {  // oldest first
        TimelineMessage m;
        m.id = ids[i];
        m.direction = directions[i];
        m.waMessageId = text(wamids[i]);
        m.type = types[i];
        m.body = text(bodies[i]);
        m.status = statuses[i];
        m.errorCode = number(errorCodes[i]);
        m.errorTitle = text(errorTitles[i]);
        m.errorDetails = text(errorDetails[i]);
        m.provider = text(providers[i]);
        m.authorName = text(authors[i]);
        m.createdAt = createdAt[i];
        m.quotedWaMessageId = text(contexts[i]);
        m.quoteFound = !quotedIds[i].isNull();
        m.quotedType = text(quotedTypes[i]);
        m.quotedBody = text(quotedBodies[i]);
        m.payload = text(payloads[i]);
        if (m.direction == "in" && !m.waMessageId.empty()) view.lastInboundWamid = m.waMessageId;
        if (m.type == "reaction") {
            // A reaction belongs on the message it reacts to; alone only when that one is not shown.
            const auto target = byWamid.find(m.quotedWaMessageId);
            const std::string emoji = reactionEmoji(text(payloads[i]));
            if (target != byWamid.end()) {
                auto& reactions = messages[target->second].reactions;
                // The latest reaction of a side replaces its earlier one; an empty emoji removes it.
                reactions.erase(std::remove_if(reactions.begin(), reactions.end(),
                                               [&](const Reaction& r) { return r.direction == m.direction; }),
                                reactions.end());
                if (!emoji.empty()) reactions.push_back({emoji, m.direction});
                continue;
            }
            m.body = emoji;
        }
        if (!m.waMessageId.empty()) byWamid[m.waMessageId] = messages.size();
        messages.push_back(std::move(m));
    }
    const std::int64_t since = messages.empty() ? view.createdAt : std::min(view.createdAt, messages.front().createdAt);

    Poco::Int64 from = since;
    std::vector<std::string> kinds;
    std::vector<NullableText> actors, targets;
    std::vector<NullableInt> leadIds;
    std::vector<Poco::Int64> eventAt;
    session << "SELECT e.kind, a.name, t.name, e.lead_id, e.created_at FROM whatsapp_conversation_events e "
               "LEFT JOIN users a ON a.id = e.actor_user_id LEFT JOIN users t ON t.id = e.target_user_id "
               "WHERE e.conversation_id = $1 AND e.created_at >= $2 ORDER BY e.created_at, e.id",
        use(conversationId), use(from), into(kinds), into(actors), into(targets), into(leadIds), into(eventAt), now;

    for (auto& m : messages) {
        const std::int64_t at = m.createdAt;
        view.timeline.push_back(TimelineItem{at, std::move(m), std::nullopt});
    }
    for (std::size_t i = 0; i < kinds.size(); ++i)
        view.timeline.push_back(
            TimelineItem{eventAt[i], std::nullopt, SystemLine{kinds[i], text(actors[i]), text(targets[i]), number(leadIds[i]), "", eventAt[i], {}}});

    // Provider fallback: the first attempt of a provider after another one gave the message up
    // (the dispatcher's whatsapp_message_attempts, a shared table), with the earlier attempt's
    // provider, outcome and error code for the page to say in its language.
    {
        std::vector<Poco::Int64> attemptAt, attemptIds;
        std::vector<std::string> attemptProviders;
        std::vector<NullableText> previousProviders, previousOutcomes;
        std::vector<NullableInt> previousCodes;
        const std::string previous = "FROM whatsapp_message_attempts p WHERE p.message_id = a.message_id AND p.id < a.id AND p.provider <> a.provider "
                                     "ORDER BY p.id DESC LIMIT 1";
        session << "SELECT a.id, a.created_at, a.provider, (SELECT p.provider " + previous + "), (SELECT p.outcome " + previous +
                       "), (SELECT p.error_code " + previous + ") "
                       "FROM whatsapp_message_attempts a JOIN whatsapp_messages m ON m.id = a.message_id "
                       "WHERE m.conversation_id = $1 AND a.created_at >= $2 AND a.attempt = 1 AND EXISTS ("
                       "SELECT 1 FROM whatsapp_message_attempts p WHERE p.message_id = a.message_id AND p.id < a.id AND p.provider <> a.provider) "
                       "ORDER BY a.created_at, a.id",
            use(conversationId), use(from), into(attemptIds), into(attemptAt), into(attemptProviders), into(previousProviders),
            into(previousOutcomes), into(previousCodes), now;
        for (std::size_t i = 0; i < attemptAt.size(); ++i) {
            FallbackReason reason{text(previousProviders[i]), text(previousOutcomes[i]), number(previousCodes[i])};
            const std::string detail =
                reason.provider + ": " + reason.outcome + (reason.errorCode != 0 ? " " + std::to_string(reason.errorCode) : "");
            view.timeline.push_back(TimelineItem{
                attemptAt[i], std::nullopt, SystemLine{"provider_fallback", "", attemptProviders[i], 0, detail, attemptAt[i], reason}});
        }
    }
    // Internal notes, from the same moment as the system lines.
    {
        std::vector<Poco::Int64> noteIds, noteAt;
        std::vector<std::string> noteAuthors, noteBodies;
        session << "SELECT id, author_name, body, created_at FROM whatsapp_conversation_notes WHERE conversation_id = $1 AND created_at >= $2 "
                   "ORDER BY created_at, id",
            use(conversationId), use(from), into(noteIds), into(noteAuthors), into(noteBodies), into(noteAt), now;
        for (std::size_t i = 0; i < noteIds.size(); ++i)
            view.timeline.push_back(TimelineItem{noteAt[i], std::nullopt, std::nullopt, NoteLine{noteIds[i], noteAuthors[i], noteBodies[i], noteAt[i]}});
    }
    std::stable_sort(view.timeline.begin(), view.timeline.end(), [](const TimelineItem& a, const TimelineItem& b) { return a.at < b.at; });
    return view;
}

bool InboxStore::markOpened(std::int64_t id, std::int64_t at) {
    Poco::Data::Session session = database_.session();
    Poco::Int64 conversation = id, when = at;
    sdk::Transaction tx(database_, session, sdk::Durability::Relaxed);
    Poco::Data::Statement update(session);
    update << "UPDATE whatsapp_conversations SET unread_count = 0, updated_at = $1 WHERE id = $2 AND unread_count > 0", use(when),
        use(conversation);
    const std::size_t changed = update.execute();
    tx.commit();
    return changed > 0;
}

std::vector<UserOption> InboxStore::assignableUsers() {
    Poco::Data::Session session = database_.session();
    std::vector<Poco::Int64> ids;
    std::vector<std::string> names, emails;
    session << "SELECT u.id, u.name, u.email FROM users u WHERE u.is_active = 1 AND EXISTS ("
               "SELECT 1 FROM user_roles ur JOIN role_permissions rp ON rp.role_id = ur.role_id "
               "JOIN permissions p ON p.id = rp.permission_id WHERE ur.user_id = u.id AND p.name = 'whatsapp.inbox.view') "
               "ORDER BY u.name, u.id",
        into(ids), into(names), into(emails), now;
    std::vector<UserOption> out;
    for (std::size_t i = 0; i < ids.size(); ++i) out.push_back({ids[i], names[i], emails[i]});
    return out;
}

void InboxStore::record(Poco::Data::Session& session, std::int64_t conversationId, const std::string& kind, std::int64_t actor,
                        std::int64_t target, std::int64_t lead, std::int64_t at) {
    Poco::Int64 conversation = conversationId, when = at;
    std::string word = kind;
    NullableInt actorId = actor > 0 ? NullableInt(actor) : NullableInt(), targetId = target > 0 ? NullableInt(target) : NullableInt(),
                leadId = lead > 0 ? NullableInt(lead) : NullableInt();
    session << "INSERT INTO whatsapp_conversation_events (conversation_id, kind, actor_user_id, target_user_id, lead_id, created_at) "
               "VALUES ($1, $2, $3, $4, $5, $6)",
        use(conversation), use(word), use(actorId), use(targetId), use(leadId), use(when), now;
}

ChangeResult InboxStore::assign(std::int64_t conversationId, std::int64_t targetUserId, std::int64_t actorUserId, std::int64_t at) {
    if (targetUserId > 0) {
        const auto users = assignableUsers();
        if (std::none_of(users.begin(), users.end(), [&](const UserOption& u) { return u.id == targetUserId; }))
            return {false, "invalid_user"};
    }
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session, sdk::Durability::Full);
    Poco::Int64 conversation = conversationId, when = at;
    NullableInt target = targetUserId > 0 ? NullableInt(targetUserId) : NullableInt();
    std::vector<NullableInt> current;
    session << "SELECT assigned_user_id FROM whatsapp_conversations WHERE id = $1", use(conversation), into(current), now;
    if (current.empty()) return {false, "not_found"};
    if (number(current[0]) == targetUserId) return {true, ""};  // already so: nothing to record
    session << "UPDATE whatsapp_conversations SET assigned_user_id = $1, updated_at = $2 WHERE id = $3", use(target), use(when),
        use(conversation), now;
    record(session, conversationId, targetUserId > 0 ? "assigned" : "unassigned", actorUserId, targetUserId, 0, at);
    tx.commit();
    return {true, ""};
}

ChangeResult InboxStore::resolve(std::int64_t conversationId, std::int64_t actorUserId, std::int64_t at) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session, sdk::Durability::Full);
    Poco::Int64 conversation = conversationId, when = at;
    std::vector<std::string> status;
    session << "SELECT status FROM whatsapp_conversations WHERE id = $1", use(conversation), into(status), now;
    if (status.empty()) return {false, "not_found"};
    if (status[0] == "resolved") return {true, ""};
    session << "UPDATE whatsapp_conversations SET status = 'resolved', resolved_at = $1, unread_count = 0, updated_at = $1 WHERE id = $2",
        use(when), use(conversation), now;
    record(session, conversationId, "resolved", actorUserId, 0, 0, at);
    tx.commit();
    return {true, ""};
}

ChangeResult InboxStore::reopen(std::int64_t conversationId, std::int64_t actorUserId, std::int64_t at) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session, sdk::Durability::Full);
    Poco::Int64 conversation = conversationId, when = at;
    std::vector<std::string> status;
    std::vector<Poco::Int64> contact;
    session << "SELECT status, contact_id FROM whatsapp_conversations WHERE id = $1", use(conversation), into(status), into(contact), now;
    if (status.empty()) return {false, "not_found"};
    if (status[0] == "open") return {true, ""};
    if (status[0] == "pending") {  // still the contact's unresolved conversation: no check needed
        session << "UPDATE whatsapp_conversations SET status = 'open', updated_at = $1 WHERE id = $2", use(when), use(conversation), now;
        record(session, conversationId, "reopened", actorUserId, 0, 0, at);
        tx.commit();
        return {true, ""};
    }
    // One conversation that is not resolved per contact (a unique index says so too).
    Poco::Int64 contactId = contact[0], others = 0;
    session << "SELECT COUNT(*) FROM whatsapp_conversations WHERE contact_id = $1 AND status <> 'resolved' AND id <> $2",
        use(contactId), use(conversation), into(others), now;
    if (others > 0) return {false, "other_open"};
    session << "UPDATE whatsapp_conversations SET status = 'open', resolved_at = NULL, updated_at = $1 WHERE id = $2", use(when),
        use(conversation), now;
    record(session, conversationId, "reopened", actorUserId, 0, 0, at);
    tx.commit();
    return {true, ""};
}

ChangeResult InboxStore::markPending(std::int64_t conversationId, std::int64_t actorUserId, std::int64_t at) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session, sdk::Durability::Full);
    Poco::Int64 conversation = conversationId, when = at;
    std::vector<std::string> status;
    session << "SELECT status FROM whatsapp_conversations WHERE id = $1", use(conversation), into(status), now;
    if (status.empty()) return {false, "not_found"};
    if (status[0] == "pending") return {true, ""};
    // A resolved conversation is reopened first (that checks the contact has no other open one).
    if (status[0] == "resolved") return {false, "resolved"};
    session << "UPDATE whatsapp_conversations SET status = 'pending', updated_at = $1 WHERE id = $2", use(when), use(conversation), now;
    record(session, conversationId, "pending", actorUserId, 0, 0, at);
    tx.commit();
    return {true, ""};
}

ChangeResult InboxStore::createLead(std::int64_t conversationId, std::int64_t actorUserId, std::int64_t at, std::int64_t& leadId) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session, sdk::Durability::Full);
    Poco::Int64 conversation = conversationId, when = at;
    std::vector<NullableInt> existing;
    std::vector<NullableText> name, phone, matchedType;
    std::vector<NullableInt> matchedId;
    session << "SELECT c.b2b_lead_id, ct.profile_name, ct.phone_e164, ct.matched_type, ct.matched_id FROM whatsapp_conversations c "
               "JOIN whatsapp_contacts ct ON ct.id = c.contact_id WHERE c.id = $1",
        use(conversation), into(existing), into(name), into(phone), into(matchedType), into(matchedId), now;
    if (existing.empty()) return {false, "not_found"};
    if (!existing[0].isNull()) return {false, "lead_exists"};
    NullableInt organization;
    if (text(matchedType[0]) == "organization") organization = matchedId[0];
    // The first inbound text says what they asked for.
    std::vector<NullableText> firstText;
    session << "SELECT body FROM whatsapp_messages WHERE conversation_id = $1 AND direction = 'in' AND type = 'text' ORDER BY id LIMIT 1",
        use(conversation), into(firstText), now;
    NullableText notes = firstText.empty() ? NullableText() : firstText[0];
    std::vector<Poco::Int64> ids;
    session << "INSERT INTO b2b_leads (organization_id, contact_name, phone, source, status, notes, created_at, updated_at) "
               "VALUES ($1, $2, $3, 'whatsapp', 'new', $4, $5, $5) RETURNING id",
        use(organization), use(name[0]), use(phone[0]), use(notes), use(when), into(ids), now;
    Poco::Int64 lead = ids.at(0);
    session << "UPDATE whatsapp_conversations SET b2b_lead_id = $1, updated_at = $2 WHERE id = $3", use(lead), use(when), use(conversation), now;
    record(session, conversationId, "lead_created", actorUserId, 0, lead, at);
    tx.commit();
    leadId = lead;
    return {true, ""};
}

ChangeResult InboxStore::linkLead(std::int64_t conversationId, std::int64_t leadId, std::int64_t actorUserId, std::int64_t at) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session, sdk::Durability::Full);
    Poco::Int64 conversation = conversationId, lead = leadId, when = at;
    std::vector<NullableInt> existing;
    session << "SELECT b2b_lead_id FROM whatsapp_conversations WHERE id = $1", use(conversation), into(existing), now;
    if (existing.empty()) return {false, "not_found"};
    Poco::Int64 found = 0;
    session << "SELECT COUNT(*) FROM b2b_leads WHERE id = $1", use(lead), into(found), now;
    if (found == 0) return {false, "invalid_lead"};
    if (number(existing[0]) == leadId) return {true, ""};
    session << "UPDATE whatsapp_conversations SET b2b_lead_id = $1, updated_at = $2 WHERE id = $3", use(lead), use(when), use(conversation), now;
    record(session, conversationId, "lead_linked", actorUserId, 0, leadId, at);
    tx.commit();
    return {true, ""};
}

namespace {
// Finds `term` in a lead's name, its organization's name or its phone; `digits` is the term's
// phone digits (InboxStore::phoneDigitsPattern). "" when the term is empty.
std::string leadSearchCondition(QueryBuilder& q, const std::string& term, const std::string& digits) {
    if (term.empty()) return "";
    std::string where = "(LOWER(l.contact_name) LIKE " + q.placeholder("%" + likeEscape(lower(term)) + "%") +
                        " ESCAPE '\\' OR LOWER(o.name) LIKE " + q.placeholder("%" + likeEscape(lower(term)) + "%") + " ESCAPE '\\'";
    // Leads keep the phone as typed ("0555 99 88 77"): compare digits with the separators
    // removed, on the national significant part (the last 9 digits) so that any prefix form matches.
    if (digits.size() >= 3)
        where += " OR REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(l.phone, ' ', ''), '-', ''), '.', ''), '(', ''), ')', '') LIKE " +
                 q.placeholder("%" + digits.substr(digits.size() > 9 ? digits.size() - 9 : 0) + "%");
    return where + ")";
}
}  // namespace

std::vector<LeadOption> InboxStore::searchLeads(const std::string& term, int limit) {
    QueryBuilder q;
    const std::string condition = leadSearchCondition(q, term, phoneDigitsPattern(term));
    const std::string where = condition.empty() ? "" : " WHERE " + condition;
    Poco::Data::Session session = database_.session();
    Poco::Data::Statement select(session);
    select << "SELECT l.id, l.contact_name, l.phone, l.status, o.name FROM b2b_leads l LEFT JOIN organizations o ON o.id = l.organization_id" +
                  where + " ORDER BY l.created_at DESC, l.id DESC LIMIT " + std::to_string(std::clamp(limit, 1, 100));
    q.bindTo(select);
    std::vector<Poco::Int64> ids;
    std::vector<NullableText> names, phones, organizations;
    std::vector<std::string> statuses;
    select, into(ids), into(names), into(phones), into(statuses), into(organizations);
    select.execute();
    std::vector<LeadOption> out;
    for (std::size_t i = 0; i < ids.size(); ++i) out.push_back({ids[i], text(names[i]), text(phones[i]), statuses[i], text(organizations[i])});
    return out;
}

LeadListPage InboxStore::leads(const LeadFilter& filter) {
    QueryBuilder q;
    std::string where;
    auto condition = [&where](const std::string& part) { where += (where.empty() ? " WHERE " : " AND ") + part; };
    // The status first, then the keyset: the order of b2b_leads_status_created_idx.
    if (!filter.status.empty()) condition("l.status = " + q.placeholder(filter.status));
    const std::string search = leadSearchCondition(q, filter.search, phoneDigitsPattern(filter.search));
    if (!search.empty()) condition(search);
    if (filter.after) {
        const std::string at = q.placeholder(Poco::Int64(filter.after->lastMessageAt));
        const std::string id = q.placeholder(Poco::Int64(filter.after->id));
        condition("(l.created_at < " + at + " OR (l.created_at = " + at + " AND l.id < " + id + "))");
    }
    const int limit = std::clamp(filter.limit, 1, 200);
    Poco::Data::Session session = database_.session();
    Poco::Data::Statement select(session);
    select << "SELECT l.id, l.contact_name, l.phone, l.email, l.source, l.status, l.organization_id, o.name, l.created_at, l.updated_at, "
              "(SELECT COUNT(*) FROM whatsapp_conversations c WHERE c.b2b_lead_id = l.id) "
              "FROM b2b_leads l LEFT JOIN organizations o ON o.id = l.organization_id" +
                  where + " ORDER BY l.created_at DESC, l.id DESC LIMIT " + std::to_string(limit + 1);
    q.bindTo(select);
    std::vector<Poco::Int64> ids, createdAt, updatedAt, counts;
    std::vector<NullableText> names, phones, emails, organizations;
    std::vector<std::string> sources, statuses;
    std::vector<NullableInt> organizationIds;
    select, into(ids), into(names), into(phones), into(emails), into(sources), into(statuses), into(organizationIds), into(organizations),
        into(createdAt), into(updatedAt), into(counts);
    select.execute();
    LeadListPage page;
    for (std::size_t i = 0; i < ids.size() && i < static_cast<std::size_t>(limit); ++i)
        page.rows.push_back({ids[i], text(names[i]), text(phones[i]), text(emails[i]), sources[i], statuses[i], number(organizationIds[i]),
                             text(organizations[i]), createdAt[i], updatedAt[i], counts[i]});
    if (ids.size() > static_cast<std::size_t>(limit)) page.next = Cursor{page.rows.back().createdAt, page.rows.back().id};
    return page;
}

std::optional<LeadView> InboxStore::lead(std::int64_t id) {
    Poco::Data::Session session = database_.session();
    Poco::Int64 leadId = id;
    std::vector<NullableText> names, phones, emails, notes, organizations, cities;
    std::vector<std::string> sources, statuses;
    std::vector<NullableInt> organizationIds;
    std::vector<Poco::Int64> createdAt, updatedAt;
    session << "SELECT l.contact_name, l.phone, l.email, l.source, l.status, l.organization_id, o.name, o.city, l.notes, l.created_at, "
               "l.updated_at FROM b2b_leads l LEFT JOIN organizations o ON o.id = l.organization_id WHERE l.id = $1",
        use(leadId), into(names), into(phones), into(emails), into(sources), into(statuses), into(organizationIds), into(organizations),
        into(cities), into(notes), into(createdAt), into(updatedAt), now;
    if (names.empty()) return std::nullopt;
    LeadView view;
    view.lead = {id, text(names[0]), text(phones[0]), text(emails[0]), sources[0], statuses[0], number(organizationIds[0]),
                 text(organizations[0]), createdAt[0], updatedAt[0], 0};
    view.notes = text(notes[0]);
    view.organizationCity = text(cities[0]);
    std::vector<Poco::Int64> conversationIds, lastAt;
    std::vector<NullableText> contactNames, contactPhones;
    std::vector<std::string> conversationStatuses;
    session << "SELECT c.id, ct.profile_name, ct.phone_e164, c.status, c.last_message_at FROM whatsapp_conversations c "
               "JOIN whatsapp_contacts ct ON ct.id = c.contact_id WHERE c.b2b_lead_id = $1 ORDER BY c.last_message_at DESC, c.id DESC LIMIT 100",
        use(leadId), into(conversationIds), into(contactNames), into(contactPhones), into(conversationStatuses), into(lastAt), now;
    for (std::size_t i = 0; i < conversationIds.size(); ++i)
        view.conversations.push_back({conversationIds[i], text(contactNames[i]), text(contactPhones[i]), conversationStatuses[i], lastAt[i]});
    view.lead.conversations = static_cast<std::int64_t>(view.conversations.size());
    std::vector<std::string> kinds;
    std::vector<NullableText> actors, actorEmails, froms, tos;
    std::vector<Poco::Int64> eventAt;
    session << "SELECT e.kind, u.name, u.email, e.from_status, e.to_status, e.created_at FROM whatsapp_lead_events e "
               "LEFT JOIN users u ON u.id = e.actor_user_id WHERE e.lead_id = $1 ORDER BY e.created_at, e.id LIMIT 200",
        use(leadId), into(kinds), into(actors), into(actorEmails), into(froms), into(tos), into(eventAt), now;
    for (std::size_t i = 0; i < kinds.size(); ++i)
        view.history.push_back({kinds[i], !text(actors[i]).empty() ? text(actors[i]) : text(actorEmails[i]), text(froms[i]), text(tos[i]), eventAt[i]});
    return view;
}

bool InboxStore::leadExists(std::int64_t id) {
    Poco::Data::Session session = database_.session();
    Poco::Int64 leadId = id;
    std::vector<Poco::Int64> found;
    session << "SELECT id FROM b2b_leads WHERE id = $1", use(leadId), into(found), now;
    return !found.empty();
}

std::vector<std::string> InboxStore::leadStatuses() {
    Poco::Data::Session session = database_.session();
    std::vector<std::string> statuses;
    session << "SELECT DISTINCT status FROM b2b_leads ORDER BY status", into(statuses), now;
    return statuses;
}

ChangeResult InboxStore::setLeadStatus(std::int64_t leadId, const std::string& status, std::int64_t actorUserId, std::int64_t at) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session, sdk::Durability::Full);
    Poco::Int64 lead = leadId, when = at;
    std::string word = status;
    std::vector<std::string> before;
    session << "SELECT status FROM b2b_leads WHERE id = $1", use(lead), into(before), now;
    if (before.empty()) return {false, "not_found"};
    if (before.front() == status) return {true, ""};
    Poco::Data::Statement update(session);
    // updated_at moves only with a real change: it is what the contact matcher's refresh follows.
    update << "UPDATE b2b_leads SET status = $1, updated_at = $2 WHERE id = $3 AND status <> $1", use(word), use(when), use(lead);
    if (update.execute() == 0) return {true, ""};
    NullableInt actor = actorUserId > 0 ? NullableInt(actorUserId) : NullableInt();
    std::string from = before.front(), kind = "status";
    session << "INSERT INTO whatsapp_lead_events (lead_id, kind, actor_user_id, from_status, to_status, created_at) "
               "VALUES ($1, $2, $3, $4, $5, $6)",
        use(lead), use(kind), use(actor), use(from), use(word), use(when), now;
    tx.commit();
    return {true, ""};
}

ChangeResult InboxStore::addLeadNote(std::int64_t leadId, const std::string& note, std::int64_t at) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session, sdk::Durability::Full);
    Poco::Int64 lead = leadId, when = at;
    std::string paragraph = note, appended = "\n\n" + note;
    Poco::Data::Statement update(session);
    update << "UPDATE b2b_leads SET notes = CASE WHEN notes IS NULL OR notes = '' THEN $1 ELSE notes || $2 END, updated_at = $3 WHERE id = $4",
        use(paragraph), use(appended), use(when), use(lead);
    const std::size_t changed = update.execute();
    tx.commit();
    if (changed == 0) return {false, "not_found"};
    return {true, ""};
}

ChangeResult InboxStore::unlinkLead(std::int64_t leadId, std::int64_t conversationId, std::int64_t actorUserId, std::int64_t at) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session, sdk::Durability::Full);
    Poco::Int64 lead = leadId, conversation = conversationId, when = at;
    Poco::Data::Statement update(session);
    update << "UPDATE whatsapp_conversations SET b2b_lead_id = NULL, updated_at = $1 WHERE id = $2 AND b2b_lead_id = $3", use(when),
        use(conversation), use(lead);
    if (update.execute() == 0) return {false, "not_linked"};
    record(session, conversationId, "lead_unlinked", actorUserId, 0, leadId, at);
    tx.commit();
    return {true, ""};
}

ChangeResult InboxStore::addNote(std::int64_t conversationId, std::int64_t authorUserId, const std::string& authorName,
                                 const std::string& body, std::int64_t at) {
    std::string text;
    for (std::size_t i = 0; i < body.size(); ++i)  // line ends as one kind
        if (!(body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n')) text += body[i];
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {false, "empty_note"};
    text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
    std::size_t characters = 0;
    for (const char c : text)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++characters;
    if (characters > kMaxConversationNoteChars) return {false, "note_too_long"};
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session, sdk::Durability::Full);
    Poco::Int64 conversation = conversationId, when = at;
    std::vector<Poco::Int64> found;
    session << "SELECT id FROM whatsapp_conversations WHERE id = $1", use(conversation), into(found), now;
    if (found.empty()) return {false, "not_found"};
    NullableInt author = authorUserId > 0 ? NullableInt(authorUserId) : NullableInt();
    std::string name = authorName;
    session << "INSERT INTO whatsapp_conversation_notes (conversation_id, author_user_id, author_name, body, created_at) VALUES ($1, $2, $3, $4, $5)",
        use(conversation), use(author), use(name), use(text), use(when), now;
    tx.commit();
    return {true, ""};
}

bool InboxStore::exists(std::int64_t id) {
    Poco::Data::Session session = database_.session();
    Poco::Int64 conversationId = id;
    std::vector<Poco::Int64> found;
    session << "SELECT id FROM whatsapp_conversations WHERE id = $1", use(conversationId), into(found), now;
    return !found.empty();
}

std::vector<InboxStore::AccountAlert> InboxStore::accountAlerts(std::int64_t nowMillis, std::size_t limit) {
    std::vector<AccountAlert> out;
    Poco::Data::Session session = database_.session();
    std::vector<std::string> codes, messages;
    Poco::Int64 at = nowMillis, most = static_cast<Poco::Int64>(limit);
    try {
        // The two that stop sending reach the page through the provider's health instead.
        session << "SELECT code, message FROM whatsapp_alerts WHERE source = 'meta_account' AND resolved_at IS NULL "
                   "AND code NOT IN ('RESTRICTED_CUSTOMER_INITIATED_MESSAGING', 'ACCOUNT_DISABLED') "
                   "AND (expires_at IS NULL OR expires_at > $1) ORDER BY id DESC LIMIT $2",
            use(at), use(most), into(codes), into(messages), now;
    } catch (const Poco::Exception&) {
        return out;  // no expires_at: cloud_api's migrations never ran, so it raised none
    }
    for (std::size_t i = 0; i < codes.size(); ++i) out.push_back({codes[i], messages[i]});
    return out;
}

std::vector<TemplateOption> InboxStore::templates() {
    Poco::Data::Session session = database_.session();
    std::vector<TemplateOption> out;
    if (!hasTemplates_) return out;
    std::vector<std::string> names, languages;
    std::vector<NullableText> bodies, headers, buttons, reviews;
    session << "SELECT name, language, body, header, buttons, meta_status FROM whatsapp_templates WHERE status = 'active' "
               "ORDER BY name, language",
        into(names), into(languages), into(bodies), into(headers), into(buttons), into(reviews), now;
    for (std::size_t i = 0; i < names.size(); ++i) {
        TemplateOption option{names[i], languages[i], {}, text(reviews[i])};
        option.definition.header = text(headers[i]);
        option.definition.body = text(bodies[i]);
        option.definition.buttons = sdk::TemplateDefinition::buttonsFromJson(text(buttons[i]));
        out.push_back(std::move(option));
    }
    return out;
}

}  // namespace tawasul::plugins::admin_inbox
