// The host's files are its user's alone: the SQLite database with its -wal and -shm and the master
// key are 0600, in folders the host creates 0700, after `migrate` and while serving; a database an
// older version left 0644 is narrowed by `migrate` (the upgrade step), not by every command that
// opens it.
#include <cppunit/extensions/HelperMacros.h>

#include <sys/stat.h>

#include <cstdio>

#include "HostProcess.hpp"
#include "TestSupport.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;

namespace {

// The permission bits of `path` as octal text ("600"), or "missing".
std::string mode(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return "missing";
    char text[8];
    std::snprintf(text, sizeof text, "%o", static_cast<unsigned>(info.st_mode & 07777));
    return text;
}

}  // namespace

class PrivateFilesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PrivateFilesTest);
    CPPUNIT_TEST(databaseWalShmAndKeyAreOwnerOnlyInOwnerOnlyFolders);
    CPPUNIT_TEST_SUITE_END();

public:
    void databaseWalShmAndKeyAreOwnerOnlyInOwnerOnlyFolders() {
        TempDir files;
        const std::string folder = files.file("var/data");
        const std::string database = folder + "/tawasul.db";
        HostOptions options = withWebhookSecrets();
        options.databaseUrl = "sqlite:" + database;
        HostProcess host(options);
        host.start();  // migrate (creates the database and the key), settings set, serve
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, fixture(fixtureNames().front())).status);

        CPPUNIT_ASSERT_EQUAL(std::string("700"), mode(files.file("var")));
        CPPUNIT_ASSERT_EQUAL(std::string("700"), mode(folder));
        CPPUNIT_ASSERT_EQUAL(std::string("600"), mode(database));
        CPPUNIT_ASSERT_EQUAL(std::string("600"), mode(database + "-wal"));
        CPPUNIT_ASSERT_EQUAL(std::string("600"), mode(database + "-shm"));
        CPPUNIT_ASSERT_EQUAL(std::string("600"), mode(host.dir().file("master.key")));
        CPPUNIT_ASSERT_EQUAL(0, host.stop());

        // A database left readable by others (an older version, a copy): commands that only open it
        // leave its mode alone, `migrate` narrows it.
        CPPUNIT_ASSERT_EQUAL(0, ::chmod(database.c_str(), 0644));
        const auto listed = host.cli({"events", "list"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(listed.second, 0, listed.first);
        CPPUNIT_ASSERT_EQUAL(std::string("644"), mode(database));
        const auto [status, output] = host.cli({"migrate"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
        CPPUNIT_ASSERT_EQUAL(std::string("600"), mode(database));
        for (const char* suffix : {"-wal", "-shm"}) {
            const std::string left = mode(database + suffix);
            CPPUNIT_ASSERT_MESSAGE(suffix + (": " + left), left == "600" || left == "missing");
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PrivateFilesTest);
