// Outbox templates: what is refused when saved, rendering with named and numbered variables (a
// missing one is named), and wa.me links with Arabic and French text percent-encoded byte by byte.
#include <cppunit/extensions/HelperMacros.h>

#include "Assertions.hpp"
#include "OutboxTemplates.hpp"

using tawasul::plugins::outbox::OutboxTemplate;
using tawasul::plugins::outbox::waMeLink;

class OutboxTemplatesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(OutboxTemplatesTest);
    CPPUNIT_TEST(validBodies);
    CPPUNIT_TEST(invalidBodiesSayWhy);
    CPPUNIT_TEST(rendersNamedAndNumbered);
    CPPUNIT_TEST(missingVariableIsNamed);
    CPPUNIT_TEST(waMeLinkEncodesEveryByteOutsideUnreserved);
    CPPUNIT_TEST_SUITE_END();

public:
    void validBodies() {
        CPPUNIT_ASSERT(!OutboxTemplate::validate("Bonjour {{first_name}}, votre session {{ programme }} commence."));
        CPPUNIT_ASSERT(!OutboxTemplate::validate("Bonjour {{1}}, rendez-vous le {{2}} ({{1}})."));
        CPPUNIT_ASSERT(!OutboxTemplate::validate("Sans variable."));
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"1", "2"}), OutboxTemplate::variables("{{1}} {{2}} {{1}}"));
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"first_name", "programme"}),
                             OutboxTemplate::variables("{{first_name}} {{ programme }}"));
    }

    void invalidBodiesSayWhy() {
        const std::pair<const char*, const char*> cases[] = {
            {"   ", "the body is empty"},
            {"Bonjour {{name", "'{{' without '}}' at character 9"},
            {"Bonjour name}}", "'}}' without '{{' at character 13"},
            {"Bonjour {{first name}}", "'{{first name}}' is not a variable: use {{1}}, {{2}}... or {{name}}"},
            {"{{1}} et {{name}}", "a body uses either numbered variables ({{1}}) or named ones ({{name}}), not both"},
            {"{{1}} et {{3}}", "numbered variables run {{1}}, {{2}}... without gaps: {{2}} is missing"},
            {"{{0}}", "variable {{0}}: numbered variables start at {{1}}"},
        };
        for (const auto& [body, why] : cases) {
            const auto problem = OutboxTemplate::validate(body);
            CPPUNIT_ASSERT_MESSAGE(body, problem.has_value());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(body, std::string(why), *problem);
        }
        CPPUNIT_ASSERT(OutboxTemplate::validate(std::string(1025, 'a')).has_value());
    }

    void rendersNamedAndNumbered() {
        std::string error;
        CPPUNIT_ASSERT_EQUAL(std::string("Bonjour Amina, session Data."),
                             OutboxTemplate::render("Bonjour {{first_name}}, session {{ programme }}.", {{"first_name", "Amina"}, {"programme", "Data"}}, error)
                                 .value());
        CPPUNIT_ASSERT_EQUAL(std::string("مرحبا أمينة (أمينة) 12"),
                             OutboxTemplate::render("مرحبا {{1}} ({{1}}) {{2}}", {{"1", "أمينة"}, {"2", "12"}}, error).value());
        CPPUNIT_ASSERT(error.empty());
    }

    void missingVariableIsNamed() {
        std::string error;
        CPPUNIT_ASSERT(!OutboxTemplate::render("Bonjour {{first_name}}, {{programme}} {{city}}", {{"programme", "Data"}}, error));
        CPPUNIT_ASSERT_EQUAL(std::string("missing value for {{first_name}}, {{city}}"), error);
    }

    void waMeLinkEncodesEveryByteOutsideUnreserved() {
        CPPUNIT_ASSERT_EQUAL(std::string("https://wa.me/213555123456?text=Bonjour%20%C3%A9l%C3%A8ve%20%26%20co%3F%20a-b_c.d~e%2Bf"),
                             waMeLink("+213555123456", "Bonjour élève & co? a-b_c.d~e+f"));
        CPPUNIT_ASSERT_EQUAL(std::string("https://wa.me/213555123456?text=%D9%85%D8%B1%D8%AD%D8%A8%D8%A7%0A1"),
                             waMeLink("+213 555 12 34 56", "مرحبا\n1"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(OutboxTemplatesTest);
