// Meta-shaped bodies: escaped as Meta escapes them, shaped like the fixtures byte for byte, and
// signed exactly as the fixtures' .sig files say.
#include <cppunit/extensions/HelperMacros.h>

#include <filesystem>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "tawasul/sdk/Json.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"
#include "whatsapp/MetaPayloads.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using tawasul::test::fixture;
using tawasul::test::fixtureSignature;

namespace {

host::MetaBusiness fixtureBusiness() {
    host::MetaBusiness business;
    business.businessAccountId = "102290129340398";
    business.phoneNumberId = "106540352242922";
    business.displayPhoneNumber = "213550000001";
    return business;
}

}  // namespace

class MetaPayloadsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MetaPayloadsTest);
    CPPUNIT_TEST(escapesLikeMeta);
    CPPUNIT_TEST(refusesInvalidUtf8);
    CPPUNIT_TEST(inboundTextMatchesTheFixturesByteForByte);
    CPPUNIT_TEST(statusMatchesTheFixtureAndCarriesErrors);
    CPPUNIT_TEST(signsLikeTheFixtures);
    CPPUNIT_TEST(phoneDigitsKeepsOnlyDigits);
    CPPUNIT_TEST(anIdentifierIsPrintableAsciiOrAbsent);
    CPPUNIT_TEST_SUITE_END();

public:
    void escapesLikeMeta() {
        CPPUNIT_ASSERT_EQUAL(std::string("plain ASCII 123"), host::metaJsonEscape("plain ASCII 123"));
        CPPUNIT_ASSERT_EQUAL(std::string("\\u0627\\u0644\\u0633\\u0644\\u0627\\u0645"), host::metaJsonEscape("السلام"));
        CPPUNIT_ASSERT_EQUAL(std::string("comptabilit\\u00e9"), host::metaJsonEscape("comptabilité"));
        CPPUNIT_ASSERT_EQUAL(std::string("\\u20ac"), host::metaJsonEscape("€"));
        // Above U+FFFF: a UTF-16 surrogate pair, lower-case hex.
        CPPUNIT_ASSERT_EQUAL(std::string("\\ud83d\\ude00"), host::metaJsonEscape("😀"));
        CPPUNIT_ASSERT_EQUAL(std::string("\\ud83c\\udde9\\ud83c\\uddff"), host::metaJsonEscape("🇩🇿"));
        CPPUNIT_ASSERT_EQUAL(std::string("https:\\/\\/example.com\\/a"), host::metaJsonEscape("https://example.com/a"));
        CPPUNIT_ASSERT_EQUAL(std::string("say \\\"hi\\\" \\\\ bye"), host::metaJsonEscape("say \"hi\" \\ bye"));
        CPPUNIT_ASSERT_EQUAL(std::string("a\\nb\\r\\tc\\b\\f\\u0001\\u001f\\u0000"),
                             host::metaJsonEscape(std::string("a\nb\r\tc\b\f\x01\x1f\0", 11)));
        CPPUNIT_ASSERT_EQUAL(std::string("\x7f"), host::metaJsonEscape("\x7f"));  // DEL is not a JSON control
        // What comes out parses back to what went in.
        const std::string text = "مرحبا / 😀 \"x\"\n";
        auto parsed = Poco::JSON::Parser().parse("{\"t\":\"" + host::metaJsonEscape(text) + "\"}").extract<Poco::JSON::Object::Ptr>();
        CPPUNIT_ASSERT_EQUAL(text, parsed->getValue<std::string>("t"));
    }

    void refusesInvalidUtf8() {
        for (const std::string& bad : {std::string("\xff"), std::string("\xc0\x80"), std::string("\xe2\x82"), std::string("\xed\xa0\x80"),
                                      std::string("\xf4\x90\x80\x80"), std::string("ok\x80")})
            CPPUNIT_ASSERT_THROW(host::metaJsonEscape(bad), std::invalid_argument);
    }

    void inboundTextMatchesTheFixturesByteForByte() {
        host::InboundText fr;
        fr.business = fixtureBusiness();
        fr.from = "213555123456";
        fr.name = "Amine Benali";
        fr.wamid = "wamid.HBgMMjEzNTU1MTIzNDU2FQIAEhggQTFBMkEzQTQ1";
        fr.timestamp = 1764064800;
        fr.text = "Bonjour, je voudrais m'inscrire à la formation en comptabilité";
        CPPUNIT_ASSERT_EQUAL(fixture("text-fr.json"), host::inboundTextBody(fr));

        host::InboundText ar;
        ar.business = fixtureBusiness();
        ar.from = "213661234567";
        ar.name = "شركة النور";
        ar.wamid = "wamid.HBgMMjEzNjYxMjM0NTY3FQIAEhggQjFCMkIzQjQ1";
        ar.timestamp = 1764064860;
        ar.text = "السلام عليكم، نحن شركة ونريد تكوين لموظفينا";
        CPPUNIT_ASSERT_EQUAL(fixture("text-ar.json"), host::inboundTextBody(ar));
    }

    void statusMatchesTheFixtureAndCarriesErrors() {
        host::StatusUpdate read;
        read.business = fixtureBusiness();
        read.wamid = "wamid.OUT0001";
        read.status = "read";
        read.recipientId = "213555123456";
        read.timestamp = 1764065020;
        CPPUNIT_ASSERT_EQUAL(fixture("status-read.json"), host::statusBody(read));

        host::StatusUpdate failed = read;
        failed.status = "failed";
        failed.errorCode = 131047;
        failed.errorTitle = "Re-engagement message";
        auto root = Poco::JSON::Parser().parse(host::statusBody(failed)).extract<Poco::JSON::Object::Ptr>();
        auto status = root->getArray("entry")->getObject(0)->getArray("changes")->getObject(0)->getObject("value")->getArray("statuses")->getObject(0);
        CPPUNIT_ASSERT_EQUAL(std::string("failed"), status->getValue<std::string>("status"));
        auto error = status->getArray("errors")->getObject(0);
        CPPUNIT_ASSERT_EQUAL(131047, error->getValue<int>("code"));
        CPPUNIT_ASSERT_EQUAL(std::string("Re-engagement message"), error->getValue<std::string>("title"));
    }

    void signsLikeTheFixtures() {
        CPPUNIT_ASSERT_EQUAL(fixtureSignature("text-fr.json"), sdk::webhookSignature(fixture("text-fr.json"), "fixture-app-secret"));
        std::size_t checked = 0;
        for (const auto& entry : std::filesystem::directory_iterator(TAWASUL_FIXTURES_DIR)) {
            if (entry.path().extension() != ".json") continue;
            const std::string name = entry.path().filename().string();
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, fixtureSignature(name), sdk::webhookSignature(fixture(name), "fixture-app-secret"));
            ++checked;
        }
        CPPUNIT_ASSERT(checked >= 10);
        // One changed byte, or another secret, changes the signature.
        std::string body = fixture("text-fr.json");
        body[body.size() / 2] ^= 1;
        CPPUNIT_ASSERT(fixtureSignature("text-fr.json") != sdk::webhookSignature(body, "fixture-app-secret"));
        CPPUNIT_ASSERT(fixtureSignature("text-fr.json") != sdk::webhookSignature(fixture("text-fr.json"), "another-secret"));
    }

    void phoneDigitsKeepsOnlyDigits() {
        CPPUNIT_ASSERT_EQUAL(std::string("213555123456"), host::phoneDigits("+213 555 12 34 56"));
        CPPUNIT_ASSERT_EQUAL(std::string("213555123456"), host::phoneDigits("213555123456"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), host::phoneDigits("+213-555-12"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), host::phoneDigits("abc"));
    }

    void anIdentifierIsPrintableAsciiOrAbsent() {
        const auto parsed = Poco::JSON::Parser().parse(
            R"({"wamid":"wamid.HBgM=","number":213555123456,"nul":"a\u0000b","space":"a b","arabic":"\u0623","empty":"",)"
            R"("null":null,"long":")" + std::string(257, 'x') + R"(","longest":")" + std::string(256, 'x') + R"("})");
        const Poco::JSON::Object& object = *parsed.extract<Poco::JSON::Object::Ptr>();
        CPPUNIT_ASSERT_EQUAL(std::string("wamid.HBgM="), sdk::jsonIdentifier(object, "wamid"));
        CPPUNIT_ASSERT_EQUAL(std::string("213555123456"), sdk::jsonIdentifier(object, "number"));
        CPPUNIT_ASSERT_EQUAL(std::string(256, 'x'), sdk::jsonIdentifier(object, "longest"));
        for (const char* absent : {"nul", "space", "arabic", "empty", "null", "long", "missing"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(absent, std::string(), sdk::jsonIdentifier(object, absent));
        // The text itself is kept whole: jsonText is not an identifier check.
        CPPUNIT_ASSERT_EQUAL(std::string("a\0b", 3), sdk::jsonText(object, "nul"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MetaPayloadsTest);
