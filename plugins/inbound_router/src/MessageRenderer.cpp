#include "MessageRenderer.hpp"

#include <set>
#include <sstream>

#include <Poco/JSON/Array.h>

namespace tawasul::plugins::inbound_router {
namespace {

using Poco::JSON::Object;

std::string text(const Object::Ptr& object, const std::string& key) {
    return object ? object->optValue<std::string>(key, "") : "";
}

Object::Ptr child(const Object& object, const std::string& key) {
    return object.has(key) && object.isObject(key) ? object.getObject(key) : nullptr;
}

std::string joinNonEmpty(std::initializer_list<std::string> parts, const std::string& separator) {
    std::string out;
    for (const std::string& part : parts) {
        if (part.empty()) continue;
        if (!out.empty()) out += separator;
        out += part;
    }
    return out;
}

}  // namespace

RenderedMessage renderMessage(const Object& message) {
    static const std::set<std::string> known{"text", "image", "audio", "video", "document", "sticker", "location", "contacts",
                                             "interactive", "button", "reaction", "order", "system", "unsupported"};
    RenderedMessage out;
    out.type = message.optValue<std::string>("type", "unsupported");
    if (!known.count(out.type)) out.type = "unsupported";
    out.contextId = text(child(message, "context"), "id");
    const std::string type = out.type;
    const Object::Ptr content = child(message, message.optValue<std::string>("type", ""));

    if (type == "text") {
        out.body = text(content, "body");
    } else if (type == "image" || type == "video" || type == "audio" || type == "document" || type == "sticker") {
        out.mediaId = text(content, "id");
        out.mediaMimeType = text(content, "mime_type");
        const std::string caption = text(content, "caption");
        const std::string filename = text(content, "filename");
        out.body = !caption.empty() ? caption : !filename.empty() ? filename : "";
    } else if (type == "location") {
        const std::string place = joinNonEmpty({text(content, "name"), text(content, "address")}, ", ");
        if (!place.empty()) {
            out.body = place;
        } else if (content) {
            std::ostringstream coordinates;
            coordinates << content->optValue<double>("latitude", 0) << ", " << content->optValue<double>("longitude", 0);
            out.body = coordinates.str();
        }
    } else if (type == "contacts") {
        const auto list = message.getArray("contacts");
        std::string names;
        for (std::size_t i = 0; list && i < list->size(); ++i) {
            const auto contact = list->getObject(static_cast<unsigned>(i));
            const std::string name = text(contact ? contact->getObject("name") : nullptr, "formatted_name");
            if (!name.empty()) names += (names.empty() ? "" : ", ") + name;
        }
        out.body = "shared contact: " + (names.empty() ? std::string("(no name)") : names);
    } else if (type == "interactive") {
        const std::string kind = text(content, "type");
        if (kind == "button_reply" || kind == "list_reply") {
            const auto reply = content ? content->getObject(kind) : nullptr;
            out.body = joinNonEmpty({text(reply, "title"), text(reply, "description")}, " — ");
        } else if (kind == "nfm_reply") {
            const auto reply = content ? content->getObject("nfm_reply") : nullptr;
            out.body = "form response" + std::string(text(reply, "body").empty() ? "" : ": " + text(reply, "body"));
        } else {
            out.body = "interactive reply";
        }
    } else if (type == "button") {
        out.body = text(content, "text");
    } else if (type == "reaction") {
        const std::string emoji = text(content, "emoji");
        const std::string target = text(content, "message_id");
        out.contextId = target;
        out.body = emoji.empty() ? "removed a reaction from " + target : "reacted " + emoji + " to " + target;
    } else if (type == "order") {
        const auto items = content && content->has("product_items") ? content->getArray("product_items") : nullptr;
        out.body = "order: " + std::to_string(items ? items->size() : 0) + " item(s)";
        if (!text(content, "text").empty()) out.body += " — " + text(content, "text");
    } else if (type == "system") {
        out.body = text(content, "body");
    } else {
        const auto errors = message.has("errors") ? message.getArray("errors") : nullptr;
        const auto first = errors && errors->size() > 0 ? errors->getObject(0) : nullptr;
        out.body = "unsupported message" + std::string(first ? ": " + text(first, "title") : "");
    }
    return out;
}

}  // namespace tawasul::plugins::inbound_router
