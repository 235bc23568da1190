// Users, sessions and sign-in throttling on a real PostgreSQL server: the same SQL as on SQLite,
// and the throttle shared by two hosts (two Auth objects on two connection pools).
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <functional>
#include <thread>

#include <Poco/Data/Session.h>

#include "access/Auth.hpp"
#include "db/Migrator.hpp"
#include "app/Runtime.hpp"
#include "db/SqlDatabase.hpp"
#include "TestSupport.hpp"

using namespace tawasul;
using namespace Poco::Data::Keywords;

namespace {

// Two hosts' sign-in on one real PostgreSQL: each its own connection pool, a limit of 3 attempts.
struct TwoHosts {
    static host::DatabaseOptions on(const std::string& url) {
        host::DatabaseOptions options;
        options.url = url;
        return options;
    }
    static host::AuthOptions limitOfThree() {
        host::AuthOptions options;
        options.passwordCost = "interactive";
        options.maxFailures = 3;
        return options;
    }
    test::PostgresDatabase pg;
    host::SqlDatabase first{on(pg.url())}, second{on(pg.url())};
    bool migrated = (host::Migrator(first, {{"host", TAWASUL_SOURCE_DIR "/migrations"}}).migrate(), true);
    host::SystemClock clock;
    host::Auth a{first, clock, limitOfThree()}, b{second, clock, limitOfThree()};
};

}  // namespace

class AuthPostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(AuthPostgresTest);
    CPPUNIT_TEST(usersSessionsAndThrottleAcrossHosts);
    CPPUNIT_TEST(concurrentAttemptsOnTwoHostsCheckAtMostTheLimit);
    CPPUNIT_TEST_SUITE_END();

public:
    void usersSessionsAndThrottleAcrossHosts() {
        TwoHosts hosts;
        host::Auth& hostA = hosts.a;
        host::Auth& hostB = hosts.b;

        const std::int64_t id = hostA.addUser("Amina@Example.dz", "Amina", "agent", "a long password");
        CPPUNIT_ASSERT(id > 0);
        CPPUNIT_ASSERT_THROW(hostB.addUser("amina@example.dz", "Again", "agent", "a long password"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(hostB.addUser("b@example.dz", "B", "boss", "a long password"), std::invalid_argument);
        hostB.grantRole("amina@example.dz", "viewer");
        hostB.grantRole("amina@example.dz", "viewer");
        hostA.grantPermission("viewer", "whatsapp.settings.manage");
        const auto users = hostA.listUsers();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), users.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), users.front().roles.size());

        auto ok = hostA.signIn("amina@example.dz", "a long password", "10.0.0.1", "test");
        CPPUNIT_ASSERT(ok.outcome == host::SignInResult::Ok);
        auto principal = hostB.principalFor(ok.sessionToken);  // a session opened on one host is valid on the other
        CPPUNIT_ASSERT(principal);
        CPPUNIT_ASSERT_EQUAL(id, principal->id);
        CPPUNIT_ASSERT(principal->can("whatsapp.inbox.reply"));
        CPPUNIT_ASSERT(principal->can("whatsapp.settings.manage"));
        CPPUNIT_ASSERT(principal->can("admin.self"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(64), principal->csrfToken.size());
        hostB.revokePermission("viewer", "whatsapp.settings.manage");
        CPPUNIT_ASSERT(!hostA.principalFor(ok.sessionToken)->can("whatsapp.settings.manage"));
        hostA.setLocale(id, "ar");
        CPPUNIT_ASSERT_EQUAL(std::string("ar"), hostB.principalFor(ok.sessionToken)->locale);

        // Failures on one host count on the other.
        CPPUNIT_ASSERT(hostA.signIn("amina@example.dz", "wrong 1", "10.0.0.2", "").outcome == host::SignInResult::Invalid);
        CPPUNIT_ASSERT(hostB.signIn("amina@example.dz", "wrong 2", "10.0.0.3", "").outcome == host::SignInResult::Invalid);
        CPPUNIT_ASSERT(hostA.signIn("amina@example.dz", "wrong 3", "10.0.0.4", "").outcome == host::SignInResult::Invalid);
        const auto throttled = hostB.signIn("amina@example.dz", "a long password", "10.0.0.5", "");
        CPPUNIT_ASSERT(throttled.outcome == host::SignInResult::Throttled);
        CPPUNIT_ASSERT_EQUAL(15, throttled.retryMinutes);

        hostB.signOut(ok.sessionToken);
        CPPUNIT_ASSERT(!hostA.principalFor(ok.sessionToken));
        hostA.setPassword("amina@example.dz", "another long one");
        Poco::Data::Session session = hosts.first.session();
        std::string hash;
        session << "SELECT password_hash FROM users WHERE id = $1", bind(id), into(hash), now;
        CPPUNIT_ASSERT(host::Auth::verifyPassword(hash, "another long one"));
    }

    // 40 concurrent wrong attempts on one account, from 40 addresses, split over two hosts: the
    // conditional upsert lets exactly max_failures through, so only that many passwords are
    // checked; then the same from one address over 40 accounts.
    void concurrentAttemptsOnTwoHostsCheckAtMostTheLimit() {
        TwoHosts hosts;
        host::Auth& hostA = hosts.a;
        host::Auth& hostB = hosts.b;
        hostA.addUser("target@example.dz", "Target", "agent", "a long password");

        const auto flood = [&](const std::function<std::pair<std::string, std::string>(int)>& who) {
            std::atomic<int> invalid{0}, throttled{0}, busy{0};
            std::vector<std::thread> clients;
            for (int i = 0; i < 40; ++i)
                clients.emplace_back([&, i] {
                    const auto [email, address] = who(i);
                    const auto result = (i % 2 ? hostA : hostB).signIn(email, "wrong guess", address, "");
                    if (result.outcome == host::SignInResult::Invalid) ++invalid;
                    else if (result.outcome == host::SignInResult::Throttled) ++throttled;
                    else if (result.outcome == host::SignInResult::Busy) ++busy;
                });
            for (auto& client : clients) client.join();
            CPPUNIT_ASSERT_EQUAL(40, invalid + throttled + busy);
            return invalid.load();
        };
        const int wrongOnAccount = flood([](int i) { return std::make_pair(std::string("target@example.dz"), "10.1.0." + std::to_string(i)); });
        CPPUNIT_ASSERT_EQUAL(3, wrongOnAccount);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), hostA.passwordChecks() + hostB.passwordChecks());
        CPPUNIT_ASSERT(hostA.signIn("target@example.dz", "a long password", "10.9.9.9", "").outcome == host::SignInResult::Throttled);
        Poco::Data::Session session = hosts.first.session();
        int attempts = 0;
        session << "SELECT attempts FROM sign_in_attempts WHERE scope = 'account' AND subject = 'target@example.dz'", into(attempts), now;
        CPPUNIT_ASSERT_EQUAL(3, attempts);

        const int wrongFromAddress = flood([](int i) { return std::make_pair("someone" + std::to_string(i) + "@example.dz", std::string("10.2.0.1")); });
        CPPUNIT_ASSERT_EQUAL(3, wrongFromAddress);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(6), hostA.passwordChecks() + hostB.passwordChecks());
        // The window passes: the right password gets in, from a fresh address.
        session << "UPDATE sign_in_attempts SET window_started_at = window_started_at - 16 * 60000", now;
        CPPUNIT_ASSERT(hostB.signIn("target@example.dz", "a long password", "10.9.9.9", "").outcome == host::SignInResult::Ok);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AuthPostgresTest);
