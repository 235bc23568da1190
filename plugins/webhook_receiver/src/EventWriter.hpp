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
#include <mutex>
#include <string>
#include <thread>

#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Jobs.hpp"
#include "tawasul/sdk/Metrics.hpp"

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

    sdk::Database& database_;
    sdk::JobQueue& jobs_;
    sdk::Histogram& batchSizes_;
    std::size_t maxBatch_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Pending> queue_;
    bool stopping_ = false;
    std::thread writer_;
};

}  // namespace tawasul::plugins::webhook_receiver
