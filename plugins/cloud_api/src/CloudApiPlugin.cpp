// Sends messages through Meta's WhatsApp Cloud API (Graph API): text, templates and mark-as-read,
// paced per business number, over HTTPS with certificate verification and reused keep-alive
// connections. Answers become SendResults by the class of Meta's error code (classifyAnswer in GraphApi.hpp).
// It is also the MediaSource of the media Meta delivers: GET /{media-id}, then the URL it answers
// (valid about five minutes) with the same bearer token, read no further than the caller's cap.
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Nullable.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "AccountEvents.hpp"
#include "GraphApi.hpp"
#include "PairPacer.hpp"
#include "SettingsPage.hpp"
#include "SharedPacer.hpp"
#include "TemplateCatalog.hpp"
#include "TokenBucket.hpp"
#include "tawasul/sdk/Crypto.hpp"
#include "tawasul/sdk/Errors.hpp"
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace tawasul::plugins::cloud_api {
namespace {

using namespace Poco::Data::Keywords;

constexpr const char* kTokenKey = "whatsapp.cloud.access_token";
constexpr const char* kPhoneNumberIdKey = "whatsapp.cloud.phone_number_id";
constexpr const char* kBusinessAccountKey = "whatsapp.cloud.business_account_id";
// Meta pages its template list; a hundred a page, and a bound on how many pages one sync reads.
constexpr std::size_t kTemplatesPerPage = 100;
constexpr int kTemplatePages = 50;
// "false" turns Cloud API sending off at once on every host (settings are shared through the
// database): sends go down the dispatch chain, and no mark-read reaches Meta.
constexpr const char* kEnabledKey = "whatsapp.cloud.enabled";

struct Options {
    std::string graphUrl = "https://graph.facebook.com";
    std::string apiVersion = "v21.0";
    double messagesPerSecond = 80;
    PairRule pair;  // Meta's pair rate, per recipient
    std::string phoneNumberId;  // empty: from the settings
    int connectTimeoutMs = 5000;
    int timeoutMs = 20000;
    int maxIdleConnections = 8;
};

// The plugin's keys: read by start() and, before anything starts, by `tawasul config check`.
Options readConfig(const sdk::ConfigNode& config) {
    config.allowOnly({"graph_url", "api_version", "messages_per_second", "pair_interval_ms", "pair_burst", "phone_number_id",
                      "connect_timeout_ms", "timeout_ms", "max_idle_connections"});
    Options options;
    options.graphUrl = config.getString("graph_url", options.graphUrl);
    Poco::URI uri;
    try {
        uri = Poco::URI(options.graphUrl);
    } catch (const Poco::SyntaxException&) {
        uri.clear();  // refused below with the same message as any other URL that is not http(s)
    }
    if ((uri.getScheme() != "https" && uri.getScheme() != "http") || uri.getHost().empty())
        config.child("graph_url").fail("graph_url must be an http:// or https:// URL, not '" + options.graphUrl + "'");
    options.apiVersion = config.getString("api_version", options.apiVersion);
    if (options.apiVersion.empty() || options.apiVersion.find('/') != std::string::npos)
        config.child("api_version").fail("api_version must look like v21.0");
    options.messagesPerSecond = static_cast<double>(config.getInt("messages_per_second", 80, 1, 100000));
    options.pair.intervalMicros = config.getInt("pair_interval_ms", options.pair.intervalMicros / 1000, 1, 3600000) * 1000;
    options.pair.burst = static_cast<int>(config.getInt("pair_burst", options.pair.burst, 1, 1000));
    options.phoneNumberId = config.getString("phone_number_id", "");
    options.connectTimeoutMs = static_cast<int>(config.getInt("connect_timeout_ms", options.connectTimeoutMs, 1, 600000));
    options.timeoutMs = static_cast<int>(config.getInt("timeout_ms", options.timeoutMs, 1, 600000));
    options.maxIdleConnections = static_cast<int>(config.getInt("max_idle_connections", options.maxIdleConnections, 0, 1024));
    return options;
}

struct Answer {
    int status = 0;
    std::string body;
};

// Keep-alive connections to the Graph API, reused across sends and shared by the job workers.
// A connection is handed to one caller at a time and put back only after a complete answer.
class SessionPool {
public:
    SessionPool(const Options& options, Poco::Net::Context::Ptr tls)
        : uri_(options.graphUrl), options_(options), tls_(std::move(tls)) {}

    Answer call(const std::string& method, const std::string& path, const std::string& token, const std::string& body) {
        std::unique_ptr<Poco::Net::HTTPClientSession> session = acquire();
        Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
        request.setKeepAlive(true);
        request.set("Authorization", "Bearer " + token);
        if (!body.empty() || method == Poco::Net::HTTPRequest::HTTP_POST) {
            request.setContentType("application/json");
            request.setContentLength(static_cast<std::streamsize>(body.size()));
        }
        // An exception leaves the connection unusable: it is dropped with the unique_ptr.
        std::ostream& out = session->sendRequest(request);
        out << body;
        Poco::Net::HTTPResponse response;
        std::istream& in = session->receiveResponse(response);
        Answer answer;
        answer.status = static_cast<int>(response.getStatus());
        Poco::StreamCopier::copyToString(in, answer.body);
        if (response.getKeepAlive()) release(std::move(session));
        return answer;
    }

    std::string basePath() const {
        std::string path = uri_.getPath();
        while (!path.empty() && path.back() == '/') path.pop_back();
        return path;
    }

private:
    std::unique_ptr<Poco::Net::HTTPClientSession> acquire() {
        {
            std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                auto session = std::move(idle_.back());
                idle_.pop_back();
                return session;
            }
        }
        std::unique_ptr<Poco::Net::HTTPClientSession> session;
        if (uri_.getScheme() == "https")
            session = std::make_unique<Poco::Net::HTTPSClientSession>(uri_.getHost(), uri_.getPort(), tls_);
        else
            session = std::make_unique<Poco::Net::HTTPClientSession>(uri_.getHost(), uri_.getPort());
        session->setKeepAlive(true);
        session->setTimeout(Poco::Timespan(Poco::Timespan::TimeDiff(options_.connectTimeoutMs) * 1000),
                            Poco::Timespan(Poco::Timespan::TimeDiff(options_.timeoutMs) * 1000),
                            Poco::Timespan(Poco::Timespan::TimeDiff(options_.timeoutMs) * 1000));
        return session;
    }
    void release(std::unique_ptr<Poco::Net::HTTPClientSession> session) {
        std::lock_guard lock(mutex_);
        if (static_cast<int>(idle_.size()) < options_.maxIdleConnections) idle_.push_back(std::move(session));
    }

    Poco::URI uri_;
    Options options_;
    Poco::Net::Context::Ptr tls_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Poco::Net::HTTPClientSession>> idle_;
};

class CloudApiProvider final : public sdk::MessageProvider, public sdk::ProviderConnectionTest, public sdk::TemplateSource,
                               public sdk::MediaSource, public sdk::TypingIndicator {
public:
    CloudApiProvider(sdk::HostContext& context, Options options)
        : context_(context), options_(std::move(options)) {
        if (Poco::URI(options_.graphUrl).getScheme() == "https") {
            // Certificates are verified against the system's CA store; the host name is checked.
            tls_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "", Poco::Net::Context::VERIFY_RELAXED, 9,
                                          true);
        }
        pool_ = std::make_unique<SessionPool>(options_, tls_);
        const bool shared = context_.database().sql() == sdk::SqlDialect::postgresql();
        if (shared) sharedPacer_ = std::make_unique<SharedPacer>(context_.database(), options_.messagesPerSecond, &lateSlots_, &lateness_);
        pairPacer_ = std::make_unique<PairPacer>(shared ? &context_.database() : nullptr, options_.pair);
    }

    std::string name() const override { return context_.pluginName(); }
    // Send slots let go for a new one because their sender came too late for them (a thread woken
    // late, a shared reservation answered after its slot): what the pacing loses, for operators.
    sdk::Counter& lateSlotsCounter() {
        return context_.metrics().counter("tawasul_cloud_api_late_send_slots_total",
                                          "Send slots let go for a new one because their sender came too late for them");
    }
    bool enforcesWindow() const override { return true; }

    sdk::SendResult send(const sdk::OutboundMessage& message) override {
        Credentials credentials;
        sdk::SendResult result;
        if (message.toE164.empty() && message.userId.empty()) {
            result.outcome = sdk::SendOutcome::Refused;
            result.errorTitle = "no recipient";
            result.errorDetails = "the contact has neither a phone number nor a business-scoped user id";
            return result;
        }
        if (!usable(credentials, result)) return result;
        if (const auto restriction = restrictions_.blocking(message.kind == sdk::ContentKind::Template)) {
            result.outcome = sdk::SendOutcome::Unavailable;
            result.note = "restricted by Meta: " + *restriction;
            return result;
        }
        const std::string body = message.kind == sdk::ContentKind::Text ? textBody(message) : templateBody(message);
        try {
            // The recipient's pair rate first: a message that must wait for it takes no send slot.
            const auto pairWait = pairPacer_->admit(credentials.phoneNumberId, pairRecipient(message));
            if (pairWait.count() > 0) return pairPaced(pairWait);
            pace(credentials.phoneNumberId);
        } catch (const std::exception& error) {
            return networkFailure("cannot reserve a send slot: " + sdk::errorText(error));
        }
        Answer answer;
        try {
            answer = pool_->call(Poco::Net::HTTPRequest::HTTP_POST, messagesPath(credentials.phoneNumberId), credentials.token, body);
        } catch (const Poco::Exception& error) {
            return networkFailure(error.displayText());
        } catch (const std::exception& error) {
            return networkFailure(sdk::errorText(error));
        }
        Classified classified = classifyAnswer(answer.status, answer.body);
        if (classified.unhealthy) markUnhealthy(credentials, classified.result);
        return classified.result;
    }

    bool markRead(const std::string& inboundWamid) override { return readCall(inboundWamid, markReadBody(inboundWamid), "mark-read"); }

    // The same read call with typing_indicator: Meta shows the customer that an agent is typing.
    bool showTyping(const std::string& inboundWamid) override {
        return readCall(inboundWamid, typingBody(inboundWamid), "typing indicator");
    }

    bool readCall(const std::string& inboundWamid, const std::string& body, const std::string& what) {
        Credentials credentials;
        sdk::SendResult unused;
        if (!usable(credentials, unused)) return false;
        try {
            pace(credentials.phoneNumberId);
            const Answer answer =
                pool_->call(Poco::Net::HTTPRequest::HTTP_POST, messagesPath(credentials.phoneNumberId), credentials.token, body);
            if (answer.status >= 200 && answer.status < 300) return true;
            context_.logger().warning(what + " of " + inboundWamid + " answered HTTP " + std::to_string(answer.status));
        } catch (const Poco::Exception& error) {
            context_.logger().warning(what + " of " + inboundWamid + " failed: " + error.displayText());
        }
        return false;
    }

    sdk::ProviderHealth health() const override {
        if (switchedOff()) return {sdk::ProviderState::Disabled, kSwitchedOffNote};
        Credentials credentials;
        sdk::SendResult unused;
        if (!const_cast<CloudApiProvider*>(this)->readCredentials(credentials, unused))
            return {sdk::ProviderState::Unconfigured, unused.note};
        const_cast<CloudApiProvider*>(this)->refreshSharedHealth(credentials);
        if (const auto restriction = restrictions_.blocking(false)) return {sdk::ProviderState::Unhealthy, "restricted by Meta: " + *restriction};
        {
            std::lock_guard lock(mutex_);
            if (unhealthy_ && credentials.tokenHash == failedTokenHash_) return {sdk::ProviderState::Unhealthy, unhealthyReason_};
        }
        // Healthy for replies, but templates go to the fallback: said, without stopping the inbox.
        if (const auto restriction = restrictions_.blocking(true)) return {sdk::ProviderState::Healthy, "templates restricted by Meta: " + *restriction};
        return {};
    }

    // Every template of the business account (setting whatsapp.cloud.business_account_id), page by
    // page through the configured Graph API; at most kTemplatePages pages of kTemplatesPerPage.
    std::vector<sdk::MetaTemplate> metaTemplates() override {
        Credentials credentials;
        sdk::SendResult result;
        if (!readCredentials(credentials, result)) throw std::runtime_error("cannot read Meta's templates: " + result.note);
        const std::string account = businessAccount("cannot read Meta's templates");
        std::vector<sdk::MetaTemplate> templates;
        std::optional<std::string> after;
        for (int page = 0; page < kTemplatePages; ++page) {
            const Answer answer = accountCall(credentials, Poco::Net::HTTPRequest::HTTP_GET, templatePagePath(account, kTemplatesPerPage, after),
                                              "", "cannot read Meta's templates");
            TemplatePage read = readTemplatePage(answer.body);
            for (sdk::MetaTemplate& meta : read.templates) templates.push_back(std::move(meta));
            if (!read.after) return templates;
            after = read.after;
        }
        throw std::runtime_error("cannot read Meta's templates: more than " + std::to_string(kTemplatePages * kTemplatesPerPage) +
                                 " templates (" + std::to_string(kTemplatePages) + " pages)");
    }

    sdk::SubmittedTemplate submit(const sdk::TemplateSubmission& submission) override {
        Credentials credentials;
        sdk::SendResult result;
        if (!readCredentials(credentials, result)) throw std::runtime_error("cannot submit the template: " + result.note);
        const std::string account = businessAccount("cannot submit the template");
        std::string body;
        try {
            body = templateCreationBody(submission);
        } catch (const std::invalid_argument& missing) {
            throw std::runtime_error(std::string("cannot submit the template: no example for ") + missing.what());
        }
        const Answer answer = accountCall(credentials, Poco::Net::HTTPRequest::HTTP_POST, "/" + account + "/message_templates", body,
                                          "Meta refused the template");
        return readSubmittedTemplate(answer.body);
    }


    sdk::ProviderHealth testConnection() override {
        if (switchedOff()) return {sdk::ProviderState::Disabled, kSwitchedOffNote};
        Credentials credentials;
        sdk::SendResult result;
        if (!readCredentials(credentials, result)) return {sdk::ProviderState::Unconfigured, result.note};
        try {
            const Answer answer = pool_->call(Poco::Net::HTTPRequest::HTTP_GET,
                                              pool_->basePath() + "/" + options_.apiVersion + "/" + credentials.phoneNumberId +
                                                  "?fields=id",
                                              credentials.token, "");
            if (answer.status >= 200 && answer.status < 300) {
                clearUnhealthy("a test connection succeeded");
                return {};
            }
            Classified classified = classifyAnswer(answer.status, answer.body);
            if (classified.unhealthy) markUnhealthy(credentials, classified.result);
            return {sdk::ProviderState::Unhealthy, "HTTP " + std::to_string(answer.status) + ": " + classified.result.errorTitle};
        } catch (const Poco::Exception& error) {
            return {sdk::ProviderState::Unhealthy, "no answer from " + options_.graphUrl + ": " + error.displayText()};
        }
    }

    sdk::MediaFetch fetch(const std::string& mediaId, const sdk::MediaLimits& limits) override {
        sdk::MediaFetch result;
        Credentials credentials;
        sdk::SendResult unconfigured;
        if (!readCredentials(credentials, unconfigured)) {
            result.outcome = sdk::MediaOutcome::Unavailable;
            result.detail = unconfigured.note;
            return result;
        }
        // The id goes into a path: Meta's are digits; anything else is no id of theirs.
        if (mediaId.empty() || mediaId.size() > 64 || mediaId.find_first_not_of("0123456789") != std::string::npos) {
            result.outcome = sdk::MediaOutcome::NotFound;
            result.detail = "not a Cloud API media id";
            return result;
        }
        Answer answer;
        try {
            answer = pool_->call(Poco::Net::HTTPRequest::HTTP_GET, pool_->basePath() + "/" + options_.apiVersion + "/" + mediaId,
                                 credentials.token, "");
        } catch (const Poco::Exception& error) {
            result.outcome = sdk::MediaOutcome::RetryLater;
            result.detail = "media lookup got no answer: " + error.displayText();
            return result;
        }
        MediaLookup lookup = readMediaLookup(answer.status, answer.body);
        result = lookup.failure;
        if (!lookup.ok) return result;
        if (result.declaredSize >= 0 && static_cast<std::uint64_t>(result.declaredSize) > limits.maxBytes) {
            result.outcome = sdk::MediaOutcome::TooLarge;
            result.detail = "Meta declares " + std::to_string(result.declaredSize) + " bytes, over the cap of " + std::to_string(limits.maxBytes);
            return result;
        }
        download(lookup.url, credentials.token, limits, result);
        return result;
    }

private:
    // Reads the media URL into result.bytes, stopping at limits.maxBytes + 1 (TooLarge) and at the
    // deadline (RetryLater). Its own connection: the URL is on another host than the Graph API.
    void download(const std::string& url, const std::string& token, const sdk::MediaLimits& limits, sdk::MediaFetch& result) {
        using namespace std::chrono;
        const auto left = [&] { return duration_cast<milliseconds>(limits.deadline - steady_clock::now()).count(); };
        const auto late = [&] {
            result.outcome = sdk::MediaOutcome::RetryLater;
            result.bytes.clear();
            result.detail = "media download did not finish before its deadline";
        };
        if (left() <= 0) return late();
        try {
            const Poco::URI uri(url);
            std::unique_ptr<Poco::Net::HTTPClientSession> session;
            if (uri.getScheme() == "https")
                session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), downloadTls());
            else
                session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
            const auto timeout = [&](int configured) {
                return Poco::Timespan(Poco::Timespan::TimeDiff(std::max<long long>(1, std::min<long long>(configured, left()))) * 1000);
            };
            session->setTimeout(timeout(options_.connectTimeoutMs), timeout(options_.timeoutMs), timeout(options_.timeoutMs));
            Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
            request.set("Authorization", "Bearer " + token);
            session->sendRequest(request);
            Poco::Net::HTTPResponse response;
            std::istream& in = session->receiveResponse(response);
            const int status = static_cast<int>(response.getStatus());
            if (status < 200 || status >= 300) {
                const std::string mime = result.mimeType, sha = result.sha256;
                const std::int64_t size = result.declaredSize;
                result = downloadFailure(status);
                result.mimeType = mime;
                result.sha256 = sha;
                result.declaredSize = size;
                return;
            }
            const bool known = response.hasContentLength();
            if (known && static_cast<std::uint64_t>(response.getContentLength64()) > limits.maxBytes) {
                result.outcome = sdk::MediaOutcome::TooLarge;
                result.detail = "the download is " + std::to_string(response.getContentLength64()) + " bytes, over the cap of " +
                                std::to_string(limits.maxBytes);
                return;
            }
            std::string bytes;
            char buffer[65536];
            while (in) {
                in.read(buffer, sizeof buffer);
                bytes.append(buffer, static_cast<std::size_t>(in.gcount()));
                if (bytes.size() > limits.maxBytes) {
                    result.outcome = sdk::MediaOutcome::TooLarge;
                    result.detail = "the download went past the cap of " + std::to_string(limits.maxBytes) + " bytes";
                    return;
                }
                if (left() <= 0) return late();
            }
            if (known && static_cast<std::int64_t>(bytes.size()) != response.getContentLength64()) {
                result.outcome = sdk::MediaOutcome::RetryLater;
                result.detail = "the download ended after " + std::to_string(bytes.size()) + " of " +
                                std::to_string(response.getContentLength64()) + " bytes";
                return;
            }
            if (result.mimeType.empty()) result.mimeType = response.getContentType();
            result.bytes = std::move(bytes);
            result.outcome = sdk::MediaOutcome::Fetched;
        } catch (const Poco::Exception& error) {
            result.outcome = sdk::MediaOutcome::RetryLater;
            result.bytes.clear();
            result.detail = "media download failed: " + error.displayText();
        }
    }

    Poco::Net::Context::Ptr downloadTls() {
        std::lock_guard lock(mutex_);
        if (!downloadTls_) {
            if (tls_) downloadTls_ = tls_;
            else downloadTls_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "", Poco::Net::Context::VERIFY_RELAXED, 9, true);
        }
        return downloadTls_;
    }

    struct Credentials {
        std::string token;
        std::size_t tokenHash = 0;
        std::string phoneNumberId;
    };

    // A call about the business account (its templates), whose answer must be a 2xx: anything else
    // throws "WHAT: HTTP 400 (100): Meta's title", and an answer that says the token is bad makes
    // the provider unhealthy as a send would.
    Answer accountCall(const Credentials& credentials, const std::string& method, const std::string& path, const std::string& body,
                       const std::string& what) {
        Answer answer;
        try {
            answer = pool_->call(method, pool_->basePath() + "/" + options_.apiVersion + path, credentials.token, body);
        } catch (const Poco::Exception& error) {
            throw std::runtime_error(what + ": no answer from " + options_.graphUrl + ": " + error.displayText());
        }
        if (answer.status >= 200 && answer.status < 300) return answer;
        const Classified classified = classifyAnswer(answer.status, answer.body);
        if (classified.unhealthy) markUnhealthy(credentials, classified.result);
        throw std::runtime_error(what + ": HTTP " + std::to_string(answer.status) +
                                 (classified.result.errorCode ? " (" + std::to_string(classified.result.errorCode) + ")" : "") +
                                 (classified.result.errorTitle.empty() ? "" : ": " + classified.result.errorTitle));
    }

    // The WhatsApp Business Account's id from the settings (digits), or why there is none.
    std::string businessAccount(const std::string& what) const {
        const std::string account = context_.settings().get(kBusinessAccountKey).value_or("");
        if (account.empty() || account.find_first_not_of("0123456789") != std::string::npos)
            throw std::runtime_error(what + ": not configured: no business account id (setting " + kBusinessAccountKey + ", digits)");
        return account;
    }

    // A message Meta would refuse with 131056 (pair rate) waits for its recipient's turn as a retry,
    // without calling Meta: the job runs again when the turn comes.
    sdk::SendResult pairPaced(std::chrono::microseconds wait) const {
        sdk::SendResult result;
        result.outcome = sdk::SendOutcome::RetryLater;
        result.errorTitle = "pair rate";
        const auto millis = std::chrono::ceil<std::chrono::milliseconds>(wait);
        result.retryAfter = millis;
        result.note = "paced: the next message to this recipient may go in " + std::to_string(millis.count()) +
                      " ms (Meta's pair rate, error 131056: " + std::to_string(options_.pair.burst) + " at most in a burst, then one every " +
                      std::to_string(options_.pair.intervalMicros / 1000) + " ms)";
        return result;
    }

    // The first 16 hex digits of the token's SHA-256: enough to tell tokens apart, nothing to use.
    static std::string tokenDigest(const std::string& token) { return sdk::sha256Hex(token).substr(0, 16); }

    std::string messagesPath(const std::string& phoneNumberId) const {
        return pool_->basePath() + "/" + options_.apiVersion + "/" + phoneNumberId + "/messages";
    }

    static constexpr const char* kSwitchedOffNote = "disabled: setting whatsapp.cloud.enabled is false";

    bool switchedOff() const { return context_.settings().get(kEnabledKey).value_or("true") == "false"; }

    bool readCredentials(Credentials& credentials, sdk::SendResult& result) {
        result.outcome = sdk::SendOutcome::Unavailable;
        if (switchedOff()) {
            result.note = kSwitchedOffNote;
            return false;
        }
        credentials.phoneNumberId = options_.phoneNumberId.empty() ? context_.settings().get(kPhoneNumberIdKey).value_or("")
                                                                   : options_.phoneNumberId;
        credentials.token = context_.settings().get(kTokenKey).value_or("");
        // Only a hash is kept to notice that the token changed; the token itself is never logged.
        credentials.tokenHash = std::hash<std::string>{}(credentials.token);
        if (credentials.token.empty()) {
            result.note = std::string("not configured: no access token (setting ") + kTokenKey + ")";
            return false;
        }
        if (credentials.phoneNumberId.empty()) {
            result.note = std::string("not configured: no phone number id (setting ") + kPhoneNumberIdKey +
                          " or cloud_api.phone_number_id)";
            return false;
        }
        return true;
    }

    // Configured and not unhealthy with this token; a changed token clears an unhealthy state.
    bool usable(Credentials& credentials, sdk::SendResult& result) {
        if (!readCredentials(credentials, result)) return false;
        refreshSharedHealth(credentials);
        bool clear = false;
        {
            std::lock_guard lock(mutex_);
            if (unhealthy_) {
                if (credentials.tokenHash == failedTokenHash_) {
                    result.outcome = sdk::SendOutcome::Unavailable;
                    result.note = "unhealthy: " + unhealthyReason_;
                    return false;
                }
                clear = true;
            }
        }
        if (clear) clearUnhealthy("the access token changed");
        return true;
    }

    // Waits for the number's next send slot: shared with the other hosts on PostgreSQL, in this
    // process on SQLite (one host). Throws when the shared slot cannot be reserved.
    void pace(const std::string& phoneNumberId) {
        if (sharedPacer_) {
            sharedPacer_->wait(phoneNumberId);
            return;
        }
        TokenBucket* bucket = nullptr;
        {
            std::lock_guard lock(mutex_);
            auto& slot = buckets_[phoneNumberId];
            // Under the configured rate by SharedPacer's margin, for the same reason: what Meta
            // sees also carries a late wake and the request's way there, and must never exceed it.
            if (!slot) slot = std::make_unique<TokenBucket>(options_.messagesPerSecond * SharedPacer::kMargin);
            bucket = slot.get();
        }
        using namespace std::chrono;
        const auto micros = [] { return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count(); };
        while (true) {
            const std::int64_t at = bucket->reserve(micros());
            std::this_thread::sleep_until(steady_clock::time_point(microseconds(at)));
            const std::int64_t woke = micros();
            lateness_.observe(static_cast<double>(woke - at) / 1e6);
            if (bucket->usable(at, woke)) return;
            lateSlots_.increment();
        }
    }

    void markUnhealthy(const Credentials& credentials, const sdk::SendResult& result) {
        const std::string reason = result.note + " (" + std::to_string(result.errorCode) + ")" +
                                   (result.errorTitle.empty() ? "" : ": " + result.errorTitle);
        {
            std::lock_guard lock(mutex_);
            unhealthy_ = true;
            unhealthyReason_ = reason;
            failedTokenHash_ = credentials.tokenHash;
        }
        context_.logger().error("Cloud API unhealthy, messages go to the fallback until fixed: " + reason);
        try {
            sdk::Database& database = context_.database();
            Poco::Data::Session session = database.session();
            sdk::Transaction transaction(database, session, sdk::Durability::Full);
            std::string source = "cloud_api", code = std::to_string(result.errorCode), message = reason,
                        digest = tokenDigest(credentials.token);
            Poco::Int64 at = context_.clock().nowMillis();
            // One open alert per problem, however many messages (or hosts) meet it: the unique
            // index of open alerts (migration 0003) keeps the first. The other hosts read it
            // (refreshSharedHealth) and stop sending with this token too.
            session << "INSERT INTO whatsapp_alerts (source, code, message, created_at, token_digest) VALUES ($1, $2, $3, $4, $5) "
                       "ON CONFLICT (source, code) WHERE resolved_at IS NULL DO NOTHING",
                use(source), use(code), use(message), use(at), use(digest), now;
            transaction.commit();
        } catch (const std::exception& error) {
            context_.logger().error("cannot record the alert: " + sdk::errorText(error));
        }
        context_.events().publish({"alert.raised", "{\"source\":\"cloud_api\",\"code\":\"" + std::to_string(result.errorCode) + "\"}"});
    }

    // On PostgreSQL the provider's health is shared through the open alerts: what one host found
    // (an expired token, 190) stops the others' sends with the same token within kSharedHealthAge;
    // an alert resolved anywhere (a new token, a test connection that succeeded) lets them resume.
    static constexpr std::chrono::milliseconds kSharedHealthAge{500};
    void refreshSharedHealth(const Credentials& credentials) {
        if (context_.database().sql() != sdk::SqlDialect::postgresql()) return;
        const auto current = std::chrono::steady_clock::now();
        {
            std::lock_guard lock(mutex_);
            if (current - sharedHealthAt_ < kSharedHealthAge) return;
            sharedHealthAt_ = current;  // the other workers use what this one reads
        }
        std::string message, digest;
        bool open = false;
        try {
            Poco::Data::Session session = context_.database().session();
            std::vector<std::string> messages, digests;
            session << "SELECT message, token_digest FROM whatsapp_alerts WHERE source = 'cloud_api' AND resolved_at IS NULL "
                       "AND token_digest IS NOT NULL ORDER BY id DESC LIMIT 1",
                into(messages), into(digests), now;
            open = !messages.empty();
            if (open) {
                message = messages.front();
                digest = digests.front();
            }
        } catch (const std::exception& error) {
            context_.logger().warning("cannot read the shared provider health: " + sdk::errorText(error));
            return;
        }
        bool resolve = false;
        {
            std::lock_guard lock(mutex_);
            if (open && digest == tokenDigest(credentials.token)) {
                if (!unhealthy_) context_.logger().error("Cloud API unhealthy (seen by another host), messages go to the fallback: " + message);
                unhealthy_ = true;
                unhealthyReason_ = message;
                failedTokenHash_ = credentials.tokenHash;
            } else if (open) {
                resolve = true;  // about a token that has since been replaced
            } else if (unhealthy_) {
                unhealthy_ = false;  // resolved on another host
                unhealthyReason_.clear();
                context_.logger().information("Cloud API healthy again: the alert was resolved");
            }
        }
        if (resolve) {
            {
                std::lock_guard lock(mutex_);
                unhealthy_ = true;  // so that clearUnhealthy resolves the stale alert
            }
            clearUnhealthy("the access token changed");
        }
    }

    void clearUnhealthy(const std::string& why) {
        {
            std::lock_guard lock(mutex_);
            if (!unhealthy_) return;
            unhealthy_ = false;
            unhealthyReason_.clear();
        }
        context_.logger().information("Cloud API healthy again: " + why);
        try {
            sdk::Database& database = context_.database();
            Poco::Data::Session session = database.session();
            sdk::Transaction transaction(database, session, sdk::Durability::Full);
            Poco::Int64 at = context_.clock().nowMillis();
            session << "UPDATE whatsapp_alerts SET resolved_at = $1 WHERE source = 'cloud_api' AND resolved_at IS NULL", use(at), now;
            transaction.commit();
        } catch (const std::exception& error) {
            context_.logger().error("cannot resolve the alerts: " + sdk::errorText(error));
        }
    }

    sdk::HostContext& context_;
    Options options_;
    Poco::Net::Context::Ptr tls_;
    Poco::Net::Context::Ptr downloadTls_;  // for media URLs on https when the Graph URL is not (tests)
    std::unique_ptr<SessionPool> pool_;
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<TokenBucket>> buckets_;  // per phone number id, shared by all workers
    std::unique_ptr<SharedPacer> sharedPacer_;                      // on PostgreSQL: shared by all hosts
    std::unique_ptr<PairPacer> pairPacer_;                          // per recipient; on PostgreSQL shared by all hosts
    mutable AccountRestrictions restrictions_{context_};            // Meta's, from its account webhooks
    sdk::Counter& lateSlots_ = lateSlotsCounter();
    sdk::Histogram& lateness_ = context_.metrics().histogram(
        "tawasul_cloud_api_send_lateness_seconds", "How long after its send slot a sender was ready (woken, and answered on PostgreSQL)",
        {0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064});
    bool unhealthy_ = false;
    std::string unhealthyReason_;
    std::chrono::steady_clock::time_point sharedHealthAt_{};
    std::size_t failedTokenHash_ = 0;
};

class CloudApiPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        const Options options = readConfig(context.config());
        auto provider = std::make_shared<CloudApiProvider>(context, options);
        // Under the plugin's name: the name `dispatch.chain` lists, and the settings page's test looks up.
        context.services().publish<sdk::MessageProvider>(context.pluginName(), provider);
        context.services().publish<sdk::ProviderConnectionTest>(context.pluginName(), provider);
        context.services().publish<sdk::TemplateSource>(context.pluginName(), provider);
        context.services().publish<sdk::WebhookFieldHandler>(context.pluginName(), std::make_shared<AccountEvents>(context));
        // The media of the messages Meta delivers, fetched by whoever stores them (admin_inbox).
        context.services().publish<sdk::MediaSource>(context.pluginName(), provider);
        // "Typing..." for the customer while an agent writes (ABI 2.8).
        context.services().publish<sdk::TypingIndicator>(context.pluginName(), provider);
        registerSettingsPage(context);
        gauges_ = std::make_unique<NumberHealthGauges>(context);
        context.logger().information("cloud_api sends to " + options.graphUrl + "/" + options.apiVersion + " at " +
                                     std::to_string(static_cast<int>(options.messagesPerSecond)) + " messages/s per number, to one recipient " +
                                     std::to_string(options.pair.burst) + " at most in a burst, then one every " +
                                     std::to_string(options.pair.intervalMicros / 1000) + " ms");
    }
    void stop() noexcept override { gauges_.reset(); }

private:
    std::unique_ptr<NumberHealthGauges> gauges_;
};

}  // namespace
}  // namespace tawasul::plugins::cloud_api

TAWASUL_PLUGIN(tawasul::plugins::cloud_api::CloudApiPlugin, "cloud_api", "0.2.0", tawasul::sdk::kNoDependencies,
               tawasul::plugins::cloud_api::readConfig)
