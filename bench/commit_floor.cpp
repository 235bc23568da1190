// The floor under webhook ingest on SQLite: nothing but the inserts a group commit makes (one
// webhook event of 520 bytes per request, in the project's real schema: since migration 0019 the
// event is its own queue entry, `events-only`, what the receiver does; without it, each event also
// gets the job row the receiver wrote before, to compare the two), through
// SQLite's C API with prepared statements, committed with synchronous=FULL as a 200 requires. No
// HTTP, no Poco, no other thread: whatever the receiver does, one writer cannot go faster.
//
//   commit_floor DATABASE EVENTS_PER_COMMIT COMMITS [events-only]
//
// DATABASE must be migrated already (bench/commit_floor.sh makes one). Prints the mean time per
// commit and the events per second that it allows.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

int usage() {
    std::fprintf(stderr, "usage: commit_floor DATABASE EVENTS_PER_COMMIT COMMITS [events-only]\n");
    return 2;
}

void check(int rc, sqlite3* db, const char* what) {
    if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
    std::fprintf(stderr, "commit_floor: %s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4 || argc > 5) return usage();
    const int perCommit = std::atoi(argv[2]);
    const int commits = std::atoi(argv[3]);
    const bool withJobs = argc == 4;
    if (perCommit <= 0 || commits <= 0 || (argc == 5 && std::string(argv[4]) != "events-only")) return usage();

    sqlite3* db = nullptr;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        std::fprintf(stderr, "commit_floor: cannot open %s\n", argv[1]);
        return 1;
    }
    // The host's settings for every SQLite connection (SqlDatabase).
    check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr, nullptr), db, "pragmas");
    sqlite3_stmt* event = nullptr;
    sqlite3_stmt* job = nullptr;
    check(sqlite3_prepare_v2(db,
                             "INSERT INTO whatsapp_webhook_events (received_at, signature, payload, status, attempts, run_at) "
                             "VALUES (?1, ?2, ?3, 'pending', 0, ?1) RETURNING id",
                             -1, &event, nullptr),
          db, "prepare event");
    check(sqlite3_prepare_v2(db,
                             "INSERT INTO jobs (type, payload, status, attempts, max_attempts, run_at, created_at, updated_at, "
                             "ref_table, ref_id) VALUES ('process_webhook_event', ?, 'pending', 0, 8, ?, ?, ?, "
                             "'whatsapp_webhook_events', ?)",
                             -1, &job, nullptr),
          db, "prepare job");
    const std::string body(520, 'x');  // the size of bench/ingest.sh's signed body
    const std::string signature = "sha256=" + std::string(64, 'a');

    const auto started = std::chrono::steady_clock::now();
    for (int c = 0; c < commits; ++c) {
        check(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db, "begin");
        for (int i = 0; i < perCommit; ++i) {
            const sqlite3_int64 receivedAt = 1764064860000LL + c;
            sqlite3_bind_int64(event, 1, receivedAt);
            sqlite3_bind_text(event, 2, signature.data(), static_cast<int>(signature.size()), SQLITE_STATIC);
            sqlite3_bind_blob(event, 3, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
            check(sqlite3_step(event), db, "insert event");
            const sqlite3_int64 id = sqlite3_column_int64(event, 0);
            sqlite3_reset(event);
            if (!withJobs) continue;
            const std::string payload = "{\"event_id\":" + std::to_string(id) + "}";
            sqlite3_bind_text(job, 1, payload.data(), static_cast<int>(payload.size()), SQLITE_TRANSIENT);
            for (int column = 2; column <= 4; ++column) sqlite3_bind_int64(job, column, receivedAt);
            sqlite3_bind_int64(job, 5, id);
            check(sqlite3_step(job), db, "insert job");
            sqlite3_reset(job);
        }
        check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("%d events%s per commit: %.3f ms per commit, %.0f events/s\n", perCommit, withJobs ? " with their jobs" : " alone",
                seconds * 1000 / commits, perCommit * commits / seconds);
    sqlite3_finalize(event);
    sqlite3_finalize(job);
    sqlite3_close(db);
    return 0;
}
