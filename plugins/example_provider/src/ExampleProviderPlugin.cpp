// An example message provider, built but not loaded by the shipped configuration: it "sends" by
// appending one JSON line per message to a file, which makes it a development sink and the worked
// example of docs/plugin-guide.md ("Adding a provider"). With `media_file` it is also a MediaSource
// ("Serving inbound media"): every media id is that one file. tests/e2e/ExampleProviderTest.cpp
// loads it, sends through it and has the inbox keep its media.
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>

#include <Poco/JSON/Object.h>

#include "tawasul/sdk/Crypto.hpp"
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/whatsapp/Media.hpp"
#include "tawasul/whatsapp/Messaging.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace tawasul::plugins::example_provider {
namespace {

// Also a TypingIndicator (ABI 2.8): "typing" is one line {"typing": WAMID} in the same file.
class FileProvider final : public sdk::MessageProvider, public sdk::TypingIndicator {
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

    bool showTyping(const std::string& inboundWamid) override {
        Poco::JSON::Object line;
        line.set("typing", inboundWamid);
        std::ostringstream out;
        line.stringify(out);
        std::lock_guard lock(mutex_);
        std::ofstream file(path_, std::ios::app);
        file << out.str() << '\n';
        return static_cast<bool>(file.flush());
    }
    sdk::ProviderHealth health() const override { return {}; }

private:
    std::string name_;
    std::string path_;
    std::mutex mutex_;
};

// The media of every message is one file: enough to show how a source answers. A real one
// resolves the id with its network and downloads within the limits, never past them.
class FileMediaSource final : public sdk::MediaSource {
public:
    FileMediaSource(std::string path, std::string mimeType) : path_(std::move(path)), mimeType_(std::move(mimeType)) {}

    // Called from a job worker. Every answer is a MediaFetch, never an exception: Fetched with the
    // bytes and what the provider says of them (type, sha256, size), NotFound / Expired / TooLarge /
    // Refused for good, RetryLater or Unavailable for a passing problem.
    sdk::MediaFetch fetch(const std::string& mediaId, const sdk::MediaLimits& limits) override {
        sdk::MediaFetch result;
        std::ifstream in(path_, std::ios::binary | std::ios::ate);
        if (!in) {
            result.outcome = sdk::MediaOutcome::NotFound;
            result.detail = "no media " + mediaId + ": cannot read " + path_;
            return result;
        }
        result.declaredSize = static_cast<std::int64_t>(in.tellg());
        result.mimeType = mimeType_;
        // Said before reading: a file over the cap is never read (a network source checks the
        // declared size, then stops reading at the cap whatever was declared).
        if (static_cast<std::uint64_t>(result.declaredSize) > limits.maxBytes) {
            result.outcome = sdk::MediaOutcome::TooLarge;
            result.detail = path_ + " is over the cap";
            return result;
        }
        in.seekg(0);
        result.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        result.sha256 = sdk::sha256Hex(result.bytes);  // what the provider vouches for; the caller checks it
        result.outcome = sdk::MediaOutcome::Fetched;
        return result;
    }

private:
    std::string path_;
    std::string mimeType_;
};

struct ExampleConfig {
    std::string file;       // where sent messages go
    std::string mediaFile;  // empty: no MediaSource
    std::string mediaType;
};

// Every key the plugin takes, read in one place: start() calls it, and the host calls it (through
// TAWASUL_PLUGIN below) for `tawasul config check`, before anything starts. It only reads.
ExampleConfig readConfig(const sdk::ConfigNode& config) {
    config.allowOnly({"file", "media_file", "media_type"});  // an unknown key: FILE:LINE:COL error
    ExampleConfig result;
    result.file = config.getString("file");                    // required: FILE:LINE:COL when missing
    result.mediaFile = config.getString("media_file", "");
    result.mediaType = config.getString("media_type", "image/png");
    return result;
}

class ExampleProviderPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        const ExampleConfig config = readConfig(context.config());
        // Published under the plugin's name: that is the name `dispatch.chain` lists.
        const auto provider = std::make_shared<FileProvider>(context.pluginName(), config.file);
        context.services().publish<sdk::MessageProvider>(context.pluginName(), provider);
        // Optional, beside it: the dispatcher's showTyping finds it by the same name.
        context.services().publish<sdk::TypingIndicator>(context.pluginName(), provider);
        // Under the same name: the one admin_inbox's media.source names.
        if (!config.mediaFile.empty())
            context.services().publish<sdk::MediaSource>(context.pluginName(),
                                                         std::make_shared<FileMediaSource>(config.mediaFile, config.mediaType));
        context.logger().information("example_provider writes messages to " + config.file +
                                     (config.mediaFile.empty() ? "" : " and serves " + config.mediaFile + " as every media"));
    }
    void stop() noexcept override {}
};

}  // namespace
}  // namespace tawasul::plugins::example_provider

TAWASUL_PLUGIN(tawasul::plugins::example_provider::ExampleProviderPlugin, "example_provider", "1.0.0", tawasul::sdk::kNoDependencies,
               tawasul::plugins::example_provider::readConfig)
