#pragma once
// The events of every host sharing one PostgreSQL database, for what shows them (live pages).
// HostContext::events() hears only this host's events: that is right for what acts on an event (an
// auto-reply, a flow), which must run once in the whole system. A plugin that shows events finds
// this service (ServiceRegistry, kServiceName) and subscribes here as well as, not instead of, there.
// On SQLite there is one host and this delivers nothing more.
#include <cstdint>
#include <string>

#include "tawasul/sdk/Api.hpp"
#include "tawasul/sdk/Events.hpp"

namespace tawasul::sdk {

class TAWASUL_SDK_API EveryHostEvents {
public:
    static constexpr const char* kServiceName = "every_host_events";
    virtual ~EveryHostEvents();
    // Delivers what the other hosts publish on `topic`, once each, on a thread of the host's own.
    // Owner-tagged like every registration: removed when `owner` (the plugin's name) stops.
    virtual std::uint64_t subscribe(const std::string& owner, const std::string& topic, EventHandler handler) = 0;
};

// Delivered to EveryHostEvents subscribers (whatever their topic) when the host lost and regained
// its link to the others: events may have been missed, what is shown should be refreshed.
inline constexpr const char* kBusReconnectedTopic = "bus.reconnected";

}  // namespace tawasul::sdk
