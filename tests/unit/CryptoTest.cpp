// The SDK's shared helpers for secrets (tawasul/sdk/Crypto.hpp) against published test vectors,
// the comparison's rule for empty strings, and the shape of fresh tokens; isoTime's format.
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <set>

#include "tawasul/sdk/Clock.hpp"
#include "tawasul/sdk/Crypto.hpp"

using namespace tawasul;

class CryptoTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CryptoTest);
    CPPUNIT_TEST(sha256MatchesFips180Vectors);
    CPPUNIT_TEST(hmacMatchesRfc4231Vectors);
    CPPUNIT_TEST(emptyNeverEqualsEvenEmpty);
    CPPUNIT_TEST(comparesEveryByte);
    CPPUNIT_TEST(tokensAreFreshAndUrlSafe);
    CPPUNIT_TEST(isoTimeIsUtcWithMilliseconds);
    CPPUNIT_TEST_SUITE_END();

public:
    void sha256MatchesFips180Vectors() {
        CPPUNIT_ASSERT_EQUAL(std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), sdk::sha256Hex("abc"));
        CPPUNIT_ASSERT_EQUAL(std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), sdk::sha256Hex(""));
        CPPUNIT_ASSERT_EQUAL(std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
                             sdk::sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"));
    }

    void hmacMatchesRfc4231Vectors() {
        // Test case 1: a 20-byte key of 0x0b.
        CPPUNIT_ASSERT_EQUAL(std::string("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
                             sdk::hmacSha256Hex("Hi There", std::string(20, '\x0b')));
        // Test case 2: a key shorter than the hash.
        CPPUNIT_ASSERT_EQUAL(std::string("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
                             sdk::hmacSha256Hex("what do ya want for nothing?", "Jefe"));
        // Test case 6: a key longer than the block (131 bytes of 0xaa) is hashed first.
        CPPUNIT_ASSERT_EQUAL(std::string("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
                             sdk::hmacSha256Hex("Test Using Larger Than Block-Size Key - Hash Key First", std::string(131, '\xaa')));
    }

    void emptyNeverEqualsEvenEmpty() {
        // A missing cookie must not match a missing form field, nor an unset token an empty one.
        CPPUNIT_ASSERT(!sdk::constantTimeEquals("", ""));
        CPPUNIT_ASSERT(!sdk::constantTimeEquals("", "a"));
        CPPUNIT_ASSERT(!sdk::constantTimeEquals("a", ""));
    }

    void comparesEveryByte() {
        CPPUNIT_ASSERT(sdk::constantTimeEquals("abc", "abc"));
        CPPUNIT_ASSERT(!sdk::constantTimeEquals("abc", "abd"));
        CPPUNIT_ASSERT(!sdk::constantTimeEquals("abc", "bbc"));
        CPPUNIT_ASSERT(!sdk::constantTimeEquals("abc", "abcd"));
        CPPUNIT_ASSERT(!sdk::constantTimeEquals("abcd", "abc"));
        // Bytes after a NUL count: the strings are not compared as C strings.
        CPPUNIT_ASSERT(sdk::constantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
        CPPUNIT_ASSERT(!sdk::constantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
    }

    void tokensAreFreshAndUrlSafe() {
        std::set<std::string> seen;
        for (int i = 0; i < 100; ++i) {
            const std::string token = sdk::randomToken(32);
            CPPUNIT_ASSERT_EQUAL(std::size_t(43), token.size());  // 32 bytes, unpadded base64
            CPPUNIT_ASSERT_MESSAGE(token, std::all_of(token.begin(), token.end(), [](char c) {
                                       return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                                              c == '_';
                                   }));
            seen.insert(token);
            const std::string hex = sdk::randomHex(16);
            CPPUNIT_ASSERT_EQUAL(std::size_t(32), hex.size());
            CPPUNIT_ASSERT_MESSAGE(hex, hex.find_first_not_of("0123456789abcdef") == std::string::npos);
            seen.insert(hex);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(200), seen.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(6), sdk::randomToken(4).size());
    }

    void isoTimeIsUtcWithMilliseconds() {
        CPPUNIT_ASSERT_EQUAL(std::string("1970-01-01T00:00:00.000Z"), sdk::isoTime(0));
        CPPUNIT_ASSERT_EQUAL(std::string("2025-12-01T10:00:00.123Z"), sdk::isoTime(1764583200123));
        CPPUNIT_ASSERT_EQUAL(std::string("2025-12-01T10:00:00.007Z"), sdk::isoTime(1764583200007));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CryptoTest);
