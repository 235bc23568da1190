#include "AdminSession.hpp"

#include <cctype>
#include <regex>
#include <stdexcept>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>

extern char** environ;

namespace tawasul::test {
namespace {

constexpr const char* kSessionCookie = "tawasul_session";
constexpr const char* kLoginCsrfCookie = "tawasul_login_csrf";
constexpr const char* kTestPassword = "correct horse battery staple";

// "name=value" of the cookie `name` among the Set-Cookie headers, or empty.
std::string cookiePair(const HttpResult& reply, const std::string& name) {
    for (const auto& cookie : reply.cookies)
        if (cookie.rfind(name + "=", 0) == 0) return cookie.substr(0, cookie.find(';'));
    return {};
}

std::string csrfFrom(const std::string& html) {
    std::smatch match;
    if (!std::regex_search(html, match, std::regex("name=\"csrf-token\" content=\"([^\"]+)\""))) return {};
    return match[1];
}

}  // namespace

std::string formEncode(const FormFields& fields) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (const auto& [name, value] : fields) {
        if (!out.empty()) out += '&';
        for (const std::string* part : {&name, &value}) {
            for (unsigned char c : *part) {
                if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
                    out += static_cast<char>(c);
                } else {
                    out += '%';
                    out += hex[c >> 4];
                    out += hex[c & 15];
                }
            }
            if (part == &name) out += '=';
        }
    }
    return out;
}

std::pair<int, std::string> cliWithInput(const HostProcess& host, const std::vector<std::string>& args, const std::string& input) {
    std::vector<std::string> argv{TAWASUL_BINARY, "--config", host.configPath()};
    argv.insert(argv.end(), args.begin(), args.end());
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, out[1], 2);
    posix_spawn_file_actions_addclose(&actions, in[1]);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<char*> pointers;
    for (auto& a : argv) pointers.push_back(a.data());
    pointers.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, pointers[0], &actions, nullptr, pointers.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        throw std::runtime_error("cannot run " + argv[0]);
    }
    // Small inputs only (a password line): they fit in the pipe, so writing before reading is safe.
    if (!input.empty() && write(in[1], input.data(), input.size()) != static_cast<ssize_t>(input.size())) {
        close(in[1]);
        close(out[0]);
        throw std::runtime_error("cannot write to " + argv[0]);
    }
    close(in[1]);
    std::string output;
    char buffer[4096];
    ssize_t n;
    while ((n = read(out[0], buffer, sizeof buffer)) > 0) output.append(buffer, static_cast<std::size_t>(n));
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

void addUser(const HostProcess& host, const std::string& email, const std::string& role, const std::string& password) {
    const auto [status, output] =
        cliWithInput(host, {"user", "add", "--email", email, "--name", "User " + role, "--role", role, "--password-stdin"}, password + "\n");
    if (status != 0) throw std::runtime_error("tawasul user add " + email + " failed: " + output);
}

void grantPermission(const HostProcess& host, const std::string& role, const std::string& permission) {
    const auto [status, output] = host.cli({"role", "grant", "--role", role, "--permission", permission});
    if (status != 0) throw std::runtime_error("tawasul role grant failed: " + output);
}

void revokePermission(const HostProcess& host, const std::string& role, const std::string& permission) {
    const auto [status, output] = host.cli({"role", "revoke", "--role", role, "--permission", permission});
    if (status != 0) throw std::runtime_error("tawasul role revoke failed: " + output);
}

HttpResult AdminBrowser::get(const std::string& path) const {
    return host_->request("GET", path, "", {{"Cookie", cookie_}});
}

HttpResult AdminBrowser::post(const std::string& path, const FormFields& fields, bool withCsrf) const {
    FormFields all;
    if (withCsrf) all.emplace_back("_csrf", csrf_);
    all.insert(all.end(), fields.begin(), fields.end());
    return host_->request("POST", path, formEncode(all),
                          {{"Cookie", cookie_}, {"Content-Type", "application/x-www-form-urlencoded"}});
}

void AdminBrowser::setLocale(const std::string& locale) const {
    const HttpResult result = post("/admin/locale", {{"locale", locale}, {"next", "/admin"}});
    if (result.status != 303 && result.status != 302)
        throw std::runtime_error("choosing locale " + locale + " answered " + std::to_string(result.status) + ": " + result.body);
}

AdminBrowser signIn(const HostProcess& host, const std::string& email, const std::string& password) {
    const HttpResult form = httpRequest("GET", "127.0.0.1", host.port(), "/admin/login");
    const std::string loginCookie = cookiePair(form, kLoginCsrfCookie);
    if (loginCookie.empty()) throw std::runtime_error("the sign-in page set no " + std::string(kLoginCsrfCookie) + " cookie");
    const std::string token = loginCookie.substr(loginCookie.find('=') + 1);
    const HttpResult reply = httpRequest("POST", "127.0.0.1", host.port(), "/admin/login",
                             formEncode({{"_csrf", token}, {"next", "/admin"}, {"email", email}, {"password", password}}),
                             {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", loginCookie}});
    const std::string session = cookiePair(reply, kSessionCookie);
    if (reply.status != 303 || session.empty())
        throw std::runtime_error("signing in as " + email + " answered " + std::to_string(reply.status) + ": " + reply.body);
    // Every page holds the session's CSRF token in the layout; the admin home is open to every role.
    const HttpResult home = httpRequest("GET", "127.0.0.1", host.port(), "/admin", "", {{"Cookie", session}});
    const std::string csrf = csrfFrom(home.body);
    if (home.status != 200 || csrf.empty())
        throw std::runtime_error("the admin home answered " + std::to_string(home.status) + " without a CSRF token");
    return AdminBrowser(host, session, csrf);
}

AdminBrowser signInAs(const HostProcess& host, const std::string& email, const std::string& role) {
    addUser(host, email, role, kTestPassword);
    return signIn(host, email, kTestPassword);
}

}  // namespace tawasul::test
