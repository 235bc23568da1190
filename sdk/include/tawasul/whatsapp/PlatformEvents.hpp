#pragma once
// What the training platform tells Tawasul (POST /api/v1/events: a registration confirmed, a
// session moved), as it reaches plugins: the host stores each event with a job, and the job
// publishes it on the event bus under kPlatformEventTopic, after the commit. The outbox's flows
// listen there.
namespace tawasul::sdk {

// The event's JSON: {"id": stored id, "type": "registration.confirmed", "data": {...}}.
inline constexpr const char* kPlatformEventTopic = "platform.event";

}  // namespace tawasul::sdk
