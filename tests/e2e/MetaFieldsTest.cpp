// Meta's webhook fields besides "messages" on SQLite (one host): template reviews and account
// events end to end, through the receiver, the router's field handlers and the dispatcher.
#include <cppunit/extensions/HelperMacros.h>

#include "MetaFieldsCheck.hpp"
#include "OutboundSupport.hpp"

using namespace tawasul::test;

class MetaFieldsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MetaFieldsTest);
    CPPUNIT_TEST(aRejectedTemplateIsRefusedUntilMetaApprovesIt);
    CPPUNIT_TEST(aRestrictionStopsCloudApiSendsUntilLifted);
    CPPUNIT_TEST(everyFieldFixtureLeavesItsMark);
    CPPUNIT_TEST(templatesSyncPagesThroughMetasList);
    CPPUNIT_TEST(aTemplateIsSubmittedToMetaWithItsExamples);
    CPPUNIT_TEST_SUITE_END();

public:
    void aRejectedTemplateIsRefusedUntilMetaApprovesIt() {
        FakeGraphApi fake;
        checkTemplateReviews(outboundHost(fake), fake);
    }
    void aRestrictionStopsCloudApiSendsUntilLifted() {
        FakeGraphApi fake;
        checkAccountEvents(outboundHost(fake), fake, 1);
    }
    void everyFieldFixtureLeavesItsMark() {
        FakeGraphApi fake;
        checkFieldFixtures(outboundHost(fake));
    }
    void templatesSyncPagesThroughMetasList() {
        FakeGraphApi fake;
        checkTemplateSync(outboundHost(fake), fake);
    }
    void aTemplateIsSubmittedToMetaWithItsExamples() {
        FakeGraphApi fake;
        checkTemplateSubmission(outboundHost(fake), fake);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MetaFieldsTest);
