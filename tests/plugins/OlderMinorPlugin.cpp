// A plugin as SDK ABI 2.0 built it: its descriptor ends after `destroy`, before the check_config
// that 2.1 added. A host of a later minor loads it and must not read past its end (AddressSanitizer
// sees such a read in the asan preset); it has no configuration reader, so its keys are checked
// only when it starts.
#include <cstdint>

#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace {

// The layout of PluginDescriptor in SDK 2.0, field for field.
struct DescriptorOfAbi20 {
    std::uint32_t abi_major;
    std::uint32_t abi_minor;
    const char* build_signature;
    const char* name;
    const char* version;
    const char* const* dependencies;
    tawasul::sdk::Plugin* (*create)();
    void (*destroy)(tawasul::sdk::Plugin*) noexcept;
};

class OlderMinorPlugin final : public tawasul::sdk::Plugin {
public:
    void start(tawasul::sdk::HostContext& context) override { context.config().allowOnly({"colour"}); }
    void stop() noexcept override {}
};

tawasul::sdk::Plugin* create() { return new OlderMinorPlugin(); }
void destroy(tawasul::sdk::Plugin* plugin) noexcept { delete plugin; }

const DescriptorOfAbi20 kDescriptor{2, 0, TAWASUL_BUILD_SIGNATURE, "older_minor", "2.0.0", tawasul::sdk::kNoDependencies, &create, &destroy};

// The host reads the bytes as its own PluginDescriptor, as it does for any library: the first
// fields have the same layout, and abi_minor 0 tells it where the descriptor ends.
const tawasul::sdk::PluginDescriptor* descriptor() { return reinterpret_cast<const tawasul::sdk::PluginDescriptor*>(&kDescriptor); }

}  // namespace

BOOST_DLL_ALIAS(descriptor, tawasul_plugin_v1)
