// Turns stored webhook events into the timeline. The process_webhook_event job reads the raw body,
// writes everything it says in one transaction (Timeline), and publishes the changes for the inbox
// once committed. A body that is not a WhatsApp notification fails its job for good, visibly.
#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "KeywordRules.hpp"
#include "Timeline.hpp"
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"
#include "tawasul/whatsapp/TimelineWrites.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

namespace tawasul::plugins::inbound_router {
namespace {

using namespace Poco::Data::Keywords;

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
        // Several events per transaction: on SQLite the commit, not the work, is the cost.
        const auto batchSize = static_cast<std::size_t>(config.getInt("batch_size", 64, 1, 1000));
        context.jobs().handleBatch(sdk::kProcessWebhookEventJob, batchSize,
                                   [this](const std::vector<sdk::Job>& jobs) { process(jobs); });
        context.logger().information("routing with " + std::to_string(rules_.rules().size()) + " keyword rule(s)");
    }
    void stop() noexcept override {}

private:
    static std::int64_t eventIdOf(const sdk::Job& job) {
        try {
            auto payload = Poco::JSON::Parser().parse(job.payload).extract<Poco::JSON::Object::Ptr>();
            return payload->getValue<Poco::Int64>("event_id");
        } catch (const Poco::Exception& error) {
            throw sdk::PermanentJobFailure("job payload has no event_id: " + error.displayText());
        }
    }

    Poco::JSON::Object::Ptr loadNotification(Poco::Data::Session& session, std::int64_t eventId) {
        Poco::Data::BLOB raw;
        Poco::Int64 id = eventId;
        Poco::Data::Statement select(session);
        select << "SELECT payload FROM whatsapp_webhook_events WHERE id = $1", use(id), into(raw);
        if (select.execute() == 0) throw sdk::PermanentJobFailure("webhook event " + std::to_string(eventId) + " does not exist");
        const std::string body(reinterpret_cast<const char*>(raw.rawContent()), raw.size());
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

    // Every event of the batch in one transaction; any failure undoes them all, and the queue
    // then runs each job alone so that the faulty one fails by itself.
    void process(const std::vector<sdk::Job>& jobs) {
        sdk::Database& database = context_->database();
        Poco::Data::Session session = database.session();
        // Looked up per batch: the matcher may be stopped and started again with the plugins.
        auto matcher = context_->services().find<sdk::ContactMatcher>("contact_matcher");
        // Relaxed: the raw events are already durable, so a machine crash that loses this commit
        // only means the jobs run again, and every write here is idempotent.
        sdk::Transaction transaction(database, session, sdk::Durability::Relaxed);
        Timeline timeline(session, rules_, matcher, *phones_, context_->clock().nowMillis());
        std::vector<std::pair<std::int64_t, Poco::JSON::Object::Ptr>> notifications;
        std::vector<std::string> wamids;
        for (const sdk::Job& job : jobs) {
            const std::int64_t eventId = eventIdOf(job);
            notifications.emplace_back(eventId, loadNotification(session, eventId));
            Timeline::statusWamids(*notifications.back().second, wamids);
        }
        // Before any row is locked: a send storing one of these wamids waits for this commit, or
        // this waits for it, so that the status is applied either way.
        sdk::lockWamids(session, database.dialect() == sdk::Dialect::PostgreSQL, wamids);
        for (const auto& [eventId, notification] : notifications) timeline.apply(eventId, *notification);
        transaction.commit();

        const TimelineCounts& counts = timeline.counts();
        processed_->increment(jobs.size());
        messages_->increment(static_cast<std::uint64_t>(counts.messages));
        duplicates_->increment(static_cast<std::uint64_t>(counts.duplicates));
        statuses_->increment(static_cast<std::uint64_t>(counts.statuses));
        leads_->increment(static_cast<std::uint64_t>(counts.leads));
        for (const sdk::Event& event : timeline.events()) context_->events().publish(event);
    }

    sdk::HostContext* context_ = nullptr;
    KeywordRules rules_;
    std::unique_ptr<sdk::PhoneNormalizer> phones_;
    sdk::Counter* processed_ = nullptr;
    sdk::Counter* messages_ = nullptr;
    sdk::Counter* duplicates_ = nullptr;
    sdk::Counter* statuses_ = nullptr;
    sdk::Counter* leads_ = nullptr;
};

const char* const kDependencies[] = {"contact_matcher", nullptr};

}  // namespace
}  // namespace tawasul::plugins::inbound_router

TAWASUL_PLUGIN(tawasul::plugins::inbound_router::InboundRouterPlugin, "inbound_router", "0.3.0", tawasul::plugins::inbound_router::kDependencies)
