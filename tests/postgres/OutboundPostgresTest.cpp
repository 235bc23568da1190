// Outbound on PostgreSQL with two hosts sharing the database and the queue: one idempotency key
// sent from many threads to both hosts is one message, one job and one request to Meta; a text in
// the window is sent and its statuses land; a refused message falls back to the outbox.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <thread>

#include <Poco/Data/Session.h>

#include "OutboundSupport.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;

class OutboundPostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(OutboundPostgresTest);
    CPPUNIT_TEST(idempotentSendsAndFallbackOnTwoHosts);
    CPPUNIT_TEST(aStatusBeforeItsWamidIsAppliedWhenTheSendStoresIt);
    CPPUNIT_TEST_SUITE_END();

public:
    // Meta's status webhook comes before the send's answer stored the wamid: on PostgreSQL the
    // send records its attempt, stores the wamid and reads the early status in one statement
    // (Dispatcher::Kept::storeSent), and the message still moves forward to it.
    void aStatusBeforeItsWamidIsAppliedWhenTheSendStoresIt() {
        PostgresDatabase pg;
        FakeGraphApi fake;
        HostOptions options = outboundHost(fake);
        options.databaseUrl = pg.url();
        options.environment.push_back("TAWASUL_MASTER_KEY=" + std::string(44 - 1, 'A') + "=");
        HostProcess host(options);
        host.start();
        auto db = openDatabase(pg.url());
        const std::string wamid = fake.nextWamid();
        CPPUNIT_ASSERT_EQUAL(200, FakeGraphApi::postStatus(host, wamid, "delivered", nowSeconds()).status);
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryRows(*db, "SELECT COUNT(*) FROM whatsapp_message_statuses WHERE wa_message_id = '" + wamid + "'"));
        const auto receipt = sendThroughProbe(host, "{\"phone\":\"0555 12 34 56\",\"template\":{\"name\":\"rappel\",\"language\":\"fr\"}}");
        const std::string id = std::to_string(receipt->getValue<Poco::Int64>("message_id"));
        waitForRows(*db, "SELECT wa_message_id, status, provider FROM whatsapp_messages WHERE id = " + id, wamid + "|delivered|cloud_api");
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|sent"),
                             queryRows(*db, "SELECT provider, attempt, outcome FROM whatsapp_message_attempts WHERE message_id = " + id));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), fake.sendCount());
    }

    void idempotentSendsAndFallbackOnTwoHosts() {
        PostgresDatabase pg;
        FakeGraphApi fake;
        HostOptions options = outboundHost(fake);
        options.databaseUrl = pg.url();
        options.workerThreads = 4;
        options.environment.push_back("TAWASUL_MASTER_KEY=" + std::string(44 - 1, 'A') + "=");
        HostProcess first(options);
        first.start();
        options.migrate = false;
        options.settings.clear();  // already in the shared database
        HostProcess second(options);
        second.start();
        auto db = openDatabase(pg.url());

        // A double-clicked Send, many times over, on both hosts at once.
        const std::string json = "{\"phone\":\"0555 12 34 56\",\"idempotency_key\":\"pg-click-1\",\"template\":{\"name\":\"rappel\","
                                 "\"language\":\"fr\"}}";
        std::atomic<int> accepted{0}, duplicates{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 16; ++t)
            threads.emplace_back([&, t] {
                const auto receipt = sendThroughProbe(t % 2 ? second : first, json);
                const std::string status = receipt->getValue<std::string>("status");
                (status == "accepted" ? accepted : duplicates)++;
            });
        for (auto& thread : threads) thread.join();
        CPPUNIT_ASSERT_EQUAL(1, accepted.load());
        CPPUNIT_ASSERT_EQUAL(15, duplicates.load());
        waitForRows(*db, "SELECT status, provider FROM whatsapp_messages WHERE idempotency_key = 'pg-click-1'", "sent|cloud_api");
        CPPUNIT_ASSERT_EQUAL(std::string("1|1|1"), queryRows(*db, "SELECT (SELECT COUNT(*) FROM whatsapp_messages), "
                                                                   "(SELECT COUNT(*) FROM jobs WHERE type = 'send_message'), "
                                                                   "(SELECT COUNT(*) FROM whatsapp_contacts)"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), fake.sendCount());

        // A failed message retried by many clicks on both hosts at once (MessageDispatcher::retry):
        // one is queued again, the others find it queued already; it is sent once more.
        {
            Poco::Data::Session session = db->session();
            session << "UPDATE whatsapp_messages SET status = 'failed', error_code = 131026 WHERE idempotency_key = 'pg-click-1'",
                Poco::Data::Keywords::now;
        }
        const std::string failedId = queryRows(*db, "SELECT id FROM whatsapp_messages WHERE idempotency_key = 'pg-click-1'");
        std::atomic<int> retried{0}, already{0};
        std::vector<std::thread> clicks;
        for (int t = 0; t < 8; ++t)
            clicks.emplace_back([&, t] {
                const auto answer = (t % 2 ? second : first).request("POST", "/test/retry/" + failedId);
                (answer.body.find("accepted") != std::string::npos ? retried : already)++;
            });
        for (auto& click : clicks) click.join();
        CPPUNIT_ASSERT_EQUAL(1, retried.load());
        CPPUNIT_ASSERT_EQUAL(7, already.load());
        waitForRows(*db, "SELECT status, COALESCE(error_code, 0) FROM whatsapp_messages WHERE id = " + failedId, "sent|0");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), fake.sendCount());
        CPPUNIT_ASSERT_EQUAL(std::string("{\"status\":\"invalid\"}"), first.request("POST", "/test/retry/999999").body);

        // Text inside the window, then its delivery status.
        const std::int64_t conversation = customerWrites(first, *db, "wamid.PGIN");
        auto receipt = sendThroughProbe(second, "{\"conversation_id\":" + std::to_string(conversation) + ",\"text\":\"Merci !\"}");
        const std::int64_t textId = receipt->getValue<Poco::Int64>("message_id");
        waitForRows(*db, "SELECT status FROM whatsapp_messages WHERE id = " + std::to_string(textId), "sent");
        CPPUNIT_ASSERT_EQUAL(200, FakeGraphApi::postStatus(first, fake.wamids().at(2), "delivered", nowSeconds()).status);
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(std::string("delivered"), queryText(*db, "SELECT status FROM whatsapp_messages WHERE id = " + std::to_string(textId)));

        // Refused by Meta (131047): the outbox takes it, on PostgreSQL too.
        fake.script({GraphReply::metaError(400, 131047, "(#131047) Re-engagement message")});
        receipt = sendThroughProbe(first, "{\"conversation_id\":" + std::to_string(conversation) + ",\"text\":\"À bientôt\"}");
        const std::int64_t fallbackId = receipt->getValue<Poco::Int64>("message_id");
        waitForRows(*db, "SELECT status, provider FROM whatsapp_messages WHERE id = " + std::to_string(fallbackId), "queued|outbox");
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|refused|400|131047\noutbox|1|queued|0|0"), attemptRows(*db, fallbackId));
        CPPUNIT_ASSERT_EQUAL(std::string("https://wa.me/213555123456?text=%C3%80%20bient%C3%B4t"),
                             queryText(*db, "SELECT wa_me_link FROM whatsapp_outbox_messages WHERE message_id = " + std::to_string(fallbackId)));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(OutboundPostgresTest);
