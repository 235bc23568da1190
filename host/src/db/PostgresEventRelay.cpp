#include "db/PostgresEventRelay.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>

#include <poll.h>

#include <libpq-fe.h>

#include <Poco/Logger.h>
#include <Poco/UUIDGenerator.h>

#include "tawasul/sdk/EveryHostEvents.hpp"

namespace tawasul::host {
namespace {

Poco::Logger& log() { return Poco::Logger::get("host.bus"); }

constexpr const char* kNotifyStatement = "tawasul_notify";

using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// Keepalives so that a dead link is noticed in seconds, not at the kernel's two hours.
Connection connect(const std::string& connectionString, std::string& error) {
    const std::string info = connectionString +
                             " connect_timeout=5 keepalives=1 keepalives_idle=5 keepalives_interval=2 keepalives_count=3"
                             " application_name=tawasul-bus";
    Connection connection(PQconnectdb(info.c_str()), &PQfinish);
    if (!connection || PQstatus(connection.get()) != CONNECTION_OK) {
        error = connection ? PQerrorMessage(connection.get()) : "out of memory";
        while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
        return Connection(nullptr, &PQfinish);
    }
    return connection;
}

Result run(PGconn* connection, const char* sql, std::initializer_list<const char*> params) {
    std::vector<const char*> values(params);
    return Result(PQexecParams(connection, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0), &PQclear);
}

bool ok(const Result& result) {
    const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

// One element of a text[] literal: quoted, with \ and " escaped.
void appendElement(std::string& array, const std::string& text) {
    array += array.size() > 1 ? ",\"" : "\"";
    for (char c : text) {
        if (c == '\\' || c == '"') array += '\\';
        array += c;
    }
    array += '"';
}

// A topic travels in the notice's header: one word.
bool relayable(const std::string& topic) {
    return !topic.empty() && topic.size() <= 200 &&
           std::none_of(topic.begin(), topic.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; });
}

}  // namespace

PostgresEventRelay::PostgresEventRelay(std::string connectionString, Deliver deliver)
    : connectionString_(std::move(connectionString)), deliver_(std::move(deliver)),
      origin_(Poco::UUIDGenerator::defaultGenerator().createRandom().toString()) {}

PostgresEventRelay::~PostgresEventRelay() { stop(); }

void PostgresEventRelay::start() {
    std::lock_guard lock(mutex_);
    if (listener_.joinable()) return;
    stopping_ = false;
    listener_ = std::thread([this] { listen(); });
    sender_ = std::thread([this] { sendLoop(); });
}

void PostgresEventRelay::stop() noexcept {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (listener_.joinable()) listener_.join();
    if (sender_.joinable()) sender_.join();
}

bool PostgresEventRelay::listening() const {
    std::lock_guard lock(mutex_);
    return listening_;
}

void PostgresEventRelay::send(const sdk::Event& event) {
    if (!relayable(event.topic)) return;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        queue_.push_back(event);
        if (queue_.size() > kMaxQueued) {
            queue_.pop_front();
            lostEvents_ = true;
        }
    }
    wake_.notify_all();  // the listener waits on it too (backoff)
}

bool PostgresEventRelay::parseNotice(const std::string& text, Notice& notice) {
    const auto newline = text.find('\n');
    const std::string header = text.substr(0, newline);
    const auto first = header.find(' ');
    const auto second = first == std::string::npos ? first : header.find(' ', first + 1);
    if (first == std::string::npos || second == std::string::npos || first == 0) return false;
    notice = {};
    notice.origin = header.substr(0, first);
    std::string rest = header.substr(second + 1);
    if (newline != std::string::npos) {
        notice.topic = rest;
        notice.json = text.substr(newline + 1);
        return relayable(notice.topic);
    }
    const auto at = rest.find(" @");
    if (at == std::string::npos) return false;
    notice.topic = rest.substr(0, at);
    const std::string id = rest.substr(at + 2);
    if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos) return false;
    notice.storedId = std::stoll(id);
    return relayable(notice.topic);
}

void PostgresEventRelay::sendLoop() {
    Connection connection(nullptr, &PQfinish);
    auto backoff = std::chrono::milliseconds(200);
    auto lastCleanup = std::chrono::steady_clock::now();
    for (;;) {
        std::vector<sdk::Event> batch;
        bool announceLoss = false;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || lostEvents_; });
            if (stopping_) return;  // what is still queued is not sent: the others refresh when they see us again
            while (!queue_.empty() && batch.size() < 500) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            announceLoss = lostEvents_;
        }
        std::string error;
        bool sent = false, stored = false;
        // A connection found dead when used (the server restarted, the link was cut) gets one fresh
        // try at once, so that a cut between two events loses none of them.
        for (int attempt = 0; attempt < 2 && !sent; ++attempt) {
            if (attempt > 0) connection.reset();
            error.clear();
            if (!connection) {
                connection = connect(connectionString_, error);
                // Prepared once per connection: parsed and planned afresh, the NOTIFY cost the
                // server more than sending it (80 µs a batch at 1,000 sends a second).
                if (connection && !ok(Result(PQprepare(connection.get(), kNotifyStatement, "SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n",
                                                       2, nullptr),
                                             &PQclear))) {
                    error = PQerrorMessage(connection.get());
                    connection.reset();
                }
            }
            if (!connection) break;
            std::string array = "{";
            if (announceLoss) appendElement(array, origin_ + " " + std::to_string(++sequence_) + " " + sdk::kBusReconnectedTopic + "\n{}");
            for (const sdk::Event& event : batch) {
                const std::string header = origin_ + " " + std::to_string(++sequence_) + " " + event.topic;
                if (header.size() + 1 + event.json.size() <= kMaxPayload) {
                    appendElement(array, header + "\n" + event.json);
                    continue;
                }
                const Result row = run(connection.get(), "INSERT INTO bus_events (topic, payload) VALUES ($1, $2) RETURNING id",
                                       {event.topic.c_str(), event.json.c_str()});
                if (!ok(row) || PQntuples(row.get()) != 1) {
                    error = PQerrorMessage(connection.get());
                    break;
                }
                stored = true;
                appendElement(array, header + " @" + PQgetvalue(row.get(), 0, 0));
            }
            array += "}";
            if (error.empty()) {
                const char* values[] = {kChannel, array.c_str()};
                const Result result(PQexecPrepared(connection.get(), kNotifyStatement, 2, values, nullptr, nullptr, 0), &PQclear);
                if (ok(result)) sent = true;
                else error = PQerrorMessage(connection.get());
            }
        }
        if (connection) {
            if (sent && stored && std::chrono::steady_clock::now() - lastCleanup > std::chrono::minutes(1)) {
                // Every listener has read a stored event within seconds; ten minutes is plenty.
                run(connection.get(), "DELETE FROM bus_events WHERE created_at < floor(extract(epoch FROM now()) * 1000)::BIGINT - 600000", {});
                lastCleanup = std::chrono::steady_clock::now();
            }
        }
        std::unique_lock lock(mutex_);
        if (sent) {
            if (announceLoss) lostEvents_ = false;
            backoff = std::chrono::milliseconds(200);
            continue;
        }
        // This batch is lost to the other hosts: they will be told to refresh once we are back.
        lostEvents_ = true;
        connection.reset();
        log().warning("cannot notify the other hosts (" + std::to_string(batch.size()) + " events dropped): " + error);
        wake_.wait_for(lock, backoff, [&] { return stopping_; });
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
}

void PostgresEventRelay::listen() {
    auto backoff = std::chrono::milliseconds(200);
    bool connectedBefore = false, lost = false;
    std::string lastError;
    const auto stopping = [this] {
        std::lock_guard lock(mutex_);
        return stopping_;
    };
    while (!stopping()) {
        std::string error;
        Connection connection = connect(connectionString_, error);
        if (connection && !ok(run(connection.get(), (std::string("LISTEN ") + kChannel).c_str(), {}))) {
            error = PQerrorMessage(connection.get());
            connection.reset();
        }
        if (!connection) {
            if (error != lastError) log().warning("cannot listen for the other hosts' events: " + error);
            lastError = error;
            lost = true;
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, backoff, [&] { return stopping_; });
            backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
            continue;
        }
        {
            std::lock_guard lock(mutex_);
            listening_ = true;
        }
        if (connectedBefore || lost) {
            log().information("listening again for the other hosts' events; open pages refresh");
            try {
                deliver_({sdk::kBusReconnectedTopic, "{}"});
            } catch (...) {
            }
        }
        connectedBefore = true;
        lost = false;
        lastError.clear();
        backoff = std::chrono::milliseconds(200);
        const int descriptor = PQsocket(connection.get());
        while (!stopping() && PQstatus(connection.get()) == CONNECTION_OK) {
            pollfd readable{descriptor, POLLIN, 0};
            const int ready = ::poll(&readable, 1, 500);  // the stop flag is looked at twice a second
            if (ready < 0 && errno != EINTR) break;
            if (ready <= 0) continue;
            if (!PQconsumeInput(connection.get())) break;
            while (PGnotify* raw = PQnotifies(connection.get())) {
                const std::unique_ptr<PGnotify, decltype(&PQfreemem)> notify(raw, &PQfreemem);
                Notice notice;
                if (!parseNotice(notify->extra, notice)) {
                    log().warning("ignored a notification this host cannot read");
                    continue;
                }
                if (notice.origin == origin_) continue;  // delivered in-process when it was published
                if (notice.storedId) {
                    const std::string id = std::to_string(notice.storedId);
                    const Result row = run(connection.get(), "SELECT payload FROM bus_events WHERE id = $1", {id.c_str()});
                    if (!ok(row) || PQntuples(row.get()) != 1) {
                        log().warning("stored event " + id + " (" + notice.topic + ") is gone");
                        continue;
                    }
                    notice.json = PQgetvalue(row.get(), 0, 0);
                }
                try {
                    deliver_({notice.topic, notice.json});
                } catch (...) {
                    // A subscriber's failure is logged by the bus; it never stops the listener.
                }
            }
        }
        {
            std::lock_guard lock(mutex_);
            listening_ = false;
        }
        if (!stopping()) {
            log().warning("lost the link to the other hosts' events: " + std::string(PQerrorMessage(connection.get())));
            lost = true;
        }
    }
}

}  // namespace tawasul::host
