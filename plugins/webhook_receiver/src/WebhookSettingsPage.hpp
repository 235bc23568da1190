#pragma once
// The webhook half of the WhatsApp settings: the callback URL and verify token to paste into Meta's
// dashboard, and the two secrets this plugin checks requests with (verify token, app secret). The
// Cloud API half (access token, ids, test connection, dispatch chain) is the cloud_api plugin's page.
#include <string>

#include "tawasul/sdk/HostContext.hpp"

namespace tawasul::plugins::webhook_receiver {

inline constexpr const char* kWebhookSettingsPath = "/admin/messaging/whatsapp/settings/webhook";
inline constexpr const char* kSettingsPermission = "whatsapp.settings.manage";

void registerWebhookSettingsPage(sdk::HostContext& context, const std::string& webhookPath);

}  // namespace tawasul::plugins::webhook_receiver
