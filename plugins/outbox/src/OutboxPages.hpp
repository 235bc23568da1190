#pragma once
// The outbox's admin pages: outbox messages (open the wa.me link, mark sent, cancel), templates
// (create, edit with the variable check, preview), flows (trigger, steps, on/off) and the log.
#include "tawasul/sdk/HostContext.hpp"

namespace tawasul::plugins::outbox {

inline constexpr const char* kOutboxPagesPath = "/admin/messaging/whatsapp/outbox";
inline constexpr const char* kTemplatesPagesPath = "/admin/messaging/whatsapp/templates";
inline constexpr const char* kFlowsPagesPath = "/admin/messaging/whatsapp/flows";
inline constexpr const char* kLogsPagesPath = "/admin/messaging/whatsapp/logs";
inline constexpr const char* kOutboxPermission = "whatsapp.outbox.manage";
inline constexpr const char* kTemplatesPermission = "whatsapp.templates.manage";
// The log is read-only diagnostics, like the webhook events: the same permission reads both.
inline constexpr const char* kLogsPermission = "whatsapp.webhooks.view";

void registerOutboxPages(sdk::HostContext& context);

}  // namespace tawasul::plugins::outbox
