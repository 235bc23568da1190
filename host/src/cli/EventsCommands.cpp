// `tawasul events list|show|replay`: the stored raw webhook events, and re-queuing them (the way to
// recover after a bug fix: the raw bytes are kept, so processing can always be done again).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <limits>

#include <Poco/Data/LOB.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Nullable.h>

#include "cli/Cli.hpp"
#include "app/Runtime.hpp"
#include "tawasul/sdk/Clock.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

namespace tawasul::host {
namespace {

using namespace Poco::Data::Keywords;

constexpr const char* kUsage = "tawasul events list [--status S] [--limit N] | show ID | replay ID | replay --failed | replay --since T";

struct EventsRequest {
    std::string action;  // list, show, replay
    std::optional<std::string> status;
    long long limit = 50;
    std::optional<std::int64_t> id;
    bool failed = false;
    std::optional<std::int64_t> since;  // milliseconds since the epoch
};

std::int64_t parseEventId(const std::string& text) {
    std::int64_t id = 0;
    bool ok = !text.empty() && text.size() <= 18;
    for (char c : text) {
        if (c < '0' || c > '9') ok = false;
        else id = id * 10 + (c - '0');
    }
    if (!ok || id <= 0) throw UsageError("events: ID must be a positive whole number, got '" + text + "'");
    return id;
}

// "2026-11-25T10:00:00Z" (seconds, optional .fff, Z or +00:00), "2026-11-25" (midnight UTC), or
// milliseconds since the epoch (0: every event).
std::int64_t parseSince(const std::string& text) {
    const UsageError bad("events: --since wants an ISO-8601 UTC time like 2026-11-25T10:00:00Z or milliseconds "
                         "since the epoch, got '" + text + "'");
    if (text.empty()) throw bad;
    if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (text.size() > 15) throw bad;
        const std::int64_t millis = std::stoll(text);
        // 0 means "from the beginning". Other values below 1973 in milliseconds are seconds typed by
        // mistake, which would replay (nearly) everything: refuse them rather than guess.
        if (millis != 0 && millis < 100000000000LL)
            throw UsageError("events: --since " + text + " looks like seconds; give milliseconds (" + text +
                             "000) or an ISO-8601 time");
        return millis;
    }
    auto digits = [&](std::size_t at, std::size_t count, int& out) {
        if (at + count > text.size()) return false;
        out = 0;
        for (std::size_t i = at; i < at + count; ++i) {
            if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
            out = out * 10 + (text[i] - '0');
        }
        return true;
    };
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
    if (!digits(0, 4, year) || text.size() < 10 || text[4] != '-' || !digits(5, 2, month) || text[7] != '-' || !digits(8, 2, day))
        throw bad;
    std::size_t at = 10;
    if (text.size() > 10) {
        if (text[10] != 'T' || !digits(11, 2, hour) || text.size() < 19 || text[13] != ':' || !digits(14, 2, minute) ||
            text[16] != ':' || !digits(17, 2, second))
            throw bad;
        at = 19;
        if (at < text.size() && text[at] == '.') {
            std::size_t end = at + 1;
            while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
            if (end == at + 1 || end - at - 1 > 9) throw bad;
            const std::string fraction = (text.substr(at + 1, end - at - 1) + "00").substr(0, 3);
            millis = std::stoi(fraction);
            at = end;
        }
        const std::string zone = text.substr(at);
        if (zone != "Z" && zone != "+00:00") throw bad;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) throw bad;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    const std::time_t seconds = timegm(&tm);
    std::tm check{};
    gmtime_r(&seconds, &check);
    if (check.tm_mday != day && second != 60) throw bad;  // 2026-02-30 and the like
    return static_cast<std::int64_t>(seconds) * 1000 + millis;
}

EventsRequest parseEvents(const std::vector<std::string>& args) {
    if (args.empty()) throw UsageError("usage: " + std::string(kUsage));
    EventsRequest request;
    request.action = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    const std::string where = "events " + request.action;
    if (request.action == "list") {
        Arguments parsed(where, rest, {"--status", "--limit"}, {});
        parsed.expectPositional(0, 0, "tawasul events list [--status S] [--limit N]");
        request.status = parsed.value("--status");
        if (request.status && *request.status != "pending" && *request.status != "processing" && *request.status != "processed" &&
            *request.status != "failed")
            throw UsageError("events list: --status must be pending, processing, processed or failed, got '" + *request.status + "'");
        request.limit = parsed.number("--limit", 50, 1, 10000);
    } else if (request.action == "show") {
        Arguments parsed(where, rest, {}, {});
        parsed.expectPositional(1, 1, "tawasul events show ID");
        request.id = parseEventId(parsed.positional()[0]);
    } else if (request.action == "replay") {
        Arguments parsed(where, rest, {"--since"}, {"--failed"});
        parsed.expectPositional(0, 1, "tawasul events replay ID | --failed | --since T");
        if (!parsed.positional().empty()) request.id = parseEventId(parsed.positional()[0]);
        request.failed = parsed.flag("--failed");
        if (const auto since = parsed.value("--since")) request.since = parseSince(*since);
        const int chosen = (request.id ? 1 : 0) + (request.failed ? 1 : 0) + (request.since ? 1 : 0);
        if (chosen != 1) throw UsageError("events replay: give exactly one of ID, --failed, --since T");
    } else {
        throw UsageError("usage: " + std::string(kUsage));
    }
    return request;
}

// At most `limit` characters on one line, cut on a UTF-8 character boundary.
std::string oneLine(const std::string& text, std::size_t limit) {
    std::string flat;
    std::size_t characters = 0, cut = std::string::npos;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if ((c & 0xC0) != 0x80) {
            if (characters == limit - 3) cut = flat.size();
            ++characters;
        }
        flat += (c == '\n' || c == '\r' || c == '\t') ? ' ' : static_cast<char>(c);
    }
    if (characters <= limit) return flat;
    return flat.substr(0, cut) + "...";
}

int listEvents(Runtime& runtime, const EventsRequest& request) {
    sdk::Database& database = runtime.database();
    Poco::Data::Session session = database.session();
    const std::string size = database.sql().byteLength("payload");
    Poco::Data::Statement select(session);
    std::string status = request.status.value_or("");
    Poco::Int64 limit = request.limit;
    if (request.status) {
        select << "SELECT id, received_at, status, attempts, " + size + ", last_error FROM whatsapp_webhook_events "
                  "WHERE status = $1 ORDER BY id DESC LIMIT $2",
            use(status), use(limit);
    } else {
        select << "SELECT id, received_at, status, attempts, " + size + ", last_error FROM whatsapp_webhook_events "
                  "ORDER BY id DESC LIMIT $1",
            use(limit);
    }
    select.execute();
    Poco::Data::RecordSet rows(select);
    if (rows.rowCount() == 0) {
        std::cout << "no webhook events" << (request.status ? " with status " + status : std::string()) << "\n";
        return kExitOk;
    }
    std::cout << std::left << std::setw(10) << "ID" << std::setw(26) << "RECEIVED_AT" << std::setw(12) << "STATUS" << std::setw(10)
              << "ATTEMPTS" << std::setw(10) << "BYTES" << "LAST_ERROR\n";
    for (std::size_t i = 0; i < rows.rowCount(); ++i) {
        const std::string error = rows.value(5, i).isEmpty() ? "" : rows.value(5, i).convert<std::string>();
        std::cout << std::left << std::setw(10) << rows.value(0, i).convert<std::int64_t>() << std::setw(26)
                  << sdk::isoTime(rows.value(1, i).convert<std::int64_t>()) << std::setw(12) << rows.value(2, i).convert<std::string>()
                  << std::setw(10) << rows.value(3, i).convert<std::int64_t>() << std::setw(10)
                  << (rows.value(4, i).isEmpty() ? 0 : rows.value(4, i).convert<std::int64_t>()) << oneLine(error, 80) << "\n";
    }
    return kExitOk;
}

int showEvent(Runtime& runtime, std::int64_t eventId) {
    Poco::Data::Session session = runtime.database().session();
    Poco::Data::BLOB payload;
    Poco::Int64 id = eventId;
    Poco::Data::Statement select(session);
    select << "SELECT payload FROM whatsapp_webhook_events WHERE id = $1", use(id), into(payload);
    if (select.execute() == 0) throw std::runtime_error("no webhook event " + std::to_string(eventId));
    std::cout.write(reinterpret_cast<const char*>(payload.rawContent()), static_cast<std::streamsize>(payload.size()));
    std::cout.flush();
    return kExitOk;
}

int replayEvents(Runtime& runtime, const EventsRequest& request) {
    sdk::Database& database = runtime.database();
    Poco::Data::Session session = database.session();
    // Chunks keep each transaction (and SQLite's write lock) short. The event is its own queue
    // entry: pending again, due now, is all a replay takes (a worker holding it loses its claim:
    // its finish only touches rows still locked by it).
    constexpr Poco::Int64 kChunk = 500;
    Poco::Int64 after = 0;
    std::size_t requeued = 0;
    for (;;) {
        sdk::Transaction transaction(database, session);
        std::vector<Poco::Int64> ids;
        Poco::Int64 chunk = kChunk;
        if (request.id) {
            Poco::Int64 id = *request.id;
            session << "SELECT id FROM whatsapp_webhook_events WHERE id = $1", use(id), into(ids), now;
            if (ids.empty()) throw std::runtime_error("no webhook event " + std::to_string(*request.id));
        } else if (request.failed) {
            session << "SELECT id FROM whatsapp_webhook_events WHERE status = 'failed' AND id > $1 ORDER BY id LIMIT $2",
                use(after), use(chunk), into(ids), now;
        } else {
            Poco::Int64 since = *request.since;
            session << "SELECT id FROM whatsapp_webhook_events WHERE received_at >= $1 AND id > $2 ORDER BY id LIMIT $3",
                use(since), use(after), use(chunk), into(ids), now;
        }
        Poco::Int64 runAt = runtime.clock().nowMillis();
        for (Poco::Int64 id : ids) {
            session << "UPDATE whatsapp_webhook_events SET status = 'pending', attempts = 0, last_error = NULL, "
                       "processed_at = NULL, run_at = $1, locked_by = NULL, locked_until = NULL WHERE id = $2",
                use(runAt), use(id), now;
        }
        transaction.commit();
        requeued += ids.size();
        if (request.id || static_cast<Poco::Int64>(ids.size()) < kChunk) break;
        after = ids.back();
    }
    std::cout << "re-queued " << requeued << " event(s)\n";
    return kExitOk;
}

int runEvents(const HostConfig& config, const std::vector<std::string>& args) {
    const EventsRequest request = parseEvents(args);
    Runtime runtime(config);
    if (request.action == "list") return listEvents(runtime, request);
    if (request.action == "show") return showEvent(runtime, *request.id);
    return replayEvents(runtime, request);
}

}  // namespace

Command eventsCommand() {
    return {"events", "list, show and replay stored webhook events (events list|show|replay)",
            "usage: tawasul [--config FILE] events list [--status S] [--limit N]\n"
            "       tawasul [--config FILE] events show ID\n"
            "       tawasul [--config FILE] events replay ID | --failed | --since T\n\n"
            "list    the newest webhook events first: id, received_at (UTC), status, attempts, size in\n"
            "        bytes, last error. --status is pending, processing, processed or failed; --limit N\n"
            "        is 1 to 10000 (default 50).\n"
            "show    writes the raw body of event ID to standard output, byte for byte as Meta sent it\n"
            "        (e.g. to re-post it: tawasul events show 42 > e.json; tawasul simulate post e.json).\n"
            "replay  re-queues stored events for processing: event ID, every failed event (--failed), or\n"
            "        every event received at or after T (--since 2026-11-25T10:00:00Z, or milliseconds\n"
            "        since the epoch; --since 0 is every event). Each event goes back to 'pending' with no\n"
            "        attempts, due now. Processing is idempotent, so replaying an event that\n"
            "        was processed is safe.\n"
            "        A running host picks the events up within its workers' poll interval (about half a\n"
            "        second): the CLI cannot wake another process's workers.\n",
            [](const std::vector<std::string>& args) { (void)parseEvents(args); }, runEvents};
}

}  // namespace tawasul::host
