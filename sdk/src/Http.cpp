#include "tawasul/sdk/Http.hpp"

#include <Poco/String.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>
#include <stdexcept>

namespace tawasul::sdk {

std::string requestIdFor(const std::string& incoming) {
    bool plain = !incoming.empty() && incoming.size() <= 64;
    for (char c : incoming)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) plain = false;
    if (plain) return incoming;
    // A request id names a request in the logs, it guards nothing: a fast per-thread generator, not
    // the CSPRNG of Crypto.hpp (randomToken), which is for secrets.
    thread_local std::mt19937_64 random{std::random_device{}()};
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(random()));
    return text;
}

std::optional<std::string> HttpRequest::header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
        if (Poco::icompare(key, name) == 0) return value;
    }
    return std::nullopt;
}

std::optional<std::string> HttpRequest::queryParam(const std::string& name) const {
    for (const auto& [key, value] : query) {
        if (key == name) return value;
    }
    return std::nullopt;
}

const std::string& HttpRequest::param(const std::string& name) const {
    auto it = params.find(name);
    if (it == params.end()) throw std::out_of_range("no route parameter '" + name + "'");
    return it->second;
}

void HttpResponse::setHeader(const std::string& name, const std::string& value) {
    for (auto& [key, existing] : headers) {
        if (Poco::icompare(key, name) == 0) {
            existing = value;
            return;
        }
    }
    headers.emplace_back(name, value);
}

void HttpResponse::json(int statusCode, std::string jsonBody) {
    status = statusCode;
    contentType = "application/json";
    body = std::move(jsonBody);
}

void HttpResponse::text(int statusCode, std::string textBody) {
    status = statusCode;
    contentType = "text/plain; charset=utf-8";
    body = std::move(textBody);
}

void HttpResponse::html(int statusCode, std::string htmlBody) {
    status = statusCode;
    contentType = "text/html; charset=utf-8";
    body = std::move(htmlBody);
}

void HttpResponse::redirect(int statusCode, const std::string& location) {
    status = statusCode;
    setHeader("Location", location);
    body.clear();
}

}  // namespace tawasul::sdk

namespace tawasul::sdk {

std::string HttpRequest::locale() const {
    return principal && !principal->locale.empty() ? principal->locale : "en";
}

bool Principal::can(const std::string& permission) const {
    return std::find(permissions.begin(), permissions.end(), permission) != permissions.end();
}

}  // namespace tawasul::sdk
