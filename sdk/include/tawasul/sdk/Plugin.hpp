#pragma once
// The plugin contract: one exported entry point per shared library, returning a static descriptor.
#include <cstdint>

#include <boost/dll/alias.hpp>

#include "tawasul/sdk/Api.hpp"
#include "tawasul/sdk/BuildSignature.hpp"

namespace tawasul::sdk {

class HostContext;

// A plugin's life: start() once with its context, stop() once in reverse dependency order.
// stop() is also called when start() threw, so it must cope with a half-done start.
// Everything registered through the context is removed by the host after stop().
class TAWASUL_SDK_API Plugin {
public:
    virtual ~Plugin();
    virtual void start(HostContext& context) = 0;
    virtual void stop() noexcept = 0;
};

// The descriptor is a C-compatible struct so that the host can read the ABI numbers of any plugin,
// even one built against another SDK, before it trusts anything else in it. Keep abi_major first.
struct PluginDescriptor {
    std::uint32_t abi_major;
    std::uint32_t abi_minor;
    const char* build_signature;
    const char* name;
    const char* version;
    const char* const* dependencies;  // null-terminated list of plugin names started before this one
    Plugin* (*create)();
    void (*destroy)(Plugin*) noexcept;
};

using PluginEntryPoint = const PluginDescriptor*();

inline constexpr const char* kEntryPointName = "tawasul_plugin_v1";
inline constexpr const char* const kNoDependencies[] = {nullptr};

}  // namespace tawasul::sdk

// Defines the descriptor and exports it as `tawasul_plugin_v1`. Use once per plugin library:
//   const char* const kDependencies[] = {"contact_matcher", nullptr};
//   TAWASUL_PLUGIN(InboundRouterPlugin, "inbound_router", "0.1.0", kDependencies)
#define TAWASUL_PLUGIN(PluginClass, PluginName, PluginVersion, Dependencies)                      \
    namespace {                                                                                   \
    ::tawasul::sdk::Plugin* tawasulCreatePlugin() { return new PluginClass(); }                   \
    void tawasulDestroyPlugin(::tawasul::sdk::Plugin* plugin) noexcept { delete plugin; }         \
    const ::tawasul::sdk::PluginDescriptor kTawasulDescriptor{                                    \
        TAWASUL_SDK_ABI_MAJOR, TAWASUL_SDK_ABI_MINOR, TAWASUL_BUILD_SIGNATURE, PluginName,          \
        PluginVersion,         Dependencies,          &tawasulCreatePlugin,    &tawasulDestroyPlugin}; \
    const ::tawasul::sdk::PluginDescriptor* tawasulPluginDescriptor() { return &kTawasulDescriptor; } \
    }                                                                                             \
    BOOST_DLL_ALIAS(tawasulPluginDescriptor, tawasul_plugin_v1)
