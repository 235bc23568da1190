#pragma once
// The runtime as `plugins list` has it: plugins started, not serving, stopped on the way out. For
// the commands that use a plugin's service (`contacts reindex`, `templates sync`).
#include <memory>
#include <string>
#include <typeinfo>

#include "app/Runtime.hpp"
#include "cli/Cli.hpp"

namespace tawasul::host {

class StartedPlugins {
public:
    explicit StartedPlugins(const HostConfig& config) : runtime_(config) {
        runtime_.openSecrets(false);
        runtime_.loadPlugins();
        runtime_.startPlugins();
    }
    ~StartedPlugins() { runtime_.stopPlugins(); }
    StartedPlugins(const StartedPlugins&) = delete;
    StartedPlugins& operator=(const StartedPlugins&) = delete;
    Runtime& runtime() { return runtime_; }

    // The service `name` of `Interface`; a UsageError for `command` naming the plugin to load when none runs.
    template <class Interface>
    std::shared_ptr<Interface> service(const std::string& command, const std::string& name, const std::string& plugin) {
        auto found = std::static_pointer_cast<Interface>(runtime_.services().find(typeid(Interface).name(), name));
        if (!found)
            throw UsageError(command + ": no " + name + " service is running; add " + plugin + " to plugins.load in " + runtime_.config().file);
        return found;
    }

private:
    Runtime runtime_;
};

}  // namespace tawasul::host
