#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "tawasul/sdk/Events.hpp"

namespace tawasul::host {

// The host's event bus; subscriptions carry their owner so a stopped plugin's handlers go with it.
class EventBus {
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
