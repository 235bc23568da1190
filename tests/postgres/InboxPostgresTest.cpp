// The admin inbox's queries on a real PostgreSQL server: the same checks as on SQLite.
#include <cppunit/extensions/HelperMacros.h>

#include "InboxFixture.hpp"

using namespace tawasul;

class InboxPostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(InboxPostgresTest);
    CPPUNIT_TEST(filtersSearchPagesTimeline);
    CPPUNIT_TEST(leads);
    CPPUNIT_TEST_SUITE_END();

public:
    void filtersSearchPagesTimeline() {
        {
            test::TempDir dir;
            test::PostgresDatabase pg;
            test::InboxFixture f(dir, pg.url());
            test::checkInboxFilters(f);
        }
        {
            test::TempDir dir;
            test::PostgresDatabase pg;
            test::InboxFixture f(dir, pg.url());
            test::checkInboxSearch(f);
        }
        {
            test::TempDir dir;
            test::PostgresDatabase pg;
            test::InboxFixture f(dir, pg.url());
            test::checkKeysetPages(f);
        }
        {
            test::TempDir dir;
            test::PostgresDatabase pg;
            test::InboxFixture f(dir, pg.url());
            test::checkTimelineAndChanges(f);
        }
        {
            test::TempDir dir;
            test::PostgresDatabase pg;
            test::InboxFixture f(dir, pg.url());
            test::checkTemplateOptions(f);
        }
    }

    void leads() {
        test::TempDir dir;
        test::PostgresDatabase pg;
        test::InboxFixture f(dir, pg.url());
        test::checkLeads(f);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(InboxPostgresTest);
