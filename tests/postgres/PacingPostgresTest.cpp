// cloud_api's pacing on a real PostgreSQL shared by several pacers, as several hosts share it: the
// number's send slots (SharedPacer) and the recipients' pair-rate accounts (PairPacer) live in
// unlogged tables that every host counts in, and a row the server lost (an unlogged table is
// emptied by a crash) is written back rather than read as "no pacing".
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>

#include "PairPacer.hpp"
#include "SharedPacer.hpp"
#include "WebhookSupport.hpp"
#include "db/Migrator.hpp"

using namespace tawasul;
using namespace tawasul::test;
using plugins::cloud_api::PairPacer;
using plugins::cloud_api::PairRule;
using plugins::cloud_api::SharedPacer;

namespace {

std::unique_ptr<host::SqlDatabase> migrated(const PostgresDatabase& pg) {
    auto db = openDatabase(pg.url());
    host::Migrator(*db, {{"host", TAWASUL_SOURCE_DIR "/migrations"}}).migrate();
    return db;
}

// A statement that returns no rows (queryText reads rows); with `into`, its one value.
std::string run(sdk::Database& db, const std::string& sql, bool returning = false) {
    using namespace Poco::Data::Keywords;
    Poco::Data::Session session = db.session();
    std::string value;
    if (returning)
        session << sql, into(value), now;
    else
        session << sql, now;
    return value;
}

}  // namespace

class PacingPostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PacingPostgresTest);
    CPPUNIT_TEST(theSlotTablesAreUnlogged);
    CPPUNIT_TEST(pairAccountsAreSharedByEveryHost);
    CPPUNIT_TEST(aSendSlotIsNeverEarlyAndALostRowIsWrittenBack);
    CPPUNIT_TEST_SUITE_END();

public:
    void theSlotTablesAreUnlogged() {
        PostgresDatabase pg;
        auto db = migrated(pg);
        CPPUNIT_ASSERT_EQUAL(std::string("whatsapp_pair_slots|u\nwhatsapp_send_slots|u"),
                             queryRows(*db, "SELECT relname, relpersistence FROM pg_class WHERE relname IN "
                                            "('whatsapp_send_slots', 'whatsapp_pair_slots') ORDER BY relname"));
    }

    // Two hosts' pacers, a burst of 3 per hour: three messages to one recipient pass whichever
    // host sends them, the fourth waits for what they borrowed (three hours), on either host.
    void pairAccountsAreSharedByEveryHost() {
        PostgresDatabase pg;
        auto one = migrated(pg);
        auto two = openDatabase(pg.url());
        const PairRule rule{3600LL * 1000000, 3};
        PairPacer first(one.get(), rule), second(two.get(), rule);
        const std::string number = "100000000000001", customer = "+213555123456";
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), first.admit(number, customer).count());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), second.admit(number, customer).count());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), first.admit(number, customer).count());
        for (PairPacer* pacer : {&first, &second}) {
            const auto wait = pacer->admit(number, customer);
            CPPUNIT_ASSERT_MESSAGE(std::to_string(wait.count()), wait > std::chrono::minutes(179) && wait <= std::chrono::hours(3));
        }
        // Other recipients, and the same from another number, have their own accounts.
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), second.admit(number, "+213555000111").count());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), second.admit("100000000000002", customer).count());
        CPPUNIT_ASSERT_EQUAL(std::string("3"), queryText(*one, "SELECT COUNT(*) FROM whatsapp_pair_slots"));
        // An emptied table (a crash of the server) forgets the debt: a new burst may start.
        run(*one, "DELETE FROM whatsapp_pair_slots");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), first.admit(number, customer).count());
    }

    // A slot reserved half a second ahead (the row set there as another host's reservations would)
    // is not sent before it comes; with the row gone, the next reservation writes it back.
    void aSendSlotIsNeverEarlyAndALostRowIsWrittenBack() {
        PostgresDatabase pg;
        auto db = migrated(pg);
        SharedPacer pacer(*db, 10);
        pacer.wait("100000000000001");  // the row exists
        const std::string slot = run(*db, "UPDATE whatsapp_send_slots SET next_slot_us = "
                                          "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint + 500000 RETURNING next_slot_us", true);
        pacer.wait("100000000000001");
        // Read on the database's clock after the wait: never before the slot (correctness, not speed).
        CPPUNIT_ASSERT_EQUAL(std::string("true"), queryText(*db, "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint >= " + slot));
        run(*db, "DELETE FROM whatsapp_send_slots");
        pacer.wait("100000000000001");
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_send_slots WHERE next_slot_us > "
                                                              "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PacingPostgresTest);
