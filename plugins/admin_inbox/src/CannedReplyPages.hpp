#pragma once
// The canned replies page (whatsapp.replies.manage): the list, a form to add one or change it,
// delete. A form with a problem comes back 422 with every problem named and what was typed kept;
// nothing is written. The conversation page offers the replies (CannedReplies.hpp) to those with
// whatsapp.inbox.reply.
#include <memory>
#include <string>

#include "CannedReplies.hpp"
#include "tawasul/sdk/HostContext.hpp"

namespace tawasul::plugins::admin_inbox {

inline const std::string kCannedPath = "/admin/messaging/whatsapp/canned-replies";
inline constexpr const char* kCannedPermission = "whatsapp.replies.manage";

void registerCannedReplyPages(sdk::HostContext& context, std::shared_ptr<CannedReplyStore> store, const std::string& assets);

}  // namespace tawasul::plugins::admin_inbox
