// server.trusted_proxies over HTTP: behind a trusted proxy the /metrics allow-list, the sign-in
// throttle and the access log see the client X-Forwarded-For names; from any other peer the header
// changes nothing.
#include <cppunit/extensions/HelperMacros.h>

#include "AdminSession.hpp"
#include "Assertions.hpp"
#include "HostProcess.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul::test;

namespace {

HostOptions behind(const std::string& proxies) {
    HostOptions options;
    options.serverYaml = "  trusted_proxies: [" + proxies + "]\n";
    options.extraYaml = "metrics:\n  allow: [\"203.0.113.9\"]\n";
    return options;
}

std::string loginCookieOf(const HttpResult& form) {
    for (const auto& cookie : form.cookies)
        if (cookie.rfind("tawasul_login_csrf=", 0) == 0) return cookie.substr(0, cookie.find(';'));
    throw std::runtime_error("the sign-in page set no login CSRF cookie");
}

// A failed sign-in, as a browser behind the proxy would post it.
int failSignIn(const HostProcess& host, const std::string& forwardedFor) {
    const HttpResult form = httpRequest("GET", "127.0.0.1", host.port(), "/admin/login");
    const std::string loginCookie = loginCookieOf(form);
    const std::string token = loginCookie.substr(loginCookie.find('=') + 1);
    return httpRequest("POST", "127.0.0.1", host.port(), "/admin/login",
                       formEncode({{"_csrf", token}, {"next", "/admin"}, {"email", "nobody@example.org"}, {"password", "wrong"}}),
                       {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", loginCookie}, {"X-Forwarded-For", forwardedFor}})
        .status;
}

}  // namespace

class TrustedProxiesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TrustedProxiesTest);
    CPPUNIT_TEST(forwardedForCountsFromATrustedProxy);
    CPPUNIT_TEST(forwardedForIsIgnoredFromOthers);
    CPPUNIT_TEST_SUITE_END();

public:
    void forwardedForCountsFromATrustedProxy() {
        HostProcess host(behind("127.0.0.1"));
        host.start();
        CPPUNIT_ASSERT_EQUAL(200, host.request("GET", "/metrics", "", {{"X-Forwarded-For", "203.0.113.9"}}).status);
        // The client's own claim left of the proxy's hop is not believed.
        CPPUNIT_ASSERT_EQUAL(403, host.request("GET", "/metrics", "", {{"X-Forwarded-For", "203.0.113.9, 198.51.100.4"}}).status);
        CPPUNIT_ASSERT_EQUAL(403, host.request("GET", "/metrics").status);  // the proxy itself is not on the list

        failSignIn(host, "198.51.100.4");
        auto db = openDatabase(host.databaseUrl());
        CPPUNIT_ASSERT_EQUAL(std::string("198.51.100.4"),
                             queryText(*db, "SELECT subject FROM sign_in_attempts WHERE scope = 'address'"));
        assertContains(host.log(), "198.51.100.4 \"POST /admin/login\"");
    }

    void forwardedForIsIgnoredFromOthers() {
        HostProcess host(behind("10.9.9.9, \"fd00::/8\""));
        host.start();
        CPPUNIT_ASSERT_EQUAL(403, host.request("GET", "/metrics", "", {{"X-Forwarded-For", "203.0.113.9"}}).status);
        failSignIn(host, "198.51.100.4");
        auto db = openDatabase(host.databaseUrl());
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"),
                             queryText(*db, "SELECT subject FROM sign_in_attempts WHERE scope = 'address'"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TrustedProxiesTest);
