// Names a WhatsApp sender by matching their phone against the platform's records: publishes the
// ContactMatcher service over the phone index, keeps that index current in the background, and
// serves the summary page each match links to (RecordPages).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "PhoneIndex.hpp"
#include "RecordPages.hpp"
#include "Sources.hpp"
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace tawasul::plugins::contact_matcher {
namespace {

class ContactMatcherPlugin final : public sdk::Plugin {
public:
    // The host destroys a plugin whose start() threw without calling stop(): never leave the
    // refresh thread running (a joinable std::thread would terminate the process).
    ~ContactMatcherPlugin() override { stop(); }

    void start(sdk::HostContext& context) override {
        MatcherConfig config = parseMatcherConfig(context.config());
        logger_ = &context.logger();
        const int refreshSeconds = config.refreshSeconds;
        std::string tables;
        for (const Source& source : config.sources) tables += (tables.empty() ? "" : ", ") + source.table;
        pages_ = std::make_unique<RecordPages>(context, config.sources);
        pages_->registerRoutes();
        index_ = std::make_shared<PhoneIndex>(context.database(), context.clock(), context.logger(), std::move(config));
        context.services().publish<sdk::ContactMatcher>(sdk::ContactMatcher::kServiceName, index_);
        if (refreshSeconds > 0) {
            stopping_ = false;
            refresher_ = std::thread([this, refreshSeconds] { refreshLoop(std::chrono::seconds(refreshSeconds)); });
        }
        context.logger().information("matching phones against " + tables +
                                     (refreshSeconds > 0 ? ", refreshed every " + std::to_string(refreshSeconds) + " s" : ""));
    }

    void stop() noexcept override {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (refresher_.joinable()) refresher_.join();
        index_.reset();
    }

private:
    void refreshLoop(std::chrono::seconds interval) {
        for (;;) {
            {
                std::unique_lock lock(mutex_);
                if (wake_.wait_for(lock, interval, [this] { return stopping_.load(); })) return;
            }
            try {
                index_->refresh(stopping_);
            } catch (const std::exception& error) {
                logger_->error(std::string("phone index refresh failed (will retry): ") + error.what());
            } catch (...) {
                logger_->error("phone index refresh failed with an unknown exception (will retry)");
            }
        }
    }

    Poco::Logger* logger_ = nullptr;
    std::shared_ptr<PhoneIndex> index_;
    std::unique_ptr<RecordPages> pages_;  // its routes are removed by the host when the plugin stops
    std::thread refresher_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::atomic<bool> stopping_{false};
};

}  // namespace
}  // namespace tawasul::plugins::contact_matcher

TAWASUL_PLUGIN(tawasul::plugins::contact_matcher::ContactMatcherPlugin, "contact_matcher", "0.2.0", tawasul::sdk::kNoDependencies,
               tawasul::plugins::contact_matcher::parseMatcherConfig)
