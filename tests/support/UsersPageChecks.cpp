#include "UsersPageChecks.hpp"

#include <regex>

#include <cppunit/extensions/HelperMacros.h>

#include "AdminSession.hpp"
#include "WebhookSupport.hpp"

namespace tawasul::test {
namespace {

const std::string kUsers = "/admin/users";
const std::string kUserPassword = "correct horse battery staple";  // signInAs's (AdminSession.cpp)

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string shownPassword(const HttpResult& page) {
    std::smatch match;
    if (!std::regex_search(page.body, match, std::regex("id=\"new-password\">([^<]+)</code>"))) return "";
    return match[1];
}

bool canSignIn(const HostProcess& host, const std::string& email, const std::string& password) {
    try {
        signIn(host, email, password);
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace

void checkUsersPage(const HostProcess& host, sdk::Database& db) {
    // Only boss is an active admin from here on (a fixture's own admin steps aside).
    const AdminBrowser boss = signInAs(host, "boss@users.test", "admin");
    {
        Poco::Data::Session session = db.session();
        session << "UPDATE users SET is_active = 0 WHERE email <> 'boss@users.test' AND id IN (SELECT ur.user_id FROM user_roles ur "
                   "JOIN roles r ON r.id = ur.role_id WHERE r.name = 'admin')",
            Poco::Data::Keywords::now;
    }
    const AdminBrowser agent = signInAs(host, "agent@users.test", "agent");
    const AdminBrowser viewer = signInAs(host, "viewer@users.test", "viewer");
    const auto idOf = [&](const std::string& email) { return queryText(db, "SELECT id FROM users WHERE email = '" + email + "'"); };
    const auto rolesOf = [&](const std::string& email) {
        return queryRows(db, "SELECT r.name FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id "
                             "WHERE u.email = '" + email + "'");
    };
    const std::string bossId = idOf("boss@users.test"), agentId = idOf("agent@users.test");

    // The list, for users.manage only; the menu leads there.
    const HttpResult list = boss.get(kUsers);
    CPPUNIT_ASSERT_EQUAL(200, list.status);
    for (const std::string& part : {std::string("agent@users.test"), std::string("viewer@users.test"), std::string("href=\"/admin/users\""),
                                    "action=\"/admin/users/" + agentId + "/role\"", "action=\"/admin/users/" + agentId + "/deactivate\""})
        CPPUNIT_ASSERT_MESSAGE(part, contains(list.body, part));
    CPPUNIT_ASSERT_EQUAL(403, agent.get(kUsers).status);
    CPPUNIT_ASSERT_EQUAL(403, viewer.get(kUsers).status);
    CPPUNIT_ASSERT(!contains(agent.get("/admin").body, "href=\"/admin/users\""));
    CPPUNIT_ASSERT_EQUAL(302, host.request("GET", kUsers).status);

    // Add, the password made by the host and shown once (never in an address).
    const HttpResult made = boss.post(kUsers, {{"email", " New@Users.Test "}, {"name", "Nouvel Agent"}, {"role", "agent"}, {"password", ""}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(made.body, 200, made.status);
    const std::string password = shownPassword(made);
    CPPUNIT_ASSERT_MESSAGE(made.body, password.size() >= 10);
    CPPUNIT_ASSERT_EQUAL(std::string("agent"), rolesOf("new@users.test"));
    CPPUNIT_ASSERT(canSignIn(host, "new@users.test", password));
    CPPUNIT_ASSERT(!contains(boss.get(kUsers).body, password));
    // Add with a password the admin sets.
    CPPUNIT_ASSERT_EQUAL(kUsers + "?done=added",
                         boss.post(kUsers, {{"email", "set@users.test"}, {"name", "Set"}, {"role", "viewer"}, {"password", "set-by-the-admin"}})
                             .location());
    CPPUNIT_ASSERT(canSignIn(host, "set@users.test", "set-by-the-admin"));

    // Every bad input: its status, its reason, nothing written.
    const std::string usersBefore = queryRows(db, "SELECT COUNT(*) FROM users");
    const std::vector<std::tuple<FormFields, int, std::string>> bad{
        {{{"email", "x@users.test"}, {"name", "X"}, {"role", "overlord"}}, 422, "unknown_role"},
        {{{"email", ""}, {"name", "X"}, {"role", "agent"}}, 422, "invalid_email"},
        {{{"email", "not-an-address"}, {"name", "X"}, {"role", "agent"}}, 422, "invalid_email"},
        {{{"email", "x@users.test"}, {"name", "  "}, {"role", "agent"}}, 422, "empty_name"},
        {{{"email", "x@users.test"}, {"name", "X"}, {"role", "agent"}, {"password", "short"}}, 422, "short_password"},
        {{{"email", "AGENT@users.test"}, {"name", "Again"}, {"role", "agent"}}, 409, "duplicate_email"},
    };
    for (const auto& [fields, status, code] : bad) {
        const HttpResult refused = boss.post(kUsers, fields);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(code, status, refused.status);
        CPPUNIT_ASSERT_MESSAGE(code + "\n" + refused.body, contains(refused.body, "data-error=\"" + code + "\""));
    }
    CPPUNIT_ASSERT_EQUAL(403, boss.post(kUsers, {{"email", "x@users.test"}, {"name", "X"}, {"role", "agent"}}, false).status);  // no CSRF
    CPPUNIT_ASSERT_EQUAL(usersBefore, queryRows(db, "SELECT COUNT(*) FROM users"));

    // Change role.
    const std::string newId = idOf("new@users.test");
    CPPUNIT_ASSERT_EQUAL(kUsers + "?done=role", boss.post(kUsers + "/" + newId + "/role", {{"role", "viewer"}}).location());
    CPPUNIT_ASSERT_EQUAL(std::string("viewer"), rolesOf("new@users.test"));
    CPPUNIT_ASSERT_EQUAL(422, boss.post(kUsers + "/" + newId + "/role", {{"role", "overlord"}}).status);
    CPPUNIT_ASSERT_EQUAL(std::string("viewer"), rolesOf("new@users.test"));
    CPPUNIT_ASSERT_EQUAL(404, boss.post(kUsers + "/999999/role", {{"role", "agent"}}).status);
    CPPUNIT_ASSERT_EQUAL(404, boss.post(kUsers + "/abc/role", {{"role", "agent"}}).status);

    // Reset a password: a new one shown once, the old one and the user's sessions end.
    const AdminBrowser newcomer = signIn(host, "new@users.test", password);
    const HttpResult reset = boss.post(kUsers + "/" + newId + "/password", {});
    CPPUNIT_ASSERT_EQUAL(200, reset.status);
    const std::string second = shownPassword(reset);
    CPPUNIT_ASSERT(!second.empty() && second != password);
    CPPUNIT_ASSERT_EQUAL(302, newcomer.get("/admin").status);
    CPPUNIT_ASSERT(!canSignIn(host, "new@users.test", password));
    CPPUNIT_ASSERT(canSignIn(host, "new@users.test", second));
    CPPUNIT_ASSERT_EQUAL(kUsers + "?done=password", boss.post(kUsers + "/" + newId + "/password", {{"password", "chosen-by-the-admin"}}).location());
    CPPUNIT_ASSERT(canSignIn(host, "new@users.test", "chosen-by-the-admin"));
    CPPUNIT_ASSERT_EQUAL(422, boss.post(kUsers + "/" + newId + "/password", {{"password", "short"}}).status);
    CPPUNIT_ASSERT_EQUAL(404, boss.post(kUsers + "/999999/password", {}).status);

    // End a user's sessions.
    const AdminBrowser again = signIn(host, "agent@users.test", kUserPassword);
    CPPUNIT_ASSERT_EQUAL(200, again.get("/admin").status);
    CPPUNIT_ASSERT_EQUAL(kUsers + "?done=sessions", boss.post(kUsers + "/" + agentId + "/sessions/end", {}).location());
    CPPUNIT_ASSERT_EQUAL(302, again.get("/admin").status);
    CPPUNIT_ASSERT_EQUAL(302, agent.get("/admin").status);
    CPPUNIT_ASSERT_EQUAL(404, boss.post(kUsers + "/999999/sessions/end", {}).status);

    // Deactivate (signed out, cannot sign in), activate again.
    CPPUNIT_ASSERT_EQUAL(kUsers + "?done=deactivated", boss.post(kUsers + "/" + agentId + "/deactivate", {}).location());
    CPPUNIT_ASSERT(!canSignIn(host, "agent@users.test", kUserPassword));
    CPPUNIT_ASSERT_EQUAL(kUsers + "?done=activated", boss.post(kUsers + "/" + agentId + "/activate", {}).location());
    CPPUNIT_ASSERT(canSignIn(host, "agent@users.test", kUserPassword));
    CPPUNIT_ASSERT_EQUAL(404, boss.post(kUsers + "/999999/deactivate", {}).status);

    // The last active admin can neither deactivate nor demote themselves: 422, nothing changes.
    const std::string state = "SELECT u.email, u.is_active, r.name FROM users u JOIN user_roles ur ON ur.user_id = u.id "
                              "JOIN roles r ON r.id = ur.role_id ORDER BY u.email, r.name";
    const std::string before = queryRows(db, state);
    const HttpResult lastOff = boss.post(kUsers + "/" + bossId + "/deactivate", {});
    CPPUNIT_ASSERT_EQUAL(422, lastOff.status);
    CPPUNIT_ASSERT(contains(lastOff.body, "data-error=\"last_admin\""));
    CPPUNIT_ASSERT_EQUAL(422, boss.post(kUsers + "/" + bossId + "/role", {{"role", "agent"}}).status);
    CPPUNIT_ASSERT_EQUAL(before, queryRows(db, state));
    CPPUNIT_ASSERT_EQUAL(200, boss.get(kUsers).status);

    // A viewer and an agent change nothing, on any route (403), with their own CSRF token.
    const AdminBrowser looker = signIn(host, "set@users.test", "set-by-the-admin");
    const AdminBrowser worker = signIn(host, "agent@users.test", kUserPassword);
    for (const AdminBrowser* who : {&looker, &worker}) {
        CPPUNIT_ASSERT_EQUAL(403, who->post(kUsers, {{"email", "y@users.test"}, {"name", "Y"}, {"role", "admin"}}).status);
        for (const std::string action : {"/role", "/deactivate", "/activate", "/password", "/sessions/end"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(action, 403, who->post(kUsers + "/" + bossId + action, {{"role", "viewer"}}).status);
    }
    CPPUNIT_ASSERT_EQUAL(before, queryRows(db, state));
    CPPUNIT_ASSERT(canSignIn(host, "boss@users.test", kUserPassword));

    // Another admin: now boss may step down.
    CPPUNIT_ASSERT_EQUAL(kUsers + "?done=role", boss.post(kUsers + "/" + agentId + "/role", {{"role", "admin"}}).location());
    CPPUNIT_ASSERT_EQUAL(kUsers + "?done=role", boss.post(kUsers + "/" + bossId + "/role", {{"role", "agent"}}).location());
    CPPUNIT_ASSERT_EQUAL(403, boss.get(kUsers).status);

    // The CLI still works on the same accounts.
    const auto listed = host.cli({"user", "list"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(listed.second, 0, listed.first);
    CPPUNIT_ASSERT(contains(listed.second, "new@users.test") && contains(listed.second, "set@users.test"));
    const auto added = host.cli({"user", "add", "--email", "cli@users.test", "--name", "Cli", "--role", "overlord"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(added.second, 2, added.first);
    CPPUNIT_ASSERT_MESSAGE(added.second, contains(added.second, "no role 'overlord'"));
}

}  // namespace tawasul::test
