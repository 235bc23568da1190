#pragma once
// Publish/subscribe. Publish after the transaction that made the change commits.
// subscribe() hears the events of this host: for what acts on an event (an auto-reply, a flow),
// which must run once in the whole system. subscribeEveryHost() also hears what the other hosts on
// the same PostgreSQL database publish: for what shows events (live pages). On SQLite there is one
// host and both are the same.
#include <cstdint>
#include <functional>
#include <string>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

struct Event {
    std::string topic;  // e.g. "message.received"
    std::string json;   // the event's data as a JSON document
};

using EventHandler = std::function<void(const Event&)>;

class TAWASUL_SDK_API EventBus {
public:
    virtual ~EventBus();
    // Handlers run on the publisher's thread; an exception from one is logged and does not reach
    // the publisher or the other handlers.
    virtual std::uint64_t subscribe(const std::string& topic, EventHandler handler) = 0;
    virtual void unsubscribe(std::uint64_t subscription) = 0;
    virtual void publish(const Event& event) = 0;
    // Also delivers the events other hosts publish, once each, on a thread of the host's own (not the
    // publisher's). After the host lost and regained its link to the others it delivers
    // kBusReconnectedTopic: what was shown may have missed events and should be refreshed.
    virtual std::uint64_t subscribeEveryHost(const std::string& topic, EventHandler handler);
};

// Delivered to subscribeEveryHost() subscribers when events from other hosts may have been missed.
inline constexpr const char* kBusReconnectedTopic = "bus.reconnected";

}  // namespace tawasul::sdk
