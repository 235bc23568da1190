#pragma once
// Loads plugin libraries with Boost.DLL and checks their descriptors before trusting them.
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/dll/shared_library.hpp>

#include "tawasul/sdk/Plugin.hpp"

namespace tawasul::host {

class PluginLoadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One loaded library and its checked descriptor. The plugin object made from it is not kept here
// (app/Runtime's ActivePlugin holds it, and destroys it through descriptor->destroy): Runtime
// destroys every plugin object before it lets go of the libraries, so code is never unloaded under
// an object that still needs it.
struct PluginLibrary {
    std::string name;
    std::filesystem::path path;       // <plugins.dir>/<name>/<name>.so
    std::filesystem::path directory;  // its folder: migrations/, templates/, lang/, public/
    boost::dll::shared_library library;
    const sdk::PluginDescriptor* descriptor = nullptr;
    std::vector<std::string> dependencies;
    // The plugin's configuration reader (SDK ABI 2.1 and later), null when it declares none.
    sdk::ConfigCheck checkConfig = nullptr;
};

// Where the library of plugin `name` lives under `pluginDir`.
std::filesystem::path pluginLibraryPath(const std::filesystem::path& pluginDir, const std::string& name);

// Loads and checks one plugin; every failure names the plugin and the reason.
std::unique_ptr<PluginLibrary> loadPluginLibrary(const std::filesystem::path& pluginDir, const std::string& name);

// Indexes of `plugins` in start order: dependencies first, otherwise the configured order.
// Throws PluginLoadError naming a missing dependency or the plugins of a cycle.
std::vector<std::size_t> startOrder(const std::vector<std::unique_ptr<PluginLibrary>>& plugins);

}  // namespace tawasul::host
