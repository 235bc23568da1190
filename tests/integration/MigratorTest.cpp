// Migrations on a real SQLite file: applied once, idempotent, atomic, and edited files refused; a
// database migrated with the previous release's twin files passes the current files unchanged.
#include <cppunit/extensions/HelperMacros.h>

#include <filesystem>
#include <set>

#include <Poco/Data/Session.h>

#include "db/Migrator.hpp"
#include "db/SqlDatabase.hpp"
#include "EventQueueMigrationCheck.hpp"
#include "PreviousRelease.hpp"
#include "TestSupport.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace Poco::Data::Keywords;
using tawasul::test::TempDir;

namespace {

std::unique_ptr<host::SqlDatabase> sqlite(const TempDir& dir) {
    host::DatabaseOptions options;
    options.url = "sqlite:" + dir.file("db.sqlite");
    return std::make_unique<host::SqlDatabase>(options);
}

int countRows(sdk::Database& db, const std::string& sql) {
    Poco::Data::Session session = db.session();
    int count = 0;
    session << sql, into(count), now;
    return count;
}

std::string migrationError(host::Migrator& migrator) {
    try {
        migrator.migrate();
    } catch (const host::MigrationError& error) {
        return error.what();
    }
    return "no error";
}

// The schema as SQLite keeps it: every table and index with the SQL text that created it.
std::string sqliteSchema(sdk::Database& db) {
    return test::queryRows(db, "SELECT type, name, tbl_name, sql FROM sqlite_master "
                               "WHERE name <> 'schema_migrations' AND name NOT LIKE 'sqlite_autoindex_schema_migrations%' ORDER BY type, name");
}

std::string stateOf(const host::MigrationStatus& s) {
    static const char* names[] = {"applied", "pending", "edited", "missing"};
    return s.file.owner + "/" + std::to_string(s.file.version) + " " + names[static_cast<int>(s.state)] +
           (s.recordedUnderFormerChecksum ? " (former checksum)" : "");
}

}  // namespace

class MigratorTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MigratorTest);
    CPPUNIT_TEST(appliesSharedAndPluginMigrationsOnce);
    CPPUNIT_TEST(refusesEditedAppliedMigration);
    CPPUNIT_TEST(failedMigrationLeavesNothingBehind);
    CPPUNIT_TEST(refusesBadFileNamesAndDuplicateVersions);
    CPPUNIT_TEST(choosesTheDialectVariant);
    CPPUNIT_TEST(sharedSchemaHasTheNamesOtherToolsRelyOn);
    CPPUNIT_TEST(aDatabaseOfThePreviousReleasePassesUnchanged);
    CPPUNIT_TEST(anEditIsRefusedBeforeAndAfterTheChecksumUpgrade);
    CPPUNIT_TEST(badTokensAndLegacyListsNameFileLineColumn);
    CPPUNIT_TEST(theEventQueueMigrationTurnsPendingProcessJobsIntoPendingEvents);
    CPPUNIT_TEST_SUITE_END();

public:
    void appliesSharedAndPluginMigrationsOnce() {
        TempDir dir;
        auto db = sqlite(dir);
        host::Migrator migrator(*db, {{"host", TAWASUL_SOURCE_DIR "/migrations"}, {"good", TAWASUL_TEST_PLUGIN_DIR "/good/migrations"}});
        const auto applied = migrator.migrate();
        const std::size_t hostFiles = host::Migrator::discover({"host", TAWASUL_SOURCE_DIR "/migrations"}, sdk::SqlDialect::sqlite()).size();
        CPPUNIT_ASSERT(hostFiles >= 5);
        CPPUNIT_ASSERT_EQUAL(hostFiles + 1, applied.size());
        CPPUNIT_ASSERT_EQUAL(std::string("good"), applied.back().owner);
        CPPUNIT_ASSERT_EQUAL(0, countRows(*db, "SELECT COUNT(*) FROM good_items"));
        CPPUNIT_ASSERT(migrator.migrate().empty());  // a second run does nothing
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), migrator.pendingCount());
        CPPUNIT_ASSERT_EQUAL(static_cast<int>(hostFiles + 1), countRows(*db, "SELECT COUNT(*) FROM schema_migrations"));
        for (const auto& status : migrator.status())
            CPPUNIT_ASSERT(status.state == host::MigrationStatus::State::Applied);
    }

    void refusesEditedAppliedMigration() {
        TempDir dir;
        auto db = sqlite(dir);
        test::writeFile(dir.file("m/0001_first.sql"), "CREATE TABLE first (id INTEGER PRIMARY KEY);\n");
        host::Migrator migrator(*db, {{"host", dir.file("m")}});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), migrator.migrate().size());
        test::writeFile(dir.file("m/0001_first.sql"), "CREATE TABLE first (id INTEGER PRIMARY KEY, extra TEXT);\n");
        test::writeFile(dir.file("m/0002_second.sql"), "CREATE TABLE second (id INTEGER PRIMARY KEY);\n");
        const std::string error = migrationError(migrator);
        CPPUNIT_ASSERT_EQUAL(dir.file("m/0001_first.sql") +
                                 ":1: migration host/1 was edited after it was applied (checksum differs); add a new migration instead",
                             error);
        // Nothing else was applied while an edit was pending.
        CPPUNIT_ASSERT_EQUAL(0, countRows(*db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'second'"));
        CPPUNIT_ASSERT(migrator.status().front().state == host::MigrationStatus::State::Edited);
    }

    void failedMigrationLeavesNothingBehind() {
        TempDir dir;
        auto db = sqlite(dir);
        test::writeFile(dir.file("m/0001_ok.sql"), "CREATE TABLE ok (id INTEGER PRIMARY KEY);\n");
        test::writeFile(dir.file("m/0002_broken.sql"),
                        "CREATE TABLE half (id INTEGER PRIMARY KEY);\n"
                        "INSERT INTO half (id) VALUES (1);\n"
                        "-- the next statement is wrong\n"
                        "CREATE TABLEX nope (id INTEGER);\n");
        host::Migrator migrator(*db, {{"host", dir.file("m")}});
        const std::string error = migrationError(migrator);
        CPPUNIT_ASSERT_MESSAGE(error, error.rfind(dir.file("m/0002_broken.sql") + ":4: ", 0) == 0);
        CPPUNIT_ASSERT_EQUAL(1, countRows(*db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'ok'"));
        CPPUNIT_ASSERT_EQUAL(0, countRows(*db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'"));
        CPPUNIT_ASSERT_EQUAL(1, countRows(*db, "SELECT COUNT(*) FROM schema_migrations"));
        // Fixed, it applies.
        test::writeFile(dir.file("m/0002_broken.sql"), "CREATE TABLE half (id INTEGER PRIMARY KEY);\n");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), migrator.migrate().size());
    }

    void refusesBadFileNamesAndDuplicateVersions() {
        TempDir dir;
        auto db = sqlite(dir);
        test::writeFile(dir.file("bad/first.sql"), "SELECT 1;\n");
        host::Migrator badName(*db, {{"host", dir.file("bad")}});
        CPPUNIT_ASSERT_EQUAL(dir.file("bad/first.sql") + ":1: migration file names are NNNN_name.sql, NNNN_name.sqlite.sql or NNNN_name.postgresql.sql",
                             migrationError(badName));
        test::writeFile(dir.file("dup/0001_a.sql"), "SELECT 1;\n");
        test::writeFile(dir.file("dup/0001_b.sqlite.sql"), "SELECT 1;\n");
        host::Migrator duplicate(*db, {{"host", dir.file("dup")}});
        const std::string error = migrationError(duplicate);
        CPPUNIT_ASSERT_MESSAGE(error, error.find(":1: version 0001 of 'host' is also used by ") != std::string::npos);
    }

    void choosesTheDialectVariant() {
        TempDir dir;
        test::writeFile(dir.file("m/0001_x.sqlite.sql"), "SELECT 1;\n");
        test::writeFile(dir.file("m/0001_x.postgresql.sql"), "SELECT 2;\n");
        test::writeFile(dir.file("m/0002_y.sql"), "SELECT 3;\n");
        const auto lite = host::Migrator::discover({"host", dir.file("m")}, sdk::SqlDialect::sqlite());
        const auto pg = host::Migrator::discover({"host", dir.file("m")}, sdk::SqlDialect::postgresql());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), lite.size());
        CPPUNIT_ASSERT_EQUAL(std::string("0001_x.sqlite.sql"), lite[0].path.filename().string());
        CPPUNIT_ASSERT_EQUAL(std::string("0001_x.postgresql.sql"), pg[0].path.filename().string());
        CPPUNIT_ASSERT_EQUAL(std::string("0002_y.sql"), pg[1].path.filename().string());
    }

    void sharedSchemaHasTheNamesOtherToolsRelyOn() {
        TempDir dir;
        auto db = sqlite(dir);
        host::Migrator migrator(*db, {{"host", TAWASUL_SOURCE_DIR "/migrations"}});
        migrator.migrate();
        Poco::Data::Session session = db->session();
        // Selecting the named columns fails loudly if one is missing or misspelt.
        const char* const queries[] = {
            "SELECT key, value, encrypted, updated_at FROM site_settings",
            "SELECT id, received_at, signature, payload, status, attempts, last_error, processed_at FROM whatsapp_webhook_events",
            "SELECT id, wa_id, user_id, phone_e164, profile_name, matched_type, matched_id FROM whatsapp_contacts",
            "SELECT id, contact_id, status, assigned_user_id, b2b_lead_id, intent, last_inbound_at, last_message_at, unread_count FROM whatsapp_conversations",
            "SELECT id, conversation_id, direction, wa_message_id, type, body, payload, status, error_code, provider, created_at FROM whatsapp_messages",
            "SELECT id, organization_id, contact_name, phone, source, status, notes, created_at FROM b2b_leads",
            "SELECT id FROM organizations", "SELECT id FROM registrations", "SELECT id FROM enrollments", "SELECT id FROM users",
            "SELECT id, type, payload, status, attempts, max_attempts, run_at, locked_by, locked_until, last_error FROM jobs",
        };
        for (const char* sql : queries) session << sql, now;
        CPPUNIT_ASSERT_EQUAL(3, countRows(*db, "SELECT COUNT(*) FROM roles WHERE name IN ('admin', 'agent', 'viewer')"));
        // DESIGN.md's nine, and whatsapp.replies.manage (migration 0018, the canned replies page).
        CPPUNIT_ASSERT_EQUAL(10, countRows(*db, "SELECT COUNT(*) FROM permissions WHERE name LIKE 'whatsapp.%'"));
        CPPUNIT_ASSERT_EQUAL(std::string("admin,agent"),
                             test::queryText(*db, "SELECT GROUP_CONCAT(r.name, ',') FROM (SELECT r.name FROM roles r JOIN role_permissions rp ON rp.role_id = r.id "
                                            "JOIN permissions p ON p.id = rp.permission_id WHERE p.name = 'whatsapp.replies.manage' ORDER BY r.name) r"));
    }

    // Migration 0019: an upgrade with process_webhook_event jobs queued loses none of them
    // (EventQueueMigrationCheck says how).
    void theEventQueueMigrationTurnsPendingProcessJobsIntoPendingEvents() {
        TempDir dir;
        auto db = sqlite(dir);
        test::checkTheEventQueueMigration(*db, "X'7B7D'");
    }

    void aDatabaseOfThePreviousReleasePassesUnchanged() {
        TempDir dir;
        auto db = sqlite(dir);
        CPPUNIT_ASSERT(host::Migrator(*db, test::previousReleaseMigrations()).migrate().size() >= 13);
        const std::string before = sqliteSchema(*db);

        // What 0.1 had is applied (under its former checksum where the file was a twin); what came
        // after 0.1 is pending, and migrate runs exactly that.
        std::set<std::pair<std::string, std::int64_t>> released;
        for (const auto& source : test::previousReleaseMigrations())
            for (const auto& file : host::Migrator::discover(source, sdk::SqlDialect::sqlite())) released.insert({file.owner, file.version});
        host::Migrator migrator(*db, test::currentMigrations());
        int former = 0;
        std::size_t newer = 0;
        for (const auto& s : migrator.status()) {
            const bool old = released.count({s.file.owner, s.file.version}) > 0;
            CPPUNIT_ASSERT_MESSAGE(stateOf(s), s.state == (old ? host::MigrationStatus::State::Applied : host::MigrationStatus::State::Pending));
            former += s.recordedUnderFormerChecksum;
            newer += old ? 0 : 1;
        }
        CPPUNIT_ASSERT(former >= 10);  // every former twin but the ones whose SQLite text did not change
        CPPUNIT_ASSERT_EQUAL(newer, migrator.pendingCount());
        CPPUNIT_ASSERT_EQUAL(newer, migrator.migrate().size());
        CPPUNIT_ASSERT(migrator.migrate().empty());
        // The current checksums are recorded now; nothing is left to upgrade.
        for (const auto& s : migrator.status())
            CPPUNIT_ASSERT_MESSAGE(stateOf(s), s.state == host::MigrationStatus::State::Applied && !s.recordedUnderFormerChecksum);
        for (const auto& source : test::currentMigrations())
            for (const auto& file : host::Migrator::discover(source, sdk::SqlDialect::sqlite()))
                CPPUNIT_ASSERT_EQUAL(file.checksum, test::queryText(*db, "SELECT checksum FROM schema_migrations WHERE owner = '" + file.owner +
                                                                             "' AND version = " + std::to_string(file.version)));
        if (newer == 0) CPPUNIT_ASSERT_EQUAL(before, sqliteSchema(*db));  // the upgrade itself runs no SQL

        // A new database gets the very same schema, SQL text and all, from the current files.
        TempDir freshDir;
        auto fresh = sqlite(freshDir);
        host::Migrator(*fresh, test::currentMigrations()).migrate();
        CPPUNIT_ASSERT_EQUAL(sqliteSchema(*db), sqliteSchema(*fresh));
    }

    void anEditIsRefusedBeforeAndAfterTheChecksumUpgrade() {
        TempDir dir;
        auto db = sqlite(dir);
        host::Migrator(*db, test::previousReleaseMigrations()).migrate();
        std::filesystem::copy(TAWASUL_SOURCE_DIR "/migrations", dir.file("m"));
        const std::string file = dir.file("m/0004_whatsapp.sql"), original = test::readFile(file);
        host::Migrator migrator(*db, {{"host", dir.file("m")}});
        const std::string refused = file + ":1: migration host/4 was edited after it was applied (checksum differs); add a new migration instead";

        // Still under the former checksum: the legacy list pairs it with the unedited file only.
        test::writeFile(file, original + "CREATE TABLE extra (id {{ID_PRIMARY_KEY}});\n");
        CPPUNIT_ASSERT_EQUAL(refused, migrationError(migrator));
        CPPUNIT_ASSERT_EQUAL(0, countRows(*db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'extra'"));

        test::writeFile(file, original);
        migrator.migrate();  // records the current checksums (and runs what came after 0.1)
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), migrator.pendingCount());
        test::writeFile(file, original + "-- a comment is an edit too\n");
        CPPUNIT_ASSERT_EQUAL(refused, migrationError(migrator));
        CPPUNIT_ASSERT(migrator.status()[3].state == host::MigrationStatus::State::Edited);
    }

    void badTokensAndLegacyListsNameFileLineColumn() {
        TempDir dir;
        auto db = sqlite(dir);
        test::writeFile(dir.file("m/0001_a.sql"), "-- {{comments are not read}}\nCREATE TABLE a (id {{ID}});\n");
        host::Migrator tokens(*db, {{"host", dir.file("m")}});
        CPPUNIT_ASSERT_EQUAL(dir.file("m/0001_a.sql") + ":2:20: unknown dialect token {{ID}}; the tokens are {{ID_PRIMARY_KEY}}, {{NOW_MS}}, {{BLOB}}",
                             migrationError(tokens));

        test::writeFile(dir.file("l/0001_a.sql"), "CREATE TABLE a (id {{ID_PRIMARY_KEY}});\n");
        test::writeFile(dir.file("l/legacy-checksums.txt"), "# VERSION DIALECT FORMER CURRENT\n0001 sqlite abc " + std::string(64, 'f') + "\n");
        host::Migrator legacy(*db, {{"host", dir.file("l")}});
        CPPUNIT_ASSERT_EQUAL(dir.file("l/legacy-checksums.txt") + ":2:13: not a SHA-256 in lowercase hex", migrationError(legacy));
        test::writeFile(dir.file("l/legacy-checksums.txt"), "0001 mysql " + std::string(64, 'f') + " " + std::string(64, 'f') + "\n");
        CPPUNIT_ASSERT_EQUAL(dir.file("l/legacy-checksums.txt") +
                                 ":1:1: expected 'VERSION DIALECT FORMER_SHA256 CURRENT_SHA256' (DIALECT sqlite or postgresql)",
                             migrationError(legacy));
        CPPUNIT_ASSERT_EQUAL(0, countRows(*db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'a'"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MigratorTest);
