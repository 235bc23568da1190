#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tawasul/sdk/Events.hpp"

namespace tawasul::host {

// Delivers events to the subscribers in this process: every plugin's sdk::EventBus (its
// HostContext::events()) forwards here with the plugin's name, so that a stopped plugin's handlers
// go with it (removeOwner). Not an sdk::EventBus itself: subscribe() takes the owner. On PostgreSQL
// the composition sets a relay that carries what this host publishes to the other hosts, and hands
// theirs to deliverFromPeer (db/PostgresEventRelay); the bus itself knows no database.
class LocalEventBus {
public:
    // everyHost: hear what the other hosts publish instead of what this one does (sdk::EveryHostEvents).
    std::uint64_t subscribe(const std::string& owner, const std::string& topic, sdk::EventHandler handler, bool everyHost = false);
    void unsubscribe(std::uint64_t id);
    void removeOwner(const std::string& owner);
    // To this host's subscribers, and to the relay when one is set.
    void publish(const sdk::Event& event);

    // Where this host's events also go: the other hosts (PostgreSQL). None on SQLite.
    using Relay = std::function<void(const sdk::Event&)>;
    void setRelay(Relay relay);
    // An event another host published (or sdk::kBusReconnectedTopic): to the everyHost subscribers.
    void deliverFromPeer(const sdk::Event& event);

private:
    struct Subscription {
        std::uint64_t id;
        std::string owner, topic;
        sdk::EventHandler handler;
        bool everyHost = false;
    };
    void deliver(const sdk::Event& event, bool fromPeer);
    std::shared_ptr<const Relay> relay_;
    std::mutex mutex_;
    std::vector<Subscription> subscriptions_;
    std::atomic<std::uint64_t> nextId_{1};
};

}  // namespace tawasul::host
