// The users page (/admin/users, users.manage): list the accounts, add one, change its role,
// deactivate or activate it, reset its password, end its sessions. The CLI's `tawasul user ...`
// goes through the same Auth methods. A password the host makes is shown once, in the answer to
// the POST that made it (never in an address); every other change answers 303 back to the list.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "tawasul/sdk/Crypto.hpp"
#include "tawasul/sdk/Forms.hpp"

#include "ui/AdminPages.hpp"

namespace tawasul::host {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

const std::string kUsersPath = "/admin/users";
constexpr const char* kPermission = "users.manage";
// The roles the catalog names (role.<name>); another role is shown by its name.
const std::vector<std::string> kKnownRoles{"admin", "agent", "viewer"};
// What ?done= may say; anything else is ignored.
const std::vector<std::string> kDone{"added", "role", "deactivated", "activated", "password", "sessions"};

bool among(const std::vector<std::string>& words, const std::string& word) {
    return std::find(words.begin(), words.end(), word) != words.end();
}

// The answer to a refused change: 404 for a user that is not there, 409 for an e-mail already
// taken, 422 for the rest (a bad value, or no admin left).
int statusOf(const std::string& code) {
    if (code == "not_found") return 404;
    if (code == "duplicate_email") return 409;
    return 422;
}

// What the page shows besides the list: a notice, an error, the add form's values, a password.
struct UsersView {
    int status = 200;
    std::string error;  // UserError code
    std::string email, name, role;
    std::string password, passwordFor;  // shown once
};

class UsersPage {
public:
    UsersPage(Auth& auth, AdminUi& ui) : auth_(auth), ui_(ui) {}

    void list(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        UsersView view;
        render(request, response, view);
    }

    void add(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const sdk::FormData form(request.body);
        UsersView view;
        view.email = form.value("email");
        view.name = form.value("name");
        view.role = form.value("role");
        std::string password = form.value("password");
        const bool generated = password.empty();
        if (generated) password = sdk::randomHex(12);
        try {
            if (Poco::trim(view.email).empty()) throw UserError("invalid_email", "the e-mail address is empty");
            auth_.addUser(view.email, view.name, view.role, password);
        } catch (const UserError& error) {
            view.status = statusOf(error.code());
            view.error = error.code();
            return render(request, response, view);
        }
        if (!generated) return done(response, "added");
        UsersView shown;
        shown.password = password;
        shown.passwordFor = Auth::normalizeEmail(view.email);
        render(request, response, shown);
    }

    void setRole(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        change(request, response, "role", [&](std::int64_t id) { auth_.setRole(id, sdk::FormData(request.body).value("role")); });
    }
    void setActive(const sdk::HttpRequest& request, sdk::HttpResponse& response, bool active) {
        change(request, response, active ? "activated" : "deactivated", [&](std::int64_t id) { auth_.setActive(id, active); });
    }
    void endSessions(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        change(request, response, "sessions", [&](std::int64_t id) { auth_.endSessions(id); });
    }

    void resetPassword(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        std::string password = sdk::FormData(request.body).value("password");
        const bool generated = password.empty();
        if (generated) password = sdk::randomHex(12);
        std::string email;
        const std::int64_t id = sdk::positiveId(request.param("id"));
        try {
            if (!id) throw UserError("not_found", "no such user");
            auth_.setPasswordOf(id, password);
            for (const auto& user : auth_.listUsers())
                if (user.id == id) email = user.email;
        } catch (const UserError& error) {
            UsersView view;
            view.status = statusOf(error.code());
            view.error = error.code();
            return render(request, response, view);
        }
        if (!generated) return done(response, "password");
        UsersView shown;
        shown.password = password;
        shown.passwordFor = email;
        render(request, response, shown);
    }

private:
    template <typename Change>
    void change(const sdk::HttpRequest& request, sdk::HttpResponse& response, const std::string& what, Change&& apply) {
        const std::int64_t id = sdk::positiveId(request.param("id"));
        try {
            if (!id) throw UserError("not_found", "no such user");
            apply(id);
        } catch (const UserError& error) {
            UsersView view;
            view.status = statusOf(error.code());
            view.error = error.code();
            return render(request, response, view);
        }
        done(response, what);
    }

    static void done(sdk::HttpResponse& response, const std::string& what) { response.redirect(303, kUsersPath + "?done=" + what); }

    std::string roleLabel(const std::string& locale, const std::string& role) const {
        return among(kKnownRoles, role) ? ui_.hostCatalog().text(locale, "role." + role) : role;
    }

    void render(const sdk::HttpRequest& request, sdk::HttpResponse& response, const UsersView& view) {
        const Catalog& t = ui_.hostCatalog();
        const std::string locale = AdminUi::localeOf(request);
        const std::vector<std::string> roles = auth_.roleNames();
        auto roleOptions = [&](const std::string& selected) {
            Array::Ptr options = new Array;
            for (const std::string& role : roles) {
                Object::Ptr option = new Object;
                option->set("value", role);
                option->set("label", roleLabel(locale, role));
                option->set("selected", role == selected);
                options->add(option);
            }
            return options;
        };
        Object model;
        Array::Ptr rows = new Array;
        for (const UserRecord& user : auth_.listUsers()) {
            Object::Ptr row = new Object;
            const std::string role = user.roles.empty() ? "" : user.roles.front();
            row->set("id", std::to_string(user.id));
            row->set("url", kUsersPath + "/" + std::to_string(user.id));
            row->set("email", user.email);
            row->set("name", user.name);
            row->set("role_label", role.empty() ? t.text(locale, "users.no_role") : roleLabel(locale, role));
            row->set("role_options", roleOptions(role));
            row->set("active", user.active);
            row->set("sessions", t.text(locale, "users.sessions", {{"count", ui_.hostCatalog().number(locale, user.sessions)}}));
            row->set("has_sessions", user.sessions > 0);
            row->set("me", request.principal && request.principal->id == user.id);
            row->set("created", user.createdAt > 0 ? t.dateTime(locale, user.createdAt / 1000) : "");
            rows->add(row);
        }
        model.set("users", rows);
        model.set("add_role_options", roleOptions(view.role.empty() ? "agent" : view.role));
        model.set("email", view.email);
        model.set("name", view.name);
        model.set("action", kUsersPath);
        if (!view.error.empty()) {
            model.set("error", t.text(locale, "users.error." + view.error));
            model.set("error_code", view.error);
        }
        const std::string doneWord = request.queryParam("done").value_or("");
        if (view.error.empty() && view.password.empty() && among(kDone, doneWord)) model.set("notice", t.text(locale, "users.done." + doneWord));
        if (!view.password.empty()) {
            model.set("new_password", view.password);
            model.set("new_password_for", view.passwordFor);
        }
        ui_.renderHost(request, response, "users", t.text(locale, "users.title"), model, view.status);
    }

    Auth& auth_;
    AdminUi& ui_;
};

}  // namespace

void registerUsersRoutes(Router& router, Auth& auth, AdminUi& ui) {
    auto page = std::make_shared<UsersPage>(auth, ui);
    const auto options = sdk::RouteOptions::session(sdk::RouteStyle::Page, kPermission);
    router.add("host", "GET", kUsersPath, [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->list(rq, rs); }, options);
    router.add("host", "POST", kUsersPath, [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->add(rq, rs); }, options);
    router.add("host", "POST", kUsersPath + "/{id}/role", [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->setRole(rq, rs); },
               options);
    router.add("host", "POST", kUsersPath + "/{id}/deactivate",
               [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->setActive(rq, rs, false); }, options);
    router.add("host", "POST", kUsersPath + "/{id}/activate",
               [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->setActive(rq, rs, true); }, options);
    router.add("host", "POST", kUsersPath + "/{id}/password",
               [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->resetPassword(rq, rs); }, options);
    router.add("host", "POST", kUsersPath + "/{id}/sessions/end",
               [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->endSessions(rq, rs); }, options);
}

}  // namespace tawasul::host
