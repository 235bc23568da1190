// Inbound processing on PostgreSQL with several hosts sharing the database and the queue: concurrent
// senders posted to all of them never produce a duplicate contact, conversation or message.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <Poco/Data/Session.h>

#include "ContactMergeCheck.hpp"
#include "HostProcess.hpp"
#include "KnownLeadCheck.hpp"
#include "TimelineCorpus.hpp"
#include "whatsapp/MetaPayloads.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;

class InboundPostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(InboundPostgresTest);
    CPPUNIT_TEST(threeHostsConcurrentSendersNoDuplicates);
    CPPUNIT_TEST(corpusTimelineIsTheSameAsOnSqlite);
    CPPUNIT_TEST(aKnownLeadAskingAgainIsLinkedNotDuplicated);
    CPPUNIT_TEST(contactsSeenByPhoneAndByBsuidAreMerged);
    CPPUNIT_TEST(twoHostsMergingTheSameContactsNoDeadlockNoDuplicate);
    CPPUNIT_TEST(twoHostsMixedFloodNoDeadlockNoDuplicateNoFailure);
    CPPUNIT_TEST_SUITE_END();

public:
    void corpusTimelineIsTheSameAsOnSqlite();

    // Issue #15 on PostgreSQL: the lead's row read and locked, its notes appended, the conversation linked.
    void aKnownLeadAskingAgainIsLinkedNotDuplicated() {
        PostgresDatabase pg;
        HostOptions options;
        options.databaseUrl = pg.url();
        checkAKnownLeadAsksAgain(options);
    }
    void twoHostsMixedFloodNoDeadlockNoDuplicateNoFailure();
    void twoHostsMergingTheSameContactsNoDeadlockNoDuplicate();

    // The contact merges on PostgreSQL: rows locked contacts, conversations, then messages.
    void contactsSeenByPhoneAndByBsuidAreMerged() {
        PostgresDatabase pg;
        HostOptions options;
        options.databaseUrl = pg.url();
        checkContactMerges(options);
    }

    // Issue #14: 200 new senders x 5 messages, each sender's messages spread over three hosts
    // (eight clients, each posting to one host), all processing at once.
    void threeHostsConcurrentSendersNoDuplicates() {
        PostgresDatabase pg;
        HostOptions options;
        options.databaseUrl = pg.url();
        options.workerThreads = 3;
        // Every host needs the same master key to open the shared secrets.
        options.environment.push_back("TAWASUL_MASTER_KEY=" + std::string(44 - 1, 'A') + "=");
        HostProcess first(withWebhookSecrets(options));
        first.start();
        options.migrate = false;
        HostProcess second(options);  // the secrets are already in the shared database
        second.start();
        HostProcess third(options);
        third.start();
        auto db = openDatabase(pg.url());

        // The fixtures first: the same timeline rules on PostgreSQL.
        for (const std::string& name : fixtureNames())
            CPPUNIT_ASSERT_EQUAL(200, postWebhook(second, fixture(name), fixtureSignature(name)).status);

        CPPUNIT_ASSERT_EQUAL(0, postConcurrentSenders({&first, &second, &third}, 200, 5, "wamid.PG"));
        try {
            waitForProcessing(*db);
        } catch (const std::exception& error) {
            CPPUNIT_FAIL(std::string(error.what()) + ": " +
                         queryRows(*db, "SELECT status, attempts, last_error FROM whatsapp_webhook_events "
                                        "WHERE status <> 'processed' ORDER BY id LIMIT 5"));
        }
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status <> 'processed'"));
        CPPUNIT_ASSERT_EQUAL(std::string("1000"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_messages WHERE wa_message_id LIKE 'wamid.PG%'"));
        CPPUNIT_ASSERT_EQUAL(std::string("204"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_conversations WHERE status = 'open'"));
        CPPUNIT_ASSERT_EQUAL(std::string("204"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_contacts"));
        CPPUNIT_ASSERT_EQUAL(std::string("204"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_conversations"));
        // Each sender's five messages in one conversation of its one contact.
        CPPUNIT_ASSERT_EQUAL(std::string("200"), queryText(*db, "SELECT COUNT(*) FROM (SELECT conversation_id FROM whatsapp_messages "
                                                                "WHERE wa_message_id LIKE 'wamid.PG%' GROUP BY conversation_id "
                                                                "HAVING COUNT(*) = 5) AS five"));
        CPPUNIT_ASSERT_EQUAL(queryText(*db, "SELECT COUNT(DISTINCT conversation_id) FROM whatsapp_messages WHERE body IN ('un devis svp', 'devis') "
                                            "OR body LIKE '%شركة%'"),
                             queryText(*db, "SELECT COUNT(*) FROM b2b_leads"));
        CPPUNIT_ASSERT_EQUAL(std::string("4"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_message_statuses"));
    }
};

namespace {

// How many times the test server's log says a deadlock was detected (it is shared by the suite).
int deadlocksInServerLog() {
    const char* dir = std::getenv("TAWASUL_TEST_PG_DIR");
    if (!dir) return 0;  // a server given by TAWASUL_TEST_PG_URL: its log is not ours to read
    std::ifstream log(std::string(dir) + "/server.log");
    int count = 0;
    for (std::string line; std::getline(log, line);)
        if (line.find("deadlock detected") != std::string::npos) ++count;
    return count;
}

}  // namespace

void InboundPostgresTest::corpusTimelineIsTheSameAsOnSqlite() {
    PostgresDatabase pg;
    HostOptions options;
    options.databaseUrl = pg.url();
    const std::string dump = processTimelineCorpus(options);
    try {
        checkTimelineCorpus(dump, ExpectedFile::CompareOnly);  // the oracle is SQLite's
    } catch (const std::exception& error) {
        CPPUNIT_FAIL(error.what());
    }
}

// Two hosts share one database and one queue and are posted the same flood at once: every
// message twice (Meta delivering to both), 300 new senders and 20 who write again and again, and
// statuses of outbound messages in every order. Their batches meet on the same contacts,
// conversations, wamids and outbound messages.
void InboundPostgresTest::twoHostsMixedFloodNoDeadlockNoDuplicateNoFailure() {
    const int deadlocksBefore = deadlocksInServerLog();
    PostgresDatabase pg;
    HostOptions options;
    options.databaseUrl = pg.url();
    options.workerThreads = 4;
    options.environment.push_back("TAWASUL_MASTER_KEY=" + std::string(44 - 1, 'A') + "=");
    HostProcess first(withWebhookSecrets(options));
    first.start();
    options.migrate = false;
    HostProcess second(options);
    second.start();
    auto db = openDatabase(pg.url());
    {
        Poco::Data::Session session = db->session();
        using Poco::Data::Keywords::now;
        session << "INSERT INTO whatsapp_contacts (phone_number_id, wa_id, created_at, updated_at) VALUES ('100000000000001', '213550000000', 1, 1)", now;
        session << "INSERT INTO whatsapp_conversations (contact_id, status, last_message_at, unread_count, created_at, updated_at) "
                   "SELECT id, 'open', 1, 0, 1, 1 FROM whatsapp_contacts",
            now;
        session << "INSERT INTO whatsapp_messages (conversation_id, direction, wa_message_id, type, body, status, created_at, updated_at) "
                   "SELECT c.id, 'out', 'wamid.OUT' || g, 'text', 'sent', 'sent', 1, 1 FROM whatsapp_conversations c, generate_series(0, 99) g",
            now;
    }
    std::vector<std::string> bodies;
    for (int i = 0; i < 600; ++i) {
        host::InboundText message;
        const bool repeat = i % 2 == 0;
        message.from = repeat ? "2135600000" + std::to_string(10 + (i / 2) % 20) : "21377" + std::to_string(1000000 + i);
        message.name = "Sender " + message.from + (i % 3 ? "" : " bis");
        message.wamid = "wamid.FLOOD" + std::to_string(i);
        message.timestamp = 1764065000 + i;
        message.text = i % 7 == 0 ? "un devis svp" : "message " + std::to_string(i);
        bodies.push_back(host::inboundTextBody(message));
        if (i % 6 == 0) {
            const int k = i / 6;
            const char* words[] = {"read", "sent", "delivered"};  // out of order on purpose
            for (int w = 0; w < 3; ++w) {
                host::StatusUpdate update;
                update.wamid = "wamid.OUT" + std::to_string(k);
                update.status = words[w];
                update.recipientId = "213550000000";
                update.timestamp = 1764065000 + i + w;
                bodies.push_back(host::statusBody(update));
            }
        }
    }
    std::atomic<int> refused{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
        clients.emplace_back([&, c] {
            // Every body to both hosts, the two deliveries close together.
            for (std::size_t i = static_cast<std::size_t>(c); i < bodies.size(); i += 8) {
                const HostProcess& one = c % 2 ? first : second;
                const HostProcess& other = c % 2 ? second : first;
                if (postSigned(one, bodies[i]).status != 200) ++refused;
                if (postSigned(other, bodies[i]).status != 200) ++refused;
            }
        });
    }
    for (auto& client : clients) client.join();
    CPPUNIT_ASSERT_EQUAL(0, refused.load());
    waitForProcessing(*db);
    CPPUNIT_ASSERT_EQUAL(std::string(""), queryRows(*db, "SELECT id, status, attempts, last_error FROM whatsapp_webhook_events "
                                                         "WHERE status <> 'processed' OR attempts > 1 ORDER BY id LIMIT 5"));
    CPPUNIT_ASSERT_EQUAL(std::to_string(bodies.size() * 2), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
    CPPUNIT_ASSERT_EQUAL(std::string("600"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'in'"));
    CPPUNIT_ASSERT_EQUAL(std::string("321"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_contacts"));
    CPPUNIT_ASSERT_EQUAL(std::string("321"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_conversations WHERE status = 'open'"));
    // Each conversation's unread count is its number of inbound messages: none counted twice.
    CPPUNIT_ASSERT_EQUAL(std::string("0"),
                         queryText(*db, "SELECT COUNT(*) FROM whatsapp_conversations c WHERE unread_count <> "
                                        "(SELECT COUNT(*) FROM whatsapp_messages m WHERE m.conversation_id = c.id AND m.direction = 'in')"));
    // One lead per conversation that asked for a quote.
    CPPUNIT_ASSERT_EQUAL(queryText(*db, "SELECT COUNT(DISTINCT conversation_id) FROM whatsapp_messages WHERE body = 'un devis svp'"),
                         queryText(*db, "SELECT COUNT(*) FROM b2b_leads"));
    CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_conversations c WHERE b2b_lead_id IS NULL AND "
                                                          "EXISTS (SELECT 1 FROM whatsapp_messages m WHERE m.conversation_id = c.id AND m.body = 'un devis svp')"));
    // Statuses stored once each; every message that was read, whatever the order, is read.
    CPPUNIT_ASSERT_EQUAL(std::string("300"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_message_statuses"));
    CPPUNIT_ASSERT_EQUAL(std::string("100"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'out' AND status = 'read'"));
    CPPUNIT_ASSERT_EQUAL(deadlocksBefore, deadlocksInServerLog());
}

// 60 people each known as two contacts (one by phone, one by BSUID, each with an open conversation
// and the phone's with an outbound message), then a flood posted to two hosts at once, every body
// twice: a message naming both ids, statuses of the outbound message naming both, and more
// messages by one id or the other. Batches on both hosts merge the same pairs while others write
// to them: the locks (contacts, conversations, then messages) are taken in one order, so none
// deadlocks, none fails, and each person ends as one contact with one conversation.
void InboundPostgresTest::twoHostsMergingTheSameContactsNoDeadlockNoDuplicate() {
    const int deadlocksBefore = deadlocksInServerLog();
    PostgresDatabase pg;
    HostOptions options;
    options.databaseUrl = pg.url();
    options.workerThreads = 4;
    options.environment.push_back("TAWASUL_MASTER_KEY=" + std::string(44 - 1, 'A') + "=");
    HostProcess first(withWebhookSecrets(options));
    first.start();
    options.migrate = false;
    HostProcess second(options);
    second.start();
    auto db = openDatabase(pg.url());
    const int people = 60;
    const auto phone = [](int i) { return "2136610" + std::to_string(10000 + i); };
    const auto bsuid = [](int i) { return "DZ.5550" + std::to_string(100000 + i); };
    std::int64_t clock = 1764065000;
    const auto text = [&](int i, const std::string& wamid, bool byPhone, bool byBsuid) {
        host::InboundText message;
        if (byPhone) message.from = phone(i);
        if (byBsuid) {
            message.userId = bsuid(i);
            message.username = "user" + std::to_string(i);
        }
        message.name = "Person " + std::to_string(i);
        message.wamid = wamid;
        message.timestamp = ++clock;
        message.text = "message " + wamid;
        return host::inboundTextBody(message);
    };
    // Apart first: two contacts per person.
    for (int i = 0; i < people; ++i) {
        CPPUNIT_ASSERT_EQUAL(200, postSigned(first, text(i, "wamid.APHONE" + std::to_string(i), true, false)).status);
        CPPUNIT_ASSERT_EQUAL(200, postSigned(second, text(i, "wamid.ABSUID" + std::to_string(i), false, true)).status);
    }
    waitForProcessing(*db);
    CPPUNIT_ASSERT_EQUAL(std::to_string(2 * people), queryText(*db, "SELECT COUNT(*) FROM whatsapp_contacts"));
    {
        Poco::Data::Session session = db->session();
        using Poco::Data::Keywords::now;
        session << "INSERT INTO whatsapp_messages (conversation_id, direction, wa_message_id, type, body, status, created_at, updated_at) "
                   "SELECT v.id, 'out', 'wamid.MOUT' || k.wa_id, 'text', 'sent', 'sent', 1, 1 FROM whatsapp_conversations v "
                   "JOIN whatsapp_contacts k ON k.id = v.contact_id WHERE k.wa_id IS NOT NULL",
            now;
    }
    std::vector<std::string> bodies;
    for (int i = 0; i < people; ++i) {
        const std::string n = std::to_string(i);
        bodies.push_back(text(i, "wamid.BOTH" + n, true, true));
        for (const char* word : {"read", "delivered"}) {  // read first on purpose
            host::StatusUpdate update;
            update.wamid = "wamid.MOUT" + phone(i);
            update.status = word;
            update.recipientId = phone(i);
            update.recipientUserId = bsuid(i);
            update.timestamp = ++clock;
            bodies.push_back(host::statusBody(update));
        }
        bodies.push_back(text(i, "wamid.LPHONE" + n, true, false));
        bodies.push_back(text(i, "wamid.LBSUID" + n, false, true));
    }
    std::atomic<int> refused{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
        clients.emplace_back([&, c] {
            for (std::size_t i = static_cast<std::size_t>(c); i < bodies.size(); i += 8) {
                const HostProcess& one = c % 2 ? first : second;
                const HostProcess& other = c % 2 ? second : first;
                if (postSigned(one, bodies[i]).status != 200) ++refused;
                if (postSigned(other, bodies[i]).status != 200) ++refused;
            }
        });
    }
    for (auto& client : clients) client.join();
    CPPUNIT_ASSERT_EQUAL(0, refused.load());
    waitForProcessing(*db);
    CPPUNIT_ASSERT_EQUAL(std::string(""), queryRows(*db, "SELECT id, status, attempts, last_error FROM whatsapp_webhook_events "
                                                         "WHERE status <> 'processed' OR attempts > 1 ORDER BY id LIMIT 5"));
    CPPUNIT_ASSERT_EQUAL(std::to_string(people), queryText(*db, "SELECT COUNT(*) FROM whatsapp_contacts WHERE wa_id IS NOT NULL AND "
                                                                "user_id IS NOT NULL AND username IS NOT NULL"));
    CPPUNIT_ASSERT_EQUAL(std::to_string(people), queryText(*db, "SELECT COUNT(*) FROM whatsapp_contacts"));
    CPPUNIT_ASSERT_EQUAL(std::to_string(people), queryText(*db, "SELECT COUNT(*) FROM whatsapp_conversations WHERE status = 'open'"));
    CPPUNIT_ASSERT_EQUAL(std::to_string(people), queryText(*db, "SELECT COUNT(*) FROM whatsapp_conversations"));
    CPPUNIT_ASSERT_EQUAL(std::to_string(5 * people), queryText(*db, "SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'in'"));
    // Every conversation holds its person's five inbound messages, each counted unread once.
    CPPUNIT_ASSERT_EQUAL(std::string("0"),
                         queryText(*db, "SELECT COUNT(*) FROM whatsapp_conversations c WHERE unread_count <> 5 OR 5 <> "
                                        "(SELECT COUNT(*) FROM whatsapp_messages m WHERE m.conversation_id = c.id AND m.direction = 'in')"));
    CPPUNIT_ASSERT_EQUAL(std::to_string(people), queryText(*db, "SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'out' AND status = 'read'"));
    CPPUNIT_ASSERT_EQUAL(std::to_string(2 * people), queryText(*db, "SELECT COUNT(*) FROM whatsapp_message_statuses WHERE recipient_user_id IS NOT NULL"));
    CPPUNIT_ASSERT_EQUAL(deadlocksBefore, deadlocksInServerLog());
}

CPPUNIT_TEST_SUITE_REGISTRATION(InboundPostgresTest);
