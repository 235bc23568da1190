// The media store's pieces without a host: the type, name and header rules, the configuration's
// keys, and the files (named by hash, 0600 in 0700, written whole, kept once).
#include <sys/stat.h>

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "InboxFixture.hpp"
#include "MediaStore.hpp"
#include "TestSupport.hpp"
#include "tawasul/sdk/Config.hpp"
#include "tawasul/sdk/Crypto.hpp"

using namespace tawasul;
using namespace tawasul::plugins::admin_inbox;

namespace {

unsigned modeOf(const std::filesystem::path& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 ? (info.st_mode & 0777) : 0;
}

std::string configError(const std::string& yaml) {
    try {
        const auto root = sdk::ConfigNode::loadString(yaml, "inbox.yaml");
        readMediaOptions(root.child("media"));
    } catch (const sdk::ConfigError& error) {
        return error.what();
    }
    return "";
}

}  // namespace

class MediaStoreTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MediaStoreTest);
    CPPUNIT_TEST(typesAreCheckedForTheKindOfMessage);
    CPPUNIT_TEST(filenamesCannotMakeAHeader);
    CPPUNIT_TEST(configurationDefaultsAndRefusals);
    CPPUNIT_TEST(filesAreNamedByHashPrivateAndKeptOnce);
    CPPUNIT_TEST_SUITE_END();

public:
    void typesAreCheckedForTheKindOfMessage() {
        CPPUNIT_ASSERT_EQUAL(std::string("image/jpeg"), bareMimeType(" Image/JPEG ; q=1"));
        CPPUNIT_ASSERT_EQUAL(std::string("audio/ogg"), bareMimeType("audio/ogg; codecs=opus"));
        for (const char* bad : {"", "image", "/png", "image/", "image/png/x", "image/p ng", "text/html\r\nX: y"})
            CPPUNIT_ASSERT_MESSAGE(bad, bareMimeType(bad).empty());
        CPPUNIT_ASSERT(acceptedMediaType("image", "image/png"));
        CPPUNIT_ASSERT(acceptedMediaType("image", "image/jpeg"));
        CPPUNIT_ASSERT(!acceptedMediaType("image", "image/svg+xml"));
        CPPUNIT_ASSERT(!acceptedMediaType("image", "text/html"));
        CPPUNIT_ASSERT(acceptedMediaType("sticker", "image/webp"));
        CPPUNIT_ASSERT(acceptedMediaType("audio", "audio/ogg"));
        CPPUNIT_ASSERT(!acceptedMediaType("audio", "video/mp4"));
        CPPUNIT_ASSERT(acceptedMediaType("video", "video/mp4"));
        CPPUNIT_ASSERT(acceptedMediaType("document", "application/pdf"));
        CPPUNIT_ASSERT(!acceptedMediaType("document", ""));
        CPPUNIT_ASSERT(!acceptedMediaType("text", "text/plain"));
        CPPUNIT_ASSERT(bytesMatchType("image/png", "\x89PNG\r\n\x1A\nrest"));
        CPPUNIT_ASSERT(!bytesMatchType("image/png", "<svg/>"));
        CPPUNIT_ASSERT(bytesMatchType("image/jpeg", "\xFF\xD8\xFF\xE0"));
        CPPUNIT_ASSERT(!bytesMatchType("image/jpeg", "<html>"));
        CPPUNIT_ASSERT(bytesMatchType("image/webp", std::string("RIFF\0\0\0\0WEBPVP8 ", 16)));
        CPPUNIT_ASSERT(!bytesMatchType("image/webp", "RIFF"));
        CPPUNIT_ASSERT(bytesMatchType("application/pdf", "anything"));
    }

    void filenamesCannotMakeAHeader() {
        CPPUNIT_ASSERT_EQUAL(std::string("facture.pdf"), safeFilename("facture.pdf"));
        CPPUNIT_ASSERT_EQUAL(std::string("a_b__c.pdf"), safeFilename("a\"b\r\nc.pdf"));
        CPPUNIT_ASSERT_EQUAL(std::string("passwd"), safeFilename("../../etc/passwd"));
        CPPUNIT_ASSERT_EQUAL(std::string("x.txt"), safeFilename("C:\\\\Users\\\\x.txt"));
        CPPUNIT_ASSERT_EQUAL(std::string("file"), safeFilename(""));
        CPPUNIT_ASSERT_EQUAL(std::string("file"), safeFilename("../"));
        CPPUNIT_ASSERT_EQUAL(std::string("file"), safeFilename(".."));
        // Long Arabic names are cut between characters.
        std::string arabic;
        for (int i = 0; i < 150; ++i) arabic += "ف";
        const std::string cut = safeFilename(arabic);
        CPPUNIT_ASSERT(cut.size() <= 200 && cut.size() % 2 == 0);
        CPPUNIT_ASSERT_EQUAL(std::string("attachment; filename=\"a_b.pdf\"; filename*=UTF-8''a_b.pdf"), attachmentDisposition("a;b.pdf"));
        CPPUNIT_ASSERT_EQUAL(std::string("attachment; filename=\"____.pdf\"; filename*=UTF-8''%D9%81%D9%84.pdf"), attachmentDisposition("فل.pdf"));
        const std::string header = attachmentDisposition("x\r\nSet-Cookie: a=b\".pdf");
        CPPUNIT_ASSERT(header.find('\r') == std::string::npos && header.find('\n') == std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::ptrdiff_t(2), std::count(header.begin(), header.end(), '"'));
    }

    void configurationDefaultsAndRefusals() {
        const auto root = sdk::ConfigNode::loadString("other: 1\n", "inbox.yaml");
        const MediaOptions defaults = readMediaOptions(root.child("media"));
        CPPUNIT_ASSERT_EQUAL(std::string("var/media"), defaults.dir.string());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(16 * 1024 * 1024), defaults.maxBytes);
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api"), defaults.source);
        const std::string small = configError("media:\n  max_bytes: 12\n");
        CPPUNIT_ASSERT_MESSAGE(small, small.rfind("inbox.yaml:2:", 0) == 0 && small.find("max_bytes") != std::string::npos);
        CPPUNIT_ASSERT(configError("media:\n  max_bytes: 104857601\n").rfind("inbox.yaml:2:", 0) == 0);
        CPPUNIT_ASSERT(configError("media:\n  max_bytes: x\n").rfind("inbox.yaml:2:", 0) == 0);
        CPPUNIT_ASSERT(configError("media:\n  dir: \"\"\n").find("dir must name a directory") != std::string::npos);
        CPPUNIT_ASSERT(configError("media:\n  sauce: x\n").rfind("inbox.yaml:2:", 0) == 0);
        CPPUNIT_ASSERT(!configError("media: [1]\n").empty());
        CPPUNIT_ASSERT(configError("media:\n  max_bytes: 1024\n  timeout_seconds: 5\n").empty());
    }

    void filesAreNamedByHashPrivateAndKeptOnce() {
        test::TempDir dir;
        MediaOptions options;
        options.dir = dir.path() / "var" / "media";
        test::InboxFixture fixture(dir);
        MediaStore store(fixture.database(), options);
        const std::string bytes = std::string("\x89PNG\r\n\x1A\n", 8) + std::string(1000, '\0');
        const std::string sha = store.keep(bytes);
        CPPUNIT_ASSERT_EQUAL(sdk::sha256Hex(bytes), sha);
        const auto file = options.dir / sha.substr(0, 2) / sha;
        CPPUNIT_ASSERT_EQUAL(file.string(), store.pathOf(sha).string());
        CPPUNIT_ASSERT(bytes == test::readFile(file.string()));
        CPPUNIT_ASSERT_EQUAL(0600u, modeOf(file));
        CPPUNIT_ASSERT_EQUAL(0700u, modeOf(file.parent_path()));
        CPPUNIT_ASSERT_EQUAL(0700u, modeOf(options.dir));
        // Kept once: the second keep writes nothing (the file's time does not move).
        const auto written = std::filesystem::last_write_time(file);
        CPPUNIT_ASSERT_EQUAL(sha, store.keep(bytes));
        CPPUNIT_ASSERT(written == std::filesystem::last_write_time(file));
        std::size_t files = 0;
        for (const auto& entry : std::filesystem::recursive_directory_iterator(options.dir))
            if (entry.is_regular_file()) ++files;
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), files);  // no temporary file left
        CPPUNIT_ASSERT(store.read(sha) == bytes);
        CPPUNIT_ASSERT(!store.read("../../etc/passwd").has_value());
        CPPUNIT_ASSERT(!store.read(std::string(64, 'a')).has_value());
        // A directory left open by someone is narrowed.
        std::filesystem::permissions(options.dir, std::filesystem::perms::all);
        store.prepareDirectory();
        CPPUNIT_ASSERT_EQUAL(0700u, modeOf(options.dir));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MediaStoreTest);
