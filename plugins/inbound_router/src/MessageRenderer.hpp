#pragma once
// What an inbound message says, in one readable line for the inbox, whatever its type.
#include <string>

#include <Poco/JSON/Object.h>

namespace tawasul::plugins::inbound_router {

struct RenderedMessage {
    std::string type;     // Meta's type; unknown ones are kept as "unsupported"
    std::string body;     // readable text: the text, a caption, a button title, "reacted 👍 to …"
    std::string mediaId;  // image, audio, video, document, sticker
    std::string mediaMimeType;
    std::string contextId;  // the message this one replies to (context.id)
};

RenderedMessage renderMessage(const Poco::JSON::Object& message);

}  // namespace tawasul::plugins::inbound_router
