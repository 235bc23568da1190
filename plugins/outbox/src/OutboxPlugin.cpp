// The fallback provider and the platform's manual path: a message becomes an outbox row with a
// wa.me link for a person to send by hand, and flows (a platform event → templates after delays)
// render their steps into the outbox as delayed jobs.
//
// Flow steps go straight into the outbox rather than through the dispatcher's chain: their
// templates are the outbox's own texts (stored here, with variables of the platform's data),
// which the Cloud API could not send anyway (it sends only templates Meta approved, by name).
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Nullable.h>

#include "OutboxLog.hpp"
#include "OutboxPages.hpp"
#include "OutboxTemplates.hpp"
#include "TemplateReviews.hpp"
#include "TemplateSync.hpp"
#include "TemplatesApi.hpp"
#include "tawasul/sdk/Forms.hpp"
#include "tawasul/sdk/Json.hpp"
#include "tawasul/sdk/Errors.hpp"
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/whatsapp/Messaging.hpp"
#include "tawasul/whatsapp/Phones.hpp"
#include "tawasul/whatsapp/PlatformEvents.hpp"
#include "tawasul/whatsapp/Templates.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace tawasul::plugins::outbox {
namespace {

using namespace Poco::Data::Keywords;
using Poco::JSON::Object;
using NullableText = Poco::Nullable<std::string>;
using NullableInt = Poco::Nullable<Poco::Int64>;

constexpr const char* kFlowStepJob = "outbox_flow_step";

std::string text(const Object& object, const std::string& key) { return sdk::jsonText(object, key); }

// The whole stored template (header, body, buttons) for a message that names it.
std::optional<sdk::TemplateDefinition> templateDefinition(Poco::Data::Session& session, const std::string& name,
                                                          const std::string& language) {
    std::string n = name, l = language;
    std::vector<std::string> bodies;
    std::vector<NullableText> headers, buttons;
    session << "SELECT body, header, buttons FROM whatsapp_templates WHERE name = $1 AND language = $2 AND status <> 'disabled'",
        use(n), use(l), into(bodies), into(headers), into(buttons), now;
    if (bodies.empty()) return std::nullopt;
    sdk::TemplateDefinition definition;
    definition.body = bodies.front();
    if (!headers.front().isNull()) definition.header = headers.front().value();
    if (!buttons.front().isNull()) definition.buttons = sdk::TemplateDefinition::buttonsFromJson(buttons.front().value());
    return definition;
}

class OutboxProvider final : public sdk::MessageProvider {
public:
    explicit OutboxProvider(sdk::HostContext& context) : context_(context) {}

    std::string name() const override { return context_.pluginName(); }
    bool enforcesWindow() const override { return false; }  // a person sends it from their own phone

    sdk::SendResult send(const sdk::OutboundMessage& message) override {
        sdk::SendResult result;
        if (message.toE164.empty()) {
            // A person sends it from their phone through a wa.me link, which needs the number: a
            // contact known only by its business-scoped user id (a username) has none to give.
            result.outcome = sdk::SendOutcome::Refused;
            result.errorTitle = "no phone number";
            result.errorDetails = "the outbox sends by hand through a wa.me link, which needs a phone number; this contact is known only by "
                                  "its WhatsApp user id" + (message.userId.empty() ? std::string() : " (" + message.userId + ")") +
                                  ": only the Cloud API can answer it";
            return result;
        }
        sdk::Database& database = context_.database();
        Poco::Data::Session session = database.session();
        std::string rendered;
        if (message.kind == sdk::ContentKind::Text) {
            rendered = message.text;
        } else {
            const auto definition = templateDefinition(session, message.templ.name, message.templ.language);
            if (!definition) {
                result.outcome = sdk::SendOutcome::Refused;
                result.errorTitle = "unknown template";
                result.errorDetails = "the outbox has no template '" + message.templ.name + "' in '" + message.templ.language + "'";
                return result;
            }
            // The same components the Cloud API gets, filled into header, body and link buttons.
            std::string error;
            const auto text = sdk::renderTemplate(*definition, message.templ.components, error);
            if (!text) {
                result.outcome = sdk::SendOutcome::Refused;
                result.errorTitle = "template variables";
                result.errorDetails = "template '" + message.templ.name + "' (" + message.templ.language + "): " + error;
                return result;
            }
            rendered = *text;
        }
        const std::string link = waMeLink(message.toE164, rendered);
        const std::int64_t at = context_.clock().nowMillis();
        Poco::Int64 messageId = message.messageId, when = at;
        NullableInt conversation;
        if (message.conversationId > 0) conversation = message.conversationId;
        std::string phone = message.toE164, renderedText = rendered, wa = link;
        std::vector<Poco::Int64> ids;
        {
            sdk::Transaction transaction(database, session, sdk::Durability::Full);
            // One outbox row per message, however often the send job runs.
            session << "INSERT INTO whatsapp_outbox_messages (recipient_phone, conversation_id, message_id, rendered_text, wa_me_link, "
                       "status, channel, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', 'manual', $6, $6) "
                       "ON CONFLICT (message_id) WHERE message_id IS NOT NULL DO NOTHING",
                use(phone), use(conversation), use(messageId), use(renderedText), use(wa), use(when), now;
            session << "SELECT id FROM whatsapp_outbox_messages WHERE message_id = $1", use(messageId), into(ids), now;
            writeLog(session, "info", "provider",
                     {"message_queued", {{"id", std::to_string(message.messageId)}},
                      "message " + std::to_string(message.messageId) + " queued for manual sending"},
                     "{\"message_id\":" + std::to_string(message.messageId) + "}", at);
            transaction.commit();
        }
        result.outcome = sdk::SendOutcome::Queued;
        result.providerMessageId = ids.empty() ? "" : std::to_string(ids.front());
        result.note = "queued for manual sending";
        return result;
    }

    bool markRead(const std::string&) override { return false; }
    sdk::ProviderHealth health() const override { return {}; }

private:
    sdk::HostContext& context_;
};

struct OutboxConfig {
    std::string defaultRegion;
};

// The plugin's keys: read by start() and, before anything starts, by `tawasul config check`.
OutboxConfig readConfig(const sdk::ConfigNode& config) {
    config.allowOnly({"default_region"});
    return {sdk::defaultRegionOf(config)};
}

class OutboxPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        phones_ = std::make_unique<sdk::PhoneNormalizer>(readConfig(context.config()).defaultRegion);
        context_ = &context;
        context.services().publish<sdk::MessageProvider>(context.pluginName(), std::make_shared<OutboxProvider>(context));
        context.events().subscribe(sdk::kPlatformEventTopic, [this](const sdk::Event& event) { startFlows(event.json); });
        context.jobs().handle(kFlowStepJob, [this](const sdk::Job& job) { runStep(job); });
        // Meta's review of the templates: from its webhooks, asked before a template is queued.
        auto reviews = std::make_shared<TemplateReviews>(context);
        context.services().publish<sdk::WebhookFieldHandler>(context.pluginName(), reviews);
        context.services().publish<sdk::TemplateApproval>(sdk::TemplateApproval::kServiceName, reviews);
        context.services().publish<sdk::TemplateSync>(sdk::TemplateSync::kServiceName, std::make_shared<OutboxTemplateSync>(context));
        registerOutboxPages(context);
        registerTemplatesApi(context);
        context.logger().information("outbox ready");
    }
    void stop() noexcept override {}

private:
    // {"type": "registration.confirmed", "data": {...}}: one delayed job per step of every active
    // flow with that trigger, all written in one transaction.
    void startFlows(const std::string& json) {
        Object::Ptr event;
        try {
            event = Poco::JSON::Parser().parse(json).extract<Object::Ptr>();
        } catch (const Poco::Exception& error) {
            context_->logger().warning("a platform event that is not JSON: " + error.displayText());
            return;
        }
        std::string type = text(*event, "type");
        const Object::Ptr data = event->has("data") && event->isObject("data") ? event->getObject("data") : Object::Ptr(new Object);
        sdk::Database& database = context_->database();
        Poco::Data::Session session = database.session();
        std::vector<Poco::Int64> flowIds, positions, delays;
        session << "SELECT f.id, s.position, s.delay_seconds FROM whatsapp_flows f JOIN whatsapp_flow_steps s ON s.flow_id = f.id "
                   "WHERE f.trigger_event = $1 AND f.active = 1 ORDER BY f.id, s.position",
            use(type), into(flowIds), into(positions), into(delays), now;
        if (flowIds.empty()) return;
        // What names this event, so that the same event published twice renders each step once: the
        // stored platform event's id (POST /api/v1/events publishes it at least once), else the data's.
        std::string key = text(*event, "id");
        if (!key.empty()) key = "event" + key;
        if (key.empty()) key = text(*data, "event_id");
        if (key.empty()) key = text(*data, "registration_id");
        if (key.empty()) key = text(*data, "phone");
        sdk::Transaction transaction(database, session, sdk::Durability::Full);
        for (std::size_t i = 0; i < flowIds.size(); ++i) {
            Object payload;
            payload.set("flow_id", flowIds[i]);
            payload.set("position", positions[i]);
            payload.set("type", type);
            payload.set("data", data);
            payload.set("dedupe_key", type + ":" + key + ":flow" + std::to_string(flowIds[i]) + ":step" + std::to_string(positions[i]));
            sdk::EnqueueOptions options;
            options.delay = std::chrono::seconds(delays[i]);
            context_->jobs().enqueue(session, kFlowStepJob, sdk::jsonString(payload), options);
        }
        writeLog(session, "info", "flow",
                 {"event_started", {{"event", type}, {"count", std::to_string(flowIds.size())}},
                  "event " + type + " started " + std::to_string(flowIds.size()) + " flow step(s)"},
                 json, context_->clock().nowMillis());
        transaction.commit();
        context_->jobs().wake();
    }

    void runStep(const sdk::Job& job) {
        const auto payload = Poco::JSON::Parser().parse(job.payload).extract<Object::Ptr>();
        Poco::Int64 flowId = payload->getValue<Poco::Int64>("flow_id");
        int position = payload->getValue<int>("position");
        std::string dedupeKey = text(*payload, "dedupe_key");
        const Object::Ptr data = payload->getObject("data");
        sdk::Database& database = context_->database();
        Poco::Data::Session session = database.session();
        const std::int64_t at = context_->clock().nowMillis();
        // `why`: the reason's code (lang: log_step_<why>) with `params`; `reason` the same in English.
        auto fail = [&](const std::string& why, std::map<std::string, std::string> params, const std::string& reason) {
            sdk::Transaction transaction(database, session, sdk::Durability::Relaxed);
            params["flow"] = std::to_string(flowId);
            params["step"] = std::to_string(position);
            writeLog(session, "error", "flow",
                     {"step_" + why, params, "flow " + std::to_string(flowId) + " step " + std::to_string(position) + ": " + reason},
                     job.payload, at);
            transaction.commit();
            throw sdk::PermanentJobFailure(reason);
        };

        std::vector<std::string> names, languages;
        std::vector<Poco::Int64> active;
        session << "SELECT s.template_name, s.language, f.active FROM whatsapp_flow_steps s JOIN whatsapp_flows f ON f.id = s.flow_id "
                   "WHERE s.flow_id = $1 AND s.position = $2",
            use(flowId), use(position), into(names), into(languages), into(active), now;
        if (names.empty()) fail("gone", {}, "the step no longer exists");
        if (active.front() == 0) return;  // deactivated since the event: nothing to do

        // Variables: the event's data, and the registration's record when it names one.
        std::map<std::string, std::string> values;
        for (const auto& [name, value] : *data)
            if (!value.isEmpty() && !value.isStruct() && !value.isArray()) values[name] = value.convert<std::string>();
        if (values.count("registration_id")) {
            Poco::Int64 registration = sdk::positiveId(values["registration_id"]);
            if (registration == 0) fail("bad_registration", {{"value", values["registration_id"]}},
                                       "registration_id '" + values["registration_id"] + "' is not a number");
            std::vector<std::string> fullNames, phones, programmes;
            session << "SELECT full_name, COALESCE(phone, ''), COALESCE(programme, '') FROM registrations WHERE id = $1", use(registration),
                into(fullNames), into(phones), into(programmes), now;
            if (fullNames.empty()) fail("no_registration", {{"id", std::to_string(registration)}},
                                          "registration " + std::to_string(registration) + " does not exist");
            values.emplace("full_name", fullNames.front());
            values.emplace("phone", phones.front());
            values.emplace("programme", programmes.front());
        }
        const auto phone = phones_->toE164(values.count("phone") ? values["phone"] : "");
        if (!phone) fail("no_phone", {}, "no valid phone for the recipient (data.phone or the registration's phone)");
        const auto definition = templateDefinition(session, names.front(), languages.front());
        if (!definition) fail("no_template", {{"name", names.front()}, {"language", languages.front()}},
                              "the outbox has no template '" + names.front() + "' in '" + languages.front() + "'");
        // Header, body and links, each variable from the event's data by its name; laid out as the
        // inbox's fallback lays them out (header, blank line, body, "text: address" per link).
        const std::string what = "template '" + names.front() + "' (" + languages.front() + "): ";
        std::string error;
        std::optional<std::string> rendered;
        if (!definition->header.empty()) {
            const auto header = sdk::TemplateText::render(definition->header, values, error);
            if (!header) fail("render", {{"name", names.front()}, {"language", languages.front()}}, what + "header: " + error);
            rendered = *header + "\n\n";
        }
        const auto body = OutboxTemplate::render(definition->body, values, error);
        if (!body) fail("render", {{"name", names.front()}, {"language", languages.front()}}, what + error);
        rendered = rendered.value_or("") + *body;
        for (std::size_t i = 0; i < definition->buttons.size(); ++i) {
            const sdk::TemplateButton& button = definition->buttons[i];
            if (button.type != "url") continue;
            const auto address = sdk::TemplateText::render(button.url, values, error);
            if (!address) fail("render", {{"name", names.front()}, {"language", languages.front()}}, what + "button " + std::to_string(i + 1) + ": " + error);
            *rendered += "\n" + button.text + ": " + *address;
        }

        std::string recipient = *phone, renderedText = *rendered, link = waMeLink(*phone, *rendered);
        Poco::Int64 when = at;
        sdk::Transaction transaction(database, session, sdk::Durability::Full);
        session << "INSERT INTO whatsapp_outbox_messages (recipient_phone, rendered_text, wa_me_link, status, channel, flow_id, "
                   "flow_step, dedupe_key, created_at, updated_at) VALUES ($1, $2, $3, 'pending', 'manual', $4, $5, $6, $7, $7) "
                   "ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING",
            use(recipient), use(renderedText), use(link), use(flowId), use(position), use(dedupeKey), use(when), now;
        writeLog(session, "info", "flow",
                 {"step_rendered", {{"flow", std::to_string(flowId)}, {"step", std::to_string(position)}, {"recipient", recipient}},
                  "flow " + std::to_string(flowId) + " step " + std::to_string(position) + " rendered for " + recipient},
                 "", at);
        transaction.commit();
    }

    sdk::HostContext* context_ = nullptr;
    std::unique_ptr<sdk::PhoneNormalizer> phones_;
};

}  // namespace
}  // namespace tawasul::plugins::outbox

TAWASUL_PLUGIN(tawasul::plugins::outbox::OutboxPlugin, "outbox", "0.2.0", tawasul::sdk::kNoDependencies,
               tawasul::plugins::outbox::readConfig)
