#include "FakeGraphApi.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
#include <thread>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "HostProcess.hpp"
#include "tawasul/sdk/Crypto.hpp"
#include "whatsapp/MetaPayloads.hpp"
#include "WebhookSupport.hpp"

namespace tawasul::test {
namespace {

std::int64_t steadyMicros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool isSend(const GraphRequest& request) {
    return request.method == "POST" && request.path.size() >= 9 &&
           request.path.compare(request.path.size() - 9, 9, "/messages") == 0 &&
           request.body.find("\"status\":\"read\"") == std::string::npos;
}

}  // namespace

GraphReply GraphReply::metaError(int httpStatus, int code, const std::string& message, const std::string& details) {
    Poco::JSON::Object error;
    error.set("message", message);
    error.set("type", code == 190 ? "OAuthException" : "WhatsAppBusinessApiError");
    error.set("code", code);
    Poco::JSON::Object data;
    data.set("messaging_product", "whatsapp");
    data.set("details", details.empty() ? message : details);
    error.set("error_data", data);
    error.set("fbtrace_id", "AbCdEfFakeTrace");
    Poco::JSON::Object root;
    root.set("error", error);
    std::ostringstream out;
    root.stringify(out);
    GraphReply reply;
    reply.kind = Kind::Answer;
    reply.httpStatus = httpStatus;
    reply.body = out.str();
    return reply;
}

GraphReply GraphReply::status(int httpStatus, const std::string& body) {
    GraphReply reply;
    reply.kind = Kind::Answer;
    reply.httpStatus = httpStatus;
    reply.body = body;
    return reply;
}

GraphReply GraphReply::slow(std::chrono::milliseconds delay) {
    GraphReply reply;
    reply.kind = Kind::Slow;
    reply.delay = delay;
    return reply;
}

GraphReply GraphReply::drop() {
    GraphReply reply;
    reply.kind = Kind::Drop;
    return reply;
}

class FakeGraphApi::Handler final : public Poco::Net::HTTPRequestHandler {
public:
    explicit Handler(FakeGraphApi& fake) : fake_(fake) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        GraphRequest recorded;
        recorded.method = request.getMethod();
        recorded.path = request.getURI();
        for (const auto& [name, value] : request) recorded.headers[Poco::toLower(name)] = value;
        Poco::StreamCopier::copyToString(request.stream(), recorded.body);
        recorded.receivedMicros = steadyMicros();
        if (recorded.path == "/_stats") {
            const Stats stats = fake_.stats();
            std::ostringstream out;
            out << "{\"count\":" << stats.count << ",\"span_seconds\":" << stats.spanSeconds << ",\"rate\":" << stats.ratePerSecond
                << ",\"max_in_one_second\":" << stats.maxInOneSecond << ",\"longest_gap_ms\":" << stats.longestGapMs
                << ",\"paused_ms\":" << stats.pausedMs << "}";
            answer(response, 200, out.str());
            return;
        }
        std::string wamid;
        const GraphReply reply = fake_.take(recorded, wamid);
        switch (reply.kind) {
            case GraphReply::Kind::Drop: {
                // Close without a word: the client sees the connection end before any answer.
                Poco::Net::StreamSocket socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(request).detachSocket();
                socket.shutdown();
                socket.close();
                return;
            }
            case GraphReply::Kind::Answer:
                answer(response, reply.httpStatus, reply.body);
                return;
            case GraphReply::Kind::Slow:
                std::this_thread::sleep_for(reply.delay);
                [[fallthrough]];
            case GraphReply::Kind::Ok:
                break;
        }
        int mediaStatus = 0;
        std::string mediaBody, mediaType;
        if (recorded.method == "GET" && !fake_.tokenAccepted(recorded)) {
            const GraphReply invalid = GraphReply::metaError(401, 190, "Invalid OAuth access token - Cannot parse access token");
            answer(response, invalid.httpStatus, invalid.body);
        } else if (recorded.method == "POST" && recorded.path.find("/message_templates") != std::string::npos) {
            if (auto scripted = fake_.takeSubmission()) {
                answer(response, scripted->httpStatus, scripted->body);
            } else {
                std::string category = "UTILITY";
                try {
                    category = Poco::JSON::Parser().parse(recorded.body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("category");
                } catch (const std::exception&) {
                }
                answer(response, 200, "{\"id\":\"99" + std::to_string(recorded.receivedMicros % 1000000) + "\",\"status\":\"PENDING\","
                                      "\"category\":\"" + category + "\"}");
            }
        } else if (recorded.method == "GET" && recorded.path.find("/message_templates") != std::string::npos) {
            answer(response, 200, fake_.templatePage(recorded.path));
        } else if (recorded.method == "GET" && fake_.answerMedia(recorded, mediaStatus, mediaBody, mediaType)) {
            answer(response, mediaStatus, mediaBody, mediaType);
        } else if (recorded.method == "GET") {
            answer(response, 200, "{\"id\":\"fake-phone-number-id\"}");
        } else if (!isSend(recorded)) {
            answer(response, 200, "{\"success\":true}");
        } else {
            answer(response, 200, "{\"messaging_product\":\"whatsapp\",\"contacts\":[{\"input\":\"x\",\"wa_id\":\"x\"}],"
                                  "\"messages\":[{\"id\":\"" + wamid + "\"}]}");
        }
    }

private:
    static void answer(Poco::Net::HTTPServerResponse& response, int status, const std::string& body,
                       const std::string& contentType = "application/json") {
        response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
        response.setContentType(contentType);
        response.setContentLength(static_cast<std::streamsize>(body.size()));
        response.send() << body;
    }
    FakeGraphApi& fake_;
};

class FakeGraphApi::Factory final : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit Factory(FakeGraphApi& fake) : fake_(fake) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override { return new Handler(fake_); }

private:
    FakeGraphApi& fake_;
};

FakeGraphApi::FakeGraphApi(std::uint16_t port, int threads) {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", port), 256);
    port_ = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(threads);
    params->setMaxQueued(1024);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(30, 0));
    params->setMaxKeepAliveRequests(0);  // unlimited
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket, params);
    server_->start();
}

FakeGraphApi::~FakeGraphApi() { server_->stopAll(true); }

void FakeGraphApi::answerSubmission(GraphReply reply) {
    std::lock_guard lock(mutex_);
    submissionReply_ = std::move(reply);
}

std::optional<GraphReply> FakeGraphApi::takeSubmission() {
    std::lock_guard lock(mutex_);
    auto reply = std::move(submissionReply_);
    submissionReply_.reset();
    return reply;
}

void FakeGraphApi::holdTemplates(std::vector<std::string> templateJson, std::size_t pageSize) {
    std::lock_guard lock(mutex_);
    catalog_ = std::move(templateJson);
    catalogPage_ = std::max<std::size_t>(pageSize, 1);
}

// A page of the held templates from the cursor in `after` (an index, as text: Meta's are opaque).
std::string FakeGraphApi::templatePage(const std::string& uri) const {
    std::lock_guard lock(mutex_);
    std::size_t first = 0;
    for (const auto& [name, value] : Poco::URI(uri).getQueryParameters())
        if (name == "after") first = static_cast<std::size_t>(std::stoul(value));
    const std::size_t last = std::min(catalog_.size(), first + catalogPage_);
    std::string body = "{\"data\":[";
    for (std::size_t i = first; i < last; ++i) body += (i > first ? "," : "") + catalog_[i];
    body += "],\"paging\":{\"cursors\":{\"before\":\"" + std::to_string(first) + "\",\"after\":\"" + std::to_string(last) + "\"}";
    if (last < catalog_.size())
        body += ",\"next\":\"https:\\/\\/graph.facebook.com\\/v21.0\\/100000000000000\\/message_templates?limit=" +
                std::to_string(catalogPage_) + "&after=" + std::to_string(last) + "\"";
    return body + "}}";
}

void FakeGraphApi::requireToken(const std::string& token) {
    std::lock_guard lock(mutex_);
    requiredToken_ = token;
}

bool FakeGraphApi::tokenAccepted(const GraphRequest& request) const {
    std::lock_guard lock(mutex_);
    if (requiredToken_.empty()) return true;
    const auto it = request.headers.find("authorization");
    return it != request.headers.end() && it->second == "Bearer " + requiredToken_;
}

void FakeGraphApi::script(std::vector<GraphReply> replies) {
    std::lock_guard lock(mutex_);
    for (auto& reply : replies) script_.push_back(std::move(reply));
}

std::string FakeGraphApi::nextWamid() const {
    std::lock_guard lock(mutex_);
    return "wamid.FAKE" + std::to_string(nextId_);
}

void FakeGraphApi::approveTemplate(const std::string& name, const std::string& language,
                                   std::map<std::string, std::vector<std::string>> parts) {
    std::lock_guard lock(mutex_);
    templates_[name + "|" + language] = std::move(parts);
}

// Whom a send is to, as Meta reads it: `to` is a phone number ('+' and digits, or digits); a
// user known only by a business-scoped user id is named by `recipient` instead.
std::optional<GraphReply> FakeGraphApi::checkRecipient(const std::string& body) {
    Poco::JSON::Object::Ptr root;
    try {
        root = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception&) {
        return GraphReply::metaError(400, 100, "(#100) Invalid parameter");
    }
    const std::string to = root->has("to") ? root->optValue<std::string>("to", "") : "";
    const std::string recipient = root->has("recipient") ? root->optValue<std::string>("recipient", "") : "";
    if (!to.empty()) {
        const std::size_t start = to[0] == '+' ? 1 : 0;
        const bool phone = to.size() > start && std::all_of(to.begin() + static_cast<long>(start), to.end(),
                                                            [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        if (!phone) return GraphReply::metaError(400, 100, "(#100) Invalid parameter", "Param to must be a phone number, got '" + to + "'");
        return std::nullopt;
    }
    if (recipient.empty()) return GraphReply::metaError(400, 100, "(#100) Invalid parameter", "The parameter to or recipient is required");
    return std::nullopt;
}

std::optional<GraphReply> FakeGraphApi::checkTemplate(const std::string& body) const {
    if (templates_.empty()) return std::nullopt;
    Poco::JSON::Object::Ptr root;
    try {
        root = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception&) {
        return GraphReply::metaError(400, 100, "(#100) Invalid parameter");
    }
    if (root->optValue<std::string>("type", "") != "template" || !root->isObject("template")) return std::nullopt;
    const auto templ = root->getObject("template");
    const std::string name = templ->optValue<std::string>("name", "");
    const std::string language = templ->isObject("language") ? templ->getObject("language")->optValue<std::string>("code", "") : "";
    const auto approved = templates_.find(name + "|" + language);
    if (approved == templates_.end())
        return GraphReply::metaError(400, 132001, "(#132001) Template name does not exist in the translation",
                                     "template name (" + name + ") does not exist in " + language);
    // What the send gives each part: its parameters' names ("" for positional ones).
    std::map<std::string, std::vector<std::string>> given;
    if (templ->isArray("components")) {
        const auto components = templ->getArray("components");
        for (std::size_t i = 0; i < components->size(); ++i) {
            const auto component = components->getObject(static_cast<unsigned>(i));
            if (!component) continue;
            std::string part = component->optValue<std::string>("type", "");
            if (part == "button") part += component->optValue<std::string>("index", "");
            auto& names = given[part];
            if (!component->isArray("parameters")) continue;
            const auto parameters = component->getArray("parameters");
            for (std::size_t j = 0; j < parameters->size(); ++j) {
                const auto parameter = parameters->getObject(static_cast<unsigned>(j));
                names.push_back(parameter ? parameter->optValue<std::string>("parameter_name", "") : "");
            }
        }
    }
    std::set<std::string> parts;
    for (const auto& [part, variables] : approved->second) parts.insert(part);
    for (const auto& [part, names] : given) parts.insert(part);
    for (const std::string& part : parts) {
        const auto expected = approved->second.count(part) ? approved->second.at(part) : std::vector<std::string>{};
        const auto sent = given.count(part) ? given.at(part) : std::vector<std::string>{};
        const std::string what = part.rfind("button", 0) == 0 ? "button" : part;
        if (expected.size() != sent.size())
            return GraphReply::metaError(400, 132000, "(#132000) Number of parameters does not match the expected number of params",
                                         what + ": number of localizable_params (" + std::to_string(sent.size()) +
                                             ") does not match the expected number of params (" + std::to_string(expected.size()) + ")");
        const bool named = !expected.empty() && !std::isdigit(static_cast<unsigned char>(expected.front()[0]));
        if (!named || what == "button") continue;
        for (const std::string& parameterName : sent)
            if (std::find(expected.begin(), expected.end(), parameterName) == expected.end())
                return GraphReply::metaError(400, 131008, "(#131008) Required parameter is missing",
                                             parameterName.empty() ? "Parameter name is missing or empty"
                                                                   : "Parameter name " + parameterName + " is not in the template");
    }
    return std::nullopt;
}

GraphReply FakeGraphApi::take(const GraphRequest& request, std::string& wamid) {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    GraphReply reply;
    if (isSend(request)) {
        ++sends_;
        if (auto refusal = checkRecipient(request.body)) {
            arrived_.notify_all();
            return *refusal;
        }
        if (auto refusal = checkTemplate(request.body)) {
            arrived_.notify_all();
            return *refusal;
        }
        if (!script_.empty()) {
            reply = script_.front();
            script_.pop_front();
        }
        if (reply.kind == GraphReply::Kind::Ok || reply.kind == GraphReply::Kind::Slow) {
            wamid = "wamid.FAKE" + std::to_string(nextId_++);
            wamids_.push_back(wamid);
        }
    }
    arrived_.notify_all();
    return reply;
}

void FakeGraphApi::addMedia(const std::string& id, FakeMedia media) {
    std::lock_guard lock(mutex_);
    media_[id] = std::move(media);
}

std::size_t FakeGraphApi::mediaLookups(const std::string& id) const {
    std::lock_guard lock(mutex_);
    return lookups_.count(id) ? lookups_.at(id) : 0;
}

std::size_t FakeGraphApi::mediaDownloads(const std::string& id) const {
    std::lock_guard lock(mutex_);
    return downloads_.count(id) ? downloads_.at(id) : 0;
}

bool FakeGraphApi::answerMedia(const GraphRequest& request, int& status, std::string& body, std::string& contentType) {
    const std::string path = request.path.substr(0, request.path.find('?'));
    std::lock_guard lock(mutex_);
    // The download URL: /_media/<id>, as Meta's lookaside URL, fetched with the same bearer token.
    const std::string downloadPrefix = "/_media/";
    if (path.rfind(downloadPrefix, 0) == 0) {
        const std::string id = path.substr(downloadPrefix.size());
        const auto it = media_.find(id);
        if (it == media_.end()) return false;
        ++downloads_[id];
        if (it->second.fault == FakeMedia::Fault::NotFound) {
            status = 404;
            body = "{\"error\":\"not found\"}";
            return true;
        }
        status = 200;
        body = it->second.bytes;
        contentType = it->second.mimeType;
        return true;
    }
    // The lookup: /<version>/<id>.
    const auto slash = path.find('/', 1);
    if (slash == std::string::npos) return false;
    const std::string id = path.substr(slash + 1);
    const auto it = media_.find(id);
    if (it == media_.end()) return false;
    FakeMedia& media = it->second;
    const std::size_t seen = ++lookups_[id];
    if (media.fault == FakeMedia::Fault::ExpiredId) {
        status = 400;
        body = "{\"error\":{\"message\":\"Unsupported get request. Object with ID '" + id +
               "' does not exist, cannot be loaded due to missing permissions, or does not support this operation.\","
               "\"type\":\"GraphMethodException\",\"code\":100,\"error_subcode\":33,\"fbtrace_id\":\"AbCdEfFakeTrace\"}}";
        return true;
    }
    if (media.fault == FakeMedia::Fault::ServerError && seen <= static_cast<std::size_t>(media.failures)) {
        status = 500;
        body = "{\"error\":{\"message\":\"An unexpected error has occurred. Please retry your request later.\",\"type\":\"OAuthException\","
               "\"code\":2,\"fbtrace_id\":\"AbCdEfFakeTrace\"}}";
        return true;
    }
    Poco::JSON::Object answer;
    answer.set("messaging_product", "whatsapp");
    answer.set("url", url() + downloadPrefix + id + "?ext=1&hash=fake");
    answer.set("mime_type", media.mimeType);
    std::string sha = sdk::sha256Hex(media.bytes);
    if (media.fault == FakeMedia::Fault::WrongSha256) sha = sdk::sha256Hex(media.bytes + "tampered");
    answer.set("sha256", sha);
    answer.set("file_size", media.declaredSize >= 0 ? media.declaredSize : static_cast<Poco::Int64>(media.bytes.size()));
    answer.set("id", id);
    std::ostringstream out;
    answer.stringify(out);
    status = 200;
    body = out.str();
    return true;
}

std::vector<GraphRequest> FakeGraphApi::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

std::vector<GraphRequest> FakeGraphApi::sends() const {
    std::lock_guard lock(mutex_);
    std::vector<GraphRequest> sends;
    std::copy_if(requests_.begin(), requests_.end(), std::back_inserter(sends), isSend);
    return sends;
}

std::vector<std::string> FakeGraphApi::wamids() const {
    std::lock_guard lock(mutex_);
    return wamids_;
}

std::size_t FakeGraphApi::sendCount() const {
    std::lock_guard lock(mutex_);
    return sends_;
}

bool FakeGraphApi::waitForSends(std::size_t count, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, timeout, [&] { return sends_ >= count; });
}

HttpResult FakeGraphApi::postStatus(const HostProcess& host, const std::string& wamid, const std::string& status,
                                    std::int64_t timestampSeconds) {
    host::StatusUpdate update;
    update.wamid = wamid;
    update.status = status;
    update.recipientId = "213555123456";
    update.timestamp = timestampSeconds;
    return postSigned(host, host::statusBody(update));
}

FakeGraphApi::Stats FakeGraphApi::stats() const {
    std::vector<std::int64_t> times;
    {
        std::lock_guard lock(mutex_);
        for (const auto& request : requests_)
            if (isSend(request)) times.push_back(request.receivedMicros);
    }
    Stats stats;
    stats.count = times.size();
    if (times.size() < 2) return stats;
    std::sort(times.begin(), times.end());
    stats.spanSeconds = static_cast<double>(times.back() - times.front()) / 1e6;
    stats.ratePerSecond = stats.spanSeconds > 0 ? static_cast<double>(times.size() - 1) / stats.spanSeconds : 0;
    std::size_t first = 0;
    for (std::size_t last = 0; last < times.size(); ++last) {
        while (times[last] - times[first] >= 1000000) ++first;
        stats.maxInOneSecond = std::max(stats.maxInOneSecond, last - first + 1);
    }
    for (std::size_t i = 1; i < times.size(); ++i) {
        const double gap = static_cast<double>(times[i] - times[i - 1]) / 1000;
        stats.longestGapMs = std::max(stats.longestGapMs, gap);
        if (gap > 5) stats.pausedMs += gap - 1;
    }
    return stats;
}

}  // namespace tawasul::test
