#include "AccessGate.hpp"

#include "HttpServer.hpp"

namespace tawasul::host {

AccessGate::AccessGate(sdk::Database& database) : database_(database) {}

bool AccessGate::admit(const Route& route, sdk::HttpRequest& request, sdk::HttpResponse& response) {
    switch (route.options.access) {
        case sdk::Access::Public: return true;
        case sdk::Access::Session: return admitSession(route, request, response);
        case sdk::Access::Token: return admitToken(route, request, response);
    }
    return false;
}

// TODO(issue #6): sessions, CSRF and permissions. Until then no session is ever established.
bool AccessGate::admitSession(const Route& route, sdk::HttpRequest& request, sdk::HttpResponse& response) {
    writeError(response, route.options.style, 401, "unauthenticated", "sign-in is not available yet", request.requestId);
    return false;
}

// TODO(issue #5): platform API tokens. Until then every token is refused.
bool AccessGate::admitToken(const Route& route, sdk::HttpRequest& request, sdk::HttpResponse& response) {
    writeError(response, route.options.style, 401, "unauthenticated", "API tokens are not available yet", request.requestId);
    return false;
}

}  // namespace tawasul::host
