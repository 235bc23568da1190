#include "access/AccessGate.hpp"

#include <Poco/URI.h>

#include "http/Responses.hpp"

#include "tawasul/sdk/Crypto.hpp"
#include "tawasul/sdk/Forms.hpp"

#include <algorithm>

#include <Poco/String.h>

namespace tawasul::host {

AccessGate::AccessGate(sdk::Database& database, const sdk::Clock& clock, Auth* auth)
    : database_(database), tokens_(database, clock), auth_(auth) {}

bool changesState(const std::string& method) {
    return !(method == "GET" || method == "HEAD" || method == "OPTIONS");
}

bool AccessGate::admit(const Route& route, sdk::HttpRequest& request, sdk::HttpResponse& response) {
    switch (route.options.access) {
        case sdk::Access::Public: return true;
        case sdk::Access::Session: return admitSession(route, request, response);
        case sdk::Access::Token: return admitToken(route, request, response);
    }
    return false;
}

bool AccessGate::admitSession(const Route& route, sdk::HttpRequest& request, sdk::HttpResponse& response) {
    const std::string token = cookieValue(request, kSessionCookie);
    std::shared_ptr<sdk::Principal> principal = auth_ && !token.empty() ? auth_->principalFor(token) : nullptr;
    if (!principal) {
        if (route.options.style == sdk::RouteStyle::Page) {
            // Back to this page after signing in: the path and query as asked (a form goes home).
            std::string next = changesState(request.method) ? "/admin" : request.path + (request.rawQuery.empty() ? "" : "?" + request.rawQuery);
            std::string encoded;
            Poco::URI::encode(next, "&=?#+%", encoded);
            response.redirect(302, "/admin/login?next=" + encoded);
        } else {
            writeError(response, route.options.style, 401, "unauthenticated", "sign in first", request.requestId);
        }
        if (!token.empty() && auth_) response.setHeader("Set-Cookie", auth_->clearedSessionCookie());
        return false;
    }
    if (!principal->can(route.options.permission)) {
        if (route.options.style == sdk::RouteStyle::Page && pageErrors_) {
            request.principal = std::move(principal);  // the layout shows who is signed in, in their language
            pageErrors_(request, response, 403, "forbidden", route.options.permission);
            return false;
        }
        writeError(response, route.options.style, 403, "forbidden",
                   "your roles do not include the permission '" + route.options.permission + "'", request.requestId);
        return false;
    }
    if (changesState(request.method)) {
        std::string sent = request.header("X-CSRF-Token").value_or("");
        if (sent.empty()) {
            const std::string type = request.header("Content-Type").value_or("");
            if (type.rfind("application/x-www-form-urlencoded", 0) == 0) sent = sdk::FormData(request.body).value("_csrf");
        }
        if (sent.empty() || principal->csrfToken.empty() || !sdk::constantTimeEquals(sent, principal->csrfToken)) {
            if (route.options.style == sdk::RouteStyle::Page && pageErrors_) {
                request.principal = std::move(principal);
                pageErrors_(request, response, 403, "csrf", "");
                return false;
            }
            writeError(response, route.options.style, 403, "csrf",
                       "the form has expired or did not come from this site: reload the page and try again", request.requestId);
                return false;
        }
    }
    request.principal = std::move(principal);
    return true;
}

bool AccessGate::notFound(sdk::HttpRequest& request, sdk::HttpResponse& response) {
    // Only the admin's pages, only for a live session: anyone else gets the server's plain 404.
    if (!pageErrors_ || !auth_ || (request.path != "/admin" && request.path.rfind("/admin/", 0) != 0)) return false;
    const std::string token = cookieValue(request, kSessionCookie);
    auto principal = token.empty() ? nullptr : auth_->principalFor(token);
    if (!principal) return false;
    request.principal = std::move(principal);
    pageErrors_(request, response, 404, "not_found", "");
    return true;
}

bool AccessGate::admitToken(const Route& route, sdk::HttpRequest& request, sdk::HttpResponse& response) {
    // RFC 6750: a missing token gets a bare challenge, a bad one says invalid_token.
    const auto refuse = [&](int status, const std::string& code, const std::string& message, const std::string& challenge) {
        writeError(response, route.options.style, status, code, message, request.requestId);
        response.setHeader("WWW-Authenticate", challenge);
        return false;
    };
    const auto header = request.header("Authorization");
    if (!header || header->empty())
        return refuse(401, "unauthenticated", "this API needs an Authorization: Bearer TOKEN header (tawasul token create)",
                      "Bearer realm=\"tawasul\"");
    const std::string scheme = "bearer ";
    if (header->size() <= scheme.size() || Poco::icompare(header->substr(0, scheme.size()), scheme) != 0)
        return refuse(401, "invalid_token", "the Authorization header must be 'Bearer TOKEN'",
                      "Bearer realm=\"tawasul\", error=\"invalid_request\"");
    const std::string secret = Poco::trim(header->substr(scheme.size()));
    const auto token = tokens_.authenticate(secret);
    if (!token)
        return refuse(401, "invalid_token", "the token is unknown or revoked", "Bearer realm=\"tawasul\", error=\"invalid_token\"");
    if (std::find(token->scopes.begin(), token->scopes.end(), route.options.permission) == token->scopes.end()) {
        refuse(403, "insufficient_scope", "this token lacks the scope " + route.options.permission,
               "Bearer realm=\"tawasul\", error=\"insufficient_scope\", scope=\"" + route.options.permission + "\"");
        return false;
    }
    auto principal = std::make_shared<sdk::Principal>();
    principal->kind = "api_token";
    principal->id = token->id;
    principal->name = token->name;
    principal->permissions = token->scopes;
    request.principal = std::move(principal);
    return true;
}

}  // namespace tawasul::host
