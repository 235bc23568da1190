// The admin pages: inbox, conversation timeline, reply, assign, resolve, leads, settings.
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace tawasul::plugins {

class AdminInboxPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        context.config().allowOnly({});
        context.logger().information("admin_inbox ready");
    }
    void stop() noexcept override {}
};

const char* const kDependencies[] = {"inbound_router", nullptr};
}  // namespace tawasul::plugins

TAWASUL_PLUGIN(tawasul::plugins::AdminInboxPlugin, "admin_inbox", "0.1.0", tawasul::plugins::kDependencies)
