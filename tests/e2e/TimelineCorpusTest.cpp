// The timeline rules as one corpus (tests/support/TimelineCorpus.cpp) processed on SQLite: the
// result must be, line for line, what the per-event code before issue #13 produced (the committed
// tests/support/timeline-corpus.expected). InboundPostgresTest checks PostgreSQL against the same file.
#include <cppunit/extensions/HelperMacros.h>

#include "TimelineCorpus.hpp"

using namespace tawasul::test;

class TimelineCorpusTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TimelineCorpusTest);
    CPPUNIT_TEST(sqliteTimelineIsTheExpectedOne);
    CPPUNIT_TEST_SUITE_END();

public:
    void sqliteTimelineIsTheExpectedOne() {
        const std::string dump = processTimelineCorpus({});
        // Not empty by accident: every section has rows.
        for (const char* section : {"== contacts (0)", "== messages (0)", "== statuses (0)", "== leads (0)", "== errors (0)"})
            CPPUNIT_ASSERT(dump.find(section) == std::string::npos);
        try {
            checkTimelineCorpus(dump, ExpectedFile::MayRewrite);
        } catch (const std::exception& error) {
            CPPUNIT_FAIL(error.what());
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TimelineCorpusTest);
