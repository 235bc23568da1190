#include "MediaChecks.hpp"

#include <sys/stat.h>

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "OutboundSupport.hpp"
#include "WebhookSupport.hpp"
#include "tawasul/sdk/Crypto.hpp"

namespace tawasul::test {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

unsigned modeOf(const fs::path& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return 0;
    return info.st_mode & 0777;
}

std::string header(const HttpResult& result, const std::string& name) {
    const auto it = result.headers.find(name);
    return it == result.headers.end() ? std::string() : it->second;
}

FormFields noFields() { return {}; }

}  // namespace

std::string receiptPng() { return readFile(TAWASUL_SOURCE_DIR "/tests/fixtures/media/receipt.png"); }

std::string inboundMediaBody(const InboundMedia& media) {
    Poco::JSON::Object content;
    content.set("id", media.mediaId);
    content.set("mime_type", media.mimeType);
    if (!media.sha256.empty()) content.set("sha256", media.sha256);
    if (!media.caption.empty()) content.set("caption", media.caption);
    if (!media.filename.empty()) content.set("filename", media.filename);
    Poco::JSON::Object message;
    message.set("from", kCustomerWaId);
    message.set("id", media.wamid);
    message.set("timestamp", std::to_string(nowSeconds() - media.secondsAgo));
    message.set("type", media.type);
    message.set(media.type, content);
    Poco::JSON::Object profile;
    profile.set("name", "Amina Benali");
    Poco::JSON::Object contact;
    contact.set("profile", profile);
    contact.set("wa_id", kCustomerWaId);
    Poco::JSON::Object metadata;
    metadata.set("display_phone_number", "213000000001");
    metadata.set("phone_number_id", kGraphPhoneNumberId);
    Poco::JSON::Array contacts, messages;
    contacts.add(contact);
    messages.add(message);
    Poco::JSON::Object value;
    value.set("messaging_product", "whatsapp");
    value.set("metadata", metadata);
    value.set("contacts", contacts);
    value.set("messages", messages);
    Poco::JSON::Object change;
    change.set("field", "messages");
    change.set("value", value);
    Poco::JSON::Array changes;
    changes.add(change);
    Poco::JSON::Object entry;
    entry.set("id", "102290129340398");
    entry.set("changes", changes);
    Poco::JSON::Array entries;
    entries.add(entry);
    Poco::JSON::Object root;
    root.set("object", "whatsapp_business_account");
    root.set("entry", entries);
    std::ostringstream out;
    root.stringify(out);
    return out.str();
}

MediaHost::MediaHost(const std::string& databaseUrl, std::int64_t maxBytes, const std::string& storage)
    : mediaRoot_(std::make_unique<TempDir>()), fake_(std::make_unique<FakeGraphApi>()) {
    fake_->requireToken(kGraphToken);
    HostOptions options = withWebhookSecrets();
    options.databaseUrl = databaseUrl;
    options.pluginsYaml =
        "    - webhook_receiver: {}\n    - contact_matcher: {}\n    - inbound_router: {}\n"
        "    - cloud_api: { graph_url: \"" + fake_->url() + "\", api_version: v21.0, messages_per_second: 1000, timeout_ms: 2000 }\n"
        "    - outbox: {}\n"
        "    - admin_inbox: { media: { storage: " + storage + ", dir: \"" + mediaDir() + "\", max_bytes: " + std::to_string(maxBytes) + ", timeout_seconds: 10 } }\n";
    options.extraYaml = "dispatch:\n  chain: [cloud_api, outbox]\n";
    options.settings.emplace_back("whatsapp.cloud.access_token", kGraphToken);
    options.settings.emplace_back("whatsapp.cloud.phone_number_id", kGraphPhoneNumberId);
    host_ = std::make_unique<HostProcess>(options);
    host_->start();
    db_ = openDatabase(host_->databaseUrl());
}

// A directory the host creates itself (the parent exists): its mode is the host's doing.
std::string MediaHost::mediaDir() const { return (mediaRoot_->path() / "var" / "media").string(); }

std::int64_t MediaHost::receive(const InboundMedia& media) {
    CPPUNIT_ASSERT_EQUAL(200, postSigned(*host_, inboundMediaBody(media)).status);
    waitForProcessing(*db_);
    return std::stoll(queryText(*db_, "SELECT id FROM whatsapp_messages WHERE wa_message_id = '" + media.wamid + "'"));
}

std::string MediaHost::waitForMedia(std::int64_t messageId, const std::string& status) {
    const std::string query = "SELECT status, COALESCE(error, '') FROM whatsapp_media WHERE message_id = " + std::to_string(messageId);
    std::string last;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        last = queryRows(*db_, query);
        if (last.rfind(status + "|", 0) == 0) return last;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    CPPUNIT_FAIL("media of message " + std::to_string(messageId) + " never became " + status + " (last: '" + last + "')\n" + host_->log());
    return last;
}

std::string MediaHost::conversationUrl(std::int64_t messageId) {
    return "/admin/messaging/whatsapp/conversations/" +
           queryText(*db_, "SELECT conversation_id FROM whatsapp_messages WHERE id = " + std::to_string(messageId));
}

std::size_t MediaHost::files() const {
    std::size_t count = 0;
    std::error_code error;
    if (!fs::exists(mediaDir(), error)) return 0;
    for (const auto& entry : fs::recursive_directory_iterator(mediaDir()))
        if (entry.is_regular_file()) ++count;
    return count;
}

void checkImageStoredOnceAndServed(MediaHost& h) {
    const std::string png = receiptPng();
    const std::string sha = sdk::sha256Hex(png);
    h.fake().addMedia("1001", FakeMedia{png, "image/png"});
    InboundMedia image;
    image.wamid = "wamid.MEDIA.IMAGE1";
    image.mediaId = "1001";
    image.sha256 = sha;
    image.caption = "Mon reçu de paiement";
    const std::string body = inboundMediaBody(image);
    const std::int64_t id = h.receive(image);
    CPPUNIT_ASSERT_EQUAL(std::string("stored|"), h.waitForMedia(id, "stored"));
    CPPUNIT_ASSERT_EQUAL(sha + "|image/png|" + std::to_string(png.size()),
                         queryRows(h.db(), "SELECT sha256, mime_type, size_bytes FROM whatsapp_media WHERE message_id = " + std::to_string(id)));

    // One file, named by its hash, private, whole.
    const fs::path file = fs::path(h.mediaDir()) / sha.substr(0, 2) / sha;
    CPPUNIT_ASSERT_EQUAL(png, readFile(file.string()));
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), h.files());
    CPPUNIT_ASSERT_EQUAL(0600u, modeOf(file));
    CPPUNIT_ASSERT_EQUAL(0700u, modeOf(h.mediaDir()));
    CPPUNIT_ASSERT_EQUAL(0700u, modeOf(file.parent_path()));
    // Both calls carried the token (the fake answers 401 without it), once each.
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), h.fake().mediaLookups("1001"));
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), h.fake().mediaDownloads("1001"));

    // The page shows the image, whose route gives those bytes to a signed-in user.
    addUser(h.host(), "agent.media@example.dz", "agent", "media-test-password");
    const AdminBrowser agent = signIn(h.host(), "agent.media@example.dz", "media-test-password");
    const std::string url = h.conversationUrl(id);
    const HttpResult page = agent.get(url);
    CPPUNIT_ASSERT_EQUAL(200, page.status);
    const std::string src = kMediaRoute + std::to_string(id);
    CPPUNIT_ASSERT_MESSAGE(page.body, contains(page.body, "<img src=\"" + src + "\" alt=\"Mon reçu de paiement\""));
    CPPUNIT_ASSERT_MESSAGE(page.body, contains(page.body, "<a class=\"view-image\" href=\"" + src + "\""));
    const HttpResult served = agent.get(src);
    CPPUNIT_ASSERT_EQUAL(200, served.status);
    CPPUNIT_ASSERT(png == served.body);
    CPPUNIT_ASSERT_EQUAL(std::string("image/png"), header(served, "content-type"));
    CPPUNIT_ASSERT_EQUAL(std::string("nosniff"), header(served, "x-content-type-options"));
    CPPUNIT_ASSERT_EQUAL(std::string("default-src 'none'; sandbox"), header(served, "content-security-policy"));
    CPPUNIT_ASSERT_EQUAL(std::string("inline"), header(served, "content-disposition"));

    // Without a session: refused, and not a byte of it.
    const HttpResult anonymous = h.host().request("GET", src);
    CPPUNIT_ASSERT_EQUAL(401, anonymous.status);
    CPPUNIT_ASSERT(!contains(anonymous.body, png.substr(0, 8)));
    // A forged cookie is no session either.
    CPPUNIT_ASSERT_EQUAL(401, h.host().request("GET", src, "", {{"Cookie", "tawasul_session=forged"}}).status);
    // Nothing for a message without stored media, or no message at all.
    CPPUNIT_ASSERT_EQUAL(404, agent.get(kMediaRoute + "999999").status);
    CPPUNIT_ASSERT_EQUAL(404, agent.get(kMediaRoute + "x").status);

    // Meta delivers the same webhook again: nothing is fetched again, no job is queued.
    CPPUNIT_ASSERT_EQUAL(200, postSigned(h.host(), body).status);
    waitForProcessing(h.db());
    CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(h.db(), "SELECT COUNT(*) FROM jobs WHERE type = 'fetch_media'"));
    CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(h.db(), "SELECT COUNT(*) FROM whatsapp_messages WHERE wa_message_id = 'wamid.MEDIA.IMAGE1'"));

    // The same bytes under another id (the customer sends the receipt again): kept once.
    h.fake().addMedia("1002", FakeMedia{png, "image/png"});
    InboundMedia again = image;
    again.wamid = "wamid.MEDIA.IMAGE2";
    again.mediaId = "1002";
    again.caption.clear();
    const std::int64_t second = h.receive(again);
    h.waitForMedia(second, "stored");
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), h.files());
    CPPUNIT_ASSERT_EQUAL(std::string("2"), queryText(h.db(), "SELECT COUNT(*) FROM whatsapp_media WHERE sha256 = '" + sha + "'"));
    CPPUNIT_ASSERT(png == agent.get(kMediaRoute + std::to_string(second)).body);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), h.fake().mediaLookups("1001"));
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), h.fake().mediaDownloads("1001"));

    // A document of a type that could run as a page (HTML) is kept but only ever downloaded, under
    // a name that can carry no header of its own.
    const std::string html = "<!doctype html><script>alert(document.cookie)</script>";
    h.fake().addMedia("1003", FakeMedia{html, "text/html"});
    InboundMedia document;
    document.wamid = "wamid.MEDIA.DOC1";
    document.type = "document";
    document.mediaId = "1003";
    document.mimeType = "text/html";
    document.filename = "fac\"ture\r\nSet-Cookie: x=1.html";
    const std::int64_t doc = h.receive(document);
    h.waitForMedia(doc, "stored");
    const HttpResult download = agent.get(kMediaRoute + std::to_string(doc));
    CPPUNIT_ASSERT_EQUAL(200, download.status);
    CPPUNIT_ASSERT_EQUAL(html, download.body);
    CPPUNIT_ASSERT_EQUAL(std::string("text/html"), header(download, "content-type"));
    CPPUNIT_ASSERT_EQUAL(std::string("default-src 'none'; sandbox"), header(download, "content-security-policy"));
    CPPUNIT_ASSERT_EQUAL(std::string("nosniff"), header(download, "x-content-type-options"));
    const std::string disposition = header(download, "content-disposition");
    CPPUNIT_ASSERT_MESSAGE(disposition, disposition.rfind("attachment; filename=\"fac_ture__Set-Cookie: x=1.html\"", 0) == 0);
    CPPUNIT_ASSERT(download.headers.count("set-cookie") == 0);
    const HttpResult withDocument = agent.get(url);
    CPPUNIT_ASSERT_MESSAGE(withDocument.body, contains(withDocument.body, "<a class=\"view-document\" href=\"" + kMediaRoute + std::to_string(doc) + "\" download>"));
    CPPUNIT_ASSERT_MESSAGE(withDocument.body, contains(withDocument.body, "<span class=\"doc-size\" dir=\"auto\">" + std::to_string(html.size()) + " B</span>"));

    // Audio and video get their players, a sticker its image.
    h.fake().addMedia("1004", FakeMedia{"OggS-fake-voice-note", "audio/ogg; codecs=opus"});
    InboundMedia voice;
    voice.wamid = "wamid.MEDIA.AUDIO1";
    voice.type = "audio";
    voice.mediaId = "1004";
    voice.mimeType = "audio/ogg; codecs=opus";
    h.waitForMedia(h.receive(voice), "stored");
    h.fake().addMedia("1005", FakeMedia{std::string("RIFF\x10\0\0\0WEBPVP8 fake", 20), "image/webp"});
    InboundMedia sticker;
    sticker.wamid = "wamid.MEDIA.STICKER1";
    sticker.type = "sticker";
    sticker.mediaId = "1005";
    sticker.mimeType = "image/webp";
    const std::int64_t stickerId = h.receive(sticker);
    h.waitForMedia(stickerId, "stored");
    const HttpResult players = agent.get(url);
    CPPUNIT_ASSERT_MESSAGE(players.body, contains(players.body, "<audio class=\"view-audio\" controls preload=\"none\" src=\"" + kMediaRoute));
    CPPUNIT_ASSERT_MESSAGE(players.body, contains(players.body, "<img class=\"view-sticker\" src=\"" + kMediaRoute + std::to_string(stickerId) + "\""));

    // A user whose role may not read the inbox gets nothing.
    revokePermission(h.host(), "viewer", "whatsapp.inbox.view");
    addUser(h.host(), "viewer.media@example.dz", "viewer", "media-test-password");
    const AdminBrowser viewer = signIn(h.host(), "viewer.media@example.dz", "media-test-password");
    const HttpResult forbidden = viewer.get(src);
    CPPUNIT_ASSERT_EQUAL(403, forbidden.status);
    CPPUNIT_ASSERT(!contains(forbidden.body, png.substr(0, 8)));
}

void checkImageStoredInTheDatabase(MediaHost& h) {
    const std::string png = receiptPng();
    const std::string sha = sdk::sha256Hex(png);
    addUser(h.host(), "agent.db@example.dz", "agent", "media-test-password");
    const AdminBrowser agent = signIn(h.host(), "agent.db@example.dz", "media-test-password");
    std::vector<std::int64_t> ids;
    for (const char* mediaId : {"4001", "4002"}) {
        h.fake().addMedia(mediaId, FakeMedia{png, "image/png"});
        InboundMedia image;
        image.wamid = std::string("wamid.MEDIA.DB") + mediaId;
        image.mediaId = mediaId;
        image.sha256 = sha;
        ids.push_back(h.receive(image));
        h.waitForMedia(ids.back(), "stored");
    }
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), h.files());
    CPPUNIT_ASSERT_EQUAL(sha + "|" + std::to_string(png.size()), queryRows(h.db(), "SELECT sha256, size_bytes FROM whatsapp_media_blobs"));
    for (const std::int64_t id : ids) {
        const HttpResult served = agent.get(kMediaRoute + std::to_string(id));
        CPPUNIT_ASSERT_EQUAL(200, served.status);
        CPPUNIT_ASSERT(png == served.body);  // every byte, NULs and all
        CPPUNIT_ASSERT_EQUAL(std::string("default-src 'none'; sandbox"), header(served, "content-security-policy"));
    }
    CPPUNIT_ASSERT_EQUAL(401, h.host().request("GET", kMediaRoute + std::to_string(ids[0])).status);
}

void checkRangeRequests(MediaHost& h) {
    // 1000 bytes with NULs and every byte value, so that a part cut a byte off shows.
    std::string video;
    for (int i = 0; i < 1000; ++i) video += static_cast<char>((i * 7) % 256);
    h.fake().addMedia("5001", FakeMedia{video, "video/mp4"});
    InboundMedia clip;
    clip.wamid = "wamid.MEDIA.RANGE1";
    clip.type = "video";
    clip.mediaId = "5001";
    clip.mimeType = "video/mp4";
    const std::int64_t id = h.receive(clip);
    CPPUNIT_ASSERT_EQUAL(std::string("stored|"), h.waitForMedia(id, "stored"));
    const std::string src = kMediaRoute + std::to_string(id);
    addUser(h.host(), "agent.range@example.dz", "agent", "media-test-password");
    const AdminBrowser agent = signIn(h.host(), "agent.range@example.dz", "media-test-password");
    const auto ranged = [&](const std::string& range) {
        return h.host().request("GET", src, "", {{"Cookie", agent.cookie()}, {"Range", range}});
    };
    const auto expectPart = [&](const std::string& range, std::size_t first, std::size_t last) {
        const HttpResult r = ranged(range);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(range, 206, r.status);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(range, "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/1000", header(r, "content-range"));
        CPPUNIT_ASSERT_MESSAGE(range, video.substr(first, last - first + 1) == r.body);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(range, std::to_string(last - first + 1), header(r, "content-length"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(range, std::string("bytes"), header(r, "accept-ranges"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(range, std::string("video/mp4"), header(r, "content-type"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(range, std::string("nosniff"), header(r, "x-content-type-options"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(range, std::string("default-src 'none'; sandbox"), header(r, "content-security-policy"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(range, std::string("inline"), header(r, "content-disposition"));
    };
    const auto expectWhole = [&](const std::string& range) {
        const HttpResult r = ranged(range);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(range, 200, r.status);
        CPPUNIT_ASSERT_MESSAGE(range, video == r.body);
        CPPUNIT_ASSERT_MESSAGE(range, r.headers.count("content-range") == 0);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(range, std::string("bytes"), header(r, "accept-ranges"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(range, std::string("nosniff"), header(r, "x-content-type-options"));
    };
    const auto expectUnsatisfiable = [&](const std::string& range) {
        const HttpResult r = ranged(range);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(range, 416, r.status);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(range, std::string("bytes */1000"), header(r, "content-range"));
        CPPUNIT_ASSERT_MESSAGE(range, !contains(r.body, video.substr(1, 8)));
    };

    // Without a Range: the whole file, saying that parts may be asked for.
    const HttpResult plain = agent.get(src);
    CPPUNIT_ASSERT_EQUAL(200, plain.status);
    CPPUNIT_ASSERT(video == plain.body);
    CPPUNIT_ASSERT_EQUAL(std::string("bytes"), header(plain, "accept-ranges"));
    // What Chromium's player asks first, then a seek; a range past the end is cut at the end.
    expectPart("bytes=0-", 0, 999);
    expectPart("bytes=100-199", 100, 199);
    expectPart("bytes=0-0", 0, 0);
    expectPart("bytes=990-5000", 990, 999);
    expectPart("bytes=100-", 100, 999);  // open
    expectPart("bytes=-500", 500, 999);  // suffix
    expectPart("bytes=-5000", 0, 999);   // a suffix longer than the file: all of it
    expectPart("BYTES=999-999", 999, 999);  // the unit ignores case
    // Nothing the file holds.
    expectUnsatisfiable("bytes=1000-");
    expectUnsatisfiable("bytes=5000-6000");
    expectUnsatisfiable("bytes=99999999999999999999999-");
    expectUnsatisfiable("bytes=-0");
    // Malformed, another unit, or several ranges: the whole file (RFC 9110 lets a server ignore them).
    for (const char* bad : {"bytes=", "bytes=-", "bytes=abc-def", "bytes=200-100", "bytes=1-2-3", "items=0-10", "bytes 0-10", "bytes=0x10-",
                            "bytes=+5-10", "bytes=0-10,20-30", "bytes=0-10, -5", ""})
        expectWhole(bad);
    // An If-Range names a validator this route never gave: the whole file.
    const HttpResult ifRange = h.host().request("GET", src, "", {{"Cookie", agent.cookie()}, {"Range", "bytes=0-9"}, {"If-Range", "\"x\""}});
    CPPUNIT_ASSERT_EQUAL(200, ifRange.status);
    CPPUNIT_ASSERT(video == ifRange.body);

    // No session, no part of it.
    const HttpResult anonymous = h.host().request("GET", src, "", {{"Range", "bytes=0-9"}});
    CPPUNIT_ASSERT_EQUAL(401, anonymous.status);
    CPPUNIT_ASSERT(!contains(anonymous.body, video.substr(1, 9)));
    CPPUNIT_ASSERT(anonymous.headers.count("content-range") == 0);
    CPPUNIT_ASSERT_EQUAL(401, h.host().request("GET", src, "", {{"Cookie", "tawasul_session=forged"}, {"Range", "bytes=0-9"}}).status);

    // A document's part is still a download.
    h.fake().addMedia("5002", FakeMedia{"%PDF-1.4 fake invoice body", "application/pdf"});
    InboundMedia document;
    document.wamid = "wamid.MEDIA.RANGE2";
    document.type = "document";
    document.mediaId = "5002";
    document.mimeType = "application/pdf";
    document.filename = "facture.pdf";
    const std::int64_t doc = h.receive(document);
    h.waitForMedia(doc, "stored");
    const HttpResult docPart = h.host().request("GET", kMediaRoute + std::to_string(doc), "", {{"Cookie", agent.cookie()}, {"Range", "bytes=0-7"}});
    CPPUNIT_ASSERT_EQUAL(206, docPart.status);
    CPPUNIT_ASSERT_EQUAL(std::string("%PDF-1.4"), docPart.body);
    CPPUNIT_ASSERT_EQUAL(std::string("bytes 0-7/26"), header(docPart, "content-range"));
    CPPUNIT_ASSERT_EQUAL(std::string("application/pdf"), header(docPart, "content-type"));
    const std::string disposition = header(docPart, "content-disposition");
    CPPUNIT_ASSERT_MESSAGE(disposition, disposition.rfind("attachment; filename=\"facture.pdf\"", 0) == 0);
}

void checkFailuresAreShownAndKeepNoFile(MediaHost& h) {
    const std::string png = receiptPng();
    addUser(h.host(), "agent.fail@example.dz", "agent", "media-test-password");
    addUser(h.host(), "viewer.fail@example.dz", "viewer", "media-test-password");
    const AdminBrowser agent = signIn(h.host(), "agent.fail@example.dz", "media-test-password");
    const AdminBrowser viewer = signIn(h.host(), "viewer.fail@example.dz", "media-test-password");

    struct Case {
        std::string mediaId, word, reason;
        FakeMedia media;
        std::int64_t secondsAgo;
        std::size_t downloads;  // how many downloads the fake saw
    };
    std::string big(70000, 'x');
    big.replace(0, 8, "\x89PNG\r\n\x1A\n");
    const Case cases[] = {
        // Eight days after the message, Meta no longer knows the id.
        {"2001", "expired", "WhatsApp no longer keeps it", FakeMedia{png, "image/png", FakeMedia::Fault::ExpiredId}, 8 * 24 * 3600, 0},
        {"2002", "not_found", "WhatsApp does not have it", FakeMedia{png, "image/png", FakeMedia::Fault::NotFound}, 0, 1},
        {"2003", "checksum", "do not match WhatsApp", FakeMedia{png, "image/png", FakeMedia::Fault::WrongSha256}, 0, 1},
        // Over the cap (65536) and said so: never downloaded.
        {"2004", "too_large", "larger than the size", FakeMedia{big, "image/png"}, 0, 0},
        // Over the cap and understated: the download stops at the cap.
        {"2005", "too_large", "larger than the size", FakeMedia{big, "image/png", FakeMedia::Fault::None, 1000}, 0, 1},
        // An SVG called an image could carry script: refused.
        {"2006", "type", "file type is not accepted", FakeMedia{"<svg xmlns=\"http://www.w3.org/2000/svg\"/>", "image/svg+xml"}, 0, 1},
    };
    std::string url;
    std::map<std::string, std::int64_t> ids;
    for (const Case& c : cases) {
        h.fake().addMedia(c.mediaId, c.media);
        InboundMedia media;
        media.wamid = "wamid.MEDIA.FAIL" + c.mediaId;
        media.mediaId = c.mediaId;
        media.mimeType = c.media.mimeType;
        media.secondsAgo = c.secondsAgo;
        const std::int64_t id = h.receive(media);
        ids[c.mediaId] = id;
        CPPUNIT_ASSERT_EQUAL_MESSAGE(c.mediaId, "failed|" + c.word, h.waitForMedia(id, "failed"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(c.mediaId, c.downloads, h.fake().mediaDownloads(c.mediaId));
        url = h.conversationUrl(id);
        const HttpResult page = agent.get(url);
        CPPUNIT_ASSERT_MESSAGE(c.mediaId, contains(page.body, "data-media-failed=\"" + c.word + "\""));
        CPPUNIT_ASSERT_MESSAGE(c.mediaId + page.body, contains(page.body, "Image: the file could not be fetched. "));
        CPPUNIT_ASSERT_MESSAGE(c.mediaId + page.body, contains(page.body, c.reason));
        CPPUNIT_ASSERT_EQUAL(404, agent.get(kMediaRoute + std::to_string(id)).status);
    }
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), h.files());
    // A failure is for good: one lookup each, no job left to run.
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), h.fake().mediaLookups("2002"));
    CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(h.db(), "SELECT COUNT(*) FROM jobs WHERE type = 'fetch_media' AND status IN ('pending', 'running')"));

    // In French and Arabic the reason is in the page's language.
    agent.setLocale("fr");
    CPPUNIT_ASSERT(contains(agent.get(url).body, "Image : le fichier n’a pas pu être récupéré. WhatsApp ne l’a pas (introuvable)."));
    agent.setLocale("ar");
    CPPUNIT_ASSERT(contains(agent.get(url).body, "صورة: تعذّر جلب الملف. الملف غير موجود لدى واتساب."));
    agent.setLocale("en");

    // Retry: offered to those who may reply, posted with the session's CSRF token.
    const std::string retry = url + "/media/" + std::to_string(ids["2002"]) + "/retry";
    CPPUNIT_ASSERT(contains(agent.get(url).body, "action=\"" + retry + "\""));
    CPPUNIT_ASSERT(!contains(viewer.get(url).body, "/retry\""));
    CPPUNIT_ASSERT_EQUAL(403, viewer.post(retry, noFields()).status);
    CPPUNIT_ASSERT_EQUAL(403, agent.post(retry, noFields(), false).status);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), h.fake().mediaLookups("2002"));
    // Another conversation's message, or no message: refused, nothing queued.
    CPPUNIT_ASSERT_EQUAL(303, agent.post(url + "/media/999999/retry", noFields()).status);
    CPPUNIT_ASSERT(contains(agent.post(url + "/media/999999/retry", noFields()).location(), "error=not_found"));
    // The fault gone, a retry stores it.
    h.fake().addMedia("2002", FakeMedia{png, "image/png"});
    const HttpResult retried = agent.post(retry, noFields());
    CPPUNIT_ASSERT_EQUAL(303, retried.status);
    CPPUNIT_ASSERT_EQUAL(url + "?done=1", retried.location());
    h.waitForMedia(ids["2002"], "stored");
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), h.files());
    CPPUNIT_ASSERT(png == agent.get(kMediaRoute + std::to_string(ids["2002"])).body);
    // A stored one is not fetched again.
    CPPUNIT_ASSERT(contains(agent.post(retry, noFields()).location(), "error=media_not_failed"));
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), h.fake().mediaLookups("2002"));

    // While Meta keeps answering 500, the message says the file is on its way, and why it is late.
    FakeMedia down{png, "image/png", FakeMedia::Fault::ServerError};
    down.failures = 1000000;
    h.fake().addMedia("2008", down);
    InboundMedia late;
    late.wamid = "wamid.MEDIA.LATE";
    late.mediaId = "2008";
    const std::int64_t lateId = h.receive(late);
    h.waitForMedia(lateId, "pending");
    const HttpResult waiting = agent.get(url);
    CPPUNIT_ASSERT_MESSAGE(waiting.body, contains(waiting.body, "<p class=\"media-state media-pending\" role=\"status\">Image: fetching the file from WhatsApp…"));
    CPPUNIT_ASSERT_MESSAGE(waiting.body, contains(waiting.body, "HTTP 500, error 2: An unexpected error has occurred."));
    CPPUNIT_ASSERT(!contains(waiting.body, "action=\"" + url + "/media/" + std::to_string(lateId) + "/retry\""));  // nothing to retry yet
    CPPUNIT_ASSERT(contains(agent.post(url + "/media/" + std::to_string(lateId) + "/retry", noFields()).location(), "error=media_not_failed"));

    // A 500 is a passing problem: tried again by the queue, and stored.
    FakeMedia flaky{png, "image/png", FakeMedia::Fault::ServerError};
    flaky.failures = 2;
    h.fake().addMedia("2007", flaky);
    InboundMedia media;
    media.wamid = "wamid.MEDIA.FLAKY";
    media.mediaId = "2007";
    const std::int64_t id = h.receive(media);
    h.waitForMedia(id, "stored");
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), h.fake().mediaLookups("2007"));
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), h.fake().mediaDownloads("2007"));
    CPPUNIT_ASSERT_EQUAL(std::string("3"), queryText(h.db(), "SELECT attempts FROM whatsapp_media WHERE message_id = " + std::to_string(id)));
}

}  // namespace tawasul::test
