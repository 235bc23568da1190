// sdk::PreparedSession on SQLite (the checks are shared with PostgreSQL: PreparedSessionChecks).
#include <cppunit/extensions/HelperMacros.h>

#include "PreparedSessionChecks.hpp"
#include "TestSupport.hpp"
#include "db/SqlDatabase.hpp"

using namespace tawasul;

class PreparedSessionTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PreparedSessionTest);
    CPPUNIT_TEST(sqlite);
    CPPUNIT_TEST_SUITE_END();

public:
    void sqlite() {
        test::TempDir dir;
        host::DatabaseOptions options;
        options.url = "sqlite:" + dir.file("prepared.db");
        host::SqlDatabase database(options);
        test::checkPreparedSession(database);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PreparedSessionTest);
