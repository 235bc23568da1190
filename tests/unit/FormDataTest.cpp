// sdk::FormData: the urlencoded bodies of admin forms.
#include <cppunit/extensions/HelperMacros.h>

#include "Assertions.hpp"
#include "tawasul/sdk/Forms.hpp"

using tawasul::sdk::FormData;

class FormDataTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(FormDataTest);
    CPPUNIT_TEST(decodesPercentAndPlus);
    CPPUNIT_TEST(keepsRepeatedFieldsInOrder);
    CPPUNIT_TEST(missingAndEmptyAreDifferent);
    CPPUNIT_TEST(malformedEscapesStayAsWritten);
    CPPUNIT_TEST_SUITE_END();

public:
    void decodesPercentAndPlus() {
        const FormData form("name=Bienvenue+%C3%A0+vous&body=Hello+%7B%7Bname%7D%7D%26co");
        CPPUNIT_ASSERT_EQUAL(std::string("Bienvenue à vous"), form.value("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("Hello {{name}}&co"), form.value("body"));
    }
    void keepsRepeatedFieldsInOrder() {
        const FormData form("step_template=2&step_delay=0&step_template=5&step_delay=60");
        CPPUNIT_ASSERT_EQUAL((std::vector<std::string>{"2", "5"}), form.all("step_template"));
        CPPUNIT_ASSERT_EQUAL((std::vector<std::string>{"0", "60"}), form.all("step_delay"));
        CPPUNIT_ASSERT_EQUAL(std::string("2"), form.value("step_template"));
    }
    void missingAndEmptyAreDifferent() {
        const FormData form("a=&b&&c=1");
        CPPUNIT_ASSERT(form.get("a").has_value());
        CPPUNIT_ASSERT_EQUAL(std::string(), *form.get("a"));
        CPPUNIT_ASSERT(form.get("b").has_value());
        CPPUNIT_ASSERT(!form.get("missing").has_value());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), form.fields().size());
    }
    void malformedEscapesStayAsWritten() {
        const FormData form("x=100%25&y=%zz&z=%4");
        CPPUNIT_ASSERT_EQUAL(std::string("100%"), form.value("x"));
        CPPUNIT_ASSERT_EQUAL(std::string("%zz"), form.value("y"));
        CPPUNIT_ASSERT_EQUAL(std::string("%4"), form.value("z"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FormDataTest);
