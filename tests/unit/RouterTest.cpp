// host::Router: literal and {param} segments, {rest...}, 404 against 405, HEAD, owners.
#include <cppunit/extensions/HelperMacros.h>

#include "Assertions.hpp"

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "http/Router.hpp"

using tawasul::host::Router;
using tawasul::host::RouteMatch;
using tawasul::host::splitPath;
using tawasul::sdk::HttpHandler;
using tawasul::sdk::HttpRequest;
using tawasul::sdk::HttpResponse;
using tawasul::sdk::RouteOptions;
using tawasul::sdk::RouteStyle;
using Params = std::map<std::string, std::string>;

namespace CppUnit {
template <>
struct assertion_traits<Router::Outcome> {
    static bool equal(Router::Outcome a, Router::Outcome b) { return a == b; }
    static std::string toString(Router::Outcome o) {
        switch (o) {
            case Router::Outcome::Found: return "Found";
            case Router::Outcome::NotFound: return "NotFound";
            case Router::Outcome::MethodNotAllowed: return "MethodNotAllowed";
        }
        return "?";
    }
};
template <>
struct assertion_traits<std::map<std::string, std::string>> {
    static bool equal(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b) {
        return a == b;
    }
    static std::string toString(const std::map<std::string, std::string>& m) {
        std::string out = "{";
        for (const auto& [k, v] : m) out += (out.size() > 1 ? ", " : "") + k + "=" + v;
        return out + "}";
    }
};
}  // namespace CppUnit

namespace {

// A handler that answers with its own name, so a test can tell which route ran.
HttpHandler answer(const std::string& name) {
    return [name](const HttpRequest&, HttpResponse& response) { response.text(200, name); };
}

std::string invoke(const RouteMatch& match) {
    HttpRequest request;
    HttpResponse response;
    match.route->handler(request, response);
    return response.body;
}

template <typename Action>
std::string invalidArgument(Action action) {
    try {
        action();
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    CPPUNIT_FAIL("expected std::invalid_argument");
    return "";
}

}  // namespace

class RouterTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RouterTest);
    CPPUNIT_TEST(testSplitPath);
    CPPUNIT_TEST(testLiteralRoute);
    CPPUNIT_TEST(testRootRoute);
    CPPUNIT_TEST(testParams);
    CPPUNIT_TEST(testLiteralWinsOverParamWhicheverIsAddedFirst);
    CPPUNIT_TEST(testMoreLiteralsWin);
    CPPUNIT_TEST(testRest);
    CPPUNIT_TEST(testParamWinsOverRest);
    CPPUNIT_TEST(testNotFoundAgainstMethodNotAllowed);
    CPPUNIT_TEST(testHeadIsServedByGet);
    CPPUNIT_TEST(testDuplicateRouteRefusedNamingOwner);
    CPPUNIT_TEST(testSameShapeWithOtherParamNamesIsADuplicate);
    CPPUNIT_TEST(testMalformedPatterns);
    CPPUNIT_TEST(testRemoveOwner);
    CPPUNIT_TEST(testRouteKeepsOwnerAndOptions);
    CPPUNIT_TEST_SUITE_END();

public:
    void testSplitPath() {
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"a", "b"}), splitPath("/a//b/"));
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"api", "v1", "{id}"}), splitPath("/api/v1/{id}"));
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>(), splitPath("/"));
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>(), splitPath(""));
    }

    void testLiteralRoute() {
        Router router;
        router.add("host", "GET", "/healthz", answer("health"), {});
        RouteMatch match;
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/healthz", match));
        CPPUNIT_ASSERT_EQUAL(std::string("health"), invoke(match));
        CPPUNIT_ASSERT(match.params.empty());
        // A trailing slash names the same path; a longer or shorter one does not.
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/healthz/", match));
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::NotFound, router.match("GET", "/healthz/x", match));
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::NotFound, router.match("GET", "/", match));
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::NotFound, router.match("GET", "/Healthz", match));
    }

    void testRootRoute() {
        Router router;
        router.add("admin_inbox", "GET", "/", answer("root"), {});
        RouteMatch match;
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/", match));
        CPPUNIT_ASSERT_EQUAL(std::string("root"), invoke(match));
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::NotFound, router.match("GET", "/x", match));
    }

    void testParams() {
        Router router;
        router.add("admin_inbox", "GET", "/conversations/{id}/messages/{message}", answer("message"), {});
        RouteMatch match;
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/conversations/17/messages/wamid.ABC", match));
        CPPUNIT_ASSERT_EQUAL((Params{{"id", "17"}, {"message", "wamid.ABC"}}), match.params);
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::NotFound, router.match("GET", "/conversations/17/messages", match));
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::NotFound, router.match("GET", "/conversations/17/notes/3", match));
    }

    void testLiteralWinsOverParamWhicheverIsAddedFirst() {
        for (const bool paramFirst : {true, false}) {
            Router router;
            if (paramFirst) router.add("a", "GET", "/users/{id}", answer("param"), {});
            router.add("a", "GET", "/users/me", answer("literal"), {});
            if (!paramFirst) router.add("a", "GET", "/users/{id}", answer("param"), {});
            RouteMatch match;
            CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/users/me", match));
            CPPUNIT_ASSERT_EQUAL(std::string("literal"), invoke(match));
            CPPUNIT_ASSERT(match.params.empty());
            RouteMatch other;
            CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/users/42", other));
            CPPUNIT_ASSERT_EQUAL(std::string("param"), invoke(other));
            CPPUNIT_ASSERT_EQUAL((Params{{"id", "42"}}), other.params);
        }
    }

    void testMoreLiteralsWin() {
        Router router;
        router.add("a", "GET", "/{section}/{id}", answer("two-params"), {});
        router.add("a", "GET", "/leads/{id}", answer("one-param"), {});
        router.add("a", "GET", "/leads/export", answer("literal"), {});
        RouteMatch match;
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/leads/export", match));
        CPPUNIT_ASSERT_EQUAL(std::string("literal"), invoke(match));
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/leads/9", match));
        CPPUNIT_ASSERT_EQUAL(std::string("one-param"), invoke(match));
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/contacts/9", match));
        CPPUNIT_ASSERT_EQUAL(std::string("two-params"), invoke(match));
        CPPUNIT_ASSERT_EQUAL((Params{{"section", "contacts"}, {"id", "9"}}), match.params);
    }

    void testRest() {
        Router router;
        router.add("admin_inbox", "GET", "/static/{path...}", answer("static"), {});
        RouteMatch match;
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/static/css/site.css", match));
        CPPUNIT_ASSERT_EQUAL((Params{{"path", "css/site.css"}}), match.params);
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/static/app.js", match));
        CPPUNIT_ASSERT_EQUAL((Params{{"path", "app.js"}}), match.params);
        // The rest must hold at least one segment.
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::NotFound, router.match("GET", "/static", match));
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::NotFound, router.match("GET", "/static/", match));
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::NotFound, router.match("GET", "/other/app.js", match));
    }

    void testParamWinsOverRest() {
        // A single {id} is more specific than {rest...}; the order of registration must not matter.
        for (const bool restFirst : {true, false}) {
            Router router;
            if (restFirst) router.add("a", "GET", "/files/{path...}", answer("rest"), {});
            router.add("a", "GET", "/files/{id}", answer("param"), {});
            if (!restFirst) router.add("a", "GET", "/files/{path...}", answer("rest"), {});
            RouteMatch match;
            CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/files/7", match));
            CPPUNIT_ASSERT_EQUAL(std::string("param"), invoke(match));
            CPPUNIT_ASSERT_EQUAL((Params{{"id", "7"}}), match.params);
            RouteMatch deep;
            CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/files/7/raw", deep));
            CPPUNIT_ASSERT_EQUAL(std::string("rest"), invoke(deep));
            CPPUNIT_ASSERT_EQUAL((Params{{"path", "7/raw"}}), deep.params);
        }
    }

    void testNotFoundAgainstMethodNotAllowed() {
        Router router;
        router.add("admin_inbox", "GET", "/conversations/{id}", answer("get"), {});
        router.add("admin_inbox", "POST", "/conversations/{id}", answer("post"), {});
        router.add("admin_inbox", "DELETE", "/conversations/{id}", answer("delete"), {});
        RouteMatch match;
        std::string allowed = "untouched";
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::MethodNotAllowed, router.match("PUT", "/conversations/3", match, &allowed));
        CPPUNIT_ASSERT_EQUAL(std::string("GET, POST, DELETE"), allowed);
        CPPUNIT_ASSERT(!match.route);
        allowed = "untouched";
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::NotFound, router.match("PUT", "/nowhere", match, &allowed));
        CPPUNIT_ASSERT_EQUAL(std::string(""), allowed);
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::NotFound, router.match("GET", "/conversations", match, &allowed));
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("POST", "/conversations/3", match, &allowed));
        CPPUNIT_ASSERT_EQUAL(std::string("post"), invoke(match));
        // Without an out parameter, the outcome is the same.
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::MethodNotAllowed, router.match("PATCH", "/conversations/3", match));
    }

    void testHeadIsServedByGet() {
        Router router;
        router.add("host", "GET", "/readyz", answer("ready"), {});
        router.add("webhook_receiver", "POST", "/webhooks/whatsapp", answer("post"), {});
        RouteMatch match;
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("HEAD", "/readyz", match));
        CPPUNIT_ASSERT_EQUAL(std::string("GET"), match.route->method);
        CPPUNIT_ASSERT_EQUAL(std::string("ready"), invoke(match));
        std::string allowed;
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::MethodNotAllowed, router.match("HEAD", "/webhooks/whatsapp", match, &allowed));
        CPPUNIT_ASSERT_EQUAL(std::string("POST"), allowed);
        // GET is not served by a HEAD route.
        Router headOnly;
        headOnly.add("a", "HEAD", "/probe", answer("head"), {});
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::MethodNotAllowed, headOnly.match("GET", "/probe", match, &allowed));
        CPPUNIT_ASSERT_EQUAL(std::string("HEAD"), allowed);
    }

    void testDuplicateRouteRefusedNamingOwner() {
        Router router;
        router.add("admin_inbox", "GET", "/inbox", answer("first"), {});
        CPPUNIT_ASSERT_EQUAL(std::string("route GET /inbox is already registered by 'admin_inbox'"),
                             invalidArgument([&] { router.add("outbox", "GET", "/inbox", answer("second"), {}); }));
        CPPUNIT_ASSERT_EQUAL(std::string("route GET /inbox/ is already registered by 'admin_inbox'"),
                             invalidArgument([&] { router.add("outbox", "GET", "/inbox/", answer("second"), {}); }));
        // Another method on the same path is fine, and the first route is still the one served.
        router.add("outbox", "POST", "/inbox", answer("post"), {});
        RouteMatch match;
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/inbox", match));
        CPPUNIT_ASSERT_EQUAL(std::string("first"), invoke(match));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), router.routes().size());
    }

    void testSameShapeWithOtherParamNamesIsADuplicate() {
        // /users/{name} could never be reached behind /users/{id}: it is the same route.
        Router router;
        router.add("admin_inbox", "GET", "/users/{id}", answer("first"), {});
        CPPUNIT_ASSERT_EQUAL(std::string("route GET /users/{name} is already registered by 'admin_inbox'"),
                             invalidArgument([&] { router.add("outbox", "GET", "/users/{name}", answer("x"), {}); }));
        router.add("admin_inbox", "GET", "/files/{path...}", answer("rest"), {});
        CPPUNIT_ASSERT_EQUAL(std::string("route GET /files/{rest...} is already registered by 'admin_inbox'"),
                             invalidArgument([&] { router.add("outbox", "GET", "/files/{rest...}", answer("x"), {}); }));
        // But a single parameter and a rest parameter are different routes.
        router.add("outbox", "GET", "/files/{id}", answer("param"), {});
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), router.routes().size());
    }

    void testMalformedPatterns() {
        Router router;
        CPPUNIT_ASSERT_EQUAL(std::string("route pattern must start with '/': users"),
                             invalidArgument([&] { router.add("a", "GET", "users", answer("x"), {}); }));
        CPPUNIT_ASSERT_EQUAL(std::string("route pattern must start with '/': "),
                             invalidArgument([&] { router.add("a", "GET", "", answer("x"), {}); }));
        CPPUNIT_ASSERT_EQUAL(std::string("{name...} must be the last segment: /a/{rest...}/b"),
                             invalidArgument([&] { router.add("a", "GET", "/a/{rest...}/b", answer("x"), {}); }));
        CPPUNIT_ASSERT_EQUAL(std::string("route GET /a has no handler"),
                             invalidArgument([&] { router.add("a", "GET", "/a", HttpHandler(), {}); }));
        CPPUNIT_ASSERT_EQUAL(std::string("route GET /admin/x needs a permission"),
                             invalidArgument([&] { router.add("a", "GET", "/admin/x", answer("x"), RouteOptions::session(RouteStyle::Page, "")); }));
        CPPUNIT_ASSERT_EQUAL(std::string("route POST /api/v1/x needs a permission"),
                             invalidArgument([&] { router.add("a", "POST", "/api/v1/x", answer("x"), RouteOptions::token("")); }));
        CPPUNIT_ASSERT(router.routes().empty());
    }

    void testRemoveOwner() {
        Router router;
        router.add("host", "GET", "/healthz", answer("health"), {});
        router.add("outbox", "GET", "/outbox", answer("outbox"), {});
        router.add("outbox", "POST", "/outbox/{id}/send", answer("send"), {});
        router.add("admin_inbox", "GET", "/inbox", answer("inbox"), {});
        router.removeOwner("outbox");
        RouteMatch match;
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::NotFound, router.match("GET", "/outbox", match));
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::NotFound, router.match("POST", "/outbox/1/send", match));
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/healthz", match));
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/inbox", match));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), router.routes().size());
        // Its paths are free again for whoever registers next.
        router.add("outbox_v2", "GET", "/outbox", answer("v2"), {});
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/outbox", match));
        CPPUNIT_ASSERT_EQUAL(std::string("v2"), invoke(match));
        router.removeOwner("nobody");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), router.routes().size());
    }

    void testRouteKeepsOwnerAndOptions() {
        Router router;
        RouteOptions page;
        page.style = RouteStyle::Page;
        router.add("admin_inbox", "GET", "/inbox/{id}", answer("page"), page);
        RouteMatch match;
        CPPUNIT_ASSERT_EQUAL(Router::Outcome::Found, router.match("GET", "/inbox/5", match));
        CPPUNIT_ASSERT_EQUAL(std::string("admin_inbox"), match.route->owner);
        CPPUNIT_ASSERT_EQUAL(std::string("/inbox/{id}"), match.route->pattern);
        CPPUNIT_ASSERT(match.route->options.style == RouteStyle::Page);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RouterTest);
