#include "EventWriter.hpp"

#include <algorithm>
#include <memory>

#include "tawasul/whatsapp/Webhooks.hpp"

namespace tawasul::plugins::webhook_receiver {

using namespace Poco::Data::Keywords;

EventWriter::EventWriter(sdk::Database& database, sdk::JobQueue& jobs, sdk::Metrics& metrics, std::size_t maxBatch)
    : database_(database),
      jobs_(jobs),
      batchSizes_(metrics.histogram("tawasul_webhook_commit_batch_size", "Webhook events stored per transaction",
                                    {1, 2, 4, 8, 16, 32, 64, 128, 256})),
      maxBatch_(maxBatch),
      writer_([this] { run(); }) {}

EventWriter::~EventWriter() { stop(); }

void EventWriter::submit(IncomingEvent event, Stored done) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) throw std::runtime_error("the webhook receiver is stopping");
        queue_.push_back({std::move(event), std::move(done)});
    }
    ready_.notify_one();
}

void EventWriter::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !writer_.joinable()) return;
        stopping_ = true;
    }
    ready_.notify_one();
    if (writer_.joinable()) writer_.join();
}

void EventWriter::run() {
    for (;;) {
        std::deque<Pending> batch;
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {  // stopping, and everything queued is written
                session_.reset();
                return;
            }
            while (!queue_.empty() && batch.size() < maxBatch_) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        writeBatch(batch);
    }
}

const std::string& EventWriter::insertSql(std::size_t rows) {
    std::size_t power = 0;
    while ((std::size_t{1} << power) < rows) ++power;
    if (insertSql_.size() <= power) insertSql_.resize(power + 1);
    std::string& sql = insertSql_[power];
    if (sql.empty()) {
        // The event is its own queue entry (the host's JobRunner claims it from this table): due at once.
        sql = "INSERT INTO whatsapp_webhook_events (received_at, signature, payload, status, attempts, run_at) VALUES ";
        for (std::size_t i = 0; i < rows; ++i) {
            sql += i ? ", (" : "(";
            // `$n` on both engines (the prepared session numbers them for SQLite): run_at repeats
            // received_at's parameter, which an anonymous `?` could not.
            const std::string at = "$" + std::to_string(3 * i + 1);
            sql += at + ", $" + std::to_string(3 * i + 2) + ", $" + std::to_string(3 * i + 3) + ", 'pending', 0, " + at + ")";
        }
        sql += " RETURNING id";
    }
    return sql;
}

void EventWriter::writeBatch(std::deque<Pending>& batch) {
    std::vector<Poco::Int64> ids;
    ids.reserve(batch.size());
    try {
        // From the reserve: a flood of requests elsewhere must not make Meta's deliveries fail.
        if (!session_) session_ = std::make_unique<sdk::PreparedSession>(database_.reservedSession(), database_.sql());
        sdk::PreparedTransaction transaction(database_, *session_);  // Full: the 200 promises the bytes are on disk
        std::size_t rows = 1;
        while (rows * 2 <= batch.size()) rows *= 2;
        std::vector<sdk::SqlParam> params;
        std::vector<Poco::Int64> chunk;
        // Largest first: ids of a later INSERT in the same transaction are larger, so `ids` stays
        // in the order of the batch.
        for (std::size_t first = 0; rows > 0; rows /= 2) {
            if (batch.size() - first < rows) continue;
            params.clear();
            for (std::size_t i = first; i < first + rows; ++i) {
                const IncomingEvent& event = batch[i].event;
                params.emplace_back(static_cast<Poco::Int64>(event.receivedAt));
                params.emplace_back(event.signature);
                params.push_back(sdk::SqlParam::blob(event.payload));  // Meta's bytes as they came, an empty body too
            }
            chunk.clear();
            session_->run(insertSql(rows), params, [&](const sdk::SqlRow& row) { chunk.push_back(row.integer(0)); });
            if (chunk.size() != rows)
                throw std::runtime_error("stored " + std::to_string(chunk.size()) + " webhook events of " + std::to_string(rows));
            // Rows of one INSERT take their ids in the order of its VALUES; RETURNING promises no order.
            std::sort(chunk.begin(), chunk.end());
            ids.insert(ids.end(), chunk.begin(), chunk.end());
            first += rows;
        }
        transaction.commit();
    } catch (...) {
        session_.reset();  // the connection may be what failed: the next batch starts on another
        const auto error = std::current_exception();
        for (auto& pending : batch) pending.done(0, error);
        return;
    }
    batchSizes_.observe(static_cast<double>(batch.size()));
    jobs_.wake();
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(ids[i], nullptr);
}

}  // namespace tawasul::plugins::webhook_receiver
