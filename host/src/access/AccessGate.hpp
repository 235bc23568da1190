#pragma once
// Who may call a route. The HTTP server asks the gate before the handler of every Session or Token
// route runs; Public routes never reach it. The gate fails closed: what it cannot establish is refused.
#include <memory>

#include "tawasul/sdk/Clock.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Http.hpp"

#include "access/ApiTokens.hpp"
#include "access/Auth.hpp"
#include "http/Router.hpp"

namespace tawasul::host {

class AccessGate {
public:
    // Without `auth` no session is ever established (a host without the admin pages).
    AccessGate(sdk::Database& database, const sdk::Clock& clock, Auth* auth);
    // Sets request.principal and returns true; or writes the refusal (302 to sign-in, 401, 403)
    // into `response` and returns false.
    bool admit(const Route& route, sdk::HttpRequest& request, sdk::HttpResponse& response);

private:
    // A signed-in user with the route's permission (and, for a state-changing method, the CSRF token).
    bool admitSession(const Route& route, sdk::HttpRequest& request, sdk::HttpResponse& response);
    // `Authorization: Bearer <token>` with the route's permission among the token's scopes.
    bool admitToken(const Route& route, sdk::HttpRequest& request, sdk::HttpResponse& response);

    sdk::Database& database_;
    ApiTokens tokens_;
    Auth* auth_;
};

// True for methods that change state: they need the session's CSRF token.
bool changesState(const std::string& method);

}  // namespace tawasul::host
