// `tawasul backup FILE` and `tawasul restore FILE`: a consistent copy of the embedded SQLite
// database while the host serves, and putting such a copy back while it does not.
#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>

#include <fcntl.h>
#include <unistd.h>

#include "app/Runtime.hpp"
#include "cli/Cli.hpp"
#include "cli/DatabaseFiles.hpp"
#include "db/Migrator.hpp"
#include "db/SqlDatabase.hpp"
#include "files/PrivateFiles.hpp"

namespace tawasul::host {
namespace {

namespace fs = std::filesystem;

// Misuse the operator can fix: one line, exit status 2.
int refuse(const std::string& message) {
    std::cerr << "tawasul: " << message << "\n";
    return kExitUsage;
}

std::string utcStamp() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &tm);
    return buffer;
}

void fsyncDirectory(const fs::path& file) {
    const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

std::string keyReminder(const HostConfig& config) {
    return "remember the master key: a backup without it cannot open the stored secrets; back up " +
           (std::getenv("TAWASUL_MASTER_KEY") ? std::string("the value of TAWASUL_MASTER_KEY") : "the key file " + config.secrets.keyFile) +
           " too, and keep it apart from the backup";
}

int commandBackup(const HostConfig& config, const fs::path& file) {
    const fs::path database = sqliteFile(config);
    if (database.empty()) {
        const std::string url = SqlDatabase::parseUrl(config.database.url).displayUrl;
        return refuse("backup copies the embedded SQLite database; this one is PostgreSQL, back it up with pg_dump "
                      "(password from PGPASSWORD or ~/.pgpass): pg_dump --format=custom --file='" +
                      file.string() + "' '" + url + "'");
    }
    std::error_code error;
    if (fs::exists(fs::symlink_status(file, error))) return refuse("backup: " + file.string() + " already exists (choose a new file name)");
    const fs::path parent = file.has_parent_path() ? file.parent_path() : fs::path(".");
    if (!fs::is_directory(parent, error)) return refuse("backup: no folder " + parent.string() + " for " + file.string());
    if (!fs::exists(database, error)) {
        std::cerr << "tawasul: backup: no database at " << database.string() << " (run tawasul migrate first)\n";
        return kExitFailure;
    }
    // Copy beside the target, then link it into place: FILE appears whole or not at all, and
    // link() refuses a FILE that appeared meanwhile.
    const fs::path partial = file.string() + ".partial-" + std::to_string(::getpid());
    copySqliteDatabase(database, partial, config.database.busyTimeoutMs);
    if (::link(partial.c_str(), file.c_str()) != 0) {
        const int code = errno;
        fs::remove(partial, error);
        if (code == EEXIST) return refuse("backup: " + file.string() + " already exists (choose a new file name)");
        throw std::runtime_error("cannot create " + file.string() + ": " + std::strerror(code));
    }
    fs::remove(partial, error);
    fsyncDirectory(file);
    std::cout << "backed up " << database.string() << " to " << file.string() << " (" << fs::file_size(file) << " bytes)\n"
              << keyReminder(config) << "\n";
    return kExitOk;
}

// Why the schema of `file` does not belong to this installation, or "" when it does; `pending`
// counts the installed migrations the file lacks (the next `tawasul migrate` applies them).
std::string schemaMismatch(const HostConfig& config, const fs::path& file, std::size_t& pending) {
    std::vector<AppliedMigration> applied;
    try {
        applied = sqliteAppliedMigrations(file);
    } catch (const std::exception& error) {
        return "is not a Tawasul database: " + std::string(error.what());
    }
    for (const MigrationStatus& status : Migrator::classify(migrationSources(config), sdk::SqlDialect::sqlite(), applied)) {
        const std::string name = status.file.owner + "/" + std::to_string(status.file.version);
        if (status.state == MigrationStatus::State::Missing)
            return "has migration " + name + ", which this installation does not have (made by a newer Tawasul, or another plugin set)";
        if (status.state == MigrationStatus::State::Edited) return "has migration " + name + " from a different file than the one installed";
        if (status.state == MigrationStatus::State::Pending) ++pending;
    }
    return "";
}

int commandRestore(const HostConfig& config, const fs::path& file) {
    const fs::path database = sqliteFile(config);
    if (database.empty()) {
        const std::string url = SqlDatabase::parseUrl(config.database.url).displayUrl;
        return refuse("restore replaces the embedded SQLite database; this one is PostgreSQL, restore it with pg_restore "
                      "(password from PGPASSWORD or ~/.pgpass): pg_restore --clean --if-exists --dbname='" +
                      url + "' '" + file.string() + "'");
    }
    std::error_code error;
    if (!fs::is_regular_file(file, error)) return refuse("restore: no file " + file.string());
    if (fs::exists(database, error) && fs::equivalent(file, database, error)) return refuse("restore: " + file.string() + " is the database itself");
    // Onto a machine that has no database yet: its folder, for the lock file and the database.
    createPrivateDirectories(database.parent_path());
    // Held to the end: no host starts on the database while it is being replaced.
    DatabaseLock lock(database, DatabaseLock::Mode::Exclusive);
    if (!lock.held())
        return refuse("restore: " + database.string() + " is in use by a host or another tawasul command (stop the host first, "
                      "e.g. systemctl stop tawasul, and let commands finish)");
    const std::string integrity = sqliteIntegrity(file);
    if (integrity != "ok") return refuse("restore: " + file.string() + " fails PRAGMA integrity_check: " + integrity);
    std::size_t pending = 0;
    const std::string mismatch = schemaMismatch(config, file, pending);
    if (!mismatch.empty()) return refuse("restore: " + file.string() + " " + mismatch);

    const fs::path incoming = database.string() + ".restoring";
    fs::remove(incoming, error);  // left by a restore that died; the lock says none runs now
    copySqliteDatabase(file, incoming, config.database.busyTimeoutMs);
    std::string kept;
    if (fs::exists(database, error)) {
        // The file alone must be the old database before it is set aside, and no -wal of it may
        // stay to be replayed onto the restored one.
        checkpointSqliteDatabase(database);
        kept = database.string() + ".replaced-" + utcStamp();
        if (::link(database.c_str(), kept.c_str()) != 0) {
            fs::remove(incoming, error);
            throw std::runtime_error("cannot keep " + database.string() + " as " + kept + ": " + std::strerror(errno));
        }
        for (const char* suffix : {"-wal", "-shm"}) fs::remove(database.string() + suffix, error);
    }
    // One rename: the database is the old file or the restored one, never neither.
    fs::rename(incoming, database);
    fsyncDirectory(database);
    std::cout << "restored " << file.string() << " into " << database.string() << "\n";
    if (!kept.empty()) std::cout << "the database it replaced is kept as " << kept << "\n";
    if (pending > 0) std::cout << pending << " migration(s) pending: run tawasul migrate before serving\n";
    std::cout << "the master key must be the one that was in use when the backup was taken\n";
    return kExitOk;
}

}  // namespace

Command backupCommand() {
    return {"backup", "copy the SQLite database to FILE while the host serves",
            "usage: tawasul [--config FILE] backup FILE\n\n"
            "Writes a consistent copy of the SQLite database (SQLite's online backup API, one read\n"
            "transaction) to the new file FILE, mode 0600, checked with PRAGMA integrity_check.\n"
            "Refuses an existing FILE. The copy holds sealed secrets: keep the master key (key file or\n"
            "TAWASUL_MASTER_KEY) too, apart from it. On PostgreSQL it prints the pg_dump command to use.\n"
            "Exit 2 on misuse.\n",
            [](const std::vector<std::string>& args) { Arguments("backup", args, {}, {}).expectPositional(1, 1, "tawasul backup FILE"); },
            [](const HostConfig& config, const std::vector<std::string>& args) { return commandBackup(config, args.at(0)); }};
}

Command restoreCommand() {
    return {"restore", "put a backup FILE back as the SQLite database (host stopped)",
            "usage: tawasul [--config FILE] restore FILE\n\n"
            "Checks FILE (PRAGMA integrity_check; its migrations must all be installed ones), keeps the\n"
            "current database as <database>.replaced-<UTC time>, and renames a copy of FILE into place.\n"
            "Refuses while a host or another tawasul command has the database open (each holds\n"
            "<database>.lock). Run `tawasul migrate` after it when it says migrations are pending.\n"
            "Exit 2 on misuse.\n",
            [](const std::vector<std::string>& args) { Arguments("restore", args, {}, {}).expectPositional(1, 1, "tawasul restore FILE"); },
            [](const HostConfig& config, const std::vector<std::string>& args) { return commandRestore(config, args.at(0)); }};
}

}  // namespace tawasul::host
