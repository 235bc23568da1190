#pragma once
// Group commit for webhook events. Request threads hand their event to one writer thread and wait;
// the writer stores everything that queued up while the previous transaction was committing in one
// new transaction (event rows and their jobs), then releases each waiting request. A lone request is
// written at once, a burst shares commits: the batch adapts to the load with no timer.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Jobs.hpp"
#include "tawasul/sdk/Metrics.hpp"

namespace tawasul::plugins::webhook {

struct IncomingEvent {
    std::string payload;    // raw bytes as received
    std::string signature;  // the X-Hub-Signature-256 header
    std::int64_t receivedAt = 0;
};

class EventWriter {
public:
    EventWriter(sdk::Database& database, sdk::JobQueue& jobs, sdk::Metrics& metrics, std::size_t maxBatch);
    ~EventWriter();

    // Returns the event's id once the transaction holding it is committed (durable: SQLite runs
    // with synchronous=FULL). Throws when it could not be stored; nothing is then acknowledged.
    std::int64_t store(IncomingEvent event);
    // Writes what is queued, then ends the writer thread. Later store() calls throw.
    void stop();

private:
    struct Pending {
        IncomingEvent event;
        std::promise<std::int64_t> stored;
    };
    void run();
    void writeBatch(std::deque<std::shared_ptr<Pending>>& batch);

    sdk::Database& database_;
    sdk::JobQueue& jobs_;
    sdk::Histogram& batchSizes_;
    std::size_t maxBatch_;
    std::mutex mutex_;
    std::condition_variable ready_;
    // Shared with the waiting request, so that neither side frees it while the other still uses it.
    std::deque<std::shared_ptr<Pending>> queue_;
    bool stopping_ = false;
    std::thread writer_;
};

}  // namespace tawasul::plugins::webhook
