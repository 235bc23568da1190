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
constexpr long long kMigrateLockKey = 7415001;

constexpr const char* kLegacyChecksumsFile = "legacy-checksums.txt";
constexpr std::uintmax_t kLegacyChecksumsMaxBytes = 64 * 1024;

bool isSha256Hex(const std::string& text) {
    return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// legacy-checksums.txt of a folder: version -> (former checksum, current checksum) for `dialect`.
std::map<std::int64_t, std::pair<std::string, std::string>> readLegacyChecksums(const std::filesystem::path& directory,
                                                                                const sdk::SqlDialect& dialect) {
    std::map<std::int64_t, std::pair<std::string, std::string>> result;
    const std::filesystem::path path = directory / kLegacyChecksumsFile;
    if (!std::filesystem::is_regular_file(path)) return result;
    if (std::filesystem::file_size(path) > kLegacyChecksumsMaxBytes)
        throw MigrationError(path.string() + ":1:1: larger than " + std::to_string(kLegacyChecksumsMaxBytes) + " bytes");
    std::istringstream lines(readFile(path));
    std::string line;
    static const std::regex entry(R"(^(\d{1,18}) +(sqlite|postgresql) +(\S+) +(\S+) *$)");
    for (int number = 1; std::getline(lines, line); ++number) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto first = line.find_first_not_of(' ');
        if (first == std::string::npos || line[first] == '#') continue;
        std::smatch match;
        const std::string where = path.string() + ":" + std::to_string(number) + ":";
        if (!std::regex_match(line, match, entry))
            throw MigrationError(where + "1: expected 'VERSION DIALECT FORMER_SHA256 CURRENT_SHA256' (DIALECT sqlite or postgresql)");
        for (int field : {3, 4})
            if (!isSha256Hex(match[field].str()))
                throw MigrationError(where + std::to_string(match.position(field) + 1) + ": not a SHA-256 in lowercase hex");
        if (match[2].str() != dialect.name()) continue;
        if (!result.emplace(std::stoll(match[1].str()), std::make_pair(match[3].str(), match[4].str())).second)
            throw MigrationError(where + "1: version " + match[1].str() + " is listed twice for " + dialect.name());
    }
    return result;
}

}  // namespace

Migrator::Migrator(sdk::Database& database, std::vector<MigrationSource> sources)
    : database_(database), sources_(std::move(sources)) {}

std::string Migrator::render(const std::filesystem::path& path, const sdk::SqlDialect& dialect) {
    try {
        return renderSqlScript(readFile(path), dialect, path.string());
    } catch (const SqlScriptError& error) {
        throw MigrationError(error.what());
    }
}

std::vector<MigrationFile> Migrator::discover(const MigrationSource& source, const sdk::SqlDialect& dialect) {
    std::vector<MigrationFile> files;
    if (!std::filesystem::is_directory(source.directory)) return files;
    static const std::regex pattern(R"(^(\d+)_([A-Za-z0-9_]+?)(\.(sqlite|postgresql))?\.sql$)");
    const std::string& wanted = dialect.name();
    std::map<std::int64_t, MigrationFile> byVersion;
    for (const auto& entry : std::filesystem::directory_iterator(source.directory)) {
        const std::string filename = entry.path().filename().string();
        if (entry.path().extension() != ".sql") continue;
        std::smatch match;
        if (!std::regex_match(filename, match, pattern))
            throw MigrationError(entry.path().string() + ":1: migration file names are NNNN_name.sql, NNNN_name.sqlite.sql or NNNN_name.postgresql.sql");
        const std::string fileDialect = match[4].str();
        if (!fileDialect.empty() && fileDialect != wanted) continue;
        MigrationFile file{source.owner, std::stoll(match[1].str()), match[2].str(), entry.path(), "", ""};
        auto [it, inserted] = byVersion.emplace(file.version, file);
        if (!inserted)
            throw MigrationError(entry.path().string() + ":1: version " + match[1].str() + " of '" + source.owner +
                                 "' is also used by " + it->second.path.filename().string());
    }
    const auto legacy = readLegacyChecksums(source.directory, dialect);
    for (auto& [version, file] : byVersion) {
        file.checksum = sdk::sha256Hex(render(file.path, dialect));
        // Paired only while the file is still the one the list was written for.
        if (auto it = legacy.find(version); it != legacy.end() && it->second.second == file.checksum)
            file.formerChecksum = it->second.first;
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

std::vector<MigrationStatus> Migrator::classify(const std::vector<MigrationSource>& sources, const sdk::SqlDialect& dialect,
                                                const std::vector<AppliedMigration>& rows) {
    std::map<std::pair<std::string, std::int64_t>, const AppliedMigration*> applied;
    for (const AppliedMigration& row : rows) applied[{row.owner, row.version}] = &row;
    std::vector<MigrationStatus> result;
    for (const MigrationSource& source : sources) {
        for (MigrationFile& file : discover(source, dialect)) {
            MigrationStatus status{file, MigrationStatus::State::Pending, 0, false};
            auto it = applied.find({file.owner, file.version});
            if (it != applied.end()) {
                status.appliedAt = it->second->appliedAt;
                const std::string& stored = it->second->checksum;
                status.recordedUnderFormerChecksum = stored != file.checksum && !file.formerChecksum.empty() && stored == file.formerChecksum;
                status.state = stored == file.checksum || status.recordedUnderFormerChecksum ? MigrationStatus::State::Applied
                                                                                              : MigrationStatus::State::Edited;
                applied.erase(it);
            }
            result.push_back(status);
        }
    }
    for (const auto& [key, row] : applied) {
        MigrationStatus missing;
        missing.file = {key.first, key.second, row->name, {}, row->checksum};
        missing.state = MigrationStatus::State::Missing;
        missing.appliedAt = row->appliedAt;
        result.push_back(missing);
    }
    return result;
}

std::vector<MigrationStatus> Migrator::status() {
    Poco::Data::Session session = database_.session();
    ensureTable(session);
    std::vector<AppliedMigration> applied;
    Poco::Data::Statement select(session);
    select << "SELECT owner, version, name, checksum, applied_at FROM schema_migrations";
    select.execute();
    Poco::Data::RecordSet rows(select);
    for (std::size_t i = 0; i < rows.rowCount(); ++i) {
        applied.push_back({rows.value(0, i).convert<std::string>(), rows.value(1, i).convert<std::int64_t>(),
                           rows.value(2, i).convert<std::string>(), rows.value(3, i).convert<std::string>(),
                           rows.value(4, i).convert<std::int64_t>()});
    }
    return classify(sources_, database_.sql(), applied);
}

std::size_t Migrator::pendingCount() {
    const auto all = status();
    return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [](const MigrationStatus& s) {
        return s.state == MigrationStatus::State::Pending || s.state == MigrationStatus::State::Edited;
    }));
}

std::vector<MigrationFile> Migrator::migrate() {
    Poco::Data::Session lockSession = database_.session();
    const sdk::SqlDialect& dialect = database_.sql();
    if (const std::string lock = dialect.lockAcrossHosts(kMigrateLockKey); !lock.empty()) lockSession << lock, now;
    struct Unlock {
        Poco::Data::Session& session;
        std::string statement;
        ~Unlock() {
            if (statement.empty()) return;
            try {
                session << statement, now;
            } catch (...) {
            }
        }
    } unlock{lockSession, dialect.unlockAcrossHosts(kMigrateLockKey)};

    const auto all = status();
    for (const MigrationStatus& s : all) {
        if (s.state == MigrationStatus::State::Edited)
            throw MigrationError(s.file.path.string() + ":1: migration " + s.file.owner + "/" + std::to_string(s.file.version) +
                                 " was edited after it was applied (checksum differs); add a new migration instead");
    }
    // Databases migrated with the former twin files: their checksums are upgraded once, together.
    if (std::any_of(all.begin(), all.end(), [](const MigrationStatus& s) { return s.recordedUnderFormerChecksum; })) {
        Poco::Data::Session session = database_.session();
        sdk::Transaction transaction(database_, session);
        for (const MigrationStatus& s : all) {
            if (!s.recordedUnderFormerChecksum) continue;
            std::string checksum = s.file.checksum, former = s.file.formerChecksum, owner = s.file.owner;
            std::int64_t version = s.file.version;
            session << "UPDATE schema_migrations SET checksum = $1 WHERE owner = $2 AND version = $3 AND checksum = $4",
                use(checksum), use(owner), use(version), use(former), now;
        }
        transaction.commit();
    }
    std::vector<MigrationFile> applied;
    for (const MigrationStatus& s : all) {
        if (s.state != MigrationStatus::State::Pending) continue;
        const std::string script = render(s.file.path, dialect);
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
