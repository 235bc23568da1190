// The receiver's signature check over Meta's fixtures: each answer (valid, missing, malformed,
// mismatch) for the header as Meta sends it and as a forger might.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/String.h>

#include "Signature.hpp"
#include "WebhookSupport.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

using namespace tawasul;
using tawasul::plugins::webhook_receiver::SignatureCheck;
using tawasul::plugins::webhook_receiver::checkSignature;

namespace {

using test::fixture;
using test::fixtureSignature;
using test::kFixtureSecret;

SignatureCheck check(const std::string& body, const std::string& header) { return checkSignature(body, &header, kFixtureSecret); }

}  // namespace

class SignatureTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SignatureTest);
    CPPUNIT_TEST(acceptsMetasSignatureInEitherCase);
    CPPUNIT_TEST(missingHeader);
    CPPUNIT_TEST(malformedHeader);
    CPPUNIT_TEST(mismatchOfBodyOrSecret);
    CPPUNIT_TEST_SUITE_END();

public:
    void acceptsMetasSignatureInEitherCase() {
        const std::string body = fixture("text-fr.json");
        const std::string signature = fixtureSignature("text-fr.json");
        CPPUNIT_ASSERT(SignatureCheck::Valid == check(body, signature));
        CPPUNIT_ASSERT_EQUAL(signature, sdk::webhookSignature(body, kFixtureSecret));
        CPPUNIT_ASSERT(SignatureCheck::Valid == check(body, "sha256=" + Poco::toUpper(signature.substr(7))));
    }

    void missingHeader() {
        CPPUNIT_ASSERT(SignatureCheck::Missing == checkSignature("{}", nullptr, kFixtureSecret));
        CPPUNIT_ASSERT(SignatureCheck::Missing == check("{}", ""));
    }

    void malformedHeader() {
        const std::string body = fixture("text-fr.json");
        const std::string hex = fixtureSignature("text-fr.json").substr(7);
        CPPUNIT_ASSERT(SignatureCheck::Malformed == check(body, hex));                          // no prefix
        CPPUNIT_ASSERT(SignatureCheck::Malformed == check(body, "sha1=" + hex.substr(0, 40)));  // another hash
        CPPUNIT_ASSERT(SignatureCheck::Malformed == check(body, "SHA256=" + hex));
        CPPUNIT_ASSERT(SignatureCheck::Malformed == check(body, "sha256=" + hex.substr(1)));    // one digit short
        CPPUNIT_ASSERT(SignatureCheck::Malformed == check(body, "sha256=" + hex + "0"));        // one too many
        CPPUNIT_ASSERT(SignatureCheck::Malformed == check(body, "sha256=g" + hex.substr(1)));   // not hex
        CPPUNIT_ASSERT(SignatureCheck::Malformed == check(body, "sha256=" + hex.substr(0, 63) + " "));
    }

    void mismatchOfBodyOrSecret() {
        std::string body = fixture("text-fr.json");
        const std::string signature = fixtureSignature("text-fr.json");
        CPPUNIT_ASSERT(SignatureCheck::Mismatch == checkSignature(body, &signature, "another-secret"));
        CPPUNIT_ASSERT(SignatureCheck::Mismatch == checkSignature(body, &signature, ""));
        body[body.size() / 2] ^= 1;
        CPPUNIT_ASSERT(SignatureCheck::Mismatch == check(body, signature));
        // Another fixture's signature does not fit this body.
        CPPUNIT_ASSERT(SignatureCheck::Mismatch == check(fixture("text-fr.json"), fixtureSignature("reaction.json")));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SignatureTest);
