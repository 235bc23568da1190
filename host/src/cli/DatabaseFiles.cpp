#include "cli/DatabaseFiles.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include "db/SqlDatabase.hpp"
#include "files/PrivateFiles.hpp"

namespace tawasul::host {
namespace {

struct CloseSqlite {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteHandle = std::unique_ptr<sqlite3, CloseSqlite>;

SqliteHandle openSqlite(const std::filesystem::path& file, int flags) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
    SqliteHandle handle(raw);
    if (rc != SQLITE_OK)
        throw std::runtime_error("cannot open " + file.string() + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    return handle;
}

// The first column of the first row of `sql`, or throws with SQLite's message.
std::string firstValue(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(db));
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw, sqlite3_finalize);
    const int rc = sqlite3_step(raw);
    if (rc == SQLITE_ROW) {
        const unsigned char* text = sqlite3_column_text(raw, 0);
        return text ? reinterpret_cast<const char*>(text) : "";
    }
    if (rc == SQLITE_DONE) return "";
    throw std::runtime_error(sqlite3_errmsg(db));
}

void fsyncPath(const std::filesystem::path& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

std::filesystem::path sqliteFile(const HostConfig& config) {
    const SqlDatabase::Target target = SqlDatabase::parseUrl(config.database.url);
    if (target.connector != "SQLite") return {};
    return target.connectionString;
}

void copySqliteDatabase(const std::filesystem::path& from, const std::filesystem::path& to, int busyTimeoutMs) {
    // O_EXCL: never overwrite, and never copy secrets into a file someone else can read.
    const int fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + to.string() + ": " + std::strerror(errno));
    ::close(fd);
    try {
        SqliteHandle source = openSqlite(from, SQLITE_OPEN_READONLY);
        sqlite3_busy_timeout(source.get(), busyTimeoutMs);
        SqliteHandle target = openSqlite(to, SQLITE_OPEN_READWRITE);
        sqlite3_backup* backup = sqlite3_backup_init(target.get(), "main", source.get(), "main");
        if (!backup) throw std::runtime_error(std::string("cannot start the copy: ") + sqlite3_errmsg(target.get()));
        // -1: every page in one step, i.e. in one read transaction on the source, which WAL lets
        // writers continue beside. A step that meets a lock is retried, within the busy timeout.
        int rc = SQLITE_OK;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busyTimeoutMs);
        do {
            rc = sqlite3_backup_step(backup, -1);
            if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        } while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && std::chrono::steady_clock::now() < deadline);
        sqlite3_backup_finish(backup);
        if (rc != SQLITE_DONE) throw std::runtime_error(std::string("the copy failed: ") + sqlite3_errstr(rc));
        // One self-contained file: no -wal beside it to forget.
        firstValue(target.get(), "PRAGMA journal_mode = DELETE");
        const std::string integrity = firstValue(target.get(), "PRAGMA integrity_check");
        if (integrity != "ok") throw std::runtime_error("the copy fails PRAGMA integrity_check: " + integrity);
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(to, ignored);
        throw;
    }
    fsyncPath(to, O_RDONLY);
}

std::string sqliteIntegrity(const std::filesystem::path& file) {
    try {
        SqliteHandle db = openSqlite(file, SQLITE_OPEN_READONLY);
        return firstValue(db.get(), "PRAGMA integrity_check");
    } catch (const std::exception& error) {
        return error.what();
    }
}

std::vector<AppliedMigration> sqliteAppliedMigrations(const std::filesystem::path& file) {
    SqliteHandle db = openSqlite(file, SQLITE_OPEN_READONLY);
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db.get(), "SELECT owner, version, name, checksum, applied_at FROM schema_migrations ORDER BY owner, version", -1, &raw,
                           nullptr) != SQLITE_OK)
        throw std::runtime_error(std::string("no schema_migrations table (") + sqlite3_errmsg(db.get()) + ")");
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw, sqlite3_finalize);
    std::vector<AppliedMigration> rows;
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
        const auto text = [&](int column) {
            const unsigned char* value = sqlite3_column_text(raw, column);
            return std::string(value ? reinterpret_cast<const char*>(value) : "");
        };
        rows.push_back({text(0), sqlite3_column_int64(raw, 1), text(2), text(3), sqlite3_column_int64(raw, 4)});
    }
    if (rc != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db.get()));
    return rows;
}

void narrowSqliteFiles(const std::filesystem::path& database) {
    for (const char* suffix : {"", "-wal", "-shm"}) narrowToOwner(database.string() + suffix);
}

void checkpointSqliteDatabase(const std::filesystem::path& file) {
    SqliteHandle db = openSqlite(file, SQLITE_OPEN_READWRITE);
    sqlite3_busy_timeout(db.get(), 5000);
    // Leaving WAL mode checkpoints the log into the file and deletes it.
    firstValue(db.get(), "PRAGMA journal_mode = DELETE");
}

}  // namespace tawasul::host
