// Settings in site_settings: secrets sealed at rest, a wrong master key refused, changes seen by
// another host sharing the database.
#include <cppunit/extensions/HelperMacros.h>

#include <thread>

#include <Poco/Data/Session.h>

#include "db/Migrator.hpp"
#include "app/Runtime.hpp"
#include "secrets/SettingsStore.hpp"
#include "db/SqlDatabase.hpp"
#include "TestSupport.hpp"

using namespace tawasul;
using namespace Poco::Data::Keywords;
using tawasul::test::TempDir;

namespace {

std::string randomKey() {
    std::string key(32, '\0');
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(i * 7 + 3);
    return key;
}

struct Fixture {
    TempDir dir;
    std::unique_ptr<host::SqlDatabase> db;
    host::SystemClock clock;
    host::SecretBox box{randomKey()};

    Fixture() {
        host::DatabaseOptions options;
        options.url = "sqlite:" + dir.file("db.sqlite");
        db = std::make_unique<host::SqlDatabase>(options);
        host::Migrator(*db, {{"host", TAWASUL_SOURCE_DIR "/migrations"}}).migrate();
    }

    std::string storedValue(const std::string& key) {
        Poco::Data::Session session = db->session();
        std::string value;
        std::string k = key;
        session << "SELECT value FROM site_settings WHERE key = $1", use(k), into(value), now;
        return value;
    }
};

}  // namespace

class SettingsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SettingsTest);
    CPPUNIT_TEST(plainSettingsRoundTrip);
    CPPUNIT_TEST(secretsAreSealedAtRest);
    CPPUNIT_TEST(wrongMasterKeyIsRefusedNotGarbage);
    CPPUNIT_TEST(anotherHostSeesAChange);
    CPPUNIT_TEST_SUITE_END();

public:
    void plainSettingsRoundTrip() {
        Fixture f;
        host::SettingsStore settings(*f.db, f.box, f.clock);
        CPPUNIT_ASSERT(!settings.get("whatsapp.cloud.phone_number_id"));
        settings.set("whatsapp.cloud.phone_number_id", "106540352242922");
        settings.set("whatsapp.cloud.phone_number_id", "106540352242923");
        CPPUNIT_ASSERT_EQUAL(std::string("106540352242923"), *settings.get("whatsapp.cloud.phone_number_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("106540352242923"), f.storedValue("whatsapp.cloud.phone_number_id"));
        CPPUNIT_ASSERT(settings.remove("whatsapp.cloud.phone_number_id"));
        CPPUNIT_ASSERT(!settings.get("whatsapp.cloud.phone_number_id"));
    }

    void secretsAreSealedAtRest() {
        Fixture f;
        host::SettingsStore settings(*f.db, f.box, f.clock);
        const std::string token = "EAAG-very-secret-token-123";
        settings.set("whatsapp.cloud.access_token", token);
        const std::string stored = f.storedValue("whatsapp.cloud.access_token");
        CPPUNIT_ASSERT(stored.rfind("v1:", 0) == 0);
        CPPUNIT_ASSERT(stored.find(token) == std::string::npos);
        CPPUNIT_ASSERT_EQUAL(token, *settings.get("whatsapp.cloud.access_token"));
        CPPUNIT_ASSERT(settings.rows().at("whatsapp.cloud.access_token").encrypted);
        // The database file itself never holds the plaintext.
        CPPUNIT_ASSERT(test::readFile(f.dir.file("db.sqlite")).find(token) == std::string::npos);
        CPPUNIT_ASSERT(test::readFile(f.dir.file("db.sqlite-wal")).find(token) == std::string::npos);
    }

    void wrongMasterKeyIsRefusedNotGarbage() {
        Fixture f;
        host::SettingsStore settings(*f.db, f.box, f.clock);
        settings.verifyMasterKey();  // records the check value
        settings.set("whatsapp.cloud.app_secret", "s3cret");
        std::string otherKey = randomKey();
        otherKey[0] ^= 1;
        host::SecretBox otherBox(otherKey);
        host::SettingsStore wrong(*f.db, otherBox, f.clock);
        CPPUNIT_ASSERT_THROW(wrong.verifyMasterKey(), host::SecretError);
        try {
            wrong.get("whatsapp.cloud.app_secret");
            CPPUNIT_FAIL("a secret opened with the wrong key");
        } catch (const host::SecretError& error) {
            CPPUNIT_ASSERT_EQUAL(std::string("setting whatsapp.cloud.app_secret: cannot decrypt: the master key is wrong or the stored value was altered"),
                                 std::string(error.what()));
        }
    }

    void anotherHostSeesAChange() {
        Fixture f;
        host::SettingsStore first(*f.db, f.box, f.clock);
        host::SettingsStore second(*f.db, f.box, f.clock);
        first.set("whatsapp.cloud.enabled", "false");
        first.set("whatsapp.cloud.app_secret", "first-secret");
        CPPUNIT_ASSERT_EQUAL(std::string("false"), *second.get("whatsapp.cloud.enabled"));
        CPPUNIT_ASSERT_EQUAL(std::string("first-secret"), *second.get("whatsapp.cloud.app_secret"));
        CPPUNIT_ASSERT_EQUAL(std::string("first-secret"), *second.get("whatsapp.cloud.app_secret"));  // opened once, kept
        first.set("whatsapp.cloud.enabled", "true");
        first.set("whatsapp.cloud.app_secret", "second-secret");
        // The second store's cache is re-validated at most once a second; a secret opened before
        // is opened again when its sealed text changed.
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
        CPPUNIT_ASSERT_EQUAL(std::string("true"), *second.get("whatsapp.cloud.enabled"));
        CPPUNIT_ASSERT_EQUAL(std::string("second-secret"), *second.get("whatsapp.cloud.app_secret"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SettingsTest);
