#pragma once
// Signing in to the admin of a HostProcess from a C++ test, the way a browser does: users are made
// with the real CLI (`tawasul user add --password-stdin`), the sign-in form is posted with its
// double-submit token, and the session cookie and CSRF token are kept for later requests.
#include <string>
#include <utility>
#include <vector>

#include "HostProcess.hpp"

namespace tawasul::test {

using FormFields = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded, every byte outside [A-Za-z0-9-._~] escaped.
std::string formEncode(const FormFields& fields);

// Runs `tawasul --config <host config> ARGS...` with `input` on its standard input.
std::pair<int, std::string> cliWithInput(const HostProcess& host, const std::vector<std::string>& args, const std::string& input);

// `user add` with this password; throws with the CLI's output when it fails.
void addUser(const HostProcess& host, const std::string& email, const std::string& role, const std::string& password);
// `role grant` / `role revoke`; throws with the CLI's output when it fails.
void grantPermission(const HostProcess& host, const std::string& role, const std::string& permission);
void revokePermission(const HostProcess& host, const std::string& role, const std::string& permission);

class AdminBrowser {
public:
    AdminBrowser(const HostProcess& host, std::string cookie, std::string csrf)
        : host_(&host), cookie_(std::move(cookie)), csrf_(std::move(csrf)) {}

    HttpResult get(const std::string& path) const;
    // A form POST with the session's CSRF token added first (unless withCsrf is false).
    HttpResult post(const std::string& path, const FormFields& fields, bool withCsrf = true) const;
    // Chooses the page language the way the language buttons of the layout do.
    void setLocale(const std::string& locale) const;

    const std::string& csrf() const { return csrf_; }
    const std::string& cookie() const { return cookie_; }

private:
    const HostProcess* host_;
    std::string cookie_;  // "tawasul_session=..."
    std::string csrf_;
};

// Signs in through /admin/login; throws when the host does not answer 303 with a session cookie.
AdminBrowser signIn(const HostProcess& host, const std::string& email, const std::string& password);

// Creates a user with `role` and signs them in.
AdminBrowser signInAs(const HostProcess& host, const std::string& email, const std::string& role);

}  // namespace tawasul::test
