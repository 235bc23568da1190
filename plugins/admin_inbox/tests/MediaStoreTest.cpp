// The media store's pieces without a host: the type, name and header rules, the configuration's
// keys, and the files (named by hash, 0600 in 0700, written whole, kept once).
#include <sys/stat.h>

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <vector>
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

// A MediaSource that answers what the test says, and counts the calls.
class StubSource final : public sdk::MediaSource {
public:
    sdk::MediaFetch next;
    int calls = 0;
    std::uint64_t askedMax = 0;
    sdk::MediaFetch fetch(const std::string&, const sdk::MediaLimits& limits) override {
        ++calls;
        askedMax = limits.maxBytes;
        return next;
    }
};

sdk::Job fetchJob(std::int64_t messageId, int attempt, int maxAttempts) {
    sdk::Job job;
    job.id = 1;
    job.type = sdk::kFetchMediaJob;
    job.payload = "{\"message_id\":" + std::to_string(messageId) + "}";
    job.attempts = attempt;
    job.maxAttempts = maxAttempts;
    return job;
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
    CPPUNIT_TEST(rangeHeadersAreReadAsRfc9110Says);
    CPPUNIT_TEST(partsAreReadAloneInBothStorages);
    CPPUNIT_TEST(configurationDefaultsAndRefusals);
    CPPUNIT_TEST(filesAreNamedByHashPrivateAndKeptOnce);
    CPPUNIT_TEST(theJobDecidesByWhatTheSourceSays);
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

    void rangeHeadersAreReadAsRfc9110Says() {
        using Kind = ByteRange::Kind;
        const auto shown = [](const std::optional<std::string>& header, std::int64_t total) {
            const ByteRange r = parseByteRange(header, total);
            return r.kind == Kind::Whole ? std::string("whole")
                   : r.kind == Kind::Unsatisfiable ? std::string("none")
                                                   : std::to_string(r.first) + "-" + std::to_string(r.last);
        };
        CPPUNIT_ASSERT_EQUAL(std::string("whole"), shown(std::nullopt, 100));
        CPPUNIT_ASSERT_EQUAL(std::string("0-99"), shown("bytes=0-", 100));
        CPPUNIT_ASSERT_EQUAL(std::string("10-19"), shown("bytes=10-19", 100));
        CPPUNIT_ASSERT_EQUAL(std::string("10-99"), shown(" bytes= 10-500 ", 100));
        CPPUNIT_ASSERT_EQUAL(std::string("70-99"), shown("bytes=-30", 100));
        CPPUNIT_ASSERT_EQUAL(std::string("0-99"), shown("bytes=-300", 100));
        CPPUNIT_ASSERT_EQUAL(std::string("99-99"), shown("Bytes=99-", 100));
        CPPUNIT_ASSERT_EQUAL(std::string("none"), shown("bytes=100-", 100));
        CPPUNIT_ASSERT_EQUAL(std::string("none"), shown("bytes=-0", 100));
        CPPUNIT_ASSERT_EQUAL(std::string("none"), shown("bytes=0-", 0));   // an empty file holds no byte
        CPPUNIT_ASSERT_EQUAL(std::string("none"), shown("bytes=-5", 0));
        CPPUNIT_ASSERT_EQUAL(std::string("none"), shown("bytes=99999999999999999999999999-", 100));
        for (const char* bad : {"", "bytes", "bytes=", "bytes=-", "bytes=a-", "bytes=5-4", "bytes=1-2-3", "bytes=0-1,3-4", "bytes=,0-1",
                                "bytes=-1,", "pages=0-1", "bytes=0-1x", "bytes=1 -2", "bytes=-+3"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(bad, std::string("whole"), shown(std::string(bad), 100));
    }

    void partsAreReadAloneInBothStorages() {
        const std::string bytes = std::string("\x89PNG\r\n\x1A\n", 8) + std::string(100, '\0') + "end";
        for (const bool inDatabase : {false, true}) {
            test::TempDir dir;
            MediaOptions options;
            options.dir = dir.path() / "var" / "media";
            options.inDatabase = inDatabase;
            test::InboxFixture fixture(dir);
            MediaStore store(fixture.database(), options);
            const std::string sha = store.keep(bytes);
            CPPUNIT_ASSERT(store.storedSize(sha) == std::int64_t(111));
            CPPUNIT_ASSERT(store.readPart(sha, 0, 4) == std::string("\x89PNG", 4));
            CPPUNIT_ASSERT(store.readPart(sha, 8, 3) == std::string(3, '\0'));  // NULs are bytes too
            CPPUNIT_ASSERT(store.readPart(sha, 108, 3) == std::string("end"));
            CPPUNIT_ASSERT(store.readPart(sha, 108, 50) == std::string("end"));  // cut where the bytes end
            CPPUNIT_ASSERT(!store.storedSize(std::string(64, 'a')).has_value());
            CPPUNIT_ASSERT(!store.readPart(std::string(64, 'a'), 0, 4).has_value());
            CPPUNIT_ASSERT(!store.readPart("../../etc/passwd", 0, 4).has_value());
        }
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

    // The fetch_media job against a migrated database and a stub source: each answer's state, the
    // passing ones retried until the last attempt gives up, and the checks of what was fetched.
    void theJobDecidesByWhatTheSourceSays() {
        test::TempDir dir;
        test::InboxFixture fixture(dir);
        fixture.conversation(1, "Amina Benali", "213555123456", "open", 1000);
        const std::string png = std::string("\x89PNG\r\n\x1A\n", 8) + "pixels";
        const std::string sha = sdk::sha256Hex(png);
        const auto message = [&](int id, const std::string& webhookSha) {
            fixture.sql("INSERT INTO whatsapp_messages (id, conversation_id, direction, wa_message_id, type, body, payload, status, media_id, "
                        "media_mime_type, created_at) VALUES (" + std::to_string(id) + ", 1, 'in', 'wamid.S" + std::to_string(id) +
                        "', 'image', '', '{\"type\":\"image\",\"image\":{\"id\":\"5" + std::to_string(id) +
                        "\",\"mime_type\":\"image/png\",\"sha256\":\"" + webhookSha + "\"}}', 'received', '5" + std::to_string(id) +
                        "', 'image/png', 1000)");
        };
        MediaOptions options;
        options.dir = dir.path() / "media";
        options.maxBytes = 4096;
        MediaStore store(fixture.database(), options);
        auto source = std::make_shared<StubSource>();
        std::vector<std::int64_t> changed;
        const auto run = [&](std::int64_t id, int attempt, int max) {
            store.fetch(fetchJob(id, attempt, max), source, 2000, [&](std::int64_t c) { changed.push_back(c); });
        };
        const auto state = [&](std::int64_t id) {
            const auto row = store.find(id);
            return row ? row->status + "|" + row->error + "|" + std::to_string(row->attempts) : std::string("none");
        };

        // A passing problem: pending with its reason, and the queue is asked to come back.
        message(10, sha);
        source->next.outcome = sdk::MediaOutcome::RetryLater;
        source->next.detail = "HTTP 503";
        CPPUNIT_ASSERT_THROW(run(10, 1, 3), sdk::RetryJobLater);
        CPPUNIT_ASSERT_EQUAL(std::string("pending||1"), state(10));
        CPPUNIT_ASSERT_EQUAL(std::string("HTTP 503"), store.find(10)->errorDetail);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4096), source->askedMax);
        source->next.outcome = sdk::MediaOutcome::Unavailable;
        CPPUNIT_ASSERT_THROW(run(10, 2, 3), sdk::RetryJobLater);
        // The last attempt gives up, visibly, and ends the job.
        run(10, 3, 3);
        CPPUNIT_ASSERT_EQUAL(std::string("failed|gave_up|3"), state(10));
        // No source running: retried, and given up alike.
        message(11, sha);
        CPPUNIT_ASSERT_THROW(store.fetch(fetchJob(11, 1, 2), nullptr, 2000, [](std::int64_t) {}), sdk::RetryJobLater);
        store.fetch(fetchJob(11, 2, 2), nullptr, 2000, [](std::int64_t) {});
        CPPUNIT_ASSERT_EQUAL(std::string("failed|gave_up|2"), state(11));

        // What the source fetched is checked: the webhook's sha256, the first bytes, an empty file.
        source->next = sdk::MediaFetch{};
        source->next.outcome = sdk::MediaOutcome::Fetched;
        source->next.bytes = png;
        source->next.mimeType = "image/png";
        message(12, std::string(64, 'a'));  // the webhook says other bytes
        run(12, 1, 3);
        CPPUNIT_ASSERT_EQUAL(std::string("failed|checksum|1"), state(12));
        message(13, sha);
        source->next.bytes = "<html>";
        source->next.sha256.clear();
        message(14, "");
        run(14, 1, 3);
        CPPUNIT_ASSERT_EQUAL(std::string("failed|type|1"), state(14));
        source->next.bytes.clear();
        message(15, "");
        run(15, 1, 3);
        CPPUNIT_ASSERT_EQUAL(std::string("failed|refused|1"), state(15));
        // A whole, right file is stored, and a job run again fetches nothing.
        source->next.bytes = png;
        source->next.sha256 = sha;
        run(13, 1, 3);
        CPPUNIT_ASSERT_EQUAL(std::string("stored||1"), state(13));
        CPPUNIT_ASSERT_EQUAL(sha, store.find(13)->sha256);
        const int calls = source->calls;
        run(13, 1, 3);
        CPPUNIT_ASSERT_EQUAL(calls, source->calls);
        // Final answers of the source, each its word; "not found" on a recent message is not expiry.
        const std::pair<sdk::MediaOutcome, std::string> finals[] = {{sdk::MediaOutcome::NotFound, "not_found"},
                                                                    {sdk::MediaOutcome::Expired, "expired"},
                                                                    {sdk::MediaOutcome::TooLarge, "too_large"},
                                                                    {sdk::MediaOutcome::Refused, "refused"}};
        int id = 20;
        for (const auto& [outcome, word] : finals) {
            message(id, sha);
            source->next = sdk::MediaFetch{};
            source->next.outcome = outcome;
            run(id, 1, 3);
            CPPUNIT_ASSERT_EQUAL(word, store.find(id)->error);
            ++id;
        }
        // Every state the page shows was announced for the message's conversation.
        CPPUNIT_ASSERT(!changed.empty());
        CPPUNIT_ASSERT(std::all_of(changed.begin(), changed.end(), [](std::int64_t c) { return c == 1; }));
        // A job for a message that is not there, or has no media, fails for good.
        CPPUNIT_ASSERT_THROW(run(999, 1, 3), sdk::PermanentJobFailure);
        fixture.sql("INSERT INTO whatsapp_messages (id, conversation_id, direction, type, body, status, created_at) VALUES (30, 1, 'in', 'text', 'hi', 'received', 1000)");
        CPPUNIT_ASSERT_THROW(run(30, 1, 3), sdk::PermanentJobFailure);
        CPPUNIT_ASSERT_THROW(store.fetch([] { sdk::Job job; job.payload = "{}"; return job; }(), source, 0, [](std::int64_t) {}), sdk::PermanentJobFailure);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MediaStoreTest);
