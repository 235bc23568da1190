// An example message provider, built but not loaded by the shipped configuration: it "sends" by
// appending one JSON line per message to a file, which makes it a development sink and the worked
// example of docs/plugin-guide.md ("Adding a provider"). tests/e2e/ExampleProviderTest.cpp loads it
// and sends through it.
#include <fstream>
#include <mutex>
#include <sstream>

#include <Poco/JSON/Object.h>

#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/whatsapp/Messaging.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace tawasul::plugins::example_provider {
namespace {

class FileProvider final : public sdk::MessageProvider {
public:
    FileProvider(std::string name, std::string path) : name_(std::move(name)), path_(std::move(path)) {}

    std::string name() const override { return name_; }
    // A file has no customer-service window; a real network provider would say true here.
    bool enforcesWindow() const override { return false; }

    // Called from a job worker. Every answer is a SendResult, never an exception: Sent with an id,
    // RetryLater for a passing problem, Refused for this message only, Unavailable for the provider.
    sdk::SendResult send(const sdk::OutboundMessage& message) override {
        sdk::SendResult result;
        if (message.kind == sdk::ContentKind::Template && message.templ.name == "refuse_me") {
            result.outcome = sdk::SendOutcome::Refused;  // the next provider in the chain gets it
            result.errorTitle = "example refusal";
            return result;
        }
        Poco::JSON::Object line;
        line.set("message_id", message.messageId);
        line.set("to", message.toE164);
        line.set("text", message.kind == sdk::ContentKind::Text ? message.text : "template " + message.templ.name);
        std::ostringstream out;
        line.stringify(out);
        std::lock_guard lock(mutex_);  // workers call send() concurrently
        std::ofstream file(path_, std::ios::app);
        file << out.str() << '\n';
        file.flush();
        if (!file) {
            result.outcome = sdk::SendOutcome::RetryLater;  // the disk may come back
            result.retryAfter = std::chrono::seconds(5);
            result.errorDetails = "cannot write " + path_;
            return result;
        }
        result.outcome = sdk::SendOutcome::Sent;
        result.providerMessageId = "example." + std::to_string(message.messageId);  // stored as the message's id
        return result;
    }

    bool markRead(const std::string&) override { return false; }  // nothing to tell
    sdk::ProviderHealth health() const override { return {}; }

private:
    std::string name_;
    std::string path_;
    std::mutex mutex_;
};

// Every key the plugin takes, read in one place: start() calls it, and the host calls it (through
// TAWASUL_PLUGIN below) for `tawasul config check`, before anything starts. It only reads.
std::string readConfig(const sdk::ConfigNode& config) {
    config.allowOnly({"file"});             // an unknown key: FILE:LINE:COL error
    return config.getString("file");        // required: FILE:LINE:COL when missing
}

class ExampleProviderPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        const std::string file = readConfig(context.config());
        // Published under the plugin's name: that is the name `dispatch.chain` lists.
        context.services().publish<sdk::MessageProvider>(context.pluginName(), std::make_shared<FileProvider>(context.pluginName(), file));
        context.logger().information("example_provider writes messages to " + file);
    }
    void stop() noexcept override {}
};

}  // namespace
}  // namespace tawasul::plugins::example_provider

TAWASUL_PLUGIN(tawasul::plugins::example_provider::ExampleProviderPlugin, "example_provider", "1.0.0", tawasul::sdk::kNoDependencies,
               tawasul::plugins::example_provider::readConfig)
