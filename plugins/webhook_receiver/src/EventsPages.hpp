#pragma once
// The admin pages of the stored webhook events: list, raw payload, download, replay.
#include "tawasul/sdk/HostContext.hpp"

namespace tawasul::plugins::webhook_receiver {

inline constexpr const char* kEventsPagesPath = "/admin/messaging/whatsapp/webhook-events";
inline constexpr const char* kWebhooksViewPermission = "whatsapp.webhooks.view";
// Replaying changes what the host does next, so it takes the operator's permission on top of the
// page's: someone who may only read the events cannot make the host process them again.
inline constexpr const char* kReplayPermission = "whatsapp.settings.manage";

void registerEventsPages(sdk::HostContext& context);

}  // namespace tawasul::plugins::webhook_receiver
