// The admin inbox's queries on SQLite: filters, search by name and by phone in any form, keyset
// pages without gaps or repeats while conversations arrive, the timeline with its system lines,
// and a plan that walks an index in list order for every filter (no sort of the whole table).
#include <cppunit/extensions/HelperMacros.h>

#include "InboxFixture.hpp"

using namespace tawasul;
using tawasul::plugins::admin_inbox::InboxFilter;

class InboxStoreTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(InboxStoreTest);
    CPPUNIT_TEST(filters);
    CPPUNIT_TEST(search);
    CPPUNIT_TEST(keysetPages);
    CPPUNIT_TEST(timelineAndChanges);
    CPPUNIT_TEST(leads);
    CPPUNIT_TEST(templateOptions);
    CPPUNIT_TEST(everyFilterWalksAnIndex);
    CPPUNIT_TEST_SUITE_END();

public:
    void filters() {
        test::TempDir dir;
        test::InboxFixture f(dir);
        test::checkInboxFilters(f);
    }
    void search() {
        test::TempDir dir;
        test::InboxFixture f(dir);
        test::checkInboxSearch(f);
    }
    void keysetPages() {
        test::TempDir dir;
        test::InboxFixture f(dir);
        test::checkKeysetPages(f);
    }
    void timelineAndChanges() {
        test::TempDir dir;
        test::InboxFixture f(dir);
        test::checkTimelineAndChanges(f);
    }
    void leads() {
        test::TempDir dir;
        test::InboxFixture f(dir);
        test::checkLeads(f);
    }

    void templateOptions() {
        test::TempDir dir;
        test::InboxFixture f(dir);
        test::checkTemplateOptions(f);
    }

    // The list stays fast at 100k conversations only if SQLite reads it off an index in order and
    // stops after one page: a "TEMP B-TREE FOR ORDER BY" would sort every matching row first.
    void everyFilterWalksAnIndex() {
        test::TempDir dir;
        test::InboxFixture f(dir);
        f.sql("ANALYZE");
        for (const std::string status : {"", "open"})
            for (const std::string owner : {"all", "mine", "unassigned"})
                for (const std::string intent : {"", "b2b"})
                    for (const bool after : {false, true}) {
                        InboxFilter filter;
                        filter.status = status;
                        filter.owner = owner;
                        filter.userId = 2;
                        filter.intent = intent;
                        if (after) filter.after = plugins::admin_inbox::Cursor{5000, 7};
                        std::string plan;
                        for (const auto& line : f.store().explainList(filter)) plan += line + "\n";
                        const std::string what = status + "/" + owner + "/" + intent + (after ? "/after" : "") + ":\n" + plan;
                        CPPUNIT_ASSERT_MESSAGE(what, plan.find("TEMP B-TREE") == std::string::npos);
                        CPPUNIT_ASSERT_MESSAGE(what, plan.find("SCAN c USING INDEX") != std::string::npos ||
                                                         plan.find("SEARCH c USING INDEX") != std::string::npos);
                    }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(InboxStoreTest);
