// The live updates' memory: events numbered in order, kept up to the capacity, replayed after a
// given id for one conversation or all, and a gap reported when what was missed is gone (or the
// cursor comes from another host or an earlier run); subscribers get the replay, then every later
// event of their conversation, and leave when their stream closes or refuses an event.
#include <cppunit/extensions/HelperMacros.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "LiveHub.hpp"

using tawasul::plugins::admin_inbox::LiveHub;

namespace {

// A stream that records what it is sent and accepts up to `capacity` events, like the host's
// bounded buffer: beyond, it refuses (a reader that stopped reading is dropped).
class RecordingStream final : public tawasul::sdk::EventStream {
public:
    explicit RecordingStream(std::size_t capacity = 100) : capacity_(capacity) {}
    bool send(const std::string& event, const std::string&, const std::string& id) override {
        if (closed_) return false;
        if (sent.size() >= capacity_) {
            end();
            return false;
        }
        // The id is the hub's cursor, "tag-number": the number says the order.
        sent.push_back(event + "#" + id.substr(id.find('-') + 1));
        return true;
    }
    bool open() const override { return !closed_; }
    void close() override { end(); }
    void onClose(std::function<void()> closed) override {
        if (closed_) return closed();
        callbacks_.push_back(std::move(closed));
    }
    // The host runs close callbacks later, on its own thread: here when the test says so.
    void finish() {
        auto callbacks = std::move(callbacks_);
        callbacks_.clear();
        for (auto& callback : callbacks) callback();
    }
    std::vector<std::string> sent;

private:
    void end() { closed_ = true; }
    std::size_t capacity_;
    bool closed_ = false;
    std::vector<std::function<void()>> callbacks_;
};

}  // namespace

class LiveHubTest : public CppUnit::TestFixture {
public:
    // Two hubs are two hosts (or two runs of one): each reads only its own cursors.
    void cursorsOfAnotherRunOrHostReadAsForeign() {
        LiveHub one(10), two(10);
        one.push("message.received", R"({"conversation_id":7})");
        const std::string cursor = one.cursor(1);
        CPPUNIT_ASSERT_EQUAL(std::size_t(10), cursor.size());  // eight hex digits, '-', the number
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), one.number(cursor));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), one.number(one.cursor(0)));
        CPPUNIT_ASSERT(one.cursor(1) != two.cursor(1));
        CPPUNIT_ASSERT_EQUAL(LiveHub::kForeign, two.number(cursor));
        for (const std::string& bad : std::vector<std::string>{"", "1", "-1", cursor.substr(0, 9), cursor + "x", cursor.substr(0, 9) + "99999999999999999999"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(bad, LiveHub::kForeign, one.number(bad));
        // A foreign cursor is a gap: the page refreshes rather than being sent what it had.
        auto foreign = two.since(two.number(cursor), 0);
        CPPUNIT_ASSERT(foreign.gap);
        CPPUNIT_ASSERT(foreign.events.empty());
    }

private:
    CPPUNIT_TEST_SUITE(LiveHubTest);
    CPPUNIT_TEST(replaysWhatFollowsAnIdForOneConversationOrAll);
    CPPUNIT_TEST(everyShapeOfEventKeepsItsDataTopicAndConversation);
    CPPUNIT_TEST(reportsAGapWhenTheMissedEventsAreGone);
    CPPUNIT_TEST(subscribersGetTheReplayThenTheirEventsAndLeaveWhenClosed);
    CPPUNIT_TEST(aRefreshReachesEveryPage);
    CPPUNIT_TEST(cursorsOfAnotherRunOrHostReadAsForeign);
    CPPUNIT_TEST_SUITE_END();

public:
    void replaysWhatFollowsAnIdForOneConversationOrAll() {
        LiveHub hub(10);
        hub.push("message.received", R"({"conversation_id":7,"message_id":1})");
        hub.push("message.status", R"({"conversation_id":8,"status":"read"})");
        hub.push("conversation.updated", "not json");  // kept, with no conversation
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), hub.latest());
        auto all = hub.since(0, 0);
        CPPUNIT_ASSERT(!all.gap);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), all.events.size());
        CPPUNIT_ASSERT_EQUAL(std::string("message.received"), all.events[0].topic);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), all.events[0].conversationId);
        CPPUNIT_ASSERT(all.events[0].json.find("\"topic\":\"message.received\"") != std::string::npos);
        CPPUNIT_ASSERT(all.events[0].json.find("\"message_id\":1") != std::string::npos);
        CPPUNIT_ASSERT(all.events[2].json.find("\"topic\":\"conversation.updated\"") != std::string::npos);
        auto after = hub.since(1, 0);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), after.events.size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), after.events[0].id);
        auto eight = hub.since(0, 8);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), eight.events.size());
        CPPUNIT_ASSERT_EQUAL(std::string("message.status"), eight.events[0].topic);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), hub.since(3, 0).events.size());
        CPPUNIT_ASSERT(!hub.since(3, 0).gap);
    }

    // Whatever a publisher wrote, the page gets it back whole, as JSON, with the hub's topic and the
    // top-level conversation id (the common shapes are read without parsing, the rest parsed).
    void everyShapeOfEventKeepsItsDataTopicAndConversation() {
        struct Case {
            std::string json;
            std::int64_t conversation;
            std::string key, value;  // a member the page must still find (key "" when none)
        };
        const std::vector<Case> cases{
            {R"({"conversation_id":7,"message_id":1})", 7, "message_id", "1"},
            {R"({"a":{"conversation_id":99,"b":[1,{"c":"}"}]},"conversation_id":5,"s":"x,}\"y"})", 5, "s", "x,}\"y"},
            {R"(  { "conversation_id" : 12 , "status" : "read" }  )", 12, "status", "read"},
            {R"({})", 0, "", ""},
            {R"({"status":"read"})", 0, "status", "read"},
            {R"({"topic":"not this","conversation_id":3})", 3, "", ""},        // the hub's topic wins
            {R"({"conversation_id":"4","reason":"note"})", 4, "reason", "note"},  // a quoted id, parsed
            {R"({"conv\u0065rsation_id":6})", 6, "conversation_id", "6"},        // an escape in a key, parsed
            {R"({"conversation_id":3} trailing)", 0, "", ""},                    // not JSON: kept, no conversation
        };
        for (const Case& c : cases) {
            LiveHub hub(4);
            hub.push("message.status", c.json);
            const auto batch = hub.since(0, 0);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(c.json, std::size_t(1), batch.events.size());
            const auto& event = batch.events[0];
            Poco::JSON::Object::Ptr data;
            CPPUNIT_ASSERT_NO_THROW_MESSAGE(c.json + " gave " + event.json,
                                            data = Poco::JSON::Parser().parse(event.json).extract<Poco::JSON::Object::Ptr>());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(c.json + " gave " + event.json, std::string("message.status"), data->getValue<std::string>("topic"));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(c.json + " gave " + event.json, c.conversation, event.conversationId);
            if (!c.key.empty())
                CPPUNIT_ASSERT_EQUAL_MESSAGE(c.json + " gave " + event.json, c.value, data->get(c.key).convert<std::string>());
        }
    }

    // After the bus reconnects (bus.reconnected), the inbox and every conversation page refresh.
    void aRefreshReachesEveryPage() {
        LiveHub hub(10);
        hub.push("message.received", R"({"conversation_id":7})");
        hub.pushRefresh();
        for (std::int64_t conversation : {0, 7, 8}) {
            const auto batch = hub.since(1, conversation);
            CPPUNIT_ASSERT_EQUAL(std::size_t(1), batch.events.size());
            CPPUNIT_ASSERT_EQUAL(std::string("refresh"), batch.events[0].topic);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), hub.since(0, 8).events.size());  // conversation 7's message is not 8's
        // And to the streams open at that moment: the inbox and a page of another conversation.
        auto live = std::make_shared<LiveHub>(10);
        auto inbox = std::make_shared<RecordingStream>();
        auto other = std::make_shared<RecordingStream>();
        live->subscribe(inbox, 0, 0);
        live->subscribe(other, 0, 8);
        live->push("message.received", R"({"conversation_id":7})");
        live->pushRefresh();
        CPPUNIT_ASSERT_EQUAL(std::string("hello#0 message.received#1 refresh#2"), join(inbox->sent));
        CPPUNIT_ASSERT_EQUAL(std::string("hello#0 refresh#2"), join(other->sent));
    }

    void reportsAGapWhenTheMissedEventsAreGone() {
        LiveHub hub(3);
        for (int i = 1; i <= 5; ++i) hub.push("message.received", "{\"conversation_id\":" + std::to_string(i) + "}");
        // Events 1 and 2 left the ring: a browser that saw only 1 missed 2 for good.
        auto missed = hub.since(1, 0);
        CPPUNIT_ASSERT(missed.gap);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), missed.events.size());
        CPPUNIT_ASSERT(!hub.since(2, 0).gap);  // 3, 4, 5 are all there
        // An id this hub never gave: the host restarted since the browser last heard from it.
        auto stale = hub.since(99, 0);
        CPPUNIT_ASSERT(stale.gap);
        CPPUNIT_ASSERT(stale.events.empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), stale.latest);
    }

    void subscribersGetTheReplayThenTheirEventsAndLeaveWhenClosed() {
        auto hub = std::make_shared<LiveHub>(10);
        hub->push("message.received", R"({"conversation_id":7})");
        auto all = std::make_shared<RecordingStream>();
        auto seven = std::make_shared<RecordingStream>();
        auto small = std::make_shared<RecordingStream>(2);
        hub->subscribe(all, 0, 0);
        hub->subscribe(seven, 1, 7);
        hub->subscribe(small, 1, 0);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), hub->subscribers());
        hub->push("message.status", R"({"conversation_id":8})");
        hub->push("message.received", R"({"conversation_id":7})");
        CPPUNIT_ASSERT_EQUAL(std::string("hello#0 message.received#1 message.status#2 message.received#3"), join(all->sent));
        CPPUNIT_ASSERT_EQUAL(std::string("hello#1 message.received#3"), join(seven->sent));
        // Its buffer took two: the third event dropped it, and the hub forgot it.
        CPPUNIT_ASSERT_EQUAL(std::string("hello#1 message.status#2"), join(small->sent));
        CPPUNIT_ASSERT(!small->open());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), hub->subscribers());
        small->finish();
        seven->close();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), hub->subscribers());  // until the host tells the hub
        seven->finish();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), hub->subscribers());
        hub->close();
        CPPUNIT_ASSERT(!all->open());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), hub->subscribers());
        auto late = std::make_shared<RecordingStream>();
        hub->subscribe(late, 0, 0);
        CPPUNIT_ASSERT(!late->open());
    }

private:
    static std::string join(const std::vector<std::string>& items) {
        std::string out;
        for (const auto& item : items) out += (out.empty() ? "" : " ") + item;
        return out;
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LiveHubTest);
