#include "whatsapp/PlatformRequests.hpp"

#include <cstdint>
#include <limits>
#include <regex>
#include <typeinfo>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include "tawasul/sdk/Json.hpp"

namespace tawasul::host {
namespace {

// The dispatcher takes keys up to 300 bytes; this one gets a prefix of "api:<token id>:" first.
constexpr std::size_t kMaxIdempotencyKey = 255;

bool isString(const Poco::Dynamic::Var& value) { return value.isString(); }

// A JSON integer from min to max, or nullopt. Poco reads a number above 2^63 - 1 as an unsigned
// 64-bit integer, which convert<Int64>() refuses with an exception (a 500), and true as an integer.
std::optional<std::int64_t> integerIn(const Poco::Dynamic::Var& value, std::int64_t min, std::int64_t max) {
    if (!value.isInteger() || value.isBoolean()) return std::nullopt;
    if (!value.isSigned() && value.convert<Poco::UInt64>() > static_cast<Poco::UInt64>(std::numeric_limits<std::int64_t>::max()))
        return std::nullopt;
    const auto number = value.convert<Poco::Int64>();
    if (number < min || number > max) return std::nullopt;
    return number;
}

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
                const auto number = integerIn(index, 0, 9);
                if (!number) throw ApiError{422, "invalid_field", at + ".index must be an integer from 0 to 9", at + ".index"};
                part.index = static_cast<int>(*number);
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
    const auto number = integerIn(value, 1, std::numeric_limits<std::int64_t>::max());
    if (!number) throw ApiError{422, "invalid_field", field + " must be a positive integer", field};
    return *number;
}

const std::regex& eventTypePattern() {
    static const std::regex pattern("[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+");
    return pattern;
}

}  // namespace

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

PlatformEventRequest parseEvent(const Poco::JSON::Object& body) {
    PlatformEventRequest event;
    event.type = requiredString(body, "type", "type");
    if (event.type.size() > 100 || !std::regex_match(event.type, eventTypePattern()))
        throw ApiError{422, "invalid_field", "type is lower-case words joined by dots, e.g. registration.confirmed", "type"};
    if (!body.has("data") || body.get("data").type() != typeid(Poco::JSON::Object::Ptr))
        throw ApiError{422, "missing_field", "data must be a JSON object, e.g. {\"registration_id\": 42}", "data"};
    event.data = sdk::jsonString(*body.getObject("data"));
    return event;
}

}  // namespace tawasul::host
