// Turns stored webhook events into the timeline. The process_webhook_event jobs of a claimed batch
// are read, parsed, normalised, routed and matched outside any transaction, then written together
// (Timeline) in short transactions, and the changes are published for the inbox once committed.
// A body that is not a WhatsApp notification fails its job for good, visibly, and alone.
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>

#include "BusinessAppMessages.hpp"
#include "KeywordRules.hpp"
#include "Notification.hpp"
#include "Timeline.hpp"
#include "tawasul/sdk/Errors.hpp"
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"
#include "tawasul/sdk/PreparedSession.hpp"
#include "tawasul/whatsapp/Media.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

namespace tawasul::plugins::inbound_router {
namespace {

using namespace Poco::Data::Keywords;

// On SQLite the one writer is shared with the webhook's group commit, which a request waits on:
// while others write, a processing transaction should hold it for about kSqliteSharedWriteMillis,
// so the batch it writes is sized from how long the last ones took. When no request has written
// for kAloneAfter (sdk::Database::requestsWroteWithin: a backlog, no webhooks arriving) the
// processing writers are alone, and their writes may take kSqliteAloneWriteMillis, which spreads
// each transaction's cost (every page it touches goes to the WAL whole, however few of its rows
// changed) over several times more events. Other processing writers do not count: waiting behind
// one of them is not a webhook waiting.
constexpr double kSqliteSharedWriteMillis = 3.0;
constexpr double kSqliteAloneWriteMillis = 20.0;
constexpr auto kAloneAfter = std::chrono::seconds(1);
// Prepared connections kept between claims.
constexpr std::size_t kPreparedKept = 8;
// Below this the fixed cost of a transaction (claim, reads, a dozen statements) outweighs the rows.
constexpr std::size_t kSmallestWrite = 16;

struct RouterConfig {
    KeywordRules rules;
    std::string defaultRegion;
    std::optional<std::size_t> batchSize;  // absent: chosen for the database engine at start
};

// The plugin's keys: read by start() and, before anything starts, by `tawasul config check`.
RouterConfig readConfig(const sdk::ConfigNode& config) {
    config.allowOnly({"keywords", "default_region", "batch_size"});
    RouterConfig result;
    result.rules = config.has("keywords") ? KeywordRules::fromConfig(config.child("keywords")) : KeywordRules::defaults();
    result.defaultRegion = sdk::defaultRegionOf(config);
    if (config.has("batch_size")) result.batchSize = static_cast<std::size_t>(config.getInt("batch_size", 0, 1, 1000));
    return result;
}

class InboundRouterPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        RouterConfig config = readConfig(context.config());
        rules_ = std::move(config.rules);
        phones_ = std::make_unique<sdk::PhoneNormalizer>(config.defaultRegion);
        context_ = &context;
        sdk::Metrics& metrics = context.metrics();
        processed_ = &metrics.counter("tawasul_webhook_events_processed_total", "Webhook events written to the timeline");
        messages_ = &metrics.counter("tawasul_inbound_messages_total", "New inbound messages");
        duplicates_ = &metrics.counter("tawasul_inbound_duplicates_total", "Inbound messages Meta delivered again");
        statuses_ = &metrics.counter("tawasul_inbound_statuses_total", "New status events");
        leads_ = &metrics.counter("tawasul_b2b_leads_created_total", "B2B leads created from conversations");
        sqlite_ = context.database().sql().singleWriter();
        // Claimed together: a batch costs a dozen statements whatever its size (on PostgreSQL as
        // many round trips), and its claim and finish touch the queue's pages once. On SQLite the
        // claim is split into writes sized as above; on PostgreSQL it is one transaction, whose
        // rows other workers may wait for, so a smaller one.
        batchSize_ = config.batchSize.value_or(sqlite_ ? 1000 : 256);
        writeSize_ = sqlite_ ? std::min<std::size_t>(batchSize_, 64) : batchSize_;
        // Coexistence with the WhatsApp Business app: its echoes, history and contacts, as a field
        // handler like any other plugin's.
        context.services().publish<sdk::WebhookFieldHandler>(context.pluginName(),
                                                             std::make_shared<BusinessAppMessages>(*phones_, context.clock()));
        context.jobs().handleBatch(sdk::kProcessWebhookEventJob, batchSize_,
                                   [this](const std::vector<sdk::Job>& jobs) { return process(jobs); });
        context.logger().information("routing with " + std::to_string(rules_.rules().size()) + " keyword rule(s)");
    }
    void stop() noexcept override {
        std::lock_guard lock(preparedMutex_);
        prepared_.clear();  // back to the host's pool, before the database goes
    }

private:
    using FieldHandlers = std::map<std::string, std::shared_ptr<sdk::WebhookFieldHandler>>;

    std::unique_ptr<sdk::PreparedSession> take() {
        {
            std::lock_guard lock(preparedMutex_);
            if (!prepared_.empty()) {
                auto db = std::move(prepared_.back());
                prepared_.pop_back();
                return db;
            }
        }
        sdk::Database& database = context_->database();
        return std::make_unique<sdk::PreparedSession>(database.session(), database.sql());
    }
    void giveBack(std::unique_ptr<sdk::PreparedSession> db) noexcept {
        if (!db) return;
        std::lock_guard lock(preparedMutex_);
        if (prepared_.size() < kPreparedKept) prepared_.push_back(std::move(db));
    }

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
    static std::map<std::int64_t, std::string> loadBodies(sdk::PreparedSession& db, const sdk::SqlDialect& dialect,
                                                          const std::vector<Poco::Int64>& ids) {
        sdk::JsonRows rows;
        for (const Poco::Int64 id : ids) rows.row().add(id);
        std::map<std::int64_t, std::string> bodies;
        db.run("SELECT id, payload FROM whatsapp_webhook_events WHERE id" +
                   dialect.inSubquery("SELECT CAST(r.value ->> 0 AS BIGINT) FROM " + dialect.jsonRows("$1", "r")),
               {rows.text()}, [&](const sdk::SqlRow& row) { bodies.emplace(row.integer(0), row.bytes(1)); });
        return bodies;
    }


    // Every job of the claim gets its own answer, and no event is written twice. A body that cannot
    // be read as a notification fails its job for good (it never will be). A write that fails rolls
    // its part back whole; the part's events are then written one at a time, so the one at fault
    // fails alone (to be retried) and the others are done.
    std::vector<sdk::JobFailure> process(const std::vector<sdk::Job>& jobs) {
        // Looked up per batch: the matcher and the handlers may be stopped and started again with the plugins.
        auto matcher = context_->services().find<sdk::ContactMatcher>(sdk::ContactMatcher::kServiceName);
        const FieldHandlers handlers = fieldHandlers();
        // A connection with the timeline's statements prepared, kept for the next claim; a part
        // that fails drops it (it may be broken) and the next part takes a fresh one.
        std::unique_ptr<sdk::PreparedSession> db;
        struct GiveBack {
            InboundRouterPlugin& plugin;
            std::unique_ptr<sdk::PreparedSession>& db;
            ~GiveBack() { plugin.giveBack(std::move(db)); }
        } giveBack{*this, db};
        const auto write = [&](const std::vector<sdk::Job>& part) {
            if (!db) db = take();
            try {
                return this->writePart(*db, part, matcher, handlers);
            } catch (...) {
                db.reset();
                throw;
            }
        };
        std::vector<sdk::JobFailure> failures;
        for (std::size_t first = 0; first < jobs.size();) {
            const std::size_t count = std::min(jobs.size() - first, sqlite_ ? writeSize_.load() : jobs.size());
            const std::vector<sdk::Job> part(jobs.begin() + static_cast<long>(first), jobs.begin() + static_cast<long>(first + count));
            first += count;
            try {
                const Written written = write(part);
                failures.insert(failures.end(), written.failures.begin(), written.failures.end());
                if (sqlite_ && part.size() > 1) adaptWriteSize(part.size(), written);
                continue;
            } catch (const std::exception& error) {
                if (part.size() == 1) {
                    failures.push_back({part.front().id, sdk::errorText(error), false, {}});
                    continue;
                }
            }
            for (const sdk::Job& job : part) {
                try {
                    const Written written = write({job});
                    failures.insert(failures.end(), written.failures.begin(), written.failures.end());
                } catch (const std::exception& error) {
                    failures.push_back({job.id, sdk::errorText(error), false, {}});
                }
            }
        }
        return failures;
    }

    struct Written {
        double millis = 0;  // how long the write transaction held it
        std::vector<sdk::JobFailure> failures;  // the bodies that are no notification: failed for good
    };

    // Halfway from the last size to the one that would have met the target when growing, at once
    // when shrinking (webhooks wait behind every write that is too long).
    void adaptWriteSize(std::size_t count, const Written& written) {
        if (written.millis <= 0) return;
        const bool alone = !context_->database().requestsWroteWithin(kAloneAfter);
        const double target = alone ? kSqliteAloneWriteMillis : kSqliteSharedWriteMillis;
        const double wanted = target * static_cast<double>(count) / written.millis;
        const double last = static_cast<double>(writeSize_.load());
        const double next = wanted < last ? wanted : (last + wanted) / 2;
        writeSize_ = std::clamp<std::size_t>(static_cast<std::size_t>(next), std::min(kSmallestWrite, batchSize_), batchSize_);
    }

    // Reads, parses and routes the part's events outside any transaction, then writes those that
    // could be read in one transaction. Throws when the write fails (nothing of the part is written).
    Written writePart(sdk::PreparedSession& db, const std::vector<sdk::Job>& part, const std::shared_ptr<sdk::ContactMatcher>& matcher,
                      const FieldHandlers& handlers) {
        Written written;
        const auto fail = [&](const sdk::Job& job, const std::string& reason) { written.failures.push_back({job.id, reason, true, {}}); };
        sdk::Database& database = context_->database();
        std::vector<std::pair<const sdk::Job*, Poco::Int64>> events;
        for (const sdk::Job& job : part) {
            try {
                events.emplace_back(&job, eventIdOf(job));
            } catch (const sdk::PermanentJobFailure& error) {
                fail(job, error.what());
            }
        }
        std::vector<Poco::Int64> ids;
        for (const auto& event : events) ids.push_back(event.second);
        const std::map<std::int64_t, std::string> bodies = ids.empty() ? std::map<std::int64_t, std::string>{}
                                                                        : loadBodies(db, database.sql(), ids);
        Timeline timeline(database.sql(), rules_, matcher, *phones_, context_->clock().nowMillis());
        std::size_t added = 0;
        for (const auto& [job, id] : events) {
            const auto body = bodies.find(id);
            if (body == bodies.end()) {
                fail(*job, "webhook event " + std::to_string(id) + " does not exist");
                continue;
            }
            // Parsing touches no database: whatever goes wrong here goes wrong again, so it is final.
            try {
                timeline.add(id, *readNotification(body->second));
                ++added;
            } catch (const std::exception& error) {
                fail(*job, sdk::errorText(error));
            }
        }
        if (added == 0) return written;
        timeline.lookUpMatches();

        // Relaxed: the raw events are already durable, so a machine crash that loses this commit
        // only means the jobs run again, and every write here is idempotent.
        sdk::PreparedTransaction transaction(database, db, sdk::Durability::Relaxed);
        const auto started = std::chrono::steady_clock::now();
        timeline.write(db);
        const std::map<std::string, std::size_t> unhandled = writeFieldChanges(db, timeline.fieldChanges(), handlers);
        // The media of the new messages, fetched by a job each (sdk::kFetchMediaJob), written with
        // them: a message stored is a fetch queued, and a redelivered one queues nothing.
        const std::vector<Poco::Int64> media = timeline.newMediaMessages();
        if (!media.empty()) {
            std::vector<sdk::NewJob> fetches;
            for (const Poco::Int64 id : media) {
                sdk::NewJob job;
                job.type = sdk::kFetchMediaJob;
                job.payload = "{\"message_id\":" + std::to_string(id) + "}";
                fetches.push_back(std::move(job));
            }
            context_->jobs().enqueueAll(db, fetches);
        }
        transaction.commit();
        if (!media.empty()) context_->jobs().wake();
        written.millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();

        const TimelineCounts& counts = timeline.counts();
        processed_->increment(added);
        messages_->increment(static_cast<std::uint64_t>(counts.messages));
        duplicates_->increment(static_cast<std::uint64_t>(counts.duplicates));
        statuses_->increment(static_cast<std::uint64_t>(counts.statuses));
        leads_->increment(static_cast<std::uint64_t>(counts.leads));
        for (const auto& [name, count] : unhandled)
            context_->metrics()
                .counter("tawasul_webhook_field_changes_unhandled_total{field=\"" + name + "\"}",
                         "Changes of webhook fields no plugin takes (kept in their stored events)")
                .increment(count);
        for (const sdk::Event& event : timeline.events()) context_->events().publish(event);
        return written;
    }

    // The running handlers by the field they take; the first published wins a field two take.
    FieldHandlers fieldHandlers() const {
        FieldHandlers handlers;
        sdk::ServiceRegistry& services = context_->services();
        for (const std::string& name : services.names<sdk::WebhookFieldHandler>())
            if (auto handler = services.find<sdk::WebhookFieldHandler>(name))
                for (const std::string& field : handler->fields()) handlers.emplace(field, handler);
        return handlers;
    }

    // Hands each handler the part's changes of its fields, in order, and returns how many changes of
    // each field nobody takes, by a name fit for a metric label (Meta's field names are [a-z_]).
    static std::map<std::string, std::size_t> writeFieldChanges(sdk::PreparedSession& db, const std::vector<sdk::WebhookChange>& changes,
                                                                const FieldHandlers& handlers) {
        std::map<std::string, std::size_t> unhandled;
        std::map<std::shared_ptr<sdk::WebhookFieldHandler>, std::vector<sdk::WebhookChange>> byHandler;
        for (const sdk::WebhookChange& change : changes) {
            const auto handler = handlers.find(change.field);
            if (handler != handlers.end()) {
                byHandler[handler->second].push_back(change);
                continue;
            }
            const bool plain = !change.field.empty() && change.field.size() <= 64 &&
                               std::all_of(change.field.begin(), change.field.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
            ++unhandled[plain ? change.field : "other"];
        }
        for (const auto& [handler, theirs] : byHandler) handler->write(db, theirs);
        return unhandled;
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
    // Kept between claims (one per worker, at most kPreparedKept): each holds a session out of the
    // pool, so that the next claim finds its statements prepared.
    std::mutex preparedMutex_;
    std::vector<std::unique_ptr<sdk::PreparedSession>> prepared_;
};

const char* const kDependencies[] = {"contact_matcher", nullptr};

}  // namespace
}  // namespace tawasul::plugins::inbound_router

TAWASUL_PLUGIN(tawasul::plugins::inbound_router::InboundRouterPlugin, "inbound_router", "0.4.0", tawasul::plugins::inbound_router::kDependencies,
               tawasul::plugins::inbound_router::readConfig)
