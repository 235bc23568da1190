// Keyword routing and message rendering of the inbound router: folding in three languages, Arabic
// with and without diacritics, whole words and phrases, and a readable body for every type.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/JSON/Parser.h>

#include "KeywordRules.hpp"
#include "MessageRenderer.hpp"
#include "TextNormalizer.hpp"
#include "tawasul/sdk/Config.hpp"

using namespace tawasul;
using namespace tawasul::plugins::inbound_router;

namespace {

std::string intentOf(const KeywordRules& rules, const std::string& text) {
    const auto match = rules.match(text);
    return match ? match->rule->intent : "-";
}

RenderedMessage render(const std::string& json) {
    return renderMessage(*Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>());
}

std::string configError(const std::string& yaml) {
    try {
        KeywordRules::fromConfig(sdk::ConfigNode::loadString(yaml, "rules.yaml").child("keywords"));
    } catch (const sdk::ConfigError& error) {
        return error.what();
    }
    return "no error";
}

}  // namespace

class InboundRoutingTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(InboundRoutingTest);
    CPPUNIT_TEST(foldsCaseAccentsAndPunctuation);
    CPPUNIT_TEST(foldsArabicDiacriticsAndLetterForms);
    CPPUNIT_TEST(foldsTheArabicArticleAndItsAttachedLetters);
    CPPUNIT_TEST(defaultRulesRouteFrenchArabicAndEnglish);
    CPPUNIT_TEST(matchesWholeWordsAndPhrasesOnly);
    CPPUNIT_TEST(firstMatchingRuleWins);
    CPPUNIT_TEST(configuredRulesAndTheirErrors);
    CPPUNIT_TEST(rendersEveryMessageType);
    CPPUNIT_TEST_SUITE_END();

public:
    void foldsCaseAccentsAndPunctuation() {
        CPPUNIT_ASSERT_EQUAL(std::string(" je voudrais m inscrire a la formation "),
                             foldForMatching("Je VOUDRAIS m'inscrire à la Formation !!!"));
        CPPUNIT_ASSERT_EQUAL(std::string(" societe employes "), foldForMatching("Société, employés."));
        CPPUNIT_ASSERT_EQUAL(std::string(" "), foldForMatching(""));
        CPPUNIT_ASSERT_EQUAL(std::string(" strasse "), foldForMatching("STRASSE"));
        CPPUNIT_ASSERT_EQUAL(std::string(" ok "), foldForMatching("\xff\xfeok"));  // invalid UTF-8 keeps its ASCII
    }

    void foldsArabicDiacriticsAndLetterForms() {
        // With and without harakat and shadda, and with the hamza forms of alef.
        CPPUNIT_ASSERT_EQUAL(foldForMatching("التسجيل"), foldForMatching("التَّسْجِيل"));
        CPPUNIT_ASSERT_EQUAL(foldForMatching("اسم"), foldForMatching("إسم"));
        CPPUNIT_ASSERT_EQUAL(foldForMatching("احمد"), foldForMatching("أحمد"));
        CPPUNIT_ASSERT_EQUAL(foldForMatching("شركه"), foldForMatching("شركة"));        // ta marbuta
        CPPUNIT_ASSERT_EQUAL(foldForMatching("مستشفي"), foldForMatching("مستشفى"));    // alef maqsura
        CPPUNIT_ASSERT_EQUAL(foldForMatching("شركة"), foldForMatching("شـــركة"));      // tatweel
        CPPUNIT_ASSERT_EQUAL(std::string(" سلام عليكم نحن شركه "), foldForMatching("السلام عليكم، نحن شركة"));
    }

    void foldsTheArabicArticleAndItsAttachedLetters() {
        const std::string company = foldForMatching("شركة");
        for (const char* form : {"الشركة", "والشركة", "فالشركة", "بالشركة", "كالشركة", "للشركة", "وللشركة", "وبالشركة", "الشـــركَة"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(form, company, foldForMatching(form));
        CPPUNIT_ASSERT_EQUAL(std::string(" كهرباء "), foldForMatching("للكهرباء"));
        CPPUNIT_ASSERT_EQUAL(std::string(" موظفي شركه "), foldForMatching("موظفي الشركة"));
        // A first letter that only looks like a prefix stays: no article follows it.
        CPPUNIT_ASSERT_EQUAL(std::string(" وقت بيت لبنان "), foldForMatching("وقت بيت لبنان"));
        // The article is never all of a word, nor does it leave a single letter.
        CPPUNIT_ASSERT_EQUAL(std::string(" ال الم "), foldForMatching("ال الم"));
        CPPUNIT_ASSERT_EQUAL(std::string(" لله "), foldForMatching("لله"));
        CPPUNIT_ASSERT_EQUAL(std::string(" ولد "), foldForMatching("ولد"));
        // As often as it is there, so that a folded text folds to itself (fuzz_text_normalizer).
        CPPUNIT_ASSERT_EQUAL(foldForMatching("التزام"), foldForMatching("الالتزام"));
        const std::string found = "الالسل؃نني ?لЪَسلّسْام";
        CPPUNIT_ASSERT_EQUAL(foldForMatching(found), foldForMatching(foldForMatching(found)));
    }

    void defaultRulesRouteFrenchArabicAndEnglish() {
        const KeywordRules rules = KeywordRules::defaults();
        CPPUNIT_ASSERT_EQUAL(std::string("registration"), intentOf(rules, "Bonjour, je voudrais m'inscrire à la formation en comptabilité"));
        CPPUNIT_ASSERT_EQUAL(std::string("registration"), intentOf(rules, "INSCRIPTION svp"));
        CPPUNIT_ASSERT_EQUAL(std::string("institution"), intentOf(rules, "Pouvez-vous m'envoyer un DEVIS ?"));
        CPPUNIT_ASSERT_EQUAL(std::string("institution"), intentOf(rules, "formation pour nos employés"));
        CPPUNIT_ASSERT_EQUAL(std::string("institution"), intentOf(rules, "السلام عليكم، نحن شركة ونريد تكوين لموظفينا"));
        CPPUNIT_ASSERT_EQUAL(std::string("registration"), intentOf(rules, "أريد التسجيل"));
        // The article and the attached forms (issue: both went to the wrong intent, or none).
        CPPUNIT_ASSERT_EQUAL(std::string("institution"), intentOf(rules, "نحن من الشركة الوطنية للكهرباء"));
        CPPUNIT_ASSERT_EQUAL(std::string("institution"), intentOf(rules, "نريد تكوين موظفي الشركة"));
        CPPUNIT_ASSERT_EQUAL(std::string("institution"), intentOf(rules, "نريد تكوينا لموظفينا في المؤسسة"));
        CPPUNIT_ASSERT_EQUAL(std::string("institution"), intentOf(rules, "هل لديكم عروض أسعار للشركات؟"));
        CPPUNIT_ASSERT_EQUAL(std::string("registration"), intentOf(rules, "متى تبدأ الدورات؟"));
        CPPUNIT_ASSERT_EQUAL(std::string("registration"), intentOf(rules, "أريد معلومات عن التكوين"));
        CPPUNIT_ASSERT_EQUAL(std::string("registration"), intentOf(rules, "أُرِيدُ التَّسْجِيلَ"));
        CPPUNIT_ASSERT_EQUAL(std::string("institution"), intentOf(rules, "We are a company and need a quote"));
        CPPUNIT_ASSERT_EQUAL(std::string("registration"), intentOf(rules, "How do I register?"));
        CPPUNIT_ASSERT_EQUAL(std::string("-"), intentOf(rules, "Salut, merci"));
        CPPUNIT_ASSERT_EQUAL(std::string("-"), intentOf(rules, ""));
    }

    void matchesWholeWordsAndPhrasesOnly() {
        const KeywordRules rules = KeywordRules::defaults();
        CPPUNIT_ASSERT_EQUAL(std::string("-"), intentOf(rules, "devisser"));            // not "devis"
        CPPUNIT_ASSERT_EQUAL(std::string("-"), intentOf(rules, "registered mail"));     // not "register"
        CPPUNIT_ASSERT_EQUAL(std::string("institution"), intentOf(rules, "devis."));
        CPPUNIT_ASSERT_EQUAL(std::string("institution"), intentOf(rules, "pour NOS  EMPLOYÉS"));  // phrase, spacing folded
    }

    void firstMatchingRuleWins() {
        const auto rules = KeywordRules::fromConfig(sdk::ConfigNode::loadString(
            "keywords:\n"
            "  - intent: support\n    keywords: { en: [help] }\n    actions: [ { tag: support }, { assign: agent@example.dz } ]\n"
            "  - intent: sales\n    keywords: { en: [help, price] }\n    actions: [ { auto_reply: { template: price_list, language: en } } ]\n",
            "rules.yaml").child("keywords"));
        CPPUNIT_ASSERT_EQUAL(std::string("support"), intentOf(rules, "help with the price"));
        CPPUNIT_ASSERT_EQUAL(std::string("sales"), intentOf(rules, "the price"));
        const auto match = rules.match("help");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), match->rule->actions.size());
        CPPUNIT_ASSERT(match->rule->actions[1].kind == RuleAction::Kind::Assign);
        CPPUNIT_ASSERT_EQUAL(std::string("agent@example.dz"), match->rule->actions[1].value);
        const auto reply = rules.rules()[1].actions[0];
        CPPUNIT_ASSERT(reply.kind == RuleAction::Kind::AutoReply);
        CPPUNIT_ASSERT_EQUAL(std::string("price_list"), reply.value);
        CPPUNIT_ASSERT_EQUAL(std::string("en"), reply.language);
    }

    void configuredRulesAndTheirErrors() {
        CPPUNIT_ASSERT_EQUAL(std::string("rules.yaml:3:17: unknown key 'keywords[0].keywords.de' (expected one of: fr, ar, en)"),
                             configError("keywords:\n  - intent: x\n    keywords: { de: [hallo] }\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("rules.yaml:2:5: keywords[0]: intent 'x' has no keywords"),
                             configError("keywords:\n  - intent: x\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("rules.yaml:3:22: keywords[0].keywords.fr[0]: a keyword needs at least one letter or digit"),
                             configError("keywords:\n  - intent: x\n    keywords: { fr: [\"?!\"] }\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("rules.yaml:4:26: keywords[0].actions[0].assign: assign takes a user's email address"),
                             configError("keywords:\n  - intent: x\n    keywords: { fr: [a] }\n    actions: [ { assign: bob } ]\n"));
        const std::string twice = configError("keywords:\n  - intent: x\n    keywords: { fr: [a] }\n  - intent: x\n    keywords: { fr: [b] }\n");
        CPPUNIT_ASSERT_EQUAL(std::string("rules.yaml:4:13: keywords[1].intent: intent 'x' is defined twice"), twice);
    }

    void rendersEveryMessageType() {
        CPPUNIT_ASSERT_EQUAL(std::string("Salut"), render(R"({"type":"text","text":{"body":"Salut"}})").body);
        const auto image = render(R"({"type":"image","image":{"caption":"Ma pièce","mime_type":"image/jpeg","id":"123"}})");
        CPPUNIT_ASSERT_EQUAL(std::string("Ma pièce"), image.body);
        CPPUNIT_ASSERT_EQUAL(std::string("123"), image.mediaId);
        CPPUNIT_ASSERT_EQUAL(std::string("image/jpeg"), image.mediaMimeType);
        CPPUNIT_ASSERT_EQUAL(std::string("cv.pdf"), render(R"({"type":"document","document":{"filename":"cv.pdf","id":"9"}})").body);
        CPPUNIT_ASSERT_EQUAL(std::string(""), render(R"({"type":"audio","audio":{"id":"7","mime_type":"audio/ogg"}})").body);
        CPPUNIT_ASSERT_EQUAL(std::string("Centre, Alger"),
                             render(R"({"type":"location","location":{"latitude":36.7,"longitude":3.05,"name":"Centre","address":"Alger"}})").body);
        CPPUNIT_ASSERT_EQUAL(std::string("36.7, 3.05"), render(R"({"type":"location","location":{"latitude":36.7,"longitude":3.05}})").body);
        CPPUNIT_ASSERT_EQUAL(std::string("shared contact: Karim"),
                             render(R"({"type":"contacts","contacts":[{"name":{"formatted_name":"Karim"}}]})").body);
        const auto button = render(R"({"type":"interactive","context":{"id":"wamid.OUT1"},"interactive":{"type":"button_reply","button_reply":{"id":"y","title":"Oui"}}})");
        CPPUNIT_ASSERT_EQUAL(std::string("Oui"), button.body);
        CPPUNIT_ASSERT_EQUAL(std::string("wamid.OUT1"), button.contextId);
        CPPUNIT_ASSERT_EQUAL(std::string("Lundi — 9h-12h"),
                             render(R"({"type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"l","title":"Lundi","description":"9h-12h"}}})").body);
        CPPUNIT_ASSERT_EQUAL(std::string("form response: Sent"),
                             render(R"({"type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"body":"Sent","response_json":"{}"}}})").body);
        CPPUNIT_ASSERT_EQUAL(std::string("Confirmer"), render(R"({"type":"button","button":{"text":"Confirmer","payload":"c"}})").body);
        const auto reaction = render(R"({"type":"reaction","reaction":{"message_id":"wamid.OUT1","emoji":"👍"}})");
        CPPUNIT_ASSERT_EQUAL(std::string("reacted 👍 to wamid.OUT1"), reaction.body);
        CPPUNIT_ASSERT_EQUAL(std::string("wamid.OUT1"), reaction.contextId);
        CPPUNIT_ASSERT_EQUAL(std::string("removed a reaction from wamid.OUT1"),
                             render(R"({"type":"reaction","reaction":{"message_id":"wamid.OUT1","emoji":""}})").body);
        CPPUNIT_ASSERT_EQUAL(std::string("order: 2 item(s)"),
                             render(R"({"type":"order","order":{"catalog_id":"c","product_items":[{},{}]}})").body);
        CPPUNIT_ASSERT_EQUAL(std::string("User A changed from 1 to 2"),
                             render(R"({"type":"system","system":{"body":"User A changed from 1 to 2","type":"user_changed_number"}})").body);
        const auto unknown = render(R"({"type":"hologram","hologram":{}})");
        CPPUNIT_ASSERT_EQUAL(std::string("unsupported"), unknown.type);
        CPPUNIT_ASSERT_EQUAL(std::string("unsupported message: Message type unknown"),
                             render(R"({"type":"unsupported","errors":[{"code":131051,"title":"Message type unknown"}]})").body);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(InboundRoutingTest);
