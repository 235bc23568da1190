#include "Timeline.hpp"

#include <Poco/Data/RecordSet.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Nullable.h>

#include <sstream>

#include "MessageRenderer.hpp"
#include "tawasul/sdk/Json.hpp"
#include "tawasul/whatsapp/TimelineWrites.hpp"

namespace tawasul::plugins::inbound_router {
namespace {

using namespace Poco::Data::Keywords;
using Poco::JSON::Array;
using Poco::JSON::Object;
using NullableText = Poco::Nullable<std::string>;
using NullableInt = Poco::Nullable<Poco::Int64>;

std::string field(const Object& object, const std::string& key) { return sdk::jsonText(object, key); }

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

NullableText orNull(const std::string& text) { return text.empty() ? NullableText() : NullableText(text); }

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

}  // namespace

int statusRank(const std::string& status) { return sdk::statusRank(status); }

Timeline::Timeline(Poco::Data::Session& session, const KeywordRules& rules,
                   std::shared_ptr<sdk::ContactMatcher> matcher, const sdk::PhoneNormalizer& phones, std::int64_t now)
    : session_(session), rules_(rules), matcher_(std::move(matcher)), phones_(phones), now_(now) {}

void Timeline::publish(const std::string& topic, const std::string& json) { events_.push_back({topic, json}); }

void Timeline::apply(std::int64_t eventId, const Object& notification) {
    const Array::Ptr entries = arrayAt(notification, "entry");
    for (std::size_t e = 0; entries && e < entries->size(); ++e) {
        const Object::Ptr entry = entries->getObject(static_cast<unsigned>(e));
        const Array::Ptr changes = entry ? arrayAt(*entry, "changes") : nullptr;
        for (std::size_t c = 0; changes && c < changes->size(); ++c) {
            const Object::Ptr change = changes->getObject(static_cast<unsigned>(c));
            if (!change) continue;
            const Object::Ptr value = objectAt(*change, "value");
            // Other fields (template status updates, account alerts, ...) stay in the stored event.
            if (value && field(*change, "field") == "messages") applyChange(eventId, *value);
        }
    }
}

void Timeline::statusWamids(const Object& notification, std::vector<std::string>& wamids) {
    const Array::Ptr entries = arrayAt(notification, "entry");
    for (std::size_t e = 0; entries && e < entries->size(); ++e) {
        const Object::Ptr entry = entries->getObject(static_cast<unsigned>(e));
        const Array::Ptr changes = entry ? arrayAt(*entry, "changes") : nullptr;
        for (std::size_t c = 0; changes && c < changes->size(); ++c) {
            const Object::Ptr change = changes->getObject(static_cast<unsigned>(c));
            const Object::Ptr value = change ? objectAt(*change, "value") : nullptr;
            const Array::Ptr statuses = value ? arrayAt(*value, "statuses") : nullptr;
            for (std::size_t i = 0; statuses && i < statuses->size(); ++i)
                if (const Object::Ptr status = statuses->getObject(static_cast<unsigned>(i)))
                    if (const std::string wamid = field(*status, "id"); !wamid.empty()) wamids.push_back(wamid);
        }
    }
}

void Timeline::applyChange(std::int64_t eventId, const Object& value) {
    const Object::Ptr metadata = objectAt(value, "metadata");
    const std::string phoneNumberId = metadata ? field(*metadata, "phone_number_id") : "";
    recordErrors(eventId, "value", "", value);
    if (const Array::Ptr messages = arrayAt(value, "messages")) {
        for (std::size_t i = 0; i < messages->size(); ++i)
            if (const Object::Ptr message = messages->getObject(static_cast<unsigned>(i)))
                applyMessage(eventId, phoneNumberId, value, *message);
    }
    if (const Array::Ptr statuses = arrayAt(value, "statuses")) {
        for (std::size_t i = 0; i < statuses->size(); ++i)
            if (const Object::Ptr status = statuses->getObject(static_cast<unsigned>(i))) applyStatus(eventId, *status);
    }
}

void Timeline::applyMessage(std::int64_t eventId, const std::string& phoneNumberId, const Object& value, const Object& message) {
    const std::string wamid = field(message, "id");
    std::string waId = field(message, "from");
    std::string userId = field(message, "from_user_id");
    std::string profileName;
    // The sender's profile comes from the contacts array (absent for system messages).
    if (const Array::Ptr contacts = arrayAt(value, "contacts")) {
        for (std::size_t i = 0; i < contacts->size(); ++i) {
            const Object::Ptr contact = contacts->getObject(static_cast<unsigned>(i));
            if (!contact) continue;
            const std::string contactWaId = field(*contact, "wa_id");
            const std::string contactUserId = field(*contact, "user_id");
            const bool same = (!waId.empty() && contactWaId == waId) || (!userId.empty() && contactUserId == userId) ||
                              contacts->size() == 1;
            if (!same) continue;
            if (const Object::Ptr profile = objectAt(*contact, "profile")) profileName = field(*profile, "name");
            if (waId.empty()) waId = contactWaId;
            if (userId.empty()) userId = contactUserId;
            break;
        }
    }
    if (waId.empty() && userId.empty()) {
        recordErrors(eventId, "message", wamid, message);
        return;  // nobody to attach it to; the event keeps the bytes
    }
    const Contact contact = upsertContact(phoneNumberId, waId, userId, profileName);
    if (!contact.matched && !waId.empty()) matchContact(contact.id, waId);

    const RenderedMessage rendered = renderMessage(message);
    const std::int64_t at = millisFrom(message, now_);
    bool reopened = false;
    const std::int64_t conversationId = openConversation(contact.id, at, reopened);

    Poco::Int64 conversation = conversationId, event = eventId, createdAt = at, updatedAt = now_;
    NullableText wamidValue = orNull(wamid), body = orNull(rendered.body), context = orNull(rendered.contextId),
                 mediaId = orNull(rendered.mediaId), mime = orNull(rendered.mediaMimeType);
    std::string type = rendered.type, payload = toJson(message);
    Poco::Data::Statement insert(session_);
    std::vector<Poco::Int64> inserted;
    insert << "INSERT INTO whatsapp_messages (conversation_id, direction, wa_message_id, type, body, payload, status, "
              "context_wa_message_id, media_id, media_mime_type, webhook_event_id, created_at, updated_at) "
              "VALUES ($1, 'in', $2, $3, $4, $5, 'received', $6, $7, $8, $9, $10, $11) "
              "ON CONFLICT (wa_message_id) WHERE wa_message_id IS NOT NULL DO NOTHING RETURNING id",
        use(conversation), use(wamidValue), use(type), use(body), use(payload), use(context), use(mediaId), use(mime),
        use(event), use(createdAt), use(updatedAt), into(inserted);
    insert.execute();
    if (inserted.empty()) {
        ++counts_.duplicates;  // Meta delivered it again: nothing changes
        return;
    }
    ++counts_.messages;
    // The 24-hour window runs from the latest inbound message, whatever order they arrive in.
    session_ << "UPDATE whatsapp_conversations SET "
                "last_inbound_at = CASE WHEN last_inbound_at IS NULL OR last_inbound_at < $1 THEN $1 ELSE last_inbound_at END, "
                "last_message_at = CASE WHEN last_message_at < $1 THEN $1 ELSE last_message_at END, "
                "unread_count = unread_count + 1, updated_at = $2 WHERE id = $3",
        use(createdAt), use(updatedAt), use(conversation), now;
    recordErrors(eventId, "message", wamid, message);
    if (type == "text" || type == "button" || type == "interactive") route(conversationId, contact.id, inserted.front(), rendered.body);
    publish("message.received",
            jsonEvent({{"conversation_id", conversationId}, {"message_id", inserted.front()}, {"contact_id", contact.id}},
                      {{"type", type}}));
    publish("conversation.updated", jsonEvent({{"conversation_id", conversationId}}, {{"reason", reopened ? "reopened" : "message"}}));
}

Timeline::Contact Timeline::upsertContact(const std::string& phoneNumberId, const std::string& waId, const std::string& userId,
                                          const std::string& profileName) {
    // Keyed on the business number plus whichever id Meta gave: wa_id (the phone) or the
    // business-scoped user id of a user with a username, which may be the only one.
    std::string number = phoneNumberId;
    NullableText wa = orNull(waId), user = orNull(userId), name = orNull(profileName);
    NullableText phone;
    if (!waId.empty())
        if (const auto e164 = phones_.toE164(waId)) phone = *e164;
    auto find = [&]() -> std::optional<Contact> {
        Poco::Data::Statement select(session_);
        std::vector<Poco::Int64> ids;
        std::vector<NullableText> matched;
        select << "SELECT id, matched_type FROM whatsapp_contacts WHERE phone_number_id = $1 AND "
                  "((wa_id IS NOT NULL AND wa_id = $2) OR (user_id IS NOT NULL AND user_id = $3)) ORDER BY id LIMIT 1",
            use(number), use(wa), use(user), into(ids), into(matched);
        select.execute();
        if (ids.empty()) return std::nullopt;
        return Contact{ids.front(), !matched.front().isNull()};
    };
    Poco::Int64 at = now_;
    if (auto existing = find()) {
        Poco::Int64 id = existing->id;
        // Fill in what was missing and keep the profile name current; never erase a known id.
        session_ << "UPDATE whatsapp_contacts SET wa_id = COALESCE(wa_id, $1), user_id = COALESCE(user_id, $2), "
                    "phone_e164 = COALESCE(phone_e164, $3), profile_name = COALESCE(CAST($4 AS TEXT), profile_name), updated_at = $5 "
                    "WHERE id = $6 AND (wa_id IS NULL OR user_id IS NULL OR phone_e164 IS NULL OR "
                    // CAST: PostgreSQL cannot type a parameter that is only tested for NULL.
                    "(CAST($4 AS TEXT) IS NOT NULL AND (profile_name IS NULL OR profile_name <> CAST($4 AS TEXT))))",
            use(wa), use(user), use(phone), use(name), use(at), use(id), now;
        return *existing;
    }
    // Two workers may meet the same new sender at once: the unique keys decide, the loser re-reads.
    session_ << "INSERT INTO whatsapp_contacts (phone_number_id, wa_id, user_id, phone_e164, profile_name, created_at, updated_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
        use(number), use(wa), use(user), use(phone), use(name), use(at), now;
    if (auto created = find()) return *created;
    throw std::runtime_error("contact for " + waId + userId + " could not be written");
}

void Timeline::matchContact(std::int64_t contactId, const std::string& waId) {
    if (!matcher_) return;
    const auto candidates = matcher_->match(waId);
    if (candidates.empty()) return;
    const sdk::MatchCandidate& best = candidates.front();
    std::string kind = best.kind;
    Poco::Int64 matchedId = best.id, id = contactId;
    session_ << "UPDATE whatsapp_contacts SET matched_type = $1, matched_id = $2 WHERE id = $3", use(kind), use(matchedId),
        use(id), now;
}

std::int64_t Timeline::openConversation(std::int64_t contactId, std::int64_t at, bool& reopened) {
    return sdk::openConversation(session_, contactId, at, now_, reopened);
}

void Timeline::route(std::int64_t conversationId, std::int64_t contactId, std::int64_t messageId, const std::string& text) {
    const auto match = rules_.match(text);
    if (!match) return;
    Poco::Int64 conversation = conversationId;
    std::string intent = match->rule->intent;
    for (const RuleAction& action : match->rule->actions) {
        switch (action.kind) {
            case RuleAction::Kind::Tag: {
                std::string tag = action.value;
                session_ << "UPDATE whatsapp_conversations SET intent = $1 WHERE id = $2", use(tag), use(conversation), now;
                break;
            }
            case RuleAction::Kind::CreateB2bLead:
                createLead(conversationId, contactId, text);
                break;
            case RuleAction::Kind::Assign: {
                std::string email = action.value;
                session_ << "UPDATE whatsapp_conversations SET assigned_user_id = (SELECT id FROM users WHERE email = $1) "
                            "WHERE id = $2 AND assigned_user_id IS NULL",
                    use(email), use(conversation), now;
                break;
            }
            case RuleAction::Kind::AutoReply:
                // Sent by the dispatcher's job, after this transaction commits.
                // message_id names the trigger, so the dispatcher's idempotency key is the same however
                // often this event is produced for that message.
                publish("auto_reply.requested", jsonEvent({{"conversation_id", conversationId}, {"message_id", messageId}},
                                                          {{"template", action.value}, {"language", action.language}, {"intent", intent}}));
                break;
        }
    }
    publish("conversation.updated", jsonEvent({{"conversation_id", conversationId}}, {{"reason", "intent"}, {"intent", intent}}));
}

void Timeline::createLead(std::int64_t conversationId, std::int64_t contactId, const std::string& firstMessage) {
    Poco::Int64 conversation = conversationId, contact = contactId, at = now_;
    NullableInt existing;
    session_ << "SELECT b2b_lead_id FROM whatsapp_conversations WHERE id = $1", use(conversation), into(existing), now;
    if (!existing.isNull()) return;  // one lead per conversation: a second "devis" changes nothing
    NullableText name, phone, matchedType;
    NullableInt matchedId;
    session_ << "SELECT profile_name, phone_e164, matched_type, matched_id FROM whatsapp_contacts WHERE id = $1", use(contact),
        into(name), into(phone), into(matchedType), into(matchedId), now;
    NullableInt organization;
    if (!matchedType.isNull() && matchedType.value() == "organization") organization = matchedId;
    std::string notes = firstMessage.substr(0, 2000);
    std::vector<Poco::Int64> leadIds;
    session_ << "INSERT INTO b2b_leads (organization_id, contact_name, phone, source, status, notes, created_at, updated_at) "
                "VALUES ($1, $2, $3, 'whatsapp', 'new', $4, $5, $5) RETURNING id",
        use(organization), use(name), use(phone), use(notes), use(at), into(leadIds), now;
    Poco::Int64 lead = leadIds.front();
    // Guarded: a concurrent worker may have linked a lead first (on PostgreSQL the UPDATE waits for
    // it and re-checks); then ours is removed and theirs stands.
    Poco::Data::Statement link(session_);
    link << "UPDATE whatsapp_conversations SET b2b_lead_id = $1 WHERE id = $2 AND b2b_lead_id IS NULL", use(lead), use(conversation);
    if (link.execute() == 0) {
        session_ << "DELETE FROM b2b_leads WHERE id = $1", use(lead), now;
        return;
    }
    ++counts_.leads;
    publish("lead.created", jsonEvent({{"conversation_id", conversationId}, {"lead_id", lead}}));
}

void Timeline::applyStatus(std::int64_t eventId, const Object& status) {
    std::string wamid = field(status, "id");
    std::string word = field(status, "status");
    if (wamid.empty() || word.empty()) return;
    Poco::Int64 occurredAt = millisFrom(status, now_), receivedAt = now_, event = eventId;
    NullableText recipient = orNull(field(status, "recipient_id"));
    NullableInt code;
    NullableText title, details;
    if (const Array::Ptr errors = arrayAt(status, "errors"); errors && errors->size() > 0) {
        if (const Object::Ptr first = errors->getObject(0)) {
            if (first->has("code")) code = first->getValue<Poco::Int64>("code");
            title = orNull(field(*first, "title"));
            const Object::Ptr data = objectAt(*first, "error_data");
            details = orNull(data ? field(*data, "details") : field(*first, "message"));
        }
    }
    std::string payload = toJson(status);
    std::vector<Poco::Int64> inserted;
    Poco::Data::Statement insert(session_);
    insert << "INSERT INTO whatsapp_message_statuses (wa_message_id, status, recipient_id, error_code, error_title, error_details, "
              "payload, webhook_event_id, occurred_at, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
              "ON CONFLICT DO NOTHING RETURNING id",
        use(wamid), use(word), use(recipient), use(code), use(title), use(details), use(payload), use(event), use(occurredAt),
        use(receivedAt), into(inserted);
    insert.execute();
    recordErrors(eventId, "status", wamid, status);
    if (inserted.empty()) return;  // seen before
    ++counts_.statuses;
    // Kept in whatsapp_message_statuses even when the message is not known yet: the dispatcher
    // applies what is stored when it learns the wamid, by the same rule (sdk::applyMessageStatus).
    sdk::StatusChange change;
    change.waMessageId = wamid;
    change.status = word;
    if (!code.isNull()) change.errorCode = code.value();
    if (!title.isNull()) change.errorTitle = title.value();
    if (!details.isNull()) change.errorDetails = details.value();
    change.occurredAt = occurredAt;
    if (const auto conversation = sdk::applyMessageStatus(session_, change, now_))
        publish("message.status", jsonEvent({{"conversation_id", *conversation}}, {{"wa_message_id", wamid}, {"status", word}}));
}

void Timeline::recordErrors(std::int64_t eventId, const std::string& source, const std::string& waMessageId, const Object& holder) {
    const Array::Ptr errors = arrayAt(holder, "errors");
    for (std::size_t i = 0; errors && i < errors->size(); ++i) {
        const Object::Ptr error = errors->getObject(static_cast<unsigned>(i));
        if (!error) continue;
        Poco::Int64 code = error->optValue<Poco::Int64>("code", 0), event = eventId, at = now_;
        std::string title = field(*error, "title"), src = source, wamid = waMessageId;
        NullableText message = orNull(field(*error, "message"));
        const Object::Ptr data = objectAt(*error, "error_data");
        NullableText details = orNull(data ? field(*data, "details") : "");
        Poco::Data::Statement insert(session_);
        insert << "INSERT INTO whatsapp_errors (webhook_event_id, source, wa_message_id, code, title, message, details, created_at) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            use(event), use(src), use(wamid), use(code), use(title), use(message), use(details), use(at);
        counts_.errors += static_cast<int>(insert.execute());
    }
}

}  // namespace tawasul::plugins::inbound_router
