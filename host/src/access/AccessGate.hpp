#pragma once
// Who may call a route: the host's Admission. The HTTP server asks it before the handler of every
// route runs; a Public route is admitted as it is. The gate fails closed: what it cannot establish
// is refused.
#include <memory>

#include "tawasul/sdk/Clock.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Http.hpp"

#include "access/ApiTokens.hpp"
#include "access/Auth.hpp"
#include "http/Admission.hpp"
#include "http/Router.hpp"

namespace tawasul::host {

class AccessGate final : public Admission {
public:
    // Without `auth` no session is ever established (a host without the admin pages).
    AccessGate(sdk::Database& database, const sdk::Clock& clock, Auth* auth);
    bool admit(const Route& route, sdk::HttpRequest& request, sdk::HttpResponse& response) override;

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
