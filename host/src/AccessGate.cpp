#include "AccessGate.hpp"

#include <Poco/URI.h>

#include "HttpServer.hpp"

namespace tawasul::host {

AccessGate::AccessGate(sdk::Database& database, Auth* auth) : database_(database), auth_(auth) {}

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
        writeError(response, route.options.style, 403, "forbidden",
                   "your roles do not include the permission '" + route.options.permission + "'", request.requestId);
        return false;
    }
    if (changesState(request.method)) {
        std::string sent = request.header("X-CSRF-Token").value_or("");
        if (sent.empty()) {
            const std::string type = request.header("Content-Type").value_or("");
            if (type.rfind("application/x-www-form-urlencoded", 0) == 0) sent = formField(request.body, "_csrf").value_or("");
        }
        if (!constantTimeEquals(sent, principal->csrfToken)) {
            writeError(response, route.options.style, 403, "csrf",
                       "the form has expired or did not come from this site: reload the page and try again", request.requestId);
            return false;
        }
    }
    request.principal = std::move(principal);
    return true;
}

// TODO(issue #5): platform API tokens. Until then every token is refused.
bool AccessGate::admitToken(const Route& route, sdk::HttpRequest& request, sdk::HttpResponse& response) {
    writeError(response, route.options.style, 401, "unauthenticated", "API tokens are not available yet", request.requestId);
    return false;
}

}  // namespace tawasul::host
