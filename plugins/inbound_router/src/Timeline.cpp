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
#include "tawasul/sdk/PreparedSession.hpp"
#include "tawasul/whatsapp/Media.hpp"
#include "tawasul/whatsapp/TimelineWrites.hpp"

namespace tawasul::plugins::inbound_router {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;
using Text = Poco::Nullable<std::string>;
using Int = Poco::Nullable<Poco::Int64>;

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

// Meta's timestamps are seconds as strings; the timeline counts milliseconds. One after the last
// second of year 9999 is no time (as one below 1): it would overflow the milliseconds, and every
// page and API formats times as four-digit years.
constexpr long long kLastSecond = 253402300799;  // 9999-12-31T23:59:59Z

std::int64_t millisFrom(const Object& object, const std::string& key, std::int64_t fallback) {
    const std::string text = field(object, key);
    try {
        std::size_t used = 0;
        const long long seconds = std::stoll(text, &used);
        if (used == text.size() && seconds > 0 && seconds <= kLastSecond) return seconds * 1000;
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

// Value k of a row of JsonRows (see Timeline::rows()), as `type`.
std::string column(int k, const char* type) { return "CAST(r.value ->> " + std::to_string(k) + " AS " + type + ")"; }

// What an engine keeps of a text: up to its first NUL (see sdk::JsonRows).
std::string storedText(const std::string& text) { return text.substr(0, text.find('\0')); }
Text storedText(const Text& text) { return text.isNull() ? text : Text(storedText(text.value())); }

}  // namespace

int statusRank(const std::string& status) { return sdk::statusRank(status); }

Timeline::Timeline(const sdk::SqlDialect& dialect, const KeywordRules& rules, std::shared_ptr<sdk::ContactMatcher> matcher,
                   const sdk::PhoneNormalizer& phones, std::int64_t now)
    : dialect_(dialect), rules_(rules), matcher_(std::move(matcher)), phones_(phones), now_(now) {}

// On PostgreSQL the rows a batch reads and then writes are locked as they are read, in id order:
// two batches that share rows then wait for each other in one order and never deadlock. SQLite's
// transaction holds the one writer lock already.
std::string Timeline::lockClause() const { return " ORDER BY id" + dialect_.forUpdate(); }

// ---- phase 1: parse, normalise, route ---------------------------------------------------------

void Timeline::add(std::int64_t eventId, const Object& notification) {
    // All of an event or none of it: a body that throws half way (a value of the wrong type deep
    // inside) leaves nothing behind, so that its job can fail alone while the batch is written.
    const std::size_t items = items_.size(), messages = messages_.size(), statuses = statuses_.size(), errors = errors_.size(),
                      changes = fieldChanges_.size();
    try {
        addEntries(eventId, notification);
    } catch (...) {
        items_.erase(items_.begin() + static_cast<long>(items), items_.end());
        messages_.erase(messages_.begin() + static_cast<long>(messages), messages_.end());
        statuses_.erase(statuses_.begin() + static_cast<long>(statuses), statuses_.end());
        errors_.erase(errors_.begin() + static_cast<long>(errors), errors_.end());
        fieldChanges_.erase(fieldChanges_.begin() + static_cast<long>(changes), fieldChanges_.end());
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
            if (!value) continue;
            const std::string name = field(*change, "field");
            if (name == sdk::kMessagesField) {
                addChange(eventId, *value);
                continue;
            }
            // Other fields (template status, account alerts, ...) go to the plugin that takes them.
            sdk::WebhookChange other;
            other.eventId = eventId;
            other.accountId = idField(*entry, "id");
            other.time = millisFrom(*entry, "time", 0) / 1000;
            other.field = name;
            other.value = value;
            fieldChanges_.push_back(std::move(other));
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
            if (const Object::Ptr status = statuses->getObject(static_cast<unsigned>(i))) addStatus(eventId, phoneNumberId, *status);
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
            if (const Object::Ptr profile = objectAt(*contact, "profile")) {
                m.profileName = field(*profile, "name");
                m.username = field(*profile, "username");
            }
            if (m.waId.empty()) m.waId = contactWaId;
            if (m.userId.empty()) m.userId = contactUserId;
            break;
        }
    }
    if (m.waId.empty() && m.userId.empty()) {
        addErrors(eventId, "message", m.wamid, message);
        return;  // nobody to attach it to; the event keeps the bytes
    }
    if (m.wamid.empty()) {
        // Meta gives every message an id. Without one a redelivery could not be told from a new
        // message (fuzz_webhook_notification found each delivery added it again): the event keeps it.
        addErrors(eventId, "message", "", message);
        return;
    }
    if (!m.waId.empty())
        if (const auto e164 = phones_.toE164(m.waId)) m.phone = *e164;
    m.rendered = renderMessage(message);
    m.at = millisFrom(message, "timestamp", now_);
    m.payload = toJson(message);
    if (m.rendered.type == "text" || m.rendered.type == "button" || m.rendered.type == "interactive")
        if (const auto match = rules_.match(m.rendered.body)) m.rule = match->rule;
    messages_.push_back(std::move(m));
    items_.push_back({Item::Kind::Message, messages_.size() - 1});
    addErrors(eventId, "message", messages_.back().wamid, message, messages_.size() - 1);
}

void Timeline::addStatus(std::int64_t eventId, const std::string& phoneNumberId, const Object& status) {
    Status s;
    s.eventId = eventId;
    s.phoneNumberId = phoneNumberId;
    s.wamid = idField(status, "id");
    s.word = field(status, "status");
    if (s.wamid.empty() || s.word.empty()) return;
    s.occurredAt = millisFrom(status, "timestamp", now_);
    // The recipient by phone (recipient_id, absent for a user with a username) and by BSUID.
    s.recipient = orNull(idField(status, "recipient_id"));
    s.recipientUserId = orNull(idField(status, "recipient_user_id"));
    if (!s.recipient.isNull())
        if (const auto e164 = phones_.toE164(s.recipient.value())) s.recipientPhone = *e164;
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
// Every statement takes its rows as one JsonRows parameter, so that its text is one whatever the
// batch holds and is prepared once per connection (sdk::PreparedSession).

std::string Timeline::rows(const char* parameter) const { return dialect_.jsonRows(parameter, "r"); }

// On PostgreSQL " AND key = ANY(ARRAY(the rows' first column))": the planner guesses a hundred
// rows for the batch and joined a table of some tens of thousands of rows to them by scanning it
// (7 ms at 20,000 conversations; 0.2 ms through the key). Nothing on SQLite, which already loops
// over the rows and looks each one up by its key, and with the list would read the rows again for
// every row it finds.
std::string Timeline::throughKey(const std::string& key, const char* parameter) const {
    if (dialect_ != sdk::SqlDialect::postgresql()) return "";
    return " AND " + key + dialect_.inSubquery("SELECT " + column(0, "BIGINT") + " FROM " + rows(parameter));
}

void Timeline::write(sdk::PreparedSession& db) {
    // First, before any row is locked: a send storing one of these wamids (the dispatcher takes
    // the same locks) waits for this commit, or this waits for it, so that a status is applied to
    // its message either way (on PostgreSQL; SQLite has one writer). One statement for the batch.
    // In the same statement, the ids of the people the batch names (phone and BSUID, per business
    // number): two batches that meet one person, by either id, then read and merge their contacts
    // one after the other. Without it a batch could wait on a contact that another merged away,
    // find its id taken by the kept one, and read again while holding other contacts' locks (out
    // of id order: PostgreSQL found deadlocks). The keys cannot contain the newline that separates
    // them (ids are printable ASCII), and share the lock space of wamids harmlessly.
    std::vector<std::string> wamids;
    wamids.reserve(statuses_.size() + messages_.size());
    for (const Status& s : statuses_) wamids.push_back(s.wamid);
    const auto person = [&](const std::string& number, const char* kind, const std::string& id) {
        if (!id.empty()) wamids.push_back(std::string("contact\t") + kind + "\t" + number + "\t" + id);
    };
    for (const Message& m : messages_) {
        person(m.phoneNumberId, "wa", m.waId);
        person(m.phoneNumberId, "user", m.userId);
    }
    for (const Status& s : statuses_)
        if (!s.recipient.isNull() && !s.recipientUserId.isNull()) {
            person(s.phoneNumberId, "wa", s.recipient.value());
            person(s.phoneNumberId, "user", s.recipientUserId.value());
        }
    sdk::lockWamids(db, dialect_, std::move(wamids));
    writeContacts(db);
    writeConversations(db);
    updateContacts(db);  // after the merged contacts are gone: the kept ones take their unique ids
    writeMessages(db);
    route(db);
    writeLeads(db);
    writeLeadNotes(db);
    updateConversations(db);
    writeStatuses(db);
    writeErrors(db);
    collectEvents();
}

// Contacts are keyed on the business number plus whichever id Meta gave: wa_id (the phone) or the
// business-scoped user id of a user with a username, which may be the only one. The batch's
// contacts are read once; each message then finds its contact as the per-event code did (the
// lowest id among those with its wa_id or its user id), fills in what was missing, keeps the
// profile name current, and names a contact not matched yet from the phone index.
void Timeline::writeContacts(sdk::PreparedSession& db) {
    // Two workers may meet the same new sender at once (PostgreSQL): the unique keys decide, and
    // the loser reads the winner's row and replays the batch on it.
    for (int attempt = 0; attempt < 3; ++attempt)
        if (replayContacts(db)) return;
    throw std::runtime_error("contacts of the batch could not be written: other writers kept creating them");
}

bool Timeline::replayContacts(sdk::PreparedSession& db) {
    contacts_.clear();
    byWaId_.clear();
    byUserId_.clear();
    merges_.clear();
    // Read every contact that any message of the batch may name: (business number, wa_id) and
    // (business number, user id) pairs, each an indexed lookup. A status naming its recipient by
    // phone and by BSUID may teach a contact the id it lacks, or make two contacts one: its pair
    // is read too (a status without both ids reads nothing).
    sdk::JsonRows waKeys, userKeys;
    {
        std::set<std::pair<std::string, std::string>> wa, user;
        const auto key = [&](const std::string& number, const std::string& waId, const std::string& userId) {
            if (!waId.empty() && wa.emplace(number, waId).second) waKeys.row().add(number).add(waId);
            if (!userId.empty() && user.emplace(number, userId).second) userKeys.row().add(number).add(userId);
        };
        for (const Message& m : messages_) key(m.phoneNumberId, m.waId, m.userId);
        for (const Status& s : statuses_)
            if (!s.recipient.isNull() && !s.recipientUserId.isNull()) key(s.phoneNumberId, s.recipient.value(), s.recipientUserId.value());
    }
    if (!waKeys.empty() || !userKeys.empty()) {
        const std::string& wa = waKeys.text();
        const std::string& user = userKeys.text();
        db.run("SELECT id, phone_number_id, wa_id, user_id, phone_e164, profile_name, matched_type, matched_id, username FROM whatsapp_contacts "
               "WHERE id" +
                   dialect_.inSubquery("SELECT c.id FROM " + rows("$1") + " JOIN whatsapp_contacts c ON c.phone_number_id = " +
                                       column(0, "TEXT") + " AND c.wa_id = " + column(1, "TEXT") + " UNION SELECT c.id FROM " + rows("$2") +
                                       " JOIN whatsapp_contacts c ON c.phone_number_id = " + column(0, "TEXT") + " AND c.user_id = " +
                                       column(1, "TEXT")) +
                   lockClause(),
               {wa, user}, [&](const sdk::SqlRow& row) {
                   Contact c;
                   c.id = row.integer(0);
                   c.phoneNumberId = row.text(1);
                   c.waId = row.nullableText(2);
                   c.userId = row.nullableText(3);
                   c.phone = row.nullableText(4);
                   c.name = row.nullableText(5);
                   c.matchedType = row.nullableText(6);
                   c.matchedId = row.nullableInteger(7);
                   c.username = row.nullableText(8);
                   contacts_.push_back(std::move(c));
               });
    }
    // Lowest id first, so that a key held by two contacts names the one the per-event code found.
    std::sort(contacts_.begin(), contacts_.end(), [](const Contact& a, const Contact& b) { return a.id < b.id; });
    for (std::size_t i = 0; i < contacts_.size(); ++i) {
        const Contact& c = contacts_[i];
        if (!c.waId.isNull()) byWaId_.emplace(std::make_pair(c.phoneNumberId, c.waId.value()), i);
        if (!c.userId.isNull()) byUserId_.emplace(std::make_pair(c.phoneNumberId, c.userId.value()), i);
    }
    const std::size_t existing = contacts_.size();
    storedContacts_ = existing;
    // Stored contacts by id, then new ones in the order they appear: a lower index is older.
    const auto holder = [](const std::map<std::pair<std::string, std::string>, std::size_t>& keys, const std::string& number,
                           const std::string& id) {
        if (id.empty()) return kNone;
        const auto it = keys.find({number, id});
        return it == keys.end() ? kNone : it->second;
    };
    // A phone and a BSUID held by two contacts that can be one: one from now on.
    const auto join = [&](std::size_t byWa, std::size_t byUser) {
        if (byWa == kNone || byUser == kNone || byWa == byUser || !mergeable(byWa, byUser)) return;
        mergeContacts(byWa, byUser);
    };

    for (std::size_t index = 0; index < messages_.size(); ++index) {
        Message& m = messages_[index];
        join(holder(byWaId_, m.phoneNumberId, m.waId), holder(byUserId_, m.phoneNumberId, m.userId));
        const std::size_t byWa = holder(byWaId_, m.phoneNumberId, m.waId), byUser = holder(byUserId_, m.phoneNumberId, m.userId);
        std::size_t found = byWa;
        if (byUser != kNone && (found == kNone || byUser < found)) found = byUser;
        bool matched = false;
        if (found != kNone) {
            Contact& c = contacts_[found];
            matched = !c.matchedType.isNull();
            // Fill in what was missing and keep the profile current; never erase a known id, and
            // never take one another contact holds (two contacts that cannot be one, e.g. a phone
            // whose contact has another BSUID, stay two).
            bool changed = false;
            if (c.waId.isNull() && !m.waId.empty() && !byWaId_.count({m.phoneNumberId, m.waId})) {
                c.waId = m.waId;
                byWaId_.emplace(std::make_pair(m.phoneNumberId, m.waId), found);
                changed = true;
            }
            if (c.userId.isNull() && !m.userId.empty() && !byUserId_.count({m.phoneNumberId, m.userId})) {
                c.userId = m.userId;
                byUserId_.emplace(std::make_pair(m.phoneNumberId, m.userId), found);
                changed = true;
            }
            if (c.phone.isNull() && !m.phone.isNull() && c.waId == Text(m.waId)) {
                c.phone = m.phone;
                changed = true;
            }
            if (!m.profileName.empty() && (c.name.isNull() || c.name.value() != m.profileName)) {
                c.name = m.profileName;
                changed = true;
            }
            if (!m.username.empty() && (c.username.isNull() || c.username.value() != m.username)) {
                c.username = m.username;
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
            c.username = orNull(m.username);
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
    // Statuses name a contact that exists (they never create one): the phone and the BSUID of one
    // recipient are one contact, told the id it lacks.
    for (const Status& s : statuses_) {
        if (s.recipient.isNull() || s.recipientUserId.isNull()) continue;
        const std::string& waId = s.recipient.value();
        const std::string& userId = s.recipientUserId.value();
        join(holder(byWaId_, s.phoneNumberId, waId), holder(byUserId_, s.phoneNumberId, userId));
        const std::size_t byWa = holder(byWaId_, s.phoneNumberId, waId), byUser = holder(byUserId_, s.phoneNumberId, userId);
        if (byWa != kNone && byUser == kNone && contacts_[byWa].userId.isNull()) {
            contacts_[byWa].userId = userId;
            byUserId_.emplace(std::make_pair(s.phoneNumberId, userId), byWa);
            contacts_[byWa].touched = true;
        } else if (byUser != kNone && byWa == kNone && contacts_[byUser].waId.isNull()) {
            Contact& c = contacts_[byUser];
            c.waId = waId;
            byWaId_.emplace(std::make_pair(s.phoneNumberId, waId), byUser);
            if (c.phone.isNull()) c.phone = s.recipientPhone;
            c.touched = true;
        }
    }

    // The new contacts, with everything the batch said about them, in one statement. On
    // PostgreSQL in key order, so that two batches creating the same senders take them in one order.
    std::vector<std::size_t> fresh;
    for (std::size_t i = existing; i < contacts_.size(); ++i)
        if (contacts_[i].mergedInto == kNone) fresh.push_back(i);
    std::sort(fresh.begin(), fresh.end(), [&](std::size_t a, std::size_t b) {
            const auto key = [&](const Contact& c) {
                return std::make_tuple(c.phoneNumberId, c.waId.isNull() ? std::string() : c.waId.value(),
                                       c.userId.isNull() ? std::string() : c.userId.value());
            };
            return key(contacts_[a]) < key(contacts_[b]);
        });
    const Poco::Int64 at = now_;
    if (!fresh.empty()) {
        sdk::JsonRows values;
        // RETURNING gives no order: each row is found again by its key.
        std::map<std::pair<Text, Text>, std::size_t> byKey;
        for (std::size_t i : fresh) {
            const Contact& c = contacts_[i];
            values.row().add(c.phoneNumberId).add(c.waId).add(c.userId).add(c.phone).add(c.name).add(c.matchedType).add(c.matchedId).add(c.username);
            byKey.emplace(std::make_pair(c.waId, c.userId), i);
        }
        db.run("INSERT INTO whatsapp_contacts (phone_number_id, wa_id, user_id, phone_e164, profile_name, matched_type, matched_id, "
               "username, created_at, updated_at) SELECT " + column(0, "TEXT") + ", " + column(1, "TEXT") + ", " + column(2, "TEXT") + ", " +
                   column(3, "TEXT") + ", " + column(4, "TEXT") + ", " + column(5, "TEXT") + ", " + column(6, "BIGINT") + ", " +
                   column(7, "TEXT") + ", CAST($2 AS BIGINT), CAST($2 AS BIGINT) FROM " + rows("$1") +
                   " WHERE true ORDER BY r.key ON CONFLICT DO NOTHING RETURNING id, wa_id, user_id",
               {values.text(), at}, [&](const sdk::SqlRow& row) {
                   const auto it = byKey.find({row.nullableText(1), row.nullableText(2)});
                   if (it != byKey.end() && contacts_[it->second].id == 0) contacts_[it->second].id = row.integer(0);
               });
        for (std::size_t i : fresh)
            if (contacts_[i].id == 0) return false;  // another writer created one of them first: read again
    }
    // What changed on stored contacts is written by updateContacts, once the contacts merged away
    // are deleted (the kept one takes their ids, which are unique).
    return true;
}

bool Timeline::mergeable(std::size_t a, std::size_t b) const {
    const Contact &x = contacts_[a], &y = contacts_[b];
    const auto agree = [](const Text& p, const Text& q) { return p.isNull() || q.isNull() || p.value() == q.value(); };
    return x.phoneNumberId == y.phoneNumberId && agree(x.waId, y.waId) && agree(x.userId, y.userId);
}

// The older of the two (the lower index: stored before new, lower id first) takes the other's
// ids and what it lacks (phone, names, platform match); the batch's messages of the newer go to it.
// A newer that is stored is deleted by mergeConversations once its conversations are moved; one
// that this batch would have created is never written.
std::size_t Timeline::mergeContacts(std::size_t a, std::size_t b) {
    const std::size_t kept = std::min(a, b), gone = std::max(a, b);
    Contact& k = contacts_[kept];
    Contact& g = contacts_[gone];
    g.mergedInto = kept;
    if (k.waId.isNull() && !g.waId.isNull()) {
        k.waId = g.waId;
        byWaId_[{g.phoneNumberId, g.waId.value()}] = kept;
    }
    if (k.userId.isNull() && !g.userId.isNull()) {
        k.userId = g.userId;
        byUserId_[{g.phoneNumberId, g.userId.value()}] = kept;
    }
    if (k.phone.isNull()) k.phone = g.phone;
    if (k.name.isNull()) k.name = g.name;
    if (k.username.isNull()) k.username = g.username;
    if (k.matchedType.isNull() && !g.matchedType.isNull()) {
        k.matchedType = g.matchedType;
        k.matchedId = g.matchedId;
        k.matchChanged = true;
    }
    k.touched = true;
    for (Message& m : messages_)
        if (m.contact == gone) m.contact = kept;
    if (gone < storedContacts_) merges_.push_back({kept, gone});
    return kept;
}

void Timeline::updateContacts(sdk::PreparedSession& db) {
    sdk::JsonRows changed;
    for (std::size_t i = 0; i < storedContacts_; ++i) {
        const Contact& c = contacts_[i];
        if (c.mergedInto != kNone) continue;
        if (c.touched || c.matchChanged)
            changed.row().add(c.id).add(c.waId).add(c.userId).add(c.phone).add(c.name).add(c.matchedType).add(c.matchedId)
                .add(c.touched ? 1 : 0).add(c.username);
    }
    if (changed.empty()) return;
    const Poco::Int64 at = now_;
    db.run("UPDATE whatsapp_contacts SET wa_id = v.wa_id, user_id = v.user_id, phone_e164 = v.phone_e164, "
           "profile_name = v.profile_name, matched_type = v.matched_type, matched_id = v.matched_id, username = v.username, "
           "updated_at = CASE WHEN v.touched = 1 THEN CAST($2 AS BIGINT) ELSE whatsapp_contacts.updated_at END FROM (SELECT " +
               column(0, "BIGINT") + " AS id, " + column(1, "TEXT") + " AS wa_id, " + column(2, "TEXT") + " AS user_id, " +
               column(3, "TEXT") + " AS phone_e164, " + column(4, "TEXT") + " AS profile_name, " + column(5, "TEXT") +
               " AS matched_type, " + column(6, "BIGINT") + " AS matched_id, " + column(7, "INTEGER") + " AS touched, " +
               column(8, "TEXT") + " AS username FROM " + rows("$1") + ") AS v WHERE whatsapp_contacts.id = v.id" +
               throughKey("whatsapp_contacts.id", "$1"),
           {changed.text(), at});
}

// The contact's conversation that is not resolved; a resolved one is reopened (one timeline per
// person), and a first one is created, its last_message_at the time of the first message. Every
// message with a sender does this, a redelivered one too, as the per-event code did.
void Timeline::writeConversations(sdk::PreparedSession& db) {
    conversations_.clear();
    std::vector<std::size_t> conversationOf(contacts_.size(), kNone);
    std::vector<std::size_t> order;  // contacts in the order their first message comes
    std::vector<bool> listed(contacts_.size(), false);
    for (const Message& m : messages_)
        if (!listed[m.contact]) {
            listed[m.contact] = true;
            order.push_back(m.contact);
        }
    std::map<Poco::Int64, std::size_t> contactIndex;
    for (std::size_t c : order) contactIndex[contacts_[c].id] = c;
    const auto adopt = [&](const sdk::SqlRow& row) {
        const Poco::Int64 contactId = row.integer(1);
        const std::size_t c = contactIndex.at(contactId);
        if (conversationOf[c] != kNone) return;
        Conversation conversation;
        conversation.id = row.integer(0);
        conversation.contactId = contactId;
        conversation.contact = c;
        conversation.assigned = row.nullableInteger(2);
        conversation.lead = row.nullableInteger(3);
        conversation.intent = row.nullableText(4);
        conversations_.push_back(conversation);
        conversationOf[c] = conversations_.size() - 1;
    };
    // Open ones (a contact this batch creates has none), in one statement with those of the
    // contacts merged (kept and gone): every conversation lock is taken before any message's.
    sdk::JsonRows stored;
    for (std::size_t c : order)
        if (!contacts_[c].fresh) stored.row().add(contacts_[c].id);
    std::map<Poco::Int64, std::size_t> goneIndex;  // a merged-away contact's id → its index
    for (const Merge& merge : merges_) {
        for (const std::size_t c : {merge.kept, merge.gone})
            if (contactIndex.emplace(contacts_[c].id, c).second) stored.row().add(contacts_[c].id);
        goneIndex[contacts_[merge.gone].id] = merge.gone;
    }
    std::map<std::size_t, OpenConversation> goneOpen;  // gone contact index → its open conversation
    if (!stored.empty())
        db.run("SELECT id, contact_id, assigned_user_id, b2b_lead_id, intent, unread_count, last_inbound_at, last_message_at "
               "FROM whatsapp_conversations WHERE contact_id" + dialect_.inSubquery("SELECT " + column(0, "BIGINT") + " FROM " + rows("$1")) +
                   " AND status <> 'resolved'" + lockClause(),
               {stored.text()}, [&](const sdk::SqlRow& row) {
                   const auto gone = goneIndex.find(row.integer(1));
                   if (gone == goneIndex.end()) return adopt(row);
                   OpenConversation& open = goneOpen[gone->second];
                   open.id = row.integer(0);
                   open.assigned = row.nullableInteger(2);
                   open.lead = row.nullableInteger(3);
                   open.intent = row.nullableText(4);
                   open.unread = row.integer(5);
                   open.lastInboundAt = row.nullableInteger(6);
                   open.lastMessageAt = row.integer(7);
               });
    if (!merges_.empty()) mergeConversations(db, goneOpen, conversationOf);
    // Reopened ones: the latest conversation of a contact whose conversations are all resolved.
    sdk::JsonRows closed;
    for (std::size_t c : order)
        if (conversationOf[c] == kNone && !contacts_[c].fresh) closed.row().add(contacts_[c].id);
    std::vector<Poco::Int64> reopenedContacts;
    const Poco::Int64 at = now_;
    if (!closed.empty())
        db.run("UPDATE whatsapp_conversations SET status = 'open', resolved_at = NULL, updated_at = $1 WHERE status = 'resolved' AND id" +
                   dialect_.inSubquery("SELECT MAX(id) FROM whatsapp_conversations WHERE contact_id" +
                                       dialect_.inSubquery("SELECT " + column(0, "BIGINT") + " FROM " + rows("$2")) + " GROUP BY contact_id") +
                   " RETURNING id, contact_id, assigned_user_id, b2b_lead_id, intent",
               {at, closed.text()}, [&](const sdk::SqlRow& row) {
                   adopt(row);
                   reopenedContacts.push_back(row.integer(1));
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
    // A new conversation is inserted with the counts its messages will give it if all of them are
    // new, the usual case (writeMessages checks, and corrects the rare one whose message was stored
    // before): written once rather than inserted and then updated, every index of the table twice.
    std::vector<int> expected(contacts_.size(), 0);
    std::vector<Poco::Int64> latest(contacts_.size(), 0);
    {
        std::set<std::string> seen;
        for (const Message& m : messages_) {
            if (!m.wamid.empty() && !seen.insert(m.wamid).second) continue;  // as writeMessages picks them
            latest[m.contact] = expected[m.contact] ? std::max(latest[m.contact], m.at) : m.at;
            ++expected[m.contact];
        }
    }
    if (!missing.empty()) {
        sdk::JsonRows values;
        for (std::size_t c : missing) {
            const bool any = expected[c] > 0;
            values.row()
                .add(contacts_[c].id)
                .add(any && firstAt[c] < latest[c] ? latest[c] : firstAt[c])
                .add(any ? Int(latest[c]) : Int())
                .add(expected[c]);
        }
        db.run("INSERT INTO whatsapp_conversations (contact_id, status, last_message_at, last_inbound_at, unread_count, created_at, "
               "updated_at) SELECT " + column(0, "BIGINT") + ", 'open', " + column(1, "BIGINT") + ", " + column(2, "BIGINT") + ", " +
                   column(3, "INTEGER") + ", CAST($2 AS BIGINT), CAST($2 AS BIGINT) FROM " + rows("$1") +
                   " WHERE true ORDER BY r.key ON CONFLICT DO NOTHING RETURNING id, contact_id, assigned_user_id, b2b_lead_id, intent",
               {values.text(), at}, adopt);
    }
    for (std::size_t c : missing) {
        if (conversationOf[c] == kNone)
            throw std::runtime_error("no open conversation for contact " + std::to_string(contacts_[c].id));
        Conversation& conversation = conversations_[conversationOf[c]];
        conversation.created = true;
        conversation.expected = expected[c];
        conversation.firstAt = firstAt[c];
    }
    for (Message& m : messages_) m.conversation = conversationOf[m.contact];
}

// The conversations of each contact merged away go to the contact kept, then it is deleted. When
// both have an open conversation, the gone one's messages (and counts) move into the kept one,
// which is left open, and the emptied conversation is deleted. Rows were locked in the order
// contacts, conversations (writeConversations' read), and only then messages, as every batch does.
void Timeline::mergeConversations(sdk::PreparedSession& db, const std::map<std::size_t, OpenConversation>& goneOpen,
                                  std::vector<std::size_t>& conversationOf) {
    const Poco::Int64 at = now_;
    sdk::JsonRows folds, moves, emptied, deleted;
    for (const Merge& merge : merges_) {
        const Poco::Int64 keptId = contacts_[merge.kept].id, goneId = contacts_[merge.gone].id;
        const auto open = goneOpen.find(merge.gone);
        Int skip;
        if (open != goneOpen.end()) {
            const OpenConversation& g = open->second;
            if (conversationOf[merge.kept] != kNone) {
                Conversation& k = conversations_[conversationOf[merge.kept]];
                folds.row().add(k.id).add(g.id).add(g.unread).add(g.lastInboundAt).add(g.lastMessageAt).add(g.assigned).add(g.lead).add(g.intent);
                // What routing writes later starts from the merged values.
                if (k.assigned.isNull()) k.assigned = g.assigned;
                if (k.lead.isNull()) k.lead = g.lead;
                if (k.intent.isNull()) k.intent = g.intent;
                emptied.row().add(g.id);
                skip = g.id;
                mergedConversations_.push_back(k.id);
            } else {
                // The gone contact's open conversation is the kept one's from now on.
                Conversation conversation;
                conversation.id = g.id;
                conversation.contactId = keptId;
                conversation.contact = merge.kept;
                conversation.assigned = g.assigned;
                conversation.lead = g.lead;
                conversation.intent = g.intent;
                conversations_.push_back(conversation);
                conversationOf[merge.kept] = conversations_.size() - 1;
                mergedConversations_.push_back(g.id);
            }
        }
        moves.row().add(goneId).add(keptId).add(skip);
        deleted.row().add(goneId);
    }
    const std::string t = "whatsapp_conversations.";
    if (!folds.empty())
        db.run("UPDATE whatsapp_conversations SET unread_count = " + t + "unread_count + v.n, "
               "last_inbound_at = CASE WHEN v.inbound IS NOT NULL AND (" + t + "last_inbound_at IS NULL OR " + t +
                   "last_inbound_at < v.inbound) THEN v.inbound ELSE " + t + "last_inbound_at END, "
               "last_message_at = CASE WHEN " + t + "last_message_at < v.latest THEN v.latest ELSE " + t + "last_message_at END, "
               "assigned_user_id = COALESCE(" + t + "assigned_user_id, v.assigned), b2b_lead_id = COALESCE(" + t + "b2b_lead_id, v.lead), "
               "intent = COALESCE(" + t + "intent, v.intent), updated_at = CAST($2 AS BIGINT) FROM (SELECT " + column(0, "BIGINT") + " AS id, " +
                   column(2, "INTEGER") + " AS n, " + column(3, "BIGINT") + " AS inbound, " + column(4, "BIGINT") + " AS latest, " +
                   column(5, "BIGINT") + " AS assigned, " + column(6, "BIGINT") + " AS lead, " + column(7, "TEXT") + " AS intent FROM " +
                   rows("$1") + ") AS v WHERE whatsapp_conversations.id = v.id" + throughKey("whatsapp_conversations.id", "$1"),
               {folds.text(), at});
    // Every other conversation of the gone contact (resolved ones, or its open one when the kept
    // contact had none) changes hands.
    db.run("UPDATE whatsapp_conversations SET contact_id = v.kept, updated_at = CAST($2 AS BIGINT) FROM (SELECT " + column(0, "BIGINT") +
               " AS gone, " + column(1, "BIGINT") + " AS kept, " + column(2, "BIGINT") + " AS skip FROM " + rows("$1") +
               ") AS v WHERE " + t + "contact_id = v.gone AND (v.skip IS NULL OR " + t + "id <> v.skip)",
           {moves.text(), at});
    if (!folds.empty()) {
        db.run("UPDATE whatsapp_messages SET conversation_id = v.kept FROM (SELECT " + column(0, "BIGINT") + " AS kept, " +
                   column(1, "BIGINT") + " AS gone FROM " + rows("$1") + ") AS v WHERE whatsapp_messages.conversation_id = v.gone",
               {folds.text()});
        db.run("DELETE FROM whatsapp_conversations WHERE id" + dialect_.inSubquery("SELECT " + column(0, "BIGINT") + " FROM " + rows("$1")),
               {emptied.text()});
    }
    db.run("DELETE FROM whatsapp_contacts WHERE id" + dialect_.inSubquery("SELECT " + column(0, "BIGINT") + " FROM " + rows("$1")),
           {deleted.text()});
}

// Messages are deduplicated on wamid: the first of a batch is inserted (unless stored before),
// every later one is Meta delivering it again.
void Timeline::writeMessages(sdk::PreparedSession& db) {
    std::vector<std::size_t> candidates;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < messages_.size(); ++i) {
        const Message& m = messages_[i];
        if (m.wamid.empty() || seen.insert(m.wamid).second) candidates.push_back(i);
    }
    const Poco::Int64 updatedAt = now_;
    sdk::JsonRows values;
    for (std::size_t i : candidates) {
        const Message& m = messages_[i];
        values.row()
            .add(conversations_[m.conversation].id)
            .add(orNull(m.wamid))
            .add(m.rendered.type)
            .add(orNull(m.rendered.body))
            .add(m.payload)
            .add(orNull(m.rendered.contextId))
            .add(orNull(m.rendered.mediaId))
            .add(orNull(m.rendered.mediaMimeType))
            .add(m.eventId)
            .add(m.at);
    }
    // RETURNING gives no order: found again by wamid; the rare message without one is matched by
    // position among the rows without a wamid.
    std::map<std::string, Poco::Int64> byWamid;
    std::vector<Poco::Int64> withoutWamid;
    if (!candidates.empty())
        db.run("INSERT INTO whatsapp_messages (conversation_id, direction, wa_message_id, type, body, payload, status, "
               "context_wa_message_id, media_id, media_mime_type, webhook_event_id, created_at, updated_at) SELECT " +
                   column(0, "BIGINT") + ", 'in', " + column(1, "TEXT") + ", " + column(2, "TEXT") + ", " + column(3, "TEXT") + ", " +
                   column(4, "TEXT") + ", 'received', " + column(5, "TEXT") + ", " + column(6, "TEXT") + ", " + column(7, "TEXT") + ", " +
                   column(8, "BIGINT") + ", " + column(9, "BIGINT") + ", CAST($2 AS BIGINT) FROM " + rows("$1") +
                   " WHERE true ORDER BY r.key ON CONFLICT (wa_message_id) WHERE wa_message_id IS NOT NULL DO NOTHING "
                   "RETURNING id, wa_message_id",
               {values.text(), updatedAt}, [&](const sdk::SqlRow& row) {
                   if (row.isNull(1)) withoutWamid.push_back(row.integer(0));
                   else byWamid[row.text(1)] = row.integer(0);
               });
    std::sort(withoutWamid.begin(), withoutWamid.end());
    std::size_t nextWithout = 0;
    for (std::size_t i : candidates) {
        Message& m = messages_[i];
        if (m.wamid.empty()) {
            if (nextWithout < withoutWamid.size()) m.id = withoutWamid[nextWithout++];
        } else if (auto it = byWamid.find(m.wamid); it != byWamid.end()) {
            m.id = it->second;
        }
        m.inserted = m.id != 0;
    }
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
    // A conversation this batch created has its counts already, unless one of its messages turned
    // out to be stored before (then they are set again, updateConversations); only what routing
    // changes is left to write.
    for (Conversation& conversation : conversations_)
        if (conversation.created) {
            conversation.recount = conversation.newMessages != conversation.expected;
            conversation.changed = false;
        }
}

// Keyword actions of each new message, in order, on the conversations as the batch leaves them.
void Timeline::route(sdk::PreparedSession& db) {
    std::map<std::string, Int> users;  // assign: email → user id
    for (const Message& m : messages_)
        if (m.inserted && m.rule)
            for (const RuleAction& action : m.rule->actions)
                if (action.kind == RuleAction::Kind::Assign) users.emplace(action.value, Int());
    for (auto& user : users) {
        Int& id = user.second;  // not a structured binding: clang-14 (the fuzz build) cannot capture one
        bool first = true;
        db.run("SELECT id FROM users WHERE email = $1", {user.first}, [&](const sdk::SqlRow& row) {
            if (first) id = row.integer(0);
            first = false;
        });
    }
    const std::set<Poco::Int64> existingLeads = existingLeadsOfSenders(db);
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

void Timeline::writeLeads(sdk::PreparedSession& db) {
    if (leads_.empty()) return;
    const Poco::Int64 at = now_;
    sdk::JsonRows values;
    for (const Lead& lead : leads_) values.row().add(lead.organization).add(lead.name).add(lead.phone).add(lead.notes);
    std::vector<Poco::Int64> ids;
    std::vector<Text> names, phones;
    std::vector<std::string> notes;
    db.run("INSERT INTO b2b_leads (organization_id, contact_name, phone, source, status, notes, created_at, updated_at) SELECT " +
               column(0, "BIGINT") + ", " + column(1, "TEXT") + ", " + column(2, "TEXT") + ", 'whatsapp', 'new', " + column(3, "TEXT") +
               ", CAST($2 AS BIGINT), CAST($2 AS BIGINT) FROM " + rows("$1") + " WHERE true ORDER BY r.key RETURNING id, contact_name, phone, notes",
           {values.text(), at}, [&](const sdk::SqlRow& row) {
               ids.push_back(row.integer(0));
               names.push_back(row.nullableText(1));
               phones.push_back(row.nullableText(2));
               notes.push_back(row.text(3));
           });
    // Both engines return the rows of an INSERT ... SELECT ... ORDER BY in that order; checked,
    // since nothing else tells two leads apart. A mismatch fails the batch, whose jobs then run alone.
    if (ids.size() != leads_.size()) throw std::runtime_error("b2b_leads: fewer rows returned than inserted");
    for (std::size_t r = 0; r < leads_.size(); ++r) {
        Lead& lead = leads_[r];
        if (names[r] != storedText(lead.name) || phones[r] != storedText(lead.phone) || notes[r] != storedText(lead.notes))
            throw std::runtime_error("b2b_leads: rows returned in another order than inserted");
        lead.id = ids[r];
        conversations_[lead.conversation].lead = lead.id;
        ++counts_.leads;
    }
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
std::set<Poco::Int64> Timeline::existingLeadsOfSenders(sdk::PreparedSession& db) {
    std::set<Poco::Int64> wanted;
    for (const Message& m : messages_) {
        if (!m.inserted || !m.rule) continue;
        const bool asksForLead = std::any_of(m.rule->actions.begin(), m.rule->actions.end(),
                                             [](const RuleAction& a) { return a.kind == RuleAction::Kind::CreateB2bLead; });
        if (const Int known = asksForLead ? leadOfSender(m) : Int(); !known.isNull()) wanted.insert(known.value());
    }
    std::set<Poco::Int64> existing;
    if (wanted.empty()) return existing;
    sdk::JsonRows ids;
    for (const Poco::Int64 id : wanted) ids.row().add(id);
    db.run("SELECT id FROM b2b_leads WHERE id" + dialect_.inSubquery("SELECT " + column(0, "BIGINT") + " FROM " + rows("$1")) + lockClause(),
           {ids.text()},
           [&](const sdk::SqlRow& row) { existing.insert(row.integer(0)); });
    return existing;
}

// Each linked lead's notes gain the requests, in the batch's order, a paragraph each. One statement per
// lead: only a lead's own contact asking again comes here, a few in a batch at most.
void Timeline::writeLeadNotes(sdk::PreparedSession& db) {
    std::map<Poco::Int64, std::string> added;  // ordered by id: the order the rows were locked in
    for (const LeadNote& note : leadNotes_) {
        std::string& text = added[note.lead];
        text += (text.empty() ? "" : "\n\n") + note.text;
    }
    const Poco::Int64 at = now_;
    for (const auto& [id, text] : added) {
        const std::string appended = "\n\n" + text;
        db.run("UPDATE b2b_leads SET notes = CASE WHEN notes IS NULL OR notes = '' THEN $1 ELSE notes || $2 END, updated_at = $3 "
               "WHERE id = $4",
               {text, appended, at, id});
    }
}

void Timeline::updateConversations(sdk::PreparedSession& db) {
    // Created conversations whose counts were not what their insert assumed: as the insert would
    // have set them from the messages that are new.
    sdk::JsonRows recounts;
    for (const Conversation& c : conversations_)
        if (c.created && c.recount) recounts.row().add(c.id).add(c.newMessages).add(c.latestAt).add(c.firstAt);
    if (!recounts.empty())
        db.run("UPDATE whatsapp_conversations SET unread_count = v.n, last_inbound_at = CASE WHEN v.n > 0 THEN v.latest END, "
               "last_message_at = CASE WHEN v.n > 0 AND v.first < v.latest THEN v.latest ELSE v.first END FROM (SELECT " +
                   column(0, "BIGINT") + " AS id, " + column(1, "INTEGER") + " AS n, " + column(2, "BIGINT") + " AS latest, " +
                   column(3, "BIGINT") + " AS first FROM " + rows("$1") + ") AS v WHERE whatsapp_conversations.id = v.id" +
                   throughKey("whatsapp_conversations.id", "$1"),
               {recounts.text()});
    // The others: new messages counted on top of what is stored, and what routing changed (for a
    // created one only that: its counts are written).
    sdk::JsonRows values;
    for (const Conversation& c : conversations_)
        if (c.changed) values.row().add(c.id).add(c.latestAt).add(c.created ? 0 : c.newMessages).add(c.intent).add(c.assigned).add(c.lead);
    if (values.empty()) return;
    const Poco::Int64 at = now_;
    const std::string t = "whatsapp_conversations.";
    db.run("UPDATE whatsapp_conversations SET "
           "last_inbound_at = CASE WHEN v.n > 0 AND (" + t + "last_inbound_at IS NULL OR " + t + "last_inbound_at < v.latest) "
           "THEN v.latest ELSE " + t + "last_inbound_at END, "
           "last_message_at = CASE WHEN v.n > 0 AND " + t + "last_message_at < v.latest THEN v.latest ELSE " + t + "last_message_at END, "
           "unread_count = " + t + "unread_count + v.n, "
           "updated_at = CASE WHEN v.n > 0 THEN CAST($2 AS BIGINT) ELSE " + t + "updated_at END, "
           "intent = v.intent, assigned_user_id = v.assigned, b2b_lead_id = v.lead FROM (SELECT " + column(0, "BIGINT") + " AS id, " +
               column(1, "BIGINT") + " AS latest, " + column(2, "INTEGER") + " AS n, " + column(3, "TEXT") + " AS intent, " +
               column(4, "BIGINT") + " AS assigned, " + column(5, "BIGINT") + " AS lead FROM " + rows("$1") +
               ") AS v WHERE whatsapp_conversations.id = v.id" + throughKey("whatsapp_conversations.id", "$1"),
           {values.text(), at});
}

// Statuses are kept in whatsapp_message_statuses, one row per (wamid, status, time), even when the
// message is not known yet: the dispatcher applies what is stored when it learns the wamid, by the
// same rule (sdk::applyMessageStatus) that moves a stored outbound message here, status by status.
void Timeline::writeStatuses(sdk::PreparedSession& db) {
    std::vector<std::size_t> candidates;
    std::set<std::tuple<std::string, std::string, Poco::Int64>> seen;
    for (std::size_t i = 0; i < statuses_.size(); ++i)
        if (seen.insert({statuses_[i].wamid, statuses_[i].word, statuses_[i].occurredAt}).second) candidates.push_back(i);
    std::sort(candidates.begin(), candidates.end(), [&](std::size_t a, std::size_t b) {
            const Status &x = statuses_[a], &y = statuses_[b];
            return std::tie(x.wamid, x.word, x.occurredAt) < std::tie(y.wamid, y.word, y.occurredAt);
        });
    const Poco::Int64 receivedAt = now_;
    if (!candidates.empty()) {
        sdk::JsonRows values;
        for (std::size_t i : candidates) {
            const Status& s = statuses_[i];
            values.row().add(s.wamid).add(s.word).add(s.recipient).add(s.code).add(s.title).add(s.details).add(s.payload).add(s.eventId).add(s.occurredAt)
                .add(s.recipientUserId);
        }
        std::set<std::tuple<std::string, std::string, Poco::Int64>> inserted;
        db.run("INSERT INTO whatsapp_message_statuses (wa_message_id, status, recipient_id, error_code, error_title, error_details, "
               "payload, webhook_event_id, occurred_at, recipient_user_id, received_at) SELECT " + column(0, "TEXT") + ", " + column(1, "TEXT") + ", " +
                   column(2, "TEXT") + ", " + column(3, "BIGINT") + ", " + column(4, "TEXT") + ", " + column(5, "TEXT") + ", " +
                   column(6, "TEXT") + ", " + column(7, "BIGINT") + ", " + column(8, "BIGINT") + ", " + column(9, "TEXT") + ", CAST($2 AS BIGINT) FROM " +
                   rows("$1") + " WHERE true ORDER BY r.key ON CONFLICT DO NOTHING RETURNING wa_message_id, status, occurred_at",
               {values.text(), receivedAt},
               [&](const sdk::SqlRow& row) { inserted.insert({row.text(0), row.text(1), row.integer(2)}); });
        for (std::size_t i : candidates) {
            Status& s = statuses_[i];
            s.inserted = inserted.count({s.wamid, s.word, s.occurredAt}) > 0;
            if (s.inserted) ++counts_.statuses;
        }
    }

    // The stored outbound messages these new statuses are about, moved status by status.
    sdk::JsonRows wamids;
    {
        std::set<std::string> unique;
        for (const Status& s : statuses_)
            if (s.inserted && (s.word == "failed" || statusRank(s.word) > 0)) unique.insert(s.wamid);
        for (const std::string& wamid : unique) wamids.row().add(wamid);
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
    if (!wamids.empty())
        db.run("SELECT id, conversation_id, wa_message_id, status FROM whatsapp_messages WHERE wa_message_id IS NOT NULL AND "
               "wa_message_id" + dialect_.inSubquery("SELECT " + column(0, "TEXT") + " FROM " + rows("$1")) + " AND direction = 'out'" +
                   lockClause(),
               {wamids.text()}, [&](const sdk::SqlRow& row) {
                   Outbound& o = outbound[row.text(2)];
                   o.id = row.integer(0);
                   o.conversation = row.integer(1);
                   o.status = row.text(3);
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
    if (changed.empty()) return;
    std::sort(changed.begin(), changed.end(), [](const Outbound* a, const Outbound* b) { return a->id < b->id; });
    sdk::JsonRows values;
    for (const Outbound* o : changed)
        values.row().add(o->id).add(o->status).add(o->failed).add(o->code).add(o->title).add(o->details).add(o->failedAt).add(o->sentAt)
            .add(o->deliveredAt).add(o->readAt);
    const std::string t = "whatsapp_messages.";
    db.run("UPDATE whatsapp_messages SET status = v.status, "
           "error_code = CASE WHEN v.failed = 1 THEN v.error_code ELSE " + t + "error_code END, "
           "error_title = CASE WHEN v.failed = 1 THEN v.error_title ELSE " + t + "error_title END, "
           "error_details = CASE WHEN v.failed = 1 THEN v.error_details ELSE " + t + "error_details END, "
           "failed_at = COALESCE(v.failed_at, " + t + "failed_at), sent_at = COALESCE(v.sent_at, " + t + "sent_at), "
           "delivered_at = COALESCE(v.delivered_at, " + t + "delivered_at), read_at = COALESCE(v.read_at, " + t + "read_at), "
           "updated_at = CAST($2 AS BIGINT) FROM (SELECT " + column(0, "BIGINT") + " AS id, " + column(1, "TEXT") + " AS status, " +
               column(2, "INTEGER") + " AS failed, " + column(3, "BIGINT") + " AS error_code, " + column(4, "TEXT") + " AS error_title, " +
               column(5, "TEXT") + " AS error_details, " + column(6, "BIGINT") + " AS failed_at, " + column(7, "BIGINT") + " AS sent_at, " +
               column(8, "BIGINT") + " AS delivered_at, " + column(9, "BIGINT") + " AS read_at FROM " + rows("$1") +
               ") AS v WHERE whatsapp_messages.id = v.id" + throughKey("whatsapp_messages.id", "$1"),
           {values.text(), receivedAt});
}

// Errors Meta reports are recorded once per (source, wamid, code, title): the first report wins.
// A message's own errors only when the message is new, as the per-event code did.
void Timeline::writeErrors(sdk::PreparedSession& db) {
    std::vector<std::size_t> picked;
    std::set<std::tuple<std::string, std::string, Poco::Int64, std::string>> seen;
    for (std::size_t i = 0; i < errors_.size(); ++i) {
        const ErrorRow& e = errors_[i];
        if (e.onlyIfMessage != kNone && !messages_[e.onlyIfMessage].inserted) continue;
        if (seen.insert({e.source, e.wamid, e.code, e.title}).second) picked.push_back(i);
    }
    if (picked.empty()) return;
    std::sort(picked.begin(), picked.end(), [&](std::size_t a, std::size_t b) {
            const ErrorRow &x = errors_[a], &y = errors_[b];
            return std::tie(x.source, x.wamid, x.code, x.title) < std::tie(y.source, y.wamid, y.code, y.title);
        });
    const Poco::Int64 at = now_;
    sdk::JsonRows values;
    for (std::size_t i : picked) {
        const ErrorRow& e = errors_[i];
        values.row().add(e.eventId).add(e.source).add(e.wamid).add(e.code).add(e.title).add(e.message).add(e.details);
    }
    counts_.errors += static_cast<int>(
        db.run("INSERT INTO whatsapp_errors (webhook_event_id, source, wa_message_id, code, title, message, details, created_at) SELECT " +
                   column(0, "BIGINT") + ", " + column(1, "TEXT") + ", " + column(2, "TEXT") + ", " + column(3, "BIGINT") + ", " +
                   column(4, "TEXT") + ", " + column(5, "TEXT") + ", " + column(6, "TEXT") + ", CAST($2 AS BIGINT) FROM " + rows("$1") +
                   " WHERE true ORDER BY r.key ON CONFLICT DO NOTHING",
               {values.text(), at}));
}

std::vector<Poco::Int64> Timeline::newMediaMessages() const {
    std::vector<Poco::Int64> ids;
    for (const Message& m : messages_)
        if (m.inserted && !m.rendered.mediaId.empty() && sdk::isMediaType(m.rendered.type)) ids.push_back(m.id);
    return ids;
}

void Timeline::collectEvents() {
    // A conversation that took another contact's conversation or messages: its page shows them.
    for (const Poco::Int64 id : mergedConversations_)
        events_.push_back({"conversation.updated", jsonEvent({{"conversation_id", id}}, {{"reason", "merged"}})});
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
