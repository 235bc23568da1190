#include "EventWriter.hpp"

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>

#include "tawasul/sdk/Webhooks.hpp"

namespace tawasul::plugins::webhook {

using namespace Poco::Data::Keywords;

EventWriter::EventWriter(sdk::Database& database, sdk::JobQueue& jobs, sdk::Metrics& metrics, std::size_t maxBatch)
    : database_(database),
      jobs_(jobs),
      batchSizes_(metrics.histogram("tawasul_webhook_commit_batch_size", "Webhook events stored per transaction",
                                    {1, 2, 4, 8, 16, 32, 64, 128, 256})),
      maxBatch_(maxBatch),
      writer_([this] { run(); }) {}

EventWriter::~EventWriter() { stop(); }

std::int64_t EventWriter::store(IncomingEvent event) {
    auto pending = std::make_shared<Pending>();
    pending->event = std::move(event);
    auto stored = pending->stored.get_future();
    {
        std::lock_guard lock(mutex_);
        if (stopping_) throw std::runtime_error("the webhook receiver is stopping");
        queue_.push_back(pending);
    }
    ready_.notify_one();
    return stored.get();
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
        std::deque<std::shared_ptr<Pending>> batch;
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and everything queued is written
            while (!queue_.empty() && batch.size() < maxBatch_) {
                batch.push_back(queue_.front());
                queue_.pop_front();
            }
        }
        writeBatch(batch);
    }
}

void EventWriter::writeBatch(std::deque<std::shared_ptr<Pending>>& batch) {
    std::vector<std::int64_t> ids;
    ids.reserve(batch.size());
    try {
        Poco::Data::Session session = database_.session();
        sdk::Transaction transaction(database_, session);
        for (const auto& pending : batch) {
            const IncomingEvent& event = pending->event;
            Poco::Data::BLOB payload(reinterpret_cast<const unsigned char*>(event.payload.data()), event.payload.size());
            std::string signature = event.signature;
            std::int64_t receivedAt = event.receivedAt;
            std::int64_t id = 0;
            session << "INSERT INTO whatsapp_webhook_events (received_at, signature, payload, status, attempts) "
                       "VALUES ($1, $2, $3, 'pending', 0) RETURNING id",
                use(receivedAt), use(signature), use(payload), into(id), now;
            sdk::EnqueueOptions options;
            options.refTable = sdk::kWebhookEventsTable;
            options.refId = id;
            jobs_.enqueue(session, sdk::kProcessWebhookEventJob, sdk::webhookEventJobPayload(id), options);
            ids.push_back(id);
        }
        transaction.commit();
    } catch (...) {
        const auto error = std::current_exception();
        for (const auto& pending : batch) pending->stored.set_exception(error);
        return;
    }
    batchSizes_.observe(static_cast<double>(batch.size()));
    jobs_.wake();
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->stored.set_value(ids[i]);
}

}  // namespace tawasul::plugins::webhook
