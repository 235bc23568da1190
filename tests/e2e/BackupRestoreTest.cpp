// `tawasul backup` while webhooks arrive, `tawasul restore` of that copy, and every misuse of both.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <sys/stat.h>

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>

#include "Assertions.hpp"
#include "HostProcess.hpp"
#include "PreviousRelease.hpp"
#include "TestSupport.hpp"
#include "WebhookSupport.hpp"
#include "db/DatabaseLock.hpp"
#include "whatsapp/MetaPayloads.hpp"

using namespace tawasul::test;
using namespace Poco::Data::Keywords;
namespace fs = std::filesystem;

namespace {

constexpr int kWebhooks = 1000;

void assertOneLine(const std::pair<int, std::string>& result, int status, const std::string& part) {
    CPPUNIT_ASSERT_EQUAL_MESSAGE(result.second, status, result.first);
    assertContains(result.second, part);
    CPPUNIT_ASSERT_MESSAGE(result.second, result.second.find('\n') == result.second.size() - 1);
}

std::string storedPayload(tawasul::sdk::Database& db, std::int64_t id) {
    Poco::Data::Session session = db.session();
    Poco::Data::BLOB payload;
    session << "SELECT payload FROM whatsapp_webhook_events WHERE id = $1", use(id), into(payload), now;
    return std::string(reinterpret_cast<const char*>(payload.rawContent()), payload.size());
}

}  // namespace

class BackupRestoreTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(BackupRestoreTest);
    CPPUNIT_TEST(backupWhileWebhooksArriveThenRestore);
    CPPUNIT_TEST(misuseExitsTwoWithOneLine);
    CPPUNIT_TEST(aBackupOfThePreviousReleaseRestores);
    CPPUNIT_TEST(restoreOntoAMachineWithoutADatabase);
    CPPUNIT_TEST(everyCommandThatOpensTheDatabaseHoldsItsLock);
    CPPUNIT_TEST_SUITE_END();

public:
    void backupWhileWebhooksArriveThenRestore() {
        HostProcess host(withWebhookSecrets());
        host.start();
        const std::string backup = host.dir().file("backup.db");

        // 1,000 signed webhooks from 8 clients; the backup starts once a third are acknowledged.
        std::mutex mutex;
        std::map<std::int64_t, std::string> acknowledged;
        std::atomic<int> next{0}, answered{0}, failed{0};
        std::vector<std::thread> clients;
        for (int c = 0; c < 8; ++c) {
            clients.emplace_back([&, c] {
                for (int i; (i = next++) < kWebhooks;) {
                    tawasul::host::InboundText message;
                    message.from = "21377" + std::to_string(1000000 + c);
                    message.name = "Client " + std::to_string(c);
                    message.wamid = "wamid.BACKUP" + std::to_string(i);
                    message.timestamp = 1764064860 + i;
                    message.text = "message " + std::to_string(i);
                    const std::string body = tawasul::host::inboundTextBody(message);
                    const HttpResult response = postSigned(host, body);
                    if (response.status != 200) {
                        ++failed;
                        continue;
                    }
                    std::lock_guard lock(mutex);
                    acknowledged[std::stoll(response.headers.at("x-tawasul-event-id"))] = body;
                    ++answered;
                }
            });
        }
        while (answered < kWebhooks / 3 && failed == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        std::map<std::int64_t, std::string> beforeBackup;
        {
            std::lock_guard lock(mutex);
            beforeBackup = acknowledged;
        }
        const auto [status, output] = host.cli({"backup", backup});
        const int answeredAfterBackup = answered;
        for (auto& client : clients) client.join();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
        CPPUNIT_ASSERT_EQUAL(0, failed.load());
        CPPUNIT_ASSERT_EQUAL(kWebhooks, answered.load());
        assertContains(output, "master key");
        // The copy was taken while the clients still posted (else it proves nothing about load).
        CPPUNIT_ASSERT_MESSAGE(std::to_string(answeredAfterBackup), answeredAfterBackup < kWebhooks);

        struct stat info {};
        CPPUNIT_ASSERT_EQUAL(0, ::stat(backup.c_str(), &info));
        CPPUNIT_ASSERT_EQUAL(0600, static_cast<int>(info.st_mode & 0777));
        auto copy = openDatabase("sqlite:" + backup);
        CPPUNIT_ASSERT_EQUAL(std::string("ok"), queryText(*copy, "PRAGMA integrity_check"));
        for (const auto& [id, body] : beforeBackup)
            CPPUNIT_ASSERT_MESSAGE("event " + std::to_string(id) + " acknowledged before the backup", storedPayload(*copy, id) == body);
        const std::string inBackup = queryText(*copy, "SELECT COUNT(*) FROM whatsapp_webhook_events");
        CPPUNIT_ASSERT(std::stoi(inBackup) >= static_cast<int>(beforeBackup.size()));
        copy.reset();
        // Opening it above may have put it back in WAL mode; restore must cope with that too.

        // A serving host holds the database: restore refuses.
        assertOneLine(host.cli({"restore", backup}), 2, "is in use by a host or another tawasul command");
        CPPUNIT_ASSERT_EQUAL(0, host.stop());

        const auto [restored, restoreOutput] = host.cli({"restore", backup});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(restoreOutput, 0, restored);
        assertContains(restoreOutput, "kept as ");
        const std::string database = host.databaseUrl().substr(7);
        bool kept = false;
        for (const auto& entry : fs::directory_iterator(host.dir().path()))
            if (entry.path().filename().string().rfind("tawasul.db.replaced-", 0) == 0) kept = true;
        CPPUNIT_ASSERT_MESSAGE(restoreOutput, kept);
        CPPUNIT_ASSERT(!fs::exists(database + "-wal") || fs::file_size(database + "-wal") == 0);

        host.start();
        CPPUNIT_ASSERT_EQUAL(200, host.request("GET", "/readyz").status);
        auto db = openDatabase(host.databaseUrl());
        CPPUNIT_ASSERT_EQUAL(inBackup, queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
        for (const auto& [id, body] : beforeBackup) CPPUNIT_ASSERT(storedPayload(*db, id) == body);
        // The restored host goes on taking webhooks.
        tawasul::host::InboundText after;
        after.from = "213770000001";
        after.name = "After";
        after.wamid = "wamid.AFTER";
        after.timestamp = 1764070000;
        after.text = "after restore";
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, tawasul::host::inboundTextBody(after)).status);
    }

    void aBackupOfThePreviousReleaseRestores() {
        HostProcess host(withWebhookSecrets());
        host.start();
        CPPUNIT_ASSERT_EQUAL(0, host.stop());
        // An installation of 0.1 (its twin migration files, their checksums), backed up before the upgrade.
        const TempDir& dir = host.dir();
        const std::string previous = dir.file("previous.db");
        tawasul::host::Migrator(*openDatabase("sqlite:" + previous), previousReleaseMigrations()).migrate();
        writeFile(dir.file("previous.yaml"), testConfigYaml(dir, TAWASUL_PLUGIN_DIR, "    - outbox: {}\n", "sqlite:" + previous));
        const std::string backup = dir.file("previous-backup.db");
        const auto backedUp = runCommand({TAWASUL_BINARY, "--config", dir.file("previous.yaml"), "backup", backup});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(backedUp.second, 0, backedUp.first);

        const auto [restored, output] = host.cli({"restore", backup});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, restored);
        const auto migrated = host.cli({"migrate"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(migrated.second, 0, migrated.first);
        const auto status = host.cli({"migrate", "--status"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(status.second, 0, status.first);
        assertLacks(status.second, "EDITED");
        assertLacks(status.second, "missing");
        host.start();
        CPPUNIT_ASSERT_EQUAL(200, host.request("GET", "/readyz").status);
    }

    void restoreOntoAMachineWithoutADatabase() {
        HostProcess host(withWebhookSecrets());
        host.start();
        const std::string backup = host.dir().file("backup.db");
        CPPUNIT_ASSERT_EQUAL(0, host.cli({"backup", backup}).first);
        CPPUNIT_ASSERT_EQUAL(0, host.stop());
        // Another machine: the same configuration (plugins included: a backup with another
        // plugin set's migrations is refused) but no database yet, not even its folder.
        const TempDir& dir = host.dir();
        const std::string folder = dir.file("fresh/var");
        std::string config = readFile(host.configPath());
        const std::string url = host.databaseUrl();
        CPPUNIT_ASSERT(config.find(url) != std::string::npos);
        config.replace(config.find(url), url.size(), "sqlite:" + folder + "/tawasul.db");
        writeFile(dir.file("fresh.yaml"), config);
        const auto [status, output] = runCommand({TAWASUL_BINARY, "--config", dir.file("fresh.yaml"), "restore", backup});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
        assertLacks(output, "kept as");
        CPPUNIT_ASSERT(fs::is_regular_file(folder + "/tawasul.db"));
        for (const auto& entry : fs::directory_iterator(folder))
            CPPUNIT_ASSERT_MESSAGE(entry.path().string(), entry.path().filename().string().find(".replaced-") == std::string::npos);
        auto db = openDatabase("sqlite:" + folder + "/tawasul.db");
        CPPUNIT_ASSERT_EQUAL(std::string("ok"), queryText(*db, "PRAGMA integrity_check"));
        CPPUNIT_ASSERT(std::stoi(queryText(*db, "SELECT COUNT(*) FROM schema_migrations")) > 0);
    }

    void everyCommandThatOpensTheDatabaseHoldsItsLock() {
        HostProcess host(withWebhookSecrets());
        host.start();
        const std::string backup = host.dir().file("backup.db");
        CPPUNIT_ASSERT_EQUAL(0, host.cli({"backup", backup}).first);
        CPPUNIT_ASSERT_EQUAL(0, host.stop());
        const std::string database = host.databaseUrl().substr(7);
        const std::vector<std::vector<std::string>> commands = {
            {"migrate"}, {"migrate", "--status"}, {"settings", "list"}, {"events", "list"},
            {"user", "list"}, {"role", "list"}, {"token", "list"}, {"plugins", "list"}};
        {
            // While the lock is held exclusively (as restore holds it), each of them refuses to open
            // the database: they take it, shared, before they open it.
            tawasul::host::DatabaseLock restoring(database, tawasul::host::DatabaseLock::Mode::Exclusive);
            CPPUNIT_ASSERT(restoring.held());
            for (const auto& command : commands) {
                const auto [status, output] = host.cli(command);
                CPPUNIT_ASSERT_EQUAL_MESSAGE(command[0] + ": " + output, 1, status);
                assertContains(output, "a restore is replacing " + database);
            }
            const auto doctor = host.cli({"doctor"});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(doctor.second, 1, doctor.first);
            assertContains(doctor.second, "a restore is replacing " + database);
        }
        for (const auto& command : commands) {
            const auto [status, output] = host.cli(command);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(command[0] + ": " + output, 0, status);
        }
        {
            // And while one holds it shared, restore refuses and replaces nothing.
            tawasul::host::DatabaseLock command(database, tawasul::host::DatabaseLock::Mode::Shared);
            CPPUNIT_ASSERT(command.held());
            assertOneLine(host.cli({"restore", backup}), 2, "is in use by a host or another tawasul command");
        }
        for (const auto& entry : fs::directory_iterator(host.dir().path()))
            CPPUNIT_ASSERT_MESSAGE(entry.path().string(), entry.path().filename().string().find(".replaced-") == std::string::npos);
        CPPUNIT_ASSERT_EQUAL(0, host.cli({"restore", backup}).first);
    }

    void misuseExitsTwoWithOneLine() {
        HostProcess host(withWebhookSecrets());
        host.start();
        const std::string backup = host.dir().file("one.db");
        CPPUNIT_ASSERT_EQUAL(0, host.cli({"backup", backup}).first);
        assertOneLine(host.cli({"backup", backup}), 2, "tawasul: backup: " + backup + " already exists");
        assertOneLine(host.cli({"backup", host.dir().file("no/such/dir/x.db")}), 2, "tawasul: backup: no folder");
        assertOneLine(host.cli({"backup"}), 2, "usage: tawasul backup FILE");
        assertOneLine(host.cli({"restore", "a", "b"}), 2, "usage: tawasul restore FILE");
        host.stop();

        assertOneLine(host.cli({"restore", host.dir().file("missing.db")}), 2, "tawasul: restore: no file");
        writeFile(host.dir().file("junk.db"), std::string(4096, 'x'));
        assertOneLine(host.cli({"restore", host.dir().file("junk.db")}), 2, "fails PRAGMA integrity_check");
        // A database whose schema this installation does not know.
        const std::string foreign = host.dir().file("foreign.db");
        {
            auto db = openDatabase("sqlite:" + foreign);
            Poco::Data::Session session = db->session();
            session << "CREATE TABLE schema_migrations (owner TEXT, version BIGINT, name TEXT, checksum TEXT, applied_at BIGINT)", now;
            session << "INSERT INTO schema_migrations VALUES ('host', 9999, 'future', 'x', 0)", now;
        }
        assertOneLine(host.cli({"restore", foreign}), 2, "has migration host/9999, which this installation does not have");
        const std::string plain = host.dir().file("plain.db");
        {
            auto db = openDatabase("sqlite:" + plain);
            Poco::Data::Session session = db->session();
            session << "CREATE TABLE t (x)", now;
        }
        assertOneLine(host.cli({"restore", plain}), 2, "is not a Tawasul database");
        // Nothing was replaced by the refused restores.
        for (const auto& entry : fs::directory_iterator(host.dir().path()))
            CPPUNIT_ASSERT_MESSAGE(entry.path().string(), entry.path().filename().string().find(".replaced-") == std::string::npos);

        // PostgreSQL: the pg_dump / pg_restore command, password masked.
        writeFile(host.dir().file("pg.yaml"),
                  testConfigYaml(host.dir(), TAWASUL_PLUGIN_DIR, "    - outbox: {}\n", "postgresql://tawasul:s3cret-pw@127.0.0.1:5432/tawasul"));
        const auto dump = runCommand({TAWASUL_BINARY, "--config", host.dir().file("pg.yaml"), "backup", "/tmp/x.dump"});
        assertOneLine(dump, 2, "pg_dump --format=custom --file='/tmp/x.dump' 'postgresql://tawasul:***@127.0.0.1:5432/tawasul'");
        assertLacks(dump.second, "s3cret-pw");
        const auto restore = runCommand({TAWASUL_BINARY, "--config", host.dir().file("pg.yaml"), "restore", "/tmp/x.dump"});
        assertOneLine(restore, 2, "pg_restore");
        assertLacks(restore.second, "s3cret-pw");
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(BackupRestoreTest);
