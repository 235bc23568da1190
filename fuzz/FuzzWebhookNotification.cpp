// A stored webhook body, as the inbound router processes it: read as a notification, walked into a
// batch (Timeline::add), then written to a real SQLite database with every migration applied, in a
// transaction that is rolled back after each input (so every input meets the same database).
// Besides crashes and sanitizer reports, it stops on:
//  - a write that throws: the body was readable, so its job would retry to the end and fail with a
//    database error instead of being processed or refused with a reason;
//  - a second pass over the same body that adds anything: every write is idempotent on its wamid.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "KeywordRules.hpp"
#include "Notification.hpp"
#include "Timeline.hpp"
#include "db/Migrator.hpp"
#include "db/SqlDatabase.hpp"
#include "tawasul/sdk/Errors.hpp"
#include "tawasul/sdk/Jobs.hpp"
#include "tawasul/sdk/PreparedSession.hpp"
#include "tawasul/whatsapp/Phones.hpp"

namespace {

using namespace tawasul;
using plugins::inbound_router::KeywordRules;
using plugins::inbound_router::Timeline;

constexpr std::int64_t kNow = 1764633600000;  // 2025-12-02, a fixed "now" so every run is the same
constexpr std::int64_t kEventId = 1;

struct Fixture {
    std::filesystem::path directory;
    std::unique_ptr<host::SqlDatabase> database;
    KeywordRules rules = KeywordRules::defaults();
    sdk::PhoneNormalizer phones{"DZ"};
    std::unique_ptr<sdk::PreparedSession> db;  // one for the whole run, as a worker keeps one: statements prepared once

    Fixture() {
        char pattern[] = "/tmp/tawasul-fuzz-XXXXXX";
        if (!mkdtemp(pattern)) std::abort();
        directory = pattern;
        database = std::make_unique<host::SqlDatabase>(host::DatabaseOptions{"sqlite:" + (directory / "fuzz.db").string(), 4, 1, 5000});
        std::vector<host::MigrationSource> sources{{"host", TAWASUL_SOURCE_DIR "/migrations"}};
        for (const char* plugin : {"admin_inbox", "contact_matcher", "outbox"})
            sources.push_back({plugin, std::string(TAWASUL_SOURCE_DIR "/plugins/") + plugin + "/migrations"});
        host::Migrator(*database, sources).migrate();
        db = std::make_unique<sdk::PreparedSession>(database->session(), database->sql());
        const std::string payload = "{}";  // the bodies are given to the Timeline, not read from here
        db->run("INSERT INTO whatsapp_webhook_events (id, payload, status) VALUES ($1, $2, 'processing')",
               {sdk::SqlParam(kEventId), sdk::SqlParam::blob(payload)});
    }
    ~Fixture() {
        db.reset();
        database.reset();
        std::error_code ignored;
        std::filesystem::remove_all(directory, ignored);
    }
};

Fixture& fixture() {
    static Fixture instance;
    return instance;
}

// One pass of the router over the body; false when the body is no notification (refused for good).
bool pass(Fixture& f, sdk::PreparedSession& db, const std::string& body, plugins::inbound_router::TimelineCounts& counts) {
    Poco::JSON::Object::Ptr notification;
    try {
        notification = plugins::inbound_router::readNotification(body);
    } catch (const sdk::PermanentJobFailure&) {
        return false;
    }
    Timeline timeline(f.database->sql(), f.rules, nullptr, f.phones, kNow);
    try {
        timeline.add(kEventId, *notification);
    } catch (const std::exception&) {
        return false;  // a value of the wrong type inside: the job fails for good with the reason
    }
    timeline.lookUpMatches();
    try {
        timeline.write(db);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "a readable notification failed to write: %s\n", sdk::errorText(error).c_str());
        std::abort();
    }
    counts = timeline.counts();
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Fixture& f = fixture();
    const std::string body(reinterpret_cast<const char*>(data), size);
    sdk::PreparedTransaction transaction(*f.database, *f.db, sdk::Durability::Relaxed);  // never committed
    plugins::inbound_router::TimelineCounts first, again;
    if (!pass(f, *f.db, body, first)) return 0;
    pass(f, *f.db, body, again);
    if (again.messages != 0 || again.statuses != 0 || again.errors != 0 || again.leads != 0) {
        std::fprintf(stderr, "the same body wrote again: %d messages, %d statuses, %d errors, %d leads (first %d, %d, %d, %d)\n",
                     again.messages, again.statuses, again.errors, again.leads, first.messages, first.statuses, first.errors, first.leads);
        std::abort();
    }
    return 0;
}
