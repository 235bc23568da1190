// server.trusted_proxies: X-Forwarded-For is read only from a trusted peer, from the right, up to
// the first hop that is not one of ours.
#include <cppunit/extensions/HelperMacros.h>

#include <stdexcept>

#include "app/HostConfig.hpp"
#include "http/ClientAddress.hpp"

using tawasul::host::HostConfig;
using tawasul::host::TrustedProxies;

class ClientAddressTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ClientAddressTest);
    CPPUNIT_TEST(ignoredWithoutTrustedProxies);
    CPPUNIT_TEST(ignoredFromAnUntrustedPeer);
    CPPUNIT_TEST(rightmostUntrustedHopFromATrustedPeer);
    CPPUNIT_TEST(networksAndIpv6);
    CPPUNIT_TEST(garbageEndsTheWalk);
    CPPUNIT_TEST(badEntriesAreRefused);
    CPPUNIT_TEST(configErrorsPointAtTheEntry);
    CPPUNIT_TEST_SUITE_END();

public:
    void ignoredWithoutTrustedProxies() {
        const TrustedProxies none;
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), none.clientAddress("127.0.0.1", "203.0.113.9"));
    }

    void ignoredFromAnUntrustedPeer() {
        const TrustedProxies proxies({"10.0.0.5"});
        CPPUNIT_ASSERT_EQUAL(std::string("198.51.100.7"), proxies.clientAddress("198.51.100.7", "203.0.113.9"));
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.6"), proxies.clientAddress("10.0.0.6", "203.0.113.9"));
    }

    void rightmostUntrustedHopFromATrustedPeer() {
        const TrustedProxies proxies({"10.0.0.5", "10.0.0.6"});
        CPPUNIT_ASSERT_EQUAL(std::string("203.0.113.9"), proxies.clientAddress("10.0.0.5", "203.0.113.9"));
        // A client that sends its own X-Forwarded-For cannot hide behind it: the proxy appended the real peer.
        CPPUNIT_ASSERT_EQUAL(std::string("203.0.113.9"), proxies.clientAddress("10.0.0.5", "1.1.1.1, 203.0.113.9"));
        // Two proxies of ours in a row.
        CPPUNIT_ASSERT_EQUAL(std::string("203.0.113.9"), proxies.clientAddress("10.0.0.5", "1.1.1.1,203.0.113.9, 10.0.0.6"));
        // Everything trusted: the leftmost.
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.6"), proxies.clientAddress("10.0.0.5", "10.0.0.6"));
        // No header: the peer.
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.5"), proxies.clientAddress("10.0.0.5", ""));
        // The IPv4 peer of a dual-stack socket.
        CPPUNIT_ASSERT_EQUAL(std::string("203.0.113.9"), proxies.clientAddress("::ffff:10.0.0.5", "203.0.113.9"));
    }

    void networksAndIpv6() {
        const TrustedProxies proxies({"10.0.0.0/8", "fd00::/8", "::1"});
        CPPUNIT_ASSERT(proxies.trusts(Poco::Net::IPAddress("10.200.3.4")));
        CPPUNIT_ASSERT(!proxies.trusts(Poco::Net::IPAddress("11.0.0.1")));
        CPPUNIT_ASSERT(proxies.trusts(Poco::Net::IPAddress("fd12::1")));
        CPPUNIT_ASSERT(!proxies.trusts(Poco::Net::IPAddress("fe80::1")));
        CPPUNIT_ASSERT_EQUAL(std::string("2001:db8::7"), proxies.clientAddress("::1", "2001:db8::7, fd00::2"));
        CPPUNIT_ASSERT_EQUAL(std::string("2001:db8::7"), proxies.clientAddress("10.1.1.1", "[2001:db8::7]"));
    }

    void garbageEndsTheWalk() {
        const TrustedProxies proxies({"10.0.0.0/8"});
        // What lies left of a hop no proxy could have written is not believed.
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.5"), proxies.clientAddress("10.0.0.5", "203.0.113.9, unknown"));
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.7"), proxies.clientAddress("10.0.0.5", "203.0.113.9, not-an-ip, 10.0.0.7"));
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.5"), proxies.clientAddress("10.0.0.5", "1.2.3.4:80"));
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.5"), proxies.clientAddress("10.0.0.5", ",,,"));
        // A header of many trusted hops is read only so far: the last hop read stands.
        std::string many = "203.0.113.9";
        for (int i = 0; i < 100; ++i) many += ", 10.0.0.1";
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.1"), proxies.clientAddress("10.0.0.5", many));
    }

    void badEntriesAreRefused() {
        for (const char* entry : {"", "proxy.local", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "fd00::/129", "10.0.0.1/08x"}) {
            bool refused = false;
            try {
                TrustedProxies({entry});
            } catch (const std::invalid_argument&) {
                refused = true;
            }
            CPPUNIT_ASSERT_MESSAGE(entry, refused);
        }
    }

    void configErrorsPointAtTheEntry() {
        const auto root = tawasul::sdk::ConfigNode::loadString("server:\n  trusted_proxies: [10.0.0.1, 10.0.0.0/40]\n", "cfg.yaml");
        std::string message;
        try {
            HostConfig::parse(root);
        } catch (const tawasul::sdk::ConfigError& error) {
            message = error.what();
        }
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:31: server.trusted_proxies[1]: '10.0.0.0/40': the prefix length must be 0-32"), message);
        const auto good = HostConfig::parse(tawasul::sdk::ConfigNode::loadString("server:\n  trusted_proxies: [127.0.0.1, \"fd00::/8\"]\n", "cfg.yaml"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), good.server.trustedProxies.size());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ClientAddressTest);
