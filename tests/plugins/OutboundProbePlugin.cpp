// A test plugin that lets end-to-end tests and the outbound benchmark reach in-process services
// over HTTP until the platform API exists: send through the dispatcher, mark read, read the chain's
// health, test a provider's connection, and publish an event on the bus.
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "tawasul/sdk/Json.hpp"
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/whatsapp/Messaging.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace {

using namespace tawasul;
using Poco::JSON::Object;

std::string text(const Object& object, const std::string& key) { return sdk::jsonText(object, key); }

const char* statusWord(sdk::SendStatus status) {
    switch (status) {
        case sdk::SendStatus::Accepted: return "accepted";
        case sdk::SendStatus::Duplicate: return "duplicate";
        case sdk::SendStatus::WindowClosed: return "window_closed";
        case sdk::SendStatus::InvalidRequest: return "invalid";
        case sdk::SendStatus::KeyReused: return "key_reused";
    }
    return "invalid";
}

const char* stateWord(sdk::ProviderState state) {
    switch (state) {
        case sdk::ProviderState::Healthy: return "healthy";
        case sdk::ProviderState::Unconfigured: return "unconfigured";
        case sdk::ProviderState::Disabled: return "disabled";
        case sdk::ProviderState::Unhealthy: return "unhealthy";
    }
    return "unknown";
}

sdk::SendRequest requestFrom(const Object& body) {
    sdk::SendRequest request;
    request.conversationId = body.optValue<Poco::Int64>("conversation_id", 0);
    request.phone = text(body, "phone");
    request.idempotencyKey = text(body, "idempotency_key");
    request.replyToWamid = text(body, "reply_to");
    request.actor = {"system", 0, "outbound_probe"};
    if (body.has("template")) {
        request.kind = sdk::ContentKind::Template;
        const auto templ = body.getObject("template");
        request.templ.name = text(*templ, "name");
        request.templ.language = text(*templ, "language");
        if (templ->has("components")) {
            const auto components = templ->getArray("components");
            for (std::size_t i = 0; i < components->size(); ++i) {
                const auto c = components->getObject(static_cast<unsigned>(i));
                sdk::TemplateComponent component;
                component.type = text(*c, "type");
                component.subType = text(*c, "sub_type");
                component.index = c->optValue<int>("index", 0);
                const auto parameters = c->getArray("parameters");
                for (std::size_t j = 0; parameters && j < parameters->size(); ++j) {
                    const auto p = parameters->getObject(static_cast<unsigned>(j));
                    component.parameters.push_back({text(*p, "name"), text(*p, "value")});
                }
                request.templ.components.push_back(component);
            }
        }
    } else {
        request.kind = sdk::ContentKind::Text;
        request.text = text(body, "text");
    }
    return request;
}

class OutboundProbePlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        context.config().allowOnly({});
        context_ = &context;
        const auto api = sdk::RouteOptions::open(sdk::RouteStyle::Api);
        context.routes().add("POST", "/test/send", [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
            const auto body = Poco::JSON::Parser().parse(request.body).extract<Object::Ptr>();
            const sdk::SendReceipt receipt = dispatcher()->send(requestFrom(*body));
            Object answer;
            answer.set("status", statusWord(receipt.status));
            answer.set("message_id", receipt.messageId);
            answer.set("conversation_id", receipt.conversationId);
            answer.set("field", receipt.field);
            answer.set("message", receipt.message);
            response.json(200, sdk::jsonString(answer));
        }, api);
        // {"count": N, "phone_base": 213550000000, "template": {...}}: N template sends to N phones.
        context.routes().add("POST", "/test/send-bulk", [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
            const auto body = Poco::JSON::Parser().parse(request.body).extract<Object::Ptr>();
            const int count = body->getValue<int>("count");
            const Poco::Int64 base = body->getValue<Poco::Int64>("phone_base");
            sdk::SendRequest send = requestFrom(*body);
            int accepted = 0;
            for (int i = 0; i < count; ++i) {
                send.phone = "+" + std::to_string(base + i);
                send.idempotencyKey = "bulk-" + std::to_string(base + i);
                accepted += dispatcher()->send(send).status == sdk::SendStatus::Accepted;
            }
            response.json(200, "{\"accepted\":" + std::to_string(accepted) + "}");
        }, api);
        context.routes().add("POST", "/test/mark-read/{conversation}", [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
            const bool ok = dispatcher()->markRead(std::stoll(request.param("conversation")));
            response.json(200, std::string("{\"ok\":") + (ok ? "true" : "false") + "}");
        }, api);
        context.routes().add("POST", "/test/retry/{message}", [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
            const auto receipt = dispatcher()->retry(std::stoll(request.param("message")), sdk::Actor{"system", 0, "probe"});
            const char* word = receipt.status == sdk::SendStatus::Accepted ? "accepted" : receipt.status == sdk::SendStatus::Duplicate ? "duplicate" : "invalid";
            response.json(200, std::string("{\"status\":\"") + word + "\"}");
        }, api);
        context.routes().add("GET", "/test/chain", [this](const sdk::HttpRequest&, sdk::HttpResponse& response) {
            Poco::JSON::Array chain;
            for (const auto& [name, health] : dispatcher()->chainHealth()) {
                Object entry;
                entry.set("name", name);
                entry.set("state", stateWord(health.state));
                entry.set("reason", health.reason);
                chain.add(entry);
            }
            std::ostringstream out;
            chain.stringify(out);
            response.json(200, out.str());
        }, api);
        context.routes().add("POST", "/test/test-connection/{provider}", [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
            const auto check = context_->services().find<sdk::ProviderConnectionTest>(request.param("provider"));
            if (!check) {
                response.json(404, "{\"error\":\"no such provider\"}");
                return;
            }
            const sdk::ProviderHealth health = check->testConnection();
            Object answer;
            answer.set("state", stateWord(health.state));
            answer.set("reason", health.reason);
            response.json(200, sdk::jsonString(answer));
        }, api);
        // {"topic": "platform.event", "data": {...}}: published as the data's JSON text.
        context.routes().add("POST", "/test/publish", [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
            const auto body = Poco::JSON::Parser().parse(request.body).extract<Object::Ptr>();
            std::ostringstream data;
            body->getObject("data")->stringify(data);
            context_->events().publish({text(*body, "topic"), data.str()});
            response.json(200, "{\"published\":true}");
        }, api);
    }
    void stop() noexcept override {}

private:
    std::shared_ptr<sdk::MessageDispatcher> dispatcher() {
        auto found = context_->services().find<sdk::MessageDispatcher>(sdk::MessageDispatcher::kServiceName);
        if (!found) throw std::runtime_error("no dispatcher");
        return found;
    }
    sdk::HostContext* context_ = nullptr;
};

}  // namespace

TAWASUL_PLUGIN(OutboundProbePlugin, "outbound_probe", "1.0.0", tawasul::sdk::kNoDependencies)
