#include "EventWriter.hpp"

#include <algorithm>
#include <memory>

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>

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
            if (queue_.empty()) return;  // stopping, and everything queued is written
            while (!queue_.empty() && batch.size() < maxBatch_) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        writeBatch(batch);
    }
}

void EventWriter::writeBatch(std::deque<Pending>& batch) {
    // One INSERT for the batch's events and one for their jobs: a statement per row costs more
    // than the row itself (Poco prepares each statement anew).
    std::vector<Poco::Int64> ids;
    try {
        std::vector<Poco::Data::BLOB> payloads;  // bound by reference: filled before binding, never resized after
        payloads.reserve(batch.size());
        for (const auto& pending : batch)
            payloads.emplace_back(reinterpret_cast<const unsigned char*>(pending.event.payload.data()), pending.event.payload.size());
        std::string sql = "INSERT INTO whatsapp_webhook_events (received_at, signature, payload, status, attempts) VALUES ";
        const sdk::SqlDialect& dialect = database_.sql();
        for (std::size_t i = 0; i < batch.size(); ++i) {
            sql += i ? ", (" : "(";
            sql += dialect.placeholders(3 * i + 1, 2);
            // Poco binds an empty BLOB as NULL: an empty signed body (Meta signs those too) would
            // break the NOT NULL payload and with it every event of the batch (found by
            // HostileBodiesTest); COALESCE stores it as the empty bytes it was.
            sql += ", COALESCE(" + dialect.placeholder(3 * i + 3) + ", " + dialect.emptyBlob() + ")";
            sql += ", 'pending', 0)";
        }
        sql += " RETURNING id";

        // From the reserve: a flood of requests elsewhere must not make Meta's deliveries fail.
        Poco::Data::Session session = database_.reservedSession();
        sdk::Transaction transaction(database_, session);
        Poco::Data::Statement insert(session);
        insert << sql;
        for (std::size_t i = 0; i < batch.size(); ++i)
            insert, use(batch[i].event.receivedAt), use(batch[i].event.signature), use(payloads[i]);
        insert, into(ids);
        insert.execute();
        if (ids.size() != batch.size())
            throw std::runtime_error("stored " + std::to_string(ids.size()) + " webhook events of " + std::to_string(batch.size()));
        // Rows of one INSERT take their ids in the order of its VALUES; RETURNING promises no order.
        std::sort(ids.begin(), ids.end());

        std::vector<sdk::NewJob> jobs(batch.size());
        for (std::size_t i = 0; i < batch.size(); ++i) {
            jobs[i].type = sdk::kProcessWebhookEventJob;
            jobs[i].payload = sdk::webhookEventJobPayload(ids[i]);
            jobs[i].options.refTable = sdk::kWebhookEventsTable;
            jobs[i].options.refId = ids[i];
        }
        jobs_.enqueueAll(session, jobs);
        transaction.commit();
    } catch (...) {
        const auto error = std::current_exception();
        for (auto& pending : batch) pending.done(0, error);
        return;
    }
    batchSizes_.observe(static_cast<double>(batch.size()));
    jobs_.wake();
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(ids[i], nullptr);
}

}  // namespace tawasul::plugins::webhook_receiver
