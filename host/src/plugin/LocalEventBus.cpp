#include "plugin/LocalEventBus.hpp"

#include <algorithm>

#include <Poco/Logger.h>

#include "tawasul/sdk/Errors.hpp"

namespace tawasul::host {

std::uint64_t LocalEventBus::subscribe(const std::string& owner, const std::string& topic, sdk::EventHandler handler, bool everyHost) {
    std::lock_guard lock(mutex_);
    const std::uint64_t id = nextId_++;
    subscriptions_.push_back({id, owner, topic, std::move(handler), everyHost});
    return id;
}

void LocalEventBus::unsubscribe(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    subscriptions_.erase(std::remove_if(subscriptions_.begin(), subscriptions_.end(),
                                        [id](const Subscription& s) { return s.id == id; }),
                         subscriptions_.end());
}

void LocalEventBus::removeOwner(const std::string& owner) {
    std::lock_guard lock(mutex_);
    subscriptions_.erase(std::remove_if(subscriptions_.begin(), subscriptions_.end(),
                                        [&](const Subscription& s) { return s.owner == owner; }),
                         subscriptions_.end());
}

void LocalEventBus::setRelay(Relay relay) {
    std::lock_guard lock(mutex_);
    relay_ = relay ? std::make_shared<const Relay>(std::move(relay)) : nullptr;
}

void LocalEventBus::publish(const sdk::Event& event) {
    std::shared_ptr<const Relay> relay;
    {
        std::lock_guard lock(mutex_);
        relay = relay_;
    }
    if (relay) (*relay)(event);  // queued for the other hosts: returns at once
    deliver(event, false);
}

void LocalEventBus::deliverFromPeer(const sdk::Event& event) { deliver(event, true); }

void LocalEventBus::deliver(const sdk::Event& event, bool fromPeer) {
    std::vector<Subscription> targets;
    {
        // Handlers run outside the lock, so one may subscribe or publish in turn.
        std::lock_guard lock(mutex_);
        for (const auto& s : subscriptions_)
            if ((s.topic == event.topic || s.topic == "*") && s.everyHost == fromPeer) targets.push_back(s);
    }
    for (const auto& s : targets) {
        try {
            s.handler(event);
        } catch (const std::exception& error) {
            Poco::Logger::get("plugin." + s.owner).error("event handler for '" + event.topic + "' failed: " + sdk::errorText(error));
        } catch (...) {
            Poco::Logger::get("plugin." + s.owner).error("event handler for '" + event.topic + "' failed with an unknown exception");
        }
    }
}

}  // namespace tawasul::host
