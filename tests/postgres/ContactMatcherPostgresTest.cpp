// The contact_matcher plugin over PostgreSQL: the same index, swap and refresh as on SQLite, with
// two hosts sharing one database (their refreshes serialise on the watermark row).
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <Poco/Data/Session.h>

#include "app/Runtime.hpp"
#include "TestSupport.hpp"
#include "tawasul/whatsapp/Contacts.hpp"

using namespace tawasul;
using namespace Poco::Data::Keywords;

namespace {

struct Host {
    std::unique_ptr<host::Runtime> runtime;
    std::shared_ptr<sdk::ContactMatcher> matcher;

    Host(const test::TempDir& dir, const std::string& url, const std::string& pluginYaml) {
        runtime = std::make_unique<host::Runtime>(host::HostConfig::parse(sdk::ConfigNode::loadString(
            test::testConfigYaml(dir, TAWASUL_PLUGIN_DIR, "    - contact_matcher: " + pluginYaml + "\n", url), dir.file("tawasul.yaml"))));
        runtime->loadPlugins();
        runtime->migrator().migrate();
        runtime->openSecrets(true);
        runtime->startPlugins();
        matcher = std::static_pointer_cast<sdk::ContactMatcher>(
            runtime->services().find(typeid(sdk::ContactMatcher).name(), sdk::ContactMatcher::kServiceName));
        CPPUNIT_ASSERT(matcher);
    }
    ~Host() {
        matcher.reset();
        runtime->stopPlugins();
    }
    void sql(const std::string& statement) {
        Poco::Data::Session session = runtime->database().session();
        session << statement, now;
    }
};

template <typename Condition>
bool eventually(Condition condition) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return condition();
}

}  // namespace

class ContactMatcherPostgresTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ContactMatcherPostgresTest);
    CPPUNIT_TEST(reindexMatchAndRefreshOnPostgres);
    CPPUNIT_TEST_SUITE_END();

public:
    void reindexMatchAndRefreshOnPostgres() {
        test::PostgresDatabase pg;
        test::TempDir dirA, dirB;
        Host a(dirA, pg.url(), "{ refresh_seconds: 1, batch_size: 4 }");
        Host b(dirB, pg.url(), "{ refresh_seconds: 1, batch_size: 4 }");
        a.sql("INSERT INTO organizations (id, name, phone) VALUES (1, 'Sonatrach Formation', '+213 555 12 34 56')");
        a.sql("INSERT INTO registrations (id, full_name, phone) VALUES (1, 'Amina Benali', '0555 12 34 56'),"
              " (2, 'Mauvais Numero', '0555 12'), (3, 'Yacine', '0033612345678')");
        a.sql("INSERT INTO enrollments (id, full_name, phone) VALUES (7, 'Amina Benali', '213555123456')");
        a.sql("INSERT INTO b2b_leads (id, contact_name, phone) VALUES (3, 'M. Brahimi', '00213555123456')");
        std::string values;
        for (int i = 10; i < 60; ++i)
            values += std::string(values.empty() ? "" : ", ") + "(" + std::to_string(i) + ", 'P" + std::to_string(i) + "', '0661 00 00 " +
                      std::to_string(i) + "')";
        a.sql("INSERT INTO registrations (id, full_name, phone) VALUES " + values);

        std::size_t lastDone = 0, lastTotal = 0;
        const std::size_t phones = a.matcher->reindex([&](std::size_t done, std::size_t total) {
            lastDone = done;
            lastTotal = total;
        });
        CPPUNIT_ASSERT_EQUAL(std::size_t(56), lastDone);
        CPPUNIT_ASSERT_EQUAL(std::size_t(56), lastTotal);
        CPPUNIT_ASSERT_EQUAL(std::size_t(55), phones);  // one invalid registration skipped

        // Either host answers, from the shared index, best first with the evidence.
        for (auto* host : {&a, &b}) {
            const auto candidates = host->matcher->match("213555123456");
            CPPUNIT_ASSERT_EQUAL(std::size_t(4), candidates.size());
            CPPUNIT_ASSERT_EQUAL(std::string("enrollment"), candidates[0].kind);
            CPPUNIT_ASSERT_EQUAL(std::string("registration"), candidates[1].kind);
            CPPUNIT_ASSERT_EQUAL(std::string("0555 12 34 56"), candidates[1].rawValue);
            CPPUNIT_ASSERT_EQUAL(std::string("registrations"), candidates[1].source);
            CPPUNIT_ASSERT_EQUAL(std::string("/admin/registrations/1"), candidates[1].adminLink);
            CPPUNIT_ASSERT_EQUAL(std::string("b2b_lead"), candidates[2].kind);
            CPPUNIT_ASSERT_EQUAL(std::string("organization"), candidates[3].kind);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), b.matcher->match("33612345678").size());
        CPPUNIT_ASSERT(b.matcher->match("0555 12").empty());

        // A reindex on one host while the other matches: no record is ever missing.
        std::atomic<bool> done{false};
        std::atomic<int> misses{0}, lookups{0};
        std::thread reader([&] {
            while (!done) {
                for (const char* phone : {"+213661000010", "+213661000035", "+213661000059"}) {
                    if (b.matcher->match(phone).size() != 1) ++misses;
                    ++lookups;
                }
            }
        });
        for (int round = 0; round < 2; ++round) a.matcher->reindex([](std::size_t, std::size_t) {});
        done = true;
        reader.join();
        CPPUNIT_ASSERT(lookups > 0);
        CPPUNIT_ASSERT_EQUAL(0, misses.load());

        // New and edited records reach the index through the background refresh of both hosts.
        a.sql("INSERT INTO registrations (id, full_name, phone) VALUES (100, 'Nouvelle', '0770 98 76 54')");
        CPPUNIT_ASSERT(eventually([&] { return b.matcher->match("+213770987654").size() == 1; }));
        a.sql("UPDATE b2b_leads SET phone = '0550 11 22 33', updated_at = " + std::to_string(a.runtime->clock().nowMillis()) + " WHERE id = 3");
        CPPUNIT_ASSERT(eventually([&] { return a.matcher->match("0550112233").size() == 1; }));
        CPPUNIT_ASSERT(eventually([&] { return a.matcher->match("213555123456").size() == 3; }));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ContactMatcherPostgresTest);
