#include "GraphApi.hpp"

#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "tawasul/sdk/Json.hpp"

namespace tawasul::plugins::cloud_api {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Object envelope(const sdk::OutboundMessage& message, const std::string& type) {
    Object body;
    body.set("messaging_product", "whatsapp");
    body.set("recipient_type", "individual");
    // By phone when there is one; a contact known only by its business-scoped user id is sent to
    // with `recipient` (Meta drops a BSUID given in `to`).
    if (!message.toE164.empty()) body.set("to", message.toE164);
    else body.set("recipient", message.userId);
    body.set("type", type);
    if (!message.replyToWamid.empty()) {
        Object context;
        context.set("message_id", message.replyToWamid);
        body.set("context", context);
    }
    return body;
}

std::string text(const Object& object, const std::string& key) { return sdk::jsonText(object, key); }

}  // namespace

std::string pairRecipient(const sdk::OutboundMessage& message) {
    if (!message.toE164.empty()) return message.toE164;
    return !message.userId.empty() ? message.userId : message.waId;
}

std::string textBody(const sdk::OutboundMessage& message) {
    Object body = envelope(message, "text");
    Object content;
    content.set("preview_url", false);
    content.set("body", message.text);
    body.set("text", content);
    return sdk::jsonString(body);
}

std::string templateBody(const sdk::OutboundMessage& message) {
    Object body = envelope(message, "template");
    Object templ;
    templ.set("name", message.templ.name);
    Object language;
    language.set("code", message.templ.language);
    templ.set("language", language);
    Array components;
    for (const auto& component : message.templ.components) {
        Object c;
        c.set("type", component.type);
        const bool button = component.type == "button";
        if (button) {
            c.set("sub_type", component.subType.empty() ? "quick_reply" : component.subType);
            c.set("index", std::to_string(component.index));  // Meta takes the index as a string
        }
        Array parameters;
        for (const auto& parameter : component.parameters) {
            Object p;
            if (button && component.subType != "url") {
                p.set("type", "payload");
                p.set("payload", parameter.value);
            } else {
                p.set("type", "text");
                p.set("text", parameter.value);
            }
            // Named parameters ({{first_name}}) say their name; positional ones go by order.
            if (!parameter.name.empty()) p.set("parameter_name", parameter.name);
            parameters.add(p);
        }
        c.set("parameters", parameters);
        components.add(c);
    }
    if (components.size() > 0) templ.set("components", components);
    body.set("template", templ);
    return sdk::jsonString(body);
}

std::string markReadBody(const std::string& wamid) {
    Object body;
    body.set("messaging_product", "whatsapp");
    body.set("status", "read");
    body.set("message_id", wamid);
    return sdk::jsonString(body);
}

std::string typingBody(const std::string& wamid) {
    Object body;
    body.set("messaging_product", "whatsapp");
    body.set("status", "read");
    body.set("message_id", wamid);
    Object typing;
    typing.set("type", "text");
    body.set("typing_indicator", typing);
    return sdk::jsonString(body);
}

sdk::SendResult networkFailure(const std::string& what) {
    sdk::SendResult result;
    result.outcome = sdk::SendOutcome::RetryLater;
    result.errorTitle = "no answer";
    result.errorDetails = what;
    result.retryAfter = std::chrono::milliseconds(1000);
    return result;
}

Classified classifyAnswer(int httpStatus, const std::string& body) {
    Classified classified;
    sdk::SendResult& result = classified.result;
    result.httpStatus = httpStatus;
    Object::Ptr root;
    try {
        root = Poco::JSON::Parser().parse(body).extract<Object::Ptr>();
    } catch (const Poco::Exception&) {
    } catch (const std::exception&) {
    }
    if (httpStatus >= 200 && httpStatus < 300) {
        if (root && root->has("messages") && root->isArray("messages")) {
            const Array::Ptr messages = root->getArray("messages");
            if (messages->size() > 0)
                if (const Object::Ptr first = messages->getObject(0)) result.providerMessageId = text(*first, "id");
        }
        if (result.providerMessageId.empty()) {
            // Accepted but unreadable: sending again could deliver twice, so the message stops here.
            result.outcome = sdk::SendOutcome::Refused;
            result.errorTitle = "answer without a message id";
            result.errorDetails = body.substr(0, 500);
            return classified;
        }
        result.outcome = sdk::SendOutcome::Sent;
        return classified;
    }

    const Object::Ptr error = root && root->has("error") && root->isObject("error") ? root->getObject("error") : nullptr;
    int code = 0;
    if (error) {
        code = error->optValue<int>("code", 0);
        result.errorTitle = text(*error, "message");
        if (error->has("error_data") && error->isObject("error_data")) result.errorDetails = text(*error->getObject("error_data"), "details");
        const std::string trace = text(*error, "fbtrace_id");
        if (!trace.empty()) result.errorDetails += (result.errorDetails.empty() ? "" : " ") + std::string("(fbtrace_id ") + trace + ")";
        const int subcode = error->optValue<int>("error_subcode", 0);
        if (subcode) result.errorDetails += (result.errorDetails.empty() ? "" : " ") + std::string("subcode ") + std::to_string(subcode);
    } else {
        result.errorTitle = "HTTP " + std::to_string(httpStatus);
        result.errorDetails = body.substr(0, 500);
    }
    result.errorCode = code;

    auto retry = [&](std::chrono::milliseconds after) {
        result.outcome = sdk::SendOutcome::RetryLater;
        result.retryAfter = after;
    };
    if (code == 190 || code == 368 || code == 131031) {
        // Token expired or account restricted: no message will go until an admin acts.
        classified.unhealthy = true;
        result.outcome = sdk::SendOutcome::Unavailable;
        result.note = code == 190 ? "access token expired or invalid" : "account restricted";
    } else if (code == 131056) {
        retry(std::chrono::milliseconds(6000));  // one message per 6 s to one recipient
    } else if (code == 130429 || code == 131057 || code == 131000) {
        retry(std::chrono::milliseconds(1000));  // the queue's exponential backoff stretches it
    } else if (code == 131047) {
        result.outcome = sdk::SendOutcome::Refused;
        result.note = "outside the 24-hour window";
    } else if (code == 131026) {
        result.outcome = sdk::SendOutcome::Refused;
        result.note = "undeliverable";
    } else if (code >= 132000 && code < 133000) {
        result.outcome = sdk::SendOutcome::Refused;
        result.note = "template problem";
    } else if (httpStatus >= 500 || httpStatus == 429 || httpStatus == 408) {
        retry(std::chrono::milliseconds(1000));
    } else {
        // Any other 4xx names a fault of the request: sending it again cannot help.
        result.outcome = sdk::SendOutcome::Refused;
    }
    return classified;
}

MediaLookup readMediaLookup(int httpStatus, const std::string& body) {
    MediaLookup lookup;
    sdk::MediaFetch& fetch = lookup.failure;
    fetch.httpStatus = httpStatus;
    Object::Ptr root;
    try {
        root = Poco::JSON::Parser().parse(body).extract<Object::Ptr>();
    } catch (const Poco::Exception&) {
    } catch (const std::exception&) {
    }
    if (httpStatus >= 200 && httpStatus < 300) {
        if (!root) {
            fetch.outcome = sdk::MediaOutcome::RetryLater;
            fetch.detail = "media lookup answered HTTP " + std::to_string(httpStatus) + " without JSON";
            return lookup;
        }
        lookup.url = text(*root, "url");
        fetch.mimeType = text(*root, "mime_type");
        fetch.sha256 = text(*root, "sha256");
        // file_size comes as a number or, in some answers, as a string of digits.
        if (root->has("file_size")) {
            try {
                fetch.declaredSize = root->getValue<Poco::Int64>("file_size");
            } catch (const Poco::Exception&) {
                const std::string size = text(*root, "file_size");
                if (!size.empty() && size.size() < 19 && size.find_first_not_of("0123456789") == std::string::npos)
                    fetch.declaredSize = std::stoll(size);
            }
        }
        if (lookup.url.rfind("https://", 0) != 0 && lookup.url.rfind("http://", 0) != 0) {
            fetch.outcome = sdk::MediaOutcome::Refused;
            fetch.detail = lookup.url.empty() ? "media lookup answered without a url" : "media lookup answered a url that is not http(s)";
            return lookup;
        }
        lookup.ok = true;
        fetch.outcome = sdk::MediaOutcome::Fetched;
        return lookup;
    }
    const Object::Ptr error = root && root->has("error") && root->isObject("error") ? root->getObject("error") : nullptr;
    const int code = error ? error->optValue<int>("code", 0) : 0;
    const int subcode = error ? error->optValue<int>("error_subcode", 0) : 0;
    fetch.detail = "HTTP " + std::to_string(httpStatus);
    if (error) {
        fetch.detail += ", error " + std::to_string(code);
        if (subcode) fetch.detail += " subcode " + std::to_string(subcode);
        const std::string message = text(*error, "message");
        if (!message.empty()) fetch.detail += ": " + message.substr(0, 300);
    }
    if (httpStatus == 404 || (code == 100 && subcode == 33)) {
        fetch.outcome = sdk::MediaOutcome::NotFound;
    } else if (httpStatus >= 500 || httpStatus == 429 || code == 4 || code == 80007 || code == 130429 || code == 131000) {
        fetch.outcome = sdk::MediaOutcome::RetryLater;
        fetch.retryAfter = std::chrono::milliseconds(1000);
    } else if (code == 190 || httpStatus == 401) {
        fetch.outcome = sdk::MediaOutcome::Unavailable;
    } else {
        fetch.outcome = sdk::MediaOutcome::Refused;
    }
    return lookup;
}

sdk::MediaFetch downloadFailure(int httpStatus) {
    sdk::MediaFetch fetch;
    fetch.httpStatus = httpStatus;
    fetch.detail = "media download answered HTTP " + std::to_string(httpStatus);
    if (httpStatus == 404 || httpStatus == 410) fetch.outcome = sdk::MediaOutcome::NotFound;
    else if (httpStatus >= 500 || httpStatus == 429) fetch.outcome = sdk::MediaOutcome::RetryLater;
    else if (httpStatus == 401 || httpStatus == 403) fetch.outcome = sdk::MediaOutcome::Unavailable;
    else fetch.outcome = sdk::MediaOutcome::Refused;
    return fetch;
}

}  // namespace tawasul::plugins::cloud_api
