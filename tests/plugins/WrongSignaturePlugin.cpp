// Claims to be built with another compiler and Poco: its objects must not cross into this host.
#include "tawasul/sdk/Plugin.hpp"

namespace {
const tawasul::sdk::PluginDescriptor kDescriptor{TAWASUL_SDK_ABI_MAJOR, TAWASUL_SDK_ABI_MINOR,
                                                 // sdk= as the host's: only the fields above differ.
                                                 "gcc-4;cxx11abi=0;poco=0x01000000;boost=100000;ndebug=1;sdk=" TAWASUL_STRINGIFY(TAWASUL_SDK_ABI_MAJOR),
                                                 "wrong_signature", "0.0.1", tawasul::sdk::kNoDependencies, nullptr, nullptr, nullptr};
const tawasul::sdk::PluginDescriptor* descriptor() { return &kDescriptor; }
}  // namespace

BOOST_DLL_ALIAS(descriptor, tawasul_plugin_v1)
