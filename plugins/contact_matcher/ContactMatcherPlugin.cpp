// Names a WhatsApp sender by matching their phone against the platform's records.
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace tawasul::plugins {

class ContactMatcherPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        context.config().allowOnly({"sources"});
        context.logger().information("contact_matcher ready");
    }
    void stop() noexcept override {}
};


}  // namespace tawasul::plugins

TAWASUL_PLUGIN(tawasul::plugins::ContactMatcherPlugin, "contact_matcher", "0.1.0", tawasul::sdk::kNoDependencies)
