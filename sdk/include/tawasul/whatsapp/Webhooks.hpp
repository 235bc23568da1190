#pragma once
// Names shared by everything that handles webhook events: the receiver that checks and stores them,
// the router that processes them, the CLI that replays and simulates them, and the tests.
#include <cstdint>
#include <string>

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

}  // namespace tawasul::sdk
