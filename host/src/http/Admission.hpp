#pragma once
// Who may call a route, as the server sees it: asked before the handler of every route runs. The
// server knows only this interface; access/AccessGate implements it (sessions, API tokens, CSRF),
// so that http/ does not depend on access/.
#include "tawasul/sdk/Http.hpp"

#include "http/Router.hpp"

namespace tawasul::host {

class Admission {
public:
    virtual ~Admission() = default;
    // Sets request.principal and returns true; or writes the refusal (302 to sign-in, 401, 403)
    // into `response` and returns false.
    virtual bool admit(const Route& route, sdk::HttpRequest& request, sdk::HttpResponse& response) = 0;
    // A request no route takes: true when the answer was written (the admin's 404 page for a
    // signed-in user), false for the server's plain 404. Runs on the pool: it may read the database.
    virtual bool notFound(sdk::HttpRequest& request, sdk::HttpResponse& response) { return false; }
};

}  // namespace tawasul::host
