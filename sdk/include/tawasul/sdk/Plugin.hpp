#pragma once
// The plugin contract: one exported entry point per shared library, returning a static descriptor.
#include <cstdint>

#include <boost/dll/alias.hpp>

#include "tawasul/sdk/Api.hpp"
#include "tawasul/sdk/BuildSignature.hpp"

namespace tawasul::sdk {

class ConfigNode;
class HostContext;

// Reads a plugin's node of the configuration and throws ConfigError (FILE:LINE:COL: message) at the
// first unknown key, wrong type or value out of range, touching nothing else: no database, no
// thread, no file written. The host calls it for every plugin when it loads them, before any
// starts, so that `tawasul config check` finds what `serve` would refuse.
using ConfigCheck = void (*)(const ConfigNode& config);

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
    // Since ABI 2.1 (read only from a descriptor whose abi_minor is at least 1); null when the
    // plugin declares no configuration reader: its keys are then checked only when it starts.
    ConfigCheck check_config;
};

// The check_config of a plugin whose configuration is read by `ReadConfig(const ConfigNode&)`: the
// same function its start() calls, run for its errors alone (what it returns is dropped).
template <auto ReadConfig>
void checkConfigWith(const ConfigNode& config) {
    static_cast<void>(ReadConfig(config));
}

using PluginEntryPoint = const PluginDescriptor*();

inline constexpr const char* kEntryPointName = "tawasul_plugin_v1";
inline constexpr const char* const kNoDependencies[] = {nullptr};

}  // namespace tawasul::sdk

// Defines the descriptor and exports it as `tawasul_plugin_v1`. Use once per plugin library, naming
// the function that reads the plugin's configuration (one declaration of its keys and types, used by
// start() and by `tawasul config check`):
//   OutboxConfig readConfig(const sdk::ConfigNode& config);   // config.allowOnly, getString, getInt ...
//   const char* const kDependencies[] = {"contact_matcher", nullptr};
//   TAWASUL_PLUGIN(InboundRouterPlugin, "inbound_router", "0.4.0", kDependencies, readConfig)
// The four-argument form of SDK 2.0 (no reader) still builds: such a plugin's keys are checked only
// when it starts.
#define TAWASUL_PLUGIN(PluginClass, PluginName, PluginVersion, ...)                                \
    TAWASUL_PLUGIN_PICK_(__VA_ARGS__, TAWASUL_PLUGIN_READING_, TAWASUL_PLUGIN_UNREAD_, unused)      \
    (PluginClass, PluginName, PluginVersion, __VA_ARGS__)
// Picks the definition by the number of arguments after the version (one or two), without an empty
// `...`, which -Wpedantic refuses before C++20.
#define TAWASUL_PLUGIN_PICK_(Dependencies, ReadConfig, Chosen, ...) Chosen
#define TAWASUL_PLUGIN_READING_(PluginClass, PluginName, PluginVersion, Dependencies, ReadConfig)  \
    TAWASUL_PLUGIN_DEFINE_(PluginClass, PluginName, PluginVersion, Dependencies,                    \
                           &::tawasul::sdk::checkConfigWith<ReadConfig>)
#define TAWASUL_PLUGIN_UNREAD_(PluginClass, PluginName, PluginVersion, Dependencies)               \
    TAWASUL_PLUGIN_DEFINE_(PluginClass, PluginName, PluginVersion, Dependencies, nullptr)
#define TAWASUL_PLUGIN_DEFINE_(PluginClass, PluginName, PluginVersion, Dependencies, CheckConfig)  \
    namespace {                                                                                   \
    ::tawasul::sdk::Plugin* tawasulCreatePlugin() { return new PluginClass(); }                   \
    void tawasulDestroyPlugin(::tawasul::sdk::Plugin* plugin) noexcept { delete plugin; }         \
    const ::tawasul::sdk::PluginDescriptor kTawasulDescriptor{                                    \
        TAWASUL_SDK_ABI_MAJOR, TAWASUL_SDK_ABI_MINOR, TAWASUL_BUILD_SIGNATURE, PluginName,          \
        PluginVersion,         Dependencies,          &tawasulCreatePlugin,    &tawasulDestroyPlugin, \
        CheckConfig};                                                                             \
    const ::tawasul::sdk::PluginDescriptor* tawasulPluginDescriptor() { return &kTawasulDescriptor; } \
    }                                                                                             \
    BOOST_DLL_ALIAS(tawasulPluginDescriptor, tawasul_plugin_v1)
