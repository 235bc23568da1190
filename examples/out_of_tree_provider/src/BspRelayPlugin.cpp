// A message provider for a business solution provider (BSP) that relays the Cloud API: the same
// JSON bodies as Meta's POST /{phone_number_id}/messages, sent to the BSP's own base URL with its
// API key in a header of the BSP's choosing (several BSPs work this way). It is the worked example
// of an out-of-tree plugin: it includes only SDK headers and is built with find_package(Tawasul).
#include <cstdlib>
#include <memory>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Json.hpp"
#include "tawasul/sdk/Plugin.hpp"
#include "tawasul/whatsapp/Messaging.hpp"

namespace bsp_relay {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

struct Options {
    Poco::URI messagesUrl;  // {base_url}/messages
    std::string apiKeyHeader;
    std::string apiKey;     // from the environment variable the config names: never in the YAML
    int timeoutMs = 10000;
};

// The Cloud API body for one message: text, or a template with its components' parameters.
std::string messageBody(const tawasul::sdk::OutboundMessage& message) {
    Object body;
    body.set("messaging_product", "whatsapp");
    body.set("recipient_type", "individual");
    body.set("to", message.toE164);
    if (message.kind == tawasul::sdk::ContentKind::Text) {
        body.set("type", "text");
        Object text;
        text.set("body", message.text);
        body.set("text", text);
    } else {
        body.set("type", "template");
        Object templ, language;
        templ.set("name", message.templ.name);
        language.set("code", message.templ.language);
        templ.set("language", language);
        Array components;
        for (const auto& component : message.templ.components) {
            Object out;
            out.set("type", component.type);
            if (!component.subType.empty()) {
                out.set("sub_type", component.subType);
                out.set("index", std::to_string(component.index));
            }
            Array parameters;
            for (const auto& parameter : component.parameters) {
                Object p;
                p.set("type", "text");
                p.set("text", parameter.value);
                if (!parameter.name.empty()) p.set("parameter_name", parameter.name);
                parameters.add(p);
            }
            out.set("parameters", parameters);
            components.add(out);
        }
        templ.set("components", components);
        body.set("template", templ);
    }
    if (!message.replyToWamid.empty()) {
        Object context;
        context.set("message_id", message.replyToWamid);
        body.set("context", context);
    }
    return tawasul::sdk::jsonString(body);
}

class BspRelayProvider final : public tawasul::sdk::MessageProvider {
public:
    BspRelayProvider(std::string name, Options options) : name_(std::move(name)), options_(std::move(options)) {}

    std::string name() const override { return name_; }
    bool enforcesWindow() const override { return true; }  // the BSP forwards to Meta, whose rules apply

    // Called from job workers, concurrently: one HTTP session per call keeps it simple and safe.
    tawasul::sdk::SendResult send(const tawasul::sdk::OutboundMessage& message) override {
        tawasul::sdk::SendResult result;
        std::string answer;
        try {
            Poco::Net::HTTPClientSession session(options_.messagesUrl.getHost(), options_.messagesUrl.getPort());
            session.setTimeout(Poco::Timespan(static_cast<long>(options_.timeoutMs) * 1000));
            Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, options_.messagesUrl.getPathEtc(),
                                           Poco::Net::HTTPMessage::HTTP_1_1);
            request.setContentType("application/json");
            request.set(options_.apiKeyHeader, options_.apiKey);
            const std::string body = messageBody(message);
            request.setContentLength(static_cast<std::streamsize>(body.size()));
            session.sendRequest(request) << body;
            Poco::Net::HTTPResponse response;
            Poco::StreamCopier::copyToString(session.receiveResponse(response), answer);
            result.httpStatus = static_cast<int>(response.getStatus());
        } catch (const Poco::Exception& error) {
            result.outcome = tawasul::sdk::SendOutcome::RetryLater;  // the network may come back
            result.retryAfter = std::chrono::seconds(5);
            result.errorDetails = error.displayText();
            return result;
        }
        if (result.httpStatus == 429 || result.httpStatus >= 500) {
            result.outcome = tawasul::sdk::SendOutcome::RetryLater;
            result.retryAfter = std::chrono::seconds(2);
            result.errorTitle = "BSP answered HTTP " + std::to_string(result.httpStatus);
            return result;
        }
        if (result.httpStatus < 200 || result.httpStatus >= 300) {
            result.outcome = tawasul::sdk::SendOutcome::Refused;  // the next provider in the chain may take it
            result.errorTitle = "BSP answered HTTP " + std::to_string(result.httpStatus);
            result.errorDetails = answer.substr(0, 500);
            return result;
        }
        // {"messages":[{"id":"wamid..."}]}, as Meta answers.
        try {
            const auto parsed = Poco::JSON::Parser().parse(answer).extract<Object::Ptr>();
            const auto messages = parsed->getArray("messages");
            result.providerMessageId = messages ? messages->getObject(0)->getValue<std::string>("id") : "";
        } catch (const Poco::Exception&) {
        }
        if (result.providerMessageId.empty()) {
            // Accepted, but with no id the status webhooks cannot be matched: say so on the timeline.
            result.note = "the BSP accepted the message without a message id";
        }
        result.outcome = tawasul::sdk::SendOutcome::Sent;
        return result;
    }

    bool markRead(const std::string&) override { return false; }
    tawasul::sdk::ProviderHealth health() const override { return {}; }

private:
    std::string name_;
    Options options_;
};

// Every key the plugin takes, read in one place: start() calls it, and the host calls it (the last
// argument of TAWASUL_PLUGIN below) when it loads the plugin, so that `tawasul config check` refuses
// a wrong key at its FILE:LINE:COL before anything starts. It only reads: no connection, no thread.
Options readConfig(const tawasul::sdk::ConfigNode& config) {
    config.allowOnly({"base_url", "api_key_env", "api_key_header", "timeout_ms"});
    Options options;
    const tawasul::sdk::ConfigNode baseUrl = config.child("base_url");  // required
    try {
        options.messagesUrl = Poco::URI(baseUrl.asString());
    } catch (const Poco::Exception& error) {
        baseUrl.fail("not a URL: " + error.message());
    }
    if (options.messagesUrl.getScheme() != "http" || options.messagesUrl.getHost().empty())
        baseUrl.fail("expected an http:// URL (put TLS in front with a local proxy, or extend this example)");
    options.messagesUrl.setPath(options.messagesUrl.getPath() + "/messages");
    const std::string keyVariable = config.getString("api_key_env", "BSP_RELAY_API_KEY");
    const char* key = std::getenv(keyVariable.c_str());
    if (key == nullptr || *key == '\0') config.fail("environment variable " + keyVariable + " (the BSP's API key) is not set");
    options.apiKey = key;
    options.apiKeyHeader = config.getString("api_key_header", "D360-API-KEY");
    options.timeoutMs = static_cast<int>(config.getInt("timeout_ms", options.timeoutMs, 100, 60000));
    return options;
}

class BspRelayPlugin final : public tawasul::sdk::Plugin {
public:
    void start(tawasul::sdk::HostContext& context) override {
        Options options = readConfig(context.config());
        context.logger().information("bsp_relay sends to " + options.messagesUrl.toString());
        // Published under the plugin's name: that is the name `dispatch.chain` lists.
        context.services().publish<tawasul::sdk::MessageProvider>(
            context.pluginName(), std::make_shared<BspRelayProvider>(context.pluginName(), std::move(options)));
    }
    void stop() noexcept override {}
};

}  // namespace
}  // namespace bsp_relay

TAWASUL_PLUGIN(bsp_relay::BspRelayPlugin, "bsp_relay", "1.0.0", tawasul::sdk::kNoDependencies, bsp_relay::readConfig)
