// The contact_matcher plugin in a real runtime over SQLite: platform rows in every phone form are
// indexed by reindex() and kept current by the background refresh, match() answers by wa_id or any
// form with the evidence, best first, and its configuration errors point at FILE:LINE:COL.
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
using tawasul::test::TempDir;

namespace {

struct Matcher {
    std::unique_ptr<host::Runtime> runtime;
    std::shared_ptr<sdk::ContactMatcher> service;

    Matcher() = default;
    Matcher(Matcher&&) = default;

    void sql(const std::string& statement) {
        Poco::Data::Session session = runtime->database().session();
        session << statement, now;
    }
    std::int64_t count(const std::string& query) {
        Poco::Data::Session session = runtime->database().session();
        Poco::Int64 n = 0;
        session << query, into(n), now;
        return n;
    }
    std::size_t reindex() {
        return service->reindex([](std::size_t, std::size_t) {});
    }
    ~Matcher() {
        service.reset();
        if (runtime) runtime->stopPlugins();
    }
};

host::HostConfig configFor(const TempDir& dir, const std::string& pluginYaml) {
    return host::HostConfig::parse(sdk::ConfigNode::loadString(
        test::testConfigYaml(dir, TAWASUL_PLUGIN_DIR, "    - contact_matcher: " + pluginYaml + "\n"), dir.file("tawasul.yaml")));
}

// Migrated, plugins started, as `serve` has it.
Matcher startMatcher(const TempDir& dir, const std::string& pluginYaml = "{ refresh_seconds: 0 }") {
    Matcher matcher;
    matcher.runtime = std::make_unique<host::Runtime>(configFor(dir, pluginYaml));
    matcher.runtime->loadPlugins();
    matcher.runtime->migrator().migrate();
    matcher.runtime->openSecrets(true);
    matcher.runtime->startPlugins();
    matcher.service = std::static_pointer_cast<sdk::ContactMatcher>(
        matcher.runtime->services().find(typeid(sdk::ContactMatcher).name(), sdk::ContactMatcher::kServiceName));
    CPPUNIT_ASSERT(matcher.service);
    return matcher;
}

// The platform of the tests: one person (+213555123456) known four times in four forms, and others.
void seedPlatform(Matcher& m) {
    m.sql("INSERT INTO organizations (id, name, phone) VALUES (1, 'Sonatrach Formation', '+213 555 12 34 56'),"
          " (2, 'Cevital', '021 23 45 67')");
    m.sql("INSERT INTO registrations (id, full_name, phone) VALUES (1, 'Amina Benali', '0555 12 34 56'),"
          " (2, 'Karim Haddad', '0661 23 45 67'), (3, 'Sans Numero', NULL), (4, 'Mauvais Numero', '0555 12'),"
          " (5, 'Yacine Mansouri', '+33 6 12 34 56 78'), (6, 'Lina Ait', '555123456')");
    m.sql("INSERT INTO enrollments (id, registration_id, full_name, phone) VALUES (7, 1, 'Amina Benali', '213555123456')");
    m.sql("INSERT INTO b2b_leads (id, organization_id, contact_name, phone, updated_at) VALUES"
          " (3, 1, 'M. Brahimi', '00213555123456', 1000), (4, 2, 'Mme Kaci', 'appeler le standard', 1000)");
}

template <typename Condition>
bool eventually(Condition condition, std::chrono::seconds limit = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return condition();
}

// The error a host gives for `pluginYaml`: a configuration error already when the plugins are
// loaded (the plugin's reader runs before any plugin starts), anything else when it starts.
std::string startupError(const TempDir& dir, const std::string& pluginYaml) {
    host::Runtime runtime(configFor(dir, pluginYaml));
    try {
        runtime.loadPlugins();
        runtime.migrator().migrate();
        runtime.openSecrets(true);
        runtime.startPlugins();
    } catch (const host::StartupError& error) {
        return error.what();
    }
    CPPUNIT_FAIL("the plugin started with a bad configuration: " + pluginYaml);
    return "";
}

// FILE:LINE:COL of the first occurrence of `needle` in the generated configuration file.
std::string whereIs(const TempDir& dir, const std::string& pluginYaml, const std::string& needle) {
    const std::string text = test::testConfigYaml(dir, TAWASUL_PLUGIN_DIR, "    - contact_matcher: " + pluginYaml + "\n");
    const auto at = text.find(needle);
    CPPUNIT_ASSERT(at != std::string::npos);
    const auto lineStart = text.rfind('\n', at);
    const auto line = std::count(text.begin(), text.begin() + static_cast<long>(at), '\n') + 1;
    const auto column = at - (lineStart == std::string::npos ? 0 : lineStart + 1) + 1;
    return dir.file("tawasul.yaml") + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

}  // namespace

class ContactMatcherTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ContactMatcherTest);
    CPPUNIT_TEST(reindexThenMatchEveryFormBestFirst);
    CPPUNIT_TEST(invalidPlatformPhonesAreSkipped);
    CPPUNIT_TEST(reindexReplacesEditedAndDeletedRecords);
    CPPUNIT_TEST(matchingNeverMissesARecordDuringReindex);
    CPPUNIT_TEST(refreshPicksUpNewAndEditedRecords);
    CPPUNIT_TEST(configuredSourceWithSeveralPhoneColumns);
    CPPUNIT_TEST(badConfigurationPointsAtFileLineColumn);
    CPPUNIT_TEST_SUITE_END();

public:
    void reindexThenMatchEveryFormBestFirst() {
        TempDir dir;
        Matcher m = startMatcher(dir, "{ refresh_seconds: 0, batch_size: 2 }");
        seedPlatform(m);
        std::vector<std::pair<std::size_t, std::size_t>> calls;
        const std::size_t phones = m.service->reindex([&](std::size_t done, std::size_t total) { calls.emplace_back(done, total); });
        // 2 organizations + 6 registrations (one without a phone, one invalid) + 1 enrollment + 2 leads (one invalid).
        CPPUNIT_ASSERT_EQUAL(std::size_t(8), phones);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(8), m.count("SELECT COUNT(*) FROM contact_phone_index"));
        CPPUNIT_ASSERT(!calls.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), calls.front().first);
        CPPUNIT_ASSERT_EQUAL(std::size_t(11), calls.back().first);
        CPPUNIT_ASSERT_EQUAL(std::size_t(11), calls.back().second);
        for (std::size_t i = 1; i < calls.size(); ++i) CPPUNIT_ASSERT(calls[i].first >= calls[i - 1].first);

        for (const std::string form : {"213555123456", "0555 12 34 56", "+213 555 12 34 56", "00213555123456", "555123456",
                                       "+213555123456"}) {
            const auto candidates = m.service->match(form);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(form, std::size_t(5), candidates.size());
            // Priority: enrollment 10, registration 20 (two, by id), b2b_lead 30, organization 40.
            CPPUNIT_ASSERT_EQUAL(std::string("enrollment"), candidates[0].kind);
            CPPUNIT_ASSERT_EQUAL(std::string("registration"), candidates[1].kind);
            CPPUNIT_ASSERT_EQUAL(std::int64_t(1), candidates[1].id);
            CPPUNIT_ASSERT_EQUAL(std::string("registration"), candidates[2].kind);
            CPPUNIT_ASSERT_EQUAL(std::int64_t(6), candidates[2].id);
            CPPUNIT_ASSERT_EQUAL(std::string("b2b_lead"), candidates[3].kind);
            CPPUNIT_ASSERT_EQUAL(std::string("organization"), candidates[4].kind);
        }
        const auto candidates = m.service->match("213555123456");
        const sdk::MatchCandidate& enrollment = candidates[0];
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), enrollment.id);
        CPPUNIT_ASSERT_EQUAL(std::string("Amina Benali"), enrollment.name);
        CPPUNIT_ASSERT_EQUAL(std::string("enrollments"), enrollment.source);
        CPPUNIT_ASSERT_EQUAL(std::string("phone"), enrollment.column);
        CPPUNIT_ASSERT_EQUAL(std::string("213555123456"), enrollment.rawValue);
        CPPUNIT_ASSERT_EQUAL(std::string("/admin/enrollments/7"), enrollment.adminLink);
        CPPUNIT_ASSERT_EQUAL(10, enrollment.priority);
        CPPUNIT_ASSERT_EQUAL(std::string("0555 12 34 56"), candidates[1].rawValue);
        CPPUNIT_ASSERT_EQUAL(std::string("/admin/registrations/1"), candidates[1].adminLink);
        CPPUNIT_ASSERT_EQUAL(std::string("M. Brahimi"), candidates[3].name);
        CPPUNIT_ASSERT_EQUAL(std::string("b2b_leads"), candidates[3].source);
        CPPUNIT_ASSERT_EQUAL(std::string("00213555123456"), candidates[3].rawValue);
        CPPUNIT_ASSERT_EQUAL(std::string("Sonatrach Formation"), candidates[4].name);
        CPPUNIT_ASSERT_EQUAL(40, candidates[4].priority);

        // Landline and foreign numbers, by wa_id.
        const auto landline = m.service->match("21321234567");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), landline.size());
        CPPUNIT_ASSERT_EQUAL(std::string("Cevital"), landline[0].name);
        const auto french = m.service->match("33612345678");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), french.size());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(5), french[0].id);
        CPPUNIT_ASSERT_EQUAL(std::string("+33 6 12 34 56 78"), french[0].rawValue);
        // Not a phone, and a phone nobody has.
        CPPUNIT_ASSERT(m.service->match("").empty());
        CPPUNIT_ASSERT(m.service->match("bonjour").empty());
        CPPUNIT_ASSERT(m.service->match("213770000000").empty());
        // A second reindex gives the same index.
        CPPUNIT_ASSERT_EQUAL(std::size_t(8), m.reindex());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(8), m.count("SELECT COUNT(*) FROM contact_phone_index"));
    }

    void invalidPlatformPhonesAreSkipped() {
        TempDir dir;
        Matcher m = startMatcher(dir);
        seedPlatform(m);
        m.reindex();
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), m.count("SELECT COUNT(*) FROM contact_phone_index WHERE kind = 'registration' AND record_id IN (3, 4)"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), m.count("SELECT COUNT(*) FROM contact_phone_index WHERE kind = 'b2b_lead' AND record_id = 4"));
        CPPUNIT_ASSERT(m.service->match("0555 12").empty());
        // Every indexed phone is in E.164.
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), m.count("SELECT COUNT(*) FROM contact_phone_index WHERE phone_e164 NOT LIKE '+%'"));
    }

    void reindexReplacesEditedAndDeletedRecords() {
        TempDir dir;
        Matcher m = startMatcher(dir, "{ refresh_seconds: 0, batch_size: 2 }");
        seedPlatform(m);
        m.reindex();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), m.service->match("0661234567").size());
        m.sql("UPDATE registrations SET phone = '0770 11 22 33', full_name = 'Karim H.' WHERE id = 2");
        m.sql("DELETE FROM registrations WHERE id = 6");  // the last record of its table
        m.sql("DELETE FROM enrollments");
        m.reindex();
        CPPUNIT_ASSERT(m.service->match("0661234567").empty());
        const auto moved = m.service->match("0770112233");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), moved.size());
        CPPUNIT_ASSERT_EQUAL(std::string("Karim H."), moved[0].name);
        const auto amina = m.service->match("213555123456");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), amina.size());  // registration 1, lead, organization
        CPPUNIT_ASSERT_EQUAL(std::string("registration"), amina[0].kind);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), m.count("SELECT COUNT(*) FROM contact_phone_index WHERE kind = 'enrollment'"));
    }

    void matchingNeverMissesARecordDuringReindex() {
        TempDir dir;
        Matcher m = startMatcher(dir, "{ refresh_seconds: 0, batch_size: 7 }");
        std::string values;
        for (int i = 1; i <= 300; ++i) {
            char phone[32];
            std::snprintf(phone, sizeof phone, "0661 %02d %02d %02d", i / 10000, (i / 100) % 100, i % 100);
            values += std::string(values.empty() ? "" : ", ") + "('Person " + std::to_string(i) + "', '" + phone + "')";
        }
        m.sql("INSERT INTO registrations (full_name, phone) VALUES " + values);
        m.reindex();
        std::atomic<bool> done{false};
        std::atomic<int> misses{0}, lookups{0};
        std::thread reader([&] {
            while (!done) {
                // Records at the start, inside and at the end of the table.
                for (const char* phone : {"+213661000001", "+213661000150", "+213661000300"}) {
                    if (m.service->match(phone).size() != 1) ++misses;
                    ++lookups;
                }
            }
        });
        for (int round = 0; round < 3; ++round) m.reindex();
        done = true;
        reader.join();
        CPPUNIT_ASSERT(lookups > 0);
        CPPUNIT_ASSERT_EQUAL(0, misses.load());
    }

    void refreshPicksUpNewAndEditedRecords() {
        TempDir dir;
        Matcher m = startMatcher(dir, "{ refresh_seconds: 1 }");
        seedPlatform(m);
        m.reindex();
        // A registration made while serving.
        m.sql("INSERT INTO registrations (id, full_name, phone) VALUES (40, 'Nouvelle Inscrite', '0770 98 76 54')");
        CPPUNIT_ASSERT(eventually([&] { return m.service->match("213770987654").size() == 1; }));
        const auto added = m.service->match("+213 770 98 76 54");
        CPPUNIT_ASSERT_EQUAL(std::string("Nouvelle Inscrite"), added.at(0).name);
        CPPUNIT_ASSERT_EQUAL(std::string("/admin/registrations/40"), added.at(0).adminLink);
        // A lead edited while serving (b2b_leads has updated_at): its new number replaces the old.
        const std::int64_t stamp = m.runtime->clock().nowMillis();
        m.sql("UPDATE b2b_leads SET phone = '0550 11 22 33', updated_at = " + std::to_string(stamp) + " WHERE id = 3");
        CPPUNIT_ASSERT(eventually([&] { return m.service->match("213550112233").size() == 1; }));
        const auto stillAmina = m.service->match("213555123456");
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), stillAmina.size());
        for (const auto& candidate : stillAmina) CPPUNIT_ASSERT(candidate.kind != "b2b_lead");
        // The lead that had only a note instead of a number, given a number, stamped the same
        // millisecond as the edit the refresh has already taken.
        m.sql("UPDATE b2b_leads SET phone = '+216 20 123 456', updated_at = " + std::to_string(stamp) + " WHERE id = 4");
        CPPUNIT_ASSERT(eventually([&] { return m.service->match("21620123456").size() == 1; }));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(40), m.count("SELECT last_id FROM contact_index_watermarks WHERE kind = 'registration'"));
    }

    void configuredSourceWithSeveralPhoneColumns() {
        TempDir dir;
        const std::string yaml =
            "\n"
            "        refresh_seconds: 1\n"
            "        sources:\n"
            "          - { kind: organization, table: partners, id_column: pid, phone_columns: [mobile, office],\n"
            "              name_column: label, admin_link: \"/admin/partners/{id}/view\", priority: 5 }\n"
            "          - { kind: registration, table: registrations, phone_columns: phone, name_column: full_name }\n";
        // The custom table must exist before the plugin reads it: create it first, then restart.
        {
            Matcher setup = startMatcher(dir);
            setup.sql("CREATE TABLE partners (pid INTEGER PRIMARY KEY, label TEXT, mobile TEXT, office TEXT)");
            setup.sql("INSERT INTO partners VALUES (12, 'Partenaire Sud', '0770 12 34 56', '029 12 34 56'), (13, 'Sans nom', NULL, '0661234567')");
            setup.sql("INSERT INTO registrations (id, full_name, phone) VALUES (1, 'Karim', '0661 23 45 67')");
            setup.reindex();
            CPPUNIT_ASSERT(setup.count("SELECT COUNT(*) FROM contact_phone_index WHERE kind = 'enrollment'") == 0);
        }
        Matcher m = startMatcher(dir, yaml);
        m.reindex();
        const auto office = m.service->match("+21329123456");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), office.size());
        CPPUNIT_ASSERT_EQUAL(std::string("organization"), office[0].kind);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(12), office[0].id);
        CPPUNIT_ASSERT_EQUAL(std::string("partners"), office[0].source);
        CPPUNIT_ASSERT_EQUAL(std::string("office"), office[0].column);
        CPPUNIT_ASSERT_EQUAL(std::string("/admin/partners/12/view"), office[0].adminLink);
        CPPUNIT_ASSERT_EQUAL(5, office[0].priority);
        // Priority 5 puts the partner before the registration (20 by default for its kind).
        const auto both = m.service->match("0661234567");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), both.size());
        CPPUNIT_ASSERT_EQUAL(std::string("organization"), both[0].kind);
        CPPUNIT_ASSERT_EQUAL(std::string("registration"), both[1].kind);
        CPPUNIT_ASSERT_EQUAL(20, both[1].priority);
        // Kinds no longer configured left the index with the rebuild.
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), m.count("SELECT COUNT(*) FROM contact_phone_index WHERE kind NOT IN ('organization', 'registration')"));
        // The refresh follows the configured id column.
        m.sql("INSERT INTO partners VALUES (20, 'Nouveau', '0555 00 11 22', NULL)");
        CPPUNIT_ASSERT(eventually([&] { return m.service->match("213555001122").size() == 1; }));
    }

    void badConfigurationPointsAtFileLineColumn() {
        struct Case {
            std::string yaml, needle, message;
        };
        const std::vector<Case> cases = {
            {"{ sources: [ { kind: teacher, table: teachers, phone_columns: [phone], name_column: name } ] }", "teacher",
             "unknown kind 'teacher'"},
            {"{ sources: [ { kind: registration, table: \"registrations; DROP TABLE users\", phone_columns: [phone], name_column: full_name } ] }",
             "\"registrations;", "is not a plain SQL identifier"},
            {"{ sources: [ { kind: registration, table: registrations, phone_columns: [phone, \"phone OR 1=1\"], name_column: full_name } ] }",
             "\"phone OR", "is not a plain SQL identifier"},
            {"{ sources: [ { kind: registration, table: registrations, phone_columns: [phone], name_column: full_name, colour: red } ] }",
             "colour", "unknown key"},
            {"{ sources: [ { kind: registration, table: registrations, phone_columns: [phone], name_column: full_name, admin_link: /admin/r } ] }",
             "/admin/r", "must contain {id}"},
            {"{ sources: [ { kind: registration, table: registrations, phone_columns: [phone], name_column: full_name },"
             " { kind: registration, table: enrollments, phone_columns: [phone], name_column: full_name } ] }",
             "registration, table: enrollments", "already used"},
            {"{ sources: [ { kind: registration, table: registrations, phone_columns: [phone], name_column: full_name,"
             " display_columns: [email, \"status) FROM users --\"] } ] }",
             "\"status)", "is not a plain SQL identifier"},
            {"{ sources: [ { kind: registration, table: registrations, phone_columns: [phone], name_column: full_name, display_columns: email } ] }",
             "email }", "expected a list of columns"},
            {"{ default_region: XX }", "XX", "not a region"},
            // "-1 }", not "-1": a temporary folder's random name may contain "-1" earlier in the file.
            {"{ refresh_seconds: -1 }", "-1 }", "must be between 0 and 86400"},
        };
        for (const Case& c : cases) {
            TempDir dir;
            const std::string error = startupError(dir, c.yaml);
            const std::string where = whereIs(dir, c.yaml, c.needle);
            CPPUNIT_ASSERT_MESSAGE(error + "\n  expected at " + where, error.find(where) != std::string::npos);
            CPPUNIT_ASSERT_MESSAGE(error, error.find(c.message) != std::string::npos);
            // Refused by the plugin's reader when it is loaded, as `config check` does: nothing started.
            CPPUNIT_ASSERT_MESSAGE(error, error.find(where) == 0);
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ContactMatcherTest);
