#pragma once
// The platform API's request bodies and headers, read into what PlatformApi acts on. Pure: no
// database, no service, so that every way a client can send them wrong is tested (PlatformApiTest)
// and fuzzed (fuzz/FuzzPlatformApi.cpp). Anything wrong is an ApiError with the status, code,
// message and field the client gets back; nothing else is ever thrown for a client's mistake.
#include <optional>
#include <string>

#include <Poco/JSON/Object.h>

#include "tawasul/sdk/Http.hpp"
#include "tawasul/whatsapp/Messaging.hpp"

namespace tawasul::host {

// A client error, answered as {"error":{"code","message","field"}}.
struct ApiError {
    int status;
    std::string code;
    std::string message;
    std::string field;
};

// The Idempotency-Key header: printable ASCII, 1 to 255 characters; nullopt when absent and not required.
std::optional<std::string> idempotencyKey(const sdk::HttpRequest& request, bool required);

// The body as a JSON object (400 when it is not JSON, 422 when it is JSON but not an object).
Poco::JSON::Object::Ptr parseObject(const std::string& body);

// POST /api/v1/messages: exactly one of to / conversation_id and one of text / template.
sdk::SendRequest parseSend(const Poco::JSON::Object& body);

// POST /api/v1/events: {"type": "registration.confirmed", "data": {...}}.
struct PlatformEventRequest {
    std::string type;
    std::string data;  // the data object, as canonical JSON text
};
PlatformEventRequest parseEvent(const Poco::JSON::Object& body);

}  // namespace tawasul::host
