#include "http/HttpServer.hpp"

#include "tawasul/sdk/Errors.hpp"

#include <chrono>
#include <csignal>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/String.h>
#include <Poco/URI.h>

namespace tawasul::host {
namespace {

// The logger of whoever owns a route: "host", or "plugin.<name>".
Poco::Logger& ownerLog(const std::string& owner) { return Poco::Logger::get(owner == "host" ? "host" : "plugin." + owner); }

// Looked up once when the server starts, not on every request: each lookup takes a registry's lock.
struct HttpMetrics {
    explicit HttpMetrics(MetricsRegistry& metrics)
        : duration(metrics.histogram("tawasul_http_request_duration_seconds", "Time from request to response",
                                     {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5})) {
        for (int group = 1; group <= 5; ++group)
            byStatusClass[group] = &metrics.counter("tawasul_http_requests_total{status=\"" + std::to_string(group) + "xx\"}",
                                                    "HTTP requests answered, by status class");
    }
    sdk::Counter* byStatusClass[6] = {};
    sdk::Histogram& duration;
    // Logger::get takes a process-wide lock: once here, not on every request.
    Poco::Logger& accessLog = Poco::Logger::get("http.access");
};

// Server-Sent Events over a chunked response: each event is written and flushed at once.
class SseStream final : public sdk::EventStream {
public:
    SseStream(std::ostream& out, const std::atomic<bool>& stopping) : out_(out), stopping_(stopping) {}
    bool send(const std::string& event, const std::string& data, const std::string& id) override {
        std::string frame;
        if (!id.empty()) frame += "id: " + sdk::singleLine(id) + "\n";
        if (!event.empty()) frame += "event: " + sdk::singleLine(event) + "\n";
        // A multi-line payload is one data: field per line; the browser joins them with \n.
        std::size_t start = 0;
        do {
            std::size_t end = data.find('\n', start);
            if (end == std::string::npos) end = data.size();
            std::string line = data.substr(start, end - start);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            frame += "data: " + line + "\n";
            start = end + 1;
        } while (start <= data.size());
        frame += "\n";
        return write(frame);
    }
    bool keepAlive() override { return write(": keep-alive\n\n"); }
    bool stopping() const override { return stopping_.load(); }
    std::size_t bytes() const { return bytes_; }

private:
    bool write(const std::string& frame) {
        if (gone_) return false;
        try {
            out_.write(frame.data(), static_cast<std::streamsize>(frame.size()));
            out_.flush();
        } catch (const std::exception&) {
            gone_ = true;
        }
        if (!out_.good()) gone_ = true;
        if (!gone_) bytes_ += frame.size();
        return !gone_;
    }

    std::ostream& out_;
    const std::atomic<bool>& stopping_;
    bool gone_ = false;
    std::size_t bytes_ = 0;
};

class RequestHandler final : public Poco::Net::HTTPRequestHandler {
public:
    RequestHandler(Router& router, Admission& access, HttpMetrics& metrics, std::int64_t maxBodyBytes,
                   const std::atomic<bool>& stopping, const TrustedProxies& proxies)
        : router_(router), access_(access), metrics_(metrics), maxBodyBytes_(maxBodyBytes), stopping_(stopping), proxies_(proxies) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        const auto started = std::chrono::steady_clock::now();
        sdk::HttpRequest in;
        sdk::HttpResponse out;
        in.requestId = sdk::requestIdFor(request.get("X-Request-Id", ""));
        in.method = request.getMethod();
        in.remoteAddress = proxies_.clientAddress(request.clientAddress().host().toString(), proxies_.empty() ? "" : forwardedFor(request));
        std::string owner = "host";
        sdk::RouteStyle style = sdk::RouteStyle::Plain;
        bool keepAlive = true;
        try {
            Poco::URI uri(request.getURI());
            in.path = uri.getPath();
            in.rawQuery = uri.getRawQuery();
            for (const auto& kv : uri.getQueryParameters()) in.query.push_back(kv);
            for (const auto& [name, value] : request) in.headers.emplace_back(name, value);

            RouteMatch match;
            std::string allowed;
            const auto outcome = router_.match(in.method, in.path, match, &allowed);
            if (outcome == Router::Outcome::Found) {
                owner = match.route->owner;
                style = match.route->options.style;
                in.params = std::move(match.params);
            } else if (in.path.rfind("/api/", 0) == 0) {
                style = sdk::RouteStyle::Api;
            }
            if (!readBody(request, in.body)) {
                keepAlive = false;  // the unread rest of the body would be taken for the next request
                writeError(out, style, 413, "payload_too_large",
                           "the request body is larger than " + std::to_string(maxBodyBytes_) + " bytes", in.requestId);
            } else if (outcome == Router::Outcome::NotFound) {
                writeError(out, style, 404, "not_found", "no route for " + in.path, in.requestId);
            } else if (outcome == Router::Outcome::MethodNotAllowed) {
                writeError(out, style, 405, "method_not_allowed", in.method + " is not allowed here", in.requestId);
                out.setHeader("Allow", allowed);
            } else {
                std::string failure;
                try {
                    if (access_.admit(*match.route, in, out)) {
                        if (match.route->stream && in.method == "HEAD") {
                            out.status = 200;  // HEAD: the stream's headers, no stream
                            out.contentType = "text/event-stream; charset=utf-8";
                        } else if (match.route->stream) {
                            stream(*match.route, response, in, owner, started);
                            return;
                        } else {
                            match.route->handler(in, out);
                        }
                    }
                } catch (const std::exception& error) {
                    failure = sdk::errorText(error);
                } catch (...) {
                    failure = "an unknown exception";
                }
                if (!failure.empty()) {
                    ownerLog(owner).error("request " + in.requestId + " " + in.method + " " + in.path + " failed: " + failure);
                    out = {};
                    writeError(out, style, 500, "internal_error", "the server failed to handle this request", in.requestId);
                }
            }
        } catch (const Poco::Exception& error) {  // a malformed URI or a broken stream
            keepAlive = false;
            writeError(out, style, 400, "bad_request", error.message(), in.requestId);
        }
        send(request, response, in, out, keepAlive);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const int group = out.status / 100;
        if (group >= 1 && group <= 5) metrics_.byStatusClass[group]->increment();
        metrics_.duration.observe(seconds);
        if (!metrics_.accessLog.information()) return;  // formatting the line costs more than the rest of a webhook
        std::ostringstream line;
        line << in.remoteAddress << " \"" << in.method << " " << request.getURI().substr(0, 200) << "\" " << out.status << " "
             << out.body.size() << "B " << static_cast<long>(seconds * 1e6) / 1000.0 << "ms rid=" << in.requestId
             << " owner=" << owner;
        metrics_.accessLog.information(line.str());
    }

private:
    // An event stream: headers now, then whatever the handler sends until it returns.
    void stream(const Route& route, Poco::Net::HTTPServerResponse& response, const sdk::HttpRequest& in, const std::string& owner,
                std::chrono::steady_clock::time_point started) {
        response.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
        response.setContentType("text/event-stream; charset=utf-8");
        response.set("Cache-Control", "no-store");
        response.set("X-Accel-Buffering", "no");  // nginx: pass each event through at once
        response.set("X-Request-Id", in.requestId);
        response.setChunkedTransferEncoding(true);
        response.setKeepAlive(false);  // the connection ends with the stream
        std::ostream& out = response.send();
        SseStream events(out, stopping_);
        events.keepAlive();  // the browser sees the stream open at once
        try {
            route.stream(in, events);
        } catch (const std::exception& error) {
            ownerLog(owner).error("stream " + in.requestId + " " + in.path + " failed: " + sdk::errorText(error));
        } catch (...) {
            ownerLog(owner).error("stream " + in.requestId + " " + in.path + " failed");
        }
        metrics_.byStatusClass[2]->increment();
        if (!metrics_.accessLog.information()) return;
        std::ostringstream line;
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        line << in.remoteAddress << " \"GET " << in.path.substr(0, 200) << "\" 200 stream " << events.bytes() << "B "
             << static_cast<long>(seconds * 1000) << "ms rid=" << in.requestId << " owner=" << owner;
        metrics_.accessLog.information(line.str());
    }

    // Reads the whole body, up to the limit. False when it is larger.
    bool readBody(Poco::Net::HTTPServerRequest& request, std::string& body) {
        if (request.hasContentLength() && request.getContentLength64() > maxBodyBytes_) {
            // Read and drop a moderately oversized body, so the client, still sending, gets to read
            // the 413 rather than a reset connection. A huge one is cut off without reading.
            if (request.getContentLength64() <= 4 * maxBodyBytes_) {
                std::istream& stream = request.stream();
                char buffer[16384];
                while (stream.read(buffer, sizeof buffer) || stream.gcount() > 0) {
                }
            }
            return false;
        }
        if (request.getMethod() == "GET" || request.getMethod() == "HEAD") {
            if (!request.hasContentLength() && !request.getChunkedTransferEncoding()) return true;
        }
        std::istream& stream = request.stream();
        if (request.hasContentLength()) body.reserve(static_cast<std::size_t>(request.getContentLength64()));
        char buffer[16384];
        while (stream) {
            stream.read(buffer, sizeof buffer);
            body.append(buffer, static_cast<std::size_t>(stream.gcount()));
            if (static_cast<std::int64_t>(body.size()) > maxBodyBytes_) return false;
        }
        return true;
    }

    void send(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
              const sdk::HttpRequest& in, const sdk::HttpResponse& out, bool keepAlive) {
        response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(out.status));
        response.setContentType(out.contentType);
        // A response may carry several Set-Cookie headers; any other name appears once.
        for (const auto& [name, value] : out.headers) {
            if (Poco::icompare(name, "Set-Cookie") == 0) response.add(name, value);
            else response.set(name, value);
        }
        response.set("X-Request-Id", in.requestId);
        if (!keepAlive) response.setKeepAlive(false);
        response.setContentLength64(static_cast<Poco::Int64>(out.body.size()));
        if (request.getMethod() == "HEAD") {
            response.send();
        } else {
            response.sendBuffer(out.body.data(), out.body.size());
        }
    }

    // Every X-Forwarded-For value, in order, as one list.
    static std::string forwardedFor(const Poco::Net::HTTPServerRequest& request) {
        std::string list;
        for (const auto& [name, value] : request)
            if (Poco::icompare(name, "X-Forwarded-For") == 0) list += (list.empty() ? "" : ",") + value;
        return list;
    }

    Router& router_;
    Admission& access_;
    HttpMetrics& metrics_;
    std::int64_t maxBodyBytes_;
    const std::atomic<bool>& stopping_;
    const TrustedProxies& proxies_;
};

class RequestHandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
public:
    RequestHandlerFactory(Router& router, Admission& access, MetricsRegistry& metrics, std::int64_t maxBodyBytes,
                          const std::atomic<bool>& stopping, const TrustedProxies& proxies)
        : router_(router), access_(access), metrics_(metrics), maxBodyBytes_(maxBodyBytes), stopping_(stopping), proxies_(proxies) {}
    // Poco owns the factory and keeps it for the server's life; the metrics live here with it.
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new RequestHandler(router_, access_, metrics_, maxBodyBytes_, stopping_, proxies_);
    }

private:
    Router& router_;
    Admission& access_;
    HttpMetrics metrics_;
    std::int64_t maxBodyBytes_;
    const std::atomic<bool>& stopping_;
    const TrustedProxies& proxies_;
};

}  // namespace

HttpServer::HttpServer(const HttpServerOptions& options, Router& router, Admission& access, MetricsRegistry& metrics)
    : options_(options), router_(router), access_(access), metrics_(metrics) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(options_.host, options_.port), 1024);
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(options_.threads);
    params->setMaxQueued(options_.maxQueued);
    params->setTimeout(Poco::Timespan(options_.requestTimeoutSeconds, 0));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(options_.keepAliveSeconds, 0));
    params->setMaxKeepAliveRequests(0);  // unlimited per connection
    params->setServerName("tawasul");
    // A client that goes away mid-stream must be an error on write, not a signal that ends the process.
    std::signal(SIGPIPE, SIG_IGN);
    stopping_ = false;
    server_ = std::make_unique<Poco::Net::HTTPServer>(new RequestHandlerFactory(router_, access_, metrics_, options_.maxBodyBytes, stopping_, options_.trustedProxies),
                                                       socket, params);
    server_->start();
    running_ = true;
}

void HttpServer::stop() {
    if (!running_) return;
    running_ = false;
    stopping_ = true;  // event streams see stopping() and return, so that draining does not wait on them
    server_->stopAll(false);  // stop accepting; idle keep-alive connections close, busy ones finish
}

std::uint16_t HttpServer::port() const { return server_ ? server_->port() : options_.port; }

}  // namespace tawasul::host
