#pragma once
// Inbound media kept by the inbox: the `fetch_media` job's work (ask the MediaSource, check size,
// type and sha256, keep the bytes) and what the pages read back. By default the bytes live in files
// under one private directory, named by their SHA-256 (so a file sent twice is kept once), each
// written to a temporary file and renamed: a reader never sees half a file. On request
// (media.storage: database) they are rows of whatsapp_media_blobs instead, keyed alike, which
// several hosts share without a shared directory. Each message's state is a row of whatsapp_media:
// pending (with the last passing error), stored, or failed with its reason.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Jobs.hpp"
#include "tawasul/whatsapp/Media.hpp"

namespace tawasul::sdk {
class ConfigNode;
}

namespace tawasul::plugins::admin_inbox {

struct MediaOptions {
    bool inDatabase = false;                     // storage: database (else files under dir)
    std::filesystem::path dir = "var/media";
    std::uint64_t maxBytes = 16 * 1024 * 1024;  // Meta's largest inbound file (16 MB)
    std::string source = "cloud_api";            // the plugin whose MediaSource fetches
    int timeoutSeconds = 120;                    // one fetch, lookup and download together
};

// The `media:` node of admin_inbox's configuration (storage, dir, max_bytes, source, timeout_seconds).
MediaOptions readMediaOptions(const sdk::ConfigNode& media);

// A message's media as stored.
struct MediaRow {
    std::int64_t messageId = 0;
    std::string type;    // the message's: image, audio, video, document, sticker
    std::string status;  // pending, stored, failed
    std::string sha256;
    std::string mimeType;
    std::int64_t size = 0;
    std::string filename;
    std::string error;  // failed: expired, not_found, too_large, checksum, type, refused, gave_up
    std::string errorDetail;
    int attempts = 0;
};

// Why a fetch failed for good, in a word the pages translate (media_failed_<word>).
const std::vector<std::string>& mediaFailureWords();

// Whether a file of this type may be kept for a message of this kind: images are JPEG, PNG or
// WebP (never SVG: it can carry script), stickers WebP, audio and video their own families, a
// document any well-formed type (it is only ever served as a download). `mime` without parameters.
bool acceptedMediaType(const std::string& kind, const std::string& mime);
// For images and stickers: whether the bytes begin as the type says (JPEG, PNG, WebP).
bool bytesMatchType(const std::string& mime, const std::string& bytes);
// "image/JPEG; q=1" -> "image/jpeg"; empty when it is no type/subtype.
std::string bareMimeType(const std::string& mime);
// A document's name for Content-Disposition: no CR, LF, quotes, backslashes, control characters or
// path; at most 200 bytes (cut between characters); "file" when nothing is left.
std::string safeFilename(const std::string& name);
// The Content-Disposition value for a download of `name`: an ASCII filename and an RFC 5987 filename*.
std::string attachmentDisposition(const std::string& name);

// What a Range header asks of a file of `total` bytes (RFC 9110 section 14): the whole file (no
// header, one that is malformed, another unit, or several ranges: answering those with the whole
// 200 is allowed and spares a multipart body), one part [first, last] (206), or nothing it holds
// (416).
struct ByteRange {
    enum class Kind { Whole, Part, Unsatisfiable };
    Kind kind = Kind::Whole;
    std::int64_t first = 0, last = 0;  // Part: inclusive, last < total
};
ByteRange parseByteRange(const std::optional<std::string>& header, std::int64_t total);

class MediaStore {
public:
    MediaStore(sdk::Database& database, MediaOptions options);

    const MediaOptions& options() const { return options_; }
    // Creates the directory 0700 (and narrows it when it exists wider). Throws when it cannot.
    void prepareDirectory() const;

    // The job: fetches and keeps the message's media through `source` (null: none is published).
    // A passing failure throws sdk::RetryJobLater until the job's last attempt, which records
    // gave_up; a final one is recorded and returns. Stored already: returns at once, nothing fetched.
    // `changed(conversationId)` runs after a state the page shows was written.
    void fetch(const sdk::Job& job, const std::shared_ptr<sdk::MediaSource>& source, std::int64_t nowMillis,
               const std::function<void(std::int64_t)>& changed);

    std::map<std::int64_t, MediaRow> forConversation(std::int64_t conversationId);
    std::optional<MediaRow> find(std::int64_t messageId);
    // The message's conversation when it has media (0 when it has none or does not exist).
    std::int64_t conversationOf(std::int64_t messageId);
    // A failed fetch back to pending with a new job (in one transaction); false when the message's
    // media has not failed (nothing queued).
    bool retry(std::int64_t messageId, sdk::JobQueue& jobs, std::int64_t nowMillis);

    std::filesystem::path pathOf(const std::string& sha256) const;
    // Writes `bytes` as the file of its SHA-256 (0600, via a temporary file and a rename), or its
    // row, unless it is there already; returns the hash.
    std::string keep(const std::string& bytes) const;
    // The stored bytes; nullopt when the file (or row) is missing.
    std::optional<std::string> read(const std::string& sha256) const;
    // The number of stored bytes; nullopt when the file (or row) is missing.
    std::optional<std::int64_t> storedSize(const std::string& sha256) const;
    // `length` bytes from `offset` (0-based), read alone: a seek in the file, a substr() of the row
    // (a player seeking in a 16 MB video does not load all of it for each request). Fewer when the
    // bytes end before; nullopt when the file (or row) is missing.
    std::optional<std::string> readPart(const std::string& sha256, std::int64_t offset, std::int64_t length) const;

private:
    std::string keepFile(const std::string& bytes, const std::string& sha) const;
    struct Message;
    std::optional<Message> message(std::int64_t id);
    void markPending(const Message& m, const std::string& detail, std::int64_t at);
    void markFailed(const Message& m, const std::string& word, const std::string& detail, std::int64_t at);
    void markStored(const Message& m, const std::string& sha, const std::string& mime, std::int64_t size, std::int64_t at);
    void upsert(const Message& m, const std::string& status, const std::string& sha, const std::string& mime, std::int64_t size,
                const std::string& word, const std::string& detail, std::int64_t at, bool countAttempt);

    sdk::Database& database_;
    MediaOptions options_;
};

}  // namespace tawasul::plugins::admin_inbox
