#pragma once
// The embedded database as files: where it is, its modes, and a consistent copy of it (SQLite's
// online backup API). Used by `migrate`, `serve`, `backup`, `restore`, `doctor`. The lock every
// Runtime holds on it is db/DatabaseLock.
#include <filesystem>
#include <cstdint>
#include <string>
#include <vector>

#include "app/HostConfig.hpp"
#include "db/DatabaseLock.hpp"
#include "db/Migrator.hpp"

namespace tawasul::host {

// The SQLite file of database.url, or "" when the database is PostgreSQL.
std::filesystem::path sqliteFile(const HostConfig& config);

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
