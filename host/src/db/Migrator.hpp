#pragma once
// Schema migrations: ordered SQL files per owner (the host's shared schema, then each plugin's
// private tables), each applied in its own transaction and recorded with a checksum.
//
// One file per change: `NNNN_name.sql`, written once for both engines with dialect tokens
// (`{{ID_PRIMARY_KEY}}`, `{{NOW_MS}}`, `{{BLOB}}`, see SqlScript.hpp) that are filled in for the
// database at hand. `NNNN_name.sqlite.sql` / `NNNN_name.postgresql.sql` remain possible for a change
// that really differs between the engines. The checksum recorded in schema_migrations is the
// SHA-256 of the rendered text (the file as that engine runs it); a file without tokens renders to
// itself, so its checksum is that of its bytes.
//
// Databases migrated before the tokens: they hold the checksum of the former twin file
// (`0001_core.sqlite.sql`, ...). The folder's `legacy-checksums.txt` lists, per version and
// dialect, that former checksum and the checksum of the current file rendered for that dialect:
//     # VERSION DIALECT FORMER_SHA256 CURRENT_SHA256
//     0001 sqlite 3f9a... 81c2...
// An applied migration whose stored checksum is the listed former one, while the file still
// renders to the listed current one, counts as applied (not edited), and `migrate` records the
// current checksum once. Any other difference, including an edit of the file after the list was
// written, is an edit and refused as before. The list never changes after a release.
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
    std::string checksum;  // SHA-256 of the file rendered for the dialect, hex
    // The checksum of the former twin file that legacy-checksums.txt pairs with `checksum` ("" if none).
    std::string formerChecksum;
};

// A row of schema_migrations: what a database says it has applied.
struct AppliedMigration {
    std::string owner;
    std::int64_t version = 0;
    std::string name;
    std::string checksum;
    std::int64_t appliedAt = 0;
};

struct MigrationStatus {
    MigrationFile file;
    enum class State { Applied, Pending, Edited, Missing } state = State::Pending;
    std::int64_t appliedAt = 0;
    // Applied, recorded under formerChecksum: migrate() records the current checksum.
    bool recordedUnderFormerChecksum = false;
};

class Migrator {
public:
    Migrator(sdk::Database& database, std::vector<MigrationSource> sources);

    // Every migration known from files or from schema_migrations, in apply order. Reads only.
    std::vector<MigrationStatus> status();
    // Applies the pending ones; refuses to do anything when an applied file was edited.
    // Returns the migrations applied by this call.
    std::vector<MigrationFile> migrate();
    std::size_t pendingCount();

    // The one comparison of a database's applied rows with the installed files (status() and
    // `restore` use it): each file is Applied (its checksum, or the former one legacy-checksums.txt
    // pairs with it), Edited, or Pending; each row without a file is Missing. In apply order.
    static std::vector<MigrationStatus> classify(const std::vector<MigrationSource>& sources, const sdk::SqlDialect& dialect,
                                                 const std::vector<AppliedMigration>& applied);

    // The files of one source for a dialect, validated (duplicate versions, bad names, unknown
    // tokens, a malformed legacy-checksums.txt).
    static std::vector<MigrationFile> discover(const MigrationSource& source, const sdk::SqlDialect& dialect);
    // A migration file as `dialect` runs it (tokens filled in).
    static std::string render(const std::filesystem::path& path, const sdk::SqlDialect& dialect);

private:
    void ensureTable(Poco::Data::Session& session);

    sdk::Database& database_;
    std::vector<MigrationSource> sources_;
};

}  // namespace tawasul::host
