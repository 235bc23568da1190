// The durable job queue on SQLite: transactional enqueue, retries, failure, leases, workers.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <Poco/Data/Session.h>

#include "jobs/JobRunner.hpp"
#include "db/Migrator.hpp"
#include "app/Runtime.hpp"
#include "db/SqlDatabase.hpp"
#include "TestSupport.hpp"
#include "WebhookSupport.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

#include <algorithm>

using namespace tawasul;
using namespace Poco::Data::Keywords;
using tawasul::test::TempDir;

namespace {

struct Fixture {
    TempDir dir;
    std::unique_ptr<host::SqlDatabase> db;
    host::SystemClock clock;
    host::MetricsRegistry metrics;
    std::unique_ptr<host::JobRunner> queue;

    explicit Fixture(int maxAttempts = 3, int threads = 2, std::chrono::milliseconds requestsQuietAfter = std::chrono::seconds(1)) {
        host::DatabaseOptions options;
        options.url = "sqlite:" + dir.file("db.sqlite");
        db = std::make_unique<host::SqlDatabase>(options);
        host::Migrator(*db, {{"host", TAWASUL_SOURCE_DIR "/migrations"}}).migrate();
        host::JobRunnerOptions queueOptions;
        queueOptions.maxAttempts = maxAttempts;
        queueOptions.threads = threads;
        queueOptions.retryBase = std::chrono::milliseconds(0);  // retries are due at once in tests
        queueOptions.workerId = "test-worker";
        queueOptions.requestsQuietAfter = requestsQuietAfter;
        queue = std::make_unique<host::JobRunner>(*db, clock, metrics, queueOptions);
    }

    std::int64_t enqueue(const std::string& type, const std::string& payload, sdk::EnqueueOptions options = {}) {
        Poco::Data::Session session = db->session();
        return queue->enqueue(session, type, payload, options);
    }

    std::string jobField(std::int64_t id, const std::string& column) {
        Poco::Data::Session session = db->session();
        std::string value;
        session << "SELECT COALESCE(CAST(" + column + " AS TEXT), '') FROM jobs WHERE id = $1", use(id), into(value), now;
        return value;
    }

    std::string eventRow(std::int64_t id) {
        return test::queryRows(*db, "SELECT status, attempts, COALESCE(last_error, ''), processed_at IS NOT NULL, "
                                    "COALESCE(locked_by, ''), COALESCE(CAST(locked_until AS TEXT), '') FROM whatsapp_webhook_events WHERE id = " +
                                        std::to_string(id));
    }

    std::int64_t storeEvent() {
        Poco::Data::Session session = db->session();
        const std::string raw = "{}";
        Poco::Data::BLOB payload(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
        std::int64_t id = 0;
        session << "INSERT INTO whatsapp_webhook_events (received_at, signature, payload, status, attempts) "
                   "VALUES (1, 'sha256=00', $1, 'pending', 0) RETURNING id",
            use(payload), into(id), now;
        return id;
    }

    // `count` events in one transaction (a commit each would take a second for some hundreds).
    void storeEvents(std::size_t count) {
        Poco::Data::Session session = db->session();
        session.begin();
        const std::string raw = "{}";
        Poco::Data::BLOB payload(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
        for (std::size_t i = 0; i < count; ++i)
            session << "INSERT INTO whatsapp_webhook_events (received_at, signature, payload, status, attempts) "
                       "VALUES (1, 'sha256=00', $1, 'pending', 0)",
                use(payload), now;
        session.commit();
    }
};

}  // namespace

class JobRunnerTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(JobRunnerTest);
    CPPUNIT_TEST(runsAnEnqueuedJobWithItsPayload);
    CPPUNIT_TEST(enqueueBelongsToTheCallersTransaction);
    CPPUNIT_TEST(enqueueAllWritesEveryJobAcrossStatements);
    CPPUNIT_TEST(enqueueAllRefusesAnUntrackedTableAndWritesNothing);
    CPPUNIT_TEST(retriesThenFailsKeepingTheLastErrorAndTheEventFollows);
    CPPUNIT_TEST(permanentFailureStopsAtOnce);
    CPPUNIT_TEST(retryLaterWaitsAtLeastTheGivenDelay);
    CPPUNIT_TEST(reclaimsAnExpiredLease);
    CPPUNIT_TEST(aRunningJobKeepsItsLease);
    CPPUNIT_TEST(workersRunEveryJobExactlyOnce);
    CPPUNIT_TEST(onlyClaimsTypesItHasHandlersFor);
    CPPUNIT_TEST(aBatchHandlerNamesItsFailuresAndTheOthersAreDone);
    CPPUNIT_TEST(aThrowingBatchHandlerRunsEachJobAgainAlone);
    CPPUNIT_TEST(handleEachClaimsSeveralAndJudgesEachWhileHandleStillClaimsOne);
    CPPUNIT_TEST(aStoredEventIsItsOwnQueueEntry);
    CPPUNIT_TEST(anEventFailsUntilMaxAttemptsThenIsFailed);
    CPPUNIT_TEST(anEventRetriedLaterWaitsItsBackoff);
    CPPUNIT_TEST(reclaimsAnEventsExpiredLease);
    CPPUNIT_TEST(aFloodOfEventsDoesNotKeepAJobWaiting);
    CPPUNIT_TEST(anEventTypeCannotBeEnqueuedAsAJob);
    CPPUNIT_TEST(theEventsClaimReadsItsIndexAloneWithoutASort);
    CPPUNIT_TEST(onSqliteOneEventsBatchRunsAtATimeAndOtherJobsGoOn);
    CPPUNIT_TEST(onSqliteEventsBatchesRunSideBySideWhenNoRequestWrites);
    CPPUNIT_TEST(aClaimLargerThanOneWriteReachesTheHandlerAsOneBatch);
    CPPUNIT_TEST_SUITE_END();

public:
    void runsAnEnqueuedJobWithItsPayload() {
        Fixture f;
        std::string seen;
        f.queue->handle("test", "echo", [&](const sdk::Job& job) { seen = job.payload + " #" + std::to_string(job.attempts); });
        const auto id = f.enqueue("echo", "{\"n\":1}");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), f.queue->runUntilIdle());
        CPPUNIT_ASSERT_EQUAL(std::string("{\"n\":1} #1"), seen);
        CPPUNIT_ASSERT_EQUAL(std::string("done"), f.jobField(id, "status"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), f.queue->runUntilIdle());
    }

    void enqueueBelongsToTheCallersTransaction() {
        Fixture f;
        int runs = 0;
        f.queue->handle("test", "echo", [&](const sdk::Job&) { ++runs; });
        {
            Poco::Data::Session session = f.db->session();
            sdk::Transaction transaction(*f.db, session);
            f.queue->enqueue(session, "echo", "{}", {});
            // rolled back by the transaction's destructor
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), f.queue->runUntilIdle());
        CPPUNIT_ASSERT_EQUAL(0, runs);
    }

    void enqueueAllWritesEveryJobAcrossStatements() {
        Fixture f;
        std::mutex seenMutex;
        std::map<std::string, int> seen;  // payload -> runs
        f.queue->handle("test", "echo", [&](const sdk::Job& job) {
            std::lock_guard lock(seenMutex);
            ++seen[job.payload];
        });
        f.queue->handle("test", "later", [&](const sdk::Job&) { CPPUNIT_FAIL("a delayed job ran early"); });
        auto eventId = f.storeEvent();
        std::vector<sdk::NewJob> jobs;
        for (int i = 0; i < 600; ++i) jobs.push_back({"echo", "{\"n\":" + std::to_string(i) + "}", {}});  // three statements
        jobs[7].options.refTable = "whatsapp_webhook_events";
        jobs[7].options.refId = eventId;
        jobs[8].options.maxAttempts = 5;
        jobs.push_back({"later", "{}", {}});
        jobs.back().options.delay = std::chrono::hours(1);
        {
            Poco::Data::Session session = f.db->session();
            sdk::Transaction transaction(*f.db, session);
            f.queue->enqueueAll(session, jobs);
            transaction.commit();
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(600), f.queue->runUntilIdle());
        CPPUNIT_ASSERT_EQUAL(std::size_t(600), seen.size());
        for (const auto& [payload, runs] : seen) CPPUNIT_ASSERT_EQUAL_MESSAGE(payload, 1, runs);
        Poco::Data::Session session = f.db->session();
        int tracked = 0, fiveAttempts = 0, pendingLater = 0;
        std::string eventStatus;
        session << "SELECT COUNT(*) FROM jobs WHERE ref_table = 'whatsapp_webhook_events' AND ref_id = $1 AND payload = '{\"n\":7}'",
            use(eventId), into(tracked), now;
        session << "SELECT COUNT(*) FROM jobs WHERE max_attempts = 5 AND payload = '{\"n\":8}'", into(fiveAttempts), now;
        session << "SELECT COUNT(*) FROM jobs WHERE type = 'later' AND status = 'pending'", into(pendingLater), now;
        session << "SELECT status FROM whatsapp_webhook_events WHERE id = $1", use(eventId), into(eventStatus), now;
        CPPUNIT_ASSERT_EQUAL(1, tracked);
        CPPUNIT_ASSERT_EQUAL(1, fiveAttempts);
        CPPUNIT_ASSERT_EQUAL(1, pendingLater);
        CPPUNIT_ASSERT_EQUAL(std::string("processed"), eventStatus);
    }

    void enqueueAllRefusesAnUntrackedTableAndWritesNothing() {
        Fixture f;
        std::vector<sdk::NewJob> jobs(3, sdk::NewJob{"echo", "{}", {}});
        jobs[2].options.refTable = "users";
        jobs[2].options.refId = 1;
        Poco::Data::Session session = f.db->session();
        CPPUNIT_ASSERT_THROW(f.queue->enqueueAll(session, jobs), std::invalid_argument);
        int rows = -1;
        session << "SELECT COUNT(*) FROM jobs", into(rows), now;
        CPPUNIT_ASSERT_EQUAL(0, rows);
    }

    void retriesThenFailsKeepingTheLastErrorAndTheEventFollows() {
        Fixture f(3);
        int runs = 0;
        f.queue->handle("test", "flaky", [&](const sdk::Job& job) {
            ++runs;
            throw std::runtime_error("attempt " + std::to_string(job.attempts) + " broke");
        });
        const auto eventId = f.storeEvent();
        sdk::EnqueueOptions options;
        options.refTable = "whatsapp_webhook_events";
        options.refId = eventId;
        const auto id = f.enqueue("flaky", "{}", options);
        f.queue->runUntilIdle();
        CPPUNIT_ASSERT_EQUAL(3, runs);
        CPPUNIT_ASSERT_EQUAL(std::string("failed"), f.jobField(id, "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("attempt 3 broke"), f.jobField(id, "last_error"));
        Poco::Data::Session session = f.db->session();
        std::string status, lastError;
        int attempts = 0;
        Poco::Nullable<Poco::Int64> processedAt;
        session << "SELECT status, attempts, last_error, processed_at FROM whatsapp_webhook_events WHERE id = $1", bind(eventId),
            into(status), into(attempts), into(lastError), into(processedAt), now;
        CPPUNIT_ASSERT_EQUAL(std::string("failed"), status);
        CPPUNIT_ASSERT_EQUAL(3, attempts);
        CPPUNIT_ASSERT_EQUAL(std::string("attempt 3 broke"), lastError);
        CPPUNIT_ASSERT(!processedAt.isNull());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), f.metrics.counterValue("tawasul_jobs_total{result=\"retry\"}"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), f.metrics.counterValue("tawasul_jobs_total{result=\"failed\"}"));
    }

    void permanentFailureStopsAtOnce() {
        Fixture f(5);
        int runs = 0;
        f.queue->handle("test", "bad", [&](const sdk::Job&) {
            ++runs;
            throw sdk::PermanentJobFailure("payload is not JSON");
        });
        const auto id = f.enqueue("bad", "nope");
        f.queue->runUntilIdle();
        CPPUNIT_ASSERT_EQUAL(1, runs);
        CPPUNIT_ASSERT_EQUAL(std::string("failed"), f.jobField(id, "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("payload is not JSON"), f.jobField(id, "last_error"));
    }

    void retryLaterWaitsAtLeastTheGivenDelay() {
        Fixture f(5);
        int runs = 0;
        f.queue->handle("test", "later", [&](const sdk::Job&) {
            ++runs;
            throw sdk::RetryJobLater("provider asked to back off", std::chrono::minutes(10));
        });
        const auto id = f.enqueue("later", "{}");
        const std::int64_t before = f.clock.nowMillis();
        f.queue->runUntilIdle();
        CPPUNIT_ASSERT_EQUAL(1, runs);
        CPPUNIT_ASSERT_EQUAL(std::string("pending"), f.jobField(id, "status"));
        CPPUNIT_ASSERT(std::stoll(f.jobField(id, "run_at")) >= before + 10 * 60 * 1000);
    }

    void reclaimsAnExpiredLease() {
        Fixture f;
        int runs = 0;
        f.queue->handle("test", "echo", [&](const sdk::Job&) { ++runs; });
        const auto id = f.enqueue("echo", "{}");
        {
            // As a host that claimed the job and died would leave it.
            Poco::Data::Session session = f.db->session();
            session << "UPDATE jobs SET status = 'running', attempts = 1, locked_by = 'dead-host', locked_until = 1 WHERE id = $1",
                bind(id), now;
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), f.queue->runUntilIdle());
        CPPUNIT_ASSERT_EQUAL(1, runs);
        CPPUNIT_ASSERT_EQUAL(std::string("done"), f.jobField(id, "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("2"), f.jobField(id, "attempts"));
    }

    // A job that runs longer than lease_seconds (a paced batch of sends) keeps its claim: the host
    // extends its leases while it runs, so another host's worker does not take the job too.
    void aRunningJobKeepsItsLease() {
        Fixture f;
        host::JobRunnerOptions options;
        options.threads = 1;
        options.leaseSeconds = 1;
        options.workerId = "busy-host";
        host::JobRunner busy(*f.db, f.clock, f.metrics, options);
        std::atomic<bool> release{false}, started{false};
        busy.handle("test", "slow", [&](const sdk::Job&) {
            started = true;
            while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        });
        int otherRuns = 0;
        f.queue->handle("test", "slow", [&](const sdk::Job&) { ++otherRuns; });
        const auto id = f.enqueue("slow", "{}");
        busy.start();
        busy.wake();
        while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        // Three leases long: without extension the lease would have expired twice.
        for (int i = 0; i < 6; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
            CPPUNIT_ASSERT_EQUAL(std::size_t(0), f.queue->runUntilIdle());
        }
        CPPUNIT_ASSERT_EQUAL(0, otherRuns);
        CPPUNIT_ASSERT_EQUAL(std::string("running"), f.jobField(id, "status"));
        release = true;
        busy.stop();
        CPPUNIT_ASSERT_EQUAL(std::string("done"), f.jobField(id, "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("1"), f.jobField(id, "attempts"));
    }

    void workersRunEveryJobExactlyOnce() {
        Fixture f(3, 4);
        std::mutex mutex;
        std::map<std::int64_t, int> runs;
        std::atomic<int> total{0};
        f.queue->handle("test", "count", [&](const sdk::Job& job) {
            std::lock_guard lock(mutex);
            ++runs[job.id];
            ++total;
        });
        f.queue->start();
        for (int i = 0; i < 200; ++i) {
            f.enqueue("count", "{}");
            f.queue->wake();
        }
        for (int i = 0; i < 3000 && total < 200; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        f.queue->stop();
        CPPUNIT_ASSERT_EQUAL(200, total.load());
        CPPUNIT_ASSERT_EQUAL(std::size_t(200), runs.size());
        for (const auto& [id, count] : runs) CPPUNIT_ASSERT_EQUAL(1, count);
    }

    void onlyClaimsTypesItHasHandlersFor() {
        Fixture f;
        const auto foreign = f.enqueue("someone_elses", "{}");
        int runs = 0;
        f.queue->handle("test", "mine", [&](const sdk::Job&) { ++runs; });
        f.enqueue("mine", "{}");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), f.queue->runUntilIdle());
        CPPUNIT_ASSERT_EQUAL(std::string("pending"), f.jobField(foreign, "status"));
        f.queue->removeOwner("test");
        f.enqueue("mine", "{}");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), f.queue->runUntilIdle());
        CPPUNIT_ASSERT_EQUAL(1, runs);
    }

    void aBatchHandlerNamesItsFailuresAndTheOthersAreDone() {
        Fixture f(5);
        const auto good = f.enqueue("batch", "good");
        const auto broken = f.enqueue("batch", "broken");
        const auto busy = f.enqueue("batch", "busy");
        std::vector<std::size_t> claims;
        f.queue->handleBatch("test", "batch", 10, [&](const std::vector<sdk::Job>& jobs) {
            claims.push_back(jobs.size());
            std::vector<sdk::JobFailure> failures;
            for (const sdk::Job& job : jobs) {
                if (job.payload == "broken") failures.push_back({job.id, "not a notification", true, {}});
                if (job.payload == "busy") failures.push_back({job.id, "database busy", false, std::chrono::minutes(10)});
            }
            return failures;
        });
        const std::int64_t before = f.clock.nowMillis();
        f.queue->runUntilIdle();
        // One claim of all three; the one retried later is not due again within this run.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), claims.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), claims.front());
        CPPUNIT_ASSERT_EQUAL(std::string("done"), f.jobField(good, "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("failed"), f.jobField(broken, "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("not a notification"), f.jobField(broken, "last_error"));
        CPPUNIT_ASSERT_EQUAL(std::string("pending"), f.jobField(busy, "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("database busy"), f.jobField(busy, "last_error"));
        CPPUNIT_ASSERT(std::stoll(f.jobField(busy, "run_at")) >= before + 10 * 60 * 1000);
    }

    // handleEach (the sends): up to its claim size in one round, each job with its own outcome;
    // a type registered with handle() beside it is still claimed one a round.
    void handleEachClaimsSeveralAndJudgesEachWhileHandleStillClaimsOne() {
        Fixture f(5);
        std::map<std::string, std::int64_t> ids;
        for (const char* payload : {"sent", "refused", "paced", "broken"}) ids[payload] = f.enqueue("each", payload);
        for (const char* payload : {"s1", "s2", "s3"}) ids[payload] = f.enqueue("single", payload);
        std::vector<std::string> ran;
        f.queue->handleEach("test", "each", 8, [&](const sdk::Job& job) {
            ran.push_back(job.payload);
            if (job.payload == "refused") throw sdk::PermanentJobFailure("no recipient");
            if (job.payload == "paced") throw sdk::RetryJobLater("pair rate", std::chrono::minutes(10));
            if (job.payload == "broken") throw std::runtime_error("connection reset");
        });
        f.queue->handle("test", "single", [&](const sdk::Job& job) { ran.push_back(job.payload); });
        const std::int64_t before = f.clock.nowMillis();
        f.queue->runUntilIdle();
        // Round 1: the four of "each" (in id order) and one of "single"; then one "single" a round
        // beside the broken one, retried at once (the fixture's backoff) until its fifth attempt.
        const std::vector<std::string> expected{"sent", "refused", "paced", "broken", "s1", "broken", "s2", "broken", "s3", "broken", "broken"};
        std::string order;
        for (const std::string& payload : ran) order += payload + " ";
        CPPUNIT_ASSERT_MESSAGE(order, ran == expected);
        CPPUNIT_ASSERT_EQUAL(std::string("done"), f.jobField(ids["sent"], "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("failed"), f.jobField(ids["refused"], "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("no recipient"), f.jobField(ids["refused"], "last_error"));
        CPPUNIT_ASSERT_EQUAL(std::string("pending"), f.jobField(ids["paced"], "status"));
        CPPUNIT_ASSERT(std::stoll(f.jobField(ids["paced"], "run_at")) >= before + 10 * 60 * 1000);
        CPPUNIT_ASSERT_EQUAL(std::string("failed"), f.jobField(ids["broken"], "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("5"), f.jobField(ids["broken"], "attempts"));
        CPPUNIT_ASSERT_EQUAL(std::string("connection reset"), f.jobField(ids["broken"], "last_error"));
        for (const char* payload : {"s1", "s2", "s3"}) CPPUNIT_ASSERT_EQUAL(std::string("done"), f.jobField(ids[payload], "status"));
    }

    void aThrowingBatchHandlerRunsEachJobAgainAlone() {
        Fixture f(5);
        std::vector<std::int64_t> ids;
        for (const char* payload : {"a", "poison", "b"}) ids.push_back(f.enqueue("batch", payload));
        std::vector<std::size_t> claims;
        f.queue->handleBatch("test", "batch", 10, [&](const std::vector<sdk::Job>& jobs) {
            claims.push_back(jobs.size());
            for (const sdk::Job& job : jobs)
                if (job.payload == "poison") throw sdk::PermanentJobFailure("poison");
            return std::vector<sdk::JobFailure>{};
        });
        f.queue->runUntilIdle();
        // The batch of three, then each alone: the poisoned one fails by itself.
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), claims.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), claims.front());
        CPPUNIT_ASSERT_EQUAL(std::string("done"), f.jobField(ids[0], "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("failed"), f.jobField(ids[1], "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("done"), f.jobField(ids[2], "status"));
    }

    // Issue #13: the webhook event row is claimed and finished itself, with no row in jobs; the
    // handler gets the sdk::Job it got from jobs (id and ref_id the event's, {"event_id":N}).
    void aStoredEventIsItsOwnQueueEntry() {
        Fixture f;
        std::vector<sdk::Job> seen;
        f.queue->handleBatch("test", sdk::kProcessWebhookEventJob, 100, [&](const std::vector<sdk::Job>& jobs) {
            seen.insert(seen.end(), jobs.begin(), jobs.end());
            return std::vector<sdk::JobFailure>{};
        });
        const auto first = f.storeEvent();
        const auto second = f.storeEvent();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), f.queue->runUntilIdle());  // one round, both events
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), seen.size());
        CPPUNIT_ASSERT_EQUAL(first, seen[0].id);
        CPPUNIT_ASSERT_EQUAL(first, seen[0].refId);
        CPPUNIT_ASSERT_EQUAL(std::string("whatsapp_webhook_events"), seen[0].refTable);
        CPPUNIT_ASSERT_EQUAL(std::string("{\"event_id\":" + std::to_string(first) + "}"), seen[0].payload);
        CPPUNIT_ASSERT_EQUAL(1, seen[0].attempts);
        CPPUNIT_ASSERT_EQUAL(3, seen[0].maxAttempts);
        CPPUNIT_ASSERT_EQUAL(second, seen[1].id);
        for (auto id : {first, second}) CPPUNIT_ASSERT_EQUAL(std::string("processed|1||1||"), f.eventRow(id));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), test::queryText(*f.db, "SELECT COUNT(*) FROM jobs"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), f.metrics.counterValue("tawasul_jobs_total{result=\"done\"}"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), f.queue->runUntilIdle());
    }

    void anEventFailsUntilMaxAttemptsThenIsFailed() {
        Fixture f(3);
        int runs = 0;
        f.queue->handle("test", sdk::kProcessWebhookEventJob, [&](const sdk::Job& job) {
            ++runs;
            throw std::runtime_error("attempt " + std::to_string(job.attempts) + " broke");
        });
        const auto id = f.storeEvent();
        f.queue->runUntilIdle();
        CPPUNIT_ASSERT_EQUAL(3, runs);
        CPPUNIT_ASSERT_EQUAL(std::string("failed|3|attempt 3 broke|1||"), f.eventRow(id));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), f.metrics.counterValue("tawasul_jobs_total{result=\"retry\"}"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), f.metrics.counterValue("tawasul_jobs_total{result=\"failed\"}"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), f.queue->runUntilIdle());  // failed is final
        CPPUNIT_ASSERT_EQUAL(3, runs);
    }

    void anEventRetriedLaterWaitsItsBackoff() {
        Fixture f(5);
        int runs = 0;
        f.queue->handle("test", sdk::kProcessWebhookEventJob, [&](const sdk::Job&) {
            ++runs;
            throw sdk::RetryJobLater("database busy", std::chrono::minutes(10));
        });
        const auto id = f.storeEvent();
        const std::int64_t before = f.clock.nowMillis();
        f.queue->runUntilIdle();
        CPPUNIT_ASSERT_EQUAL(1, runs);
        CPPUNIT_ASSERT_EQUAL(std::string("pending|1|database busy|0||"), f.eventRow(id));
        CPPUNIT_ASSERT(std::stoll(test::queryText(*f.db, "SELECT run_at FROM whatsapp_webhook_events WHERE id = " + std::to_string(id))) >=
                       before + 10 * 60 * 1000);
    }

    void reclaimsAnEventsExpiredLease() {
        Fixture f;
        int runs = 0;
        f.queue->handle("test", sdk::kProcessWebhookEventJob, [&](const sdk::Job& job) {
            ++runs;
            CPPUNIT_ASSERT_EQUAL(2, job.attempts);
        });
        const auto id = f.storeEvent();
        const auto held = f.storeEvent();
        {
            // As a host that claimed the events and died would leave them; the second one's lease
            // still runs (another host is working on it).
            Poco::Data::Session session = f.db->session();
            session << "UPDATE whatsapp_webhook_events SET status = 'processing', attempts = 1, locked_by = 'dead-host', "
                       "locked_until = 1 WHERE id = $1",
                bind(id), now;
            session << "UPDATE whatsapp_webhook_events SET status = 'processing', attempts = 1, locked_by = 'live-host', "
                       "locked_until = $1 WHERE id = $2",
                bind(f.clock.nowMillis() + 3600 * 1000), bind(held), now;
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), f.queue->runUntilIdle());
        CPPUNIT_ASSERT_EQUAL(1, runs);
        CPPUNIT_ASSERT_EQUAL(std::string("processed|2||1||"), f.eventRow(id));
        CPPUNIT_ASSERT_EQUAL(std::string("processing|1|live-host"),
                             test::queryRows(*f.db, "SELECT status, attempts, locked_by FROM whatsapp_webhook_events WHERE id = " +
                                                        std::to_string(held)));
    }

    // A claim round takes from the events and from the jobs: a backlog of events, older than the
    // send, does not keep the send waiting until the events are done (nor the reverse).
    void aFloodOfEventsDoesNotKeepAJobWaiting() {
        Fixture f;
        std::vector<std::string> order;
        f.queue->handleBatch("test", sdk::kProcessWebhookEventJob, 10, [&](const std::vector<sdk::Job>& jobs) {
            order.push_back("events:" + std::to_string(jobs.size()));
            return std::vector<sdk::JobFailure>{};
        });
        f.queue->handle("test", "send", [&](const sdk::Job&) { order.push_back("send"); });
        for (int i = 0; i < 50; ++i) f.storeEvent();
        f.enqueue("send", "{}");
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), f.queue->runUntilIdle());
        CPPUNIT_ASSERT_EQUAL(std::size_t(6), order.size());
        // In the first round, beside the first ten events.
        const auto send = std::find(order.begin(), order.end(), "send");
        CPPUNIT_ASSERT(send - order.begin() <= 1);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), test::queryText(*f.db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status <> 'processed'"));
    }

    void anEventTypeCannotBeEnqueuedAsAJob() {
        Fixture f;
        CPPUNIT_ASSERT_THROW(f.enqueue(sdk::kProcessWebhookEventJob, "{\"event_id\":1}"), std::invalid_argument);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), test::queryText(*f.db, "SELECT COUNT(*) FROM jobs"));
    }

    // Migration 0020: the claim's equality, range and order all come from the claim index, read
    // alone. With 0019's index SQLite took the status index and sorted the whole backlog.
    void theEventsClaimReadsItsIndexAloneWithoutASort() {
        Fixture f;
        const auto& tables = host::JobRunner::queueTables();
        const auto events = std::find_if(tables.begin(), tables.end(),
                                         [](const host::JobRunner::QueueTable& queue) { return queue.table == "whatsapp_webhook_events"; });
        CPPUNIT_ASSERT(events != tables.end());
        Poco::Data::Session session = f.db->session();
        std::string plan;
        for (const std::string& line :
             f.db->sql().queryPlan(session, host::JobRunner::queueClaimSql(f.db->sql(), *events), [](Poco::Data::Statement& explain) {
                 explain, bind(std::string("worker")), bind(Poco::Int64(2)), bind(Poco::Int64(1)), bind(Poco::Int64(64));
             }))
            plan += line + "\n";
        CPPUNIT_ASSERT_MESSAGE(plan, plan.find("COVERING INDEX whatsapp_webhook_events_claim_idx") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(plan, plan.find("TEMP B-TREE") == std::string::npos);
    }

    // On a single writer, while requests write, the events' batches take turns on the host: the
    // batch grows with the backlog instead of several workers each writing a few events. A worker
    // that finds the turn taken still claims the other types. (The fixture's migrations were
    // Full-durability writes, well within the hour.)
    void onSqliteOneEventsBatchRunsAtATimeAndOtherJobsGoOn() {
        Fixture f(3, 3, std::chrono::hours(1));
        std::atomic<int> inFlight{0}, mostInFlight{0}, processed{0};
        std::atomic<bool> batchStarted{false}, sendRan{false}, sendRanDuringABatch{false};
        f.queue->handleBatch("test", sdk::kProcessWebhookEventJob, 10, [&](const std::vector<sdk::Job>& jobs) {
            const int now = ++inFlight;
            for (int most = mostInFlight; now > most && !mostInFlight.compare_exchange_weak(most, now);) {
            }
            if (!batchStarted.exchange(true))  // the first batch holds its turn until the send has run
                for (int i = 0; i < 500 && !sendRan; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
            else
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            processed += static_cast<int>(jobs.size());
            --inFlight;
            return std::vector<sdk::JobFailure>{};
        });
        f.queue->handle("test", "send", [&](const sdk::Job&) {
            sendRanDuringABatch = inFlight > 0;
            sendRan = true;
        });
        f.storeEvents(60);
        f.queue->start();
        f.queue->wake();
        for (int i = 0; i < 500 && !batchStarted; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        f.enqueue("send", "{}");
        for (int i = 0; i < 3; ++i) f.queue->wake();  // every worker: each must find the events' turn taken
        for (int i = 0; i < 1000 && processed < 60; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        f.queue->stop();
        CPPUNIT_ASSERT_EQUAL(60, processed.load());
        CPPUNIT_ASSERT_EQUAL(1, mostInFlight.load());
        CPPUNIT_ASSERT(sendRan);
        CPPUNIT_ASSERT(sendRanDuringABatch);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), test::queryText(*f.db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status <> 'processed'"));
    }

    // When no request has written within the window, batches of events run side by side (one
    // reads and parses while another writes): the first batch waits until a second is in flight.
    void onSqliteEventsBatchesRunSideBySideWhenNoRequestWrites() {
        Fixture f(3, 3, std::chrono::milliseconds(0));
        std::atomic<int> inFlight{0}, mostInFlight{0}, processed{0};
        std::atomic<bool> batchStarted{false};
        f.queue->handleBatch("test", sdk::kProcessWebhookEventJob, 10, [&](const std::vector<sdk::Job>& jobs) {
            const int now = ++inFlight;
            for (int most = mostInFlight; now > most && !mostInFlight.compare_exchange_weak(most, now);) {
            }
            if (!batchStarted.exchange(true))
                for (int i = 0; i < 500 && mostInFlight < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
            processed += static_cast<int>(jobs.size());
            --inFlight;
            return std::vector<sdk::JobFailure>{};
        });
        f.storeEvents(60);
        f.queue->start();
        f.queue->wake();
        for (int i = 0; i < 500 && !batchStarted; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        for (int i = 0; i < 3; ++i) f.queue->wake();
        for (int i = 0; i < 1000 && processed < 60; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        f.queue->stop();
        CPPUNIT_ASSERT_EQUAL(60, processed.load());
        CPPUNIT_ASSERT(mostInFlight >= 2);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), test::queryText(*f.db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status <> 'processed'"));
    }

    // On a single writer a claim of more than kRowsPerWrite events is written in several short
    // transactions, and a finish too; the handler still gets one batch, oldest first.
    void aClaimLargerThanOneWriteReachesTheHandlerAsOneBatch() {
        Fixture f;
        const std::size_t stored = 2 * host::JobRunner::kRowsPerWrite + 44;
        std::vector<std::vector<std::int64_t>> batches;
        f.queue->handleBatch("test", sdk::kProcessWebhookEventJob, 1000, [&](const std::vector<sdk::Job>& jobs) {
            batches.emplace_back();
            for (const sdk::Job& job : jobs) batches.back().push_back(job.id);
            return std::vector<sdk::JobFailure>{};
        });
        f.storeEvents(stored);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), f.queue->runUntilIdle());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), batches.size());
        CPPUNIT_ASSERT_EQUAL(stored, batches[0].size());
        CPPUNIT_ASSERT(std::is_sorted(batches[0].begin(), batches[0].end()));
        CPPUNIT_ASSERT_EQUAL(std::to_string(stored) + "|" + std::to_string(stored),
                             test::queryRows(*f.db, "SELECT COUNT(*), SUM(status = 'processed' AND attempts = 1 AND locked_by IS NULL) "
                                                    "FROM whatsapp_webhook_events"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(stored), f.metrics.counterValue("tawasul_jobs_total{result=\"done\"}"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(JobRunnerTest);
