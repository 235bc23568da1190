#include "whatsapp/PlatformApi.hpp"

#include <regex>
#include <sstream>
#include <typeinfo>

#include <Poco/Data/Statement.h>
#include <Poco/JSON/Array.h>
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

using namespace Poco::Data::Keywords;

namespace tawasul::host {
namespace {

// The dispatcher takes keys up to 300 bytes; this one gets a prefix of "api:<token id>:" first.
constexpr std::size_t kMaxIdempotencyKey = 255;

// A client error, answered as {"error":{"code","message","field"}}.
struct ApiError {
    int status;
    std::string code;
    std::string message;
    std::string field;
};

void answer(sdk::HttpResponse& response, const sdk::HttpRequest& request, const ApiError& error) {
    writeError(response, sdk::RouteStyle::Api, error.status, error.code, error.message, request.requestId, error.field);
}

Poco::JSON::Object::Ptr parseObject(const std::string& body) {
    if (body.empty()) throw ApiError{400, "invalid_json", "the request body is empty; send a JSON object", ""};
    Poco::Dynamic::Var parsed;
    try {
        parsed = Poco::JSON::Parser().parse(body);
    } catch (const Poco::Exception& error) {
        throw ApiError{400, "invalid_json", "the request body is not valid JSON: " + error.message(), ""};
    }
    if (parsed.type() != typeid(Poco::JSON::Object::Ptr))
        throw ApiError{422, "invalid_field", "the request body must be a JSON object", ""};
    return parsed.extract<Poco::JSON::Object::Ptr>();
}

bool isString(const Poco::Dynamic::Var& value) { return value.isString(); }

// A string member, or nullopt when absent; any other type is the client's mistake.
std::optional<std::string> optionalString(const Poco::JSON::Object& object, const std::string& name, const std::string& field) {
    if (!object.has(name) || object.isNull(name)) return std::nullopt;
    const Poco::Dynamic::Var value = object.get(name);
    if (!isString(value)) throw ApiError{422, "invalid_field", field + " must be a string", field};
    return value.convert<std::string>();
}

std::string requiredString(const Poco::JSON::Object& object, const std::string& name, const std::string& field) {
    auto value = optionalString(object, name, field);
    if (!value || value->empty()) throw ApiError{422, "missing_field", field + " is required", field};
    return *value;
}

// The Idempotency-Key header: printable ASCII, 1 to 255 characters.
std::optional<std::string> idempotencyKey(const sdk::HttpRequest& request, bool required) {
    const auto key = request.header("Idempotency-Key");
    if (!key) {
        if (required)
            throw ApiError{422, "missing_idempotency_key",
                           "send an Idempotency-Key header (e.g. a UUID per message) so that a retried request sends once",
                           "Idempotency-Key"};
        return std::nullopt;
    }
    if (key->empty() || key->size() > kMaxIdempotencyKey)
        throw ApiError{422, "invalid_idempotency_key", "the Idempotency-Key header is 1 to 255 characters", "Idempotency-Key"};
    for (unsigned char c : *key)
        if (c < 0x21 || c > 0x7E)
            throw ApiError{422, "invalid_idempotency_key", "the Idempotency-Key header is printable ASCII without spaces",
                           "Idempotency-Key"};
    return key;
}

std::vector<sdk::TemplateParameter> parseParameters(const Poco::Dynamic::Var& value, const std::string& field) {
    std::vector<sdk::TemplateParameter> parameters;
    if (value.type() == typeid(Poco::JSON::Array::Ptr)) {
        // Positional: ["Amina", "Excel"] for {{1}}, {{2}}; or [{"name": "course", "text": "Excel"}].
        const auto array = value.extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; i < array->size(); ++i) {
            const std::string at = field + "[" + std::to_string(i) + "]";
            const Poco::Dynamic::Var item = array->get(i);
            if (isString(item)) {
                parameters.push_back({"", item.convert<std::string>()});
            } else if (item.type() == typeid(Poco::JSON::Object::Ptr)) {
                const auto object = item.extract<Poco::JSON::Object::Ptr>();
                parameters.push_back({optionalString(*object, "name", at + ".name").value_or(""), requiredString(*object, "text", at + ".text")});
            } else {
                throw ApiError{422, "invalid_field", at + " must be a string or {\"name\", \"text\"}", at};
            }
        }
    } else if (value.type() == typeid(Poco::JSON::Object::Ptr)) {
        // Named: {"name": "Amina", "course": "Excel"} for {{name}}, {{course}}.
        const auto object = value.extract<Poco::JSON::Object::Ptr>();
        for (const auto& name : object->getNames()) {
            const std::string at = field + "." + name;
            parameters.push_back({name, requiredString(*object, name, at)});
        }
    } else {
        throw ApiError{422, "invalid_field", field + " must be an array (positional) or an object (named)", field};
    }
    return parameters;
}

sdk::TemplateContent parseTemplate(const Poco::Dynamic::Var& value) {
    if (value.type() != typeid(Poco::JSON::Object::Ptr))
        throw ApiError{422, "invalid_field", "template must be an object {\"name\", \"language\", ...}", "template"};
    const auto object = value.extract<Poco::JSON::Object::Ptr>();
    sdk::TemplateContent content;
    content.name = requiredString(*object, "name", "template.name");
    content.language = requiredString(*object, "language", "template.language");
    if (object->has("parameters")) {  // the body's parameters, the common case
        content.components.push_back({"body", "", 0, parseParameters(object->get("parameters"), "template.parameters")});
    }
    if (object->has("components")) {
        const Poco::Dynamic::Var list = object->get("components");
        if (list.type() != typeid(Poco::JSON::Array::Ptr))
            throw ApiError{422, "invalid_field", "template.components must be an array", "template.components"};
        const auto array = list.extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; i < array->size(); ++i) {
            const std::string at = "template.components[" + std::to_string(i) + "]";
            if (array->get(i).type() != typeid(Poco::JSON::Object::Ptr))
                throw ApiError{422, "invalid_field", at + " must be an object", at};
            const auto component = array->getObject(i);
            sdk::TemplateComponent part;
            part.type = requiredString(*component, "type", at + ".type");
            if (part.type != "header" && part.type != "body" && part.type != "button")
                throw ApiError{422, "invalid_field", at + ".type must be header, body or button", at + ".type"};
            part.subType = optionalString(*component, "sub_type", at + ".sub_type").value_or("");
            if (component->has("index")) {
                const Poco::Dynamic::Var index = component->get("index");
                if (!index.isInteger() || index.convert<int>() < 0 || index.convert<int>() > 9)
                    throw ApiError{422, "invalid_field", at + ".index must be an integer from 0 to 9", at + ".index"};
                part.index = index.convert<int>();
            }
            if (part.type == "button" && part.subType != "quick_reply" && part.subType != "url")
                throw ApiError{422, "invalid_field", at + ".sub_type must be quick_reply or url for a button", at + ".sub_type"};
            if (component->has("parameters")) part.parameters = parseParameters(component->get("parameters"), at + ".parameters");
            content.components.push_back(std::move(part));
        }
    }
    return content;
}

std::int64_t positiveId(const Poco::Dynamic::Var& value, const std::string& field) {
    if (!value.isInteger() || value.convert<Poco::Int64>() <= 0)
        throw ApiError{422, "invalid_field", field + " must be a positive integer", field};
    return value.convert<Poco::Int64>();
}

sdk::SendRequest parseSend(const Poco::JSON::Object& body) {
    sdk::SendRequest send;
    const bool hasTo = body.has("to") && !body.isNull("to");
    const bool hasConversation = body.has("conversation_id") && !body.isNull("conversation_id");
    if (hasTo == hasConversation)
        throw ApiError{422, "invalid_field", "give exactly one of to (a phone number) and conversation_id", hasTo ? "conversation_id" : "to"};
    if (hasTo) send.phone = requiredString(body, "to", "to");
    else send.conversationId = positiveId(body.get("conversation_id"), "conversation_id");
    const bool hasText = body.has("text") && !body.isNull("text");
    const bool hasTemplate = body.has("template") && !body.isNull("template");
    if (hasText == hasTemplate)
        throw ApiError{422, "invalid_field", "give exactly one of text and template", hasText ? "template" : "text"};
    if (hasText) {
        send.kind = sdk::ContentKind::Text;
        send.text = requiredString(body, "text", "text");  // its length is the dispatcher's to check
    } else {
        send.kind = sdk::ContentKind::Template;
        send.templ = parseTemplate(body.get("template"));
    }
    send.replyToWamid = optionalString(body, "reply_to", "reply_to").value_or("");
    return send;
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

const std::regex& eventTypePattern() {
    static const std::regex pattern("[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+");
    return pattern;
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
        std::string type = requiredString(*body, "type", "type");
        if (type.size() > 100 || !std::regex_match(type, eventTypePattern()))
            throw ApiError{422, "invalid_field", "type is lower-case words joined by dots, e.g. registration.confirmed", "type"};
        if (!body->has("data") || body->get("data").type() != typeid(Poco::JSON::Object::Ptr))
            throw ApiError{422, "missing_field", "data must be a JSON object, e.g. {\"registration_id\": 42}", "data"};
        std::string data = sdk::jsonString(*body->getObject("data"));
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
