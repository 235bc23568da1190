#pragma once
// Live updates for open inbox and conversation pages. The hub listens to the event bus (messages,
// statuses, assignments, leads), numbers each event and keeps the latest ones in a bounded ring,
// so that a browser reconnecting with `Last-Event-ID` gets what it missed while it was away.
// Stream handlers wait on it; publishers never wait on a slow browser.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace tawasul::plugins::admin_inbox {

struct LiveEvent {
    std::uint64_t id = 0;
    std::string topic;
    std::int64_t conversationId = 0;
    std::string json;  // {"topic": ..., "conversation_id": ..., ...}
};

class LiveHub {
public:
    explicit LiveHub(std::size_t capacity = 1000);

    // Called on the publisher's thread: O(1), wakes the streams.
    void push(const std::string& topic, const std::string& json);
    // A "refresh" for every open page (all conversations): what they show may have missed events.
    void pushRefresh();

    // What a stream that has seen up to `lastId` should send next, for one conversation or for
    // all (conversationId 0). `gap` is set when events after lastId have left the ring (or the
    // host restarted and the numbers began again): the page must refresh what it shows.
    struct Batch {
        std::vector<LiveEvent> events;
        bool gap = false;
        std::uint64_t latest = 0;
    };
    Batch since(std::uint64_t lastId, std::int64_t conversationId) const;

    // Blocks until an event newer than lastId arrives, the hub closes, or `timeout` passes.
    void waitBeyond(std::uint64_t lastId, std::chrono::milliseconds timeout) const;
    std::uint64_t latest() const;
    void close();  // wakes every waiting stream for good (plugin stop)
    bool closed() const;

private:
    const std::size_t capacity_;
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::deque<LiveEvent> ring_;
    std::uint64_t next_ = 1;
    bool closed_ = false;
};

}  // namespace tawasul::plugins::admin_inbox
