#include "LiveHub.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <random>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

namespace tawasul::plugins::admin_inbox {

namespace {
constexpr const char* kRefreshTopic = "refresh";  // what the pages' script answers by reloading what it shows
}

namespace {
std::string runTag() {
    std::random_device random;
    char tag[9];
    std::snprintf(tag, sizeof tag, "%08x", static_cast<unsigned>(random()));
    return tag;
}
}  // namespace

LiveHub::LiveHub(std::size_t capacity) : capacity_(capacity), run_(runTag()) {}

std::string LiveHub::cursor(std::uint64_t id) const { return run_ + "-" + std::to_string(id); }

std::uint64_t LiveHub::number(const std::string& cursor) const {
    const std::string digits = cursor.size() > run_.size() + 1 && cursor.compare(0, run_.size() + 1, run_ + "-") == 0
                                   ? cursor.substr(run_.size() + 1)
                                   : std::string();
    if (digits.empty() || digits.size() >= 20 || !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
        return kForeign;
    return std::stoull(digits);
}

namespace {

// What push() needs of a publisher's JSON object, read without building it (every event of every
// host passes here, a copy for the pages: building and writing the object again was 6 % of the
// processing's CPU in bench/process.sh): its top-level "conversation_id", when a plain integer, and
// whether it has a "topic" already. nullopt for anything else this scan does not read (an escape in
// a key, a conversation_id that is no plain integer, text after the object): that is parsed instead.
struct Scanned {
    std::int64_t conversationId = 0;
    bool hasTopic = false;
    bool empty = true;  // {}
    std::size_t close = 0;  // where its closing brace is
};

std::optional<Scanned> scanEvent(const std::string& json) {
    std::size_t at = 0;
    const auto space = [&] {
        while (at < json.size() && (json[at] == ' ' || json[at] == '\t' || json[at] == '\n' || json[at] == '\r')) ++at;
    };
    // A string from its opening quote; false if it never closes.
    const auto skipString = [&] {
        for (++at; at < json.size(); ++at) {
            if (json[at] == '\\') ++at;
            else if (json[at] == '"') return ++at, true;
        }
        return false;
    };
    Scanned scanned;
    space();
    if (at >= json.size() || json[at] != '{') return std::nullopt;
    ++at;
    space();
    if (at < json.size() && json[at] == '}') {
        scanned.close = at++;
    } else {
        scanned.empty = false;
        for (;;) {
            space();
            if (at >= json.size() || json[at] != '"') return std::nullopt;
            const std::size_t keyStart = at + 1;
            const std::size_t keyEnd = json.find('"', keyStart);
            if (keyEnd == std::string::npos || json.find('\\', keyStart) < keyEnd) return std::nullopt;
            const std::string key = json.substr(keyStart, keyEnd - keyStart);
            at = keyEnd + 1;
            space();
            if (at >= json.size() || json[at] != ':') return std::nullopt;
            ++at;
            space();
            if (key == "topic") scanned.hasTopic = true;
            if (key == "conversation_id") {
                const std::size_t digits = at;
                while (at < json.size() && json[at] >= '0' && json[at] <= '9') ++at;
                if (at == digits || at - digits > 18) return std::nullopt;
                scanned.conversationId = std::stoll(json.substr(digits, at - digits));
            } else {
                // Any other value: strings whole, brackets counted, up to the comma or brace that ends it.
                int depth = 0;
                while (at < json.size()) {
                    const char c = json[at];
                    if (c == '"') {
                        if (!skipString()) return std::nullopt;
                        continue;
                    }
                    if (depth == 0 && (c == ',' || c == '}')) break;
                    if (c == '{' || c == '[') ++depth;
                    else if (c == '}' || c == ']') --depth;
                    if (depth < 0) return std::nullopt;
                    ++at;
                }
            }
            space();
            if (at >= json.size()) return std::nullopt;
            if (json[at] == '}') {
                scanned.close = at++;
                break;
            }
            if (json[at] != ',') return std::nullopt;
            ++at;
        }
    }
    space();
    if (at != json.size()) return std::nullopt;
    return scanned;
}

}  // namespace

void LiveHub::push(const std::string& topic, const std::string& json) {
    // The page needs the topic and the conversation; the rest of the publisher's data passes through.
    if (const std::optional<Scanned> scanned = scanEvent(json); scanned && !scanned->hasTopic) {
        std::ostringstream topicText;
        Poco::JSON::Stringifier::formatString(topic, topicText);
        append(topic, scanned->conversationId,
               json.substr(0, scanned->close) + (scanned->empty ? "" : ",") + "\"topic\":" + topicText.str() + "}");
        return;
    }
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
    append(topic, conversationId, out.str());
}

void LiveHub::pushRefresh() { append(kRefreshTopic, 0, "{\"topic\":\"refresh\"}"); }

void LiveHub::append(const std::string& topic, std::int64_t conversationId, const std::string& json) {
    std::vector<std::shared_ptr<sdk::EventStream>> gone;
    {
        // Sending under the lock keeps every stream's events in the hub's order; send() only queues.
        std::lock_guard<std::mutex> lock(mutex_);
        ring_.push_back(LiveEvent{next_++, topic, conversationId, json});
        while (ring_.size() > capacity_) ring_.pop_front();
        const LiveEvent& event = ring_.back();
        const std::string id = cursor(event.id);
        for (auto it = subscribers_.begin(); it != subscribers_.end();) {
            const Subscriber& subscriber = it->second;
            if (!reaches(event, subscriber.conversationId)) {
                ++it;
            } else if (subscriber.stream->send(event.topic, event.json, id)) {
                ++it;
            } else {
                gone.push_back(subscriber.stream);  // released outside the lock
                it = subscribers_.erase(it);
            }
        }
    }
}

// A refresh is for every page; any other event for the inbox (0) and its own conversation's page.
bool LiveHub::reaches(const LiveEvent& event, std::int64_t conversationId) {
    return event.topic == kRefreshTopic || conversationId == 0 || event.conversationId == conversationId;
}

LiveHub::Batch LiveHub::since(std::uint64_t lastId, std::int64_t conversationId) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sinceLocked(lastId, conversationId);
}

LiveHub::Batch LiveHub::sinceLocked(std::uint64_t lastId, std::int64_t conversationId) const {
    Batch batch;
    batch.latest = next_ - 1;
    if (lastId > batch.latest) {
        batch.gap = true;  // a cursor from another host or an earlier run (kForeign), or a number never given
        return batch;
    }
    if (!ring_.empty() && lastId + 1 < ring_.front().id) batch.gap = true;
    for (const LiveEvent& event : ring_) {
        if (event.id <= lastId) continue;
        if (!reaches(event, conversationId)) continue;
        batch.events.push_back(event);
    }
    return batch;
}

void LiveHub::subscribe(std::shared_ptr<sdk::EventStream> stream, std::uint64_t lastId, std::int64_t conversationId) {
    std::uint64_t key = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (closed_) {
            stream->close();
            return;
        }
        const std::uint64_t latest = next_ - 1;
        if (!stream->send("hello", "{\"latest\":" + std::to_string(latest) + "}", cursor(std::min(lastId, latest)))) return;
        const Batch batch = sinceLocked(lastId, conversationId);
        if (batch.gap && !stream->send("refresh", "{}", cursor(batch.latest))) return;
        for (const auto& event : batch.events)
            if (!stream->send(event.topic, event.json, cursor(event.id))) return;
        key = nextSubscriber_++;
        subscribers_[key] = Subscriber{stream, conversationId};
    }
    // Outside the lock: onClose runs at once when the stream has already ended.
    std::weak_ptr<LiveHub> hub = weak_from_this();
    stream->onClose([hub, key] {
        if (auto live = hub.lock()) live->forget(key);
    });
}

void LiveHub::forget(std::uint64_t subscriber) {
    std::shared_ptr<sdk::EventStream> stream;  // released after the lock
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = subscribers_.find(subscriber);
    if (it == subscribers_.end()) return;
    stream = std::move(it->second.stream);
    subscribers_.erase(it);
}

std::size_t LiveHub::subscribers() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return subscribers_.size();
}

std::uint64_t LiveHub::latest() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return next_ - 1;
}

void LiveHub::close() {
    std::map<std::uint64_t, Subscriber> streams;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closed_ = true;
        streams.swap(subscribers_);
    }
    for (auto& [key, subscriber] : streams) subscriber.stream->close();
}

bool LiveHub::closed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_;
}

}  // namespace tawasul::plugins::admin_inbox
