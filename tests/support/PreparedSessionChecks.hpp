#pragma once
// sdk::PreparedSession and sdk::JsonRows against a real engine (a fresh database, which gets a
// table prepared_check): the same checks for SQLite
// (integration) and PostgreSQL (postgres label).
#include "tawasul/sdk/Database.hpp"

namespace tawasul::test {

// Values round trip (integers at both ends of 64 bits, texts with quotes, backslashes, control
// characters and Arabic, NULLs), placeholders reused and out of order, one statement text for any
// number of JsonRows, RETURNING and changed-row counts, and every misuse with its precise error.
void checkPreparedSession(sdk::Database& database);

}  // namespace tawasul::test
