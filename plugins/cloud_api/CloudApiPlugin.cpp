// Sends messages through Meta's WhatsApp Cloud API (Graph API).
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"

#include "SettingsPage.hpp"

namespace tawasul::plugins {

class CloudApiPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        context.config().allowOnly({"graph_url", "api_version", "messages_per_second", "timeout_seconds"});
        cloud::registerSettingsPage(context);
        context.logger().information("cloud_api ready");
    }
    void stop() noexcept override {}
};


}  // namespace tawasul::plugins

TAWASUL_PLUGIN(tawasul::plugins::CloudApiPlugin, "cloud_api", "0.1.0", tawasul::sdk::kNoDependencies)
