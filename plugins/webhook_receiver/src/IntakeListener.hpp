#pragma once
// A second, event-driven door for Meta's webhooks, beside the host's HTTP server (opt-in with
// `listen:` in the plugin's config). One thread serves every connection through epoll, and a POST
// is answered when its group commit calls back, so no thread waits per request.
//
// Why it exists: the host's server (Poco's HTTPServer) gives each connection a thread. A webhook
// there costs two thread wake-ups (the request arrives; its commit is durable), and on a 2-core
// machine those switches, not SQLite, bound ingest to about 20k requests/s. Here the commit's
// callback queues the answers and one wake-up writes a whole batch of them.
//
// It speaks the part of HTTP/1.1 that Meta uses: GET and POST on one path, a body sized by
// Content-Length (chunked bodies get 411), keep-alive, Expect: 100-continue. Requests are parsed by
// Poco (HTTPRequest::read); sockets are epoll's, since Poco 1.11's PollSet cannot be woken from
// another thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <Poco/Logger.h>

#include "tawasul/sdk/Http.hpp"

namespace tawasul::plugins::webhook_receiver {

struct IntakeOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  // 0: a free port, chosen at start (tests)
    std::string path;        // the one path served; any other is 404
    std::int64_t maxBodyBytes = 3 * 1024 * 1024;
    std::size_t maxHeadBytes = 16 * 1024;  // request line and headers; 431 beyond
    std::chrono::milliseconds idleTimeout{15'000};     // server.keep_alive_seconds in the plugin
    std::chrono::milliseconds requestTimeout{30'000};  // from a request's first byte to its last (server.request_timeout_seconds)
    // Each may buffer a whole body before its signature is checked: memory is bounded by
    // maxConnections × maxBodyBytes (1.5 GiB at the defaults; Meta opens a handful).
    std::size_t maxConnections = 512;
};

// Delivers the answer to one request. Call it exactly once, from any thread.
using IntakeReply = std::function<void(sdk::HttpResponse)>;
// Called on the listener's thread for each request on the path: answer at once or later, but do
// not block (the thread serves every other connection meanwhile).
using IntakeHandler = std::function<void(sdk::HttpRequest&, IntakeReply)>;

class IntakeListener {
public:
    IntakeListener(IntakeOptions options, IntakeHandler handler, Poco::Logger& logger);
    ~IntakeListener();
    IntakeListener(const IntakeListener&) = delete;
    IntakeListener& operator=(const IntakeListener&) = delete;

    // Binds and starts serving. Throws when the address cannot be bound.
    void start();
    std::uint16_t port() const { return port_; }
    // Stops accepting, waits for the answers still owed (so every stored event is acknowledged),
    // then closes every connection.
    void stop();

private:
    struct Connection;
    void loop();
    void accept();
    void onReadable(Connection& connection);
    void process(Connection& connection);
    void answer(Connection& connection, const sdk::HttpResponse& response, const std::string& requestId);
    void refuse(Connection& connection, int status, const std::string& message);
    void flush(Connection& connection);
    void watch(Connection& connection, std::uint32_t events);
    void close(std::uint64_t id);
    void deliverAnswers();
    void drain();
    void sweep(std::chrono::steady_clock::time_point now);
    void complete(std::uint64_t id, std::string requestId, sdk::HttpResponse response);
    const std::string& httpDate();

    IntakeOptions options_;
    IntakeHandler handler_;
    Poco::Logger& logger_;
    Poco::Logger& accessLog_;
    int listenFd_ = -1;
    int epollFd_ = -1;
    int wakeFd_ = -1;  // an eventfd: answers from other threads are waiting
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::atomic<bool> stopping_{false};

    // Owned by the listener's thread.
    std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
    std::uint64_t nextId_ = 2;  // 0 and 1 name the listening socket and the eventfd in epoll
    std::size_t owed_ = 0;      // requests handed to the handler, not answered yet
    std::uint64_t refusedAtCap_ = 0;
    std::vector<std::uint64_t> ready_;  // connections with a whole request buffered, to process next
    std::time_t dateSecond_ = 0;
    std::string dateText_;

    struct Answer {
        std::uint64_t connection;
        std::string requestId;
        sdk::HttpResponse response;
    };
    std::mutex answersMutex_;
    std::vector<Answer> answers_;
};

}  // namespace tawasul::plugins::webhook_receiver
