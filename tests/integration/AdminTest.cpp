// The admin foundation in a real host (in-process, serving on a free port) with all six plugins and
// the stream_test plugin: the route table's rules, every admin route refused without a session and
// without its permission, CSRF, sign-in throttling, cookie flags, session expiry, pages in the
// layout in three languages, event streams, and a broken template that stops the start.
#include <cppunit/extensions/HelperMacros.h>

#include <filesystem>
#include <regex>
#include <thread>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "tawasul/sdk/Crypto.hpp"

#include "access/ApiTokens.hpp"
#include "app/Runtime.hpp"
#include "TestSupport.hpp"

using namespace tawasul;
using namespace Poco::Data::Keywords;
using tawasul::test::TempDir;

namespace {

const char* const kPlugins[] = {"webhook_receiver", "contact_matcher", "inbound_router", "cloud_api", "outbox", "admin_inbox"};
const std::string kPassword = "correct horse battery";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

using Reply = test::HttpResult;

Reply call(int port, const std::string& method, const std::string& path, const std::string& body = "",
           const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return test::httpRequest(method, "127.0.0.1", port, path, body, headers);
}

// What every HTML page of the admin carries, its refusals included.
void assertSecurityHeaders(const std::string& what, const Reply& reply) {
    const auto header = [&](const std::string& name) { return reply.headers.count(name) ? reply.headers.at(name) : std::string(); };
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what, std::string("nosniff"), header("x-content-type-options"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what, std::string("DENY"), header("x-frame-options"));
    CPPUNIT_ASSERT_MESSAGE(what + ": " + header("content-security-policy"),
                           header("content-security-policy").find("frame-ancestors 'none'") != std::string::npos);
}

std::string cookieNamed(const Reply& reply, const std::string& name) {
    for (const auto& cookie : reply.cookies)
        if (cookie.rfind(name + "=", 0) == 0) return cookie;
    return "";
}

std::string cookieValue(const std::string& setCookie) {
    const auto eq = setCookie.find('=');
    return setCookie.substr(eq + 1, setCookie.find(';') - eq - 1);
}

std::string encode(const std::string& text) {
    std::string out;
    Poco::URI::encode(text, "&=+?#%@", out);
    return out;
}

struct Browser {
    std::string cookie;  // "tawasul_session=..."
    std::string csrf;
};

// The host with the six plugins and stream_test, migrated, serving on a free port.
class AdminHost {
public:
    explicit AdminHost(const std::string& extraYaml = "") {
        std::filesystem::create_directories(dir_.path() / "plugins");
        std::string load;
        for (const char* name : kPlugins) {
            std::filesystem::create_directory_symlink(std::filesystem::path(TAWASUL_PLUGIN_DIR) / name, dir_.path() / "plugins" / name);
            load += std::string("    - ") + name + ": {}\n";
        }
        std::filesystem::create_directory_symlink(std::filesystem::path(TAWASUL_TEST_PLUGIN_DIR) / "stream_test",
                                                  dir_.path() / "plugins" / "stream_test");
        load += "    - stream_test: {}\n";
        const std::string yaml = test::testConfigYaml(dir_, dir_.file("plugins"), load, "", extraYaml);
        runtime_ = std::make_unique<host::Runtime>(host::HostConfig::parse(sdk::ConfigNode::loadString(yaml, dir_.file("tawasul.yaml"))));
        runtime_->loadPlugins();
        runtime_->migrator().migrate();
        runtime_->openSecrets(true);
        runtime_->registerHostRoutes();
        runtime_->startPlugins();
        runtime_->startServing();
    }
    ~AdminHost() {
        runtime_->stopServing();
        runtime_->stopPlugins();
    }
    host::Runtime& runtime() { return *runtime_; }
    int port() const { return runtime_->httpPort(); }

    Reply signInAttempt(const std::string& email, const std::string& password, const std::string& next = "/admin") {
        const Reply form = call(port(), "GET", "/admin/login");
        const std::string loginCookie = cookieNamed(form, host::kLoginCsrfCookie);
        const std::string token = cookieValue(loginCookie);
        return call(port(), "POST", "/admin/login",
                    "_csrf=" + token + "&next=" + encode(next) + "&email=" + encode(email) + "&password=" + encode(password),
                    {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Cookie", std::string(host::kLoginCsrfCookie) + "=" + token}});
    }

    Browser signIn(const std::string& email) {
        const Reply reply = signInAttempt(email, kPassword);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(reply.body, 303, reply.status);
        Browser browser;
        browser.cookie = std::string(host::kSessionCookie) + "=" + cookieValue(cookieNamed(reply, host::kSessionCookie));
        const Reply home = call(port(), "GET", "/admin", "", {{"Cookie", browser.cookie}});
        CPPUNIT_ASSERT_EQUAL(200, home.status);
        std::smatch match;
        CPPUNIT_ASSERT(std::regex_search(home.body, match, std::regex("name=\"csrf-token\" content=\"([0-9a-f]+)\"")));
        browser.csrf = match[1];
        return browser;
    }

    // For a user who may see no page: the CSRF token from the database.
    Browser signInWithoutHome(const std::string& email) {
        const Reply reply = signInAttempt(email, kPassword);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(reply.body, 303, reply.status);
        Browser browser;
        const std::string token = cookieValue(cookieNamed(reply, host::kSessionCookie));
        browser.cookie = std::string(host::kSessionCookie) + "=" + token;
        Poco::Data::Session db = runtime_->database().session();
        std::string id = sdk::sha256Hex(token);
        db << "SELECT csrf_token FROM sessions WHERE id = $1", use(id), into(browser.csrf), now;
        return browser;
    }

    std::int64_t addUser(const std::string& email, const std::string& role) {
        return runtime_->auth().addUser(email, "User " + role, role, kPassword);
    }

private:
    TempDir dir_;
    std::unique_ptr<host::Runtime> runtime_;
};

// A concrete path for a route pattern: {x} → 1, {x...} → a/b.
std::string pathFor(const std::string& pattern) {
    std::string out;
    for (const auto& segment : host::splitPath(pattern)) {
        out += "/";
        if (segment.front() == '{') out += segment.find("...") != std::string::npos ? "a/b" : "1";
        else out += segment;
    }
    return out.empty() ? "/" : out;
}

bool underAdmin(const std::string& pattern) { return pattern == "/admin" || pattern.rfind("/admin/", 0) == 0; }

}  // namespace

class AdminTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(AdminTest);
    CPPUNIT_TEST(routeTableOfAllPluginsFollowsTheRules);
    CPPUNIT_TEST(everyAdminRouteRefusesWithoutSessionAndWithoutPermission);
    CPPUNIT_TEST(stateChangingRequestsNeedTheCsrfToken);
    CPPUNIT_TEST(signInPagesLayoutAndLanguages);
    CPPUNIT_TEST(signInIsThrottledPerAccountAndPerAddress);
    CPPUNIT_TEST(sessionsEndWhenIdleAtTheirAbsoluteEndAndOnSignOut);
    CPPUNIT_TEST(secureCookieWhenThePublicUrlIsHttps);
    CPPUNIT_TEST(staticFilesWithCachingAndNoTraversal);
    CPPUNIT_TEST(eventStreamDeliversBusEventsResumesAndEndsOnStop);
    CPPUNIT_TEST(brokenTemplateStopsThePluginStart);
    CPPUNIT_TEST_SUITE_END();

public:
    void routeTableOfAllPluginsFollowsTheRules() {
        AdminHost host;
        std::vector<std::string> declared;
        {
            Poco::Data::Session session = host.runtime().database().session();
            session << "SELECT name FROM permissions", into(declared), now;
        }
        std::size_t sessionRoutes = 0;
        for (const auto& route : host.runtime().router().routes()) {
            const std::string name = route->method + " " + route->pattern + " (" + route->owner + ")";
            if (route->options.access != sdk::Access::Public)
                CPPUNIT_ASSERT_MESSAGE(name + " has a permission", !route->options.permission.empty());
            // A Session route's permission must be grantable: a row in `permissions`. (Token routes
            // name API-token scopes, which are not roles' permissions.)
            if (route->options.access == sdk::Access::Session) {
                CPPUNIT_ASSERT_MESSAGE(name + " needs '" + route->options.permission + "', which no migration declares",
                                       std::find(declared.begin(), declared.end(), route->options.permission) != declared.end());
            }
            if (route->options.access == sdk::Access::Token) {  // platform API: a scope a token can carry
                const auto& scopes = host::ApiTokens::knownScopes();
                CPPUNIT_ASSERT_MESSAGE(name + " needs scope '" + route->options.permission + "', which no token can carry",
                                       std::find(scopes.begin(), scopes.end(), route->options.permission) != scopes.end());
            }
            if (underAdmin(route->pattern)) {
                const bool exempt = route->pattern == "/admin/login" || route->pattern.rfind("/admin/static/", 0) == 0 ||
                                    route->pattern.rfind("/admin/whatsapp", 0) == 0;
                CPPUNIT_ASSERT_MESSAGE(name + " is a Session route", exempt || route->options.access == sdk::Access::Session);
            }
            sessionRoutes += route->options.access == sdk::Access::Session ? 1 : 0;
        }
        CPPUNIT_ASSERT_MESSAGE("the host's and stream_test's session routes are there", sessionRoutes >= 6);
    }

    void everyAdminRouteRefusesWithoutSessionAndWithoutPermission() {
        AdminHost host;
        const std::int64_t nobody = host.addUser("nobody@example.dz", "viewer");
        {
            // A user whose role holds nothing at all: signed in, allowed nowhere.
            Poco::Data::Session session = host.runtime().database().session();
            std::int64_t id = nobody;
            session << "DELETE FROM user_roles WHERE user_id = $1", use(id), now;
        }
        const Browser browser = host.signInWithoutHome("nobody@example.dz");
        std::size_t checked = 0;
        for (const auto& route : host.runtime().router().routes()) {
            if (route->options.access != sdk::Access::Session) continue;
            const std::string path = pathFor(route->pattern);
            const std::string name = route->method + " " + path;
            const Reply anonymous = call(host.port(), route->method, path);
            if (route->options.style == sdk::RouteStyle::Page) {
                CPPUNIT_ASSERT_EQUAL_MESSAGE(name, 302, anonymous.status);
                CPPUNIT_ASSERT_MESSAGE(name + " → " + anonymous.location(), anonymous.location().rfind("/admin/login?next=", 0) == 0);
            } else {
                CPPUNIT_ASSERT_EQUAL_MESSAGE(name, 401, anonymous.status);
                CPPUNIT_ASSERT_MESSAGE(anonymous.body, contains(anonymous.body, "\"unauthenticated\""));
            }
            const Reply forbidden = call(host.port(), route->method, path, "", {{"Cookie", browser.cookie}, {"X-CSRF-Token", browser.csrf}});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, 403, forbidden.status);
            CPPUNIT_ASSERT_MESSAGE(name + ": " + forbidden.body, contains(forbidden.body, route->options.permission));
            if (route->options.style == sdk::RouteStyle::Page) assertSecurityHeaders(name, forbidden);
            ++checked;
        }
        CPPUNIT_ASSERT(checked >= 6);
        // A GET page keeps its address (and query) for after the sign-in.
        const Reply page = call(host.port(), "GET", "/admin/test/page?name=x&y=1");
        CPPUNIT_ASSERT_EQUAL(std::string("/admin/login?next=/admin/test/page%3Fname%3Dx%26y%3D1"), page.location());
    }

    void stateChangingRequestsNeedTheCsrfToken() {
        AdminHost host;
        host.addUser("agent@example.dz", "agent");
        const Browser browser = host.signIn("agent@example.dz");
        const auto cookie = std::make_pair(std::string("Cookie"), browser.cookie);
        const auto form = std::make_pair(std::string("Content-Type"), std::string("application/x-www-form-urlencoded"));

        Reply reply = call(host.port(), "POST", "/admin/test/ping", "{}", {cookie});
        CPPUNIT_ASSERT_EQUAL(403, reply.status);
        CPPUNIT_ASSERT_MESSAGE(reply.body, contains(reply.body, "\"code\":\"csrf\""));
        std::string wrong = browser.csrf;
        wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
        CPPUNIT_ASSERT_EQUAL(403, call(host.port(), "POST", "/admin/test/ping", "{}", {cookie, {"X-CSRF-Token", wrong}}).status);
        // Another session's token is not this session's.
        host.addUser("other@example.dz", "agent");
        const Browser other = host.signIn("other@example.dz");
        CPPUNIT_ASSERT_EQUAL(403, call(host.port(), "POST", "/admin/test/ping", "{}", {cookie, {"X-CSRF-Token", other.csrf}}).status);
        // A form field is read only from a form body.
        CPPUNIT_ASSERT_EQUAL(403, call(host.port(), "POST", "/admin/test/ping", "_csrf=" + browser.csrf, {cookie}).status);
        CPPUNIT_ASSERT_EQUAL(200, call(host.port(), "POST", "/admin/test/ping", "{}", {cookie, {"X-CSRF-Token", browser.csrf}}).status);
        CPPUNIT_ASSERT_EQUAL(200, call(host.port(), "POST", "/admin/test/ping", "x=1&_csrf=" + browser.csrf, {cookie, form}).status);
        // Sign-out and the language switch are forms too; their refusal is a page with the page headers.
        const Reply expired = call(host.port(), "POST", "/admin/logout", "", {cookie, form});
        CPPUNIT_ASSERT_EQUAL(403, expired.status);
        assertSecurityHeaders("POST /admin/logout without its token", expired);
        CPPUNIT_ASSERT_EQUAL(403, call(host.port(), "POST", "/admin/locale", "locale=ar", {cookie, form}).status);
        CPPUNIT_ASSERT_EQUAL(200, call(host.port(), "GET", "/admin", "", {cookie}).status);
        // The sign-in form has its own token, bound to a cookie.
        const Reply login = call(host.port(), "POST", "/admin/login", "_csrf=abc&email=agent%40example.dz&password=" + encode(kPassword),
                                 {form, {"Cookie", std::string(host::kLoginCsrfCookie) + "=abd"}});
        CPPUNIT_ASSERT_EQUAL(403, login.status);
        CPPUNIT_ASSERT(cookieNamed(login, host::kSessionCookie).empty());
        const Reply bare = call(host.port(), "POST", "/admin/login", "email=agent%40example.dz&password=" + encode(kPassword), {form});
        CPPUNIT_ASSERT_EQUAL_MESSAGE("no cookie and no field is no token", 403, bare.status);
        CPPUNIT_ASSERT(cookieNamed(bare, host::kSessionCookie).empty());
    }

    void signInPagesLayoutAndLanguages() {
        AdminHost host;
        host.addUser("amina@example.dz", "agent");
        // The sign-in page follows Accept-Language, then a chosen language.
        Reply login = call(host.port(), "GET", "/admin/login", "", {{"Accept-Language", "fr-DZ,fr;q=0.9"}});
        CPPUNIT_ASSERT_EQUAL(200, login.status);
        CPPUNIT_ASSERT_MESSAGE(login.body, contains(login.body, "<html lang=\"fr\" dir=\"ltr\">"));
        CPPUNIT_ASSERT_MESSAGE(login.body, contains(login.body, "Mot de passe"));
        login = call(host.port(), "GET", "/admin/login?lang=ar", "", {{"Accept-Language", "fr"}});
        CPPUNIT_ASSERT_EQUAL(303, login.status);
        const std::string langCookie = cookieNamed(login, host::kLocaleCookie);
        CPPUNIT_ASSERT_EQUAL(std::string("tawasul_lang=ar"), langCookie.substr(0, langCookie.find(';')));
        login = call(host.port(), "GET", login.location(), "", {{"Accept-Language", "fr"}, {"Cookie", "tawasul_lang=ar"}});
        CPPUNIT_ASSERT_MESSAGE(login.body, contains(login.body, "<html lang=\"ar\" dir=\"rtl\">"));

        // Wrong password: the page says so, and no session.
        Reply wrong = host.signInAttempt("amina@example.dz", "not the password");
        CPPUNIT_ASSERT_EQUAL(401, wrong.status);
        CPPUNIT_ASSERT_MESSAGE(wrong.body, contains(wrong.body, "Wrong e-mail or password."));
        CPPUNIT_ASSERT(cookieNamed(wrong, host::kSessionCookie).empty());

        // Signing in goes back to where the user was headed, never to another site.
        Reply ok = host.signInAttempt("Amina@Example.dz", kPassword, "/admin/test/page?name=x");
        CPPUNIT_ASSERT_EQUAL(303, ok.status);
        CPPUNIT_ASSERT_EQUAL(std::string("/admin/test/page?name=x"), ok.location());
        const std::string session = cookieNamed(ok, host::kSessionCookie);
        CPPUNIT_ASSERT_MESSAGE(session, contains(session, "; HttpOnly") && contains(session, "; SameSite=Lax") &&
                                            contains(session, "; Path=/") && !contains(session, "Secure"));
        CPPUNIT_ASSERT_EQUAL(std::string("/admin"), host.signInAttempt("amina@example.dz", kPassword, "//evil.example/admin").location());
        CPPUNIT_ASSERT_EQUAL(std::string("/admin"), host.signInAttempt("amina@example.dz", kPassword, "https://evil.example").location());
        {
            // Only the token's hash is stored.
            Poco::Data::Session db = host.runtime().database().session();
            std::vector<std::string> ids;
            db << "SELECT id FROM sessions", into(ids), now;
            const std::string token = cookieValue(session);
            CPPUNIT_ASSERT(std::find(ids.begin(), ids.end(), sdk::sha256Hex(token)) != ids.end());
            CPPUNIT_ASSERT(std::find(ids.begin(), ids.end(), token) == ids.end());
        }

        const Browser browser = host.signIn("amina@example.dz");
        const auto cookie = std::make_pair(std::string("Cookie"), browser.cookie);
        Reply page = call(host.port(), "GET", "/admin/test/page", "", {cookie});
        CPPUNIT_ASSERT_EQUAL(200, page.status);
        CPPUNIT_ASSERT_MESSAGE(page.body, contains(page.body, "<html lang=\"en\" dir=\"ltr\">"));
        CPPUNIT_ASSERT_MESSAGE(page.body, contains(page.body, "<title>Test page · Tawasul</title>"));
        CPPUNIT_ASSERT_MESSAGE(page.body, contains(page.body, "Hello &lt;script&gt;alert(1)&lt;/script&gt;"));
        CPPUNIT_ASSERT_MESSAGE(page.body, !contains(page.body, "<script>alert"));
        CPPUNIT_ASSERT_MESSAGE(page.body, contains(page.body, "&lt;b&gt;careful&lt;/b&gt;"));
        CPPUNIT_ASSERT_MESSAGE(page.body, contains(page.body, "1,234,567"));
        CPPUNIT_ASSERT_MESSAGE(page.body, contains(page.body, "value=\"" + browser.csrf + "\""));
        CPPUNIT_ASSERT_MESSAGE(page.body, contains(page.body, "action=\"/admin/logout\""));
        CPPUNIT_ASSERT_MESSAGE("no external resources", !contains(page.body, "http://") && !contains(page.body, "https://"));

        // The language switch is remembered on the user, whatever the browser asks for.
        Reply switched = call(host.port(), "POST", "/admin/locale", "_csrf=" + browser.csrf + "&locale=ar&next=%2Fadmin%2Ftest%2Fpage",
                              {cookie, {"Content-Type", "application/x-www-form-urlencoded"}});
        CPPUNIT_ASSERT_EQUAL(303, switched.status);
        CPPUNIT_ASSERT_EQUAL(std::string("/admin/test/page"), switched.location());
        page = call(host.port(), "GET", "/admin/test/page", "", {cookie, {"Accept-Language", "fr"}});
        CPPUNIT_ASSERT_MESSAGE(page.body, contains(page.body, "<html lang=\"ar\" dir=\"rtl\">"));
        CPPUNIT_ASSERT_MESSAGE(page.body, contains(page.body, "صفحة اختبار"));
        CPPUNIT_ASSERT_MESSAGE(page.body, contains(page.body, "1.234.567"));
        CPPUNIT_ASSERT_MESSAGE(page.body, contains(page.body, "تسجيل الخروج"));
        CPPUNIT_ASSERT_EQUAL(400, call(host.port(), "POST", "/admin/locale", "_csrf=" + browser.csrf + "&locale=de",
                                       {cookie, {"Content-Type", "application/x-www-form-urlencoded"}}).status);
    }

    void signInIsThrottledPerAccountAndPerAddress() {
        AdminHost host("auth:\n  password_cost: interactive\n  max_failures: 3\n  failure_window_minutes: 15\n");
        host.addUser("target@example.dz", "agent");
        for (int i = 0; i < 3; ++i) CPPUNIT_ASSERT_EQUAL(401, host.signInAttempt("target@example.dz", "guess " + std::to_string(i)).status);
        // Now even the right password waits: the limit is on attempts, not on wrong ones only.
        const Reply throttled = host.signInAttempt("target@example.dz", kPassword);
        CPPUNIT_ASSERT_EQUAL(429, throttled.status);
        CPPUNIT_ASSERT_MESSAGE(throttled.body, contains(throttled.body, "Too many failed sign-ins. Try again in 15 minutes."));
        CPPUNIT_ASSERT(cookieNamed(throttled, host::kSessionCookie).empty());
        {
            // Counted in the database, so that every host sharing it applies the same limit.
            Poco::Data::Session db = host.runtime().database().session();
            int attempts = 0;
            db << "SELECT attempts FROM sign_in_attempts WHERE scope = 'account' AND subject = 'target@example.dz'", into(attempts), now;
            CPPUNIT_ASSERT_EQUAL(3, attempts);
            // The window passes (its start moved back in time): the account may try again.
            db << "UPDATE sign_in_attempts SET window_started_at = window_started_at - 16 * 60000", now;
        }
        CPPUNIT_ASSERT_EQUAL(303, host.signInAttempt("target@example.dz", kPassword).status);
        // Per address: three different unknown accounts from this address use up its attempts.
        for (int i = 0; i < 3; ++i) CPPUNIT_ASSERT_EQUAL(401, host.signInAttempt("x" + std::to_string(i) + "@example.dz", "guess").status);
        CPPUNIT_ASSERT_EQUAL(429, host.signInAttempt("target@example.dz", kPassword).status);
    }

    void sessionsEndWhenIdleAtTheirAbsoluteEndAndOnSignOut() {
        AdminHost host("auth:\n  password_cost: interactive\n  idle_minutes: 30\n  absolute_hours: 8\n");
        host.addUser("amina@example.dz", "agent");
        auto expectSignedOut = [&](const Browser& browser, const std::string& why) {
            const Reply reply = call(host.port(), "GET", "/admin", "", {{"Cookie", browser.cookie}});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(why, 302, reply.status);
            CPPUNIT_ASSERT_MESSAGE(why, reply.location().rfind("/admin/login", 0) == 0);
        };
        Poco::Data::Session db = host.runtime().database().session();

        Browser idle = host.signIn("amina@example.dz");
        db << "UPDATE sessions SET last_seen_at = last_seen_at - 29 * 60000", now;
        CPPUNIT_ASSERT_EQUAL_MESSAGE("29 idle minutes are fine", 200, call(host.port(), "GET", "/admin", "", {{"Cookie", idle.cookie}}).status);
        db << "UPDATE sessions SET last_seen_at = last_seen_at - 31 * 60000", now;
        expectSignedOut(idle, "idle for more than 30 minutes");
        int rows = -1;
        db << "SELECT COUNT(*) FROM sessions", into(rows), now;
        CPPUNIT_ASSERT_EQUAL_MESSAGE("the expired session is deleted", 0, rows);

        Browser old = host.signIn("amina@example.dz");
        db << "UPDATE sessions SET created_at = created_at - 9 * 3600000, expires_at = expires_at - 9 * 3600000", now;
        expectSignedOut(old, "past the absolute end, though used a moment ago");

        // Ended sessions that are never presented again are deleted at the next sign-in.
        Browser forgotten = host.signIn("amina@example.dz");
        db << "UPDATE sessions SET expires_at = 1", now;
        host.signIn("amina@example.dz");
        db << "SELECT COUNT(*) FROM sessions", into(rows), now;
        CPPUNIT_ASSERT_EQUAL(1, rows);

        Browser leaving = host.signIn("amina@example.dz");
        const Reply out = call(host.port(), "POST", "/admin/logout", "_csrf=" + leaving.csrf,
                               {{"Cookie", leaving.cookie}, {"Content-Type", "application/x-www-form-urlencoded"}});
        CPPUNIT_ASSERT_EQUAL(303, out.status);
        CPPUNIT_ASSERT_EQUAL(std::string("/admin/login"), out.location());
        CPPUNIT_ASSERT_MESSAGE(cookieNamed(out, host::kSessionCookie), contains(cookieNamed(out, host::kSessionCookie), "Max-Age=0"));
        expectSignedOut(leaving, "after signing out");

        // A new password ends the account's sessions.
        Browser before = host.signIn("amina@example.dz");
        host.runtime().auth().setPassword("amina@example.dz", "another long password");
        expectSignedOut(before, "after a password change");
    }

    void secureCookieWhenThePublicUrlIsHttps() {
        TempDir dir;
        const std::string yaml = test::testConfigYaml(dir, TAWASUL_TEST_PLUGIN_DIR, "    - good: {}\n") + "";
        auto config = host::HostConfig::parse(sdk::ConfigNode::loadString(
            std::regex_replace(yaml, std::regex("threads: 16\n"), "threads: 16\n  public_url: \"https://wa.example.dz\"\n"),
            dir.file("tawasul.yaml")));
        host::Runtime runtime(config);
        CPPUNIT_ASSERT(runtime.auth().options().secureCookie);
        CPPUNIT_ASSERT(contains(runtime.auth().sessionCookie("t"), "; Secure"));
        CPPUNIT_ASSERT(contains(runtime.auth().clearedSessionCookie(), "; Secure"));
    }

    void staticFilesWithCachingAndNoTraversal() {
        AdminHost host;
        const Reply css = call(host.port(), "GET", "/admin/static/admin.css");
        CPPUNIT_ASSERT_EQUAL(200, css.status);
        CPPUNIT_ASSERT(contains(css.body, "inline-start"));
        for (const char* bad : {"/admin/static/../lang/en.yaml", "/admin/static/%2e%2e/lang/en.yaml", "/admin/static/.hidden",
                                "/admin/static/stream_test/../../templates/layout.mustache", "/admin/static/nothing.css",
                                "/admin/static/..%2f..%2fhost%2flang%2fen.yaml"}) {
            const Reply reply = call(host.port(), "GET", bad);
            CPPUNIT_ASSERT_MESSAGE(std::string(bad) + " → " + std::to_string(reply.status), reply.status == 404 || reply.status == 400);
            CPPUNIT_ASSERT_MESSAGE(bad, !contains(reply.body, "language_name"));
        }
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(host.port()));
        Poco::Net::HTTPRequest request("GET", "/admin/static/admin.css", Poco::Net::HTTPMessage::HTTP_1_1);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        session.receiveResponse(response).ignore(1 << 20);
        CPPUNIT_ASSERT_EQUAL(std::string("public, max-age=3600"), response.get("Cache-Control"));
        CPPUNIT_ASSERT_EQUAL(std::string("text/css; charset=utf-8"), response.getContentType());
        const Reply again = call(host.port(), "GET", "/admin/static/admin.css", "", {{"If-None-Match", response.get("ETag")}});
        CPPUNIT_ASSERT_EQUAL(304, again.status);
    }

    void eventStreamDeliversBusEventsResumesAndEndsOnStop() {
        auto host = std::make_unique<AdminHost>();
        host->addUser("agent@example.dz", "agent");
        const Browser browser = host->signIn("agent@example.dz");
        CPPUNIT_ASSERT_EQUAL(401, call(host->port(), "GET", "/admin/test/stream").status);
        const Reply head = call(host->port(), "HEAD", "/admin/test/stream", "", {{"Cookie", browser.cookie}});
        CPPUNIT_ASSERT_EQUAL(200, head.status);
        CPPUNIT_ASSERT_EQUAL(std::string(), head.body);

        auto open = [&](const std::string& lastId, Poco::Net::HTTPClientSession& session) -> std::istream& {
            Poco::Net::HTTPRequest request("GET", "/admin/test/stream", Poco::Net::HTTPMessage::HTTP_1_1);
            request.add("Cookie", browser.cookie);
            if (!lastId.empty()) request.add("Last-Event-ID", lastId);
            session.sendRequest(request);
            static thread_local Poco::Net::HTTPResponse response;
            response.clear();
            std::istream& in = session.receiveResponse(response);
            CPPUNIT_ASSERT_EQUAL(200, static_cast<int>(response.getStatus()));
            CPPUNIT_ASSERT_EQUAL(std::string("text/event-stream; charset=utf-8"), response.getContentType());
            return in;
        };
        // Reads lines until a whole event (ending in a blank line) that is not a keep-alive.
        auto nextEvent = [](std::istream& in) {
            std::string event, line;
            while (std::getline(in, line)) {
                if (line.empty()) {
                    if (!event.empty()) return event;
                    continue;
                }
                if (line[0] != ':') event += line + "\n";
            }
            return event;
        };
        auto ping = [&](const std::string& body) {
            CPPUNIT_ASSERT_EQUAL(200, call(host->port(), "POST", "/admin/test/ping", body,
                                           {{"Cookie", browser.cookie}, {"X-CSRF-Token", browser.csrf}}).status);
        };

        Poco::Net::HTTPClientSession first("127.0.0.1", static_cast<Poco::UInt16>(host->port()));
        first.setTimeout(Poco::Timespan(20, 0));
        std::istream& stream = open("", first);
        ping("{\"n\":1}");
        CPPUNIT_ASSERT_EQUAL(std::string("id: 1\nevent: ping\ndata: {\"n\":1}\n"), nextEvent(stream));
        ping("line one\nline two");
        CPPUNIT_ASSERT_EQUAL(std::string("id: 2\nevent: ping\ndata: line one\ndata: line two\n"), nextEvent(stream));

        // A browser that reconnects with Last-Event-ID gets what it missed.
        Poco::Net::HTTPClientSession second("127.0.0.1", static_cast<Poco::UInt16>(host->port()));
        second.setTimeout(Poco::Timespan(20, 0));
        std::istream& resumed = open("1", second);
        CPPUNIT_ASSERT_EQUAL(std::string("id: 2\nevent: ping\ndata: line one\ndata: line two\n"), nextEvent(resumed));

        // Stopping the host ends open streams instead of waiting for them.
        host.reset();
        std::string rest;
        Poco::StreamCopier::copyToString(stream, rest);
        CPPUNIT_ASSERT_MESSAGE(rest, !contains(rest, "event:"));
    }

    void brokenTemplateStopsThePluginStart() {
        TempDir dir;
        const auto plugin = dir.path() / "plugins" / "stream_test";
        std::filesystem::create_directories(plugin / "templates");
        std::filesystem::create_symlink(std::filesystem::path(TAWASUL_TEST_PLUGIN_DIR) / "stream_test" / "stream_test.so",
                                        plugin / "stream_test.so");
        test::writeFile((plugin / "templates" / "page.mustache").string(), "<h1>{{title}}</h1>\n<ul>{{#items}}<li>{{.}}</li>\n</ul>\n");
        host::Runtime runtime(host::HostConfig::parse(sdk::ConfigNode::loadString(
            test::testConfigYaml(dir, dir.file("plugins"), "    - stream_test: {}\n"), dir.file("tawasul.yaml"))));
        runtime.loadPlugins();
        runtime.migrator().migrate();
        runtime.openSecrets(true);
        try {
            runtime.startPlugins();
            CPPUNIT_FAIL("a template that does not parse stops the start");
        } catch (const host::StartupError& error) {
            const std::string expected = "plugin 'stream_test' failed to start: " + (plugin / "templates" / "page.mustache").string() + ":2:";
            CPPUNIT_ASSERT_MESSAGE(error.what(), contains(error.what(), expected));
            CPPUNIT_ASSERT_MESSAGE(error.what(), contains(error.what(), "items"));
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AdminTest);
