// `tawasul user ...` and `tawasul role ...`: admin accounts and what their roles may do.
#include <iomanip>
#include <iostream>

#include "cli/Cli.hpp"
#include "app/Runtime.hpp"
#include "tawasul/sdk/Crypto.hpp"

namespace tawasul::host {
namespace {

constexpr const char* kUserUsage =
    "tawasul user add --email E --name N --role R [--password-stdin] | user passwd --email E | "
    "user grant --email E --role R | user list";
constexpr const char* kRoleUsage = "tawasul role grant|revoke --role R --permission P | role list";

const std::vector<std::string> kUserValued{"--email", "--name", "--role"};
const std::vector<std::string> kUserFlags{"--password-stdin"};

std::string need(const Arguments& args, const std::string& action, const std::string& name) {
    auto value = args.value(name);
    if (!value || value->empty()) throw UsageError("user " + action + ": " + name + " is required");
    return *value;
}

void validateUser(const std::vector<std::string>& raw) {
    const Arguments args("user", raw, kUserValued, kUserFlags);
    const auto& words = args.positional();
    if (words.empty()) throw UsageError("usage: " + std::string(kUserUsage));
    const std::string& action = words[0];
    args.expectPositional(1, 1, kUserUsage);
    auto only = [&](std::initializer_list<const char*> allowed, bool stdinFlag) {
        for (const auto& name : kUserValued) {
            bool ok = false;
            for (const char* a : allowed) ok = ok || name == a;
            if (!ok && args.value(name)) throw UsageError("user " + action + ": " + name + " does not apply here");
        }
        if (!stdinFlag && args.flag("--password-stdin")) throw UsageError("user " + action + ": --password-stdin does not apply here");
    };
    if (action == "add") {
        only({"--email", "--name", "--role"}, true);
        need(args, action, "--email");
        need(args, action, "--name");
        need(args, action, "--role");
    } else if (action == "passwd") {
        only({"--email"}, true);  // the password always comes from stdin; the flag is accepted for symmetry
        need(args, action, "--email");
    } else if (action == "grant") {
        only({"--email", "--role"}, false);
        need(args, action, "--email");
        need(args, action, "--role");
    } else if (action == "list") {
        only({}, false);
    } else {
        throw UsageError("user: unknown action '" + action + "' (usage: " + kUserUsage + ")");
    }
}

// The database as `migrate` left it: commands on users refuse to run on an old schema.
void requireMigrated(Runtime& runtime) {
    if (const std::size_t pending = runtime.migrator().pendingCount(); pending > 0)
        throw std::runtime_error(std::to_string(pending) + " migration(s) pending: run `tawasul migrate` first");
}

std::string readPasswordLine() {
    std::string password;
    if (!std::getline(std::cin, password)) throw UsageError("no password on standard input");
    if (!password.empty() && password.back() == '\r') password.pop_back();
    return password;
}

int runUser(const HostConfig& config, const std::vector<std::string>& raw) {
    const Arguments args("user", raw, kUserValued, kUserFlags);
    const std::string action = args.positional()[0];
    Runtime runtime(config);
    requireMigrated(runtime);
    Auth& auth = runtime.auth();
    try {
        if (action == "add") {
            std::string password;
            const bool generated = !args.flag("--password-stdin");
            if (generated) {
                password = sdk::randomHex(12);
            } else {
                password = readPasswordLine();
            }
            auth.addUser(*args.value("--email"), *args.value("--name"), *args.value("--role"), password);
            std::cout << "added " << Auth::normalizeEmail(*args.value("--email")) << " (" << *args.value("--role") << ")\n";
            if (generated) std::cout << "password: " << password << "\n(shown once: store it now, or set another with `tawasul user passwd`)\n";
        } else if (action == "passwd") {
            auth.setPassword(*args.value("--email"), readPasswordLine());
            std::cout << "password changed for " << Auth::normalizeEmail(*args.value("--email")) << "; their sessions are ended\n";
        } else if (action == "grant") {
            auth.grantRole(*args.value("--email"), *args.value("--role"));
            std::cout << "granted " << *args.value("--role") << " to " << Auth::normalizeEmail(*args.value("--email")) << "\n";
        } else {
            std::cout << std::left << std::setw(32) << "EMAIL" << std::setw(24) << "NAME" << std::setw(8) << "LOCALE" << std::setw(8)
                      << "ACTIVE" << "ROLES\n";
            for (const auto& user : auth.listUsers()) {
                std::string roles;
                for (const auto& role : user.roles) roles += (roles.empty() ? "" : ",") + role;
                std::cout << std::left << std::setw(32) << user.email << std::setw(24) << user.name << std::setw(8) << user.locale
                          << std::setw(8) << (user.active ? "yes" : "no") << roles << "\n";
            }
        }
    } catch (const std::invalid_argument& error) {
        throw UsageError("user " + action + ": " + error.what());
    }
    return kExitOk;
}

void validateRole(const std::vector<std::string>& raw) {
    const Arguments args("role", raw, {"--role", "--permission"}, {});
    const auto& words = args.positional();
    if (words.size() != 1) throw UsageError("usage: " + std::string(kRoleUsage));
    if (words[0] == "grant" || words[0] == "revoke") {
        if (!args.value("--role") || args.value("--role")->empty()) throw UsageError("role " + words[0] + ": --role is required");
        if (!args.value("--permission") || args.value("--permission")->empty())
            throw UsageError("role " + words[0] + ": --permission is required");
    } else if (words[0] == "list") {
        if (args.value("--role") || args.value("--permission")) throw UsageError("role list takes no options");
    } else {
        throw UsageError("role: unknown action '" + words[0] + "' (usage: " + kRoleUsage + ")");
    }
}

int runRole(const HostConfig& config, const std::vector<std::string>& raw) {
    const Arguments args("role", raw, {"--role", "--permission"}, {});
    const std::string action = args.positional()[0];
    Runtime runtime(config);
    requireMigrated(runtime);
    try {
        if (action == "grant") {
            runtime.auth().grantPermission(*args.value("--role"), *args.value("--permission"));
            std::cout << "granted " << *args.value("--permission") << " to role " << *args.value("--role") << "\n";
        } else if (action == "revoke") {
            runtime.auth().revokePermission(*args.value("--role"), *args.value("--permission"));
            std::cout << "revoked " << *args.value("--permission") << " from role " << *args.value("--role") << "\n";
        } else {
            Poco::Data::Session session = runtime.database().session();
            std::vector<std::string> roles, permissions;
            using namespace Poco::Data::Keywords;
            session << "SELECT r.name, COALESCE(p.name, '') FROM roles r LEFT JOIN role_permissions rp ON rp.role_id = r.id "
                       "LEFT JOIN permissions p ON p.id = rp.permission_id ORDER BY r.name, p.name",
                into(roles), into(permissions), now;
            for (std::size_t i = 0; i < roles.size(); ++i) std::cout << std::left << std::setw(16) << roles[i] << permissions[i] << "\n";
        }
    } catch (const std::invalid_argument& error) {
        throw UsageError("role " + action + ": " + error.what());
    }
    return kExitOk;
}

}  // namespace

Command userCommand() {
    return {"user", "admin accounts: add, passwd, grant, list",
            "usage: tawasul [--config FILE] user add --email E --name N --role R [--password-stdin]\n"
            "       tawasul [--config FILE] user passwd --email E        (new password on stdin)\n"
            "       tawasul [--config FILE] user grant --email E --role R\n"
            "       tawasul [--config FILE] user list\n\n"
            "add creates an account with one role (admin, agent, viewer or one added later). Its password\n"
            "is read from the first line of stdin with --password-stdin, otherwise generated and printed\n"
            "once. Passwords have 10 to 1024 characters and are stored as argon2id hashes. passwd sets a new\n"
            "password and ends the account's sessions. grant adds a role.\n",
            validateUser, runUser};
}

Command roleCommand() {
    return {"role", "what roles may do: grant, revoke, list",
            "usage: tawasul [--config FILE] role grant --role R --permission P\n"
            "       tawasul [--config FILE] role revoke --role R --permission P\n"
            "       tawasul [--config FILE] role list\n\n"
            "Permissions are declared by the host and the plugins in their migrations; grant and revoke\n"
            "change which roles hold them. Signed-in users see the change on their next request.\n",
            validateRole, runRole};
}

}  // namespace tawasul::host
