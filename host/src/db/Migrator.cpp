#include "db/Migrator.hpp"

#include "tawasul/sdk/Crypto.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <Poco/Data/RecordSet.h>

#include "db/SqlScript.hpp"

namespace tawasul::host {
namespace {

using namespace Poco::Data::Keywords;

std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw MigrationError(path.string() + ":1: cannot read migration file");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::int64_t nowMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Serialises concurrent `migrate` runs of several hosts sharing one PostgreSQL database.
constexpr const char* kPostgresLockKey = "7415001";

}  // namespace

Migrator::Migrator(sdk::Database& database, std::vector<MigrationSource> sources)
    : database_(database), sources_(std::move(sources)) {}

std::vector<MigrationFile> Migrator::discover(const MigrationSource& source, sdk::Dialect dialect) {
    std::vector<MigrationFile> files;
    if (!std::filesystem::is_directory(source.directory)) return files;
    static const std::regex pattern(R"(^(\d+)_([A-Za-z0-9_]+?)(\.(sqlite|postgresql))?\.sql$)");
    const std::string wanted = dialect == sdk::Dialect::SQLite ? "sqlite" : "postgresql";
    std::map<std::int64_t, MigrationFile> byVersion;
    for (const auto& entry : std::filesystem::directory_iterator(source.directory)) {
        const std::string filename = entry.path().filename().string();
        if (entry.path().extension() != ".sql") continue;
        std::smatch match;
        if (!std::regex_match(filename, match, pattern))
            throw MigrationError(entry.path().string() + ":1: migration file names are NNNN_name.sql, NNNN_name.sqlite.sql or NNNN_name.postgresql.sql");
        const std::string fileDialect = match[4].str();
        if (!fileDialect.empty() && fileDialect != wanted) continue;
        MigrationFile file{source.owner, std::stoll(match[1].str()), match[2].str(), entry.path(), ""};
        auto [it, inserted] = byVersion.emplace(file.version, file);
        if (!inserted)
            throw MigrationError(entry.path().string() + ":1: version " + match[1].str() + " of '" + source.owner +
                                 "' is also used by " + it->second.path.filename().string());
    }
    for (auto& [version, file] : byVersion) {
        file.checksum = sdk::sha256Hex(readFile(file.path));
        files.push_back(file);
    }
    return files;
}

void Migrator::ensureTable(Poco::Data::Session& session) {
    session << "CREATE TABLE IF NOT EXISTS schema_migrations ("
               " owner TEXT NOT NULL, version BIGINT NOT NULL, name TEXT NOT NULL,"
               " checksum TEXT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (owner, version))",
        now;
}

std::vector<MigrationStatus> Migrator::status() {
    Poco::Data::Session session = database_.session();
    ensureTable(session);
    struct Applied {
        std::string name, checksum;
        std::int64_t at;
    };
    std::map<std::pair<std::string, std::int64_t>, Applied> applied;
    Poco::Data::Statement select(session);
    select << "SELECT owner, version, name, checksum, applied_at FROM schema_migrations";
    select.execute();
    Poco::Data::RecordSet rows(select);
    for (std::size_t i = 0; i < rows.rowCount(); ++i) {
        applied[{rows.value(0, i).convert<std::string>(), rows.value(1, i).convert<std::int64_t>()}] = {
            rows.value(2, i).convert<std::string>(), rows.value(3, i).convert<std::string>(),
            rows.value(4, i).convert<std::int64_t>()};
    }
    std::vector<MigrationStatus> result;
    for (const MigrationSource& source : sources_) {
        for (MigrationFile& file : discover(source, database_.dialect())) {
            MigrationStatus status{file, MigrationStatus::State::Pending, 0};
            auto it = applied.find({file.owner, file.version});
            if (it != applied.end()) {
                status.appliedAt = it->second.at;
                status.state = it->second.checksum == file.checksum ? MigrationStatus::State::Applied
                                                                    : MigrationStatus::State::Edited;
                applied.erase(it);
            }
            result.push_back(status);
        }
    }
    for (const auto& [key, row] : applied) {
        MigrationStatus missing;
        missing.file = {key.first, key.second, row.name, {}, row.checksum};
        missing.state = MigrationStatus::State::Missing;
        missing.appliedAt = row.at;
        result.push_back(missing);
    }
    return result;
}

std::size_t Migrator::pendingCount() {
    const auto all = status();
    return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [](const MigrationStatus& s) {
        return s.state == MigrationStatus::State::Pending || s.state == MigrationStatus::State::Edited;
    }));
}

std::vector<MigrationFile> Migrator::migrate() {
    Poco::Data::Session lockSession = database_.session();
    const bool postgres = database_.dialect() == sdk::Dialect::PostgreSQL;
    if (postgres) lockSession << std::string("SELECT pg_advisory_lock(") + kPostgresLockKey + ")", now;
    struct Unlock {
        Poco::Data::Session& session;
        bool active;
        ~Unlock() {
            if (!active) return;
            try {
                session << std::string("SELECT pg_advisory_unlock(") + kPostgresLockKey + ")", now;
            } catch (...) {
            }
        }
    } unlock{lockSession, postgres};

    const auto all = status();
    for (const MigrationStatus& s : all) {
        if (s.state == MigrationStatus::State::Edited)
            throw MigrationError(s.file.path.string() + ":1: migration " + s.file.owner + "/" + std::to_string(s.file.version) +
                                 " was edited after it was applied (checksum differs); add a new migration instead");
    }
    std::vector<MigrationFile> applied;
    for (const MigrationStatus& s : all) {
        if (s.state != MigrationStatus::State::Pending) continue;
        const std::string script = readFile(s.file.path);
        if (sdk::sha256Hex(script) != s.file.checksum)
            throw MigrationError(s.file.path.string() + ":1: file changed while migrating");
        Poco::Data::Session session = database_.session();
        sdk::Transaction transaction(database_, session);
        for (const SqlStatement& statement : splitSqlScript(script)) {
            try {
                session << statement.text, now;
            } catch (const Poco::Exception& error) {
                throw MigrationError(s.file.path.string() + ":" + std::to_string(statement.line) + ": " + error.displayText());
            }
        }
        std::string owner = s.file.owner, name = s.file.name, checksum = s.file.checksum;
        std::int64_t version = s.file.version, at = nowMillis();
        session << "INSERT INTO schema_migrations (owner, version, name, checksum, applied_at) VALUES ($1, $2, $3, $4, $5)",
            use(owner), use(version), use(name), use(checksum), use(at), now;
        transaction.commit();
        applied.push_back(s.file);
    }
    return applied;
}

}  // namespace tawasul::host
