#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "tawasul/sdk/Events.hpp"

namespace tawasul::host {

// Delivers events to the subscribers in this process: every plugin's sdk::EventBus (its
// HostContext::events()) forwards here with the plugin's name, so that a stopped plugin's handlers
// go with it (removeOwner). Not an sdk::EventBus itself: subscribe() takes the owner.
class LocalEventBus {
public:
    std::uint64_t subscribe(const std::string& owner, const std::string& topic, sdk::EventHandler handler);
    void unsubscribe(std::uint64_t id);
    void removeOwner(const std::string& owner);
    void publish(const sdk::Event& event);

private:
    struct Subscription {
        std::uint64_t id;
        std::string owner, topic;
        sdk::EventHandler handler;
    };
    std::mutex mutex_;
    std::vector<Subscription> subscriptions_;
    std::atomic<std::uint64_t> nextId_{1};
};

}  // namespace tawasul::host
