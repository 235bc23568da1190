// The host's event bus with a relay to other hosts: what this host publishes goes to its own
// subscribers and to the relay; what another host published reaches only the subscriptions made
// for the other hosts' events (live pages), never those that act on an event (auto-replies).
// And the notification text the PostgreSQL relay writes and reads.
#include <cppunit/extensions/HelperMacros.h>

#include <vector>

#include "db/PostgresEventRelay.hpp"
#include "plugin/LocalEventBus.hpp"

using tawasul::host::LocalEventBus;
using tawasul::host::PostgresEventRelay;

class EventRelayTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(EventRelayTest);
    CPPUNIT_TEST(peerEventsReachOnlyEveryHostSubscribers);
    CPPUNIT_TEST(publishedEventsGoToTheRelay);
    CPPUNIT_TEST(noticesParse);
    CPPUNIT_TEST(malformedNoticesAreRefused);
    CPPUNIT_TEST_SUITE_END();

public:
    void peerEventsReachOnlyEveryHostSubscribers() {
        LocalEventBus bus;
        std::vector<std::string> local, everyHost;
        bus.subscribe("outbox", "message.received", [&](const tawasul::sdk::Event& e) { local.push_back(e.json); });
        bus.subscribe("admin_inbox", "message.received", [&](const tawasul::sdk::Event& e) { everyHost.push_back(e.json); }, true);
        bus.publish({"message.received", "mine"});
        bus.deliverFromPeer({"message.received", "theirs"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), local.size());
        CPPUNIT_ASSERT_EQUAL(std::string("mine"), local[0]);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), everyHost.size());
        CPPUNIT_ASSERT_EQUAL(std::string("theirs"), everyHost[0]);
    }

    void publishedEventsGoToTheRelay() {
        LocalEventBus bus;
        std::vector<std::string> relayed;
        bus.setRelay([&](const tawasul::sdk::Event& e) { relayed.push_back(e.topic); });
        bus.publish({"lead.created", "{}"});
        bus.deliverFromPeer({"lead.created", "{}"});  // not sent back out
        bus.setRelay(nullptr);
        bus.publish({"lead.created", "{}"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), relayed.size());
    }

    void noticesParse() {
        PostgresEventRelay::Notice notice;
        CPPUNIT_ASSERT(PostgresEventRelay::parseNotice("host-a 7 message.received\n{\"conversation_id\":3,\"text\":\"a b\\nc\"}", notice));
        CPPUNIT_ASSERT_EQUAL(std::string("host-a"), notice.origin);
        CPPUNIT_ASSERT_EQUAL(std::string("message.received"), notice.topic);
        CPPUNIT_ASSERT_EQUAL(std::string("{\"conversation_id\":3,\"text\":\"a b\\nc\"}"), notice.json);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), notice.storedId);
        CPPUNIT_ASSERT(PostgresEventRelay::parseNotice("host-b 8 platform.event @12345", notice));
        CPPUNIT_ASSERT_EQUAL(std::string("platform.event"), notice.topic);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(12345), notice.storedId);
        CPPUNIT_ASSERT(notice.json.empty());
    }

    void malformedNoticesAreRefused() {
        PostgresEventRelay::Notice notice;
        for (const char* text : {"", "host-a", "host-a 7", " 7 topic\n{}", "host-a 7 topic", "host-a 7 topic @", "host-a 7 topic @12x",
                                 "host-a 7 topic @1234567890123456789012", "host-a 7 two words\n{}"})
            CPPUNIT_ASSERT_MESSAGE(text, !PostgresEventRelay::parseNotice(text, notice));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(EventRelayTest);
