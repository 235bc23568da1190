#pragma once
// Poco's HTTPServer in front of the Router: request ids, body limits, access log, error bodies,
// and the guarantee that a plugin's exception becomes a 500, never a crash.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <Poco/Net/HTTPServer.h>

#include "http/Admission.hpp"
#include "metrics/MetricsRegistry.hpp"
#include "http/ClientAddress.hpp"
#include "http/Responses.hpp"
#include "http/Router.hpp"

namespace tawasul::host {

struct HttpServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;  // 0: any free port (tests)
    int threads = 32;
    int maxQueued = 256;
    std::int64_t maxBodyBytes = 3 * 1024 * 1024;
    int requestTimeoutSeconds = 30;
    int keepAliveSeconds = 15;
    TrustedProxies trustedProxies;  // whose X-Forwarded-For names the client
};

class HttpServer {
public:
    HttpServer(const HttpServerOptions& options, Router& router, Admission& access, MetricsRegistry& metrics);
    ~HttpServer();
    void start();
    // Stops accepting and waits for in-flight requests to finish (Poco's stopAll(false) drains).
    void stop();
    std::uint16_t port() const;

private:
    HttpServerOptions options_;
    Router& router_;
    Admission& access_;
    MetricsRegistry& metrics_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    bool running_ = false;
    std::atomic<bool> stopping_{false};
};

}  // namespace tawasul::host
