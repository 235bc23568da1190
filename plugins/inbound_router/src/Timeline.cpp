#include "Timeline.hpp"

#include <Poco/Data/Statement.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Stringifier.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "tawasul/sdk/Clock.hpp"
#include "tawasul/sdk/Json.hpp"
#include "tawasul/whatsapp/TimelineWrites.hpp"

namespace tawasul::plugins::inbound_router {
namespace {

using namespace Poco::Data::Keywords;
using Poco::JSON::Array;
using Poco::JSON::Object;
using Text = Poco::Nullable<std::string>;
using Int = Poco::Nullable<Poco::Int64>;

// Rows per multi-row statement: far below both engines' parameter limits (SQLite 32,766,
// PostgreSQL 65,535) at a dozen columns, and large enough that a batch is one statement.
constexpr std::size_t kRowsPerStatement = 500;

std::string field(const Object& object, const std::string& key) { return sdk::jsonText(object, key); }
// Ids are keys the writes look up again: one that is not an id is treated as absent.
std::string idField(const Object& object, const std::string& key) { return sdk::jsonIdentifier(object, key); }

Object::Ptr objectAt(const Object& object, const std::string& key) {
    return object.has(key) && object.isObject(key) ? object.getObject(key) : nullptr;
}

Array::Ptr arrayAt(const Object& object, const std::string& key) {
    return object.has(key) && object.isArray(key) ? object.getArray(key) : nullptr;
}

std::string toJson(const Object& object) {
    std::ostringstream out;
    object.stringify(out);
    return out.str();
}

Text orNull(const std::string& text) { return text.empty() ? Text() : Text(text); }

// Meta's timestamps are seconds as strings; the timeline counts milliseconds.
std::int64_t millisFrom(const Object& object, std::int64_t fallback) {
    const std::string text = field(object, "timestamp");
    try {
        std::size_t used = 0;
        const long long seconds = std::stoll(text, &used);
        if (used == text.size() && seconds > 0) return seconds * 1000;
    } catch (const std::exception&) {
    }
    return fallback;
}

std::string jsonEvent(std::initializer_list<std::pair<const char*, Poco::Int64>> numbers,
                      std::initializer_list<std::pair<const char*, std::string>> texts = {}) {
    Object event;
    for (const auto& [key, value] : numbers) event.set(key, value);
    for (const auto& [key, value] : texts) event.set(key, value);
    return toJson(event);
}

// Each chunk of at most kRowsPerStatement of `count` rows, as [first, last).
template <typename F>
void inChunks(std::size_t count, F&& each) {
    for (std::size_t first = 0; first < count; first += kRowsPerStatement) each(first, std::min(count, first + kRowsPerStatement));
}

}  // namespace

int statusRank(const std::string& status) { return sdk::statusRank(status); }

Timeline::Timeline(const sdk::SqlDialect& dialect, const KeywordRules& rules, std::shared_ptr<sdk::ContactMatcher> matcher,
                   const sdk::PhoneNormalizer& phones, std::int64_t now)
    : dialect_(dialect), rules_(rules), matcher_(std::move(matcher)), phones_(phones), now_(now) {}

std::string Timeline::p() { return dialect_.placeholder(++parameter_); }

// "CAST($n AS T1), CAST($n+1 AS T2), ...": typed values for a VALUES list that no column types
// (PostgreSQL would take an untyped parameter there for text).
std::string Timeline::casts(std::initializer_list<const char*> types) {
    std::string text;
    for (const char* type : types) {
        if (!text.empty()) text += ", ";
        text += "CAST(" + p();
        text += std::string(" AS ") + type + ")";
    }
    return text;
}

// On PostgreSQL the rows a batch reads and then writes are locked as they are read, in id order:
// two batches that share rows then wait for each other in one order and never deadlock. SQLite's
// transaction holds the one writer lock already.
std::string Timeline::lockClause() const { return " ORDER BY id" + dialect_.forUpdate(); }

// ---- phase 1: parse, normalise, route ---------------------------------------------------------

void Timeline::add(std::int64_t eventId, const Object& notification) {
    // All of an event or none of it: a body that throws half way (a value of the wrong type deep
    // inside) leaves nothing behind, so that its job can fail alone while the batch is written.
    const std::size_t items = items_.size(), messages = messages_.size(), statuses = statuses_.size(), errors = errors_.size();
    try {
        addEntries(eventId, notification);
    } catch (...) {
        items_.erase(items_.begin() + static_cast<long>(items), items_.end());
        messages_.erase(messages_.begin() + static_cast<long>(messages), messages_.end());
        statuses_.erase(statuses_.begin() + static_cast<long>(statuses), statuses_.end());
        errors_.erase(errors_.begin() + static_cast<long>(errors), errors_.end());
        throw;
    }
}

void Timeline::addEntries(std::int64_t eventId, const Object& notification) {
    const Array::Ptr entries = arrayAt(notification, "entry");
    for (std::size_t e = 0; entries && e < entries->size(); ++e) {
        const Object::Ptr entry = entries->getObject(static_cast<unsigned>(e));
        const Array::Ptr changes = entry ? arrayAt(*entry, "changes") : nullptr;
        for (std::size_t c = 0; changes && c < changes->size(); ++c) {
            const Object::Ptr change = changes->getObject(static_cast<unsigned>(c));
            if (!change) continue;
            const Object::Ptr value = objectAt(*change, "value");
            // Other fields (template status updates, account alerts, ...) stay in the stored event.
            if (value && field(*change, "field") == "messages") addChange(eventId, *value);
        }
    }
}

void Timeline::addChange(std::int64_t eventId, const Object& value) {
    const Object::Ptr metadata = objectAt(value, "metadata");
    const std::string phoneNumberId = metadata ? idField(*metadata, "phone_number_id") : "";
    addErrors(eventId, "value", "", value);
    if (const Array::Ptr messages = arrayAt(value, "messages")) {
        for (std::size_t i = 0; i < messages->size(); ++i)
            if (const Object::Ptr message = messages->getObject(static_cast<unsigned>(i)))
                addMessage(eventId, phoneNumberId, value, *message);
    }
    if (const Array::Ptr statuses = arrayAt(value, "statuses")) {
        for (std::size_t i = 0; i < statuses->size(); ++i)
            if (const Object::Ptr status = statuses->getObject(static_cast<unsigned>(i))) addStatus(eventId, *status);
    }
}

void Timeline::addMessage(std::int64_t eventId, const std::string& phoneNumberId, const Object& value, const Object& message) {
    Message m;
    m.eventId = eventId;
    m.phoneNumberId = phoneNumberId;
    m.wamid = idField(message, "id");
    m.waId = idField(message, "from");
    m.userId = idField(message, "from_user_id");
    // The sender's profile comes from the contacts array (absent for system messages).
    if (const Array::Ptr contacts = arrayAt(value, "contacts")) {
        for (std::size_t i = 0; i < contacts->size(); ++i) {
            const Object::Ptr contact = contacts->getObject(static_cast<unsigned>(i));
            if (!contact) continue;
            const std::string contactWaId = idField(*contact, "wa_id");
            const std::string contactUserId = idField(*contact, "user_id");
            const bool same = (!m.waId.empty() && contactWaId == m.waId) || (!m.userId.empty() && contactUserId == m.userId) ||
                              contacts->size() == 1;
            if (!same) continue;
            if (const Object::Ptr profile = objectAt(*contact, "profile")) m.profileName = field(*profile, "name");
            if (m.waId.empty()) m.waId = contactWaId;
            if (m.userId.empty()) m.userId = contactUserId;
            break;
        }
    }
    if (m.waId.empty() && m.userId.empty()) {
        addErrors(eventId, "message", m.wamid, message);
        return;  // nobody to attach it to; the event keeps the bytes
    }
    if (!m.waId.empty())
        if (const auto e164 = phones_.toE164(m.waId)) m.phone = *e164;
    m.rendered = renderMessage(message);
    m.at = millisFrom(message, now_);
    m.payload = toJson(message);
    if (m.rendered.type == "text" || m.rendered.type == "button" || m.rendered.type == "interactive")
        if (const auto match = rules_.match(m.rendered.body)) m.rule = match->rule;
    messages_.push_back(std::move(m));
    items_.push_back({Item::Kind::Message, messages_.size() - 1});
    addErrors(eventId, "message", messages_.back().wamid, message, messages_.size() - 1);
}

void Timeline::addStatus(std::int64_t eventId, const Object& status) {
    Status s;
    s.eventId = eventId;
    s.wamid = idField(status, "id");
    s.word = field(status, "status");
    if (s.wamid.empty() || s.word.empty()) return;
    s.occurredAt = millisFrom(status, now_);
    s.recipient = orNull(idField(status, "recipient_id"));
    if (const Array::Ptr errors = arrayAt(status, "errors"); errors && errors->size() > 0) {
        if (const Object::Ptr first = errors->getObject(0)) {
            // optValue: a code of another type ("x", an object) is no code, not a failed event.
            if (first->has("code")) s.code = first->optValue<Poco::Int64>("code", 0);
            s.title = orNull(field(*first, "title"));
            const Object::Ptr data = objectAt(*first, "error_data");
            s.details = orNull(data ? field(*data, "details") : field(*first, "message"));
        }
    }
    s.payload = toJson(status);
    statuses_.push_back(std::move(s));
    items_.push_back({Item::Kind::Status, statuses_.size() - 1});
    addErrors(eventId, "status", statuses_.back().wamid, status);
}

void Timeline::addErrors(std::int64_t eventId, const std::string& source, const std::string& waMessageId, const Object& holder,
                         std::size_t onlyIfMessage) {
    const Array::Ptr errors = arrayAt(holder, "errors");
    for (std::size_t i = 0; errors && i < errors->size(); ++i) {
        const Object::Ptr error = errors->getObject(static_cast<unsigned>(i));
        if (!error) continue;
        ErrorRow row;
        row.eventId = eventId;
        row.source = source;
        row.wamid = waMessageId;
        row.code = error->optValue<Poco::Int64>("code", 0);
        row.title = field(*error, "title");
        row.message = orNull(field(*error, "message"));
        const Object::Ptr data = objectAt(*error, "error_data");
        row.details = orNull(data ? field(*data, "details") : "");
        row.onlyIfMessage = onlyIfMessage;
        errors_.push_back(std::move(row));
    }
}

void Timeline::lookUpMatches() {
    if (!matcher_) return;
    std::vector<std::string> waIds;
    std::set<std::string> seen;
    for (const Message& m : messages_)
        if (!m.waId.empty() && seen.insert(m.waId).second) waIds.push_back(m.waId);
    if (waIds.empty()) return;
    matches_ = matcher_->matchAll(waIds);
}

// ---- phase 2: write ---------------------------------------------------------------------------

void Timeline::write(Poco::Data::Session& session) {
    // First, before any row is locked: a send storing one of these wamids (the dispatcher takes
    // the same locks) waits for this commit, or this waits for it, so that a status is applied to
    // its message either way (on PostgreSQL; SQLite has one writer). One statement for the batch.
    std::vector<std::string> wamids;
    wamids.reserve(statuses_.size());
    for (const Status& s : statuses_) wamids.push_back(s.wamid);
    sdk::lockWamids(session, dialect_, std::move(wamids));
    writeContacts(session);
    writeConversations(session);
    writeMessages(session);
    route(session);
    writeLeads(session);
    writeLeadNotes(session);
    updateConversations(session);
    writeStatuses(session);
    writeErrors(session);
    collectEvents();
}

// Contacts are keyed on the business number plus whichever id Meta gave: wa_id (the phone) or the
// business-scoped user id of a user with a username, which may be the only one. The batch's
// contacts are read once; each message then finds its contact as the per-event code did (the
// lowest id among those with its wa_id or its user id), fills in what was missing, keeps the
// profile name current, and names a contact not matched yet from the phone index.
void Timeline::writeContacts(Poco::Data::Session& session) {
    // Two workers may meet the same new sender at once (PostgreSQL): the unique keys decide, and
    // the loser reads the winner's row and replays the batch on it.
    for (int attempt = 0; attempt < 3; ++attempt)
        if (replayContacts(session)) return;
    throw std::runtime_error("contacts of the batch could not be written: other writers kept creating them");
}

bool Timeline::replayContacts(Poco::Data::Session& session) {
    contacts_.clear();
    byWaId_.clear();
    byUserId_.clear();
    // Read every contact that any message of the batch may name, per business number.
    std::map<std::string, std::pair<std::set<std::string>, std::set<std::string>>> keys;
    for (const Message& m : messages_) {
        auto& [waIds, userIds] = keys[m.phoneNumberId];
        if (!m.waId.empty()) waIds.insert(m.waId);
        if (!m.userId.empty()) userIds.insert(m.userId);
    }
    for (const auto& [number, ids] : keys) {
        const auto& [waIds, userIds] = ids;
        std::vector<std::string> values;  // bound by reference: filled before binding
        values.reserve(1 + waIds.size() + userIds.size());
        values.push_back(number);
        parameter_ = 0;
        std::string sql = "SELECT id, wa_id, user_id, phone_e164, profile_name, matched_type, matched_id FROM whatsapp_contacts "
                          "WHERE phone_number_id = " + p() + " AND (";
        std::string in;
        for (const std::string& id : waIds) {
            in += (in.empty() ? "" : ", ") + p();
            values.push_back(id);
        }
        if (!waIds.empty()) sql += "wa_id IN (" + in + ")";
        in.clear();
        for (const std::string& id : userIds) {
            in += (in.empty() ? "" : ", ") + p();
            values.push_back(id);
        }
        if (!userIds.empty()) sql += std::string(waIds.empty() ? "" : " OR ") + "user_id IN (" + in + ")";
        sql += ")" + lockClause();
        std::vector<Poco::Int64> ids_;
        std::vector<Text> wa, user, phone, name, matchedType;
        std::vector<Int> matchedId;
        Poco::Data::Statement select(session);
        select << sql;
        for (std::string& value : values) select, use(value);
        select, into(ids_), into(wa), into(user), into(phone), into(name), into(matchedType), into(matchedId);
        select.execute();
        for (std::size_t r = 0; r < ids_.size(); ++r) {
            Contact c;
            c.id = ids_[r];
            c.phoneNumberId = number;
            c.waId = wa[r];
            c.userId = user[r];
            c.phone = phone[r];
            c.name = name[r];
            c.matchedType = matchedType[r];
            c.matchedId = matchedId[r];
            contacts_.push_back(std::move(c));
        }
    }
    // Lowest id first, so that a key held by two contacts names the one the per-event code found.
    std::sort(contacts_.begin(), contacts_.end(), [](const Contact& a, const Contact& b) { return a.id < b.id; });
    for (std::size_t i = 0; i < contacts_.size(); ++i) {
        const Contact& c = contacts_[i];
        if (!c.waId.isNull()) byWaId_.emplace(std::make_pair(c.phoneNumberId, c.waId.value()), i);
        if (!c.userId.isNull()) byUserId_.emplace(std::make_pair(c.phoneNumberId, c.userId.value()), i);
    }
    const std::size_t existing = contacts_.size();
    // New contacts come after every stored one, in the order they appear.
    const auto rank = [&](std::size_t i) { return i; };

    for (std::size_t index = 0; index < messages_.size(); ++index) {
        Message& m = messages_[index];
        std::size_t found = kNone;
        if (!m.waId.empty())
            if (auto it = byWaId_.find({m.phoneNumberId, m.waId}); it != byWaId_.end()) found = it->second;
        if (!m.userId.empty())
            if (auto it = byUserId_.find({m.phoneNumberId, m.userId}); it != byUserId_.end())
                if (found == kNone || rank(it->second) < rank(found)) found = it->second;
        bool matched = false;
        if (found != kNone) {
            Contact& c = contacts_[found];
            matched = !c.matchedType.isNull();
            // Fill in what was missing and keep the profile name current; never erase a known id.
            bool changed = false;
            if (c.waId.isNull() && !m.waId.empty()) {
                c.waId = m.waId;
                byWaId_.emplace(std::make_pair(m.phoneNumberId, m.waId), found);
                changed = true;
            }
            if (c.userId.isNull() && !m.userId.empty()) {
                c.userId = m.userId;
                byUserId_.emplace(std::make_pair(m.phoneNumberId, m.userId), found);
                changed = true;
            }
            if (c.phone.isNull() && !m.phone.isNull()) {
                c.phone = m.phone;
                changed = true;
            }
            if (!m.profileName.empty() && (c.name.isNull() || c.name.value() != m.profileName)) {
                c.name = m.profileName;
                changed = true;
            }
            if (changed) c.touched = true;
        } else {
            Contact c;
            c.fresh = true;
            c.phoneNumberId = m.phoneNumberId;
            c.waId = orNull(m.waId);
            c.userId = orNull(m.userId);
            c.phone = m.phone;
            c.name = orNull(m.profileName);
            contacts_.push_back(std::move(c));
            found = contacts_.size() - 1;
            if (!m.waId.empty()) byWaId_.emplace(std::make_pair(m.phoneNumberId, m.waId), found);
            if (!m.userId.empty()) byUserId_.emplace(std::make_pair(m.phoneNumberId, m.userId), found);
        }
        Contact& c = contacts_[found];
        if (!matched && !m.waId.empty() && matcher_) {
            auto it = matches_.find(m.waId);
            // A sender the look-up before the transaction did not see (should not happen): ask now.
            if (it == matches_.end()) it = matches_.emplace(m.waId, matcher_->match(m.waId)).first;
            if (!it->second.empty()) {
                c.matchedType = it->second.front().kind;
                c.matchedId = it->second.front().id;
                c.matchChanged = true;
            }
        }
        m.contact = found;
        m.contactName = c.name;
        m.contactPhone = c.phone;
        m.matchedType = c.matchedType;
        m.matchedId = c.matchedId;
    }

    // The new contacts, with everything the batch said about them, in one statement. On
    // PostgreSQL in key order, so that two batches creating the same senders take them in one order.
    std::vector<std::size_t> fresh;
    for (std::size_t i = existing; i < contacts_.size(); ++i) fresh.push_back(i);
    std::sort(fresh.begin(), fresh.end(), [&](std::size_t a, std::size_t b) {
            const auto key = [&](const Contact& c) {
                return std::make_tuple(c.phoneNumberId, c.waId.isNull() ? std::string() : c.waId.value(),
                                       c.userId.isNull() ? std::string() : c.userId.value());
            };
            return key(contacts_[a]) < key(contacts_[b]);
        });
    Poco::Int64 at = now_;
    bool complete = true;
    inChunks(fresh.size(), [&](std::size_t first, std::size_t last) {
        parameter_ = 0;
        std::string sql = "INSERT INTO whatsapp_contacts (phone_number_id, wa_id, user_id, phone_e164, profile_name, matched_type, "
                          "matched_id, created_at, updated_at) VALUES ";
        Poco::Data::Statement insert(session);
        for (std::size_t i = first; i < last; ++i) {
            sql += i == first ? "(" : ", (";
            for (int column = 0; column < 9; ++column) sql += (column ? ", " : "") + p();
            sql += ")";
        }
        insert << sql + " ON CONFLICT DO NOTHING RETURNING id, wa_id, user_id";
        for (std::size_t i = first; i < last; ++i) {
            Contact& c = contacts_[fresh[i]];
            insert, use(c.phoneNumberId), use(c.waId), use(c.userId), use(c.phone), use(c.name), use(c.matchedType),
                use(c.matchedId), use(at), use(at);
        }
        std::vector<Poco::Int64> ids;
        std::vector<Text> wa, user;
        insert, into(ids), into(wa), into(user);
        insert.execute();
        // RETURNING gives no order: each row is found again by its key.
        for (std::size_t r = 0; r < ids.size(); ++r) {
            for (std::size_t i = first; i < last; ++i) {
                Contact& c = contacts_[fresh[i]];
                if (c.id == 0 && c.waId == wa[r] && c.userId == user[r]) {
                    c.id = ids[r];
                    break;
                }
            }
        }
        for (std::size_t i = first; i < last; ++i) complete = complete && contacts_[fresh[i]].id != 0;
    });
    if (!complete) return false;  // another writer created one of them first: read again

    // What changed on stored contacts, in one statement.
    std::vector<std::size_t> changed;
    for (std::size_t i = 0; i < existing; ++i)
        if (contacts_[i].touched || contacts_[i].matchChanged) changed.push_back(i);
    std::vector<int> touched(contacts_.size(), 0);
    for (std::size_t i : changed) touched[i] = contacts_[i].touched ? 1 : 0;
    inChunks(changed.size(), [&](std::size_t first, std::size_t last) {
        parameter_ = 0;
        std::string sql = "WITH v (id, wa_id, user_id, phone_e164, profile_name, matched_type, matched_id, touched) AS (VALUES ";
        for (std::size_t i = first; i < last; ++i) {
            sql += i == first ? "(" : ", (";
            sql += casts({"BIGINT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "BIGINT", "INTEGER"}) + ")";
        }
        const std::string stamp = p();
        sql += ") UPDATE whatsapp_contacts SET wa_id = v.wa_id, user_id = v.user_id, phone_e164 = v.phone_e164, "
               "profile_name = v.profile_name, matched_type = v.matched_type, matched_id = v.matched_id, "
               "updated_at = CASE WHEN v.touched = 1 THEN " + stamp + " ELSE whatsapp_contacts.updated_at END "
               "FROM v WHERE whatsapp_contacts.id = v.id";
        Poco::Data::Statement update(session);
        update << sql;
        for (std::size_t i = first; i < last; ++i) {
            Contact& c = contacts_[changed[i]];
            update, use(c.id), use(c.waId), use(c.userId), use(c.phone), use(c.name), use(c.matchedType), use(c.matchedId),
                use(touched[changed[i]]);
        }
        update, use(at);
        update.execute();
    });
    return true;
}

// The contact's conversation that is not resolved; a resolved one is reopened (one timeline per
// person), and a first one is created, its last_message_at the time of the first message. Every
// message with a sender does this, a redelivered one too, as the per-event code did.
void Timeline::writeConversations(Poco::Data::Session& session) {
    conversations_.clear();
    std::vector<std::size_t> conversationOf(contacts_.size(), kNone);
    std::vector<std::size_t> order;  // contacts in the order their first message comes
    std::vector<bool> listed(contacts_.size(), false);
    for (const Message& m : messages_)
        if (!listed[m.contact]) {
            listed[m.contact] = true;
            order.push_back(m.contact);
        }
    std::vector<Poco::Int64> contactIds;
    std::map<Poco::Int64, std::size_t> contactIndex;
    for (std::size_t c : order) {
        contactIds.push_back(contacts_[c].id);
        contactIndex[contacts_[c].id] = c;
    }
    const auto adopt = [&](Poco::Int64 id, Poco::Int64 contactId, const Int& assigned, const Int& lead, const Text& intent) {
        const std::size_t c = contactIndex.at(contactId);
        if (conversationOf[c] != kNone) return;
        Conversation conversation;
        conversation.id = id;
        conversation.contactId = contactId;
        conversation.contact = c;
        conversation.assigned = assigned;
        conversation.lead = lead;
        conversation.intent = intent;
        conversations_.push_back(conversation);
        conversationOf[c] = conversations_.size() - 1;
    };
    const auto idList = [&](const std::vector<Poco::Int64>& ids) {
        std::string list;
        for (std::size_t i = 0; i < ids.size(); ++i) list += (i ? ", " : "") + p();
        return list;
    };
    // Open ones (a contact this batch creates has none).
    std::vector<Poco::Int64> stored;
    for (std::size_t c : order)
        if (!contacts_[c].fresh) stored.push_back(contacts_[c].id);
    inChunks(stored.size(), [&](std::size_t first, std::size_t last) {
        std::vector<Poco::Int64> chunk(stored.begin() + static_cast<long>(first), stored.begin() + static_cast<long>(last));
        parameter_ = 0;
        Poco::Data::Statement select(session);
        select << "SELECT id, contact_id, assigned_user_id, b2b_lead_id, intent FROM whatsapp_conversations WHERE contact_id IN (" +
                      idList(chunk) + ") AND status <> 'resolved'" + lockClause();
        for (Poco::Int64& id : chunk) select, use(id);
        std::vector<Poco::Int64> ids, contacts;
        std::vector<Int> assigned, leads;
        std::vector<Text> intents;
        select, into(ids), into(contacts), into(assigned), into(leads), into(intents);
        select.execute();
        for (std::size_t r = 0; r < ids.size(); ++r) adopt(ids[r], contacts[r], assigned[r], leads[r], intents[r]);
    });
    // Reopened ones: the latest conversation of a contact whose conversations are all resolved.
    std::vector<Poco::Int64> closed;
    for (std::size_t c : order)
        if (conversationOf[c] == kNone && !contacts_[c].fresh) closed.push_back(contacts_[c].id);
    std::vector<Poco::Int64> reopenedContacts;
    inChunks(closed.size(), [&](std::size_t first, std::size_t last) {
        std::vector<Poco::Int64> chunk(closed.begin() + static_cast<long>(first), closed.begin() + static_cast<long>(last));
        parameter_ = 0;
        Poco::Int64 at = now_;
        Poco::Data::Statement reopen(session);
        const std::string stamp = p();
        reopen << "UPDATE whatsapp_conversations SET status = 'open', resolved_at = NULL, updated_at = " + stamp +
                      " WHERE status = 'resolved' AND id IN (SELECT MAX(id) FROM whatsapp_conversations WHERE contact_id IN (" +
                      idList(chunk) + ") GROUP BY contact_id) RETURNING id, contact_id, assigned_user_id, b2b_lead_id, intent";
        reopen, use(at);
        for (Poco::Int64& id : chunk) reopen, use(id);
        std::vector<Poco::Int64> ids, contacts;
        std::vector<Int> assigned, leads;
        std::vector<Text> intents;
        reopen, into(ids), into(contacts), into(assigned), into(leads), into(intents);
        reopen.execute();
        for (std::size_t r = 0; r < ids.size(); ++r) {
            adopt(ids[r], contacts[r], assigned[r], leads[r], intents[r]);
            reopenedContacts.push_back(contacts[r]);
        }
    });
    // The first message of a reopened contact tells the inbox so.
    for (Poco::Int64 contactId : reopenedContacts) {
        const std::size_t c = contactIndex.at(contactId);
        for (Message& m : messages_)
            if (m.contact == c) {
                m.reopened = true;
                break;
            }
    }
    // New ones, created at the time of the contact's first message in the batch.
    std::vector<std::size_t> missing;
    std::vector<Poco::Int64> firstAt(contacts_.size(), 0);
    for (const Message& m : messages_)
        if (conversationOf[m.contact] == kNone && firstAt[m.contact] == 0) firstAt[m.contact] = m.at;
    for (std::size_t c : order)
        if (conversationOf[c] == kNone) missing.push_back(c);
    std::sort(missing.begin(), missing.end(), [&](std::size_t a, std::size_t b) { return contacts_[a].id < contacts_[b].id; });
    Poco::Int64 at = now_;
    inChunks(missing.size(), [&](std::size_t first, std::size_t last) {
        parameter_ = 0;
        std::string sql = "INSERT INTO whatsapp_conversations (contact_id, status, last_message_at, unread_count, created_at, updated_at) VALUES ";
        for (std::size_t i = first; i < last; ++i) {
            sql += i == first ? "(" : ", (";
            const std::string contact = p(), when = p(), created = p(), updated = p();
            sql += contact + ", 'open', " + when + ", 0, " + created + ", " + updated + ")";
        }
        Poco::Data::Statement insert(session);
        insert << sql + " ON CONFLICT DO NOTHING RETURNING id, contact_id";
        for (std::size_t i = first; i < last; ++i) insert, use(contacts_[missing[i]].id), use(firstAt[missing[i]]), use(at), use(at);
        std::vector<Poco::Int64> ids, contacts;
        insert, into(ids), into(contacts);
        insert.execute();
        for (std::size_t r = 0; r < ids.size(); ++r) adopt(ids[r], contacts[r], Int(), Int(), Text());
    });
    for (std::size_t c : missing)
        if (conversationOf[c] == kNone)
            throw std::runtime_error("no open conversation for contact " + std::to_string(contacts_[c].id));
    for (Message& m : messages_) m.conversation = conversationOf[m.contact];
}

// Messages are deduplicated on wamid: the first of a batch is inserted (unless stored before),
// every later one is Meta delivering it again.
void Timeline::writeMessages(Poco::Data::Session& session) {
    std::vector<std::size_t> candidates;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < messages_.size(); ++i) {
        const Message& m = messages_[i];
        if (m.wamid.empty() || seen.insert(m.wamid).second) candidates.push_back(i);
    }
    Poco::Int64 updatedAt = now_;
    std::string direction = "in";
    struct Row {
        Text wamid, body, context, media, mime;
    };
    std::vector<Row> rows(messages_.size());
    for (std::size_t i : candidates) {
        const Message& m = messages_[i];
        rows[i] = {orNull(m.wamid), orNull(m.rendered.body), orNull(m.rendered.contextId), orNull(m.rendered.mediaId),
                   orNull(m.rendered.mediaMimeType)};
    }
    std::vector<Poco::Int64> conversationIds(messages_.size(), 0);
    for (std::size_t i : candidates) conversationIds[i] = conversations_[messages_[i].conversation].id;
    inChunks(candidates.size(), [&](std::size_t first, std::size_t last) {
        parameter_ = 0;
        std::string sql = "INSERT INTO whatsapp_messages (conversation_id, direction, wa_message_id, type, body, payload, status, "
                          "context_wa_message_id, media_id, media_mime_type, webhook_event_id, created_at, updated_at) VALUES ";
        for (std::size_t k = first; k < last; ++k) {
            sql += k == first ? "(" : ", (";
            const std::string a = p(), b = p(), c = p(), d = p(), e = p(), f = p();
            sql += a + ", 'in', " + b + ", " + c + ", " + d + ", " + e + ", 'received', " + f;
            for (int column = 0; column < 5; ++column) sql += ", " + p();
            sql += ")";
        }
        Poco::Data::Statement insert(session);
        insert << sql + " ON CONFLICT (wa_message_id) WHERE wa_message_id IS NOT NULL DO NOTHING RETURNING id, wa_message_id";
        for (std::size_t k = first; k < last; ++k) {
            const std::size_t i = candidates[k];
            Message& m = messages_[i];
            Row& row = rows[i];
            insert, use(conversationIds[i]), use(row.wamid), use(m.rendered.type), use(row.body), use(m.payload), use(row.context),
                use(row.media), use(row.mime), use(m.eventId), use(m.at), use(updatedAt);
        }
        std::vector<Poco::Int64> ids;
        std::vector<Text> wamids;
        insert, into(ids), into(wamids);
        insert.execute();
        // RETURNING gives no order: found again by wamid; the rare message without one is the
        // only row without a wamid in its statement or is matched by position among those.
        std::map<std::string, Poco::Int64> byWamid;
        std::vector<Poco::Int64> withoutWamid;
        for (std::size_t r = 0; r < ids.size(); ++r) {
            if (wamids[r].isNull()) withoutWamid.push_back(ids[r]);
            else byWamid[wamids[r].value()] = ids[r];
        }
        std::sort(withoutWamid.begin(), withoutWamid.end());
        std::size_t nextWithout = 0;
        for (std::size_t k = first; k < last; ++k) {
            Message& m = messages_[candidates[k]];
            if (m.wamid.empty()) {
                if (nextWithout < withoutWamid.size()) m.id = withoutWamid[nextWithout++];
            } else if (auto it = byWamid.find(m.wamid); it != byWamid.end()) {
                m.id = it->second;
            }
            m.inserted = m.id != 0;
        }
    });
    for (Message& m : messages_) {
        if (m.inserted) {
            ++counts_.messages;
            Conversation& conversation = conversations_[m.conversation];
            // The 24-hour window runs from the latest inbound message, whatever order they arrive in.
            conversation.latestAt = conversation.newMessages ? std::max(conversation.latestAt, m.at) : m.at;
            ++conversation.newMessages;
            conversation.changed = true;
        } else {
            ++counts_.duplicates;  // Meta delivered it again: nothing changes
        }
    }
}

// Keyword actions of each new message, in order, on the conversations as the batch leaves them.
void Timeline::route(Poco::Data::Session& session) {
    std::map<std::string, Int> users;  // assign: email → user id
    for (const Message& m : messages_)
        if (m.inserted && m.rule)
            for (const RuleAction& action : m.rule->actions)
                if (action.kind == RuleAction::Kind::Assign) users.emplace(action.value, Int());
    if (!users.empty()) {
        for (auto& [email, id] : users) {
            std::string address = email;
            std::vector<Poco::Int64> ids;
            session << "SELECT id FROM users WHERE email = $1", use(address), into(ids), now;
            if (!ids.empty()) id = ids.front();
        }
    }
    const std::set<Poco::Int64> existingLeads = existingLeadsOfSenders(session);
    for (std::size_t index = 0; index < messages_.size(); ++index) {
        Message& m = messages_[index];
        if (!m.inserted || !m.rule) continue;
        Conversation& conversation = conversations_[m.conversation];
        for (const RuleAction& action : m.rule->actions) {
            switch (action.kind) {
                case RuleAction::Kind::Tag:
                    conversation.intent = action.value;
                    conversation.changed = true;
                    break;
                case RuleAction::Kind::CreateB2bLead: {
                    // One lead per conversation: a second "devis" changes nothing.
                    if (!conversation.lead.isNull()) break;
                    // A sender who already is a lead's contact asks again for that lead: the
                    // conversation is linked to it and the request noted on it, not made a second lead.
                    if (const Int known = leadOfSender(m); !known.isNull() && existingLeads.count(known.value())) {
                        leadNotes_.push_back({known.value(), "WhatsApp " + sdk::isoTime(m.at) + ": " + m.rendered.body.substr(0, 2000)});
                        conversation.lead = known;
                        conversation.changed = true;
                        steps_[index].push_back({Step::Kind::LeadLinked, &action, leadNotes_.size() - 1});
                        break;
                    }
                    Lead lead;
                    lead.conversation = m.conversation;
                    if (!m.matchedType.isNull() && m.matchedType.value() == "organization") lead.organization = m.matchedId;
                    lead.name = m.contactName;
                    lead.phone = m.contactPhone;
                    lead.notes = m.rendered.body.substr(0, 2000);
                    leads_.push_back(lead);
                    conversation.lead = Poco::Int64(0);  // linked once inserted
                    conversation.changed = true;
                    steps_[index].push_back({Step::Kind::Lead, &action, leads_.size() - 1});
                    break;
                }
                case RuleAction::Kind::Assign:
                    if (conversation.assigned.isNull() && !users.at(action.value).isNull()) {
                        conversation.assigned = users.at(action.value);
                        conversation.changed = true;
                    }
                    break;
                case RuleAction::Kind::AutoReply:
                    // Sent by the dispatcher's job, after this transaction commits.
                    steps_[index].push_back({Step::Kind::AutoReply, &action, kNone});
                    break;
            }
        }
    }
}

void Timeline::writeLeads(Poco::Data::Session& session) {
    Poco::Int64 at = now_;
    inChunks(leads_.size(), [&](std::size_t first, std::size_t last) {
        parameter_ = 0;
        std::string sql = "INSERT INTO b2b_leads (organization_id, contact_name, phone, source, status, notes, created_at, updated_at) VALUES ";
        for (std::size_t i = first; i < last; ++i) {
            sql += i == first ? "(" : ", (";
            const std::string a = p(), b = p(), c = p(), d = p(), e = p(), f = p();
            sql += a + ", " + b + ", " + c + ", 'whatsapp', 'new', " + d + ", " + e + ", " + f + ")";
        }
        Poco::Data::Statement insert(session);
        insert << sql + " RETURNING id, contact_name, phone, notes";
        for (std::size_t i = first; i < last; ++i) {
            Lead& lead = leads_[i];
            insert, use(lead.organization), use(lead.name), use(lead.phone), use(lead.notes), use(at), use(at);
        }
        std::vector<Poco::Int64> ids;
        std::vector<Text> names, phones;
        std::vector<std::string> notes;
        insert, into(ids), into(names), into(phones), into(notes);
        insert.execute();
        // Both engines return the rows of an INSERT ... VALUES in the order given; checked, since
        // nothing else tells two leads apart. A mismatch fails the batch, whose jobs then run alone.
        if (ids.size() != last - first) throw std::runtime_error("b2b_leads: fewer rows returned than inserted");
        for (std::size_t i = first; i < last; ++i) {
            Lead& lead = leads_[i];
            const std::size_t r = i - first;
            if (names[r] != lead.name || phones[r] != lead.phone || notes[r] != lead.notes)
                throw std::runtime_error("b2b_leads: rows returned in another order than inserted");
            lead.id = ids[r];
            conversations_[lead.conversation].lead = lead.id;
            ++counts_.leads;
        }
    });
}

// The lead a sender already is: the first of their phone's matches that is a row of b2b_leads (a
// source of kind b2b_lead may be another table, whose ids are not leads).
Timeline::Int Timeline::leadOfSender(const Message& m) const {
    const auto it = matches_.find(m.waId);
    if (it == matches_.end()) return Int();
    for (const sdk::MatchCandidate& candidate : it->second)
        if (candidate.kind == "b2b_lead" && candidate.source == "b2b_leads") return Poco::Int64(candidate.id);
    return Int();
}

// Which of the leads the batch's quote requests may be linked to still exist (the phone index may
// name one deleted since it was read): one statement, only when there is such a request, locking
// them in id order on PostgreSQL before their notes are written.
std::set<Poco::Int64> Timeline::existingLeadsOfSenders(Poco::Data::Session& session) {
    std::set<Poco::Int64> wanted;
    for (const Message& m : messages_) {
        if (!m.inserted || !m.rule) continue;
        const bool asksForLead = std::any_of(m.rule->actions.begin(), m.rule->actions.end(),
                                             [](const RuleAction& a) { return a.kind == RuleAction::Kind::CreateB2bLead; });
        if (const Int known = asksForLead ? leadOfSender(m) : Int(); !known.isNull()) wanted.insert(known.value());
    }
    std::set<Poco::Int64> existing;
    std::vector<Poco::Int64> ids(wanted.begin(), wanted.end());
    inChunks(ids.size(), [&](std::size_t first, std::size_t last) {
        parameter_ = 0;
        std::string in;
        for (std::size_t i = first; i < last; ++i) in += (i == first ? "" : ", ") + p();
        Poco::Data::Statement select(session);
        select << "SELECT id FROM b2b_leads WHERE id IN (" + in + ")" + lockClause();
        for (std::size_t i = first; i < last; ++i) select, use(ids[i]);
        std::vector<Poco::Int64> found;
        select, into(found);
        select.execute();
        existing.insert(found.begin(), found.end());
    });
    return existing;
}

// Each linked lead's notes gain the requests, in the batch's order, a paragraph each. One statement per
// lead: only a lead's own contact asking again comes here, a few in a batch at most.
void Timeline::writeLeadNotes(Poco::Data::Session& session) {
    std::map<Poco::Int64, std::string> added;  // ordered by id: the order the rows were locked in
    for (const LeadNote& note : leadNotes_) {
        std::string& text = added[note.lead];
        text += (text.empty() ? "" : "\n\n") + note.text;
    }
    Poco::Int64 at = now_;
    for (auto& [id, text] : added) {
        Poco::Int64 lead = id;
        std::string appended = "\n\n" + text;
        session << "UPDATE b2b_leads SET notes = CASE WHEN notes IS NULL OR notes = '' THEN $1 ELSE notes || $2 END, updated_at = $3 "
                   "WHERE id = $4",
            use(text), use(appended), use(at), use(lead), now;
    }
}

void Timeline::updateConversations(Poco::Data::Session& session) {
    std::vector<std::size_t> changed;
    for (std::size_t i = 0; i < conversations_.size(); ++i)
        if (conversations_[i].changed) changed.push_back(i);
    Poco::Int64 at = now_;
    inChunks(changed.size(), [&](std::size_t first, std::size_t last) {
        parameter_ = 0;
        std::string sql = "WITH v (id, latest, n, intent, assigned, lead) AS (VALUES ";
        for (std::size_t i = first; i < last; ++i) {
            sql += i == first ? "(" : ", (";
            sql += casts({"BIGINT", "BIGINT", "INTEGER", "TEXT", "BIGINT", "BIGINT"}) + ")";
        }
        const std::string stamp = p();
        sql += ") UPDATE whatsapp_conversations SET "
               "last_inbound_at = CASE WHEN v.n > 0 AND (whatsapp_conversations.last_inbound_at IS NULL OR "
               "whatsapp_conversations.last_inbound_at < v.latest) THEN v.latest ELSE whatsapp_conversations.last_inbound_at END, "
               "last_message_at = CASE WHEN v.n > 0 AND whatsapp_conversations.last_message_at < v.latest THEN v.latest "
               "ELSE whatsapp_conversations.last_message_at END, "
               "unread_count = whatsapp_conversations.unread_count + v.n, "
               "updated_at = CASE WHEN v.n > 0 THEN " + stamp + " ELSE whatsapp_conversations.updated_at END, "
               "intent = v.intent, assigned_user_id = v.assigned, b2b_lead_id = v.lead FROM v WHERE whatsapp_conversations.id = v.id";
        Poco::Data::Statement update(session);
        update << sql;
        for (std::size_t i = first; i < last; ++i) {
            Conversation& c = conversations_[changed[i]];
            update, use(c.id), use(c.latestAt), use(c.newMessages), use(c.intent), use(c.assigned), use(c.lead);
        }
        update, use(at);
        update.execute();
    });
}

// Statuses are kept in whatsapp_message_statuses, one row per (wamid, status, time), even when the
// message is not known yet: the dispatcher applies what is stored when it learns the wamid, by the
// same rule (sdk::applyMessageStatus) that moves a stored outbound message here, status by status.
void Timeline::writeStatuses(Poco::Data::Session& session) {
    std::vector<std::size_t> candidates;
    std::set<std::tuple<std::string, std::string, Poco::Int64>> seen;
    for (std::size_t i = 0; i < statuses_.size(); ++i)
        if (seen.insert({statuses_[i].wamid, statuses_[i].word, statuses_[i].occurredAt}).second) candidates.push_back(i);
    std::sort(candidates.begin(), candidates.end(), [&](std::size_t a, std::size_t b) {
            const Status &x = statuses_[a], &y = statuses_[b];
            return std::tie(x.wamid, x.word, x.occurredAt) < std::tie(y.wamid, y.word, y.occurredAt);
        });
    Poco::Int64 receivedAt = now_;
    inChunks(candidates.size(), [&](std::size_t first, std::size_t last) {
        parameter_ = 0;
        std::string sql = "INSERT INTO whatsapp_message_statuses (wa_message_id, status, recipient_id, error_code, error_title, "
                          "error_details, payload, webhook_event_id, occurred_at, received_at) VALUES ";
        for (std::size_t k = first; k < last; ++k) {
            sql += k == first ? "(" : ", (";
            for (int column = 0; column < 10; ++column) sql += (column ? ", " : "") + p();
            sql += ")";
        }
        Poco::Data::Statement insert(session);
        insert << sql + " ON CONFLICT DO NOTHING RETURNING wa_message_id, status, occurred_at";
        for (std::size_t k = first; k < last; ++k) {
            Status& s = statuses_[candidates[k]];
            insert, use(s.wamid), use(s.word), use(s.recipient), use(s.code), use(s.title), use(s.details), use(s.payload),
                use(s.eventId), use(s.occurredAt), use(receivedAt);
        }
        std::vector<std::string> wamids, words;
        std::vector<Poco::Int64> times;
        insert, into(wamids), into(words), into(times);
        insert.execute();
        std::set<std::tuple<std::string, std::string, Poco::Int64>> inserted;
        for (std::size_t r = 0; r < wamids.size(); ++r) inserted.insert({wamids[r], words[r], times[r]});
        for (std::size_t k = first; k < last; ++k) {
            Status& s = statuses_[candidates[k]];
            s.inserted = inserted.count({s.wamid, s.word, s.occurredAt}) > 0;
            if (s.inserted) ++counts_.statuses;
        }
    });

    // The stored outbound messages these new statuses are about, moved status by status.
    std::vector<std::string> wamids;
    {
        std::set<std::string> unique;
        for (const Status& s : statuses_)
            if (s.inserted && (s.word == "failed" || statusRank(s.word) > 0)) unique.insert(s.wamid);
        wamids.assign(unique.begin(), unique.end());
    }
    struct Outbound {
        Poco::Int64 id = 0, conversation = 0;
        std::string status;
        Int code, failedAt, sentAt, deliveredAt, readAt;
        Text title, details;
        int failed = 0;
        bool changed = false;
    };
    std::map<std::string, Outbound> outbound;
    inChunks(wamids.size(), [&](std::size_t first, std::size_t last) {
        parameter_ = 0;
        std::string in;
        for (std::size_t k = first; k < last; ++k) in += (k == first ? "" : ", ") + p();
        Poco::Data::Statement select(session);
        select << "SELECT id, conversation_id, wa_message_id, status FROM whatsapp_messages WHERE wa_message_id IS NOT NULL AND "
                  "wa_message_id IN (" + in + ") AND direction = 'out'" + lockClause();
        for (std::size_t k = first; k < last; ++k) select, use(wamids[k]);
        std::vector<Poco::Int64> ids, conversations;
        std::vector<std::string> found, states;
        select, into(ids), into(conversations), into(found), into(states);
        select.execute();
        for (std::size_t r = 0; r < ids.size(); ++r) {
            Outbound& o = outbound[found[r]];
            o.id = ids[r];
            o.conversation = conversations[r];
            o.status = states[r];
        }
    });
    for (Status& s : statuses_) {
        if (!s.inserted) continue;
        auto it = outbound.find(s.wamid);
        if (it == outbound.end()) continue;
        Outbound& o = it->second;
        if (s.word == "failed") {
            // Failed is recorded whatever came before, except that a read message stays read.
            if (o.status != "read") o.status = "failed";
            o.code = s.code;
            o.title = s.title;
            o.details = s.details;
            o.failedAt = s.occurredAt;
            o.failed = 1;
        } else {
            // Forward only: sent < delivered < read, and nothing moves a failed message.
            const int rank = statusRank(s.word);
            if (rank == 0 || o.status == "failed" || statusRank(o.status) >= rank) continue;
            o.status = s.word;
            (rank == 1 ? o.sentAt : rank == 2 ? o.deliveredAt : o.readAt) = s.occurredAt;
        }
        o.changed = true;
        s.changedConversation = o.conversation;
    }
    std::vector<Outbound*> changed;
    for (auto& [wamid, o] : outbound)
        if (o.changed) changed.push_back(&o);
    std::sort(changed.begin(), changed.end(), [](const Outbound* a, const Outbound* b) { return a->id < b->id; });
    inChunks(changed.size(), [&](std::size_t first, std::size_t last) {
        parameter_ = 0;
        std::string sql = "WITH v (id, status, failed, error_code, error_title, error_details, failed_at, sent_at, delivered_at, read_at) "
                          "AS (VALUES ";
        for (std::size_t i = first; i < last; ++i) {
            sql += i == first ? "(" : ", (";
            sql += casts({"BIGINT", "TEXT", "INTEGER", "BIGINT", "TEXT", "TEXT", "BIGINT", "BIGINT", "BIGINT", "BIGINT"}) + ")";
        }
        const std::string stamp = p();
        const std::string t = "whatsapp_messages.";
        sql += ") UPDATE whatsapp_messages SET status = v.status, "
               "error_code = CASE WHEN v.failed = 1 THEN v.error_code ELSE " + t + "error_code END, "
               "error_title = CASE WHEN v.failed = 1 THEN v.error_title ELSE " + t + "error_title END, "
               "error_details = CASE WHEN v.failed = 1 THEN v.error_details ELSE " + t + "error_details END, "
               "failed_at = COALESCE(v.failed_at, " + t + "failed_at), sent_at = COALESCE(v.sent_at, " + t + "sent_at), "
               "delivered_at = COALESCE(v.delivered_at, " + t + "delivered_at), read_at = COALESCE(v.read_at, " + t + "read_at), "
               "updated_at = " + stamp + " FROM v WHERE whatsapp_messages.id = v.id";
        Poco::Data::Statement update(session);
        update << sql;
        for (std::size_t i = first; i < last; ++i) {
            Outbound& o = *changed[i];
            update, use(o.id), use(o.status), use(o.failed), use(o.code), use(o.title), use(o.details), use(o.failedAt), use(o.sentAt),
                use(o.deliveredAt), use(o.readAt);
        }
        update, use(receivedAt);
        update.execute();
    });
}

// Errors Meta reports are recorded once per (source, wamid, code, title): the first report wins.
// A message's own errors only when the message is new, as the per-event code did.
void Timeline::writeErrors(Poco::Data::Session& session) {
    std::vector<std::size_t> rows;
    std::set<std::tuple<std::string, std::string, Poco::Int64, std::string>> seen;
    for (std::size_t i = 0; i < errors_.size(); ++i) {
        const ErrorRow& e = errors_[i];
        if (e.onlyIfMessage != kNone && !messages_[e.onlyIfMessage].inserted) continue;
        if (seen.insert({e.source, e.wamid, e.code, e.title}).second) rows.push_back(i);
    }
    std::sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
            const ErrorRow &x = errors_[a], &y = errors_[b];
            return std::tie(x.source, x.wamid, x.code, x.title) < std::tie(y.source, y.wamid, y.code, y.title);
        });
    Poco::Int64 at = now_;
    inChunks(rows.size(), [&](std::size_t first, std::size_t last) {
        parameter_ = 0;
        std::string sql = "INSERT INTO whatsapp_errors (webhook_event_id, source, wa_message_id, code, title, message, details, created_at) VALUES ";
        for (std::size_t k = first; k < last; ++k) {
            sql += k == first ? "(" : ", (";
            for (int column = 0; column < 8; ++column) sql += (column ? ", " : "") + p();
            sql += ")";
        }
        Poco::Data::Statement insert(session);
        insert << sql + " ON CONFLICT DO NOTHING";
        for (std::size_t k = first; k < last; ++k) {
            ErrorRow& e = errors_[rows[k]];
            insert, use(e.eventId), use(e.source), use(e.wamid), use(e.code), use(e.title), use(e.message), use(e.details), use(at);
        }
        counts_.errors += static_cast<int>(insert.execute());
    });
}

void Timeline::collectEvents() {
    for (const Item& item : items_) {
        if (item.kind == Item::Kind::Status) {
            const Status& s = statuses_[item.index];
            if (s.changedConversation)
                events_.push_back({"message.status", jsonEvent({{"conversation_id", *s.changedConversation}},
                                                               {{"wa_message_id", s.wamid}, {"status", s.word}})});
            continue;
        }
        const Message& m = messages_[item.index];
        if (!m.inserted) continue;
        const Poco::Int64 conversationId = conversations_[m.conversation].id;
        const Poco::Int64 contactId = contacts_[m.contact].id;
        if (m.rule) {
            if (auto it = steps_.find(item.index); it != steps_.end()) {
                for (const Step& step : it->second) {
                    if (step.kind == Step::Kind::Lead) {
                        events_.push_back({"lead.created", jsonEvent({{"conversation_id", conversationId}, {"lead_id", leads_[step.lead].id}})});
                    } else if (step.kind == Step::Kind::LeadLinked) {
                        events_.push_back({"conversation.updated", jsonEvent({{"conversation_id", conversationId},
                                                                              {"lead_id", leadNotes_[step.lead].lead}},
                                                                             {{"reason", "lead_linked"}})});
                    } else {
                        // message_id names the trigger, so the dispatcher's idempotency key is the same
                        // however often this event is produced for that message.
                        events_.push_back({"auto_reply.requested",
                                           jsonEvent({{"conversation_id", conversationId}, {"message_id", m.id}},
                                                     {{"template", step.action->value}, {"language", step.action->language},
                                                      {"intent", m.rule->intent}})});
                    }
                }
            }
            events_.push_back({"conversation.updated",
                               jsonEvent({{"conversation_id", conversationId}}, {{"reason", "intent"}, {"intent", m.rule->intent}})});
        }
        events_.push_back({"message.received", jsonEvent({{"conversation_id", conversationId}, {"message_id", m.id}, {"contact_id", contactId}},
                                                         {{"type", m.rendered.type}})});
        events_.push_back({"conversation.updated",
                           jsonEvent({{"conversation_id", conversationId}}, {{"reason", m.reopened ? "reopened" : "message"}})});
    }
}

}  // namespace tawasul::plugins::inbound_router
