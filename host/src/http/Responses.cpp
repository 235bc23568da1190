#include "http/Responses.hpp"

#include <sstream>

#include <Poco/JSON/Object.h>

namespace tawasul::host {

std::string htmlEscape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

void writeError(sdk::HttpResponse& response, sdk::RouteStyle style, int status, const std::string& code,
                const std::string& message, const std::string& requestId, const std::string& field) {
    if (style == sdk::RouteStyle::Api) {
        Poco::JSON::Object error;
        error.set("code", code);
        error.set("message", message);
        if (!field.empty()) error.set("field", field);
        Poco::JSON::Object body;
        body.set("error", error);
        body.set("request_id", requestId);
        std::ostringstream text;
        body.stringify(text);
        response.json(status, text.str());
    } else if (style == sdk::RouteStyle::Page) {
        setPageSecurityHeaders(response);  // an error page is a page: the same CSP and framing rules
        response.html(status, "<!doctype html><meta charset=\"utf-8\"><title>" + std::to_string(status) + "</title><h1>" +
                                  std::to_string(status) + "</h1><p>" + htmlEscape(message) + "</p><p><small>request " +
                                  htmlEscape(requestId) + "</small></p>\n");
    } else {
        response.text(status, message + "\n");
    }
}

void setPageSecurityHeaders(sdk::HttpResponse& response) {
    response.setHeader("Cache-Control", "no-store");
    response.setHeader("X-Content-Type-Options", "nosniff");
    response.setHeader("X-Frame-Options", "DENY");
    response.setHeader("Referrer-Policy", "same-origin");
    response.setHeader("Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
}

}  // namespace tawasul::host
