#include "IntakeListener.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <Poco/Exception.h>
#include <Poco/MemoryStream.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/URI.h>

namespace tawasul::plugins::webhook_receiver {
namespace {

constexpr std::uint64_t kListenKey = 0;
constexpr std::uint64_t kWakeKey = 1;

std::string systemError(const std::string& what) { return what + ": " + std::strerror(errno); }


}  // namespace

struct IntakeListener::Connection {
    // Reading a request; Waiting for its answer; Writing the answer; Draining: answered with
    // Connection: close, our side shut, reading what the client still sends until it closes (so
    // that it reads our answer, a 413 say, rather than a reset).
    enum class State { Reading, Waiting, Writing, Draining };

    std::uint64_t id = 0;
    int fd = -1;  // -1 once the peer has gone while its answer is still owed
    std::string remoteAddress;
    std::string in;             // received bytes not yet consumed
    std::string out;            // bytes to send
    std::size_t sent = 0;       // of `out`
    State state = State::Reading;
    bool keepAlive = true;      // of the request being answered
    bool continueSent = false;  // 100 Continue for the request being read
    std::uint32_t events = 0;   // what epoll watches for
    std::chrono::steady_clock::time_point lastActivity;
    std::chrono::steady_clock::time_point requestStarted;  // first byte of the request being read
    std::chrono::steady_clock::time_point handedOver;      // for the access line
    std::string accessLine;                                 // "METHOD PATH", when access lines are on
};

IntakeListener::IntakeListener(IntakeOptions options, IntakeHandler handler, Poco::Logger& logger)
    : options_(std::move(options)), handler_(std::move(handler)), logger_(logger), accessLog_(Poco::Logger::get("http.access")) {}

IntakeListener::~IntakeListener() { stop(); }

void IntakeListener::start() {
    const Poco::Net::SocketAddress address(options_.host, options_.port);  // throws on a bad host
    listenFd_ = ::socket(address.family() == Poco::Net::AddressFamily::IPv6 ? AF_INET6 : AF_INET,
                         SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listenFd_ < 0) throw std::runtime_error(systemError("webhook intake: socket"));
    const int on = 1;
    ::setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(listenFd_, address.addr(), address.length()) != 0 || ::listen(listenFd_, 1024) != 0) {
        const std::string error = systemError("webhook intake: cannot listen on " + address.toString());
        ::close(listenFd_);
        listenFd_ = -1;
        throw std::runtime_error(error);
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&bound), &length);
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

    epollFd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wakeFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epollFd_ < 0 || wakeFd_ < 0) throw std::runtime_error(systemError("webhook intake: epoll"));
    epoll_event listenEvent{};
    listenEvent.events = EPOLLIN;
    listenEvent.data.u64 = kListenKey;
    epoll_event wakeEvent{};
    wakeEvent.events = EPOLLIN;
    wakeEvent.data.u64 = kWakeKey;
    ::epoll_ctl(epollFd_, EPOLL_CTL_ADD, listenFd_, &listenEvent);
    ::epoll_ctl(epollFd_, EPOLL_CTL_ADD, wakeFd_, &wakeEvent);
    stopping_ = false;
    thread_ = std::thread([this] { loop(); });
}

void IntakeListener::stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wakeFd_, &one, sizeof one);
    thread_.join();
    for (int* fd : {&listenFd_, &wakeFd_, &epollFd_}) {
        if (*fd >= 0) ::close(*fd);
        *fd = -1;
    }
}

void IntakeListener::loop() {
    epoll_event events[256];
    auto lastSweep = std::chrono::steady_clock::now();
    for (;;) {
        const int ready = ::epoll_wait(epollFd_, events, 256, 250);
        if (ready < 0 && errno != EINTR) {
            logger_.error(systemError("webhook intake: epoll_wait"));
            break;
        }
        for (int i = 0; i < ready; ++i) {
            const std::uint64_t key = events[i].data.u64;
            if (key == kListenKey) {
                if (!stopping_) accept();
            } else if (key == kWakeKey) {
                std::uint64_t count = 0;
                [[maybe_unused]] auto read = ::read(wakeFd_, &count, sizeof count);
            } else {
                auto found = connections_.find(key);
                if (found == connections_.end()) continue;
                Connection& connection = *found->second;
                if (events[i].events & EPOLLOUT) flush(connection);
                if (connections_.count(key) && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
                    onReadable(connection);
            }
        }
        drain();
        const auto now = std::chrono::steady_clock::now();
        if (now - lastSweep >= std::chrono::milliseconds(250)) {
            sweep(now);
            drain();
            lastSweep = now;
        }
        if (stopping_) {
            if (listenFd_ >= 0) {
                ::epoll_ctl(epollFd_, EPOLL_CTL_DEL, listenFd_, nullptr);
                ::close(listenFd_);
                listenFd_ = -1;
            }
            // Every request handed over is answered before the thread ends: its event may be
            // stored, and Meta must hear so rather than retry into a closed socket.
            bool writing = false;
            for (const auto& [id, connection] : connections_)
                if (connection->state == Connection::State::Writing && connection->fd >= 0) writing = true;
            // Draining connections need not hold the shutdown: their answer is written.
            if (owed_ == 0 && !writing) break;
        }
    }
    while (!connections_.empty()) close(connections_.begin()->first);
}

void IntakeListener::accept() {
    for (;;) {
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        const int fd = ::accept4(listenFd_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) logger_.warning(systemError("webhook intake: accept"));
            return;
        }
        if (connections_.size() >= options_.maxConnections) {
            ++refusedAtCap_;
            ::close(fd);
            continue;
        }
        const int on = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // answers are one small write each
        auto connection = std::make_unique<Connection>();
        connection->id = nextId_++;
        connection->fd = fd;
        connection->remoteAddress = Poco::Net::SocketAddress(reinterpret_cast<sockaddr*>(&peer), length).host().toString();
        connection->lastActivity = std::chrono::steady_clock::now();
        epoll_event event{};
        event.events = EPOLLIN | EPOLLRDHUP;
        event.data.u64 = connection->id;
        connection->events = event.events;
        if (::epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &event) != 0) {
            ::close(fd);
            continue;
        }
        connections_.emplace(connection->id, std::move(connection));
    }
}

void IntakeListener::watch(Connection& connection, std::uint32_t events) {
    if (connection.fd < 0 || connection.events == events) return;
    epoll_event event{};
    event.events = events;
    event.data.u64 = connection.id;
    ::epoll_ctl(epollFd_, EPOLL_CTL_MOD, connection.fd, &event);
    connection.events = events;
}

void IntakeListener::onReadable(Connection& connection) {
    if (connection.state == Connection::State::Draining) {
        char buffer[16384];
        ssize_t received = 0;
        while ((received = ::recv(connection.fd, buffer, sizeof buffer, 0)) > 0) {
        }
        if (received == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) close(connection.id);
        return;
    }
    if (connection.state != Connection::State::Reading) {
        // A client that sends its next request before this one's answer: it waits in the socket
        // until the answer is written (level-triggered epoll would otherwise wake us for it now).
        // A hang-up while an answer is owed: drop the socket, keep the entry until the answer.
        char probe;
        const ssize_t peeked = ::recv(connection.fd, &probe, 1, MSG_PEEK);
        if (peeked == 0 || (peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            ::epoll_ctl(epollFd_, EPOLL_CTL_DEL, connection.fd, nullptr);
            ::close(connection.fd);
            connection.fd = -1;
            if (connection.state == Connection::State::Writing) close(connection.id);
            return;
        }
        watch(connection, connection.state == Connection::State::Writing ? EPOLLOUT | EPOLLRDHUP : EPOLLRDHUP);
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    char buffer[16384];
    bool peerClosed = false;
    for (;;) {
        const ssize_t received = ::recv(connection.fd, buffer, sizeof buffer, 0);
        if (received > 0) {
            if (connection.in.empty()) connection.requestStarted = now;
            connection.in.append(buffer, static_cast<std::size_t>(received));
            connection.lastActivity = now;
            // Enough to hold the largest request; process() refuses anything larger.
            if (connection.in.size() > options_.maxHeadBytes + static_cast<std::size_t>(options_.maxBodyBytes) + 4) break;
            continue;
        }
        if (received < 0 && errno == EINTR) continue;
        if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (received == 0) {  // the peer is done sending; what it sent before is still a request
            peerClosed = true;
            break;
        }
        close(connection.id);  // the connection broke
        return;
    }
    const std::uint64_t id = connection.id;
    process(connection);
    // A request it completed is being stored: the answer's arrival closes the connection.
    auto found = connections_.find(id);
    if (peerClosed && found != connections_.end() && found->second->state == Connection::State::Reading) close(id);
}

void IntakeListener::process(Connection& connection) {
    if (connection.state != Connection::State::Reading || connection.in.empty()) return;
    const std::size_t headEnd = connection.in.find("\r\n\r\n");
    if (headEnd == std::string::npos) {
        if (connection.in.size() > options_.maxHeadBytes) refuse(connection, 431, "the request headers are too large");
        return;
    }
    if (headEnd + 4 > options_.maxHeadBytes) {
        refuse(connection, 431, "the request headers are too large");
        return;
    }
    Poco::Net::HTTPRequest head;
    std::int64_t length = 0;
    try {
        Poco::MemoryInputStream stream(connection.in.data(), headEnd + 4);
        head.read(stream);
        if (head.has("Transfer-Encoding")) {
            refuse(connection, 411, "send the body with a Content-Length");
            return;
        }
        if (head.hasContentLength()) length = head.getContentLength64();
    } catch (const Poco::Exception& error) {
        refuse(connection, 400, "malformed request: " + error.message());
        return;
    }
    if (length < 0) {
        refuse(connection, 400, "malformed request: a negative Content-Length");
        return;
    }
    if (length > options_.maxBodyBytes) {
        refuse(connection, 413, "the request body is larger than " + std::to_string(options_.maxBodyBytes) + " bytes");
        return;
    }
    const std::size_t total = headEnd + 4 + static_cast<std::size_t>(length);
    if (connection.in.size() < total) {
        if (!connection.continueSent && Poco::icompare(head.get("Expect", ""), "100-continue") == 0) {
            connection.continueSent = true;
            connection.out += "HTTP/1.1 100 Continue\r\n\r\n";
            flush(connection);
        }
        return;
    }

    sdk::HttpRequest request;
    request.method = head.getMethod();
    request.remoteAddress = connection.remoteAddress;
    request.requestId = sdk::requestIdFor(head.get("X-Request-Id", ""));
    try {
        Poco::URI uri(head.getURI());
        request.path = uri.getPath();
        request.rawQuery = uri.getRawQuery();
        for (auto& parameter : uri.getQueryParameters()) request.query.push_back(std::move(parameter));
    } catch (const Poco::Exception& error) {
        refuse(connection, 400, "malformed request target: " + error.message());
        return;
    }
    for (const auto& [name, value] : head) request.headers.emplace_back(name, value);
    request.body.assign(connection.in, headEnd + 4, static_cast<std::size_t>(length));
    connection.in.erase(0, total);
    if (!connection.in.empty()) connection.requestStarted = std::chrono::steady_clock::now();
    connection.keepAlive = head.getKeepAlive();
    connection.continueSent = false;
    connection.handedOver = std::chrono::steady_clock::now();
    if (accessLog_.information()) connection.accessLine = request.method + " " + head.getURI().substr(0, 200);

    if (request.path != options_.path) {
        sdk::HttpResponse notFound;
        notFound.text(404, "no route for " + request.path + "\n");
        answer(connection, notFound, request.requestId);
        return;
    }
    connection.state = Connection::State::Waiting;
    ++owed_;
    const std::uint64_t id = connection.id;
    const std::string requestId = request.requestId;
    try {
        handler_(request, [this, id, requestId](sdk::HttpResponse response) { complete(id, requestId, std::move(response)); });
    } catch (const std::exception& error) {
        // The reply was not handed on (a handler that answers never throws after answering).
        logger_.error("webhook intake: request " + requestId + " failed: " + error.what());
        sdk::HttpResponse failed;
        failed.text(500, "the server failed to handle this request\n");
        complete(id, requestId, std::move(failed));
    }
}

void IntakeListener::complete(std::uint64_t id, std::string requestId, sdk::HttpResponse response) {
    bool first = false;
    {
        std::lock_guard lock(answersMutex_);
        first = answers_.empty();
        answers_.push_back({id, std::move(requestId), std::move(response)});
    }
    // One wake-up per batch of answers: the listener takes them all at once.
    if (first && std::this_thread::get_id() != thread_.get_id()) {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto written = ::write(wakeFd_, &one, sizeof one);
    }
}

void IntakeListener::deliverAnswers() {
    std::vector<Answer> answers;
    {
        std::lock_guard lock(answersMutex_);
        answers.swap(answers_);
    }
    for (Answer& pending : answers) {
        --owed_;
        auto found = connections_.find(pending.connection);
        if (found == connections_.end()) continue;
        Connection& connection = *found->second;
        if (connection.fd < 0) {  // the peer left while its event was being stored
            connection.state = Connection::State::Writing;
            close(connection.id);
            continue;
        }
        answer(connection, pending.response, pending.requestId);
    }
}

const std::string& IntakeListener::httpDate() {
    // RFC 9110's Date, as every HTTP/1.1 origin server with a clock sends it: formatted once a
    // second, not once per answer.
    const std::time_t seconds = std::time(nullptr);
    if (seconds != dateSecond_) {
        std::tm utc{};
        gmtime_r(&seconds, &utc);
        char text[40];
        std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
        dateText_ = text;
        dateSecond_ = seconds;
    }
    return dateText_;
}

void IntakeListener::answer(Connection& connection, const sdk::HttpResponse& response, const std::string& requestId) {
    const bool keepAlive = connection.keepAlive && !stopping_;
    std::string& out = connection.out;
    out += "HTTP/1.1 " + std::to_string(response.status) + " " +
           Poco::Net::HTTPResponse::getReasonForStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status)) +
           "\r\nDate: " + httpDate() + "\r\nContent-Type: " + sdk::singleLine(response.contentType) +
           "\r\nContent-Length: " + std::to_string(response.body.size()) + "\r\nX-Request-Id: " + sdk::singleLine(requestId) + "\r\n";
    for (const auto& [name, value] : response.headers) out += sdk::singleLine(name) + ": " + sdk::singleLine(value) + "\r\n";
    if (!keepAlive) out += "Connection: close\r\n";
    out += "\r\n";
    out += response.body;
    connection.keepAlive = keepAlive;
    connection.state = Connection::State::Writing;
    if (!connection.accessLine.empty() && accessLog_.information()) {
        const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - connection.handedOver);
        accessLog_.information(connection.remoteAddress + " \"" + connection.accessLine + "\" " + std::to_string(response.status) + " " +
                               std::to_string(response.body.size()) + "B " + std::to_string(micros.count() / 1000.0) +
                               "ms rid=" + requestId + " owner=webhook_receiver intake");
        connection.accessLine.clear();
    }
    flush(connection);
}

void IntakeListener::refuse(Connection& connection, int status, const std::string& message) {
    // What follows an unreadable request cannot be told apart from it: answer, then close.
    connection.keepAlive = false;
    connection.in.clear();
    sdk::HttpResponse response;
    response.text(status, message + "\n");
    answer(connection, response, sdk::requestIdFor(""));
}

void IntakeListener::flush(Connection& connection) {
    while (connection.sent < connection.out.size()) {
        const ssize_t sent =
            ::send(connection.fd, connection.out.data() + connection.sent, connection.out.size() - connection.sent, MSG_NOSIGNAL);
        if (sent > 0) {
            connection.sent += static_cast<std::size_t>(sent);
            continue;
        }
        if (sent < 0 && errno == EINTR) continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch(connection, EPOLLOUT | EPOLLRDHUP);
            return;
        }
        close(connection.id);
        return;
    }
    connection.out.clear();
    connection.sent = 0;
    connection.lastActivity = std::chrono::steady_clock::now();
    if (connection.state != Connection::State::Writing) return;  // a 100 Continue: the request goes on
    if (!connection.keepAlive) {
        ::shutdown(connection.fd, SHUT_WR);
        connection.state = Connection::State::Draining;
        watch(connection, EPOLLIN | EPOLLRDHUP);
        return;
    }
    connection.state = Connection::State::Reading;
    watch(connection, EPOLLIN | EPOLLRDHUP);
    // A request the client sent before this answer is read next, from drain(): calling process()
    // here would nest once per pipelined request, and a client can pipeline thousands.
    if (!connection.in.empty()) ready_.push_back(connection.id);
}

void IntakeListener::drain() {
    for (;;) {
        deliverAnswers();
        if (ready_.empty()) {
            std::lock_guard lock(answersMutex_);  // answers given on this thread, or just now by the writer
            if (answers_.empty()) return;
            continue;
        }
        std::vector<std::uint64_t> ready;
        ready.swap(ready_);
        for (std::uint64_t id : ready) {
            auto found = connections_.find(id);
            if (found != connections_.end()) process(*found->second);
        }
    }
}

void IntakeListener::close(std::uint64_t id) {
    auto found = connections_.find(id);
    if (found == connections_.end()) return;
    Connection& connection = *found->second;
    if (connection.state == Connection::State::Waiting) {
        // Its answer is still owed: keep the entry so that the answer finds it, and stop reading.
        if (connection.fd >= 0) {
            ::epoll_ctl(epollFd_, EPOLL_CTL_DEL, connection.fd, nullptr);
            ::close(connection.fd);
            connection.fd = -1;
        }
        return;
    }
    if (connection.fd >= 0) {
        ::epoll_ctl(epollFd_, EPOLL_CTL_DEL, connection.fd, nullptr);
        ::close(connection.fd);
    }
    connections_.erase(found);
}

void IntakeListener::sweep(std::chrono::steady_clock::time_point now) {
    std::vector<std::uint64_t> expired;
    std::vector<std::uint64_t> late;
    for (const auto& [id, connection] : connections_) {
        if (connection->fd < 0) continue;
        const bool reading = connection->state == Connection::State::Reading;
        if (reading && !connection->in.empty() && now - connection->requestStarted > options_.requestTimeout) late.push_back(id);
        else if (reading && connection->in.empty() && now - connection->lastActivity > options_.idleTimeout) expired.push_back(id);
        else if (stopping_ && reading && connection->in.empty()) expired.push_back(id);
        else if (connection->state == Connection::State::Writing && now - connection->lastActivity > options_.requestTimeout)
            expired.push_back(id);  // a client that does not read its answer
        else if (connection->state == Connection::State::Draining && now - connection->lastActivity > std::chrono::seconds(2))
            expired.push_back(id);
    }
    for (std::uint64_t id : expired) close(id);
    for (std::uint64_t id : late) {
        auto found = connections_.find(id);
        if (found != connections_.end()) refuse(*found->second, 408, "the request took too long to arrive");
    }
    if (refusedAtCap_ > 0) {
        logger_.warning("webhook intake: closed " + std::to_string(refusedAtCap_) + (refusedAtCap_ == 1 ? " connection" : " connections") +
                        " at accept: the limit of " + std::to_string(options_.maxConnections) + " (max_connections) was reached");
        refusedAtCap_ = 0;
    }
}

}  // namespace tawasul::plugins::webhook_receiver
