// Receives Meta's webhooks. GET answers the subscription handshake; POST checks the signature on
// the raw bytes, stores them durably with a processing job, and only then answers 200. Everything
// after that happens in the job, so Meta gets its answer fast and nothing it sent is lost.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>

#include "EventWriter.hpp"
#include "EventsPages.hpp"
#include "Signature.hpp"
#include "WebhookSettingsPage.hpp"
#include "tawasul/sdk/Crypto.hpp"
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

namespace tawasul::plugins::webhook_receiver {
namespace {

constexpr const char* kAppSecret = "whatsapp.cloud.app_secret";
constexpr const char* kVerifyToken = "whatsapp.webhook.verify_token";

// Logs a line at most once per interval, saying how many were held back: a flood of forged
// requests must not become a flood of log lines.
class RateLimitedLog {
public:
    RateLimitedLog(Poco::Logger& logger, std::chrono::seconds interval) : logger_(logger), interval_(interval) {}
    void warning(const std::string& message) {
        std::lock_guard lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        if (last_ != std::chrono::steady_clock::time_point{} && now - last_ < interval_) {
            ++suppressed_;
            return;
        }
        std::string line = message;
        if (suppressed_ > 0) line += " (" + std::to_string(suppressed_) + " similar lines suppressed)";
        logger_.warning(line);
        last_ = now;
        suppressed_ = 0;
    }

private:
    Poco::Logger& logger_;
    std::chrono::seconds interval_;
    std::mutex mutex_;
    std::chrono::steady_clock::time_point last_{};
    std::uint64_t suppressed_ = 0;
};

struct ReceiverConfig {
    std::string path;
    std::size_t maxBatch = 256;
};

// The plugin's keys: read by start() and, before anything starts, by `tawasul config check`.
ReceiverConfig readConfig(const sdk::ConfigNode& config) {
    config.allowOnly({"path", "max_batch", "listen", "max_connections"});
    // The receiver's own port is gone: the host's one server takes Meta's door on any listener.
    if (config.has("listen"))
        config.child("listen").fail("was removed: webhooks are served by the host's server; to give Meta a port of its own, "
                                    "add the address to server.listeners");
    if (config.has("max_connections"))
        config.child("max_connections").fail("was removed: use server.max_connections and server.max_connections_per_address");
    ReceiverConfig result;
    result.path = config.getString("path", "/webhooks/whatsapp");
    if (result.path.empty() || result.path[0] != '/') config.child("path").fail("must be an absolute path such as /webhooks/whatsapp");
    result.maxBatch = static_cast<std::size_t>(config.getInt("max_batch", 256, 1, 10000));
    return result;
}

class WebhookReceiverPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        const ReceiverConfig config = readConfig(context.config());
        const std::string& path = config.path;
        const std::size_t maxBatch = config.maxBatch;

        context_ = &context;
        log_ = std::make_unique<RateLimitedLog>(context.logger(), std::chrono::seconds(10));
        sdk::Metrics& metrics = context.metrics();
        received_ = &metrics.counter("tawasul_webhook_received_total", "Webhook POSTs received");
        stored_ = &metrics.counter("tawasul_webhook_stored_total", "Webhook events stored durably and acknowledged");
        // Looked up once: a flood of forged POSTs is refused on the request path, and each lookup
        // by name takes the registry's lock.
        for (const char* reason : {"missing_signature", "malformed_signature", "bad_signature", "not_configured",
                                   "verify_parameters", "verify_token", "store_failed"})
            rejected_[reason] = &metrics.counter(std::string("tawasul_webhook_rejected_total{reason=\"") + reason + "\"}",
                                                 "Webhook requests refused, by reason");
        ackSeconds_ = &metrics.histogram("tawasul_webhook_ack_seconds", "Time to acknowledge a webhook POST (stored and committed)",
                                         {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1});
        writer_ = std::make_unique<EventWriter>(context.database(), context.jobs(), metrics, maxBatch);

        const auto plain = sdk::RouteOptions::open(sdk::RouteStyle::Plain);
        context.routes().add("GET", path, [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
            verify(request, response);
        }, plain);
        // Async: answered from the group commit's callback, so no thread waits for the commit.
        context.routes().addAsync("POST", path, [this](sdk::HttpRequest& request, std::shared_ptr<sdk::Responder> responder) {
            receive(request, std::move(responder));
        }, plain);
        registerEventsPages(context);
        registerWebhookSettingsPage(context, path);
        context.logger().information("receiving WhatsApp webhooks at " + path);
    }

    void stop() noexcept override {
        // The host's server has stopped and answered what it owed: the writer's queue drains.
        if (writer_) writer_->stop();
    }

private:
    void reject(sdk::HttpResponse& response, int status, const std::string& reason, const std::string& message,
                const sdk::HttpRequest& request) {
        rejected_.at(reason)->increment();
        log_->warning("refused webhook " + request.method + " from " + request.remoteAddress + " (" + reason + "): " + message);
        response.text(status, message + "\n");
    }

    // Meta's subscription handshake: echo hub.challenge when hub.verify_token is ours.
    void verify(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const auto mode = request.queryParam("hub.mode");
        const auto token = request.queryParam("hub.verify_token");
        const auto challenge = request.queryParam("hub.challenge");
        if (!mode || !token || !challenge) {
            reject(response, 400, "verify_parameters", "hub.mode, hub.verify_token and hub.challenge are required", request);
            return;
        }
        const auto expected = context_->settings().get(kVerifyToken);
        if (!expected || expected->empty()) {
            reject(response, 403, "not_configured", "no verify token is configured (setting whatsapp.webhook.verify_token)", request);
            return;
        }
        if (*mode != "subscribe" || !sdk::constantTimeEquals(*token, *expected)) {
            reject(response, 403, "verify_token", "verification refused", request);
            return;
        }
        context_->logger().information("webhook subscription verified from " + request.remoteAddress);
        response.text(200, *challenge);  // raw, exactly as sent
    }

    // Called on the server's I/O thread: the checks are quick (an HMAC, a cached setting), then the
    // event joins the next group commit and the answer goes out from the writer's callback.
    void receive(sdk::HttpRequest& request, std::shared_ptr<sdk::Responder> responder) {
        const auto started = std::chrono::steady_clock::now();
        sdk::HttpResponse response;
        IncomingEvent event;
        if (!admit(request, response, event)) return responder->send(std::move(response));
        event.payload = std::move(request.body);
        try {
            writer_->submit(std::move(event), [this, responder, started](std::int64_t id, std::exception_ptr error) {
                sdk::HttpResponse answer;
                if (!error) {
                    acknowledge(answer, id, started);
                } else {
                    try {
                        std::rethrow_exception(error);
                    } catch (const std::exception& failure) {
                        storeFailed(answer, failure.what());
                    } catch (...) {
                        storeFailed(answer, "an unknown error");
                    }
                }
                responder->send(std::move(answer));
            });
        } catch (const std::exception& error) {
            storeFailed(response, error.what());
            responder->send(std::move(response));
        }
    }

    // The checks a POST passes before its bytes are stored: a signature over the exact body by the
    // app secret. False when refused, with the refusal in `response`; else `event` holds all but
    // the payload.
    bool admit(const sdk::HttpRequest& request, sdk::HttpResponse& response, IncomingEvent& event) {
        received_->increment();
        const auto header = request.header(sdk::kSignatureHeader);
        if (!header) {
            reject(response, 401, "missing_signature", "X-Hub-Signature-256 is required", request);
            return false;
        }
        const auto secret = context_->settings().get(kAppSecret);
        if (!secret || secret->empty()) {
            // 503, not 4xx: Meta keeps retrying for days, so the event arrives once the secret is set.
            reject(response, 503, "not_configured", "no app secret is configured (setting whatsapp.cloud.app_secret)", request);
            return false;
        }
        switch (checkSignature(request.body, &*header, *secret)) {
            case SignatureCheck::Valid: break;
            case SignatureCheck::Missing:
                reject(response, 401, "missing_signature", "X-Hub-Signature-256 is required", request);
                return false;
            case SignatureCheck::Malformed:
                reject(response, 403, "malformed_signature", "X-Hub-Signature-256 must be sha256=<64 hex digits>", request);
                return false;
            case SignatureCheck::Mismatch:
                reject(response, 403, "bad_signature", "the signature does not match the body", request);
                return false;
        }
        // Stored even when it is not valid JSON: Meta signed it, so it is evidence, and its job
        // will fail visibly rather than the bytes being dropped here.
        event.signature = *header;
        event.receivedAt = context_->clock().nowMillis();
        return true;
    }

    void acknowledge(sdk::HttpResponse& response, std::int64_t id, std::chrono::steady_clock::time_point started) {
        stored_->increment();
        ackSeconds_->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        response.setHeader("X-Tawasul-Event-Id", std::to_string(id));
        response.text(200, "ok\n");
    }

    void storeFailed(sdk::HttpResponse& response, const std::string& error) {
        rejected_.at("store_failed")->increment();
        context_->logger().error("could not store webhook event (Meta will retry): " + error);
        response.text(503, "could not store the event; retry later\n");
    }

    sdk::HostContext* context_ = nullptr;
    std::unique_ptr<RateLimitedLog> log_;
    std::unique_ptr<EventWriter> writer_;
    sdk::Counter* received_ = nullptr;
    std::map<std::string, sdk::Counter*> rejected_;  // by reason; filled in start(), read-only after
    sdk::Counter* stored_ = nullptr;
    sdk::Histogram* ackSeconds_ = nullptr;
};

}  // namespace
}  // namespace tawasul::plugins::webhook_receiver

TAWASUL_PLUGIN(tawasul::plugins::webhook_receiver::WebhookReceiverPlugin, "webhook_receiver", "0.2.0", tawasul::sdk::kNoDependencies,
               tawasul::plugins::webhook_receiver::readConfig)
