// sdk::SqlDialect: the pieces of SQL that differ between the engines, and the writer lock of
// sdk::Database, which only sdk::Transaction can reach.
#include <cppunit/extensions/HelperMacros.h>

#include <type_traits>
#include <utility>

#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/SqlDialect.hpp"

using tawasul::sdk::SqlDialect;

namespace {

// True when code outside sdk::Transaction may call database.writeLock() (access is checked here).
template <typename T, typename = void>
struct WriteLockIsPublic : std::false_type {};
template <typename T>
struct WriteLockIsPublic<T, std::void_t<decltype(std::declval<T&>().writeLock())>> : std::true_type {};
template <typename T, typename = void>
struct UrgentWritersArePublic : std::false_type {};
template <typename T>
struct UrgentWritersArePublic<T, std::void_t<decltype(std::declval<T&>().urgentWriters())>> : std::true_type {};

static_assert(!WriteLockIsPublic<tawasul::sdk::Database>::value, "the SQLite writer lock is for sdk::Transaction only");
static_assert(!UrgentWritersArePublic<tawasul::sdk::Database>::value, "the writer queue is for sdk::Transaction only");

}  // namespace

class SqlDialectTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SqlDialectTest);
    CPPUNIT_TEST(testPlaceholders);
    CPPUNIT_TEST(testQueryPieces);
    CPPUNIT_TEST(testTransactionStatements);
    CPPUNIT_TEST_SUITE_END();

public:
    void testPlaceholders() {
        CPPUNIT_ASSERT_EQUAL(std::string("?"), SqlDialect::sqlite().placeholder(7));
        CPPUNIT_ASSERT_EQUAL(std::string("$7"), SqlDialect::postgresql().placeholder(7));
        CPPUNIT_ASSERT_EQUAL(std::string("?, ?, ?"), SqlDialect::sqlite().placeholders(4, 3));
        CPPUNIT_ASSERT_EQUAL(std::string("$4, $5, $6"), SqlDialect::postgresql().placeholders(4, 3));
        CPPUNIT_ASSERT_EQUAL(std::string(""), SqlDialect::postgresql().placeholders(1, 0));
    }

    void testQueryPieces() {
        const SqlDialect& lite = SqlDialect::sqlite();
        const SqlDialect& pg = SqlDialect::postgresql();
        CPPUNIT_ASSERT(lite != pg);
        CPPUNIT_ASSERT_EQUAL(std::string("sqlite"), lite.name());
        CPPUNIT_ASSERT_EQUAL(std::string("postgresql"), pg.name());
        CPPUNIT_ASSERT_EQUAL(std::string("LIKE"), lite.caseInsensitiveLike());
        CPPUNIT_ASSERT_EQUAL(std::string("ILIKE"), pg.caseInsensitiveLike());
        CPPUNIT_ASSERT_EQUAL(std::string(""), lite.skipLocked());
        CPPUNIT_ASSERT_EQUAL(std::string(" FOR UPDATE SKIP LOCKED"), pg.skipLocked());
        CPPUNIT_ASSERT_EQUAL(std::string(""), lite.forUpdate());
        CPPUNIT_ASSERT_EQUAL(std::string(" FOR UPDATE"), pg.forUpdate());
        CPPUNIT_ASSERT_EQUAL(std::string("length(CAST(payload AS BLOB))"), lite.byteLength("payload"));
        CPPUNIT_ASSERT_EQUAL(std::string("octet_length(payload)"), pg.byteLength("payload"));
    }

    void testTransactionStatements() {
        const SqlDialect& lite = SqlDialect::sqlite();
        const SqlDialect& pg = SqlDialect::postgresql();
        CPPUNIT_ASSERT(lite.singleWriter() && !pg.singleWriter());
        CPPUNIT_ASSERT_EQUAL(std::string("BEGIN IMMEDIATE"), lite.beginWrite());
        CPPUNIT_ASSERT_EQUAL(std::string("BEGIN"), pg.beginWrite());
        CPPUNIT_ASSERT_EQUAL(std::string("PRAGMA synchronous = NORMAL"), lite.relaxBeforeBegin());
        CPPUNIT_ASSERT_EQUAL(std::string("PRAGMA synchronous = FULL"), lite.restoreAfterRelaxed());
        CPPUNIT_ASSERT_EQUAL(std::string("SET LOCAL synchronous_commit = off"), pg.relaxAfterBegin());
        CPPUNIT_ASSERT(pg.relaxBeforeBegin().empty() && pg.restoreAfterRelaxed().empty() && lite.relaxAfterBegin().empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), lite.connectionSetup(5000).size());
        CPPUNIT_ASSERT_EQUAL(std::string("PRAGMA busy_timeout = 5000"), lite.connectionSetup(5000).front());
        CPPUNIT_ASSERT(pg.connectionSetup(5000).empty());
        CPPUNIT_ASSERT_EQUAL(std::string("SELECT pg_advisory_lock(42)"), pg.lockAcrossHosts(42));
        CPPUNIT_ASSERT(lite.lockAcrossHosts(42).empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SqlDialectTest);
