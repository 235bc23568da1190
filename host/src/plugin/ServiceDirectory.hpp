#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tawasul::host {

// Services by (interface type name, service name), each tagged with the plugin that published it.
// Every plugin's typed sdk::ServiceRegistry (HostContext::services()) forwards here with its name;
// the host's own code (dispatcher, platform API, CLI) looks services up here directly.
class ServiceDirectory {
public:
    void publish(const std::string& owner, const std::string& type, const std::string& name, std::shared_ptr<void> service);
    std::shared_ptr<void> find(const std::string& type, const std::string& name) const;
    std::vector<std::string> names(const std::string& type) const;
    void removeOwner(const std::string& owner);

private:
    struct Entry {
        std::string owner, type, name;
        std::shared_ptr<void> service;
    };
    mutable std::mutex mutex_;
    std::vector<Entry> entries_;
};

}  // namespace tawasul::host
