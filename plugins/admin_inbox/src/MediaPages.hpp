#pragma once
// What the conversation page shows of a message beyond its words: its media (an image preview, an
// audio or video player, a document with its name and size, a sticker; or the fetch still pending,
// or failed with its reason and a retry), a location's map link, a shared contact's card. And the
// route that serves the stored bytes, which must never run as a page of this site.
#include <cstdint>
#include <string>

#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>

#include "InboxStore.hpp"
#include "MediaStore.hpp"
#include "tawasul/sdk/Http.hpp"
#include "tawasul/sdk/Pages.hpp"

namespace tawasul::plugins::admin_inbox {

// GET <this>/{message}: the stored bytes of a message's media.
inline const std::string kMediaPath = "/admin/messaging/whatsapp/media/";

// Sets media_view / media_pending / media_failed, location and contact_cards on `out` (the
// message's model). `row`: the message's whatsapp_media row, null when the job has not written one.
// `retryUrl`: where the failed line's retry form posts, empty for a user who may not retry.
void addContentModel(Poco::JSON::Object& out, const TimelineMessage& m, const MediaRow* row, const sdk::Translator& tr,
                     const std::string& locale, const std::string& retryUrl);

// The response for GET kMediaPath{message}: the bytes with their stored type, nosniff, a CSP that
// lets nothing run (default-src 'none'; sandbox), a download for documents; 404 when none is stored.
void serveMedia(MediaStore& media, const sdk::HttpRequest& request, sdk::HttpResponse& response, Poco::Logger& log);

// "12.5 KB" in the locale's words.
std::string sizeLabel(const sdk::Translator& tr, const std::string& locale, std::int64_t bytes);

}  // namespace tawasul::plugins::admin_inbox
