#pragma once
// The event bus across hosts that share one PostgreSQL database, on LISTEN/NOTIFY.
//
// Each event this host publishes is queued and NOTIFYed on one channel by a sender thread (several
// queued events go in one statement). A notification is small: the event itself when it fits
// (PostgreSQL allows 8000 bytes), otherwise a row of `bus_events` and its id. A listener thread
// holds its own connection (Poco's connector has no LISTEN), waits on the socket, and hands each
// event from another host to `deliver`; its own, already delivered in-process, it skips. When a
// link to the database was lost and is back, `deliver` gets sdk::kBusReconnectedTopic (the listener
// missed what was sent meanwhile), and the other hosts get it too when this host's sender lost events.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "tawasul/sdk/Events.hpp"

namespace tawasul::host {

class PostgresEventRelay {
public:
    using Deliver = std::function<void(const sdk::Event&)>;
    // `connectionString`: libpq's key=value form (SqlDatabase::parseUrl).
    PostgresEventRelay(std::string connectionString, Deliver deliver);
    ~PostgresEventRelay();  // stop()

    void start();
    void stop() noexcept;
    // Queues the event for the other hosts; never waits on the database. Past kMaxQueued the
    // oldest are dropped and the others told to refresh.
    void send(const sdk::Event& event);

    // What this process calls itself in its notifications.
    const std::string& origin() const { return origin_; }
    // The listener is connected and listening (readiness, tests).
    bool listening() const;

    static constexpr const char* kChannel = "tawasul_events";
    static constexpr std::size_t kMaxPayload = 7900;  // below PostgreSQL's 8000-byte limit, with room for the header
    static constexpr std::size_t kMaxQueued = 100000;

    // The notification text: "ORIGIN SEQ TOPIC\nJSON", or "ORIGIN SEQ TOPIC @ID" for a stored one.
    // Parses one; false for text this version did not write.
    struct Notice {
        std::string origin, topic, json;
        std::int64_t storedId = 0;
    };
    static bool parseNotice(const std::string& text, Notice& notice);

private:
    void listen();
    void sendLoop();

    const std::string connectionString_;
    const Deliver deliver_;
    const std::string origin_;
    std::thread listener_, sender_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<sdk::Event> queue_;
    bool lostEvents_ = false;  // dropped or failed to send: the others must refresh
    bool stopping_ = false;
    bool listening_ = false;
    std::uint64_t sequence_ = 0;
};

}  // namespace tawasul::host
