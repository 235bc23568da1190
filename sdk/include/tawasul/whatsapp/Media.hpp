#pragma once
// Inbound media: the bytes behind an image, audio, video, document or sticker a customer sent.
// One small interface per role:
//  - MediaSource: a provider's way to fetch a media id it delivered (the Cloud API: GET /{media-id}
//    answers a URL valid about five minutes, downloaded with the same bearer token; ids expire
//    after seven days). Published in the ServiceRegistry under the provider's plugin name, beside
//    its MessageProvider.
//  - The `fetch_media` job (kFetchMediaJob), written by the inbound router in the transaction that
//    stores a message with media, and handled by whoever stores media (admin_inbox): it calls the
//    source, checks size, type and sha256, and keeps the bytes.
#include <chrono>
#include <cstdint>
#include <string>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

// Payload {"message_id": N} (whatsapp_messages.id). At most one per stored message: a redelivered
// webhook stores no message and so queues nothing.
inline constexpr const char* kFetchMediaJob = "fetch_media";

// The message types whose content is a media id.
inline bool isMediaType(const std::string& type) {
    return type == "image" || type == "audio" || type == "video" || type == "document" || type == "sticker";
}

// What a fetch may cost: the source stops reading past maxBytes (the answer is then TooLarge, and
// nothing of the body is kept) and gives up at the deadline (RetryLater).
struct MediaLimits {
    std::uint64_t maxBytes = 16 * 1024 * 1024;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
};

enum class MediaOutcome {
    Fetched,      // bytes holds the whole body
    RetryLater,   // a passing problem (5xx, timeout, dropped connection, throttled): try again later
    NotFound,     // the provider does not know this id, or its download answered 404: final
    Expired,      // the id is past its life (Meta: 7 days): final
    TooLarge,     // declared or read beyond limits.maxBytes: final
    Refused,      // any other final refusal (an error the provider says will not change)
    Unavailable,  // the provider is not configured or switched off: retried later, nothing spent
};

struct MediaFetch {
    MediaOutcome outcome = MediaOutcome::Refused;
    std::string bytes;         // Fetched: the file
    std::string mimeType;      // as the provider declares it (may carry parameters: "audio/ogg; codecs=opus")
    std::string sha256;        // lower-case hex of the file as the provider declares it; empty when it says none
    std::int64_t declaredSize = -1;  // the provider's file_size, -1 when it gives none
    int httpStatus = 0;        // of the failing call, 0 when none was made
    std::string detail;        // words for the log and the message's failure line (never a token or a URL's secret)
    std::chrono::milliseconds retryAfter{0};  // RetryLater: at least this long
};

class TAWASUL_SDK_API MediaSource {
public:
    virtual ~MediaSource();
    // Resolves `mediaId` and downloads it within `limits`. Called from a job worker; may block on the
    // network until limits.deadline. Never throws for an answer of the network: every outcome is a
    // MediaFetch. The caller checks the bytes against sha256 and the type; the source only fetches.
    virtual MediaFetch fetch(const std::string& mediaId, const MediaLimits& limits) = 0;
};

}  // namespace tawasul::sdk
