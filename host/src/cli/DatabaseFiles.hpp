#pragma once
// The embedded database as files: where it is, the lock a serving host holds on it, and a
// consistent copy of it (SQLite's online backup API). Used by `serve`, `backup`, `restore`, `doctor`.
#include <filesystem>
#include <cstdint>
#include <string>
#include <vector>

#include "app/HostConfig.hpp"
#include "db/Migrator.hpp"

namespace tawasul::host {

// The SQLite file of database.url, or "" when the database is PostgreSQL.
std::filesystem::path sqliteFile(const HostConfig& config);

// A flock(2) on "<database>.lock". `serve` holds it shared for as long as it runs (several hosts
// may share one file); `restore` takes it exclusively, so it never replaces the file under a running
// host. The kernel drops the lock when the process ends, however it ends: no stale lock files.
class DatabaseLock {
public:
    enum class Mode { Shared, Exclusive };
    // Tries once, without waiting; held() says whether it was granted. Throws when the lock file
    // cannot be opened or created.
    DatabaseLock(const std::filesystem::path& database, Mode mode);
    ~DatabaseLock();
    DatabaseLock(const DatabaseLock&) = delete;
    DatabaseLock& operator=(const DatabaseLock&) = delete;
    bool held() const { return held_; }
    static std::filesystem::path lockFile(const std::filesystem::path& database);

private:
    int fd_ = -1;
    bool held_ = false;
};

// Copies the SQLite database `from` into the new file `to` (created 0600; it must not exist) in one
// read transaction, so the copy is the state of one moment while writers go on (WAL). The copy is a
// single file (journal_mode DELETE) and passes PRAGMA integrity_check, or it is removed and this
// throws std::runtime_error.
void copySqliteDatabase(const std::filesystem::path& from, const std::filesystem::path& to, int busyTimeoutMs);

// "ok", or the first line PRAGMA integrity_check reports (or why the file does not open).
std::string sqliteIntegrity(const std::filesystem::path& file);

// The rows of schema_migrations in a SQLite file, read only; throws when there is no such table.
std::vector<AppliedMigration> sqliteAppliedMigrations(const std::filesystem::path& file);

// The database and its -wal and -shm (which SQLite creates with the database's mode) to 0600 where
// an older version left them readable by others. Only `migrate` and `serve`, the operator's
// upgrade steps, do this; opening the database changes no mode.
void narrowSqliteFiles(const std::filesystem::path& database);

// Folds a SQLite file's -wal into it and leaves WAL mode, so that the file alone is the database.
void checkpointSqliteDatabase(const std::filesystem::path& file);

}  // namespace tawasul::host
