#pragma once
// The durable job queue: jobs are rows written in the caller's transaction, claimed by worker
// threads with a lease, retried with backoff. Delivery is at least once: handlers are idempotent.
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

class PreparedSession;

struct Job {
    std::int64_t id = 0;
    std::string type;
    std::string payload;  // JSON
    int attempts = 0;     // including this one
    int maxAttempts = 0;
    std::string refTable;  // the row this job is about, if any
    std::int64_t refId = 0;
};

// Throw from a handler to fail for good, without further attempts.
class TAWASUL_SDK_API PermanentJobFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
    ~PermanentJobFailure() override;
};

// Throw from a handler to try again after at least `delay` (e.g. a provider asked to back off).
class TAWASUL_SDK_API RetryJobLater : public std::runtime_error {
public:
    RetryJobLater(const std::string& reason, std::chrono::milliseconds delay)
        : std::runtime_error(reason), delay(delay) {}
    ~RetryJobLater() override;
    std::chrono::milliseconds delay;
};

struct EnqueueOptions {
    std::chrono::milliseconds delay{0};
    int maxAttempts = 0;  // 0: workers.max_attempts
    std::string refTable;
    std::int64_t refId = 0;
};

// One job of a batch written with JobQueue::enqueueAll.
struct NewJob {
    std::string type;
    std::string payload;  // JSON
    EnqueueOptions options;
};

using JobHandler = std::function<void(const Job&)>;

// A job of a batch that its handler could not do. Every job of the batch it does not name is done.
struct JobFailure {
    std::int64_t jobId = 0;
    std::string reason;
    bool permanent = false;                 // fail for good (the input is wrong), or retry with backoff
    std::chrono::milliseconds retryAfter{0};  // at least this long before the retry
};

// Takes several jobs of one type at once, to do their work in few transactions, and names the jobs
// that failed: the others are done, and none is run again. A handler that throws instead says it
// knows nothing of what it did: the queue then runs each job of the batch again alone (so the
// handler's writes must be idempotent, as every job's are).
using BatchJobHandler = std::function<std::vector<JobFailure>(const std::vector<Job>&)>;

class TAWASUL_SDK_API JobQueue {
public:
    virtual ~JobQueue();
    // One handler per job type; a return is success, an exception a failed attempt.
    virtual void handle(const std::string& type, JobHandler handler) = 0;
    // Like handle(), handing over up to maxBatch due jobs of this type at a time.
    virtual void handleBatch(const std::string& type, std::size_t maxBatch, BatchJobHandler handler) = 0;
    // Writes the job in the caller's session (and so its open transaction). Call wake() after
    // the commit so that a worker picks it up at once.
    virtual std::int64_t enqueue(Poco::Data::Session& session, const std::string& type,
                                 const std::string& payload, const EnqueueOptions& options = {}) = 0;
    // Writes several jobs with one statement per few hundred, in the caller's session: for a caller
    // that stores rows in batches (the webhook receiver), one row at a time costs more than the row.
    virtual void enqueueAll(Poco::Data::Session& session, const std::vector<NewJob>& jobs) = 0;
    // The same in a PreparedSession (and its open transaction): one prepared statement whatever
    // the number of jobs, for a writer that enqueues a batch per transaction, many times a second.
    virtual void enqueueAll(PreparedSession& session, const std::vector<NewJob>& jobs) = 0;
    virtual void wake() = 0;
};

}  // namespace tawasul::sdk
