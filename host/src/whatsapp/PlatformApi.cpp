#include "whatsapp/PlatformApi.hpp"

#include <sstream>
#include <typeinfo>

#include <Poco/Data/Statement.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Nullable.h>

#include "tawasul/sdk/Clock.hpp"
#include "tawasul/sdk/Json.hpp"
#include "tawasul/sdk/Errors.hpp"
#include "tawasul/sdk/Forms.hpp"
#include "tawasul/whatsapp/Messaging.hpp"
#include "tawasul/whatsapp/PlatformEvents.hpp"

#include "http/Responses.hpp"
#include "whatsapp/PlatformRequests.hpp"

using namespace Poco::Data::Keywords;

namespace tawasul::host {
namespace {

void answer(sdk::HttpResponse& response, const sdk::HttpRequest& request, const ApiError& error) {
    writeError(response, sdk::RouteStyle::Api, error.status, error.code, error.message, request.requestId, error.field);
}

struct StoredMessage {
    std::int64_t id = 0;
    std::int64_t conversationId = 0;
    std::string direction, type, status, body, waMessageId, provider, errorCode;
    std::int64_t createdAt = 0;
};

std::optional<StoredMessage> loadMessage(sdk::Database& database, std::int64_t messageId) {
    Poco::Data::Session session = database.session();
    Poco::Int64 id = messageId;
    std::vector<Poco::Int64> conversation, created;
    std::vector<std::string> direction, type, status;
    std::vector<Poco::Nullable<std::string>> body, wamid, provider, errorCode;
    session << "SELECT conversation_id, direction, type, status, body, wa_message_id, provider, CAST(error_code AS TEXT), created_at "
               "FROM whatsapp_messages WHERE id = $1",
        use(id), into(conversation), into(direction), into(type), into(status), into(body), into(wamid), into(provider), into(errorCode),
        into(created), now;
    if (conversation.empty()) return std::nullopt;
    auto text = [](const Poco::Nullable<std::string>& value) { return value.isNull() ? std::string() : value.value(); };
    StoredMessage message;
    message.id = messageId;
    message.conversationId = conversation[0];
    message.direction = direction[0];
    message.type = type[0];
    message.status = status[0];
    message.body = text(body[0]);
    message.waMessageId = text(wamid[0]);
    message.provider = text(provider[0]);
    message.errorCode = text(errorCode[0]);
    message.createdAt = created[0];
    return message;
}

Poco::JSON::Object messageJson(const StoredMessage& message) {
    Poco::JSON::Object json;
    json.set("id", message.id);
    json.set("conversation_id", message.conversationId);
    json.set("direction", message.direction);
    json.set("type", message.type);
    json.set("status", message.status);
    json.set("wa_message_id", message.waMessageId.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(message.waMessageId));
    json.set("provider", message.provider.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(message.provider));
    json.set("error_code", message.errorCode.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(message.errorCode));
    json.set("created_at", sdk::isoTime(message.createdAt));
    json.set("links", Poco::JSON::Object().set("self", "/api/v1/messages/" + std::to_string(message.id)));
    return json;
}

// The platform's idempotency keys live in one column with the inbox's: prefix them with the token,
// so that two clients choosing the same key do not collide.
std::string scopedKey(const sdk::Principal& principal, const std::string& key) {
    return "api:" + std::to_string(principal.id) + ":" + key;
}


}  // namespace

PlatformApi::PlatformApi(sdk::Database& database, ServiceDirectory& services, JobRunner& jobs, LocalEventBus& events, const sdk::Clock& clock)
    : database_(database), services_(services), jobs_(jobs), events_(events), clock_(clock) {}

void PlatformApi::registerWith(Router& router) {
    router.add("host", "POST", "/api/v1/messages", [this](const sdk::HttpRequest& in, sdk::HttpResponse& out) { sendMessage(in, out); },
               sdk::RouteOptions::token("messages.send"));
    router.add("host", "GET", "/api/v1/messages/{id}", [this](const sdk::HttpRequest& in, sdk::HttpResponse& out) { getMessage(in, out); },
               sdk::RouteOptions::token("messages.read"));
    router.add("host", "POST", "/api/v1/events", [this](const sdk::HttpRequest& in, sdk::HttpResponse& out) { postEvent(in, out); },
               sdk::RouteOptions::token("events.write"));
    jobs_.handle("host", kPublishPlatformEventJob, [this](const sdk::Job& job) { publishEvent(job); });
}

void PlatformApi::sendMessage(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
    try {
        const auto key = idempotencyKey(request, true);
        const auto body = parseObject(request.body);
        sdk::SendRequest send = parseSend(*body);
        send.idempotencyKey = scopedKey(*request.principal, *key);
        send.actor = {"api_token", request.principal->id, request.principal->name};
        const auto dispatcher = std::static_pointer_cast<sdk::MessageDispatcher>(
            services_.find(typeid(sdk::MessageDispatcher).name(), sdk::MessageDispatcher::kServiceName));
        if (!dispatcher) throw ApiError{503, "dispatcher_unavailable", "sending is not available on this host", ""};
        const sdk::SendReceipt receipt = dispatcher->send(send);
        switch (receipt.status) {
            case sdk::SendStatus::Accepted:
            case sdk::SendStatus::Duplicate: {
                const auto stored = loadMessage(database_, receipt.messageId);
                if (!stored) throw std::runtime_error("the dispatcher returned message " + std::to_string(receipt.messageId) + " that does not exist");
                response.json(receipt.status == sdk::SendStatus::Accepted ? 202 : 200, sdk::jsonString(messageJson(*stored)));
                return;
            }
            case sdk::SendStatus::KeyReused:
                throw ApiError{409, "idempotency_key_reused", "this Idempotency-Key was used for a different message", "Idempotency-Key"};
            case sdk::SendStatus::WindowClosed:
                throw ApiError{422, "window_closed",
                               receipt.message.empty() ? "the 24-hour window is closed: send a template" : receipt.message, "text"};
            case sdk::SendStatus::InvalidRequest:
                if (receipt.field == "conversation_id")
                    throw ApiError{404, "conversation_not_found", receipt.message, "conversation_id"};
                throw ApiError{422, "invalid_field", receipt.message, receipt.field};
        }
    } catch (const ApiError& error) {
        answer(response, request, error);
    }
}

void PlatformApi::getMessage(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
    const std::string& text = request.param("id");
    const std::int64_t id = sdk::positiveId(text);
    const auto stored = id > 0 ? loadMessage(database_, id) : std::nullopt;
    if (!stored) {
        answer(response, request, {404, "message_not_found", "no message with id " + text, "id"});
        return;
    }
    response.json(200, sdk::jsonString(messageJson(*stored)));
}

void PlatformApi::postEvent(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
    try {
        const auto key = idempotencyKey(request, false);
        const auto body = parseObject(request.body);
        auto [type, data] = parseEvent(*body);
        Poco::Int64 tokenId = request.principal->id, receivedAt = clock_.nowMillis(), id = 0;
        Poco::Nullable<std::string> idempotency;
        if (key) idempotency = *key;

        Poco::Data::Session session = database_.session();
        sdk::Transaction transaction(database_, session);
        if (key) {
            std::vector<Poco::Int64> ids;
            std::vector<std::string> types, datas;
            std::string keyText = *key;
            session << "SELECT id, type, data FROM platform_events WHERE token_id = $1 AND idempotency_key = $2", use(tokenId), use(keyText),
                into(ids), into(types), into(datas), now;
            if (!ids.empty()) {
                if (types[0] != type || datas[0] != data)
                    throw ApiError{409, "idempotency_key_reused", "this Idempotency-Key was used for a different event", "Idempotency-Key"};
                Poco::JSON::Object json;
                json.set("id", ids[0]);
                json.set("type", type);
                json.set("status", "accepted");
                response.json(200, sdk::jsonString(json));
                return;
            }
        }
        session << "INSERT INTO platform_events (type, data, token_id, idempotency_key, received_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            use(type), use(data), use(tokenId), use(idempotency), use(receivedAt), into(id), now;
        jobs_.enqueue(session, kPublishPlatformEventJob, "{\"platform_event_id\":" + std::to_string(id) + "}", {});
        transaction.commit();
        jobs_.wake();
        Poco::JSON::Object json;
        json.set("id", id);
        json.set("type", type);
        json.set("status", "accepted");
        response.json(202, sdk::jsonString(json));
    } catch (const ApiError& error) {
        answer(response, request, error);
    }
}

void PlatformApi::publishEvent(const sdk::Job& job) {
    const auto payload = Poco::JSON::Parser().parse(job.payload).extract<Poco::JSON::Object::Ptr>();
    Poco::Int64 id = payload->getValue<Poco::Int64>("platform_event_id");
    Poco::Data::Session session = database_.session();
    std::vector<std::string> types, datas;
    session << "SELECT type, data FROM platform_events WHERE id = $1", use(id), into(types), into(datas), now;
    if (types.empty()) throw sdk::PermanentJobFailure("platform event " + std::to_string(id) + " does not exist");
    // Subscribers (flows) are told at least once: they key their own work on the event id.
    Poco::JSON::Object event;
    event.set("id", id);
    event.set("type", types[0]);
    event.set("data", Poco::JSON::Parser().parse(datas[0]));
    events_.publish({sdk::kPlatformEventTopic, sdk::jsonString(event)});
    Poco::Int64 publishedAt = clock_.nowMillis();
    sdk::Transaction transaction(database_, session, sdk::Durability::Relaxed);
    session << "UPDATE platform_events SET published_at = $1 WHERE id = $2", use(publishedAt), use(id), now;
    transaction.commit();
}

}  // namespace tawasul::host
