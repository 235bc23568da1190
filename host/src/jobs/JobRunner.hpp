#pragma once
// The `jobs` table and the workers that run it: every plugin's sdk::JobQueue (HostContext::jobs())
// forwards here, with the plugin's name as the owner of its handlers. Jobs are enqueued in the
// caller's transaction, claimed by worker threads under a lease, retried with exponential backoff
// and jitter, and marked failed after max_attempts. A job may point at a row (ref_table, ref_id)
// whose status columns follow the job's (whatsapp_webhook_events).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Nullable.h>

#include "metrics/MetricsRegistry.hpp"
#include "tawasul/sdk/Clock.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Jobs.hpp"
#include "tawasul/sdk/PreparedSession.hpp"

namespace tawasul::host {

struct JobRunnerOptions {
    int threads = 4;
    int leaseSeconds = 30;
    int maxAttempts = 8;
    std::chrono::milliseconds pollInterval{500};  // how often idle workers look for other hosts' jobs
    std::chrono::milliseconds retryBase{1000};
    std::chrono::milliseconds retryCap{3600 * 1000};
    std::string workerId;  // names this host in locked_by
    // On a single-writer engine a batch-handled type runs one batch at a time while requests write
    // (sdk::Database::requestsWroteWithin this window), and side by side once they have not.
    std::chrono::milliseconds requestsQuietAfter{1000};
};

class JobRunner {
public:
    JobRunner(sdk::Database& database, const sdk::Clock& clock, MetricsRegistry& metrics, JobRunnerOptions options);
    ~JobRunner();

    void handle(const std::string& owner, const std::string& type, sdk::JobHandler handler);
    void handleBatch(const std::string& owner, const std::string& type, std::size_t maxBatch, sdk::BatchJobHandler handler);
    // Claims up to `claimed` jobs of `type` in one round and runs them one after another, each
    // with its own outcome as handle() gives it: for work paced one job at a time (the sends), so
    // that each job does not also pay a claim and a finish of its own.
    void handleEach(const std::string& owner, const std::string& type, std::size_t claimed, sdk::JobHandler handler);
    void removeOwner(const std::string& owner);
    std::int64_t enqueue(Poco::Data::Session& session, const std::string& type, const std::string& payload,
                         const sdk::EnqueueOptions& options);
    void enqueueAll(Poco::Data::Session& session, const std::vector<sdk::NewJob>& jobs);
    void enqueueAll(sdk::PreparedSession& session, const std::vector<sdk::NewJob>& jobs);
    void wake();

    void start();
    // Stops claiming, lets running jobs finish, joins the workers.
    void stop();

    // Claims and runs due jobs on the calling thread until none is left (tests and CLI).
    std::size_t runUntilIdle();

    // Tables whose status, attempts, last_error and processed_at follow their job.
    static const std::set<std::string>& trackedTables();

    // Job types whose work is queued as rows of a table of their own rather than in `jobs`: the
    // stored webhook event is its own queue entry (status pending/processing/processed/failed,
    // attempts, run_at, locked_by, locked_until, last_error, processed_at), so the webhook's commit
    // writes one row per event and a claim and a finish update one row each. The handler gets the
    // same sdk::Job as from `jobs`: id and ref_id are the row's id. Such a type cannot be enqueued.
    struct QueueTable {
        std::string type;
        std::string table;
    };
    static const std::vector<QueueTable>& queueTables();
    // The claim of a queue table's due rows: $1 worker id, $2 lease end, $3 now, $4 how many.
    static std::string queueClaimSql(const sdk::SqlDialect& sql, const QueueTable& queue);
    // On a single-writer engine (SQLite) the queue's claims and finishes write at most this many
    // rows a transaction: the webhook's commit waits for the one writer behind each.
    static constexpr std::size_t kRowsPerWrite = 128;

private:
    struct Registered {
        std::string owner;
        sdk::BatchJobHandler handler;  // single-job handlers are wrapped as batches of one
        std::size_t maxBatch = 1;
        bool eachAlone = false;  // handleEach: a claimed batch runs job by job, as runAlone does
    };
    // A jobs row as bound to an INSERT.
    struct Row {
        std::string type;
        std::string payload;
        int maxAttempts = 0;
        Poco::Int64 runAt = 0;
        Poco::Int64 createdAt = 0;
        Poco::Nullable<std::string> refTable;
        Poco::Nullable<Poco::Int64> refId;
    };
    Row rowFor(const std::string& type, const std::string& payload, const sdk::EnqueueOptions& options, std::int64_t nowMs) const;
    struct Outcome {
        sdk::Job job;  // from a queue table when job.type is one of queueTables()
        std::string status;  // done, pending (retry), failed
        std::string error;
        std::int64_t runAt = 0;
    };
    void addHandler(const std::string& owner, const std::string& type, std::size_t maxBatch, sdk::BatchJobHandler handler,
                    bool eachAlone = false);
    // `db`: the worker's prepared connection, opened here when there is none.
    bool claimAndRun(std::unique_ptr<sdk::PreparedSession>& db);
    // One round's work, in one transaction, so that no source starves another: for each batch size
    // the due jobs of the types handled in batches of that size (at most that many), and up to each
    // queue table's own limit of its due rows. Types claimed one at a time stay one at a time: a
    // batch handler's size never hands a worker several slow jobs of another type.
    std::vector<sdk::Job> claim(sdk::PreparedSession& db, const std::map<std::size_t, std::vector<std::string>>& typesByBatch,
                                const std::vector<std::pair<const QueueTable*, std::size_t>>& queues);
    // Whether any job of these types or row of these queues is due (a read, no write turn).
    bool anythingDue(sdk::PreparedSession& db, const std::map<std::size_t, std::vector<std::string>>& typesByBatch,
                     const std::vector<std::pair<const QueueTable*, std::size_t>>& queues, Poco::Int64 nowMs);
    void finishQueued(sdk::PreparedSession& db, const QueueTable& queue, const std::vector<Outcome>& outcomes, Poco::Int64 nowMs);
    static const QueueTable* queueFor(const std::string& type);
    Outcome runAlone(const sdk::Job& job, const Registered& registered);
    Outcome judge(const sdk::Job& job, const Registered& registered, const std::string& error, bool permanent,
                  std::chrono::milliseconds delay);
    void finish(sdk::PreparedSession& db, const std::vector<Outcome>& outcomes);
    // The batch-handled types a claimAndRun round holds a turn of (single-writer engines).
    class BatchTurns {
    public:
        explicit BatchTurns(JobRunner& runner) : runner_(runner) {}
        ~BatchTurns();
        BatchTurns(const BatchTurns&) = delete;
        BatchTurns& operator=(const BatchTurns&) = delete;
        bool take(const std::string& type);  // false: requests write and another worker runs a batch of it

    private:
        JobRunner& runner_;
        std::vector<std::string> taken_;
    };
    std::mutex batchTurnsMutex_;
    std::multiset<std::string> batchTurns_;  // a type once per batch of it running
    bool batchTurnWanted_ = false;
    void reclaimExpiredLeases();
    void workerLoop();
    std::chrono::milliseconds backoff(int attempts) const;

    sdk::Database& database_;
    const sdk::Clock& clock_;
    JobRunnerOptions options_;
    sdk::Counter& done_;
    sdk::Counter& retried_;
    sdk::Counter& failed_;

    std::mutex handlersMutex_;
    std::map<std::string, Registered> handlers_;

    std::mutex wakeMutex_;
    std::condition_variable wakeup_;
    std::uint64_t wakeCount_ = 0;
    std::atomic<bool> stopping_{false};
    std::vector<std::thread> workers_;
    // Extends the leases of the jobs this host runs, every lease_seconds / 3, so that a long batch
    // (sends paced at the number's rate) never loses its claim to another host; a host that dies
    // stops extending and its leases expire as before.
    // It waits on a condition of its own: a wake() meant for a worker (notify_one) must not be
    // spent on it.
    std::thread leaseKeeper_;
    std::condition_variable leaseKeeperWake_;
    void keepLeases();
    std::chrono::steady_clock::time_point lastSweep_{};
    std::mutex sweepMutex_;
};

}  // namespace tawasul::host
