#include "LiveHub.hpp"

#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace tawasul::plugins::admin_inbox {

namespace {
constexpr const char* kRefreshTopic = "refresh";  // what the pages' script answers by reloading what it shows
}

LiveHub::LiveHub(std::size_t capacity) : capacity_(capacity) {}

void LiveHub::push(const std::string& topic, const std::string& json) {
    // The page needs the topic and the conversation; the rest of the publisher's data passes through.
    Poco::JSON::Object::Ptr data;
    try {
        Poco::JSON::Parser parser;
        data = parser.parse(json).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception&) {
    }
    if (!data) data = new Poco::JSON::Object;
    const std::int64_t conversationId = data->optValue<Poco::Int64>("conversation_id", 0);
    data->set("topic", topic);
    std::ostringstream out;
    data->stringify(out);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ring_.push_back(LiveEvent{next_++, topic, conversationId, out.str()});
        while (ring_.size() > capacity_) ring_.pop_front();
    }
    changed_.notify_all();
}

void LiveHub::pushRefresh() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ring_.push_back(LiveEvent{next_++, kRefreshTopic, 0, "{\"topic\":\"refresh\"}"});
        while (ring_.size() > capacity_) ring_.pop_front();
    }
    changed_.notify_all();
}

LiveHub::Batch LiveHub::since(std::uint64_t lastId, std::int64_t conversationId) const {
    std::lock_guard<std::mutex> lock(mutex_);
    Batch batch;
    batch.latest = next_ - 1;
    if (lastId > batch.latest) {
        batch.gap = true;  // numbers from an earlier run of the host
        return batch;
    }
    if (!ring_.empty() && lastId + 1 < ring_.front().id) batch.gap = true;
    for (const LiveEvent& event : ring_) {
        if (event.id <= lastId) continue;
        if (conversationId != 0 && event.conversationId != conversationId && event.topic != kRefreshTopic) continue;
        batch.events.push_back(event);
    }
    return batch;
}

void LiveHub::waitBeyond(std::uint64_t lastId, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return closed_ || next_ - 1 > lastId; });
}

std::uint64_t LiveHub::latest() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return next_ - 1;
}

void LiveHub::close() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closed_ = true;
    }
    changed_.notify_all();
}

bool LiveHub::closed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_;
}

}  // namespace tawasul::plugins::admin_inbox
