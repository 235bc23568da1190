// sdk::KeysetList, the shape of every admin list page: newest first, pages by id, filters kept in
// the links (encoded), a malformed ?before= refused; on a real SQLite table.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/Data/Session.h>
#include <Poco/URI.h>

#include "db/SqlDatabase.hpp"
#include "TestSupport.hpp"
#include "tawasul/sdk/ListPages.hpp"

using namespace tawasul;
using namespace Poco::Data::Keywords;

namespace {

struct Page {
    std::vector<Poco::Int64> ids;
    std::vector<std::string> sources;
    std::string older, newest;
    bool beforeValid = true;
};

// One request of a list page over `entries`, filtered by source, at `query` ("" or "before=..&source=..").
Page fetch(sdk::Database& db, const std::string& query) {
    sdk::HttpRequest request;
    Poco::URI uri("/list?" + query);
    for (const auto& parameter : uri.getQueryParameters()) request.query.push_back(parameter);
    sdk::KeysetList list("SELECT id, source FROM entries", 5);
    Page page;
    page.beforeValid = list.readBefore(request);
    list.filter("source", request.queryParam("source").value_or(""));
    Poco::Data::Session session = db.session();
    Poco::Data::Statement select(session);
    list.prepare(select);
    select, into(page.ids), into(page.sources);
    select.execute();
    const bool more = list.trim(page.ids);
    Poco::JSON::Object model;
    list.setLinks(model, "/list", page.ids, more);
    page.older = model.optValue<std::string>("older_url", "");
    page.newest = model.optValue<std::string>("newest_url", "");
    return page;
}

}  // namespace

class KeysetListTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(KeysetListTest);
    CPPUNIT_TEST(pagesThroughAFilterAndKeepsItInTheLinks);
    CPPUNIT_TEST(aMalformedBeforeStartsAtTheNewest);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override {
        host::DatabaseOptions options;
        options.url = "sqlite:" + dir_.file("db.sqlite");
        db_ = std::make_unique<host::SqlDatabase>(options);
        Poco::Data::Session session = db_->session();
        session << "CREATE TABLE entries (id INTEGER PRIMARY KEY, source TEXT NOT NULL)", now;
        for (int i = 1; i <= 30; ++i) {
            std::string source = i % 3 == 0 ? "a b&c" : "other";  // ids 3, 6, ..., 30: ten rows
            session << "INSERT INTO entries (id, source) VALUES ($1, $2)", bind(i), use(source), now;
        }
    }

    void pagesThroughAFilterAndKeepsItInTheLinks() {
        Page first = fetch(*db_, "source=a%20b%26c");
        CPPUNIT_ASSERT((first.ids == std::vector<Poco::Int64>{30, 27, 24, 21, 18}));
        CPPUNIT_ASSERT_EQUAL(std::string("/list?before=18&source=a%20b%26c"), first.older);
        CPPUNIT_ASSERT_EQUAL(std::string(), first.newest);  // this is the newest page
        Page second = fetch(*db_, first.older.substr(first.older.find('?') + 1));
        CPPUNIT_ASSERT((second.ids == std::vector<Poco::Int64>{15, 12, 9, 6, 3}));
        for (const auto& source : second.sources) CPPUNIT_ASSERT_EQUAL(std::string("a b&c"), source);
        CPPUNIT_ASSERT_EQUAL(std::string(), second.older);  // exactly two pages: no third
        CPPUNIT_ASSERT_EQUAL(std::string("/list?source=a%20b%26c"), second.newest);
        // Unfiltered: six pages of five.
        Page all = fetch(*db_, "");
        CPPUNIT_ASSERT((all.ids == std::vector<Poco::Int64>{30, 29, 28, 27, 26}));
        CPPUNIT_ASSERT_EQUAL(std::string("/list?before=26"), all.older);
    }

    void aMalformedBeforeStartsAtTheNewest() {
        for (const std::string& value : {"x1", "0", "-4", "12abc"}) {
            Page page = fetch(*db_, "before=" + value);
            CPPUNIT_ASSERT_MESSAGE(value, !page.beforeValid);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(value, Poco::Int64(30), page.ids.front());
        }
        CPPUNIT_ASSERT(fetch(*db_, "before=").beforeValid);  // empty: no keyset, not an error
    }

private:
    test::TempDir dir_;
    std::unique_ptr<host::SqlDatabase> db_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(KeysetListTest);
