// Templates as Meta defines them (sdk/whatsapp/Templates.hpp): every variable of header, body and
// link buttons is found, named and positional; the send's components carry parameter_name for
// named ones and Meta's button shape; a blank value is listed, never sent; the hand-sent text
// fills the same values.
#include <cppunit/extensions/HelperMacros.h>

#include "Assertions.hpp"
#include "tawasul/whatsapp/Templates.hpp"

using namespace tawasul::sdk;

namespace {

TemplateDefinition welcome() {
    TemplateDefinition definition;
    definition.header = "Bienvenue {{first_name}}";
    definition.body = "Bonjour {{ first_name }}, votre session {{programme}} commence le {{date}}.";
    definition.buttons = TemplateDefinition::buttonsFromJson(
        R"([{"type":"quick_reply","text":"Merci"},{"type":"url","text":"Suivi","url":"https://formation.example.dz/suivi/{{1}}"},{"type":"call"}])");
    return definition;
}

std::string keys(const std::vector<TemplateField>& fields) {
    std::string out;
    for (const auto& field : fields) out += (out.empty() ? "" : " ") + field.key() + (field.named ? "(named)" : "");
    return out;
}

}  // namespace

class TemplatesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TemplatesTest);
    CPPUNIT_TEST(namedVariablesOfEveryPartAreFields);
    CPPUNIT_TEST(positionalVariablesComeInNumberOrder);
    CPPUNIT_TEST(componentsCarryNamesAndButtonShape);
    CPPUNIT_TEST(blankValuesAreListedAndNothingIsBuilt);
    CPPUNIT_TEST(renderedTextFillsTheSameValues);
    CPPUNIT_TEST(wholeTemplateProblemsAreNamed);
    CPPUNIT_TEST_SUITE_END();

public:
    void namedVariablesOfEveryPartAreFields() {
        const TemplateDefinition definition = welcome();
        CPPUNIT_ASSERT(definition.named());
        // The quick reply and the unknown "call" button take nothing; the link is button 1.
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), definition.buttons.size());
        CPPUNIT_ASSERT_EQUAL(std::string("header:first_name(named) body:first_name(named) body:programme(named) body:date(named) button1:1"),
                             keys(templateFields(definition)));
    }

    void positionalVariablesComeInNumberOrder() {
        TemplateDefinition definition;
        definition.header = "Session {{1}}";
        definition.body = "Le {{2}} à {{3}}, {{1}} vous attend. ({{2}})";
        CPPUNIT_ASSERT(!definition.named());
        CPPUNIT_ASSERT_EQUAL(std::string("header:1 body:1 body:2 body:3"), keys(templateFields(definition)));
        std::vector<std::string> missing;
        const auto components = templateComponents(definition, {{"header:1", "Compta"}, {"body:3", "9h"}, {"body:1", "Mme Benali"}, {"body:2", "lundi"}},
                                                   missing);
        CPPUNIT_ASSERT(missing.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), components.size());
        CPPUNIT_ASSERT_EQUAL(std::string("body"), components[1].type);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), components[1].parameters.size());
        CPPUNIT_ASSERT_EQUAL(std::string("Mme Benali"), components[1].parameters[0].value);
        CPPUNIT_ASSERT_EQUAL(std::string("lundi"), components[1].parameters[1].value);
        CPPUNIT_ASSERT_EQUAL(std::string("9h"), components[1].parameters[2].value);
        CPPUNIT_ASSERT_EQUAL(std::string(""), components[1].parameters[0].name);  // positional: no parameter_name
    }

    void componentsCarryNamesAndButtonShape() {
        std::vector<std::string> missing;
        const auto components =
            templateComponents(welcome(), {{"header:first_name", "Amina"}, {"body:first_name", "Amina"}, {"body:programme", " Comptabilité "},
                                           {"body:date", "lundi"}, {"button1:1", "A-12"}},
                               missing);
        CPPUNIT_ASSERT(missing.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), components.size());
        CPPUNIT_ASSERT_EQUAL(std::string("header"), components[0].type);
        CPPUNIT_ASSERT_EQUAL(std::string("first_name"), components[0].parameters.at(0).name);
        CPPUNIT_ASSERT_EQUAL(std::string("programme"), components[1].parameters.at(1).name);
        CPPUNIT_ASSERT_EQUAL(std::string("Comptabilité"), components[1].parameters.at(1).value);  // trimmed
        CPPUNIT_ASSERT_EQUAL(std::string("button"), components[2].type);
        CPPUNIT_ASSERT_EQUAL(std::string("url"), components[2].subType);
        CPPUNIT_ASSERT_EQUAL(1, components[2].index);
        CPPUNIT_ASSERT_EQUAL(std::string(""), components[2].parameters.at(0).name);
        CPPUNIT_ASSERT_EQUAL(std::string("A-12"), components[2].parameters.at(0).value);
    }

    void blankValuesAreListedAndNothingIsBuilt() {
        std::vector<std::string> missing;
        const auto components = templateComponents(welcome(), {{"header:first_name", "Amina"}, {"body:first_name", "Amina"}, {"body:date", "  "}},
                                                   missing);
        CPPUNIT_ASSERT(components.empty());
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"body:programme", "body:date", "button1:1"}), missing);
    }

    void renderedTextFillsTheSameValues() {
        std::vector<std::string> missing;
        const auto components =
            templateComponents(welcome(), {{"header:first_name", "أمينة"}, {"body:first_name", "Amina"}, {"body:programme", "Comptabilité"},
                                           {"body:date", "lundi"}, {"button1:1", "A-12"}},
                               missing);
        std::string error;
        CPPUNIT_ASSERT_EQUAL(std::string("Bienvenue أمينة\n\nBonjour Amina, votre session Comptabilité commence le lundi.\n"
                                         "Suivi: https://formation.example.dz/suivi/A-12"),
                             renderTemplate(welcome(), components, error).value_or("(" + error + ")"));
        // Positional body parameters as the platform API sends them render by order.
        TemplateDefinition plain;
        plain.body = "Bonjour {{1}}, à {{2}}.";
        CPPUNIT_ASSERT_EQUAL(std::string("Bonjour Amina, à lundi."),
                             renderTemplate(plain, {{"body", "", 0, {{"", "Amina"}, {"", "lundi"}}}}, error).value_or(error));
        CPPUNIT_ASSERT(!renderTemplate(plain, {{"body", "", 0, {{"", "Amina"}}}}, error));
        CPPUNIT_ASSERT_EQUAL(std::string("missing value for {{2}}"), error);
    }

    void wholeTemplateProblemsAreNamed() {
        TemplateDefinition definition;
        definition.body = "Bonjour {{name}}";
        definition.header = "Session {{1}}";
        CPPUNIT_ASSERT_EQUAL(std::string("a template uses either numbered variables ({{1}}) or named ones ({{name}}), not both"),
                             definition.check().value_or(""));
        definition.header = "{{a}} et {{b}}";
        CPPUNIT_ASSERT_EQUAL(std::string("a header has at most one variable"), definition.check().value_or(""));
        definition.header = "";
        definition.buttons = {{"url", "Suivi", "https://x.dz/{{2}}"}};
        CPPUNIT_ASSERT_EQUAL(std::string("button 1: numbered variables run {{1}}, {{2}}... without gaps: {{1}} is missing"),
                             definition.check().value_or(""));
        definition.buttons = {{"url", "Suivi", "https://x.dz/{{code}}"}};
        CPPUNIT_ASSERT_EQUAL(std::string("button 1: a link takes one variable, {{1}}, at its end"), definition.check().value_or(""));
        definition.buttons = {{"url", "Suivi", "https://x.dz/{{1}}"}};
        CPPUNIT_ASSERT(!definition.check());
        CPPUNIT_ASSERT_EQUAL(definition.buttons.size(), TemplateDefinition::buttonsFromJson(TemplateDefinition::buttonsToJson(definition.buttons)).size());
        CPPUNIT_ASSERT(TemplateDefinition::buttonsFromJson("not json").empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TemplatesTest);
