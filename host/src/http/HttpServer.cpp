#include "http/HttpServer.hpp"

#include "tawasul/sdk/Errors.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <sys/resource.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/String.h>
#include <Poco/URI.h>

namespace tawasul::host {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
// A connection's strand, its socket and timers by their concrete types: with the type-erased
// any_io_executor, every asynchronous operation copied the strand into a heap block (about 16
// allocations per request, measured with heaptrack).
using Strand = asio::strand<asio::io_context::executor_type>;
using Socket = tcp::socket::rebind_executor<Strand>::other;
using Timer = asio::basic_waitable_timer<SteadyClock, asio::wait_traits<SteadyClock>, Strand>;

// The logger of whoever owns a route: "host", or "plugin.<name>".
Poco::Logger& ownerLog(const std::string& owner) { return Poco::Logger::get(owner == "host" ? "host" : "plugin." + owner); }

// Looked up once when the server starts, not on every request: each lookup takes a registry's lock.
struct HttpMetrics {
    explicit HttpMetrics(MetricsRegistry& metrics)
        : duration(metrics.histogram("tawasul_http_request_duration_seconds", "Time from request to response",
                                     {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5})),
          refusedTotal(metrics.counter("tawasul_http_connections_refused_total{reason=\"max_connections\"}",
                                       "Connections closed at accept, by the limit they met")),
          refusedPerAddress(metrics.counter("tawasul_http_connections_refused_total{reason=\"max_connections_per_address\"}",
                                            "Connections closed at accept, by the limit they met")),
          streamsDropped(metrics.counter("tawasul_http_streams_dropped_total",
                                         "Live streams closed because their client did not read (server.stream_buffer_bytes)")) {
        for (int group = 1; group <= 5; ++group)
            byStatusClass[group] = &metrics.counter("tawasul_http_requests_total{status=\"" + std::to_string(group) + "xx\"}",
                                                    "HTTP requests answered, by status class");
    }
    sdk::Counter* byStatusClass[6] = {};
    sdk::Histogram& duration;
    sdk::Counter& refusedTotal;
    sdk::Counter& refusedPerAddress;
    sdk::Counter& streamsDropped;
    // Logger::get takes a process-wide lock: once here, not on every request.
    Poco::Logger& accessLog = Poco::Logger::get("http.access");
    Poco::Logger& serverLog = Poco::Logger::get("http");
};

// A warning at most once per interval, with the count of those held back: a flood of refused
// connections must not become a flood of log lines.
class RateLimitedWarning {
public:
    void warn(Poco::Logger& log, const std::string& message) {
        std::lock_guard lock(mutex_);
        const auto now = SteadyClock::now();
        if (last_ != SteadyClock::time_point{} && now - last_ < std::chrono::seconds(10)) {
            ++suppressed_;
            return;
        }
        log.warning(suppressed_ > 0 ? message + " (" + std::to_string(suppressed_) + " more since the last warning)" : message);
        last_ = now;
        suppressed_ = 0;
    }

private:
    std::mutex mutex_;
    SteadyClock::time_point last_{};
    std::uint64_t suppressed_ = 0;
};

// The Date header, formatted once per second per thread.
const std::string& httpDate() {
    thread_local std::time_t second = 0;
    thread_local std::string text;
    const std::time_t now = std::time(nullptr);
    if (now != second) {
        second = now;
        std::tm tm{};
        gmtime_r(&now, &tm);
        char buffer[64];
        std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        text = buffer;
    }
    return text;
}

bool isTokenChar(unsigned char c) {
    return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}
bool isSafeValue(const std::string& value) { return value.find_first_of(std::string("\r\n\0", 3)) == std::string::npos; }

bool bodyMethod(const std::string& method) { return method == "POST" || method == "PUT" || method == "PATCH"; }

class Connection;

}  // namespace

struct HttpServer::Core : std::enable_shared_from_this<HttpServer::Core> {
    Core(const HttpServerOptions& options, Router& router, Admission& access, MetricsRegistry& registry)
        : options(options), router(router), access(access), metrics(registry) {}

    const HttpServerOptions options;
    Router& router;
    Admission& access;
    HttpMetrics metrics;
    RateLimitedWarning refusedWarning, droppedWarning, acceptWarning;

    // Open connections, in total and by client address; the live ones, for stop().
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t open = 0;
    std::unordered_map<std::string, std::size_t> perAddress;
    std::unordered_map<Connection*, std::weak_ptr<Connection>> live;

    std::atomic<bool> stopping{false};
    std::atomic<int> poolLoad{0};  // pool jobs queued or running

    // Declared after the bookkeeping above: destroyed before it, so that connections that die with
    // the io_context still find it.
    asio::io_context io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
    std::vector<std::uint16_t> ports;
    std::unique_ptr<asio::thread_pool> pool;
    std::vector<std::thread> threads;
    bool running = false;

    // Answers sent from outside the I/O threads (the webhook writer answers a whole commit at
    // once) wait here, and one job on an I/O thread hands them to their connections: the sender
    // then pays for one post per burst, not one per answer (the writer is the one serial thread
    // of the webhook path, and those posts were a fifteenth of its time: perf).
    std::mutex answersMutex;
    std::vector<std::pair<std::shared_ptr<Connection>, sdk::HttpResponse>> answers;
    void deliver(std::shared_ptr<Connection> connection, sdk::HttpResponse response);
    void deliverWaitingAnswers();

    void accept(tcp::acceptor& acceptor);
    void release(Connection* connection, const std::string& address) {
        std::lock_guard lock(mutex);
        live.erase(connection);
        --open;
        auto it = perAddress.find(address);
        if (it != perAddress.end() && --it->second == 0) perAddress.erase(it);
        changed.notify_all();
    }
    // Runs `job` on the pool; false when the pool has more waiting than server.max_queued.
    bool runOnPool(std::function<void()> job) {
        if (poolLoad.fetch_add(1) >= options.threads + options.maxQueued) {
            poolLoad.fetch_sub(1);
            return false;
        }
        asio::post(*pool, [this, job = std::move(job)] {
            job();
            poolLoad.fetch_sub(1);
        });
        return true;
    }
};

namespace {

using Core = HttpServer::Core;

class StreamImpl;

// One client connection: reads a request at a time (pipelined ones wait in the buffer), answers it,
// then reads the next; or becomes a live stream. Every handler runs on the connection's strand.
class Connection final : public std::enable_shared_from_this<Connection> {
public:
    Connection(std::shared_ptr<Core> core, Socket socket, std::string address)
        : core_(std::move(core)), socket_(std::move(socket)), timer_(socket_.get_executor()),
          streamTimer_(socket_.get_executor()), address_(std::move(address)) {}
    ~Connection() { core_->release(this, address_); }

    void start() { idle(); }
    Strand executor() { return socket_.get_executor(); }
    Core& core() { return *core_; }

    // The host is stopping: an idle connection closes, a live stream ends, a request being
    // answered is answered (with Connection: close), a request whose head is not in yet closes.
    // With `force`, whatever it is doing ends now (the drain deadline has passed).
    void onStop(bool force);
    // An answer from a pool thread or a Responder.
    void respond(sdk::HttpResponse out);
    void pumpStream();
    void endStream() { pumpStream(); }

private:
    enum class Phase { Idle, Head, Body, Handling, Writing, Streaming, Closing, Closed };

    void idle();
    void readHead();
    void onHead();
    void readBody();
    void dispatch();
    void readFailed(beast::error_code error);
    void fail(int status, const std::string& code, const std::string& message);
    void write(sdk::HttpResponse out);
    void lingerClose();
    void close();
    // Deadlines cost no timer operation per phase: arm() moves deadline_, and the one wait on
    // timer_ is replaced only when the new deadline comes before it; a wait that fires before the
    // deadline waits again. (A wait armed and cancelled per phase was four timer cancellations,
    // four handler runs and as many timerfd calls per request.)
    void arm(std::chrono::steady_clock::duration after);
    void disarm() { deadline_ = SteadyClock::time_point::max(); }
    void waitForDeadline();
    // Closed on this strand (by stop()) after a read had completed but before its handler ran: the
    // handler must not go on, or a request whose answer can no longer be written would be handled
    // (a webhook stored with no 200 for Meta, which would deliver it again).
    bool closed() const { return phase_ == Phase::Closed; }
    void invoke(const Route& route, sdk::HttpRequest& in, sdk::HttpResponse& out);
    void startStream();
    void watchStreamClient();
    void keepStreamAlive();
    void finishStream();
    void logAccess(int status, std::size_t bytes, const std::string& note);

    std::shared_ptr<Core> core_;  // first: the last member destroyed
    Socket socket_;
    Timer timer_;
    Timer streamTimer_;
    std::uint64_t timerGeneration_ = 0;  // of the wait on timer_ that counts; older ones are ignored
    SteadyClock::time_point deadline_ = SteadyClock::time_point::max();      // max: none
    SteadyClock::time_point waitingUntil_ = SteadyClock::time_point::max();  // the wait's; max: no wait
    bool timedOut_ = false;
    std::string address_;  // the peer's
    std::string client_;   // the current request's client: the peer, or whom a trusted proxy names
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    Phase phase_ = Phase::Idle;

    // The request being served.
    SteadyClock::time_point started_;
    sdk::HttpRequest in_;
    std::string target_ = "-";
    unsigned version_ = 11;
    bool keepAlive_ = false;
    bool head_ = false;
    bool closeAfter_ = false;  // the rest of the connection cannot be trusted: close after answering
    RouteMatch match_;
    Router::Outcome outcome_ = Router::Outcome::NotFound;
    std::string allowed_;
    std::string owner_ = "host";
    sdk::RouteStyle style_ = sdk::RouteStyle::Plain;
    http::response<http::string_body> response_;

    // A live stream.
    std::shared_ptr<StreamImpl> stream_;
    std::string streamOut_;
    bool streamWriting_ = false;
    bool streamFinished_ = false;
    std::array<char, 512> discard_{};
};

// The Responder of an async route: the answer goes back to the connection's strand.
class ResponderImpl final : public sdk::Responder {
public:
    ResponderImpl(std::shared_ptr<Connection> connection, std::string owner, sdk::RouteStyle style, const sdk::HttpRequest& request)
        : connection_(std::move(connection)), owner_(std::move(owner)), style_(style), requestId_(request.requestId),
          what_(request.requestId + " " + request.method + " " + request.path) {}
    ~ResponderImpl() override {
        if (!connection_) return;
        ownerLog(owner_).error("request " + what_ + " was never answered (its Responder was dropped): answered 500");
        sdk::HttpResponse out;
        writeError(out, style_, 500, "internal_error", "the server failed to handle this request", requestId_);
        send(std::move(out));
    }
    void send(sdk::HttpResponse response) override {
        std::shared_ptr<Connection> connection;
        {
            std::lock_guard lock(mutex_);
            connection.swap(connection_);
        }
        if (!connection) return;  // answered already
        Core& core = connection->core();
        core.deliver(std::move(connection), std::move(response));
    }

private:
    std::mutex mutex_;
    std::shared_ptr<Connection> connection_;
    std::string owner_;
    sdk::RouteStyle style_;
    std::string requestId_, what_;
};

// A live stream's buffer. send() may come from any thread; the connection's strand writes.
class StreamImpl final : public sdk::EventStream {
public:
    StreamImpl(std::weak_ptr<Connection> connection, std::size_t limit, bool chunked)
        : connection_(std::move(connection)), limit_(limit), chunked_(chunked) {}

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
        return queue(frame);
    }
    bool open() const override {
        std::lock_guard lock(mutex_);
        return !closed_;
    }
    void close() override {
        {
            std::lock_guard lock(mutex_);
            if (closed_) return;
            closed_ = true;
        }
        poke();
    }
    void onClose(std::function<void()> closed) override {
        {
            std::lock_guard lock(mutex_);
            if (!notified_) {
                callbacks_.push_back(std::move(closed));
                return;
            }
        }
        closed();
    }

    // Bytes for the socket, framed; never more than the limit in all.
    bool queue(const std::string& frame) {
        bool poke = false, accepted = false;
        {
            std::lock_guard lock(mutex_);
            if (closed_) return false;
            std::string bytes = frame;
            if (chunked_) {
                char size[20];
                std::snprintf(size, sizeof size, "%zx\r\n", frame.size());
                bytes = size + frame + "\r\n";
            }
            if (pending_.size() + inFlight_ + bytes.size() > limit_) {
                closed_ = true;
                dropped_ = true;
            } else {
                pending_ += bytes;
            }
            // A drop must reach the strand even while a write is stuck (poked_ may stay set then).
            poke = !poked_ || dropped_;
            poked_ = true;
            accepted = !dropped_;
        }
        if (poke) this->poke();
        return accepted;
    }
    // On the strand: what to write next; `ending` once the stream is closed and this is the rest.
    std::string take(bool& ending, bool& dropped) {
        std::lock_guard lock(mutex_);
        poked_ = false;
        std::string out;
        out.swap(pending_);
        inFlight_ = out.size();
        ending = closed_;
        dropped = dropped_;
        return out;
    }
    void written() {
        std::lock_guard lock(mutex_);
        inFlight_ = 0;
    }
    bool dropped() const {
        std::lock_guard lock(mutex_);
        return dropped_;
    }
    // On the strand, once: the stream is over; tell whoever subscribed it.
    void finished() {
        std::vector<std::function<void()>> callbacks;
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
            if (notified_) return;
            notified_ = true;
            callbacks.swap(callbacks_);
        }
        for (auto& callback : callbacks) {
            try {
                callback();
            } catch (const std::exception& error) {
                Poco::Logger::get("http").error(std::string("a live stream's close callback failed: ") + error.what());
            } catch (...) {
            }
        }
    }
    void start() {
        {
            std::lock_guard lock(mutex_);
            started_ = true;
        }
        poke();
    }
    std::size_t bytesSent = 0;  // on the strand

private:
    void poke() {
        {
            std::lock_guard lock(mutex_);
            if (!started_) return;  // the head goes first; start() pumps what queued meanwhile
        }
        if (auto connection = connection_.lock()) {
            auto executor = connection->executor();
            asio::post(executor, [connection] { connection->pumpStream(); });
        }
    }

    std::weak_ptr<Connection> connection_;
    const std::size_t limit_;
    const bool chunked_;
    mutable std::mutex mutex_;
    std::string pending_;
    std::size_t inFlight_ = 0;
    bool poked_ = false;
    bool started_ = false;
    bool closed_ = false;
    bool dropped_ = false;
    bool notified_ = false;
    std::vector<std::function<void()>> callbacks_;
};

void Connection::arm(std::chrono::steady_clock::duration after) {
    timedOut_ = false;
    deadline_ = SteadyClock::now() + after;
    if (waitingUntil_ <= deadline_) return;  // the wait under way fires first, then looks again
    waitForDeadline();
}

void Connection::waitForDeadline() {
    waitingUntil_ = deadline_;
    const std::uint64_t generation = ++timerGeneration_;
    timer_.expires_at(deadline_);  // a wait under way completes with operation_aborted: ignored
    timer_.async_wait([self = shared_from_this(), generation](beast::error_code error) {
        if (generation != self->timerGeneration_) return;  // replaced by an earlier one
        self->waitingUntil_ = SteadyClock::time_point::max();
        if (error || self->closed() || self->deadline_ == SteadyClock::time_point::max()) return;
        if (SteadyClock::now() < self->deadline_) return self->waitForDeadline();  // moved later meanwhile
        self->timedOut_ = true;
        beast::error_code ignored;
        self->socket_.cancel(ignored);  // the pending read or write completes with operation_aborted
    });
}

void Connection::idle() {
    phase_ = Phase::Idle;
    if (core_->stopping) return close();
    if (buffer_.size() > 0) return readHead();  // a pipelined request is waiting
    arm(core_->options.keepAlive);
    socket_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code error, std::size_t n) {
        if (self->closed()) return;
        self->disarm();
        if (error) return self->close();  // idle too long, or the client went
        self->buffer_.commit(n);
        self->readHead();
    });
}

void Connection::readHead() {
    phase_ = Phase::Head;
    started_ = SteadyClock::now();
    in_ = {};
    client_ = address_;  // until a head says otherwise (a 408 or 431 has no X-Forwarded-For to read)
    target_ = "-";
    owner_ = "host";
    style_ = sdk::RouteStyle::Plain;
    match_ = {};
    outcome_ = Router::Outcome::NotFound;
    head_ = false;
    keepAlive_ = false;
    closeAfter_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(core_->options.maxHeaderBytes));
    // Checked by hand once the head is in (to answer in the route's style). Not boost::none: Beast
    // 1.74 compares a length with an empty optional as larger, and refuses every body.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    arm(core_->options.headTimeout);
    http::async_read_header(socket_, buffer_, *parser_, [self = shared_from_this()](beast::error_code error, std::size_t) {
        if (self->closed()) return;
        self->disarm();
        if (error) return self->readFailed(error);
        self->onHead();
    });
}

void Connection::readFailed(beast::error_code error) {
    const bool inHead = phase_ == Phase::Head;
    if (timedOut_)
        return fail(408, "request_timeout",
                    std::string("the request ") + (inHead ? "head" : "body") + " did not arrive within " +
                        std::to_string((inHead ? core_->options.headTimeout : core_->options.bodyTimeout).count()) + " s");
    if (error == http::error::end_of_stream || error == asio::error::eof || error == asio::error::connection_reset ||
        error == asio::error::operation_aborted || error == http::error::partial_message)
        return close();  // the client went
    if (error == http::error::header_limit)
        return fail(431, "header_too_large",
                    "the request head is larger than " + std::to_string(core_->options.maxHeaderBytes) + " bytes");
    if (error == http::error::body_limit)
        return fail(413, "payload_too_large", "the request body is larger than " + std::to_string(core_->options.maxBodyBytes) + " bytes");
    fail(400, "bad_request", "malformed request: " + error.message());
}

void Connection::fail(int status, const std::string& code, const std::string& message) {
    closeAfter_ = true;
    sdk::HttpResponse out;
    if (in_.requestId.empty()) in_.requestId = sdk::requestIdFor("");
    writeError(out, style_, status, code, message, in_.requestId);
    write(std::move(out));
}

void Connection::onHead() {
    auto& request = parser_->get();
    version_ = request.version();
    keepAlive_ = request.keep_alive();
    in_.method = std::string(request.method_string());
    target_ = std::string(request.target());
    head_ = in_.method == "HEAD";
    for (const auto& field : request) in_.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    client_ = address_;
    if (!core_->options.trustedProxies.empty()) {
        // Every X-Forwarded-For line, in order, as one list: proxies may append a line of their own.
        std::string forwardedFor;
        for (const auto& [name, value] : in_.headers)
            if (Poco::icompare(name, "X-Forwarded-For") == 0) forwardedFor += (forwardedFor.empty() ? "" : ",") + value;
        client_ = core_->options.trustedProxies.clientAddress(address_, forwardedFor);
    }
    in_.remoteAddress = client_;
    in_.requestId = sdk::requestIdFor(in_.header("X-Request-Id").value_or(""));
    try {
        Poco::URI uri(target_);
        in_.path = uri.getPath();
        in_.rawQuery = uri.getRawQuery();
        for (const auto& kv : uri.getQueryParameters()) in_.query.push_back(kv);
    } catch (const Poco::Exception& error) {
        return fail(400, "bad_request", "malformed request target: " + error.message());
    }
    if (in_.path.empty() || in_.path[0] != '/') return fail(400, "bad_request", "the request target must be an absolute path");
    outcome_ = core_->router.match(in_.method, in_.path, match_, &allowed_);
    if (outcome_ == Router::Outcome::Found) {
        owner_ = match_.route->owner;
        style_ = match_.route->options.style;
        in_.params = std::move(match_.params);
    } else if (in_.path.rfind("/api/", 0) == 0) {
        style_ = sdk::RouteStyle::Api;
    }

    const auto length = parser_->content_length();
    if (length && *length > static_cast<std::uint64_t>(core_->options.maxBodyBytes))  // 413 before reading it
        return fail(413, "payload_too_large", "the request body is larger than " + std::to_string(core_->options.maxBodyBytes) + " bytes");
    if (!length && !parser_->chunked() && bodyMethod(in_.method))
        return fail(411, "length_required", in_.method + " needs a Content-Length or a chunked body");
    if (parser_->is_done()) return dispatch();
    const auto expect = in_.header("Expect");
    if (expect && Poco::icompare(*expect, "100-continue") == 0) {
        static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        phase_ = Phase::Writing;
        arm(core_->options.bodyTimeout);
        asio::async_write(socket_, asio::buffer(kContinue), [self = shared_from_this()](beast::error_code error, std::size_t) {
            if (self->closed()) return;
            self->disarm();
            if (error) return self->close();
            self->readBody();
        });
        return;
    }
    readBody();
}

void Connection::readBody() {
    phase_ = Phase::Body;
    parser_->body_limit(static_cast<std::uint64_t>(core_->options.maxBodyBytes));  // a chunked body is cut off here
    arm(core_->options.bodyTimeout);  // the whole body, not each read
    http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](beast::error_code error, std::size_t) {
        if (self->closed()) return;
        self->disarm();
        if (error) return self->readFailed(error);
        self->in_.body = std::move(self->parser_->get().body());
        self->dispatch();
    });
}

void Connection::invoke(const Route& route, sdk::HttpRequest& in, sdk::HttpResponse& out) {
    std::string failure;
    try {
        if (core_->access.admit(route, in, out)) route.handler(in, out);
    } catch (const std::exception& error) {
        failure = sdk::errorText(error);
    } catch (...) {
        failure = "an unknown exception";
    }
    if (!failure.empty()) {
        ownerLog(route.owner).error("request " + in.requestId + " " + in.method + " " + in.path + " failed: " + failure);
        out = {};
        writeError(out, route.options.style, 500, "internal_error", "the server failed to handle this request", in.requestId);
    }
}

void Connection::dispatch() {
    phase_ = Phase::Handling;
    parser_.reset();
    sdk::HttpResponse out;
    if (outcome_ == Router::Outcome::NotFound) {
        if (in_.path.rfind("/admin", 0) != 0) {
            writeError(out, style_, 404, "not_found", "no route for " + in_.path, in_.requestId);
            return write(std::move(out));
        }
        // Under /admin the access gate may answer with the admin's own 404 page (a session to read:
        // on the pool, not on this I/O thread).
        auto self = shared_from_this();
        sdk::HttpRequest request = in_;
        const sdk::RouteStyle style = style_;
        const bool queued = core_->runOnPool([self, request, style]() mutable {
            sdk::HttpResponse answer;
            try {
                if (!self->core_->access.notFound(request, answer)) {
                    answer = {};
                    writeError(answer, style, 404, "not_found", "no route for " + request.path, request.requestId);
                }
            } catch (const std::exception& error) {
                ownerLog("host").error("request " + request.requestId + " " + request.path + " failed: " + sdk::errorText(error));
                answer = {};
                writeError(answer, style, 404, "not_found", "no route for " + request.path, request.requestId);
            }
            auto executor = self->executor();
            asio::post(executor, [self, answer = std::move(answer)]() mutable { self->respond(std::move(answer)); });
        });
        if (!queued) {
            writeError(out, style_, 503, "busy", "the server is busy; retry shortly", in_.requestId);
            out.setHeader("Retry-After", "1");
            write(std::move(out));
        }
        return;
    }
    if (outcome_ == Router::Outcome::MethodNotAllowed) {
        writeError(out, style_, 405, "method_not_allowed", in_.method + " is not allowed here", in_.requestId);
        out.setHeader("Allow", allowed_);
        return write(std::move(out));
    }
    std::shared_ptr<const Route> route = match_.route;
    auto self = shared_from_this();
    const auto answerLater = [self](sdk::HttpResponse answer) {
        auto executor = self->executor();
        asio::post(executor, [self, answer = std::move(answer)]() mutable { self->respond(std::move(answer)); });
    };

    if (route->async && route->options.access == sdk::Access::Public) {
        // Here on the I/O thread: the handler hands the work on and returns.
        auto responder = std::make_shared<ResponderImpl>(self, owner_, style_, in_);
        try {
            route->async(in_, responder);
        } catch (const std::exception& error) {
            ownerLog(owner_).error("request " + in_.requestId + " " + in_.method + " " + in_.path + " failed: " + sdk::errorText(error));
            writeError(out, style_, 500, "internal_error", "the server failed to handle this request", in_.requestId);
            responder->send(std::move(out));
        }
        return;
    }

    // The request moves to the pool; the access log and the errors keep what they need of it.
    sdk::HttpRequest request = std::move(in_);
    in_.method = request.method;
    in_.path = request.path;
    in_.requestId = request.requestId;
    std::function<void()> job;
    if (route->stream) {
        job = [self, route, in = std::move(request), answerLater]() mutable {
            sdk::HttpResponse answer;
            try {
                if (!self->core_->access.admit(*route, in, answer)) return answerLater(std::move(answer));
                if (in.method == "HEAD") {  // the stream's headers, no stream
                    answer.status = 200;
                    answer.contentType = "text/event-stream; charset=utf-8";
                    return answerLater(std::move(answer));
                }
                auto stream = std::make_shared<StreamImpl>(self, self->core_->options.streamBufferBytes, self->version_ >= 11);
                stream->queue(": open\n\n");  // the browser sees the stream open at once
                route->stream(in, stream);
                auto executor = self->executor();
                asio::post(executor, [self, stream] {
                    self->stream_ = stream;
                    self->startStream();
                });
            } catch (const std::exception& error) {
                ownerLog(route->owner).error("stream " + in.requestId + " " + in.path + " failed: " + sdk::errorText(error));
                answer = {};
                writeError(answer, route->options.style, 500, "internal_error", "the server failed to handle this request", in.requestId);
                answerLater(std::move(answer));
            }
        };
    } else if (route->async) {
        job = [self, route, in = std::move(request), answerLater]() mutable {
            sdk::HttpResponse answer;
            try {
                if (!self->core_->access.admit(*route, in, answer)) return answerLater(std::move(answer));
                auto responder = std::make_shared<ResponderImpl>(self, route->owner, route->options.style, in);
                route->async(in, responder);
            } catch (const std::exception& error) {
                ownerLog(route->owner).error("request " + in.requestId + " " + in.method + " " + in.path + " failed: " + sdk::errorText(error));
                answer = {};
                writeError(answer, route->options.style, 500, "internal_error", "the server failed to handle this request", in.requestId);
                answerLater(std::move(answer));
            }
        };
    } else {
        job = [self, route, in = std::move(request), answerLater]() mutable {
            sdk::HttpResponse answer;
            self->invoke(*route, in, answer);
            answerLater(std::move(answer));
        };
    }
    if (!core_->runOnPool(std::move(job))) {
        writeError(out, style_, 503, "busy", "the server is busy; retry shortly", in_.requestId);
        out.setHeader("Retry-After", "1");
        write(std::move(out));
    }
}

void Connection::respond(sdk::HttpResponse out) {
    if (phase_ != Phase::Handling) return;  // closed meanwhile
    write(std::move(out));
}

void Connection::write(sdk::HttpResponse out) {
    std::string bad;
    if (!headersAreSafe(out, bad)) {
        const std::string route = match_.route ? match_.route->method + " " + match_.route->pattern : in_.method + " " + in_.path;
        ownerLog(owner_).error("request " + in_.requestId + ": route " + route + " set header '" + sdk::singleLine(bad) +
                               "' with CR, LF or NUL (or a name that is not a token): answered 500, the header was not written");
        out = {};
        writeError(out, style_, 500, "internal_error", "the server failed to handle this request", in_.requestId);
    }
    const bool keep = keepAlive_ && !closeAfter_ && !core_->stopping;
    response_ = {};
    response_.version(version_ >= 11 ? 11 : 10);
    response_.result(static_cast<unsigned>(out.status));
    response_.set(http::field::server, "tawasul");
    response_.set(http::field::date, httpDate());
    response_.set(http::field::content_type, out.contentType);
    for (auto& [name, value] : out.headers) response_.insert(name, value);
    response_.set("X-Request-Id", in_.requestId);
    const std::size_t size = out.body.size();
    if (!head_) response_.body() = std::move(out.body);
    if (out.status >= 200 && out.status != 204 && out.status != 304) response_.content_length(size);
    response_.keep_alive(keep);
    if (!keep) response_.set(http::field::connection, "close");

    const int group = out.status / 100;
    if (group >= 1 && group <= 5) core_->metrics.byStatusClass[group]->increment();
    core_->metrics.duration.observe(std::chrono::duration<double>(SteadyClock::now() - started_).count());
    logAccess(out.status, size, "");

    phase_ = Phase::Writing;
    arm(core_->options.bodyTimeout);  // a client that does not take its answer
    http::async_write(socket_, response_, [self = shared_from_this(), keep](beast::error_code error, std::size_t) {
        self->disarm();
        self->response_ = {};
        if (error) return self->close();
        if (!keep) return self->lingerClose();
        self->idle();
    });
}

void Connection::logAccess(int status, std::size_t bytes, const std::string& note) {
    if (!core_->metrics.accessLog.information()) return;  // formatting the line costs more than the rest of a webhook
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - started_).count();
    std::ostringstream line;
    line << client_ << " \"" << (in_.method.empty() ? "-" : in_.method) << " " << sdk::singleLine(target_.substr(0, 200)) << "\" "
         << status << " " << note << bytes << "B " << static_cast<long>(seconds * 1e6) / 1000.0 << "ms rid="
         << (in_.requestId.empty() ? "-" : in_.requestId) << " owner=" << owner_;
    core_->metrics.accessLog.information(line.str());
}

// Half-closes, then reads and drops what the client still sends for a moment, so that it reads
// the answer rather than a reset.
void Connection::lingerClose() {
    phase_ = Phase::Closing;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    arm(std::chrono::seconds(2));
    struct Drain {
        std::shared_ptr<Connection> self;
        void operator()(beast::error_code error = {}, std::size_t = 0) {
            if (error) {
                self->disarm();
                return self->close();
            }
            auto& connection = *self;
            connection.socket_.async_read_some(asio::buffer(connection.discard_), std::move(*this));
        }
    };
    Drain{shared_from_this()}();
}

void Connection::close() {
    phase_ = Phase::Closed;
    disarm();
    timer_.cancel();
    streamTimer_.cancel();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

void Connection::onStop(bool force) {
    if (phase_ == Phase::Closed) return;
    if (force) {
        if (phase_ == Phase::Streaming && stream_) return finishStream();
        return close();
    }
    switch (phase_) {
        case Phase::Idle:
        case Phase::Head: close(); break;
        case Phase::Streaming:
            if (stream_) stream_->close();
            break;
        default: break;  // a body being read or a request being answered finishes, then closes
    }
}

void Connection::startStream() {
    if (phase_ != Phase::Handling) return;
    phase_ = Phase::Streaming;
    http::response<http::empty_body> head{http::status::ok, version_ >= 11 ? 11u : 10u};
    head.set(http::field::server, "tawasul");
    head.set(http::field::date, httpDate());
    head.set(http::field::content_type, "text/event-stream; charset=utf-8");
    head.set(http::field::cache_control, "no-store");
    head.set("X-Accel-Buffering", "no");  // nginx: pass each event through at once
    head.set("X-Request-Id", in_.requestId);
    head.keep_alive(false);  // the connection ends with the stream
    if (version_ >= 11) head.chunked(true);
    // The head goes out as the first bytes of the stream's buffer.
    std::ostringstream text;
    text << head.base();
    streamOut_ = text.str();
    streamWriting_ = true;
    arm(core_->options.bodyTimeout);
    asio::async_write(socket_, asio::buffer(streamOut_), [self = shared_from_this()](beast::error_code error, std::size_t) {
        self->disarm();
        self->streamWriting_ = false;
        if (error) return self->finishStream();
        self->stream_->start();
        self->watchStreamClient();
        self->keepStreamAlive();
        self->pumpStream();
    });
}

void Connection::pumpStream() {
    if (phase_ != Phase::Streaming || streamFinished_) return;
    bool ending = false, dropped = stream_->dropped();
    std::string bytes;
    // A dropped stream ends now, even with a write pending (its client reads nothing).
    if (!dropped && streamWriting_) return;
    if (!dropped) bytes = stream_->take(ending, dropped);
    if (dropped) {
        core_->metrics.streamsDropped.increment();
        core_->droppedWarning.warn(core_->metrics.serverLog, "dropped the live stream " + in_.path + " of " + address_ +
                                                                 ": it did not read its events (server.stream_buffer_bytes)");
        return finishStream();
    }
    if (ending && version_ >= 11) bytes += "0\r\n\r\n";
    if (bytes.empty()) {
        if (ending) finishStream();
        return;
    }
    streamOut_ = std::move(bytes);
    streamWriting_ = true;
    arm(core_->options.bodyTimeout);  // a reader that takes nothing for this long is gone
    asio::async_write(socket_, asio::buffer(streamOut_), [self = shared_from_this(), ending](beast::error_code error, std::size_t n) {
        self->disarm();
        self->streamWriting_ = false;
        self->stream_->written();
        self->stream_->bytesSent += n;
        if (error || ending) return self->finishStream();
        self->pumpStream();
    });
}

// A read that completes only when the client goes (or sends something, which is dropped).
void Connection::watchStreamClient() {
    socket_.async_read_some(asio::buffer(discard_), [self = shared_from_this()](beast::error_code error, std::size_t) {
        if (self->streamFinished_) return;
        if (error) return self->finishStream();
        self->watchStreamClient();
    });
}

void Connection::keepStreamAlive() {
    streamTimer_.expires_after(core_->options.streamKeepAlive);
    streamTimer_.async_wait([self = shared_from_this()](beast::error_code error) {
        if (error || self->streamFinished_) return;
        self->stream_->queue(": keep-alive\n\n");
        self->keepStreamAlive();
    });
}

void Connection::finishStream() {
    if (streamFinished_) return;
    streamFinished_ = true;
    stream_->finished();
    core_->metrics.byStatusClass[2]->increment();
    logAccess(200, stream_->bytesSent, "stream ");
    close();
}

}  // namespace

void HttpServer::Core::deliver(std::shared_ptr<Connection> connection, sdk::HttpResponse response) {
    bool first = false;
    {
        std::lock_guard lock(answersMutex);
        first = answers.empty();
        answers.emplace_back(std::move(connection), std::move(response));
    }
    if (first) asio::post(io, [core = shared_from_this()] { core->deliverWaitingAnswers(); });
}

void HttpServer::Core::deliverWaitingAnswers() {
    std::vector<std::pair<std::shared_ptr<Connection>, sdk::HttpResponse>> ready;
    {
        std::lock_guard lock(answersMutex);
        ready.swap(answers);
    }
    for (auto& [connection, response] : ready) {
        auto executor = connection->executor();
        asio::post(executor, [connection = std::move(connection), response = std::move(response)]() mutable {
            connection->respond(std::move(response));
        });
    }
}

void HttpServer::Core::accept(tcp::acceptor& acceptor) {
    acceptor.async_accept(asio::make_strand(io.get_executor()), [this, &acceptor](beast::error_code error, Socket socket) {
        if (!acceptor.is_open()) return;
        if (error) {
            // Out of file descriptors: wait a moment rather than spin on the same error.
            acceptWarning.warn(metrics.serverLog, "accept failed: " + error.message());
            auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
            timer->async_wait([this, &acceptor, timer](beast::error_code) {
                if (acceptor.is_open()) accept(acceptor);
            });
            return;
        }
        beast::error_code ignored;
        const auto peer = socket.remote_endpoint(ignored);
        std::string address = peer.address().is_v6() && peer.address().to_v6().is_v4_mapped()
                                  ? peer.address().to_v6().to_v4().to_string()
                                  : peer.address().to_string();
        // A trusted proxy speaks for many clients: only the total bounds its connections.
        Poco::Net::IPAddress ip;
        const bool proxy = !options.trustedProxies.empty() && Poco::Net::IPAddress::tryParse(address, ip) &&
                           options.trustedProxies.trusts(ip);
        const char* refusal = nullptr;
        {
            std::lock_guard lock(mutex);
            if (open >= options.maxConnections) {
                refusal = "max_connections";
            } else if (!proxy && perAddress[address] >= options.maxConnectionsPerAddress) {
                refusal = "max_connections_per_address";
            } else {
                ++open;
                ++perAddress[address];
            }
            if (refusal && perAddress[address] == 0) perAddress.erase(address);
        }
        if (refusal) {
            (std::string(refusal) == "max_connections" ? metrics.refusedTotal : metrics.refusedPerAddress).increment();
            const std::size_t limit =
                std::string(refusal) == "max_connections" ? options.maxConnections : options.maxConnectionsPerAddress;
            refusedWarning.warn(metrics.serverLog, "closed a connection from " + address + " at accept: the limit of " +
                                                       std::to_string(limit) + " (server." + refusal + ") was reached");
            socket.close(ignored);
        } else {
            socket.set_option(tcp::no_delay(true), ignored);
            auto connection = std::make_shared<Connection>(shared_from_this(), std::move(socket), address);
            {
                std::lock_guard lock(mutex);
                live[connection.get()] = connection;
            }
            if (stopping) connection->onStop(false);
            else connection->start();
        }
        accept(acceptor);
    });
}

HttpServer::HttpServer(const HttpServerOptions& options, Router& router, Admission& access, MetricsRegistry& metrics)
    : core_(std::make_shared<Core>(options, router, access, metrics)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
    Core& core = *core_;
    // A client that goes away mid-answer must be an error on write, not a signal that ends the process.
    std::signal(SIGPIPE, SIG_IGN);
    // Every connection is a descriptor: take what the hard limit allows.
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
        limit.rlim_cur < core.options.maxConnections + 128)
        core.metrics.serverLog.warning("server.max_connections is " + std::to_string(core.options.maxConnections) +
                                       " but the process may open only " + std::to_string(limit.rlim_cur) +
                                       " files (ulimit -n): connections beyond fail at accept");
    core.stopping = false;
    for (const HttpListener& listener : core.options.listeners) {
        const std::string name = listener.host + ":" + std::to_string(listener.port);
        beast::error_code error;
        const auto address = asio::ip::make_address(listener.host == "localhost" ? "127.0.0.1" : listener.host, error);
        if (error) throw std::runtime_error("cannot listen on " + name + ": not an IP address");
        auto acceptor = std::make_unique<tcp::acceptor>(core.io);
        const tcp::endpoint endpoint(address, listener.port);
        acceptor->open(endpoint.protocol(), error);
        if (!error) acceptor->set_option(asio::socket_base::reuse_address(true), error);
        if (!error) acceptor->bind(endpoint, error);
        if (!error) acceptor->listen(1024, error);
        if (error) throw std::runtime_error("cannot listen on " + name + ": " + error.message());
        core.ports.push_back(acceptor->local_endpoint().port());
        core.acceptors.push_back(std::move(acceptor));
    }
    core.pool = std::make_unique<asio::thread_pool>(static_cast<std::size_t>(core.options.threads));
    core.work.emplace(asio::make_work_guard(core.io));
    for (auto& acceptor : core.acceptors) core.accept(*acceptor);
    for (int i = 0; i < core.options.ioThreads; ++i) core.threads.emplace_back([&core] { core.io.run(); });
    core.running = true;
    for (std::size_t i = 1; i < core.ports.size(); ++i)
        core.metrics.serverLog.information("also listening on " + core.options.listeners[i].host + ":" + std::to_string(core.ports[i]));
}

void HttpServer::stop() {
    Core& core = *core_;
    if (!core.running) return;
    core.running = false;
    core.stopping = true;
    // Stop accepting, then tell every connection; each acts on its own strand.
    asio::post(core.io, [&core] {
        beast::error_code ignored;
        for (auto& acceptor : core.acceptors) acceptor->close(ignored);
    });
    std::vector<std::shared_ptr<Connection>> connections;
    {
        std::lock_guard lock(core.mutex);
        for (auto& [raw, weak] : core.live)
            if (auto connection = weak.lock()) connections.push_back(connection);
    }
    for (auto& connection : connections) {
        auto executor = connection->executor();
        asio::post(executor, [connection] { connection->onStop(false); });
    }
    connections.clear();
    {
        std::unique_lock lock(core.mutex);
        if (!core.changed.wait_for(lock, core.options.drainTimeout, [&] { return core.open == 0; }))
            core.metrics.serverLog.warning(std::to_string(core.open) + " connection(s) still open after " +
                                           std::to_string(core.options.drainTimeout.count()) + " s: closing them");
        for (auto& [raw, weak] : core.live)
            if (auto connection = weak.lock()) connections.push_back(connection);
    }
    for (auto& connection : connections) {
        auto executor = connection->executor();
        asio::post(executor, [connection] { connection->onStop(true); });
    }
    connections.clear();
    core.pool->join();  // no handler runs any more
    core.work.reset();
    // What is left (timers of closed connections) completes at once; then the threads end.
    {
        std::unique_lock lock(core.mutex);
        core.changed.wait_for(lock, std::chrono::seconds(3), [&] { return core.open == 0; });
    }
    core.io.stop();
    for (auto& thread : core.threads) thread.join();
    core.threads.clear();
    {
        std::lock_guard lock(core.answersMutex);  // answers too late for anyone (each holds its connection)
        core.answers.clear();
    }
}

std::uint16_t HttpServer::port() const { return core_->ports.empty() ? core_->options.listeners.front().port : core_->ports.front(); }

std::vector<std::uint16_t> HttpServer::ports() const { return core_->ports; }

bool headersAreSafe(const sdk::HttpResponse& response, std::string& bad) {
    if (!isSafeValue(response.contentType)) {
        bad = "Content-Type";
        return false;
    }
    for (const auto& [name, value] : response.headers) {
        const bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return isTokenChar(static_cast<unsigned char>(c)); });
        if (!token || !isSafeValue(value)) {
            bad = name;
            return false;
        }
    }
    return true;
}

}  // namespace tawasul::host
