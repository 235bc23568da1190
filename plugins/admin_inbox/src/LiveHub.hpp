#pragma once
// Live updates for open inbox and conversation pages. The hub listens to the event bus (messages,
// statuses, assignments, leads), numbers each event and keeps the latest ones in a bounded ring,
// so that a browser reconnecting with `Last-Event-ID` gets what it missed while it was away.
// Each open page is a subscriber (an sdk::EventStream: a socket and a small buffer, no thread);
// a push hands the event to every subscriber without waiting: a page that does not read is
// dropped by the host's server, never waited for.
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tawasul/sdk/Http.hpp"

namespace tawasul::plugins::admin_inbox {

struct LiveEvent {
    std::uint64_t id = 0;
    std::string topic;
    std::int64_t conversationId = 0;
    std::string json;  // {"topic": ..., "conversation_id": ..., ...}
};

class LiveHub : public std::enable_shared_from_this<LiveHub> {
public:
    explicit LiveHub(std::size_t capacity = 1000);

    // Called on the publisher's thread: records the event and queues it on every open stream.
    void push(const std::string& topic, const std::string& json);
    // A "refresh" for every open page (all conversations): what they show may have missed events.
    void pushRefresh();

    // What a stream that has seen up to `lastId` should send next, for one conversation or for
    // all (conversationId 0). `gap` is set when events after lastId have left the ring (or the
    // lastId is kForeign): the page must refresh what it shows.
    struct Batch {
        std::vector<LiveEvent> events;
        bool gap = false;
        std::uint64_t latest = 0;
    };
    Batch since(std::uint64_t lastId, std::int64_t conversationId) const;

    // Sends `hello`, then what the stream missed after lastId (or `refresh` when that is gone), then
    // every later event for the conversation (0: all), until the stream closes. No event falls
    // between the replay and the subscription: both happen under the hub's lock.
    void subscribe(std::shared_ptr<sdk::EventStream> stream, std::uint64_t lastId, std::int64_t conversationId);
    std::size_t subscribers() const;

    std::uint64_t latest() const;

    // Cursors: what a page is rendered with (`?after=`) and the id of every event it is sent: this
    // run's tag and the event's number ("3f9a1c2e-42"). The numbers are this process's own, so
    // another host (several hosts behind one proxy, without sticky sessions) or this one before a
    // restart numbers differently: a cursor this hub did not issue reads as kForeign, and the page
    // is told to refresh what it shows, rather than sent events it had or spared ones it missed.
    std::string cursor(std::uint64_t id) const;
    std::uint64_t number(const std::string& cursor) const;
    static constexpr std::uint64_t kForeign = std::numeric_limits<std::uint64_t>::max();  // after any number: a gap
    void close();  // ends every stream for good (plugin stop)
    bool closed() const;

private:
    struct Subscriber {
        std::shared_ptr<sdk::EventStream> stream;
        std::int64_t conversationId = 0;
    };
    Batch sinceLocked(std::uint64_t lastId, std::int64_t conversationId) const;
    void append(const std::string& topic, std::int64_t conversationId, const std::string& json);
    static bool reaches(const LiveEvent& event, std::int64_t conversationId);
    void forget(std::uint64_t subscriber);

    const std::size_t capacity_;
    const std::string run_;  // this hub's tag in its cursors
    mutable std::mutex mutex_;
    std::deque<LiveEvent> ring_;
    std::uint64_t next_ = 1;
    std::map<std::uint64_t, Subscriber> subscribers_;
    std::uint64_t nextSubscriber_ = 1;
    bool closed_ = false;
};

}  // namespace tawasul::plugins::admin_inbox
