// Users, sessions and sign-in throttling on a real PostgreSQL server: the same SQL as on SQLite,
// and the throttle shared by two hosts (two Auth objects on two connection pools).
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/Data/Session.h>

#include "access/Auth.hpp"
#include "db/Migrator.hpp"
#include "app/Runtime.hpp"
#include "db/SqlDatabase.hpp"
#include "TestSupport.hpp"

using namespace tawasul;
using namespace Poco::Data::Keywords;

class AuthPostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(AuthPostgresTest);
    CPPUNIT_TEST(usersSessionsAndThrottleAcrossHosts);
    CPPUNIT_TEST_SUITE_END();

public:
    void usersSessionsAndThrottleAcrossHosts() {
        test::PostgresDatabase pg;
        host::DatabaseOptions options;
        options.url = pg.url();
        host::SqlDatabase first(options), second(options);
        host::Migrator(first, {{"host", TAWASUL_SOURCE_DIR "/migrations"}}).migrate();
        host::SystemClock clock;
        host::AuthOptions authOptions;
        authOptions.passwordCost = "interactive";
        authOptions.maxFailures = 3;
        host::Auth hostA(first, clock, authOptions), hostB(second, clock, authOptions);

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
        Poco::Data::Session session = first.session();
        std::string hash;
        session << "SELECT password_hash FROM users WHERE id = $1", bind(id), into(hash), now;
        CPPUNIT_ASSERT(host::Auth::verifyPassword(hash, "another long one"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AuthPostgresTest);
