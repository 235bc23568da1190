// Turns stored webhook events into contacts, conversations, messages and statuses.
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace tawasul::plugins {

class InboundRouterPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        context.config().allowOnly({"keywords"});
        context.logger().information("inbound_router ready");
    }
    void stop() noexcept override {}
};

const char* const kDependencies[] = {"contact_matcher", nullptr};
}  // namespace tawasul::plugins

TAWASUL_PLUGIN(tawasul::plugins::InboundRouterPlugin, "inbound_router", "0.1.0", tawasul::plugins::kDependencies)
