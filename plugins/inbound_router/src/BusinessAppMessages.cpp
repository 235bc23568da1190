#include "BusinessAppMessages.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Nullable.h>

#include "MessageRenderer.hpp"
#include "tawasul/sdk/Json.hpp"
#include "tawasul/sdk/PreparedSession.hpp"
#include "tawasul/whatsapp/TimelineWrites.hpp"

namespace tawasul::plugins::inbound_router {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;
using Text = Poco::Nullable<std::string>;

Object::Ptr objectAt(const Object& object, const std::string& key) {
    return object.has(key) && object.isObject(key) ? object.getObject(key) : nullptr;
}
Array::Ptr arrayAt(const Object& object, const std::string& key) {
    return object.has(key) && object.isArray(key) ? object.getArray(key) : nullptr;
}
Text orNull(const std::string& text) { return text.empty() ? Text() : Text(text); }

// Meta's seconds as milliseconds; none (0) for anything that is no time in years 1970-9999.
std::int64_t millisOf(const Object& object) {
    try {
        const long long seconds = std::stoll(sdk::jsonText(object, "timestamp"));
        if (seconds > 0 && seconds <= 253402300799) return seconds * 1000;
    } catch (const std::exception&) {
    }
    return 0;
}

// A history message's status as the timeline spells it (history_context.status: SENT, DELIVERED,
// READ, PLAYED, ERROR, PENDING).
std::string historyStatus(const Object& message, bool inbound) {
    if (inbound) return "received";
    const Object::Ptr context = objectAt(message, "history_context");
    const std::string status = context ? sdk::jsonText(*context, "status") : "";
    if (status == "DELIVERED") return "delivered";
    if (status == "READ" || status == "PLAYED") return "read";
    if (status == "ERROR") return "failed";
    return "sent";
}

struct PastMessage {
    std::int64_t eventId = 0;
    std::string phoneNumberId, customer, wamid, direction, status;
    std::int64_t at = 0;
    bool history = false;  // imported quietly
    const Object* message = nullptr;
};

}  // namespace

void BusinessAppMessages::write(sdk::PreparedSession& db, const std::vector<sdk::WebhookChange>& changes) {
    const std::int64_t now = clock_.nowMillis();
    std::vector<PastMessage> messages;
    for (const sdk::WebhookChange& change : changes) {
        const Object& value = *change.value;
        const Object::Ptr metadata = objectAt(value, "metadata");
        const std::string phoneNumberId = metadata ? sdk::jsonIdentifier(*metadata, "phone_number_id") : "";
        if (change.field == "smb_message_echoes") {
            // {"message_echoes": [{"from": the business, "to": the customer's wa_id, "id", "timestamp", "type", ...}]}
            const Array::Ptr echoes = arrayAt(value, "message_echoes");
            for (std::size_t i = 0; echoes && i < echoes->size(); ++i)
                if (const Object::Ptr echo = echoes->getObject(static_cast<unsigned>(i)))
                    messages.push_back({change.eventId, phoneNumberId, sdk::jsonIdentifier(*echo, "to"), sdk::jsonIdentifier(*echo, "id"),
                                        "out", "sent", millisOf(*echo), false, echo.get()});
        } else if (change.field == "history") {
            // {"history": [{"threads": [{"id": the customer's wa_id, "messages": [{"from", "id", "timestamp", ...}]}]}]}
            const Array::Ptr chunks = arrayAt(value, "history");
            for (std::size_t c = 0; chunks && c < chunks->size(); ++c) {
                const Object::Ptr chunk = chunks->getObject(static_cast<unsigned>(c));
                const Array::Ptr threads = chunk ? arrayAt(*chunk, "threads") : nullptr;
                for (std::size_t t = 0; threads && t < threads->size(); ++t) {
                    const Object::Ptr thread = threads->getObject(static_cast<unsigned>(t));
                    const std::string customer = thread ? sdk::jsonIdentifier(*thread, "id") : "";
                    const Array::Ptr past = thread ? arrayAt(*thread, "messages") : nullptr;
                    for (std::size_t m = 0; past && m < past->size(); ++m)
                        if (const Object::Ptr message = past->getObject(static_cast<unsigned>(m))) {
                            const bool inbound = sdk::jsonIdentifier(*message, "from") == customer;
                            messages.push_back({change.eventId, phoneNumberId, customer, sdk::jsonIdentifier(*message, "id"),
                                                inbound ? "in" : "out", historyStatus(*message, inbound), millisOf(*message), true,
                                                message.get()});
                        }
                }
            }
        } else if (change.field == "smb_app_state_sync") {
            // {"state_sync": [{"type": "contact", "contact": {"full_name", "phone_number"}, "action": "add"}]}
            const Array::Ptr entries = arrayAt(value, "state_sync");
            for (std::size_t i = 0; entries && i < entries->size(); ++i) {
                const Object::Ptr entry = entries->getObject(static_cast<unsigned>(i));
                const Object::Ptr contact = entry ? objectAt(*entry, "contact") : nullptr;
                if (!contact || sdk::jsonText(*entry, "type") != "contact" || sdk::jsonText(*entry, "action") == "remove") continue;
                const auto e164 = phones_.toE164(sdk::jsonText(*contact, "phone_number"));
                std::string name = sdk::jsonText(*contact, "full_name").substr(0, 200);
                if (!e164 || name.empty()) continue;
                const std::string waId = e164->substr(1);
                Poco::Int64 at = now;
                db.run("UPDATE whatsapp_contacts SET profile_name = $1, updated_at = $2 WHERE phone_number_id = $3 AND wa_id = $4",
                       {name, at, phoneNumberId, waId});
            }
        }
    }

    for (const PastMessage& past : messages) {
        // A customer is a wa_id (digits); a message is a wamid, stored once.
        const auto e164 = phones_.toE164(past.customer);
        if (past.wamid.empty() || !e164 || e164->substr(1) != past.customer) continue;
        bool known = false;
        db.run("SELECT 1 FROM whatsapp_messages WHERE wa_message_id = $1", {past.wamid}, [&](const sdk::SqlRow&) { known = true; });
        if (known) continue;
        const Poco::Int64 at = past.at > 0 ? past.at : now, updated = now;
        db.run("INSERT INTO whatsapp_contacts (phone_number_id, wa_id, phone_e164, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) "
               "ON CONFLICT DO NOTHING",
               {past.phoneNumberId, past.customer, *e164, updated});
        Poco::Int64 contact = 0;
        db.run("SELECT id FROM whatsapp_contacts WHERE phone_number_id = $1 AND wa_id = $2", {past.phoneNumberId, past.customer},
               [&](const sdk::SqlRow& row) { contact = row.integer(0); });
        if (contact == 0) continue;  // a BSUID contact holds the number under another key: left to the messages field
        Poco::Int64 conversation = 0;
        if (past.history) {
            // Past chats join the contact's latest conversation as they are, or a resolved one.
            db.run("SELECT id FROM whatsapp_conversations WHERE contact_id = $1 ORDER BY id DESC LIMIT 1", {contact},
                   [&](const sdk::SqlRow& row) { conversation = row.integer(0); });
            if (conversation == 0)
                db.run("INSERT INTO whatsapp_conversations (contact_id, status, last_message_at, created_at, updated_at, resolved_at) "
                       "VALUES ($1, 'resolved', $2, $3, $3, $3) RETURNING id",
                       {contact, at, updated}, [&](const sdk::SqlRow& row) { conversation = row.integer(0); });
        } else {
            bool reopened = false;
            conversation = sdk::openConversation(db.session(), contact, at, now, reopened);
        }
        const RenderedMessage rendered = renderMessage(*past.message);
        const std::string payload = sdk::jsonString(*past.message);
        const Text provider = past.direction == "out" ? Text(kProvider) : Text(), media = orNull(rendered.mediaId),
                   mime = orNull(rendered.mediaMimeType), context = orNull(rendered.contextId);
        const Poco::Int64 event = past.eventId;
        db.run("INSERT INTO whatsapp_messages (conversation_id, direction, wa_message_id, type, body, payload, status, provider, media_id, "
               "media_mime_type, context_wa_message_id, webhook_event_id, created_at, updated_at, sent_at) "
               "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $13) "
               "ON CONFLICT (wa_message_id) WHERE wa_message_id IS NOT NULL DO NOTHING",
               {conversation, past.direction, past.wamid, rendered.type, rendered.body, payload, past.status, provider, media, mime, context,
                event, at, updated});
        // The conversation's order follows its newest message; a customer's message opens the
        // 24-hour window from when it was written. No unread count: an agent has seen neither.
        db.run("UPDATE whatsapp_conversations SET last_message_at = CASE WHEN last_message_at < $1 THEN $1 ELSE last_message_at END, "
               "last_inbound_at = CASE WHEN $2 = 1 AND (last_inbound_at IS NULL OR last_inbound_at < $1) THEN $1 ELSE last_inbound_at END, "
               "updated_at = $3 WHERE id = $4",
               {at, Poco::Int64(past.direction == "in" ? 1 : 0), updated, conversation});
    }
}

}  // namespace tawasul::plugins::inbound_router
