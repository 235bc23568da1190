// Inbound processing on PostgreSQL with two hosts sharing the database and the queue: concurrent
// senders posted to both never produce a duplicate contact, conversation or message.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <thread>

#include "HostProcess.hpp"
#include "whatsapp/MetaPayloads.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;

class InboundPostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(InboundPostgresTest);
    CPPUNIT_TEST(twoHostsConcurrentSendersNoDuplicates);
    CPPUNIT_TEST_SUITE_END();

public:
    void twoHostsConcurrentSendersNoDuplicates() {
        PostgresDatabase pg;
        HostOptions options;
        options.databaseUrl = pg.url();
        options.workerThreads = 4;
        // Both hosts need the same master key to open the shared secrets.
        options.environment.push_back("TAWASUL_MASTER_KEY=" + std::string(44 - 1, 'A') + "=");
        HostProcess first(withWebhookSecrets(options));
        first.start();
        options.migrate = false;
        HostProcess second(options);  // the secrets are already in the shared database
        second.start();
        auto db = openDatabase(pg.url());

        // The fixtures first: the same timeline rules on PostgreSQL.
        for (const std::string& name : fixtureNames())
            CPPUNIT_ASSERT_EQUAL(200, postWebhook(second, fixture(name), fixtureSignature(name)).status);

        CPPUNIT_ASSERT_EQUAL(0, postConcurrentSenders({&first, &second}, 200, 5, "wamid.PG"));
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
        CPPUNIT_ASSERT_EQUAL(queryText(*db, "SELECT COUNT(DISTINCT conversation_id) FROM whatsapp_messages WHERE body IN ('un devis svp', 'devis') "
                                            "OR body LIKE '%شركة%'"),
                             queryText(*db, "SELECT COUNT(*) FROM b2b_leads"));
        CPPUNIT_ASSERT_EQUAL(std::string("4"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_message_statuses"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(InboundPostgresTest);
