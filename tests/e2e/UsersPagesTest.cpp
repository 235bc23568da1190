// The users page over HTTP on SQLite (issue #15): tests/support/UsersPageChecks.cpp, which
// AdminPagesPostgresTest runs on PostgreSQL.
#include <cppunit/extensions/HelperMacros.h>

#include "HostProcess.hpp"
#include "UsersPageChecks.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;

class UsersPagesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(UsersPagesTest);
    CPPUNIT_TEST(usersPageOnSqlite);
    CPPUNIT_TEST_SUITE_END();

public:
    void usersPageOnSqlite() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        checkUsersPage(host, *db);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(UsersPagesTest);
