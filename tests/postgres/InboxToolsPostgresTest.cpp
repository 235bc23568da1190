// The agent's tools on a real PostgreSQL server: the same checks as on SQLite (InboxToolsChecks).
#include <cppunit/extensions/HelperMacros.h>

#include "InboxToolsChecks.hpp"

using namespace tawasul;

class InboxToolsPostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(InboxToolsPostgresTest);
    CPPUNIT_TEST(conversationNotes);
    CPPUNIT_TEST(cannedReplies);
    CPPUNIT_TEST_SUITE_END();

public:
    void conversationNotes() {
        test::TempDir dir;
        test::PostgresDatabase pg;
        test::InboxFixture f(dir, pg.url());
        test::checkConversationNotes(f);
    }
    void cannedReplies() {
        test::TempDir dir;
        test::PostgresDatabase pg;
        test::InboxFixture f(dir, pg.url());
        test::checkCannedReplies(f);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(InboxToolsPostgresTest);
