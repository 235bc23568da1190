#pragma once
// The users page over HTTP (issue #15), the same checks on SQLite (e2e UsersPagesTest) and on
// PostgreSQL (AdminPagesPostgresTest): list, add (a password shown once, or set), change role,
// deactivate and activate, reset a password, end sessions; every bad input with its status; a
// viewer and an agent change nothing; no change leaves the host without an active admin.
#include "HostProcess.hpp"
#include "tawasul/sdk/Database.hpp"

namespace tawasul::test {

// `host` is started on `db`; the checks sign their own users in (boss@users.test is the admin).
void checkUsersPage(const HostProcess& host, sdk::Database& db);

}  // namespace tawasul::test
