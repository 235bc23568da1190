// Throws from start(): the host must refuse to start, naming this plugin and its message.
#include <stdexcept>

#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace {
class ThrowingPlugin final : public tawasul::sdk::Plugin {
public:
    void start(tawasul::sdk::HostContext& context) override {
        // Registered first, so the test can check that a failed start leaves nothing behind.
        context.routes().add("GET", "/test/throwing", [](const auto&, auto& response) { response.text(200, "x"); });
        throw std::runtime_error("cannot reach the frobnicator");
    }
    void stop() noexcept override {}
};
}  // namespace

TAWASUL_PLUGIN(ThrowingPlugin, "throwing", "0.0.1", tawasul::sdk::kNoDependencies)
