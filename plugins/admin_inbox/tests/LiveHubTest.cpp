// The live updates' memory: events numbered in order, kept up to the capacity, replayed after a
// given id for one conversation or all, and a gap reported when what was missed is gone (or the
// id comes from an earlier run of the host).
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <thread>

#include "LiveHub.hpp"

using tawasul::plugins::admin_inbox::LiveHub;

class LiveHubTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(LiveHubTest);
    CPPUNIT_TEST(replaysWhatFollowsAnIdForOneConversationOrAll);
    CPPUNIT_TEST(reportsAGapWhenTheMissedEventsAreGone);
    CPPUNIT_TEST(waitersWakeOnAPushAndOnClose);
    CPPUNIT_TEST(aRefreshReachesEveryPage);
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

    void waitersWakeOnAPushAndOnClose() {
        LiveHub hub;
        std::thread pusher([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            hub.push("message.received", "{}");
        });
        hub.waitBeyond(0, std::chrono::seconds(30));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), hub.latest());
        pusher.join();
        std::thread closer([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            hub.close();
        });
        hub.waitBeyond(1, std::chrono::seconds(30));
        CPPUNIT_ASSERT(hub.closed());
        closer.join();
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LiveHubTest);
