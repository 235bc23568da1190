#pragma once
// Names shared by everything that handles webhook events: the receiver that checks and stores them,
// the router that processes them, the CLI that replays and simulates them, and the tests.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "tawasul/sdk/Api.hpp"
#include "tawasul/sdk/Crypto.hpp"

namespace tawasul::sdk {

// The job that processes one row of whatsapp_webhook_events; its payload is {"event_id": N}.
inline constexpr const char* kProcessWebhookEventJob = "process_webhook_event";
inline constexpr const char* kWebhookEventsTable = "whatsapp_webhook_events";

// Meta signs every webhook POST with this header: "sha256=" and the lower-case hex HMAC-SHA256 of
// the raw body, as sent, under the app secret.
inline constexpr const char* kSignatureHeader = "X-Hub-Signature-256";

// The kSignatureHeader value for `body`: what Meta sends, what the receiver expects.
inline std::string webhookSignature(const std::string& body, const std::string& appSecret) {
    return "sha256=" + hmacSha256Hex(body, appSecret);
}

inline std::string webhookEventJobPayload(std::int64_t eventId) {
    return "{\"event_id\":" + std::to_string(eventId) + "}";
}

class PreparedSession;

// The field of a notification's change that the router writes into the timeline itself. Every
// other field (template status, account alerts, ...) goes to the WebhookFieldHandler that takes it.
inline constexpr const char* kMessagesField = "messages";

// One change of a stored notification whose field is not "messages", as the router found it.
struct WebhookChange {
    std::int64_t eventId = 0;  // the whatsapp_webhook_events row it came in
    std::string accountId;     // entry[].id: the WhatsApp Business Account
    std::int64_t time = 0;     // entry[].time in seconds, 0 when absent: orders changes of one thing
    std::string field;         // changes[].field
    Poco::JSON::Object::Ptr value;  // changes[].value, never null
};

// The changes oldest first by Meta's time, in Meta's order within one second: the order in which
// they must be applied for the last word Meta said to be the one kept.
inline std::vector<const WebhookChange*> inMetaOrder(const std::vector<WebhookChange>& changes) {
    std::vector<const WebhookChange*> ordered;
    for (const WebhookChange& change : changes) ordered.push_back(&change);
    std::stable_sort(ordered.begin(), ordered.end(), [](const WebhookChange* a, const WebhookChange* b) { return a->time < b->time; });
    return ordered;
}

// Takes the changes of some webhook fields. A plugin publishes one under any name (the router asks
// every handler which fields it takes, once per batch); a field no handler takes is kept in its
// stored event and counted, never failed.
//
// write() runs inside the router's write transaction, on its session, after the batch's timeline
// rows, with the batch's changes of the handler's fields in the order Meta sent them. It must be
// idempotent (an event may be processed again) and must not trust the value's shape (it comes from
// outside). Throwing rolls the batch back, which is then retried one event at a time.
class TAWASUL_SDK_API WebhookFieldHandler {
public:
    virtual ~WebhookFieldHandler();
    virtual std::vector<std::string> fields() const = 0;
    virtual void write(PreparedSession& db, const std::vector<WebhookChange>& changes) = 0;
};

}  // namespace tawasul::sdk
