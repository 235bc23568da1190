#pragma once
// Splits a SQL file into statements, because PostgreSQL's prepared statements take one at a time.
#include <string>
#include <vector>

namespace tawasul::host {

struct SqlStatement {
    std::string text;
    int line = 1;  // where the statement starts in the file, for FILE:LINE errors
};

// Splits on ';' outside '...' strings, "..." identifiers, -- and /* */ comments and $tag$ quotes.
// Empty statements (comments only) are dropped.
std::vector<SqlStatement> splitSqlScript(const std::string& script);

}  // namespace tawasul::host
