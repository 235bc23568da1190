#include "plugin/PluginLoader.hpp"

#include <algorithm>
#include <cstring>
#include <map>

namespace tawasul::host {

namespace {

// The fields of two build signatures ("gcc-12;cxx11abi=1;poco=...;ndebug=1;sdk=1") that differ, as
// "ndebug (plugin 0, host 1)": a plugin author learns what to change, not only that something did.
std::string signatureDifferences(const std::string& plugin, const std::string& host) {
    const auto fields = [](const std::string& signature) {
        std::map<std::string, std::string> out;
        std::size_t start = 0;
        for (int position = 0; start <= signature.size(); ++position) {
            const std::size_t end = std::min(signature.find(';', start), signature.size());
            const std::string field = signature.substr(start, end - start);
            const std::size_t equals = field.find('=');
            // The first field has no name: it is the compiler ("gcc-12").
            if (equals == std::string::npos) out[position == 0 ? "compiler" : field] = field;
            else out[field.substr(0, equals)] = field.substr(equals + 1);
            start = end + 1;
        }
        return out;
    };
    const auto ours = fields(host), theirs = fields(plugin);
    std::string differences;
    for (const auto& [name, value] : ours) {
        const auto it = theirs.find(name);
        const std::string other = it == theirs.end() ? "(missing)" : it->second;
        if (other != value) differences += (differences.empty() ? "" : ", ") + name + " (plugin " + other + ", host " + value + ")";
    }
    for (const auto& [name, value] : theirs)
        if (!ours.count(name)) differences += (differences.empty() ? "" : ", ") + name + " (plugin " + value + ", host (missing))";
    return differences;
}

}  // namespace

std::filesystem::path pluginLibraryPath(const std::filesystem::path& pluginDir, const std::string& name) {
    return pluginDir / name / (name + ".so");
}

std::unique_ptr<PluginLibrary> loadPluginLibrary(const std::filesystem::path& pluginDir, const std::string& name) {
    auto plugin = std::make_unique<PluginLibrary>();
    plugin->name = name;
    plugin->path = pluginLibraryPath(pluginDir, name);
    plugin->directory = plugin->path.parent_path();
    const std::string prefix = "plugin '" + name + "': ";
    if (!std::filesystem::exists(plugin->path))
        throw PluginLoadError(prefix + "no library at " + plugin->path.string());

    // rtld_now: unresolved symbols fail here, not on first call; rtld_local: plugins cannot see
    // (or clash with) each other's symbols.
    boost::dll::fs::error_code error;
    plugin->library.load(plugin->path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, error);
    if (error) throw PluginLoadError(prefix + "cannot load " + plugin->path.string() + ": " + error.message());
    if (!plugin->library.has(sdk::kEntryPointName))
        throw PluginLoadError(prefix + plugin->path.string() + " has no " + sdk::kEntryPointName +
                              " entry point (is it built with TAWASUL_PLUGIN?)");

    auto& entryPoint = plugin->library.get_alias<sdk::PluginEntryPoint>(sdk::kEntryPointName);
    const sdk::PluginDescriptor* descriptor = entryPoint();
    if (descriptor == nullptr) throw PluginLoadError(prefix + "the entry point returned no descriptor");

    const std::string hostAbi = std::to_string(TAWASUL_SDK_ABI_MAJOR) + "." + std::to_string(TAWASUL_SDK_ABI_MINOR);
    const std::string pluginAbi = std::to_string(descriptor->abi_major) + "." + std::to_string(descriptor->abi_minor);
    if (descriptor->abi_major != TAWASUL_SDK_ABI_MAJOR || descriptor->abi_minor > TAWASUL_SDK_ABI_MINOR)
        throw PluginLoadError(prefix + "built for SDK ABI " + pluginAbi + ", this host provides " + hostAbi);
    if (descriptor->build_signature == nullptr || std::strcmp(descriptor->build_signature, TAWASUL_BUILD_SIGNATURE) != 0)
    {
        const std::string theirs = descriptor->build_signature ? descriptor->build_signature : "";
        throw PluginLoadError(prefix + "build signature differs from the host's in " +
                              signatureDifferences(theirs, TAWASUL_BUILD_SIGNATURE) + " ('" + theirs + "' against '" +
                              TAWASUL_BUILD_SIGNATURE "'); rebuild the plugin against this host's SDK");
    }
    if (descriptor->name == nullptr || name != descriptor->name)
        throw PluginLoadError(prefix + plugin->path.string() + " declares itself as '" +
                              (descriptor->name ? descriptor->name : "") + "'");
    if (descriptor->create == nullptr || descriptor->destroy == nullptr)
        throw PluginLoadError(prefix + "the descriptor has no create/destroy functions");
    for (const char* const* dep = descriptor->dependencies; dep != nullptr && *dep != nullptr; ++dep)
        plugin->dependencies.emplace_back(*dep);
    // A descriptor of ABI 2.0 ends before check_config: the field is read only from 2.1 on.
    if (descriptor->abi_minor >= 1) plugin->checkConfig = descriptor->check_config;
    plugin->descriptor = descriptor;
    return plugin;
}

std::vector<std::size_t> startOrder(const std::vector<std::unique_ptr<PluginLibrary>>& plugins) {
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < plugins.size(); ++i) index[plugins[i]->name] = i;
    for (const auto& plugin : plugins) {
        for (const std::string& dep : plugin->dependencies) {
            if (!index.count(dep))
                throw PluginLoadError("plugin '" + plugin->name + "' requires '" + dep + "', which is not in plugins.load");
        }
    }
    // Kahn's algorithm, always taking the earliest configured plugin that is ready.
    std::vector<int> missing(plugins.size(), 0);
    for (std::size_t i = 0; i < plugins.size(); ++i) missing[i] = static_cast<int>(plugins[i]->dependencies.size());
    std::vector<std::size_t> order;
    std::vector<bool> done(plugins.size(), false);
    while (order.size() < plugins.size()) {
        std::size_t next = plugins.size();
        for (std::size_t i = 0; i < plugins.size() && next == plugins.size(); ++i)
            if (!done[i] && missing[i] == 0) next = i;
        if (next == plugins.size()) {
            // Everything left waits on something left: walk one chain until it repeats.
            std::size_t at = 0;
            while (done[at]) ++at;
            std::vector<std::size_t> path;
            while (std::find(path.begin(), path.end(), at) == path.end()) {
                path.push_back(at);
                for (const std::string& dep : plugins[at]->dependencies) {
                    if (!done[index[dep]]) {
                        at = index[dep];
                        break;
                    }
                }
            }
            std::string cycle;
            for (auto it = std::find(path.begin(), path.end(), at); it != path.end(); ++it) cycle += plugins[*it]->name + " -> ";
            throw PluginLoadError("plugins form a dependency cycle: " + cycle + plugins[at]->name);
        }
        done[next] = true;
        order.push_back(next);
        for (std::size_t i = 0; i < plugins.size(); ++i)
            for (const std::string& dep : plugins[i]->dependencies)
                if (dep == plugins[next]->name) --missing[i];
    }
    return order;
}

}  // namespace tawasul::host
