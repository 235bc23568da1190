// Inbound media on PostgreSQL: the same end-to-end checks as e2e/MediaTest.cpp (the whatsapp_media
// upserts, the fetch_media jobs, the retry's transaction), on a real server.
#include <cppunit/extensions/HelperMacros.h>

#include "MediaChecks.hpp"

using namespace tawasul;
using namespace tawasul::test;

class MediaPostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MediaPostgresTest);
    CPPUNIT_TEST(anImageIsStoredOnceAndServedToSignedInUsers);
    CPPUNIT_TEST(failuresAreShownAndKeepNoFile);
    CPPUNIT_TEST(inTheDatabaseOnRequest);
    CPPUNIT_TEST(rangesFromTheDirectory);
    CPPUNIT_TEST(rangesFromTheDatabase);
    CPPUNIT_TEST_SUITE_END();

public:
    void anImageIsStoredOnceAndServedToSignedInUsers() {
        PostgresDatabase database;
        MediaHost h(database.url());
        checkImageStoredOnceAndServed(h);
    }

    void rangesFromTheDirectory() {
        PostgresDatabase database;
        MediaHost h(database.url());
        checkRangeRequests(h);
    }

    void rangesFromTheDatabase() {
        PostgresDatabase database;
        MediaHost h(database.url(), 65536, "database");
        checkRangeRequests(h);
    }

    void inTheDatabaseOnRequest() {
        PostgresDatabase database;
        MediaHost h(database.url(), 65536, "database");
        checkImageStoredInTheDatabase(h);
    }

    void failuresAreShownAndKeepNoFile() {
        PostgresDatabase database;
        MediaHost h(database.url());
        checkFailuresAreShownAndKeepNoFile(h);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MediaPostgresTest);
