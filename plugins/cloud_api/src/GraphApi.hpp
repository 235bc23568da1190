#pragma once
// What the Cloud API's send endpoint takes and answers, without the network: request bodies for
// text, template and mark-as-read, and the reading of an answer into a SendResult by the class of
// Meta's error code: 190, 368 and 131031 (token, account) make the provider unavailable; 131056,
// 130429, 131057, 131000 and 5xx are retried; 131047 (24-hour window), 131026 and 132xxx
// (templates) refuse the message. Kept apart from the plugin so unit tests check it.
#include <string>

#include "tawasul/whatsapp/Media.hpp"
#include "tawasul/whatsapp/Messaging.hpp"

namespace tawasul::plugins::cloud_api {

std::string textBody(const sdk::OutboundMessage& message);
std::string templateBody(const sdk::OutboundMessage& message);
std::string markReadBody(const std::string& wamid);
// The read call with Meta's typing indicator: marks `wamid` read and shows "typing" (cleared by
// the reply or after about 25 s).
std::string typingBody(const std::string& wamid);
// Whom a send names, for Meta's pair rate (one account per recipient): the phone when there is
// one (the body's `to`), else the business-scoped user id (its `recipient`), else the wa_id.
std::string pairRecipient(const sdk::OutboundMessage& message);

// Which way an answer sends the provider: most leave it healthy; an expired token (190) or a
// restricted account (368, 131031) makes it unhealthy until an admin fixes it.
struct Classified {
    sdk::SendResult result;
    bool unhealthy = false;
};

// An HTTP answer of the send endpoint: 2xx with messages[0].id is Sent; Meta's error body decides
// the rest (retry with backoff, refused for this message, or the provider is unhealthy).
Classified classifyAnswer(int httpStatus, const std::string& body);

// The same for a call that got no answer (timeout, dropped connection): always worth a retry.
sdk::SendResult networkFailure(const std::string& what);

// Meta's answer to GET /{media-id}: on 2xx {url, mime_type, sha256, file_size, id}. `ok` with the
// URL to download, else `failure` says why: 404 or error 100 with subcode 33 (no such object:
// unknown or past its seven days) is NotFound; 5xx, 4 / 80007 / 130429 (throttled) and 131000 are
// RetryLater; 190 (token) is Unavailable; any other error is Refused. A URL that is not http(s)
// is Refused: it is never fetched.
struct MediaLookup {
    bool ok = false;
    std::string url;
    sdk::MediaFetch failure;  // also carries mimeType, sha256 and declaredSize when ok
};
MediaLookup readMediaLookup(int httpStatus, const std::string& body);

// The download's answer when it is not a 2xx: 404 and 410 NotFound, 5xx and 429 RetryLater, 401
// and 403 Unavailable (the token), any other Refused.
sdk::MediaFetch downloadFailure(int httpStatus);

}  // namespace tawasul::plugins::cloud_api
