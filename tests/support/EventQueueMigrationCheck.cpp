#include "EventQueueMigrationCheck.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <filesystem>

#include <Poco/Data/Session.h>

#include "TestSupport.hpp"
#include "WebhookSupport.hpp"
#include "db/Migrator.hpp"

namespace tawasul::test {

using namespace Poco::Data::Keywords;

void checkTheEventQueueMigration(sdk::Database& db, const std::string& emptyJsonBytes) {
    TempDir dir;
    const std::filesystem::path before = dir.path() / "before";
    std::filesystem::create_directories(before);
    // The files before 0019 (later ones would need 0019's tables), then 0019 alone on top.
    const std::filesystem::path events = TAWASUL_SOURCE_DIR "/migrations/0019_event_queue.sql";
    for (const auto& entry : std::filesystem::directory_iterator(TAWASUL_SOURCE_DIR "/migrations")) {
        const std::string name = entry.path().filename().string();
        if (name < events.filename().string()) std::filesystem::copy(entry.path(), before / name);
    }
    host::Migrator(db, {{"host", before.string()}}).migrate();
    std::filesystem::copy(events, before / events.filename());
    {
        Poco::Data::Session session = db.session();
        for (int i = 1; i <= 4; ++i)
            session << "INSERT INTO whatsapp_webhook_events (id, received_at, payload, status, attempts) VALUES (" + std::to_string(i) +
                           ", 1, " + emptyJsonBytes + ", '" + (i == 2 ? "processing" : i == 3 ? "processed" : "pending") + "', " +
                           (i == 2 ? "3" : i == 3 ? "1" : "2") + ")",
                now;
        // 1: pending job retried twice, due later; 2: running on a host that stopped; 3: done;
        // 4: a job of another type that points at event 4 stays.
        session << "INSERT INTO jobs (type, payload, status, attempts, max_attempts, run_at, ref_table, ref_id) VALUES "
                   "('process_webhook_event', '{\"event_id\":1}', 'pending', 2, 8, 5000, 'whatsapp_webhook_events', 1), "
                   "('process_webhook_event', '{\"event_id\":2}', 'running', 3, 8, 4000, 'whatsapp_webhook_events', 2), "
                   "('process_webhook_event', '{\"event_id\":3}', 'done', 1, 8, 3000, 'whatsapp_webhook_events', 3), "
                   "('send_message', '{}', 'pending', 0, 8, 2000, 'whatsapp_webhook_events', 4)",
            now;
        session << "UPDATE whatsapp_webhook_events SET last_error = 'boom' WHERE id = 1", now;
    }
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), host::Migrator(db, {{"host", before.string()}}).migrate().size());
    CPPUNIT_ASSERT_EQUAL(std::string("1|pending|2|5000|boom|\n2|pending|3|4000||\n3|processed|1|0||\n4|pending|2|0||"),
                         queryRows(db, "SELECT id, status, attempts, run_at, COALESCE(last_error, ''), COALESCE(locked_by, '') "
                                       "FROM whatsapp_webhook_events ORDER BY id"));
    CPPUNIT_ASSERT_EQUAL(std::string("process_webhook_event|done\nsend_message|pending"),
                         queryRows(db, "SELECT type, status FROM jobs ORDER BY id"));
}

}  // namespace tawasul::test
