// Turns stored webhook events into the timeline. The process_webhook_event jobs of a claimed batch
// are read, parsed, normalised, routed and matched outside any transaction, then written together
// (Timeline) in one short transaction, and the changes are published for the inbox once committed.
// A body that is not a WhatsApp notification fails its job for good, visibly.
#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>

#include "KeywordRules.hpp"
#include "Timeline.hpp"
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

namespace tawasul::plugins::inbound_router {
namespace {

using namespace Poco::Data::Keywords;

// On SQLite the one writer is shared with the webhook's group commit, which a request waits on:
// a processing transaction should hold it for about this long, so the batch it writes is sized
// from how long the last ones took.
constexpr double kSqliteWriteTargetMillis = 3.0;
// Below this the fixed cost of a transaction (claim, reads, a dozen statements) outweighs the rows.
constexpr std::size_t kSmallestWrite = 16;

class InboundRouterPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        const sdk::ConfigNode& config = context.config();
        config.allowOnly({"keywords", "default_region", "batch_size"});
        rules_ = config.has("keywords") ? KeywordRules::fromConfig(config.child("keywords")) : KeywordRules::defaults();
        phones_ = std::make_unique<sdk::PhoneNormalizer>(config.getString("default_region", "DZ"));
        context_ = &context;
        sdk::Metrics& metrics = context.metrics();
        processed_ = &metrics.counter("tawasul_webhook_events_processed_total", "Webhook events written to the timeline");
        messages_ = &metrics.counter("tawasul_inbound_messages_total", "New inbound messages");
        duplicates_ = &metrics.counter("tawasul_inbound_duplicates_total", "Inbound messages Meta delivered again");
        statuses_ = &metrics.counter("tawasul_inbound_statuses_total", "New status events");
        leads_ = &metrics.counter("tawasul_b2b_leads_created_total", "B2B leads created from conversations");
        sqlite_ = context.database().sql().singleWriter();
        // Claimed together: on PostgreSQL a batch costs a dozen round trips whatever its size, so
        // larger batches; on SQLite the claim is split into writes of a few milliseconds each.
        const int fallback = sqlite_ ? 64 : 256;
        batchSize_ = static_cast<std::size_t>(config.getInt("batch_size", fallback, 1, 1000));
        writeSize_ = sqlite_ ? std::min<std::size_t>(batchSize_, 64) : batchSize_;
        context.jobs().handleBatch(sdk::kProcessWebhookEventJob, batchSize_,
                                   [this](const std::vector<sdk::Job>& jobs) { process(jobs); });
        context.logger().information("routing with " + std::to_string(rules_.rules().size()) + " keyword rule(s)");
    }
    void stop() noexcept override {}

private:
    static std::int64_t eventIdOf(const sdk::Job& job) {
        if (job.refTable == "whatsapp_webhook_events" && job.refId > 0) return job.refId;
        try {
            auto payload = Poco::JSON::Parser().parse(job.payload).extract<Poco::JSON::Object::Ptr>();
            return payload->getValue<Poco::Int64>("event_id");
        } catch (const Poco::Exception& error) {
            throw sdk::PermanentJobFailure("job payload has no event_id: " + error.displayText());
        }
    }

    // The stored bodies of the batch, one statement.
    static std::map<std::int64_t, std::string> loadBodies(Poco::Data::Session& session, const sdk::SqlDialect& dialect,
                                                          std::vector<Poco::Int64>& ids) {
        std::string in;
        for (std::size_t i = 0; i < ids.size(); ++i) in += (i ? ", " : "") + dialect.placeholder(i + 1);
        Poco::Data::Statement select(session);
        select << "SELECT id, payload FROM whatsapp_webhook_events WHERE id IN (" + in + ")";
        for (Poco::Int64& id : ids) select, use(id);
        std::vector<Poco::Int64> found;
        std::vector<Poco::Data::BLOB> raws;
        select, into(found), into(raws);
        select.execute();
        std::map<std::int64_t, std::string> bodies;
        for (std::size_t r = 0; r < found.size(); ++r)
            bodies.emplace(found[r], std::string(reinterpret_cast<const char*>(raws[r].rawContent()), raws[r].size()));
        return bodies;
    }

    static Poco::JSON::Object::Ptr parseNotification(const std::string& body) {
        Poco::JSON::Object::Ptr root;
        try {
            root = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
        } catch (const Poco::Exception& error) {
            throw sdk::PermanentJobFailure("the stored body is not a JSON object: " + error.displayText());
        }
        if (!root) throw sdk::PermanentJobFailure("the stored body is not a JSON object");
        const std::string object = root->optValue<std::string>("object", "");
        if (object != "whatsapp_business_account")
            throw sdk::PermanentJobFailure("the body's object is '" + object + "', not whatsapp_business_account");
        return root;
    }

    // All or nothing per write: any failure undoes it and is rethrown, and the queue then runs each
    // job of the batch alone so that the faulty one fails by itself (writes already committed
    // for an earlier part of the batch are done again, as no-ops: every write is idempotent).
    void process(const std::vector<sdk::Job>& jobs) {
        // Looked up per batch: the matcher may be stopped and started again with the plugins.
        auto matcher = context_->services().find<sdk::ContactMatcher>(sdk::ContactMatcher::kServiceName);
        for (std::size_t first = 0; first < jobs.size();) {
            const std::size_t count = std::min(jobs.size() - first, sqlite_ ? writeSize_.load() : jobs.size());
            const double millis = processPart(jobs, first, count, matcher);
            first += count;
            if (sqlite_ && count > 0 && millis > 0) {
                // Halfway from the last size to the one that would have met the target.
                const double wanted = kSqliteWriteTargetMillis * static_cast<double>(count) / millis;
                const double next = (static_cast<double>(writeSize_.load()) + wanted) / 2;
                writeSize_ = std::clamp<std::size_t>(static_cast<std::size_t>(next), kSmallestWrite, batchSize_);
            }
        }
    }

    // Returns how long the write transaction took, in milliseconds.
    double processPart(const std::vector<sdk::Job>& jobs, std::size_t first, std::size_t count,
                       const std::shared_ptr<sdk::ContactMatcher>& matcher) {
        sdk::Database& database = context_->database();
        Poco::Data::Session session = database.session();
        std::vector<Poco::Int64> ids;
        for (std::size_t i = first; i < first + count; ++i) ids.push_back(eventIdOf(jobs[i]));
        const std::map<std::int64_t, std::string> bodies = loadBodies(session, database.sql(), ids);
        Timeline timeline(database.sql(), rules_, matcher, *phones_, context_->clock().nowMillis());
        for (const Poco::Int64 id : ids) {
            const auto body = bodies.find(id);
            if (body == bodies.end()) throw sdk::PermanentJobFailure("webhook event " + std::to_string(id) + " does not exist");
            timeline.add(id, *parseNotification(body->second));
        }
        timeline.lookUpMatches();

        // Relaxed: the raw events are already durable, so a machine crash that loses this commit
        // only means the jobs run again, and every write here is idempotent.
        sdk::Transaction transaction(database, session, sdk::Durability::Relaxed);
        const auto started = std::chrono::steady_clock::now();
        timeline.write(session);
        transaction.commit();
        const double millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();

        const TimelineCounts& counts = timeline.counts();
        processed_->increment(count);
        messages_->increment(static_cast<std::uint64_t>(counts.messages));
        duplicates_->increment(static_cast<std::uint64_t>(counts.duplicates));
        statuses_->increment(static_cast<std::uint64_t>(counts.statuses));
        leads_->increment(static_cast<std::uint64_t>(counts.leads));
        for (const sdk::Event& event : timeline.events()) context_->events().publish(event);
        return millis;
    }

    sdk::HostContext* context_ = nullptr;
    KeywordRules rules_;
    std::unique_ptr<sdk::PhoneNormalizer> phones_;
    bool sqlite_ = true;
    std::size_t batchSize_ = 64;
    std::atomic<std::size_t> writeSize_{64};  // shared by the workers: one writer, one measure
    sdk::Counter* processed_ = nullptr;
    sdk::Counter* messages_ = nullptr;
    sdk::Counter* duplicates_ = nullptr;
    sdk::Counter* statuses_ = nullptr;
    sdk::Counter* leads_ = nullptr;
};

const char* const kDependencies[] = {"contact_matcher", nullptr};

}  // namespace
}  // namespace tawasul::plugins::inbound_router

TAWASUL_PLUGIN(tawasul::plugins::inbound_router::InboundRouterPlugin, "inbound_router", "0.4.0", tawasul::plugins::inbound_router::kDependencies)
