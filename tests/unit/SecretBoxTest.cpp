// host::SecretBox: AES-256-GCM sealing of secrets, and where the master key comes from.
#include <cppunit/extensions/HelperMacros.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>

#include <sys/stat.h>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>

#include "secrets/SecretBox.hpp"
#include "TestSupport.hpp"

using tawasul::host::SecretBox;
using tawasul::host::SecretError;
using tawasul::test::readFile;
using tawasul::test::TempDir;
using tawasul::test::writeFile;

namespace {

std::string base64(const std::string& bytes) {
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder << bytes;
    encoder.close();
    return out.str();
}

std::string unbase64(const std::string& text) {
    std::istringstream in(text);
    Poco::Base64Decoder decoder(in);
    std::string out;
    char c;
    while (decoder.get(c)) out += c;
    return out;
}

std::string keyOf(char fill) { return std::string(SecretBox::kKeyBytes, fill); }

// A 32-byte key with every kind of byte in it.
std::string binaryKey() {
    std::string key;
    for (std::size_t i = 0; i < SecretBox::kKeyBytes; ++i) key += static_cast<char>(i * 37 + 200);
    return key;
}

template <typename Action>
std::string secretError(Action action) {
    try {
        action();
    } catch (const SecretError& error) {
        return error.what();
    }
    CPPUNIT_FAIL("expected a SecretError");
    return "";
}

const std::string kAltered = "cannot decrypt: the master key is wrong or the stored value was altered";
const std::string kDamaged = "the stored secret is damaged";
const std::string kUnknownFormat = "the stored secret has an unknown format";

void writeKeyFile(const std::string& path, const std::string& content, std::filesystem::perms mode) {
    writeFile(path, content);
    std::filesystem::permissions(path, mode);
}

unsigned modeOf(const std::string& path) {
    struct stat info {};
    CPPUNIT_ASSERT_EQUAL(0, ::stat(path.c_str(), &info));
    return info.st_mode & 07777;
}

}  // namespace

class SecretBoxTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SecretBoxTest);
    CPPUNIT_TEST(testRoundTrip);
    CPPUNIT_TEST(testSealedFormat);
    CPPUNIT_TEST(testTwoSealsDiffer);
    CPPUNIT_TEST(testWrongKey);
    CPPUNIT_TEST(testFlippedByteAnywhere);
    CPPUNIT_TEST(testTruncatedOrExtended);
    CPPUNIT_TEST(testWrongContext);
    CPPUNIT_TEST(testBadFormat);
    CPPUNIT_TEST(testKeyMustBe32Bytes);
    CPPUNIT_TEST(testGenerateKey);
    CPPUNIT_TEST(testCreatesKeyFileWhenAsked);
    CPPUNIT_TEST(testRefusesMissingFileWhenNotAsked);
    CPPUNIT_TEST(testRefusesFileReadableByOthers);
    CPPUNIT_TEST(testRefusesKeyOfWrongLength);
    CPPUNIT_TEST(testEnvironmentWinsOverFile);
    CPPUNIT_TEST(testBadEnvironmentKey);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override {
        if (const char* value = std::getenv("TAWASUL_MASTER_KEY")) savedKey_ = value;
        ::unsetenv("TAWASUL_MASTER_KEY");
    }

    void tearDown() override {
        if (savedKey_)
            ::setenv("TAWASUL_MASTER_KEY", savedKey_->c_str(), 1);
        else
            ::unsetenv("TAWASUL_MASTER_KEY");
    }

    void testRoundTrip() {
        const SecretBox box(binaryKey());
        const std::string binary("\0\x01\xff\xfe\x80 \0tail", 11);
        const std::string values[] = {
            "EAAGm0PX4ZCpsBAKZAaZBZC0token",
            "",
            binary,
            "مرحبا بكم في تواصل — رقم ٠٥٥٥",
            std::string(100000, 'x'),
        };
        for (const std::string& value : values) {
            const std::string sealed = box.seal(value, "whatsapp.cloud.access_token");
            CPPUNIT_ASSERT_EQUAL(std::string("v1:"), sealed.substr(0, 3));
            CPPUNIT_ASSERT_EQUAL(value, box.open(sealed, "whatsapp.cloud.access_token"));
            // Another box with the same key opens it too: nothing but the key is needed.
            CPPUNIT_ASSERT_EQUAL(value, SecretBox(binaryKey()).open(sealed, "whatsapp.cloud.access_token"));
        }
        CPPUNIT_ASSERT_EQUAL(std::string("value"), box.open(box.seal("value", ""), ""));
    }

    void testSealedFormat() {
        const SecretBox box(keyOf('k'));
        const std::string plaintext = "super-secret-app-secret";
        const std::string sealed = box.seal(plaintext, "whatsapp.cloud.app_secret");
        CPPUNIT_ASSERT(sealed.find(plaintext) == std::string::npos);
        const std::string bytes = unbase64(sealed.substr(3));
        CPPUNIT_ASSERT_EQUAL(std::size_t(12 + plaintext.size() + 16), bytes.size());
        CPPUNIT_ASSERT(bytes.find(plaintext) == std::string::npos);
        CPPUNIT_ASSERT_EQUAL(base64(bytes), sealed.substr(3));
    }

    void testTwoSealsDiffer() {
        const SecretBox box(keyOf('k'));
        const std::string a = box.seal("same value", "whatsapp.webhook.verify_token");
        const std::string b = box.seal("same value", "whatsapp.webhook.verify_token");
        CPPUNIT_ASSERT(a != b);
        // The nonces (the first 12 bytes) differ, not just the encoding.
        CPPUNIT_ASSERT(unbase64(a.substr(3)).substr(0, 12) != unbase64(b.substr(3)).substr(0, 12));
        CPPUNIT_ASSERT_EQUAL(std::string("same value"), box.open(a, "whatsapp.webhook.verify_token"));
        CPPUNIT_ASSERT_EQUAL(std::string("same value"), box.open(b, "whatsapp.webhook.verify_token"));
    }

    void testWrongKey() {
        const SecretBox box(keyOf('a'));
        std::string otherKey = keyOf('a');
        otherKey[31] = 'b';  // one bit away
        const SecretBox other(otherKey);
        for (const std::string value : {"", "token", "مرحبا"}) {
            const std::string sealed = box.seal(value, "whatsapp.cloud.access_token");
            CPPUNIT_ASSERT_EQUAL(kAltered, secretError([&] { other.open(sealed, "whatsapp.cloud.access_token"); }));
        }
    }

    void testFlippedByteAnywhere() {
        const SecretBox box(binaryKey());
        const std::string sealed = box.seal("EAAG-access-token", "whatsapp.cloud.access_token");
        const std::string bytes = unbase64(sealed.substr(3));
        CPPUNIT_ASSERT_EQUAL(std::size_t(12 + 17 + 16), bytes.size());
        int refused = 0;
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            for (const unsigned char bit : {0x01, 0x80}) {
                std::string altered = bytes;
                altered[i] = static_cast<char>(altered[i] ^ bit);
                const std::string tampered = "v1:" + base64(altered);
                CPPUNIT_ASSERT_EQUAL(kAltered, secretError([&] { box.open(tampered, "whatsapp.cloud.access_token"); }));
                ++refused;
            }
        }
        CPPUNIT_ASSERT_EQUAL(int(2 * bytes.size()), refused);
        CPPUNIT_ASSERT_EQUAL(std::string("EAAG-access-token"), box.open(sealed, "whatsapp.cloud.access_token"));
    }

    void testTruncatedOrExtended() {
        const SecretBox box(keyOf('k'));
        const std::string bytes = unbase64(box.seal("abc", "ctx").substr(3));
        CPPUNIT_ASSERT_EQUAL(kAltered, secretError([&] { box.open("v1:" + base64(bytes.substr(0, bytes.size() - 1)), "ctx"); }));
        CPPUNIT_ASSERT_EQUAL(kAltered, secretError([&] { box.open("v1:" + base64(bytes + "x"), "ctx"); }));
        // Shorter than nonce + tag: damaged before any decryption is tried.
        CPPUNIT_ASSERT_EQUAL(kDamaged, secretError([&] { box.open("v1:" + base64(bytes.substr(0, 27)), "ctx"); }));
        // Exactly nonce + tag is an empty plaintext, and still must be authentic.
        CPPUNIT_ASSERT_EQUAL(kAltered, secretError([&] { box.open("v1:" + base64(bytes.substr(0, 28)), "ctx"); }));
    }

    void testWrongContext() {
        const SecretBox box(keyOf('k'));
        const std::string sealed = box.seal("EAAG-token", "whatsapp.cloud.access_token");
        CPPUNIT_ASSERT_EQUAL(kAltered, secretError([&] { box.open(sealed, "whatsapp.cloud.app_secret"); }));
        CPPUNIT_ASSERT_EQUAL(kAltered, secretError([&] { box.open(sealed, ""); }));
        CPPUNIT_ASSERT_EQUAL(kAltered, secretError([&] { box.open(sealed, "whatsapp.cloud.access_token "); }));
        const std::string unkeyed = box.seal("EAAG-token", "");
        CPPUNIT_ASSERT_EQUAL(kAltered, secretError([&] { box.open(unkeyed, "whatsapp.cloud.access_token"); }));
    }

    void testBadFormat() {
        const SecretBox box(keyOf('k'));
        const std::string sealed = box.seal("value", "ctx");
        CPPUNIT_ASSERT_EQUAL(kUnknownFormat, secretError([&] { box.open("", "ctx"); }));
        CPPUNIT_ASSERT_EQUAL(kUnknownFormat, secretError([&] { box.open("plain text secret", "ctx"); }));
        CPPUNIT_ASSERT_EQUAL(kUnknownFormat, secretError([&] { box.open("v2:" + sealed.substr(3), "ctx"); }));
        CPPUNIT_ASSERT_EQUAL(kUnknownFormat, secretError([&] { box.open("V1:" + sealed.substr(3), "ctx"); }));
        CPPUNIT_ASSERT_EQUAL(kUnknownFormat, secretError([&] { box.open(sealed.substr(3), "ctx"); }));
        CPPUNIT_ASSERT_EQUAL(kDamaged, secretError([&] { box.open("v1:", "ctx"); }));
        CPPUNIT_ASSERT_EQUAL(kDamaged, secretError([&] { box.open("v1:***not base64***", "ctx"); }));
        CPPUNIT_ASSERT_EQUAL(kDamaged, secretError([&] { box.open("v1:" + sealed.substr(3, sealed.size() - 4), "ctx"); }));
    }

    void testKeyMustBe32Bytes() {
        CPPUNIT_ASSERT_EQUAL(std::string("the master key must be 32 bytes"), secretError([] { SecretBox(std::string(31, 'k')); }));
        CPPUNIT_ASSERT_EQUAL(std::string("the master key must be 32 bytes"), secretError([] { SecretBox(std::string(33, 'k')); }));
        CPPUNIT_ASSERT_EQUAL(std::string("the master key must be 32 bytes"), secretError([] { SecretBox(std::string()); }));
    }

    void testGenerateKey() {
        const std::string a = SecretBox::generateKeyBase64();
        const std::string b = SecretBox::generateKeyBase64();
        CPPUNIT_ASSERT_EQUAL(std::size_t(44), a.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(32), unbase64(a).size());
        CPPUNIT_ASSERT(a != b);
    }

    void testCreatesKeyFileWhenAsked() {
        TempDir dir;
        const std::string file = dir.file("var/keys/master.key");  // the folders do not exist yet
        const SecretBox created = SecretBox::fromEnvironmentOrFile(file, true);
        CPPUNIT_ASSERT(std::filesystem::exists(file));
        CPPUNIT_ASSERT_EQUAL(0600u, modeOf(file));
        const std::string text = readFile(file);
        CPPUNIT_ASSERT_EQUAL(std::size_t(45), text.size());
        CPPUNIT_ASSERT_EQUAL('\n', text.back());
        const std::string key = unbase64(text.substr(0, 44));
        CPPUNIT_ASSERT_EQUAL(std::size_t(32), key.size());
        // The file holds the key the box uses, and the next start reads the same key back.
        const std::string sealed = created.seal("EAAG-token", "whatsapp.cloud.access_token");
        CPPUNIT_ASSERT_EQUAL(std::string("EAAG-token"), SecretBox(key).open(sealed, "whatsapp.cloud.access_token"));
        const SecretBox reloaded = SecretBox::fromEnvironmentOrFile(file, false);
        CPPUNIT_ASSERT_EQUAL(std::string("EAAG-token"), reloaded.open(sealed, "whatsapp.cloud.access_token"));
        const SecretBox again = SecretBox::fromEnvironmentOrFile(file, true);  // does not replace it
        CPPUNIT_ASSERT_EQUAL(text, readFile(file));
        CPPUNIT_ASSERT_EQUAL(std::string("EAAG-token"), again.open(sealed, "whatsapp.cloud.access_token"));
    }

    void testRefusesMissingFileWhenNotAsked() {
        TempDir dir;
        const std::string file = dir.file("master.key");
        CPPUNIT_ASSERT_EQUAL(
            file + ": no master key (set TAWASUL_MASTER_KEY, or run `tawasul migrate` to create this file)",
            secretError([&] { SecretBox::fromEnvironmentOrFile(file, false); }));
        CPPUNIT_ASSERT(!std::filesystem::exists(file));
    }

    void testRefusesFileReadableByOthers() {
        using std::filesystem::perms;
        TempDir dir;
        const std::string file = dir.file("master.key");
        const std::string expected = file + ": the master key file must not be readable by others (chmod 600)";
        writeKeyFile(file, base64(keyOf('k')) + "\n", perms::owner_read | perms::owner_write | perms::group_read);
        CPPUNIT_ASSERT_EQUAL(expected, secretError([&] { SecretBox::fromEnvironmentOrFile(file, false); }));
        CPPUNIT_ASSERT_EQUAL(expected, secretError([&] { SecretBox::fromEnvironmentOrFile(file, true); }));
        std::filesystem::permissions(file, perms::owner_read | perms::owner_write | perms::others_read);
        CPPUNIT_ASSERT_EQUAL(expected, secretError([&] { SecretBox::fromEnvironmentOrFile(file, false); }));
        std::filesystem::permissions(file, perms::owner_read | perms::owner_write | perms::group_write);
        CPPUNIT_ASSERT_EQUAL(expected, secretError([&] { SecretBox::fromEnvironmentOrFile(file, false); }));
        // Owner-only (even read-only) is accepted, and the key is the one in the file.
        std::filesystem::permissions(file, perms::owner_read);
        const SecretBox box = SecretBox::fromEnvironmentOrFile(file, false);
        CPPUNIT_ASSERT_EQUAL(std::string("v"), SecretBox(keyOf('k')).open(box.seal("v", "c"), "c"));
    }

    void testRefusesKeyOfWrongLength() {
        using std::filesystem::perms;
        TempDir dir;
        const std::string file = dir.file("master.key");
        writeKeyFile(file, base64(std::string(16, 'k')) + "\n", perms::owner_read | perms::owner_write);
        CPPUNIT_ASSERT_EQUAL(file + ": the master key must be 32 bytes (base64 of 32 random bytes), got 16",
                             secretError([&] { SecretBox::fromEnvironmentOrFile(file, false); }));
        writeKeyFile(file, base64(std::string(33, 'k')), perms::owner_read | perms::owner_write);
        CPPUNIT_ASSERT_EQUAL(file + ": the master key must be 32 bytes (base64 of 32 random bytes), got 33",
                             secretError([&] { SecretBox::fromEnvironmentOrFile(file, false); }));
        writeKeyFile(file, "", perms::owner_read | perms::owner_write);
        CPPUNIT_ASSERT_EQUAL(file + ": the master key must be 32 bytes (base64 of 32 random bytes), got 0",
                             secretError([&] { SecretBox::fromEnvironmentOrFile(file, true); }));
        writeKeyFile(file, "this is not base64 at all!", perms::owner_read | perms::owner_write);
        CPPUNIT_ASSERT_EQUAL(file + ": the master key is not valid base64",
                             secretError([&] { SecretBox::fromEnvironmentOrFile(file, false); }));
        // Surrounding white space is fine.
        writeKeyFile(file, "  " + base64(keyOf('k')) + "\n\n", perms::owner_read | perms::owner_write);
        const SecretBox box = SecretBox::fromEnvironmentOrFile(file, false);
        CPPUNIT_ASSERT_EQUAL(std::string("v"), SecretBox(keyOf('k')).open(box.seal("v", "c"), "c"));
    }

    void testEnvironmentWinsOverFile() {
        using std::filesystem::perms;
        TempDir dir;
        const std::string file = dir.file("master.key");
        writeKeyFile(file, base64(keyOf('f')) + "\n", perms::owner_read | perms::owner_write);
        ::setenv("TAWASUL_MASTER_KEY", base64(keyOf('e')).c_str(), 1);
        const SecretBox box = SecretBox::fromEnvironmentOrFile(file, false);
        const std::string sealed = box.seal("EAAG-token", "whatsapp.cloud.access_token");
        CPPUNIT_ASSERT_EQUAL(std::string("EAAG-token"), SecretBox(keyOf('e')).open(sealed, "whatsapp.cloud.access_token"));
        CPPUNIT_ASSERT_EQUAL(kAltered, secretError([&] { SecretBox(keyOf('f')).open(sealed, "whatsapp.cloud.access_token"); }));
        // With the key in the environment, the file is neither read nor created.
        std::filesystem::permissions(file, perms::owner_read | perms::owner_write | perms::others_read);
        SecretBox::fromEnvironmentOrFile(file, false);
        const std::string absent = dir.file("absent/master.key");
        const SecretBox fromEnv = SecretBox::fromEnvironmentOrFile(absent, true);
        CPPUNIT_ASSERT(!std::filesystem::exists(absent));
        CPPUNIT_ASSERT_EQUAL(std::string("x"), SecretBox(keyOf('e')).open(fromEnv.seal("x", "c"), "c"));
        // An empty variable counts as unset: the file is used.
        ::setenv("TAWASUL_MASTER_KEY", "", 1);
        std::filesystem::permissions(file, perms::owner_read | perms::owner_write);
        const SecretBox fromFile = SecretBox::fromEnvironmentOrFile(file, false);
        CPPUNIT_ASSERT_EQUAL(std::string("y"), SecretBox(keyOf('f')).open(fromFile.seal("y", "c"), "c"));
    }

    void testBadEnvironmentKey() {
        TempDir dir;
        ::setenv("TAWASUL_MASTER_KEY", base64(std::string(24, 'e')).c_str(), 1);
        CPPUNIT_ASSERT_EQUAL(
            std::string("TAWASUL_MASTER_KEY: the master key must be 32 bytes (base64 of 32 random bytes), got 24"),
            secretError([&] { SecretBox::fromEnvironmentOrFile(dir.file("master.key"), true); }));
        ::setenv("TAWASUL_MASTER_KEY", "not base64!", 1);
        CPPUNIT_ASSERT_EQUAL(std::string("TAWASUL_MASTER_KEY: the master key is not valid base64"),
                             secretError([&] { SecretBox::fromEnvironmentOrFile(dir.file("master.key"), true); }));
        CPPUNIT_ASSERT(!std::filesystem::exists(dir.file("master.key")));
    }

private:
    std::optional<std::string> savedKey_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(SecretBoxTest);
