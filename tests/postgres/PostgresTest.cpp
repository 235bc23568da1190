// The same host code against a real PostgreSQL server, started by ctest for the `postgres` label.
#include <set>
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <Poco/Data/Session.h>

#include "jobs/JobRunner.hpp"
#include "tawasul/sdk/PreparedSession.hpp"
#include "db/Migrator.hpp"
#include "app/Runtime.hpp"
#include "secrets/SettingsStore.hpp"
#include "db/SqlDatabase.hpp"
#include "EventQueueMigrationCheck.hpp"
#include "PreparedSessionChecks.hpp"
#include "tawasul/sdk/PreparedSession.hpp"
#include "PreviousRelease.hpp"
#include "TestSupport.hpp"
#include "WebhookSupport.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

using namespace tawasul;
using namespace Poco::Data::Keywords;

namespace {

std::unique_ptr<host::SqlDatabase> connect(const std::string& url) {
    host::DatabaseOptions options;
    options.url = url;
    options.maxSessions = 16;
    return std::make_unique<host::SqlDatabase>(options);
}

int countRows(sdk::Database& db, const std::string& sql) {
    Poco::Data::Session session = db.session();
    Poco::Int64 count = 0;
    session << sql, into(count), now;
    return static_cast<int>(count);
}

// The schema as PostgreSQL describes it: columns (types, defaults, identity), indexes, constraints.
std::string postgresSchema(sdk::Database& db) {
    return test::queryRows(db,
                           "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT), CAST(ordinal_position AS TEXT), CAST(data_type AS TEXT), "
                           "CAST(is_nullable AS TEXT), CAST(column_default AS TEXT), CAST(is_identity AS TEXT), CAST(identity_generation AS TEXT) "
                           "FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> 'schema_migrations' "
                           "ORDER BY table_name, ordinal_position") +
           "\n" +
           test::queryRows(db, "SELECT CAST(indexname AS TEXT), indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                               "AND tablename <> 'schema_migrations' ORDER BY indexname") +
           "\n" +
           test::queryRows(db, "SELECT CAST(conrelid::regclass AS TEXT), CAST(conname AS TEXT), pg_get_constraintdef(oid) FROM pg_constraint "
                               "WHERE connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND conrelid <> CAST('schema_migrations' AS regclass) "
                               "ORDER BY 1, 2");
}

}  // namespace

class PostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PostgresTest);
    CPPUNIT_TEST(migrationsApplyOnceAndRefuseEdits);
    CPPUNIT_TEST(aDatabaseOfThePreviousReleasePassesUnchanged);
    CPPUNIT_TEST(twoHostsDrainOneQueueWithoutHandlingAJobTwice);
    CPPUNIT_TEST(twoHostsDrainTheStoredEventsWithoutHandlingOneTwice);
    CPPUNIT_TEST(theEventQueueMigrationTurnsPendingProcessJobsIntoPendingEvents);
    CPPUNIT_TEST(enqueueAllNumbersEveryStatementsParameters);
    CPPUNIT_TEST(rowsPickedByAListOrAClaimAreReadThroughTheIndex);
    CPPUNIT_TEST(preparedSessionsRoundTripAndNameTheirErrors);
    CPPUNIT_TEST(aPreparedSessionKeepsBytesAndEnqueuesABatch);
    CPPUNIT_TEST(settingsAreSealedAndShared);
    CPPUNIT_TEST_SUITE_END();

public:
    void migrationsApplyOnceAndRefuseEdits() {
        test::PostgresDatabase pg;
        auto db = connect(pg.url());
        CPPUNIT_ASSERT(db->sql() == sdk::SqlDialect::postgresql());
        CPPUNIT_ASSERT(db->displayUrl().find("***") != std::string::npos);  // the password is masked
        test::TempDir dir;
        std::filesystem::copy(TAWASUL_SOURCE_DIR "/migrations", dir.file("m"));
        host::Migrator migrator(*db, {{"host", dir.file("m")}});
        const auto applied = migrator.migrate();
        CPPUNIT_ASSERT(applied.size() >= 5);
        for (const auto& file : applied)
            CPPUNIT_ASSERT_MESSAGE(file.path.string(), file.path.string().find(".sqlite.") == std::string::npos);
        CPPUNIT_ASSERT(migrator.migrate().empty());
        CPPUNIT_ASSERT_EQUAL(static_cast<int>(applied.size()), countRows(*db, "SELECT COUNT(*) FROM schema_migrations"));
        CPPUNIT_ASSERT_EQUAL(3, countRows(*db, "SELECT COUNT(*) FROM roles"));
        // Editing an applied file is refused.
        const std::string first = applied.front().path.string();
        test::writeFile(first, test::readFile(first) + "\n-- edited\n");
        CPPUNIT_ASSERT_THROW(migrator.migrate(), host::MigrationError);
    }

    void aDatabaseOfThePreviousReleasePassesUnchanged() {
        test::PostgresDatabase pg;
        auto db = connect(pg.url());
        CPPUNIT_ASSERT(host::Migrator(*db, test::previousReleaseMigrations()).migrate().size() >= 13);
        const std::string before = postgresSchema(*db);
        CPPUNIT_ASSERT(before.find("whatsapp_webhook_events|payload|4|bytea|NO") != std::string::npos);

        std::set<std::pair<std::string, std::int64_t>> released;
        for (const auto& source : test::previousReleaseMigrations())
            for (const auto& file : host::Migrator::discover(source, sdk::SqlDialect::postgresql())) released.insert({file.owner, file.version});
        host::Migrator migrator(*db, test::currentMigrations());
        int former = 0;
        std::size_t newer = 0;
        for (const auto& s : migrator.status()) {
            const bool old = released.count({s.file.owner, s.file.version}) > 0;
            CPPUNIT_ASSERT_MESSAGE(s.file.owner + "/" + std::to_string(s.file.version),
                                   s.state == (old ? host::MigrationStatus::State::Applied : host::MigrationStatus::State::Pending));
            former += s.recordedUnderFormerChecksum;
            newer += old ? 0 : 1;
        }
        CPPUNIT_ASSERT(former >= 10);
        CPPUNIT_ASSERT_EQUAL(newer, migrator.migrate().size());
        CPPUNIT_ASSERT(migrator.migrate().empty());
        for (const auto& s : migrator.status())
            CPPUNIT_ASSERT(s.state == host::MigrationStatus::State::Applied && !s.recordedUnderFormerChecksum);
        if (newer == 0) CPPUNIT_ASSERT_EQUAL(before, postgresSchema(*db));

        // A new database gets the very same schema from the current files.
        test::PostgresDatabase freshPg;
        auto fresh = connect(freshPg.url());
        host::Migrator(*fresh, test::currentMigrations()).migrate();
        CPPUNIT_ASSERT_EQUAL(postgresSchema(*db), postgresSchema(*fresh));

        // An edit is still refused after the upgrade.
        test::TempDir dir;
        std::filesystem::copy(TAWASUL_SOURCE_DIR "/migrations", dir.file("m"));
        test::writeFile(dir.file("m/0001_core.sql"), test::readFile(dir.file("m/0001_core.sql")) + "\n-- edited\n");
        CPPUNIT_ASSERT_THROW(host::Migrator(*db, {{"host", dir.file("m")}}).migrate(), host::MigrationError);
    }

    void twoHostsDrainOneQueueWithoutHandlingAJobTwice() { drainWithTwoHosts(false); }

    // Migration 0019 on PostgreSQL, as MigratorTest checks it on SQLite.
    void theEventQueueMigrationTurnsPendingProcessJobsIntoPendingEvents() {
        test::PostgresDatabase pg;
        auto db = connect(pg.url());
        test::checkTheEventQueueMigration(*db, "'\\x7b7d'");
    }

    // Issue #13: the stored events are claimed from whatsapp_webhook_events itself, with
    // FOR UPDATE SKIP LOCKED as jobs are; in batches, as the router takes them.
    void twoHostsDrainTheStoredEventsWithoutHandlingOneTwice() { drainWithTwoHosts(true); }

    void drainWithTwoHosts(bool events) {
        test::PostgresDatabase pg;
        auto setup = connect(pg.url());
        host::Migrator(*setup, {{"host", TAWASUL_SOURCE_DIR "/migrations"}}).migrate();

        constexpr int kJobs = 400;
        std::mutex mutex;
        std::map<std::int64_t, int> runs;
        std::map<std::int64_t, std::string> runBy;
        std::atomic<int> inFlightDuplicates{0};
        std::map<std::int64_t, bool> running;
        std::atomic<int> total{0};
        host::SystemClock clock;
        host::MetricsRegistry metricsA, metricsB;
        auto dbA = connect(pg.url());
        auto dbB = connect(pg.url());
        auto makeQueue = [&](sdk::Database& db, host::MetricsRegistry& metrics, const std::string& name) {
            host::JobRunnerOptions options;
            options.threads = 3;
            options.workerId = name;
            options.pollInterval = std::chrono::milliseconds(20);
            auto queue = std::make_unique<host::JobRunner>(db, clock, metrics, options);
            auto one = [&, name](const sdk::Job& job) {
                {
                    std::lock_guard lock(mutex);
                    if (running[job.id]) ++inFlightDuplicates;
                    running[job.id] = true;
                    ++runs[job.id];
                    runBy[job.id] = name;
                }
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                std::lock_guard lock(mutex);
                running[job.id] = false;
                ++total;
            };
            if (!events) queue->handle("test", "count", one);
            else
                queue->handleBatch("test", sdk::kProcessWebhookEventJob, 16, [one](const std::vector<sdk::Job>& jobs) {
                    for (const sdk::Job& job : jobs) one(job);
                    return std::vector<sdk::JobFailure>{};
                });
            return queue;
        };
        auto hostA = makeQueue(*dbA, metricsA, "host-a");
        auto hostB = makeQueue(*dbB, metricsB, "host-b");
        {
            Poco::Data::Session session = setup->session();
            sdk::Transaction transaction(*setup, session);
            for (int i = 0; i < kJobs; ++i)
                if (events)
                    session << "INSERT INTO whatsapp_webhook_events (received_at, payload, status, attempts, run_at) "
                               "VALUES (1, '\\x7b7d', 'pending', 0, 1)",
                        now;
                else
                    hostA->enqueue(session, "count", "{}", {});
            transaction.commit();
        }
        hostA->start();
        hostB->start();
        for (int i = 0; i < 6000 && total < kJobs; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        hostA->stop();
        hostB->stop();
        CPPUNIT_ASSERT_EQUAL(kJobs, total.load());
        CPPUNIT_ASSERT_EQUAL(std::size_t(kJobs), runs.size());
        for (const auto& [id, count] : runs) CPPUNIT_ASSERT_EQUAL(1, count);
        CPPUNIT_ASSERT_EQUAL(0, inFlightDuplicates.load());
        int byA = 0;
        for (const auto& [id, name] : runBy) byA += name == "host-a" ? 1 : 0;
        CPPUNIT_ASSERT_MESSAGE("both hosts took jobs", byA > 0 && byA < kJobs);
        if (events) {
            CPPUNIT_ASSERT_EQUAL(kJobs, countRows(*setup, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status = 'processed' "
                                                          "AND attempts = 1 AND locked_by IS NULL AND processed_at IS NOT NULL"));
            CPPUNIT_ASSERT_EQUAL(0, countRows(*setup, "SELECT COUNT(*) FROM jobs"));
        } else {
            CPPUNIT_ASSERT_EQUAL(kJobs, countRows(*setup, "SELECT COUNT(*) FROM jobs WHERE status = 'done'"));
        }
    }

    // PostgreSQL takes $1..$n in each statement of a batch; SQLite (JobRunnerTest) takes '?'.
    // The checks SQLite passes (integration), and what this object prepared leaves with it.
    void preparedSessionsRoundTripAndNameTheirErrors() {
        test::PostgresDatabase pg;
        auto db = connect(pg.url());
        test::checkPreparedSession(*db);
        // Its Full transactions took no single writer's turn: background writers have none to share.
        CPPUNIT_ASSERT(!db->requestsWroteWithin(std::chrono::hours(1)));
        // A copy of a Session is the same connection: what the prepared session leaves on it.
        Poco::Data::Session session = db->session();
        const auto kept = [&] {
            Poco::Int64 count = -1;
            session << "SELECT COUNT(*) FROM pg_prepared_statements WHERE name LIKE 'tawasul\\_%'", into(count), now;
            return count;
        };
        const Poco::Int64 before = kept();
        {
            sdk::PreparedSession prepared(session, db->sql());
            prepared.run("SELECT 1", {});
            prepared.run("SELECT 1", {});
            prepared.run("SELECT 2", {});
            CPPUNIT_ASSERT_EQUAL(before + 2, kept());
        }
        CPPUNIT_ASSERT_EQUAL(before, kept());
    }

    // The job queue's claim and finish, and the batches' reads by a list of ids, pick their rows
    // with SqlDialect::inSubquery. With `IN (...)` the planner guessed a hundred rows for the list
    // and a third of the table for `LIMIT $n`, and scanned all 10,000 jobs on every claim and
    // every finish (3 ms each: most of the database's CPU in bench/outbound.sh).
    void rowsPickedByAListOrAClaimAreReadThroughTheIndex() {
        test::PostgresDatabase pg;
        auto db = connect(pg.url());
        host::Migrator(*db, {{"host", TAWASUL_SOURCE_DIR "/migrations"}}).migrate();
        Poco::Data::Session session = db->session();
        session << "INSERT INTO jobs (type, payload, status, attempts, max_attempts, run_at, created_at, updated_at, locked_by) "
                   "SELECT 'send', '{}', CASE WHEN n % 2 = 0 THEN 'pending' ELSE 'running' END, 1, 5, n, n, n, 'w1' "
                   "FROM generate_series(1, 10000) AS n",
            now;
        session << "ANALYZE jobs", now;
        // Planned as a statement prepared once and run batch after batch is, for any parameters.
        session << "SET plan_cache_mode = force_generic_plan", now;
        const sdk::SqlDialect& sql = db->sql();
        int prepared = 0;
        const auto plan = [&](const std::string& statement, const std::string& arguments) {
            const std::string name = "plan" + std::to_string(++prepared);
            // PREPARE through a DO block, with the statement's $n written #n: Poco's connector would
            // take them for parameters of its own to bind.
            std::string quoted;
            for (const char c : "PREPARE " + name + " AS " + statement) {
                if (c == '$') quoted += '#';
                else if (c == '\'') quoted += "''''";
                else quoted += c;
            }
            session << "DO 'BEGIN EXECUTE replace(''" + quoted + "'', ''#'', chr(36)); END'", now;
            std::vector<std::string> lines;
            session << "EXPLAIN EXECUTE " + name + "(" + arguments + ")", into(lines), now;
            std::string text;
            for (const std::string& line : lines) text += line + "\n";
            return text;
        };
        const std::string listed = "'w1', '[[5],[7]]'", claimed = "20000, 4";
        const std::string list = "SELECT CAST(r.value ->> 0 AS BIGINT) FROM " + sql.jsonRows("$2", "r");
        const std::string finish = "UPDATE jobs SET status = 'done' WHERE locked_by = $1 AND id";
        const std::string pick = "SELECT id FROM jobs WHERE status = 'pending' AND run_at <= $1 ORDER BY run_at, id LIMIT $2" + sql.skipLocked();
        const std::string claim = "UPDATE jobs SET status = 'running' WHERE id";
        for (const std::string& text : {plan(finish + sql.inSubquery(list), listed), plan(claim + sql.inSubquery(pick), claimed)}) {
            CPPUNIT_ASSERT_MESSAGE(text, text.find("Index Scan using jobs_pkey on jobs") != std::string::npos);
            CPPUNIT_ASSERT_MESSAGE(text, text.find("Seq Scan") == std::string::npos);
        }
        // What the helper is for: the same statements with IN scan the table.
        for (const std::string& text : {plan(finish + " IN (" + list + ")", listed), plan(claim + " IN (" + pick + ")", claimed)})
            CPPUNIT_ASSERT_MESSAGE(text, text.find("Seq Scan on jobs") != std::string::npos);
    }

    void enqueueAllNumbersEveryStatementsParameters() {
        test::PostgresDatabase pg;
        auto db = connect(pg.url());
        host::Migrator(*db, {{"host", TAWASUL_SOURCE_DIR "/migrations"}}).migrate();
        host::SystemClock clock;
        host::MetricsRegistry metrics;
        host::JobRunner queue(*db, clock, metrics, {});
        std::vector<sdk::NewJob> jobs;
        for (int i = 0; i < 600; ++i) jobs.push_back({"echo", "{\"n\":" + std::to_string(i) + "}", {}});  // three statements
        jobs[300].options.maxAttempts = 5;
        jobs[599].options.delay = std::chrono::hours(1);
        {
            Poco::Data::Session session = db->session();
            sdk::Transaction transaction(*db, session);
            queue.enqueueAll(session, jobs);
            transaction.commit();
        }
        CPPUNIT_ASSERT_EQUAL(600, countRows(*db, "SELECT COUNT(DISTINCT payload) FROM jobs WHERE type = 'echo' AND status = 'pending' "
                                                 "AND attempts = 0 AND created_at = updated_at AND ref_table IS NULL"));
        CPPUNIT_ASSERT_EQUAL(1, countRows(*db, "SELECT COUNT(*) FROM jobs WHERE payload = '{\"n\":300}' AND max_attempts = 5"));
        CPPUNIT_ASSERT_EQUAL(599, countRows(*db, "SELECT COUNT(*) FROM jobs WHERE max_attempts = 8"));
        CPPUNIT_ASSERT_EQUAL(1, countRows(*db, "SELECT COUNT(*) FROM jobs WHERE payload = '{\"n\":599}' AND run_at >= created_at + 3600000"));
    }

    // The webhook writer's path on PostgreSQL: bytes bound in binary (bytea as it is, an empty body
    // as empty bytes), and a batch of jobs in one prepared statement. PreparedSessionTest: SQLite.
    void aPreparedSessionKeepsBytesAndEnqueuesABatch() {
        test::PostgresDatabase pg;
        auto db = connect(pg.url());
        host::Migrator(*db, {{"host", TAWASUL_SOURCE_DIR "/migrations"}}).migrate();
        host::SystemClock clock;
        host::MetricsRegistry metrics;
        host::JobRunner queue(*db, clock, metrics, {});
        const std::string bytes("a\0b\xff\xfe\"\\\n", 8);
        const std::string empty, signature = "sha256=x";
        std::vector<Poco::Int64> ids;
        std::vector<sdk::NewJob> jobs;
        for (int i = 0; i < 300; ++i) jobs.push_back({"echo", "{\"n\":" + std::to_string(i) + "}", {}});
        jobs[7].options.maxAttempts = 5;
        jobs[9].options.refTable = "whatsapp_webhook_events";
        jobs[9].options.refId = 42;
        {
            sdk::PreparedSession prepared(db->reservedSession(), db->sql());
            sdk::Transaction transaction(*db, prepared.session());
            for (const std::string* payload : {&bytes, &empty, &bytes})
                prepared.run("INSERT INTO whatsapp_webhook_events (received_at, signature, payload, status, attempts) "
                             "VALUES ($1, $2, $3, 'pending', 0) RETURNING id",
                             {Poco::Int64(1), signature, sdk::SqlParam::blob(*payload)},
                             [&](const sdk::SqlRow& row) { ids.push_back(row.integer(0)); });
            queue.enqueueAll(prepared, jobs);
            queue.enqueueAll(prepared, jobs);  // the statement prepared by the first call
            transaction.commit();
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), ids.size());
        const std::string expected = "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE payload = '\\x610062fffe225c0a'::bytea AND id IN (" +
                                     std::to_string(ids[0]) + ", " + std::to_string(ids[2]) + ")";
        CPPUNIT_ASSERT_EQUAL(2, countRows(*db, expected));
        CPPUNIT_ASSERT_EQUAL(1, countRows(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE payload IS NOT NULL AND octet_length(payload) = 0 AND id = " +
                                                   std::to_string(ids[1])));
        CPPUNIT_ASSERT_EQUAL(600, countRows(*db, "SELECT COUNT(*) FROM jobs WHERE type = 'echo' AND status = 'pending' AND attempts = 0"));
        CPPUNIT_ASSERT_EQUAL(2 * 299, countRows(*db, "SELECT COUNT(*) FROM jobs a JOIN jobs b ON b.id = a.id + 1 "
                                                     "WHERE (b.payload::jsonb ->> 'n')::int = (a.payload::jsonb ->> 'n')::int + 1"));
        CPPUNIT_ASSERT_EQUAL(2, countRows(*db, "SELECT COUNT(*) FROM jobs WHERE payload = '{\"n\":7}' AND max_attempts = 5"));
        CPPUNIT_ASSERT_EQUAL(2, countRows(*db, "SELECT COUNT(*) FROM jobs WHERE payload = '{\"n\":9}' AND ref_table = 'whatsapp_webhook_events' AND ref_id = 42"));
    }

    void settingsAreSealedAndShared() {
        test::PostgresDatabase pg;
        auto db = connect(pg.url());
        host::Migrator(*db, {{"host", TAWASUL_SOURCE_DIR "/migrations"}}).migrate();
        host::SystemClock clock;
        host::SecretBox box(std::string(32, 'k'));
        host::SettingsStore first(*db, box, clock);
        host::SettingsStore second(*db, box, clock);
        first.verifyMasterKey();
        first.set("whatsapp.webhook.verify_token", "tok-123");
        CPPUNIT_ASSERT_EQUAL(std::string("tok-123"), *second.get("whatsapp.webhook.verify_token"));
        Poco::Data::Session session = db->session();
        std::string stored;
        session << "SELECT value FROM site_settings WHERE key = 'whatsapp.webhook.verify_token'", into(stored), now;
        CPPUNIT_ASSERT(stored.find("tok-123") == std::string::npos);
        first.set("whatsapp.webhook.verify_token", "tok-456");
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
        CPPUNIT_ASSERT_EQUAL(std::string("tok-456"), *second.get("whatsapp.webhook.verify_token"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PostgresTest);
