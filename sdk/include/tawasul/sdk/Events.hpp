#pragma once
// In-process publish/subscribe. Publish after the transaction that made the change commits.
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
};

}  // namespace tawasul::sdk
