#pragma once
// SQL files as the Migrator reads them: dialect tokens filled in, then split into statements,
// because PostgreSQL's prepared statements take one at a time.
#include <stdexcept>
#include <string>
#include <vector>

#include "tawasul/sdk/SqlDialect.hpp"

namespace tawasul::host {

class SqlScriptError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct SqlStatement {
    std::string text;
    int line = 1;  // where the statement starts in the file, for FILE:LINE errors
};

// Fills in the dialect tokens of a migration: `{{ID_PRIMARY_KEY}}`, `{{NOW_MS}}` and `{{BLOB}}`
// (values in sdk::SqlDialect). Tokens are read only in SQL code, never inside '...' strings,
// "..." identifiers, comments or $tag$ quotes, so text such as a seeded Mustache template is kept
// as written; `{{` cannot start anything else in SQL code. Lines keep their numbers. An unknown or
// unclosed token throws SqlScriptError "FILE:LINE:COL: ...", `file` naming the script.
std::string renderSqlScript(const std::string& script, const sdk::SqlDialect& dialect, const std::string& file);

// Splits on ';' outside '...' strings, "..." identifiers, -- and /* */ comments and $tag$ quotes.
// Empty statements (comments only) are dropped.
std::vector<SqlStatement> splitSqlScript(const std::string& script);

}  // namespace tawasul::host
