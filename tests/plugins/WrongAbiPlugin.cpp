// Claims an SDK ABI major version that no host has.
#include "tawasul/sdk/Plugin.hpp"

namespace {
const tawasul::sdk::PluginDescriptor kDescriptor{99, 0, TAWASUL_BUILD_SIGNATURE, "wrong_abi", "0.0.1",
                                                 tawasul::sdk::kNoDependencies, nullptr, nullptr, nullptr};
const tawasul::sdk::PluginDescriptor* descriptor() { return &kDescriptor; }
}  // namespace

BOOST_DLL_ALIAS(descriptor, tawasul_plugin_v1)
