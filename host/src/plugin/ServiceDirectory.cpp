#include "plugin/ServiceDirectory.hpp"

#include <algorithm>
#include <stdexcept>

namespace tawasul::host {

void ServiceDirectory::publish(const std::string& owner, const std::string& type, const std::string& name,
                              std::shared_ptr<void> service) {
    if (!service) throw std::invalid_argument("service '" + name + "' is null");
    std::lock_guard lock(mutex_);
    for (const auto& e : entries_)
        if (e.type == type && e.name == name)
            throw std::invalid_argument("a service named '" + name + "' of this interface is already published by '" + e.owner + "'");
    entries_.push_back({owner, type, name, std::move(service)});
}

std::shared_ptr<void> ServiceDirectory::find(const std::string& type, const std::string& name) const {
    std::lock_guard lock(mutex_);
    for (const auto& e : entries_)
        if (e.type == type && e.name == name) return e.service;
    return nullptr;
}

std::vector<std::string> ServiceDirectory::names(const std::string& type) const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> result;
    for (const auto& e : entries_)
        if (e.type == type) result.push_back(e.name);
    return result;
}

void ServiceDirectory::removeOwner(const std::string& owner) {
    std::vector<std::shared_ptr<void>> released;  // destroyed outside the lock
    std::lock_guard lock(mutex_);
    for (auto& e : entries_)
        if (e.owner == owner) released.push_back(std::move(e.service));
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.owner == owner; }),
                   entries_.end());
}

}  // namespace tawasul::host
