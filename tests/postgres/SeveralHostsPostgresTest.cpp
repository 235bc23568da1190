// Three hosts on one PostgreSQL behave as one system (issue #14): the event bus crosses hosts on
// LISTEN/NOTIFY, so a live page open on one host shows what another host received and processed,
// each event once, and pages refresh when a host's link to the others was cut and is back.
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <regex>
#include <thread>
#include <vector>

#include "AdminSession.hpp"
#include "Assertions.hpp"
#include "FakeGraphApi.hpp"
#include "LiveStream.hpp"
#include "OutboundSupport.hpp"
#include "WebhookSupport.hpp"
#include "db/Migrator.hpp"
#include "tawasul/whatsapp/TimelineWrites.hpp"
#include "whatsapp/MetaPayloads.hpp"

using namespace tawasul;
using namespace tawasul::test;

namespace {

const std::string kLive = "/admin/messaging/whatsapp/live";

std::size_t occurrences(const std::string& text, const std::string& part) {
    std::size_t count = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++count;
    return count;
}

void postText(const HostProcess& host, const std::string& wamid, const std::string& from, const std::string& text) {
    host::InboundText message;
    message.from = from;
    message.name = "Amina";
    message.wamid = wamid;
    message.timestamp = nowSeconds();
    message.text = text;
    const auto response = postSigned(host, host::inboundTextBody(message));
    if (response.status != 200) throw std::runtime_error("webhook answered " + std::to_string(response.status));
}

// Three outbound hosts (cloud_api then outbox) with two workers each on one database.
struct OutboundHosts {
    OutboundHosts(const PostgresDatabase& pg, const FakeGraphApi& fake, int messagesPerSecond, const std::string& cloudExtra = "") {
        HostOptions options = outboundHost(fake, cloudExtra);
        const std::string rate = "messages_per_second: 1000";
        options.pluginsYaml.replace(options.pluginsYaml.find(rate), rate.size(), "messages_per_second: " + std::to_string(messagesPerSecond));
        options.databaseUrl = pg.url();
        options.workerThreads = 2;
        options.environment.push_back("TAWASUL_MASTER_KEY=" + std::string(44 - 1, 'A') + "=");
        for (int i = 0; i < 3; ++i) {
            hosts.push_back(std::make_unique<HostProcess>(options));
            hosts.back()->start();
            options.migrate = false;
            options.settings.clear();  // already in the shared database
        }
    }
    std::vector<std::unique_ptr<HostProcess>> hosts;
};

std::string templateSend(const std::string& key, const std::string& phone = "0555 12 34 56") {
    return "{\"phone\":\"" + phone + "\",\"idempotency_key\":\"" + key + "\",\"template\":{\"name\":\"rappel\",\"language\":\"fr\"}}";
}

// A customer of its own for each (host, message): the number's rate is tested, not the pair rate.
std::string ownPhone(int host, int message) {
    char phone[32];
    std::snprintf(phone, sizeof phone, "0555 00 %02d %02d", host, message);
    return phone;
}

}  // namespace

class SeveralHostsPostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SeveralHostsPostgresTest);
    CPPUNIT_TEST(aLivePageShowsWhatAnotherHostProcessed);
    CPPUNIT_TEST(pacingPerNumberIsSharedByAllHosts);
    CPPUNIT_TEST(pairRateToOneRecipientIsSharedByAllHosts);
    CPPUNIT_TEST(anExpiredTokenSeenByOneHostStopsTheOthers);
    CPPUNIT_TEST(aStatusIsNotLostWhileItsWamidIsStored);
    CPPUNIT_TEST_SUITE_END();

public:
    void aLivePageShowsWhatAnotherHostProcessed() {
        PostgresDatabase pg;
        HostOptions options = withWebhookSecrets();
        options.databaseUrl = pg.url();
        options.environment.push_back("TAWASUL_MASTER_KEY=" + std::string(44 - 1, 'A') + "=");
        options.workerThreads = 0;  // hosts 1 and 2 only serve: every job is processed on host 3
        HostProcess one(options);
        one.start();
        options.migrate = false;
        options.settings.clear();
        HostProcess two(options);
        two.start();
        options.workerThreads = 2;
        HostProcess three(options);
        three.start();
        auto db = openDatabase(pg.url());

        const AdminBrowser agent = signInAs(one, "agent@example.dz", "agent");
        LiveStream onOne(one.port(), kLive, agent.cookie());
        LiveStream onThree(three.port(), kLive, agent.cookie());  // a session is valid on every host
        CPPUNIT_ASSERT(onOne.waitFor("event: hello"));
        CPPUNIT_ASSERT(onThree.waitFor("event: hello"));
        // Each host numbers its own events: a browser that comes back to another host than the one
        // it heard from (no sticky sessions) is told to refresh, not sent the other numbering's events.
        std::smatch hello;
        const std::string first = onOne.text();
        CPPUNIT_ASSERT_MESSAGE(first, std::regex_search(first, hello, std::regex("id: ([0-9a-f]{8}-[0-9]+)")));
        LiveStream elsewhere(two.port(), kLive, agent.cookie(), hello[1].str());
        CPPUNIT_ASSERT_MESSAGE(elsewhere.text(), elsewhere.waitFor("event: refresh"));

        postText(three, "wamid.HOSTS1", "213555123456", "Bonjour depuis l'hôte 3");
        // No time budget here: the wait also covers host 3 claiming and processing the event,
        // which a loaded machine may take seconds over. How quickly the other hosts hear of it
        // is measured apart, below.
        CPPUNIT_ASSERT_MESSAGE(onOne.text() + "\n---\n" + one.log(), onOne.waitFor("event: message.received"));
        const std::string conversation =
            queryText(*db, "SELECT conversation_id FROM whatsapp_messages WHERE wa_message_id = 'wamid.HOSTS1'");
        CPPUNIT_ASSERT(onOne.waitFor("\"conversation_id\":" + conversation));
        CPPUNIT_ASSERT(onThree.waitFor("event: message.received"));

        // Each host delivers each event once: by the time a second message shows, a doubled first
        // (host 3 hearing its own NOTIFY) would have shown too, as one channel keeps its order.
        postText(two, "wamid.HOSTS2", "213555000111", "Deuxième");
        const auto twoShown = [](const LiveStream& stream) { return occurrences(stream.text(), "event: message.received") >= 2; };
        for (int i = 0; i < 500 && !(twoShown(onOne) && twoShown(onThree)); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(onOne.text(), std::size_t(2), occurrences(onOne.text(), "event: message.received"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(onThree.text(), std::size_t(2), occurrences(onThree.text(), "event: message.received"));

        // Cut every host's link to the others: once back, the open pages are told to refresh.
        queryText(*db, "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'tawasul-bus'");
        CPPUNIT_ASSERT_MESSAGE(onOne.text() + "\n---\n" + one.log(), onOne.waitFor("event: refresh"));
        CPPUNIT_ASSERT(onThree.waitFor("event: refresh"));
        // And events flow again.
        postText(three, "wamid.HOSTS3", "213555000222", "Encore");
        for (int i = 0; i < 500 && occurrences(onOne.text(), "event: message.received") < 3; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(onOne.text() + "\n---\n" + one.log(), std::size_t(3), occurrences(onOne.text(), "event: message.received"));
        for (int i = 0; i < 500 && occurrences(onThree.text(), "event: message.received") < 3; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(onThree.text(), std::size_t(3), occurrences(onThree.text(), "event: message.received"));

        // The hop from host 3 to host 1 is a push (NOTIFY to a listener that waits on its socket),
        // not a poll. Measured on its own: host 3's page gets each event from host 3's own bus
        // when it is published, host 1's page through the database, and both pages are read by
        // this process, so the gap between the two arrivals is the relay alone, without the
        // processing before it. A poll every P would put the median gap near P / 2; the shortest
        // period anything in the host polls at is the job runner's 500 ms (the listener's own
        // 500 ms wake-up only looks at the stop flag). The bound is a quarter of that: far above
        // the milliseconds a push takes, even on a loaded two-core machine where one hop in a few
        // may wait tens of milliseconds for a core, and below what a poll would give. The median
        // of seven keeps one slow hop from deciding; the "within 1 s" for the whole path
        // holds as long as the processing does.
        std::vector<std::int64_t> hops;
        for (int i = 0; i < 7; ++i) {
            postText(three, "wamid.HOP" + std::to_string(i), "21355500030" + std::to_string(i), "Relais " + std::to_string(i));
            const std::size_t shown = 4 + static_cast<std::size_t>(i);
            const auto both = [&] {
                return onOne.arrivals("event: message.received").size() >= shown && onThree.arrivals("event: message.received").size() >= shown;
            };
            for (int wait = 0; wait < 1000 && !both(); ++wait) std::this_thread::sleep_for(std::chrono::milliseconds(20));
            CPPUNIT_ASSERT_MESSAGE(onOne.text() + "\n---\n" + one.log(), both());
            const auto relayed = onOne.arrivals("event: message.received")[shown - 1];
            const auto local = onThree.arrivals("event: message.received")[shown - 1];
            hops.push_back(std::chrono::duration_cast<std::chrono::microseconds>(relayed - local).count());
        }
        std::string measured;
        for (const std::int64_t hop : hops) measured += (measured.empty() ? "" : ", ") + std::to_string(hop / 1000) + " ms";
        std::sort(hops.begin(), hops.end());
        CPPUNIT_ASSERT_MESSAGE("host 3 to host 1: " + measured, hops[hops.size() / 2] < 125000);
    }

    // cloud_api.messages_per_second: 20 on each of three hosts is 20 per second for the number,
    // not 60: never more than 20 sends reach Meta in any one-second window (to 90 customers: one
    // customer would be held to Meta's pair rate, 45 in a burst).
    void pacingPerNumberIsSharedByAllHosts() {
        PostgresDatabase pg;
        FakeGraphApi fake;
        OutboundHosts cluster(pg, fake, 20);
        const int perHost = 30;
        std::vector<std::thread> threads;
        for (int h = 0; h < 3; ++h)
            threads.emplace_back([&, h] {
                for (int i = 0; i < perHost; ++i)
                    sendThroughProbe(*cluster.hosts[h], templateSend("pace-" + std::to_string(h) + "-" + std::to_string(i), ownPhone(h, i)));
            });
        for (auto& thread : threads) thread.join();
        CPPUNIT_ASSERT(fake.waitForSends(3 * perHost, std::chrono::seconds(60)));
        const auto stats = fake.stats();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3 * perHost), stats.count);
        CPPUNIT_ASSERT_MESSAGE("busiest second: " + std::to_string(stats.maxInOneSecond), stats.maxInOneSecond <= 20);
    }

    // Meta's pair rate, here a burst of 2 then one every 2 s per recipient: six messages to one
    // customer, two queued on each host at once, reach Meta in bursts of two that are paid for
    // before the next, whichever host sends them; never three within a second (each host pacing
    // alone would let six through at once). The four that wait do so without a request to Meta.
    // Which host's worker claims a job is not fixed, so this shows the hosts together; the
    // accounts being shared is shown pacer by pacer in PacingPostgresTest.
    void pairRateToOneRecipientIsSharedByAllHosts() {
        PostgresDatabase pg;
        FakeGraphApi fake;
        OutboundHosts cluster(pg, fake, 1000, ", pair_interval_ms: 2000, pair_burst: 2");
        auto db = openDatabase(pg.url());
        std::vector<std::thread> threads;
        for (int h = 0; h < 3; ++h)
            threads.emplace_back([&, h] {
                for (int i = 0; i < 2; ++i)
                    sendThroughProbe(*cluster.hosts[h], templateSend("pair-" + std::to_string(h) + "-" + std::to_string(i)));
            });
        for (auto& thread : threads) thread.join();
        CPPUNIT_ASSERT(fake.waitForSends(6, std::chrono::seconds(90)));
        std::vector<std::int64_t> arrivals;
        for (const GraphRequest& send : fake.sends()) {
            assertContains(send.body, "\"to\":\"+213555123456\"");
            arrivals.push_back(send.receivedMicros);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(6), arrivals.size());
        std::sort(arrivals.begin(), arrivals.end());
        // Any three in a row span at least one interval by the rule (3 s when two share a burst):
        // a second leaves room for the way to Meta.
        for (std::size_t i = 2; i < arrivals.size(); ++i)
            CPPUNIT_ASSERT_MESSAGE("sends " + std::to_string(i - 1) + " to " + std::to_string(i + 1) + " within " +
                                       std::to_string((arrivals[i] - arrivals[i - 2]) / 1000) + " ms",
                                   arrivals[i] - arrivals[i - 2] >= 1000000);
        CPPUNIT_ASSERT_EQUAL(std::string("6|6"), queryRows(*db, "SELECT COUNT(*), COUNT(DISTINCT wa_message_id) FROM whatsapp_messages "
                                                              "WHERE status = 'sent'"));
        // Four waited for their turn, as retries that never reached Meta (no HTTP status).
        CPPUNIT_ASSERT_EQUAL(std::string("4"),
                             queryText(*db, "SELECT COUNT(DISTINCT message_id) FROM whatsapp_message_attempts WHERE outcome = 'retry' "
                                            "AND http_status IS NULL AND note LIKE 'paced: the next message to this recipient%131056%'"));
    }

    // Meta answers 190 (token expired) to host 2: hosts 1 and 3 stop sending through the Cloud API
    // too (their messages go to the outbox without a request to Meta), and show it as unhealthy.
    void anExpiredTokenSeenByOneHostStopsTheOthers() {
        PostgresDatabase pg;
        FakeGraphApi fake;
        OutboundHosts cluster(pg, fake, 1000);
        auto db = openDatabase(pg.url());
        {
            // The outbox renders the template it takes over.
            Poco::Data::Session session = db->session();
            session << "INSERT INTO whatsapp_templates (name, language, category, body, status, created_at, updated_at) "
                       "VALUES ('rappel', 'fr', 'utility', 'Bonjour, rappel de votre session.', 'active', 1, 1)",
                Poco::Data::Keywords::now;
        }
        fake.script({GraphReply::metaError(401, 190, "Error validating access token: Session has expired")});
        auto receipt = sendThroughProbe(*cluster.hosts[1], templateSend("expired-1"));
        const std::string first = std::to_string(receipt->getValue<Poco::Int64>("message_id"));
        waitForRows(*db, "SELECT status, provider FROM whatsapp_messages WHERE id = " + first, "queued|outbox");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), fake.sendCount());
        for (int h : {0, 2}) {
            std::string chain;
            for (int i = 0; i < 200; ++i) {
                chain = cluster.hosts[h]->request("GET", "/test/chain").body;
                if (chain.find("\"state\":\"unhealthy\"") != std::string::npos) break;
                std::this_thread::sleep_for(std::chrono::milliseconds(25));
            }
            assertContains(chain, "\"name\":\"cloud_api\"");
            assertContains(chain, "\"state\":\"unhealthy\"");
            receipt = sendThroughProbe(*cluster.hosts[h], templateSend("expired-after-" + std::to_string(h)));
            const std::string id = std::to_string(receipt->getValue<Poco::Int64>("message_id"));
            waitForRows(*db, "SELECT status, provider FROM whatsapp_messages WHERE id = " + id, "queued|outbox");
            // Straight to the outbox: no attempt through the Cloud API on this host.
            CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|unavailable|0|0\noutbox|1|queued|0|0"), attemptRows(*db, std::stoll(id)));
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), fake.sendCount());  // no other host asked Meta again
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_alerts WHERE resolved_at IS NULL"));
    }

    // The race of issue #14 on two connections: a status webhook's transaction stores a status and
    // finds no message with its wamid (the send has not committed it), while the send's transaction
    // stores the wamid and looks for the statuses that came first (the webhook has not committed
    // it). Each would miss the other; sdk::lockWamids makes the second wait for the first.
    void aStatusIsNotLostWhileItsWamidIsStored() {
        using namespace Poco::Data::Keywords;
        PostgresDatabase pg;
        auto db = openDatabase(pg.url());
        host::Migrator(*db, {{"host", TAWASUL_SOURCE_DIR "/migrations"}}).migrate();
        {
            Poco::Data::Session setup = db->session();
            setup << "INSERT INTO whatsapp_contacts (wa_id) VALUES ('213555123456')", now;
            setup << "INSERT INTO whatsapp_conversations (contact_id) SELECT id FROM whatsapp_contacts", now;
            setup << "INSERT INTO whatsapp_messages (conversation_id, direction, status) SELECT id, 'out', 'queued' FROM whatsapp_conversations",
                now;
        }
        sdk::StatusChange delivered;
        delivered.waMessageId = "wamid.RACE";
        delivered.status = "delivered";
        delivered.occurredAt = 1000;

        // The status webhook, as the inbound router writes it: lock, store, apply (nothing to apply yet).
        Poco::Data::Session webhook = db->session();
        webhook.begin();
        sdk::lockWamids(webhook, db->sql(), {"wamid.RACE"});
        webhook << "INSERT INTO whatsapp_message_statuses (wa_message_id, status, occurred_at) VALUES ('wamid.RACE', 'delivered', 1000)", now;
        CPPUNIT_ASSERT(!sdk::applyMessageStatus(webhook, delivered, 2000));

        // The send, as the dispatcher writes it, on another connection: lock, store the wamid, apply
        // the statuses that came first.
        std::thread send([&] {
            Poco::Data::Session session = db->session();
            session.begin();
            sdk::lockWamids(session, db->sql(), {"wamid.RACE"});
            session << "UPDATE whatsapp_messages SET wa_message_id = 'wamid.RACE', status = 'sent' WHERE direction = 'out'", now;
            std::vector<std::string> words;
            session << "SELECT status FROM whatsapp_message_statuses WHERE wa_message_id = 'wamid.RACE'", into(words), now;
            for (const std::string& word : words) {
                sdk::StatusChange change = delivered;
                change.status = word;
                sdk::applyMessageStatus(session, change, 3000);
            }
            session.commit();
        });
        waitUntil([&] { return queryText(*db, "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") == "1"; },
                  "the send waiting for the webhook's lock");
        webhook.commit();
        send.join();
        CPPUNIT_ASSERT_EQUAL(std::string("wamid.RACE|delivered"), queryRows(*db, "SELECT wa_message_id, status FROM whatsapp_messages"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SeveralHostsPostgresTest);
