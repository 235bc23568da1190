#pragma once
// GET /api/v1/templates (scope messages.send): the templates the platform may send, each with the
// values a send needs, so that it offers only what Meta approved (or what is sent by hand through
// the Outbox) and is told why another would be refused: ?include=refused lists those too, each with
// the dispatcher's reason.
#include "tawasul/sdk/HostContext.hpp"

namespace tawasul::plugins::outbox {

void registerTemplatesApi(sdk::HostContext& context);

}  // namespace tawasul::plugins::outbox
