// sdk::PreparedSession on SQLite: the checks shared with PostgreSQL (PreparedSessionChecks), and the
// webhook writer's path: bytes bound as they are, jobs of a batch in one statement (PostgresTest
// runs the same two on PostgreSQL).
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>

#include "PreparedSessionChecks.hpp"
#include "TestSupport.hpp"
#include "WebhookSupport.hpp"
#include "app/Runtime.hpp"
#include "db/Migrator.hpp"
#include "db/SqlDatabase.hpp"
#include "jobs/JobRunner.hpp"
#include "tawasul/sdk/PreparedSession.hpp"

using namespace tawasul;
using namespace Poco::Data::Keywords;
using tawasul::test::TempDir;

class PreparedSessionTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PreparedSessionTest);
    CPPUNIT_TEST(sqlite);
    CPPUNIT_TEST(aBlobKeepsEveryByteAndEmptyIsNotNull);
    CPPUNIT_TEST(enqueueAllWritesTheBatchInOrder);
    CPPUNIT_TEST(requestsWroteWithinSeesOnlyFullDurabilityWrites);
    CPPUNIT_TEST_SUITE_END();

public:
    void sqlite() {
        test::TempDir dir;
        host::DatabaseOptions options;
        options.url = "sqlite:" + dir.file("prepared.db");
        host::SqlDatabase database(options);
        test::checkPreparedSession(database);
    }

    // What a background writer asks before it sizes its share of SQLite's one writer: a Relaxed
    // write (its own kind) is no request; a Full one is, for the window asked.
    void requestsWroteWithinSeesOnlyFullDurabilityWrites() {
        host::DatabaseOptions options;
        options.url = "sqlite:" + dir_->file("db.sqlite");
        host::SqlDatabase database(options);  // a host that has not written yet (the migrations wrote through db_)
        int written = 0;
        const auto write = [&](sdk::Durability durability) {
            Poco::Data::Session session = database.session();
            sdk::Transaction transaction(database, session, durability);
            const std::string key = "k" + std::to_string(++written);
            session << "INSERT INTO site_settings (key, value) VALUES ($1, 'v')", bind(key), now;
            transaction.commit();
        };
        CPPUNIT_ASSERT(!database.requestsWroteWithin(std::chrono::hours(1)));
        write(sdk::Durability::Relaxed);
        CPPUNIT_ASSERT(!database.requestsWroteWithin(std::chrono::hours(1)));
        write(sdk::Durability::Full);
        CPPUNIT_ASSERT(database.requestsWroteWithin(std::chrono::hours(1)));
        CPPUNIT_ASSERT(!database.requestsWroteWithin(std::chrono::milliseconds(0)));
        CPPUNIT_ASSERT_EQUAL(std::string("2"), test::queryText(database, "SELECT COUNT(*) FROM site_settings WHERE value = 'v'"));
    }

    void setUp() override {
        dir_ = std::make_unique<TempDir>();
        host::DatabaseOptions options;
        options.url = "sqlite:" + dir_->file("db.sqlite");
        db_ = std::make_unique<host::SqlDatabase>(options);
        host::Migrator(*db_, {{"host", TAWASUL_SOURCE_DIR "/migrations"}}).migrate();
    }
    void tearDown() override {
        db_.reset();
        dir_.reset();
    }

    void aBlobKeepsEveryByteAndEmptyIsNotNull() {
        const std::string bytes("a\0b\xff\xfe\"\\\n", 8);  // a NUL, bytes that are not UTF-8, JSON's specials
        const std::string empty;
        std::vector<Poco::Int64> ids;
        {
            sdk::PreparedSession prepared(db_->session(), db_->sql());
            const std::string sql = "INSERT INTO whatsapp_webhook_events (received_at, signature, payload, status, attempts) "
                                    "VALUES ($1, $2, $3, 'pending', 0) RETURNING id";
            const std::string signature = "sha256=x";
            for (const std::string* payload : {&bytes, &empty, &bytes})  // the third runs the statement prepared by the first
                prepared.run(sql, {Poco::Int64(1), signature, sdk::SqlParam::blob(*payload)},
                             [&](const sdk::SqlRow& row) { ids.push_back(row.integer(0)); });
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), ids.size());
        CPPUNIT_ASSERT_EQUAL(bytes, payload(ids[0]));
        CPPUNIT_ASSERT_EQUAL(bytes, payload(ids[2]));
        Poco::Data::Session session = db_->session();
        int emptyBlobs = 0;
        session << "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE id = $1 AND payload IS NOT NULL AND typeof(payload) = 'blob' "
                   "AND length(payload) = 0",
            use(ids[1]), into(emptyBlobs), now;
        CPPUNIT_ASSERT_EQUAL(1, emptyBlobs);
    }

    void enqueueAllWritesTheBatchInOrder() {
        host::SystemClock clock;
        host::MetricsRegistry metrics;
        host::JobRunner queue(*db_, clock, metrics, {});
        std::vector<sdk::NewJob> jobs;
        for (int i = 0; i < 300; ++i) jobs.push_back({"echo", "{\"n\":" + std::to_string(i) + "}", {}});
        jobs[7].options.maxAttempts = 5;
        jobs[8].options.delay = std::chrono::hours(1);
        jobs[9].options.refTable = "whatsapp_webhook_events";
        jobs[9].options.refId = 42;
        for (int round = 0; round < 2; ++round) {  // the second round runs the statement prepared by the first
            sdk::PreparedSession prepared(db_->reservedSession(), db_->sql());
            sdk::Transaction transaction(*db_, prepared.session());
            queue.enqueueAll(prepared, jobs);
            transaction.commit();
        }
        Poco::Data::Session session = db_->session();
        int total = 0, inOrder = 0, five = 0, later = 0, tracked = 0, plain = 0;
        session << "SELECT COUNT(*) FROM jobs WHERE type = 'echo' AND status = 'pending' AND attempts = 0 AND created_at = updated_at",
            into(total), now;
        // Ids follow the batch: the n of each payload rises with its id within a round.
        session << "SELECT COUNT(*) FROM jobs a JOIN jobs b ON b.id = a.id + 1 WHERE "
                   "CAST(json_extract(b.payload, '$.n') AS INTEGER) = CAST(json_extract(a.payload, '$.n') AS INTEGER) + 1",
            into(inOrder), now;
        session << "SELECT COUNT(*) FROM jobs WHERE payload = '{\"n\":7}' AND max_attempts = 5", into(five), now;
        session << "SELECT COUNT(*) FROM jobs WHERE payload = '{\"n\":8}' AND run_at >= created_at + 3600000", into(later), now;
        session << "SELECT COUNT(*) FROM jobs WHERE payload = '{\"n\":9}' AND ref_table = 'whatsapp_webhook_events' AND ref_id = 42",
            into(tracked), now;
        session << "SELECT COUNT(*) FROM jobs WHERE ref_table IS NULL AND ref_id IS NULL", into(plain), now;
        CPPUNIT_ASSERT_EQUAL(600, total);
        CPPUNIT_ASSERT_EQUAL(2 * 299, inOrder);
        CPPUNIT_ASSERT_EQUAL(2, five);
        CPPUNIT_ASSERT_EQUAL(2, later);
        CPPUNIT_ASSERT_EQUAL(2, tracked);
        CPPUNIT_ASSERT_EQUAL(598, plain);
    }

private:
    std::string payload(Poco::Int64 id) {
        Poco::Data::Session session = db_->session();
        Poco::Data::BLOB blob;
        session << "SELECT payload FROM whatsapp_webhook_events WHERE id = $1", use(id), into(blob), now;
        return std::string(reinterpret_cast<const char*>(blob.rawContent()), blob.size());
    }

    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<host::SqlDatabase> db_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(PreparedSessionTest);
