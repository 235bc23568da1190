#include "jobs/JobRunner.hpp"

#include "tawasul/sdk/Errors.hpp"
#include "tawasul/sdk/PreparedSession.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include <Poco/Data/RecordSet.h>
#include <Poco/Logger.h>
#include <Poco/Nullable.h>

namespace tawasul::host {
namespace {

using namespace Poco::Data::Keywords;

std::string eventStatusFor(const std::string& jobStatus) {
    if (jobStatus == "running") return "processing";
    if (jobStatus == "done") return "processed";
    return jobStatus;  // pending, failed
}

// The rows the jobs are about (a tracked table's status, attempts, last error and processed_at):
// claimed ("running"), done, failed or pending again, a statement per table and attempts (almost
// always one). `error` is the jobs' common last error (empty: none).
void updateTracked(sdk::PreparedSession& db, const sdk::SqlDialect& dialect, std::int64_t nowMs, const std::vector<sdk::Job>& jobs,
                   const std::string& status, const std::string& error = "") {
    std::map<std::pair<std::string, int>, sdk::JsonRows> groups;
    for (const sdk::Job& job : jobs)
        if (!job.refTable.empty() && JobRunner::trackedTables().count(job.refTable))
            groups[{job.refTable, job.attempts}].row().add(static_cast<Poco::Int64>(job.refId));
    const bool running = status == "running";
    std::string eventStatus = eventStatusFor(status);
    Poco::Nullable<std::string> lastError;
    if (!error.empty()) lastError = error.substr(0, 4000);
    Poco::Nullable<Poco::Int64> processedAt;
    if (status == "done" || status == "failed") processedAt = nowMs;
    for (auto& [key, ids] : groups) {
        const int attempts = key.second;
        const std::string in = dialect.inSubquery("SELECT CAST(r.value ->> 0 AS BIGINT) FROM " + dialect.jsonRows("$3", "r"));
        // The table name comes from trackedTables(), never from input.
        if (running)
            db.run("UPDATE " + key.first + " SET status = $1, attempts = $2 WHERE id" + in, {eventStatus, attempts, ids.text()});
        else
            db.run("UPDATE " + key.first + " SET status = $1, attempts = $2, last_error = $4, processed_at = $5 WHERE id" + in,
                   {eventStatus, attempts, ids.text(), lastError, processedAt});
    }
}

}  // namespace

const std::set<std::string>& JobRunner::trackedTables() {
    static const std::set<std::string> tables{"whatsapp_webhook_events"};
    return tables;
}

const std::vector<JobRunner::QueueTable>& JobRunner::queueTables() {
    static const std::vector<QueueTable> queues{{sdk::kProcessWebhookEventJob, sdk::kWebhookEventsTable}};
    return queues;
}

const JobRunner::QueueTable* JobRunner::queueFor(const std::string& type) {
    for (const QueueTable& queue : queueTables())
        if (queue.type == type) return &queue;
    return nullptr;
}

JobRunner::JobRunner(sdk::Database& database, const sdk::Clock& clock, MetricsRegistry& metrics, JobRunnerOptions options)
    : database_(database),
      clock_(clock),
      options_(std::move(options)),
      done_(metrics.counter("tawasul_jobs_total{result=\"done\"}", "Jobs finished, by result")),
      retried_(metrics.counter("tawasul_jobs_total{result=\"retry\"}", "Jobs finished, by result")),
      failed_(metrics.counter("tawasul_jobs_total{result=\"failed\"}", "Jobs finished, by result")) {}

JobRunner::~JobRunner() { stop(); }

// A single-job handler as a batch of one: a throw is that job's failure (runAlone judges it).
static sdk::BatchJobHandler oneByOne(sdk::JobHandler handler) {
    return [handler = std::move(handler)](const std::vector<sdk::Job>& jobs) {
        for (const sdk::Job& job : jobs) handler(job);
        return std::vector<sdk::JobFailure>{};
    };
}

void JobRunner::handle(const std::string& owner, const std::string& type, sdk::JobHandler handler) {
    addHandler(owner, type, 1, oneByOne(std::move(handler)));
}

void JobRunner::handleBatch(const std::string& owner, const std::string& type, std::size_t maxBatch, sdk::BatchJobHandler handler) {
    addHandler(owner, type, std::max<std::size_t>(1, maxBatch), std::move(handler));
}

void JobRunner::handleEach(const std::string& owner, const std::string& type, std::size_t claimed, sdk::JobHandler handler) {
    addHandler(owner, type, std::max<std::size_t>(1, claimed), oneByOne(std::move(handler)), true);
}

void JobRunner::addHandler(const std::string& owner, const std::string& type, std::size_t maxBatch, sdk::BatchJobHandler handler,
                           bool eachAlone) {
    std::lock_guard lock(handlersMutex_);
    auto [it, inserted] = handlers_.emplace(type, Registered{owner, std::move(handler), maxBatch, eachAlone});
    if (!inserted) throw std::invalid_argument("job type '" + type + "' already has a handler from '" + it->second.owner + "'");
}

void JobRunner::removeOwner(const std::string& owner) {
    std::lock_guard lock(handlersMutex_);
    for (auto it = handlers_.begin(); it != handlers_.end();) it = it->second.owner == owner ? handlers_.erase(it) : std::next(it);
}

JobRunner::Row JobRunner::rowFor(const std::string& type, const std::string& payload, const sdk::EnqueueOptions& options,
                               std::int64_t nowMs) const {
    if (queueFor(type))
        throw std::invalid_argument("job type '" + type + "' is queued in " + queueFor(type)->table + ", not in jobs");
    Row row;
    row.type = type;
    row.payload = payload;
    row.maxAttempts = options.maxAttempts > 0 ? options.maxAttempts : options_.maxAttempts;
    row.runAt = nowMs + options.delay.count();
    row.createdAt = nowMs;
    if (!options.refTable.empty()) {
        if (!trackedTables().count(options.refTable)) throw std::invalid_argument("jobs cannot track table '" + options.refTable + "'");
        row.refTable = options.refTable;
        row.refId = options.refId;
    }
    return row;
}

std::int64_t JobRunner::enqueue(Poco::Data::Session& session, const std::string& type, const std::string& payload,
                               const sdk::EnqueueOptions& options) {
    Row row = rowFor(type, payload, options, clock_.nowMillis());
    Poco::Int64 id = 0;
    session << "INSERT INTO jobs (type, payload, status, attempts, max_attempts, run_at, created_at, updated_at, ref_table, ref_id) "
               "VALUES ($1, $2, 'pending', 0, $3, $4, $5, $5, $6, $7) RETURNING id",
        use(row.type), use(row.payload), use(row.maxAttempts), use(row.runAt), use(row.createdAt), use(row.refTable),
        use(row.refId), into(id), now;
    return id;
}

void JobRunner::enqueueAll(Poco::Data::Session& session, const std::vector<sdk::NewJob>& jobs) {
    // Both engines take a few hundred rows of 8 parameters in one statement (SQLite allows 32,766
    // parameters, PostgreSQL 65,535).
    constexpr std::size_t kRowsPerStatement = 256;
    const std::int64_t nowMs = clock_.nowMillis();
    std::vector<Row> rows;  // bound by reference: filled before the first binding, never resized after
    rows.reserve(jobs.size());
    for (const sdk::NewJob& job : jobs) rows.push_back(rowFor(job.type, job.payload, job.options, nowMs));
    for (std::size_t first = 0; first < rows.size(); first += kRowsPerStatement) {
        const std::size_t last = std::min(rows.size(), first + kRowsPerStatement);
        std::string sql =
            "INSERT INTO jobs (type, payload, status, attempts, max_attempts, run_at, created_at, updated_at, ref_table, ref_id) VALUES ";
        Poco::Data::Statement insert(session);
        const sdk::SqlDialect& dialect = database_.sql();
        std::size_t n = 0;
        const auto next = [&] { return dialect.placeholder(++n); };
        for (std::size_t i = first; i < last; ++i) {
            // type, payload, 'pending', 0, max_attempts, run_at, created_at, updated_at, ref_table, ref_id
            sql += i == first ? "(" : ", (";
            sql += next();
            sql += ", " + next();
            sql += ", 'pending', 0";
            for (int column = 0; column < 6; ++column) sql += ", " + next();
            sql += ")";
        }
        insert << sql;
        for (std::size_t i = first; i < last; ++i) {
            Row& row = rows[i];
            insert, use(row.type), use(row.payload), use(row.maxAttempts), use(row.runAt), use(row.createdAt), use(row.createdAt),
                use(row.refTable), use(row.refId);
        }
        insert.execute();
    }
}

void JobRunner::enqueueAll(sdk::PreparedSession& db, const std::vector<sdk::NewJob>& jobs) {
    if (jobs.empty()) return;
    const std::int64_t nowMs = clock_.nowMillis();
    sdk::JsonRows rows;
    for (const sdk::NewJob& job : jobs) {
        const Row row = rowFor(job.type, job.payload, job.options, nowMs);
        rows.row().add(row.type).add(row.payload).add(row.maxAttempts).add(row.runAt).add(row.refTable).add(row.refId);
    }
    // One text for every batch size, so it is prepared once per session; rows keep their order.
    static const std::string sql =
        "INSERT INTO jobs (type, payload, status, attempts, max_attempts, run_at, created_at, updated_at, ref_table, ref_id) "
        "SELECT r.value ->> 0, r.value ->> 1, 'pending', 0, CAST(r.value ->> 2 AS INTEGER), CAST(r.value ->> 3 AS BIGINT), $2, $2, "
        "r.value ->> 4, CAST(r.value ->> 5 AS BIGINT) FROM " +
        database_.sql().jsonRows("$1", "r") + " ORDER BY r.key";
    db.run(sql, {rows.text(), static_cast<Poco::Int64>(nowMs)});
}

void JobRunner::wake() {
    {
        std::lock_guard lock(wakeMutex_);
        ++wakeCount_;
    }
    wakeup_.notify_one();
}

void JobRunner::start() {
    stopping_ = false;
    for (int i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { workerLoop(); });
    if (options_.threads > 0) leaseKeeper_ = std::thread([this] { keepLeases(); });
}

void JobRunner::keepLeases() {
    const auto every = std::chrono::milliseconds(options_.leaseSeconds * 1000LL / 3);
    while (!stopping_) {
        {
            std::unique_lock lock(wakeMutex_);
            leaseKeeperWake_.wait_for(lock, every, [&] { return stopping_.load(); });
        }
        if (stopping_) return;
        try {
            Poco::Data::Session session = database_.session();
            Poco::Int64 until = clock_.nowMillis() + options_.leaseSeconds * 1000LL;
            std::string worker = options_.workerId;
            // Relaxed: an extension lost to a crash does not matter, the crash ends the jobs anyway.
            sdk::Transaction transaction(database_, session, sdk::Durability::Relaxed);
            session << "UPDATE jobs SET locked_until = $1 WHERE status = 'running' AND locked_by = $2", use(until), use(worker), now;
            for (const QueueTable& queue : queueTables())  // table names from queueTables(), never from input
                session << "UPDATE " + queue.table + " SET locked_until = $1 WHERE status = 'processing' AND locked_by = $2", use(until),
                    use(worker), now;
            transaction.commit();
        } catch (const std::exception& error) {
            Poco::Logger::get("host.jobs").warning("cannot extend this host's leases: " + sdk::errorText(error));
        }
    }
}

void JobRunner::stop() {
    {
        // Under the lock, so that no waiter checks stopping_ just before it is set and then sleeps.
        std::lock_guard lock(wakeMutex_);
        stopping_ = true;
    }
    wakeup_.notify_all();
    leaseKeeperWake_.notify_all();
    for (auto& worker : workers_)
        if (worker.joinable()) worker.join();
    workers_.clear();
    if (leaseKeeper_.joinable()) leaseKeeper_.join();
}

std::size_t JobRunner::runUntilIdle() {
    std::size_t ran = 0;
    reclaimExpiredLeases();
    std::unique_ptr<sdk::PreparedSession> db;
    while (claimAndRun(db)) ++ran;
    return ran;
}

void JobRunner::workerLoop() {
    // The worker's connection with the queue's statements prepared, kept while there is work (a
    // busy worker holds it and its handler's session), back to the pool when the worker waits,
    // dropped after an error.
    std::unique_ptr<sdk::PreparedSession> db;
    while (!stopping_) {
        bool ran = false;
        try {
            reclaimExpiredLeases();
            ran = claimAndRun(db);
        } catch (const std::exception& error) {
            db.reset();
            // The database is unreachable or busy: wait a poll interval rather than spin.
            Poco::Logger::get("host.jobs").error("job worker: " + sdk::errorText(error));
        }
        if (ran) continue;
        db.reset();
        std::unique_lock lock(wakeMutex_);
        const std::uint64_t seen = wakeCount_;
        wakeup_.wait_for(lock, options_.pollInterval, [&] { return stopping_ || wakeCount_ != seen; });
    }
}

std::string JobRunner::queueClaimSql(const sdk::SqlDialect& sql, const QueueTable& queue) {
    // The same claim as the jobs': the queue table's status 'processing' is the jobs' 'running'.
    return "UPDATE " + queue.table + " SET status = 'processing', attempts = attempts + 1, locked_by = $1, locked_until = $2 "
           "WHERE id" +
           sql.inSubquery("SELECT id FROM " + queue.table + " WHERE status = 'pending' AND run_at <= $3 ORDER BY run_at, id LIMIT $4" +
                          sql.skipLocked()) +
           " RETURNING id, attempts";
}

bool JobRunner::anythingDue(sdk::PreparedSession& db, const std::map<std::size_t, std::vector<std::string>>& typesByBatch,
                            const std::vector<std::pair<const QueueTable*, std::size_t>>& queues, Poco::Int64 nowMs) {
    std::string sql = "SELECT 1 WHERE EXISTS (SELECT 1 FROM jobs WHERE status = 'pending' AND run_at <= $1 AND type IN (";
    std::vector<sdk::SqlParam> params{nowMs};
    for (const auto& [limit, types] : typesByBatch)
        for (const std::string& type : types) {
            sql += (params.size() > 1 ? ", $" : "$") + std::to_string(params.size() + 1);
            params.emplace_back(type);
        }
    if (params.size() == 1) sql += "NULL";
    sql += "))";
    for (const auto& [queue, limit] : queues)  // table names from queueTables(), never from input
        sql += " OR EXISTS (SELECT 1 FROM " + queue->table + " WHERE status = 'pending' AND run_at <= $1)";
    return db.run(sql, params) > 0;
}

std::vector<sdk::Job> JobRunner::claim(sdk::PreparedSession& db, const std::map<std::size_t, std::vector<std::string>>& typesByBatch,
                                       const std::vector<std::pair<const QueueTable*, std::size_t>>& queues) {
    std::vector<sdk::Job> jobs;
    if (typesByBatch.empty() && queues.empty()) return jobs;
    const Poco::Int64 nowMs = clock_.nowMillis();
    const Poco::Int64 lockedUntil = nowMs + options_.leaseSeconds * 1000LL;
    const bool oneWriter = database_.sql().singleWriter();
    // On a single-writer engine a read first: a worker woken while another runs the events' batch
    // (or polling) then does not take the write turn, which the webhook's commit is waiting for,
    // only to find nothing. A read does not wait for the writer.
    if (oneWriter && !anythingDue(db, typesByBatch, queues, nowMs)) return jobs;
    const auto claimQueued = [&](const QueueTable& queue, std::size_t limit) {
        return db.run(queueClaimSql(database_.sql(), queue), {options_.workerId, lockedUntil, nowMs, static_cast<Poco::Int64>(limit)},
                      [&](const sdk::SqlRow& row) {
                          sdk::Job job;
                          job.id = row.integer(0);
                          job.type = queue.type;
                          job.payload = sdk::webhookEventJobPayload(job.id);
                          job.attempts = static_cast<int>(row.integer(1));
                          job.maxAttempts = options_.maxAttempts;
                          job.refTable = queue.table;
                          job.refId = job.id;
                          jobs.push_back(std::move(job));
                      });
    };
    // Relaxed: a claim lost to a machine crash only means the job runs again.
    sdk::PreparedTransaction transaction(database_, db, sdk::Durability::Relaxed);
    std::vector<std::pair<const QueueTable*, std::size_t>> unclaimed;  // single writer: the rest of a queue's limit
    for (const auto& [queue, queueLimit] : queues) {
        const std::size_t first = oneWriter ? std::min(queueLimit, kRowsPerWrite) : queueLimit;
        if (claimQueued(*queue, first) == first && queueLimit > first) unclaimed.emplace_back(queue, queueLimit - first);
    }
    // The queue tables' rows are marked by their own claim above: only the jobs' rows may track one.
    const std::size_t fromQueues = jobs.size();
    for (const auto& [limit, types] : typesByBatch) {
        // Only types this host can run: hosts with different plugin sets can share one queue.
        std::string in;
        for (std::size_t i = 0; i < types.size(); ++i) in += (i ? ", $" : "$") + std::to_string(i + 4);
        const std::string limitParameter = "$" + std::to_string(types.size() + 4);
        const std::string sql =
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2, updated_at = $3 "
            "WHERE id" +
            database_.sql().inSubquery("SELECT id FROM jobs WHERE status = 'pending' AND run_at <= $3 AND type IN (" + in + ") "
                                       "ORDER BY run_at, id LIMIT " + limitParameter + database_.sql().skipLocked()) +
            " RETURNING id, type, payload, attempts, max_attempts, ref_table, ref_id";
        std::vector<sdk::SqlParam> params{options_.workerId, lockedUntil, nowMs};
        for (const std::string& type : types) params.emplace_back(type);
        params.emplace_back(static_cast<Poco::Int64>(limit));
        // SQLite: one statement both picks and takes the rows, under the database's write lock.
        db.run(sql, params, [&](const sdk::SqlRow& row) {
            sdk::Job job;
            job.id = row.integer(0);
            job.type = row.text(1);
            job.payload = row.text(2);
            job.attempts = static_cast<int>(row.integer(3));
            job.maxAttempts = static_cast<int>(row.integer(4));
            job.refTable = row.text(5);  // "" when NULL
            job.refId = row.integer(6);  // 0 when NULL
            jobs.push_back(std::move(job));
        });
    }
    if (jobs.size() > fromQueues)
        updateTracked(db, database_.sql(), nowMs, std::vector<sdk::Job>(jobs.begin() + static_cast<long>(fromQueues), jobs.end()), "running");
    transaction.commit();
    // Single writer: the rest of a large queue batch in writes of kRowsPerWrite rows, between which
    // the webhook's commit takes its turn (a claim of 1,000 events held it for 14 ms).
    for (auto& [queue, left] : unclaimed)
        while (left > 0) {
            const std::size_t chunk = std::min(left, kRowsPerWrite);
            sdk::PreparedTransaction more(database_, db, sdk::Durability::Relaxed);
            const std::size_t got = claimQueued(*queue, chunk);
            more.commit();
            if (got < chunk) break;
            left -= chunk;
        }
    // RETURNING gives no order; run them oldest first.
    std::sort(jobs.begin(), jobs.end(), [](const sdk::Job& a, const sdk::Job& b) { return a.id < b.id; });  // within a type: ids of one source
    return jobs;
}

bool JobRunner::BatchTurns::take(const std::string& type) {
    std::lock_guard lock(runner_.batchTurnsMutex_);
    if (runner_.batchTurns_.count(type) > 0 && runner_.database_.requestsWroteWithin(runner_.options_.requestsQuietAfter)) {
        runner_.batchTurnWanted_ = true;
        return false;
    }
    runner_.batchTurns_.insert(type);
    taken_.push_back(type);
    return true;
}

JobRunner::BatchTurns::~BatchTurns() {
    if (taken_.empty()) return;
    bool wanted = false;
    {
        std::lock_guard lock(runner_.batchTurnsMutex_);
        for (const std::string& type : taken_) runner_.batchTurns_.erase(runner_.batchTurns_.find(type));
        wanted = std::exchange(runner_.batchTurnWanted_, false);
    }
    // A worker woken for this type while it was taken went back to sleep: wake one, or a job
    // enqueued then would wait for the poll interval.
    if (wanted) runner_.wake();
}

bool JobRunner::claimAndRun(std::unique_ptr<sdk::PreparedSession>& db) {
    // One snapshot per round: the types to claim, the batch size, and the handlers to run.
    std::map<std::string, Registered> handlers;
    std::map<std::size_t, std::vector<std::string>> typesByBatch;
    std::vector<std::pair<const QueueTable*, std::size_t>> queues;
    {
        std::lock_guard lock(handlersMutex_);
        handlers = handlers_;
    }
    // On a single-writer engine, while requests write, a batch-handled type runs one batch at a
    // time on the host: its writes take turns on the one writer anyway, and workers that each
    // claim the few events due at that moment process them at several times the cost per event,
    // in CPU the webhook door needs (bench/flood.sh with 4 workers: ingest at a fifth of 1
    // worker's). The one worker's batch grows with the backlog instead. When no request has
    // written for a while (a backlog after a flood), batches run side by side: one reads and
    // parses while another writes (bench/process.sh, 2 workers: 13,119-14,935 events/s against
    // 9,497-10,253 one at a time).
    BatchTurns turns(*this);
    for (const auto& [type, registered] : handlers) {
        if (registered.maxBatch > 1 && !registered.eachAlone && database_.sql().singleWriter() && !turns.take(type)) continue;
        if (const QueueTable* queue = queueFor(type)) {
            queues.emplace_back(queue, registered.maxBatch);
            continue;
        }
        typesByBatch[registered.maxBatch].push_back(type);
    }
    if (!db) db = std::make_unique<sdk::PreparedSession>(database_.session(), database_.sql());
    const std::vector<sdk::Job> jobs = claim(*db, typesByBatch, queues);
    if (jobs.empty()) return false;
    std::vector<Outcome> outcomes;
    // Jobs of one type go to their handler together, in batches of at most its maxBatch.
    std::map<std::string, std::vector<sdk::Job>> byType;
    for (const sdk::Job& job : jobs) byType[job.type].push_back(job);
    for (const auto& [type, group] : byType) {
        auto it = handlers.find(type);
        if (it == handlers.end()) {
            Registered none;
            for (const sdk::Job& job : group) outcomes.push_back(runAlone(job, none));
            continue;
        }
        const Registered& registered = it->second;
        for (std::size_t at = 0; at < group.size(); at += registered.maxBatch) {
            const std::vector<sdk::Job> batch(group.begin() + static_cast<long>(at),
                                              group.begin() + static_cast<long>(std::min(group.size(), at + registered.maxBatch)));
            if (batch.size() == 1 || registered.eachAlone) {
                for (const sdk::Job& job : batch) outcomes.push_back(runAlone(job, registered));
                continue;
            }
            std::vector<sdk::JobFailure> failures;
            try {
                failures = registered.handler(batch);
            } catch (...) {
                // The handler knows nothing of what it did: find the job at fault by running each alone.
                for (const sdk::Job& job : batch) outcomes.push_back(runAlone(job, registered));
                continue;
            }
            std::map<std::int64_t, const sdk::JobFailure*> failed;
            for (const sdk::JobFailure& failure : failures) failed.emplace(failure.jobId, &failure);
            for (const sdk::Job& job : batch) {
                const auto f = failed.find(job.id);
                if (f == failed.end()) outcomes.push_back({job, "done", "", 0});
                else outcomes.push_back(judge(job, registered, f->second->reason, f->second->permanent, f->second->retryAfter));
            }
        }
    }
    finish(*db, outcomes);
    return true;
}

JobRunner::Outcome JobRunner::runAlone(const sdk::Job& job, const Registered& registered) {
    try {
        if (!registered.handler) throw sdk::PermanentJobFailure("no handler for job type '" + job.type + "'");
        const std::vector<sdk::JobFailure> failures = registered.handler({job});
        for (const sdk::JobFailure& failure : failures)
            if (failure.jobId == job.id) return judge(job, registered, failure.reason, failure.permanent, failure.retryAfter);
        return {job, "done", "", 0};
    } catch (const sdk::PermanentJobFailure& e) {
        return judge(job, registered, e.what(), true, std::chrono::milliseconds(0));
    } catch (const sdk::RetryJobLater& e) {
        return judge(job, registered, e.what(), false, e.delay);
    } catch (const std::exception& e) {
        return judge(job, registered, sdk::errorText(e), false, std::chrono::milliseconds(0));
    } catch (...) {
        return judge(job, registered, "unknown exception", false, std::chrono::milliseconds(0));
    }
}

JobRunner::Outcome JobRunner::judge(const sdk::Job& job, const Registered& registered, const std::string& error, bool permanent,
                                  std::chrono::milliseconds delay) {
    auto& log = Poco::Logger::get(registered.owner.empty() ? "host.jobs" : "plugin." + registered.owner);
    const std::string what = "job " + std::to_string(job.id) + " (" + job.type + ") attempt " + std::to_string(job.attempts) +
                             "/" + std::to_string(job.maxAttempts);
    if (permanent || job.attempts >= job.maxAttempts) {
        log.error(what + " failed for good: " + error);
        return {job, "failed", error, 0};
    }
    delay = std::max(delay, backoff(job.attempts));
    log.warning(what + " failed, retrying in " + std::to_string(delay.count()) + " ms: " + error);
    return {job, "pending", error, clock_.nowMillis() + delay.count()};
}

void JobRunner::finish(sdk::PreparedSession& db, const std::vector<Outcome>& outcomes) {
    // Single writer: a large batch in writes of kRowsPerWrite outcomes, as its claim (the finish of
    // 1,000 events held the writer for 8-20 ms, and the webhook's commit waited behind it).
    if (database_.sql().singleWriter() && outcomes.size() > kRowsPerWrite) {
        for (std::size_t at = 0; at < outcomes.size(); at += kRowsPerWrite)
            finish(db, std::vector<Outcome>(outcomes.begin() + static_cast<long>(at),
                                            outcomes.begin() + static_cast<long>(std::min(outcomes.size(), at + kRowsPerWrite))));
        return;
    }
    const Poco::Int64 nowMs = clock_.nowMillis();
    // Relaxed: the job's inputs are durable and handlers are idempotent, so a finish lost to a
    // machine crash only means the job runs again.
    sdk::PreparedTransaction transaction(database_, db, sdk::Durability::Relaxed);
    const std::string& worker = options_.workerId;
    for (const QueueTable& queue : queueTables()) {
        std::vector<Outcome> queued;
        for (const Outcome& outcome : outcomes)
            if (outcome.job.type == queue.type) queued.push_back(outcome);
        if (!queued.empty()) finishQueued(db, queue, queued, nowMs);
    }
    // The jobs done, the common case, with one statement for the jobs and one per tracked table.
    std::vector<sdk::Job> done;
    sdk::JsonRows doneIds;
    for (const Outcome& outcome : outcomes)
        if (outcome.status == "done" && !queueFor(outcome.job.type)) {
            done.push_back(outcome.job);
            doneIds.row().add(static_cast<Poco::Int64>(outcome.job.id));
        }
    if (!done.empty())
        db.run("UPDATE jobs SET status = 'done', last_error = NULL, locked_by = NULL, locked_until = NULL, updated_at = $1, "
               "finished_at = $1 WHERE locked_by = $2 AND id" +
                   database_.sql().inSubquery("SELECT CAST(r.value ->> 0 AS BIGINT) FROM " + database_.sql().jsonRows("$3", "r")),
               {nowMs, worker, doneIds.text()});
    updateTracked(db, database_.sql(), nowMs, done, "done");
    for (const Outcome& outcome : outcomes) {
        if (outcome.status == "done" || queueFor(outcome.job.type)) continue;
        const Poco::Int64 id = outcome.job.id, runAt = outcome.runAt;
        Poco::Nullable<std::string> lastError;
        if (!outcome.error.empty()) lastError = outcome.error.substr(0, 4000);
        if (outcome.status == "pending") {
            db.run("UPDATE jobs SET status = 'pending', run_at = $1, last_error = $2, locked_by = NULL, locked_until = NULL, "
                   "updated_at = $3 WHERE id = $4 AND locked_by = $5",
                   {runAt, lastError, nowMs, id, worker});
        } else {
            db.run("UPDATE jobs SET status = $1, last_error = $2, locked_by = NULL, locked_until = NULL, updated_at = $3, "
                   "finished_at = $3 WHERE id = $4 AND locked_by = $5",
                   {outcome.status, lastError, nowMs, id, worker});
        }
        updateTracked(db, database_.sql(), nowMs, {outcome.job}, outcome.status, outcome.error);
    }
    transaction.commit();
    for (const Outcome& outcome : outcomes)
        (outcome.status == "done" ? done_ : outcome.status == "failed" ? failed_ : retried_).increment();
}

void JobRunner::finishQueued(sdk::PreparedSession& db, const QueueTable& queue, const std::vector<Outcome>& outcomes, Poco::Int64 nowMs) {
    const std::string& worker = options_.workerId;
    // `locked_by`: a row whose lease expired and that another host claimed since is not ours to finish.
    sdk::JsonRows doneIds;
    for (const Outcome& outcome : outcomes)
        if (outcome.status == "done") doneIds.row().add(static_cast<Poco::Int64>(outcome.job.id));
    if (!doneIds.empty())
        db.run("UPDATE " + queue.table + " SET status = 'processed', last_error = NULL, processed_at = $1, locked_by = NULL, "
               "locked_until = NULL WHERE locked_by = $2 AND id" +
                   database_.sql().inSubquery("SELECT CAST(r.value ->> 0 AS BIGINT) FROM " + database_.sql().jsonRows("$3", "r")),
               {nowMs, worker, doneIds.text()});
    // Retries and failures are rare and each has its own error and time: a statement each.
    for (const Outcome& outcome : outcomes) {
        if (outcome.status == "done") continue;
        Poco::Nullable<std::string> lastError;
        if (!outcome.error.empty()) lastError = outcome.error.substr(0, 4000);
        const Poco::Int64 id = outcome.job.id;
        if (outcome.status == "pending")
            db.run("UPDATE " + queue.table + " SET status = 'pending', run_at = $1, last_error = $2, processed_at = NULL, "
                   "locked_by = NULL, locked_until = NULL WHERE id = $3 AND locked_by = $4",
                   {static_cast<Poco::Int64>(outcome.runAt), lastError, id, worker});
        else
            db.run("UPDATE " + queue.table + " SET status = 'failed', last_error = $1, processed_at = $2, locked_by = NULL, "
                   "locked_until = NULL WHERE id = $3 AND locked_by = $4",
                   {lastError, nowMs, id, worker});
    }
}

void JobRunner::reclaimExpiredLeases() {
    {
        std::lock_guard lock(sweepMutex_);
        const auto sweepTime = std::chrono::steady_clock::now();
        if (lastSweep_ != std::chrono::steady_clock::time_point{} && sweepTime - lastSweep_ < std::chrono::seconds(5)) return;
        lastSweep_ = sweepTime;
    }
    // A host that died mid-job leaves its lease behind; once it expires the job runs again.
    const std::int64_t nowMs = clock_.nowMillis();
    Poco::Data::Session session = database_.session();
    Poco::Data::Statement statement(session);
    statement << "UPDATE jobs SET status = 'pending', locked_by = NULL, locked_until = NULL, updated_at = $1, "
                 "last_error = 'lease expired (worker stopped or crashed)' WHERE status = 'running' AND locked_until < $1",
        bind(nowMs);
    std::size_t reclaimed = statement.execute();
    for (const QueueTable& queue : queueTables()) {
        Poco::Data::Statement queued(session);
        queued << "UPDATE " + queue.table + " SET status = 'pending', locked_by = NULL, locked_until = NULL, "
                  "last_error = 'lease expired (worker stopped or crashed)' WHERE status = 'processing' AND locked_until < $1",
            bind(nowMs);
        reclaimed += queued.execute();
    }
    if (reclaimed > 0) Poco::Logger::get("host.jobs").warning("reclaimed " + std::to_string(reclaimed) + " job(s) with expired leases");
}

std::chrono::milliseconds JobRunner::backoff(int attempts) const {
    // Exponential with "equal jitter": half fixed, half random, so retries of a burst spread out.
    thread_local std::mt19937_64 random{std::random_device{}()};
    const double exponential = static_cast<double>(options_.retryBase.count()) * std::pow(2.0, std::max(0, attempts - 1));
    const double capped = std::min(exponential, static_cast<double>(options_.retryCap.count()));
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(capped * jitter(random)));
}

}  // namespace tawasul::host
