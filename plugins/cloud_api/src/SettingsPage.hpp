#pragma once
// Settings → Cloud API: the credentials cloud_api sends with (access token, phone number id, WhatsApp
// Business Account id), a connection test against the Graph API, the dispatch chain with each
// provider's health, and the open alerts. The webhook half is the webhook_receiver plugin's page.
#include "tawasul/sdk/HostContext.hpp"

namespace tawasul::plugins::cloud_api {

inline constexpr const char* kSettingsPagePath = "/admin/messaging/whatsapp/settings";
inline constexpr const char* kSettingsPermission = "whatsapp.settings.manage";

void registerSettingsPage(sdk::HostContext& context);

}  // namespace tawasul::plugins::cloud_api
