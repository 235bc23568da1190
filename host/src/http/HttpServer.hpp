#pragma once
// The one HTTP server, on Boost.Beast and Boost.Asio: every route on every listener. A few I/O
// threads own the sockets (accept, parse, write, live streams, async routes); blocking handlers run
// on a bounded pool. Every outside input has a limit and a deadline with a precise answer: a whole
// request head (408) and body (408) within their deadlines, header bytes (431), body bytes (413,
// before reading it), connections in total and per client address (closed at accept). Every
// request gets one access-log line and the tawasul_http_* metrics; a plugin's exception becomes a
// 500, never a crash; a header with CR, LF or NUL is never written.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http/Admission.hpp"
#include "http/ClientAddress.hpp"
#include "http/Responses.hpp"
#include "http/Router.hpp"
#include "metrics/MetricsRegistry.hpp"

namespace tawasul::host {

struct HttpListener {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;  // 0: any free port (tests)
};

struct HttpServerOptions {
    std::vector<HttpListener> listeners{HttpListener{}};  // the first is server.listen
    int threads = 16;       // pool threads for blocking handlers
    int ioThreads = 1;      // event-loop threads
    int maxQueued = 256;    // requests waiting for a pool thread; beyond, 503
    std::int64_t maxBodyBytes = 3 * 1024 * 1024;
    std::size_t maxHeaderBytes = 16 * 1024;
    std::chrono::seconds headTimeout{10};  // request line and headers, from their first byte
    std::chrono::seconds bodyTimeout{30};  // the whole body; also the time a client has to take an answer
    std::chrono::seconds keepAlive{15};    // idle between requests (and before the first)
    std::size_t maxConnections = 4096;
    std::size_t maxConnectionsPerAddress = 256;
    std::size_t streamBufferBytes = 256 * 1024;
    std::chrono::seconds streamKeepAlive{15};  // a comment line on a quiet live stream
    std::chrono::seconds drainTimeout{30};     // stop(): how long in-flight requests may take to finish
    TrustedProxies trustedProxies;             // whose X-Forwarded-For names the client
};

class HttpServer {
public:
    HttpServer(const HttpServerOptions& options, Router& router, Admission& access, MetricsRegistry& metrics);
    ~HttpServer();
    // Binds every listener (throws std::runtime_error naming the address that cannot be bound) and serves.
    void start();
    // Stops accepting, answers what is in flight (with Connection: close), ends live streams,
    // closes idle connections, then stops the threads. Bounded by drainTimeout.
    void stop();
    std::uint16_t port() const;                // the first listener's
    std::vector<std::uint16_t> ports() const;  // every listener's, in order

    struct Core;

private:
    std::shared_ptr<Core> core_;
};

// False when a header name is not an HTTP token or a value (or the content type) holds CR, LF or
// NUL; `bad` then names the header.
bool headersAreSafe(const sdk::HttpResponse& response, std::string& bad);

}  // namespace tawasul::host
