// Built twice, as cycle_a (requires cycle_b) and cycle_b (requires cycle_a).
#include "tawasul/sdk/Plugin.hpp"

namespace {
class CyclePlugin final : public tawasul::sdk::Plugin {
public:
    void start(tawasul::sdk::HostContext&) override {}
    void stop() noexcept override {}
};
const char* const kDependencies[] = {CYCLE_DEPENDENCY, nullptr};
}  // namespace

TAWASUL_PLUGIN(CyclePlugin, CYCLE_NAME, "0.0.1", kDependencies)
