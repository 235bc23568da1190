#pragma once
// The host's MessageDispatcher: stores an outbound message and its send_message job in one
// transaction, then the job walks the `dispatch.chain` of providers. Providers are looked up by name
// when a job runs, since plugins start (and may restart) after the host made this.
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tawasul/sdk/Clock.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Jobs.hpp"
#include "tawasul/whatsapp/Messaging.hpp"
#include "tawasul/whatsapp/Phones.hpp"

namespace tawasul::host {

class LocalEventBus;
class JobRunner;
class MetricsRegistry;
class ServiceDirectory;
class SettingsStore;

class Dispatcher final : public sdk::MessageDispatcher {
public:
    Dispatcher(sdk::Database& database, JobRunner& jobs, LocalEventBus& events, ServiceDirectory& services, SettingsStore& settings,
               const sdk::Clock& clock, MetricsRegistry& metrics, std::vector<std::string> chain);
    ~Dispatcher() override;

    // Registers the send_message job handler and the auto_reply.requested subscription (owner "host").
    void attach();

    sdk::SendReceipt send(const sdk::SendRequest& request) override;
    bool markRead(std::int64_t conversationId) override;
    bool showTyping(std::int64_t conversationId) override;
    sdk::SendReceipt retry(std::int64_t messageId, const sdk::Actor& actor) override;
    std::vector<std::pair<std::string, sdk::ProviderHealth>> chainHealth() const override;

    // The send_message job: one message through the chain (public for tests that run jobs inline).
    void runJob(const sdk::Job& job);

    static constexpr std::int64_t kWindowMillis = 24LL * 3600 * 1000;
    static constexpr std::size_t kSendsPerClaim = 8;

private:
    std::optional<std::string> latestInboundWamid(std::int64_t conversationId);
    struct Loaded;
    struct Kept;
    std::unique_ptr<Kept> takeKept();
    void runJob(const sdk::Job& job, Kept& kept);
    std::shared_ptr<sdk::MessageProvider> provider(const std::string& name) const;
    void onAutoReply(const std::string& json);
    void publishAfterCommit(const std::vector<std::pair<std::string, std::string>>& events);

    sdk::Database& database_;
    JobRunner& jobs_;
    LocalEventBus& events_;
    ServiceDirectory& services_;
    SettingsStore& settings_;
    const sdk::Clock& clock_;
    MetricsRegistry& metrics_;
    std::vector<std::string> chain_;
    sdk::PhoneNormalizer phones_;
    // Messages a worker of this host is sending now: a job whose lease ran out while it waited
    // in another worker's claimed batch must not send the same message a second time.
    std::mutex inFlightMutex_;
    std::set<std::int64_t> inFlight_;
    // Connections with a send's statements prepared, not in use: at most one per worker.
    std::mutex keptMutex_;
    std::vector<std::unique_ptr<Kept>> kept_;
};

}  // namespace tawasul::host
