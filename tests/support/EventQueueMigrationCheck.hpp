#pragma once
// Issue #13, migration 0019: the upgrade that makes the stored event its own queue entry, checked
// the same way on either engine.
#include <string>

#include "tawasul/sdk/Database.hpp"

namespace tawasul::test {

// Migrates the empty database `db` up to 0018, queues process_webhook_event jobs as an older host
// left them (pending and retried, running on a host that stopped, done) beside a job of another
// type, then applies 0019. Asserts that no event is lost: the pending and running jobs' events are
// pending, due when their jobs were, with their attempts and last error, and those jobs are gone;
// the finished job and the other type's job stay as they were. `emptyJsonBytes` is the engine's
// literal for the two bytes "{}" (the payload column is BLOB on SQLite, bytea on PostgreSQL).
void checkTheEventQueueMigration(sdk::Database& db, const std::string& emptyJsonBytes);

}  // namespace tawasul::test
