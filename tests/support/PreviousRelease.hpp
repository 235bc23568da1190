#pragma once
// The migrations of the previous release (0.1, twin files per dialect, copied from git into
// tests/fixtures/migrations-0.1/) and the current ones, host first then the plugins that have
// migrations: a database migrated with the former must pass the latter unchanged.
#include <string>
#include <vector>

#include "db/Migrator.hpp"

namespace tawasul::test {

inline const std::vector<std::string> kPluginsWithMigrations = {"admin_inbox", "contact_matcher", "outbox"};

inline std::vector<host::MigrationSource> previousReleaseMigrations() {
    std::vector<host::MigrationSource> sources{{"host", TAWASUL_SOURCE_DIR "/tests/fixtures/migrations-0.1/host"}};
    for (const std::string& plugin : kPluginsWithMigrations)
        sources.push_back({plugin, TAWASUL_SOURCE_DIR "/tests/fixtures/migrations-0.1/" + plugin});
    return sources;
}

inline std::vector<host::MigrationSource> currentMigrations() {
    std::vector<host::MigrationSource> sources{{"host", TAWASUL_SOURCE_DIR "/migrations"}};
    for (const std::string& plugin : kPluginsWithMigrations)
        sources.push_back({plugin, TAWASUL_SOURCE_DIR "/plugins/" + plugin + "/migrations"});
    return sources;
}

}  // namespace tawasul::test
