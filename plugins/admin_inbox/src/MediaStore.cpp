#include "MediaStore.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Nullable.h>

#include "tawasul/sdk/Config.hpp"
#include "tawasul/sdk/Crypto.hpp"
#include "tawasul/sdk/Errors.hpp"
#include "tawasul/sdk/PreparedSession.hpp"
#include "tawasul/sdk/SqlDialect.hpp"

namespace tawasul::plugins::admin_inbox {
namespace {

using namespace Poco::Data::Keywords;
namespace fs = std::filesystem;
using NullableText = Poco::Nullable<std::string>;
using NullableInt = Poco::Nullable<Poco::Int64>;

// Meta keeps an inbound media id for seven days: a lookup that finds nothing after that is the
// id's end of life, not a fault.
constexpr std::int64_t kMediaIdLifeMillis = 7LL * 24 * 60 * 60 * 1000;

std::string text(const NullableText& value) { return value.isNull() ? std::string() : value.value(); }
NullableText orNull(const std::string& value) { return value.empty() ? NullableText() : NullableText(value); }

bool isHex64(const std::string& value) {
    return value.size() == 64 && std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string lower(std::string value) {
    std::transform(value.begin(), value.end(), value.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return value;
}

bool startsWith(const std::string& text, const std::string& prefix) { return text.compare(0, prefix.size(), prefix) == 0; }

// A directory that exists and only its owner may enter: made 0700, or narrowed to it.
void privateDirectory(const fs::path& dir) {
    std::error_code error;
    if (!fs::exists(dir, error)) {
        fs::create_directories(dir, error);
        if (error) throw std::runtime_error("cannot create the media directory " + dir.string() + ": " + error.message());
    }
    if (!fs::is_directory(dir, error)) throw std::runtime_error("the media directory " + dir.string() + " is not a directory");
    const auto perms = fs::status(dir, error).permissions();
    if ((perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none || (perms & fs::perms::owner_all) != fs::perms::owner_all) {
        fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, error);
        if (error) throw std::runtime_error("cannot make " + dir.string() + " private (0700): " + error.message());
    }
}

void syncDirectory(const fs::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

MediaOptions readMediaOptions(const sdk::ConfigNode& media) {
    media.requireMap();
    media.allowOnly({"storage", "dir", "max_bytes", "source", "timeout_seconds"});
    MediaOptions options;
    const std::string storage = media.getString("storage", "files");
    if (storage != "files" && storage != "database") media.child("storage").fail("storage must be files or database, not '" + storage + "'");
    options.inDatabase = storage == "database";
    const std::string dir = media.getString("dir", options.dir.string());
    if (dir.empty()) media.child("dir").fail("dir must name a directory");
    options.dir = dir;
    // Up to 100 MB: Meta's documents stop at 100 MB, and the bytes are held in memory once.
    options.maxBytes = static_cast<std::uint64_t>(media.getInt("max_bytes", static_cast<std::int64_t>(options.maxBytes), 1024, 100LL * 1024 * 1024));
    options.source = media.getString("source", options.source);
    if (options.source.empty()) media.child("source").fail("source must name the plugin whose MediaSource fetches media");
    options.timeoutSeconds = static_cast<int>(media.getInt("timeout_seconds", options.timeoutSeconds, 1, 3600));
    return options;
}

const std::vector<std::string>& mediaFailureWords() {
    static const std::vector<std::string> words{"expired", "not_found", "too_large", "checksum", "type", "refused", "gave_up"};
    return words;
}

std::string bareMimeType(const std::string& mime) {
    std::string bare = lower(mime.substr(0, mime.find(';')));
    const auto first = bare.find_first_not_of(" \t"), last = bare.find_last_not_of(" \t");
    bare = first == std::string::npos ? std::string() : bare.substr(first, last - first + 1);
    const auto slash = bare.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == bare.size()) return "";
    for (const char c : bare)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || std::strchr("/.+-_", c))) return "";
    if (bare.find('/', slash + 1) != std::string::npos) return "";
    return bare;
}

bool acceptedMediaType(const std::string& kind, const std::string& mime) {
    if (mime.empty()) return false;
    if (kind == "image") return mime == "image/jpeg" || mime == "image/png" || mime == "image/webp";
    if (kind == "sticker") return mime == "image/webp" || mime == "image/png";
    if (kind == "audio") return startsWith(mime, "audio/");
    if (kind == "video") return startsWith(mime, "video/");
    if (kind == "document") return true;  // any type: it is only ever offered as a download
    return false;
}

bool bytesMatchType(const std::string& mime, const std::string& bytes) {
    if (mime == "image/jpeg") return startsWith(bytes, "\xFF\xD8\xFF");
    if (mime == "image/png") return startsWith(bytes, "\x89PNG\r\n\x1A\n");
    if (mime == "image/webp") return bytes.size() >= 12 && startsWith(bytes, "RIFF") && bytes.compare(8, 4, "WEBP") == 0;
    return true;
}

std::string safeFilename(const std::string& name) {
    // The last part of a path, without the characters a header or a file system takes specially.
    std::string base = name.substr(name.find_last_of("/\\") == std::string::npos ? 0 : name.find_last_of("/\\") + 1);
    std::string out;
    for (const char c : base) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F || c == '"' || c == '\'' || c == ';' || c == '\\' || c == '%') out += '_';
        else out += c;
    }
    if (out.size() > 200) {
        std::size_t cut = 200;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
        out.resize(cut);
    }
    const auto first = out.find_first_not_of(" ._");
    if (first == std::string::npos) return "file";
    return out;
}

std::string attachmentDisposition(const std::string& name) {
    const std::string safe = safeFilename(name);
    std::string ascii, encoded;
    for (const char c : safe) {
        const auto u = static_cast<unsigned char>(c);
        ascii += u < 0x80 ? c : '_';
        if (std::isalnum(u) || std::strchr("-._~", c)) {
            encoded += c;
        } else {
            static const char* hex = "0123456789ABCDEF";
            encoded += '%';
            encoded += hex[u >> 4];
            encoded += hex[u & 0x0F];
        }
    }
    return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

struct MediaStore::Message {
    Poco::Int64 id = 0;
    Poco::Int64 conversationId = 0;
    std::string type;
    std::string mediaId;
    std::string mimeType;  // as the webhook said it
    std::string sha256;    // as the webhook said it
    std::string filename;  // documents
    Poco::Int64 createdAt = 0;
};

MediaStore::MediaStore(sdk::Database& database, MediaOptions options) : database_(database), options_(std::move(options)) {}

void MediaStore::prepareDirectory() const { privateDirectory(options_.dir); }

fs::path MediaStore::pathOf(const std::string& sha256) const { return options_.dir / sha256.substr(0, 2) / sha256; }

std::string MediaStore::keep(const std::string& bytes) const {
    const std::string sha = sdk::sha256Hex(bytes);
    if (!options_.inDatabase) return keepFile(bytes, sha);
    // One row per content: a second message with the same bytes finds it there.
    sdk::PreparedSession db(database_.session(), database_.sql());
    sdk::PreparedTransaction transaction(database_, db, sdk::Durability::Full);
    const Poco::Int64 size = static_cast<Poco::Int64>(bytes.size());
    db.run("INSERT INTO whatsapp_media_blobs (sha256, bytes, size_bytes, created_at) VALUES ($1, $2, $3, " + database_.sql().nowMillis() +
               ") ON CONFLICT (sha256) DO NOTHING",
           {sha, sdk::SqlParam::blob(bytes), size});
    transaction.commit();
    return sha;
}

std::string MediaStore::keepFile(const std::string& bytes, const std::string& sha) const {
    const fs::path target = pathOf(sha);
    std::error_code error;
    if (fs::exists(target, error)) return sha;  // the same bytes, kept once
    privateDirectory(options_.dir);
    privateDirectory(target.parent_path());
    const fs::path temporary = target.parent_path() / (".tmp-" + sdk::randomHex(8));
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + temporary.string() + ": " + std::strerror(errno));
    std::size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string why = std::strerror(errno);
            ::close(fd);
            ::unlink(temporary.c_str());
            throw std::runtime_error("cannot write " + temporary.string() + ": " + why);
        }
        written += static_cast<std::size_t>(n);
    }
    // On disk before it gets its name: after a crash a file either is whole or is not there.
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(temporary.c_str());
        throw std::runtime_error("cannot write " + temporary.string() + ": " + why);
    }
    if (::rename(temporary.c_str(), target.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(temporary.c_str());
        throw std::runtime_error("cannot rename " + temporary.string() + ": " + why);
    }
    syncDirectory(target.parent_path());
    return sha;
}

std::optional<std::string> MediaStore::read(const std::string& sha256) const {
    if (!isHex64(sha256)) return std::nullopt;
    if (options_.inDatabase) {
        std::optional<std::string> bytes;
        sdk::PreparedSession db(database_.session(), database_.sql());
        db.run("SELECT bytes FROM whatsapp_media_blobs WHERE sha256 = $1", {sha256}, [&](const sdk::SqlRow& row) { bytes = row.bytes(0); });
        return bytes;
    }
    std::ifstream in(pathOf(sha256), std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

std::optional<std::int64_t> MediaStore::storedSize(const std::string& sha256) const {
    if (!isHex64(sha256)) return std::nullopt;
    if (options_.inDatabase) {
        std::optional<std::int64_t> size;
        sdk::PreparedSession db(database_.session(), database_.sql());
        db.run("SELECT " + database_.sql().byteLength("bytes") + " FROM whatsapp_media_blobs WHERE sha256 = $1", {sha256},
               [&](const sdk::SqlRow& row) { size = row.integer(0); });
        return size;
    }
    std::error_code error;
    const auto size = fs::file_size(pathOf(sha256), error);
    if (error) return std::nullopt;
    return static_cast<std::int64_t>(size);
}

std::optional<std::string> MediaStore::readPart(const std::string& sha256, std::int64_t offset, std::int64_t length) const {
    if (!isHex64(sha256) || offset < 0 || length < 0) return std::nullopt;
    if (options_.inDatabase) {
        // SQLite's substr(blob, start, length) and PostgreSQL's substr(bytea, start, count) both
        // count from 1 and cut bytes; PostgreSQL wants integers there, not the bigints bound.
        std::optional<std::string> bytes;
        sdk::PreparedSession db(database_.session(), database_.sql());
        db.run("SELECT substr(bytes, CAST($2 AS INTEGER), CAST($3 AS INTEGER)) FROM whatsapp_media_blobs WHERE sha256 = $1",
               {sha256, static_cast<Poco::Int64>(offset + 1), static_cast<Poco::Int64>(length)},
               [&](const sdk::SqlRow& row) { bytes = row.bytes(0); });
        return bytes;
    }
    std::ifstream in(pathOf(sha256), std::ios::binary);
    if (!in) return std::nullopt;
    in.seekg(offset);
    std::string bytes(static_cast<std::size_t>(length), '\0');
    if (in) in.read(bytes.data(), length);
    bytes.resize(in.bad() ? 0 : static_cast<std::size_t>(in.gcount()));
    return bytes;
}

namespace {

// Decimal digits as a number, saturated far above any file's size; nullopt when not all digits.
std::optional<std::int64_t> digits(const std::string& text) {
    if (text.empty()) return std::nullopt;
    std::int64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value > (std::int64_t(1) << 50) ? value : value * 10 + (c - '0');
    }
    return value;
}

}  // namespace

ByteRange parseByteRange(const std::optional<std::string>& header, std::int64_t total) {
    ByteRange whole;
    if (!header) return whole;
    std::string value = *header;
    const auto begin = value.find_first_not_of(" \t"), end = value.find_last_not_of(" \t");
    if (begin == std::string::npos) return whole;
    value = value.substr(begin, end - begin + 1);
    if (value.size() < 6 || lower(value.substr(0, 6)) != "bytes=") return whole;
    std::string spec = value.substr(6);
    if (spec.find(',') != std::string::npos) return whole;  // several ranges: the whole file instead
    const auto trimmed = spec.find_first_not_of(" \t");
    if (trimmed == std::string::npos) return whole;
    spec = spec.substr(trimmed, spec.find_last_not_of(" \t") - trimmed + 1);
    const auto dash = spec.find('-');
    if (dash == std::string::npos) return whole;
    const std::string from = spec.substr(0, dash), to = spec.substr(dash + 1);
    ByteRange part;
    part.kind = ByteRange::Kind::Part;
    ByteRange none;
    none.kind = ByteRange::Kind::Unsatisfiable;
    if (from.empty()) {  // bytes=-N: the last N bytes
        const auto suffix = digits(to);
        if (!suffix) return whole;
        if (*suffix == 0 || total == 0) return none;
        part.first = total - std::min(*suffix, total);
        part.last = total - 1;
        return part;
    }
    const auto first = digits(from);
    if (!first) return whole;
    std::optional<std::int64_t> last;
    if (!to.empty()) {
        last = digits(to);
        if (!last || *last < *first) return whole;  // not a range at all: ignored, as RFC 9110 says
    }
    if (*first >= total) return none;
    part.first = *first;
    part.last = last ? std::min(*last, total - 1) : total - 1;
    return part;
}

std::optional<MediaStore::Message> MediaStore::message(std::int64_t id) {
    Poco::Data::Session session = database_.session();
    Poco::Int64 key = id;
    std::vector<Poco::Int64> conversations, created;
    std::vector<std::string> types;
    std::vector<NullableText> mediaIds, mimes, payloads;
    session << "SELECT conversation_id, type, media_id, media_mime_type, payload, created_at FROM whatsapp_messages WHERE id = $1",
        use(key), into(conversations), into(types), into(mediaIds), into(mimes), into(payloads), into(created), now;
    if (conversations.empty()) return std::nullopt;
    Message m;
    m.id = id;
    m.conversationId = conversations[0];
    m.type = types[0];
    m.mediaId = text(mediaIds[0]);
    m.mimeType = text(mimes[0]);
    m.createdAt = created[0];
    try {
        const auto root = Poco::JSON::Parser().parse(text(payloads[0])).extract<Poco::JSON::Object::Ptr>();
        const auto content = root && root->has(m.type) && root->isObject(m.type) ? root->getObject(m.type) : nullptr;
        if (content) {
            m.sha256 = content->optValue<std::string>("sha256", "");
            m.filename = content->optValue<std::string>("filename", "");
        }
    } catch (const std::exception&) {
        // A payload that is not JSON has no checksum or name to offer: the lookup's are used.
    }
    return m;
}

void MediaStore::upsert(const Message& m, const std::string& status, const std::string& sha, const std::string& mime, std::int64_t size,
                        const std::string& word, const std::string& detail, std::int64_t at, bool countAttempt) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction transaction(database_, session, sdk::Durability::Relaxed);
    Poco::Int64 id = m.id, when = at, attempts = countAttempt ? 1 : 0;
    std::string mediaId = m.mediaId, state = status;
    NullableText hash = orNull(sha), type = orNull(mime), name = orNull(m.filename), error = orNull(word),
                 words = orNull(detail.substr(0, 1000));
    NullableInt bytes = size > 0 || status == "stored" ? NullableInt(size) : NullableInt();
    session << "INSERT INTO whatsapp_media (message_id, media_id, status, sha256, mime_type, size_bytes, filename, error, error_detail, "
               "attempts, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) "
               "ON CONFLICT (message_id) DO UPDATE SET media_id = excluded.media_id, status = excluded.status, sha256 = excluded.sha256, "
               "mime_type = excluded.mime_type, size_bytes = excluded.size_bytes, filename = excluded.filename, error = excluded.error, "
               "error_detail = excluded.error_detail, attempts = whatsapp_media.attempts + excluded.attempts, updated_at = excluded.updated_at",
        use(id), use(mediaId), use(state), use(hash), use(type), use(bytes), use(name), use(error), use(words), use(attempts), use(when), now;
    transaction.commit();
}

void MediaStore::markPending(const Message& m, const std::string& detail, std::int64_t at) {
    upsert(m, "pending", "", "", 0, "", detail, at, true);
}
void MediaStore::markFailed(const Message& m, const std::string& word, const std::string& detail, std::int64_t at) {
    upsert(m, "failed", "", "", 0, word, detail, at, true);
}
void MediaStore::markStored(const Message& m, const std::string& sha, const std::string& mime, std::int64_t size, std::int64_t at) {
    upsert(m, "stored", sha, mime, size, "", "", at, true);
}

void MediaStore::fetch(const sdk::Job& job, const std::shared_ptr<sdk::MediaSource>& source, std::int64_t nowMillis,
                       const std::function<void(std::int64_t)>& changed) {
    std::int64_t id = 0;
    try {
        id = Poco::JSON::Parser().parse(job.payload).extract<Poco::JSON::Object::Ptr>()->getValue<Poco::Int64>("message_id");
    } catch (const std::exception& error) {
        throw sdk::PermanentJobFailure("fetch_media job without a message_id: " + sdk::errorText(error));
    }
    const std::optional<Message> found = message(id);
    if (!found) throw sdk::PermanentJobFailure("message " + std::to_string(id) + " does not exist");
    const Message& m = *found;
    if (!sdk::isMediaType(m.type) || m.mediaId.empty()) throw sdk::PermanentJobFailure("message " + std::to_string(id) + " has no media");
    if (const auto existing = find(id); existing && existing->status == "stored") return;  // a job run again: nothing to fetch

    const bool last = job.attempts >= job.maxAttempts;
    const auto fail = [&](const std::string& word, const std::string& detail) {
        markFailed(m, word, detail, nowMillis);
        changed(m.conversationId);
    };
    // A passing problem: tried again with the queue's backoff, until the last attempt gives up.
    const auto later = [&](const std::string& detail, std::chrono::milliseconds after) {
        if (last) return fail("gave_up", detail);
        const bool first = !find(id).has_value();
        markPending(m, detail, nowMillis);
        if (first) changed(m.conversationId);
        throw sdk::RetryJobLater(detail, after);
    };
    if (!source) return later("no media source named '" + options_.source + "' is running", std::chrono::milliseconds(5000));

    sdk::MediaLimits limits;
    limits.maxBytes = options_.maxBytes;
    limits.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options_.timeoutSeconds);
    sdk::MediaFetch got;
    try {
        got = source->fetch(m.mediaId, limits);
    } catch (const std::exception& error) {
        return later("the media source failed: " + sdk::errorText(error), std::chrono::milliseconds(0));
    }
    switch (got.outcome) {
        case sdk::MediaOutcome::Fetched:
            break;
        case sdk::MediaOutcome::RetryLater:
        case sdk::MediaOutcome::Unavailable:
            return later(got.detail, got.retryAfter);
        case sdk::MediaOutcome::NotFound:
            // Past the id's seven days, "not found" is its expiry.
            return fail(nowMillis - m.createdAt > kMediaIdLifeMillis ? "expired" : "not_found", got.detail);
        case sdk::MediaOutcome::Expired:
            return fail("expired", got.detail);
        case sdk::MediaOutcome::TooLarge:
            return fail("too_large", got.detail);
        case sdk::MediaOutcome::Refused:
            return fail("refused", got.detail);
    }
    if (got.bytes.empty()) return fail("refused", "the file is empty");
    if (got.bytes.size() > options_.maxBytes)
        return fail("too_large", std::to_string(got.bytes.size()) + " bytes, over the cap of " + std::to_string(options_.maxBytes));
    // Meta's sha256 (hex of the file), from the lookup and from the webhook: the bytes must be those.
    const std::string actual = sdk::sha256Hex(got.bytes);
    for (const std::string& claimed : {got.sha256, m.sha256})
        if (isHex64(claimed) && lower(claimed) != actual)
            return fail("checksum", "sha256 of the " + std::to_string(got.bytes.size()) + " bytes received is " + actual + ", Meta said " + lower(claimed));
    const std::string mime = bareMimeType(!got.mimeType.empty() ? got.mimeType : m.mimeType);
    if (!acceptedMediaType(m.type, mime)) return fail("type", "'" + (mime.empty() ? got.mimeType : mime) + "' is not kept for a " + m.type);
    if (!bytesMatchType(mime, got.bytes)) return fail("type", "the bytes are not " + mime);
    try {
        keep(got.bytes);
    } catch (const std::exception& error) {
        // The disk (full, unwritable) may come back: tried again, and given up on the last attempt.
        return later(sdk::errorText(error), std::chrono::milliseconds(0));
    }
    // The type kept with its parameters when it has any ("audio/ogg; codecs=opus"), after the check.
    std::string stored = !got.mimeType.empty() ? got.mimeType : m.mimeType;
    if (bareMimeType(stored).empty()) stored = mime;
    markStored(m, actual, stored.substr(0, 200), static_cast<std::int64_t>(got.bytes.size()), nowMillis);
    changed(m.conversationId);
}

std::map<std::int64_t, MediaRow> MediaStore::forConversation(std::int64_t conversationId) {
    Poco::Data::Session session = database_.session();
    Poco::Int64 key = conversationId;
    std::vector<Poco::Int64> ids, attempts;
    std::vector<std::string> statuses, types;
    std::vector<NullableText> hashes, mimes, names, errors, details;
    std::vector<NullableInt> sizes;
    session << "SELECT d.message_id, d.status, d.sha256, d.mime_type, d.size_bytes, d.filename, d.error, d.error_detail, d.attempts, m.type "
               "FROM whatsapp_media d JOIN whatsapp_messages m ON m.id = d.message_id WHERE m.conversation_id = $1",
        use(key), into(ids), into(statuses), into(hashes), into(mimes), into(sizes), into(names), into(errors), into(details), into(attempts),
        into(types), now;
    std::map<std::int64_t, MediaRow> rows;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        MediaRow row;
        row.messageId = ids[i];
        row.type = types[i];
        row.status = statuses[i];
        row.sha256 = text(hashes[i]);
        row.mimeType = text(mimes[i]);
        row.size = sizes[i].isNull() ? 0 : sizes[i].value();
        row.filename = text(names[i]);
        row.error = text(errors[i]);
        row.errorDetail = text(details[i]);
        row.attempts = static_cast<int>(attempts[i]);
        rows.emplace(row.messageId, std::move(row));
    }
    return rows;
}

std::optional<MediaRow> MediaStore::find(std::int64_t messageId) {
    Poco::Data::Session session = database_.session();
    Poco::Int64 key = messageId;
    std::vector<Poco::Int64> attempts;
    std::vector<std::string> statuses, types;
    std::vector<NullableText> hashes, mimes, names, errors, details;
    std::vector<NullableInt> sizes;
    session << "SELECT d.status, d.sha256, d.mime_type, d.size_bytes, d.filename, d.error, d.error_detail, d.attempts, m.type "
               "FROM whatsapp_media d JOIN whatsapp_messages m ON m.id = d.message_id WHERE d.message_id = $1",
        use(key), into(statuses), into(hashes), into(mimes), into(sizes), into(names), into(errors), into(details), into(attempts),
        into(types), now;
    if (statuses.empty()) return std::nullopt;
    MediaRow row;
    row.messageId = messageId;
    row.type = types[0];
    row.status = statuses[0];
    row.sha256 = text(hashes[0]);
    row.mimeType = text(mimes[0]);
    row.size = sizes[0].isNull() ? 0 : sizes[0].value();
    row.filename = text(names[0]);
    row.error = text(errors[0]);
    row.errorDetail = text(details[0]);
    row.attempts = static_cast<int>(attempts[0]);
    return row;
}

std::int64_t MediaStore::conversationOf(std::int64_t messageId) {
    const auto m = message(messageId);
    return m && sdk::isMediaType(m->type) && !m->mediaId.empty() ? m->conversationId : 0;
}

bool MediaStore::retry(std::int64_t messageId, sdk::JobQueue& jobs, std::int64_t nowMillis) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction transaction(database_, session, sdk::Durability::Full);
    Poco::Int64 id = messageId, at = nowMillis;
    Poco::Data::Statement update(session);
    update << "UPDATE whatsapp_media SET status = 'pending', error = NULL, error_detail = NULL, updated_at = $1 "
              "WHERE message_id = $2 AND status = 'failed'",
        use(at), use(id);
    if (update.execute() == 0) return false;
    jobs.enqueue(session, sdk::kFetchMediaJob, "{\"message_id\":" + std::to_string(messageId) + "}");
    transaction.commit();
    jobs.wake();
    return true;
}

}  // namespace tawasul::plugins::admin_inbox
