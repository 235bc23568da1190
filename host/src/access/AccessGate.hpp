#pragma once
// Who may call a route: the host's Admission. The HTTP server asks it before the handler of every
// route runs; a Public route is admitted as it is. The gate fails closed: what it cannot establish
// is refused.
#include <functional>
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
    bool notFound(sdk::HttpRequest& request, sdk::HttpResponse& response) override;

    // Writes an error page inside the admin layout for a signed-in user (request.principal set):
    // the status, a code (forbidden, csrf, not_found) and a detail (the permission missing).
    using PageErrors = std::function<void(const sdk::HttpRequest& request, sdk::HttpResponse& response, int status,
                                          const std::string& code, const std::string& detail)>;
    // Without it (a host without the admin pages) refusals are the plain error bodies.
    void setPageErrors(PageErrors pageErrors) { pageErrors_ = std::move(pageErrors); }

private:
    // A signed-in user with the route's permission (and, for a state-changing method, the CSRF token).
    bool admitSession(const Route& route, sdk::HttpRequest& request, sdk::HttpResponse& response);
    // `Authorization: Bearer <token>` with the route's permission among the token's scopes.
    bool admitToken(const Route& route, sdk::HttpRequest& request, sdk::HttpResponse& response);

    sdk::Database& database_;
    ApiTokens tokens_;
    Auth* auth_;
    PageErrors pageErrors_;
};

// True for methods that change state: they need the session's CSRF token.
bool changesState(const std::string& method);

}  // namespace tawasul::host
