// The fallback provider: templates, flows and outbox messages for manual sending.
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace tawasul::plugins {

class OutboxPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        context.config().allowOnly({});
        context.logger().information("outbox ready");
    }
    void stop() noexcept override {}
};


}  // namespace tawasul::plugins

TAWASUL_PLUGIN(tawasul::plugins::OutboxPlugin, "outbox", "0.1.0", tawasul::sdk::kNoDependencies)
