// Turns stored webhook events into contacts, conversations, messages and statuses.
// This version handles the process_webhook_event job up to parsing: a body that is not a
// WhatsApp Business Account notification fails its job for good, visibly, with the reason.
#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"
#include "tawasul/sdk/Webhooks.hpp"

namespace tawasul::plugins {
namespace {

using namespace Poco::Data::Keywords;

class InboundRouterPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        context.config().allowOnly({"keywords"});
        context_ = &context;
        processed_ = &context.metrics().counter("tawasul_webhook_events_processed_total", "Webhook events processed");
        context.jobs().handle(sdk::kProcessWebhookEventJob, [this](const sdk::Job& job) { process(job); });
    }
    void stop() noexcept override {}

private:
    std::int64_t eventIdOf(const sdk::Job& job) {
        try {
            auto payload = Poco::JSON::Parser().parse(job.payload).extract<Poco::JSON::Object::Ptr>();
            return payload->getValue<Poco::Int64>("event_id");
        } catch (const Poco::Exception& error) {
            throw sdk::PermanentJobFailure("job payload has no event_id: " + error.displayText());
        }
    }

    void process(const sdk::Job& job) {
        const std::int64_t eventId = eventIdOf(job);
        Poco::Data::Session session = context_->database().session();
        Poco::Data::BLOB raw;
        std::int64_t id = eventId;
        std::size_t found = 0;
        Poco::Data::Statement select(session);
        select << "SELECT payload FROM whatsapp_webhook_events WHERE id = $1", use(id), into(raw);
        found = select.execute();
        if (found == 0) throw sdk::PermanentJobFailure("webhook event " + std::to_string(eventId) + " does not exist");
        const std::string body(reinterpret_cast<const char*>(raw.rawContent()), raw.size());
        Poco::JSON::Object::Ptr root;
        try {
            root = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
        } catch (const Poco::Exception& error) {
            throw sdk::PermanentJobFailure("the stored body is not a JSON object: " + error.displayText());
        }
        const std::string object = root->optValue<std::string>("object", "");
        if (object != "whatsapp_business_account")
            throw sdk::PermanentJobFailure("the body's object is '" + object + "', not whatsapp_business_account");
        processed_->increment();
    }

    sdk::HostContext* context_ = nullptr;
    sdk::Counter* processed_ = nullptr;
};

const char* const kDependencies[] = {"contact_matcher", nullptr};

}  // namespace
}  // namespace tawasul::plugins

TAWASUL_PLUGIN(tawasul::plugins::InboundRouterPlugin, "inbound_router", "0.2.0", tawasul::plugins::kDependencies)
