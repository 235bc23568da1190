#include "MediaPages.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include "tawasul/sdk/Forms.hpp"
#include "tawasul/whatsapp/Media.hpp"

namespace tawasul::plugins::admin_inbox {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Object::Ptr parsePayload(const std::string& payload) {
    try {
        return Poco::JSON::Parser().parse(payload).extract<Object::Ptr>();
    } catch (const std::exception&) {
        return nullptr;
    }
}

Object::Ptr objectAt(const Object::Ptr& object, const std::string& key) {
    return object && object->has(key) && object->isObject(key) ? object->getObject(key) : nullptr;
}

std::string textAt(const Object::Ptr& object, const std::string& key) {
    if (!object || !object->has(key)) return "";
    try {
        return object->getValue<std::string>(key);
    } catch (const std::exception&) {
        return "";
    }
}

// A coordinate as text, or empty when it is not a number in range.
std::string coordinate(const Object::Ptr& location, const std::string& key, double limit) {
    if (!location || !location->has(key)) return "";
    double value = 0;
    try {
        value = location->getValue<double>(key);
    } catch (const std::exception&) {
        return "";
    }
    if (!std::isfinite(value) || value < -limit || value > limit) return "";
    char text[32];
    std::snprintf(text, sizeof text, "%.6f", value);
    return text;
}

// Only http(s) links from a payload become links: a javascript: or data: URL stays text.
std::string webLink(const std::string& url) {
    return url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0 ? url : "";
}

void addLocation(Object& out, const Object::Ptr& root) {
    const Object::Ptr location = objectAt(root, "location");
    const std::string latitude = coordinate(location, "latitude", 90), longitude = coordinate(location, "longitude", 180);
    if (latitude.empty() || longitude.empty()) return;
    Object::Ptr view = new Object;
    view->set("name", textAt(location, "name"));
    view->set("address", textAt(location, "address"));
    view->set("has_name", !textAt(location, "name").empty());
    view->set("has_address", !textAt(location, "address").empty());
    view->set("coordinates", latitude + ", " + longitude);
    view->set("map_url", "https://www.openstreetmap.org/?mlat=" + latitude + "&mlon=" + longitude + "#map=16/" + latitude + "/" + longitude);
    const std::string url = webLink(textAt(location, "url"));
    view->set("url", url);
    view->set("has_url", !url.empty());
    out.set("location", view);
    out.set("has_body", false);  // the card says the place and the address
}

void addContacts(Object& out, const Object::Ptr& root) {
    if (!root || !root->has("contacts") || !root->isArray("contacts")) return;
    const auto list = root->getArray("contacts");
    Array::Ptr cards = new Array;
    for (std::size_t i = 0; i < list->size() && i < 20; ++i) {
        const Object::Ptr contact = list->getObject(static_cast<unsigned>(i));
        if (!contact) continue;
        Object::Ptr card = new Object;
        const Object::Ptr name = objectAt(contact, "name");
        std::string shown = textAt(name, "formatted_name");
        if (shown.empty()) shown = (textAt(name, "first_name") + " " + textAt(name, "last_name"));
        if (shown.find_first_not_of(' ') == std::string::npos) shown.clear();
        card->set("name", shown);
        card->set("has_name", !shown.empty());
        const Object::Ptr org = objectAt(contact, "org");
        card->set("company", textAt(org, "company"));
        card->set("has_company", !textAt(org, "company").empty());
        Array::Ptr phones = new Array;
        if (contact->has("phones") && contact->isArray("phones")) {
            const auto items = contact->getArray("phones");
            for (std::size_t j = 0; j < items->size() && j < 10; ++j) {
                const Object::Ptr phone = items->getObject(static_cast<unsigned>(j));
                const std::string number = textAt(phone, "phone");
                if (number.empty()) continue;
                std::string dial;
                for (const char c : number)
                    if ((c >= '0' && c <= '9') || (c == '+' && dial.empty())) dial += c;
                Object::Ptr p = new Object;
                p->set("number", number);
                p->set("tel", dial.empty() ? "" : "tel:" + dial);
                p->set("has_tel", !dial.empty());
                p->set("kind", textAt(phone, "type"));
                phones->add(p);
            }
        }
        card->set("phones", phones);
        Array::Ptr emails = new Array;
        if (contact->has("emails") && contact->isArray("emails")) {
            const auto items = contact->getArray("emails");
            for (std::size_t j = 0; j < items->size() && j < 10; ++j) {
                const std::string email = textAt(items->getObject(static_cast<unsigned>(j)), "email");
                if (email.empty()) continue;
                Object::Ptr e = new Object;
                e->set("address", email);
                emails->add(e);
            }
        }
        card->set("emails", emails);
        cards->add(card);
    }
    if (cards->size() == 0) return;
    out.set("contact_cards", cards);
    out.set("has_contact_cards", true);
    out.set("has_body", false);  // the cards name the contacts
}

}  // namespace

std::string sizeLabel(const sdk::Translator& tr, const std::string& locale, std::int64_t bytes) {
    char number[32];
    if (bytes < 1024) return tr.text(locale, "media_size_bytes", {{"n", std::to_string(bytes)}});
    if (bytes < 1024 * 1024) {
        std::snprintf(number, sizeof number, "%.1f", static_cast<double>(bytes) / 1024.0);
        return tr.text(locale, "media_size_kb", {{"n", number}});
    }
    std::snprintf(number, sizeof number, "%.1f", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return tr.text(locale, "media_size_mb", {{"n", number}});
}

void addContentModel(Object& out, const TimelineMessage& m, const MediaRow* row, const sdk::Translator& tr, const std::string& locale,
                     const std::string& retryUrl) {
    const Object::Ptr root = parsePayload(m.payload);
    if (m.type == "location") return addLocation(out, root);
    if (m.type == "contacts") return addContacts(out, root);
    if (!sdk::isMediaType(m.type) || m.direction != "in") return;
    const Object::Ptr content = objectAt(root, m.type);
    if (textAt(content, "id").empty()) return;  // no media id: nothing was ever to be fetched
    const std::string caption = textAt(content, "caption");
    std::string filename = row && !row->filename.empty() ? row->filename : textAt(content, "filename");
    const std::string label = tr.text(locale, "media_" + m.type);
    if (m.type == "document" && !filename.empty() && m.body == filename) out.set("has_body", false);  // the card names it
    if (row && row->status == "stored") {
        Object::Ptr view = new Object;
        const std::string src = kMediaPath + std::to_string(m.id);
        view->set("src", src);
        view->set("is_" + m.type, true);
        view->set("alt", caption.empty() ? label : caption);
        if (m.type == "document" && filename.empty()) filename = tr.text(locale, "media_document_unnamed");
        view->set("filename", filename);
        view->set("size", sizeLabel(tr, locale, row->size));
        view->set("mime", row->mimeType);
        view->set("open_label", tr.text(locale, "media_open_full"));
        view->set("download_label", tr.text(locale, "media_download"));
        out.set("media_view", view);
        out.set("media", false);  // the file itself says what it is
        return;
    }
    if (row && row->status == "failed") {
        Object::Ptr failed = new Object;
        const auto& words = mediaFailureWords();
        const std::string word = std::find(words.begin(), words.end(), row->error) != words.end() ? row->error : "refused";
        failed->set("line", tr.text(locale, "media_failed", {{"kind", label}}));
        failed->set("reason", tr.text(locale, "media_failed_" + word));
        failed->set("word", word);
        failed->set("detail", row->errorDetail);
        failed->set("has_detail", !row->errorDetail.empty());
        failed->set("retry_url", retryUrl);
        failed->set("can_retry", !retryUrl.empty());
        failed->set("retry_label", tr.text(locale, "media_retry"));
        if (!filename.empty()) failed->set("filename", filename);
        out.set("media_failed", failed);
        out.set("media", false);  // the line names the kind
        return;
    }
    Object::Ptr pending = new Object;
    pending->set("line", tr.text(locale, "media_pending", {{"kind", label}}));
    // While the job retries, the last passing problem, so that an agent knows why it takes long.
    const std::string detail = row ? row->errorDetail : "";
    pending->set("detail", detail);
    pending->set("has_detail", !detail.empty());
    out.set("media_pending", pending);
    out.set("media", false);  // the line names the kind
}

void serveMedia(MediaStore& media, const sdk::HttpRequest& request, sdk::HttpResponse& response, Poco::Logger& log) {
    const std::int64_t id = sdk::positiveId(request.param("message"));
    const auto row = id ? media.find(id) : std::nullopt;
    if (!row || row->status != "stored") return response.json(404, "{\"error\":{\"code\":\"not_found\",\"message\":\"no stored media for this message\"}}");
    const auto missing = [&] {
        log.error("the media file of message " + std::to_string(id) + " is missing: " + media.pathOf(row->sha256).string());
        response.json(404, "{\"error\":{\"code\":\"not_found\",\"message\":\"the media file is missing\"}}");
    };
    const auto total = media.storedSize(row->sha256);
    if (!total) return missing();
    // A player seeks with a Range (Chromium's <video> and <audio> start with bytes=0-). An If-Range
    // names a validator this route never gives out, so it cannot match: the whole file then.
    const ByteRange range = request.header("If-Range") ? ByteRange{} : parseByteRange(request.header("Range"), *total);
    response.setHeader("Accept-Ranges", "bytes");
    if (range.kind == ByteRange::Kind::Unsatisfiable) {
        response.json(416, "{\"error\":{\"code\":\"range_not_satisfiable\",\"message\":\"the range is outside the file\"}}");
        response.setHeader("Content-Range", "bytes */" + std::to_string(*total));
        return;
    }
    const bool part = range.kind == ByteRange::Kind::Part;
    const auto bytes = part ? media.readPart(row->sha256, range.first, range.last - range.first + 1) : media.read(row->sha256);
    if (!bytes || (part && bytes->empty())) return missing();
    // The stored type as it came, unless it holds a byte a header cannot: then its bare type.
    std::string type = row->mimeType;
    if (std::any_of(type.begin(), type.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F; }))
        type = bareMimeType(type);
    const std::string bare = bareMimeType(type);
    response.status = 200;
    response.contentType = type.empty() ? "application/octet-stream" : type;
    response.body = *bytes;
    if (part) {
        // The part as read: a file cut shorter since its size was taken says where it really ends.
        response.status = 206;
        const std::int64_t end = range.first + static_cast<std::int64_t>(bytes->size()) - 1;
        response.setHeader("Content-Range", "bytes " + std::to_string(range.first) + "-" + std::to_string(end) + "/" + std::to_string(*total));
    }
    // Bytes a customer sent are never a page of this site: no sniffing them into HTML, no script,
    // no plugin, no form, no frame, whatever they hold (an HTML or SVG "document").
    response.setHeader("X-Content-Type-Options", "nosniff");
    response.setHeader("Content-Security-Policy", "default-src 'none'; sandbox");
    response.setHeader("Cross-Origin-Resource-Policy", "same-origin");
    response.setHeader("Referrer-Policy", "no-referrer");
    response.setHeader("Cache-Control", "private, max-age=86400");
    const bool inlineKind = (row->type == "image" || row->type == "sticker") ? bare.rfind("image/", 0) == 0
                            : row->type == "audio"                            ? bare.rfind("audio/", 0) == 0
                            : row->type == "video"                            ? bare.rfind("video/", 0) == 0
                                                                              : false;
    if (!inlineKind) response.setHeader("Content-Disposition", attachmentDisposition(row->filename.empty() ? "document" : row->filename));
    else response.setHeader("Content-Disposition", "inline");
}

}  // namespace tawasul::plugins::admin_inbox
