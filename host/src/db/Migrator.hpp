#pragma once
// Schema migrations: ordered SQL files per owner (the host's shared schema, then each plugin's
// private tables), each applied in its own transaction and recorded with a checksum.
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "tawasul/sdk/Database.hpp"

namespace tawasul::host {

class MigrationError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct MigrationSource {
    std::string owner;               // "host" or the plugin's name
    std::filesystem::path directory; // may not exist: no migrations
};

struct MigrationFile {
    std::string owner;
    std::int64_t version = 0;
    std::string name;
    std::filesystem::path path;
    std::string checksum;  // SHA-256 of the file's bytes, hex
};

struct MigrationStatus {
    MigrationFile file;
    enum class State { Applied, Pending, Edited, Missing } state = State::Pending;
    std::int64_t appliedAt = 0;
};

class Migrator {
public:
    Migrator(sdk::Database& database, std::vector<MigrationSource> sources);

    // Every migration known from files or from schema_migrations, in apply order.
    std::vector<MigrationStatus> status();
    // Applies the pending ones; refuses to do anything when an applied file was edited.
    // Returns the migrations applied by this call.
    std::vector<MigrationFile> migrate();
    std::size_t pendingCount();

    // The files of one source for a dialect, validated (duplicate versions, bad names).
    static std::vector<MigrationFile> discover(const MigrationSource& source, sdk::Dialect dialect);

private:
    void ensureTable(Poco::Data::Session& session);

    sdk::Database& database_;
    std::vector<MigrationSource> sources_;
};

}  // namespace tawasul::host
