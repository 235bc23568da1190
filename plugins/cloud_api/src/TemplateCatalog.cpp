#include "TemplateCatalog.hpp"

#include <cctype>
#include <stdexcept>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include "tawasul/sdk/Json.hpp"

namespace tawasul::plugins::cloud_api {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Object::Ptr objectAt(const Object& object, const std::string& key) {
    return object.has(key) && object.isObject(key) ? object.getObject(key) : nullptr;
}
Array::Ptr arrayAt(const Object& object, const std::string& key) {
    return object.has(key) && object.isArray(key) ? object.getArray(key) : nullptr;
}

// Header, body and buttons as the outbox keeps them. A part Tawasul cannot send (a media header,
// a copy-code, phone, OTP or flow button, a carousel) makes the template unsupported, with the reason,
// rather than shifting the indexes of the buttons that follow it.
void readComponents(const Array& components, sdk::MetaTemplate& out) {
    for (std::size_t i = 0; i < components.size(); ++i) {
        const Object::Ptr component = components.getObject(static_cast<unsigned>(i));
        if (!component) continue;
        const std::string type = sdk::jsonText(*component, "type");
        if (type == "HEADER") {
            const std::string format = sdk::jsonText(*component, "format");
            if (format == "TEXT")
                out.definition.header = sdk::jsonText(*component, "text");
            else if (!out.unsupported)
                out.unsupported = "a header of format " + format + " (Tawasul sends text headers only)";
        } else if (type == "BODY") {
            out.definition.body = sdk::jsonText(*component, "text");
        } else if (type == "FOOTER") {
            // A fixed text: Meta adds it; a send carries no parameter for it.
        } else if (type == "BUTTONS") {
            const Array::Ptr buttons = arrayAt(*component, "buttons");
            for (std::size_t b = 0; buttons && b < buttons->size(); ++b) {
                const Object::Ptr button = buttons->getObject(static_cast<unsigned>(b));
                if (!button) continue;
                const std::string kind = sdk::jsonText(*button, "type");
                if (kind == "URL")
                    out.definition.buttons.push_back({"url", sdk::jsonText(*button, "text"), sdk::jsonText(*button, "url")});
                else if (kind == "QUICK_REPLY")
                    out.definition.buttons.push_back({"quick_reply", sdk::jsonText(*button, "text"), ""});
                else if (!out.unsupported)
                    out.unsupported = "a button of type " + kind + " (Tawasul sends link and quick-reply buttons only)";
            }
        } else if (!out.unsupported) {
            out.unsupported = "a component of type " + type;
        }
    }
    if (out.definition.body.empty() && !out.unsupported) out.unsupported = "no body";
}

}  // namespace

TemplatePage readTemplatePage(const std::string& body) {
    Object::Ptr page;
    try {
        page = Poco::JSON::Parser().parse(body).extract<Object::Ptr>();
    } catch (const Poco::BadCastException&) {
        throw std::runtime_error("Meta's template list is not a JSON object");
    } catch (const Poco::Exception& error) {
        throw std::runtime_error("Meta's template list is not JSON: " + error.displayText());
    }
    if (!page) throw std::runtime_error("Meta's template list is not a JSON object");
    const Array::Ptr data = arrayAt(*page, "data");
    if (!data) throw std::runtime_error("Meta's template list has no \"data\" array");
    TemplatePage result;
    for (std::size_t i = 0; i < data->size(); ++i) {
        const Object::Ptr entry = data->getObject(static_cast<unsigned>(i));
        if (!entry) continue;
        sdk::MetaTemplate meta;
        meta.id = sdk::jsonIdentifier(*entry, "id");
        meta.name = sdk::jsonText(*entry, "name");
        meta.language = sdk::jsonText(*entry, "language");
        meta.status = sdk::jsonIdentifier(*entry, "status");
        meta.category = sdk::jsonIdentifier(*entry, "category");
        if (const Object::Ptr quality = objectAt(*entry, "quality_score")) meta.quality = sdk::jsonIdentifier(*quality, "score");
        meta.rejectedReason = sdk::jsonText(*entry, "rejected_reason");
        if (meta.rejectedReason == "NONE") meta.rejectedReason.clear();
        if (meta.name.empty() || meta.language.empty() || meta.name.size() > 512 || meta.language.size() > 32) continue;
        if (const Array::Ptr components = arrayAt(*entry, "components"))
            readComponents(*components, meta);
        else
            meta.unsupported = "no components";
        result.templates.push_back(std::move(meta));
    }
    // The next page exists when Meta gives its address; its cursor is what is kept, so that the
    // next request goes to the configured Graph API with the token, wherever "next" points.
    const Object::Ptr paging = objectAt(*page, "paging");
    const Object::Ptr cursors = paging ? objectAt(*paging, "cursors") : nullptr;
    const std::string after = cursors ? sdk::jsonIdentifier(*cursors, "after") : "";
    if (paging && paging->has("next") && !paging->isNull("next") && !after.empty()) result.after = after;
    return result;
}

std::string templatePagePath(const std::string& businessAccountId, std::size_t limit, const std::optional<std::string>& after) {
    std::string path = "/" + businessAccountId +
                       "/message_templates?fields=id,name,language,status,category,quality_score,rejected_reason,components&limit=" +
                       std::to_string(limit);
    if (after) {
        std::string encoded;
        Poco::URI::encode(*after, "&=+?#/", encoded);
        path += "&after=" + encoded;
    }
    return path;
}

namespace {

std::string upper(std::string text) {
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

// The example of one variable; every variable must have one.
const std::string& exampleOf(const sdk::TemplateSubmission& submission, const std::string& key) {
    const auto found = submission.examples.find(key);
    if (found == submission.examples.end() || found->second.find_first_not_of(" \t\r\n") == std::string::npos)
        throw std::invalid_argument(key);
    return found->second;
}

// {"header_text": [...]} / {"body_text": [[...]]} for positional variables, {"*_named_params":
// [{"param_name", "example"}]} for named ones.
void setExample(Object& component, const sdk::TemplateSubmission& submission, const std::string& part, const std::string& text,
                bool named) {
    const std::vector<std::string> variables = sdk::TemplateText::variables(text);
    if (variables.empty()) return;
    Object example;
    if (named) {
        Array params;
        for (const std::string& variable : variables) {
            Object param;
            param.set("param_name", variable);
            param.set("example", exampleOf(submission, part + ":" + variable));
            params.add(param);
        }
        example.set(part + "_text_named_params", params);
    } else {
        Array values;
        for (const std::string& variable : variables) values.add(exampleOf(submission, part + ":" + variable));
        if (part == "body") {
            Array rows;
            rows.add(values);
            example.set("body_text", rows);
        } else {
            example.set("header_text", values);
        }
    }
    component.set("example", example);
}

}  // namespace

std::string templateCreationBody(const sdk::TemplateSubmission& submission) {
    const sdk::TemplateDefinition& definition = submission.definition;
    const bool named = definition.named();
    Object body;
    body.set("name", submission.name);
    body.set("language", submission.language);
    body.set("category", upper(submission.category));
    body.set("parameter_format", named ? "NAMED" : "POSITIONAL");
    Array components;
    if (!definition.header.empty()) {
        Object header;
        header.set("type", "HEADER");
        header.set("format", "TEXT");
        header.set("text", definition.header);
        setExample(header, submission, "header", definition.header, named);
        components.add(header);
    }
    Object text;
    text.set("type", "BODY");
    text.set("text", definition.body);
    setExample(text, submission, "body", definition.body, named);
    components.add(text);
    if (!definition.buttons.empty()) {
        Array buttons;
        for (std::size_t i = 0; i < definition.buttons.size(); ++i) {
            const sdk::TemplateButton& button = definition.buttons[i];
            Object entry;
            entry.set("type", button.type == "url" ? "URL" : "QUICK_REPLY");
            entry.set("text", button.text);
            if (button.type == "url") {
                entry.set("url", button.url);
                const std::vector<std::string> variables = sdk::TemplateText::variables(button.url);
                if (!variables.empty()) {
                    // Meta wants the whole address as an example, the variable filled in.
                    const std::string key = "button" + std::to_string(i) + ":" + variables.front();
                    std::string error;
                    const auto filled = sdk::TemplateText::render(button.url, {{variables.front(), exampleOf(submission, key)}}, error);
                    Array example;
                    example.add(filled.value_or(button.url));
                    entry.set("example", example);
                }
            }
            buttons.add(entry);
        }
        Object part;
        part.set("type", "BUTTONS");
        part.set("buttons", buttons);
        components.add(part);
    }
    body.set("components", components);
    return sdk::jsonString(body);
}

sdk::SubmittedTemplate readSubmittedTemplate(const std::string& body) {
    try {
        const Object::Ptr answer = Poco::JSON::Parser().parse(body).extract<Object::Ptr>();
        sdk::SubmittedTemplate submitted;
        if (answer) {
            submitted.id = sdk::jsonIdentifier(*answer, "id");
            submitted.status = sdk::jsonIdentifier(*answer, "status");
            submitted.category = sdk::jsonIdentifier(*answer, "category");
        }
        if (submitted.id.empty()) throw std::runtime_error("Meta's answer names no template id");
        if (submitted.status.empty()) submitted.status = "PENDING";
        return submitted;
    } catch (const Poco::Exception& error) {
        throw std::runtime_error("Meta's answer to the submission is not JSON: " + error.displayText());
    }
}

}  // namespace tawasul::plugins::cloud_api
