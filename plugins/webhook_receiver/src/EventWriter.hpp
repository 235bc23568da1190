#pragma once
// Group commit for webhook events. Requests hand their event to one writer thread, which stores
// everything that queued up while the previous transaction was committing in one new transaction
// (event rows and their jobs), then calls each request back: the webhook POST, an async route,
// answers from that callback, so no thread waits per request and one wake-up answers a whole batch.
// A lone request is written at once, a burst shares commits: the batch adapts to the load with no timer.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Jobs.hpp"
#include "tawasul/sdk/Metrics.hpp"
#include "tawasul/sdk/PreparedSession.hpp"

namespace tawasul::plugins::webhook_receiver {

struct IncomingEvent {
    std::string payload;    // raw bytes as received
    std::string signature;  // the X-Hub-Signature-256 header
    std::int64_t receivedAt = 0;
};

class EventWriter {
public:
    EventWriter(sdk::Database& database, sdk::JobQueue& jobs, sdk::Metrics& metrics, std::size_t maxBatch);
    ~EventWriter();

    // Called on the writer's thread once the event's transaction is committed (durable: SQLite runs
    // with synchronous=FULL), with its id, or with the error that kept it from being stored.
    using Stored = std::function<void(std::int64_t id, std::exception_ptr error)>;

    // Queues the event; `done` is called later, exactly once. Throws when the writer is stopping.
    void submit(IncomingEvent event, Stored done);
    // Writes what is queued, then ends the writer thread. Later submit() calls throw.
    void stop();

private:
    struct Pending {
        IncomingEvent event;
        Stored done;
    };
    void run();
    void writeBatch(std::deque<Pending>& batch);
    // The INSERT of `rows` events: one text per power of two, each prepared once on the session.
    const std::string& insertSql(std::size_t rows);

    sdk::Database& database_;
    sdk::JobQueue& jobs_;
    sdk::Histogram& batchSizes_;
    std::size_t maxBatch_;
    // The writer's own session, kept between batches so that its statements are prepared once
    // (Poco parsed a few hundred placeholders per batch anew: a quarter of the writer's time,
    // perf). A batch is written as its binary digits (34 events: an INSERT of 32, then one of 2).
    // Dropped after any failure (the connection may be what failed); the next batch opens another.
    std::unique_ptr<sdk::PreparedSession> session_;
    std::vector<std::string> insertSql_;  // by log2 of the rows
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Pending> queue_;
    bool stopping_ = false;
    std::thread writer_;
};

}  // namespace tawasul::plugins::webhook_receiver
