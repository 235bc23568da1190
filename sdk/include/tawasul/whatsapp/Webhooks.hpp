#pragma once
// Names shared by everything that handles stored webhook events: the receiver that stores them,
// the router that processes them, and the CLI that replays them.
#include <cstdint>
#include <string>

namespace tawasul::sdk {

// The job that processes one row of whatsapp_webhook_events; its payload is {"event_id": N}.
inline constexpr const char* kProcessWebhookEventJob = "process_webhook_event";
inline constexpr const char* kWebhookEventsTable = "whatsapp_webhook_events";

inline std::string webhookEventJobPayload(std::int64_t eventId) {
    return "{\"event_id\":" + std::to_string(eventId) + "}";
}

}  // namespace tawasul::sdk
