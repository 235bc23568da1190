// The agent's tools on SQLite: internal notes in the timeline and canned replies (InboxToolsChecks).
#include <cppunit/extensions/HelperMacros.h>

#include "InboxToolsChecks.hpp"

using namespace tawasul;

class InboxToolsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(InboxToolsTest);
    CPPUNIT_TEST(conversationNotes);
    CPPUNIT_TEST(cannedReplies);
    CPPUNIT_TEST_SUITE_END();

public:
    void conversationNotes() {
        test::TempDir dir;
        test::InboxFixture f(dir);
        test::checkConversationNotes(f);
    }
    void cannedReplies() {
        test::TempDir dir;
        test::InboxFixture f(dir);
        test::checkCannedReplies(f);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(InboxToolsTest);
