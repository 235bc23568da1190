// Meta's webhook fields besides "messages" on PostgreSQL: the same checks as on SQLite, the account
// events with three hosts sharing the database (a restriction one host received stops them all).
#include <cppunit/extensions/HelperMacros.h>

#include "MetaFieldsCheck.hpp"
#include "OutboundSupport.hpp"

using namespace tawasul::test;

class MetaFieldsPostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MetaFieldsPostgresTest);
    CPPUNIT_TEST(aRejectedTemplateIsRefusedUntilMetaApprovesIt);
    CPPUNIT_TEST(aRestrictionOnOneHostStopsEveryHost);
    CPPUNIT_TEST(everyFieldFixtureLeavesItsMark);
    CPPUNIT_TEST(templatesSyncPagesThroughMetasList);
    CPPUNIT_TEST(aTemplateIsSubmittedToMetaWithItsExamples);
    CPPUNIT_TEST_SUITE_END();

public:
    void aRejectedTemplateIsRefusedUntilMetaApprovesIt() {
        PostgresDatabase pg;
        FakeGraphApi fake;
        checkTemplateReviews(onPostgres(outboundHost(fake), pg), fake);
    }
    void aRestrictionOnOneHostStopsEveryHost() {
        PostgresDatabase pg;
        FakeGraphApi fake;
        checkAccountEvents(onPostgres(outboundHost(fake), pg), fake, 3);
    }
    void everyFieldFixtureLeavesItsMark() {
        PostgresDatabase pg;
        FakeGraphApi fake;
        checkFieldFixtures(onPostgres(outboundHost(fake), pg));
    }
    void templatesSyncPagesThroughMetasList() {
        PostgresDatabase pg;
        FakeGraphApi fake;
        checkTemplateSync(onPostgres(outboundHost(fake), pg), fake);
    }
    void aTemplateIsSubmittedToMetaWithItsExamples() {
        PostgresDatabase pg;
        FakeGraphApi fake;
        checkTemplateSubmission(onPostgres(outboundHost(fake), pg), fake);
    }

private:
    static HostOptions onPostgres(HostOptions options, const PostgresDatabase& pg) {
        options.databaseUrl = pg.url();
        options.environment.push_back("TAWASUL_MASTER_KEY=" + std::string(44 - 1, 'A') + "=");
        return options;
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MetaFieldsPostgresTest);
