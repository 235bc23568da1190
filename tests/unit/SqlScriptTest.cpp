// host::splitSqlScript: ';' splits statements only outside strings, identifiers, comments and
// dollar quotes; each statement knows the line it starts on. host::renderSqlScript fills in the
// dialect tokens in SQL code only, and names FILE:LINE:COL of a token it does not know.
#include <cppunit/extensions/HelperMacros.h>

#include "Assertions.hpp"

#include <sstream>
#include <string>
#include <vector>

#include "db/SqlScript.hpp"

using tawasul::host::renderSqlScript;
using tawasul::host::splitSqlScript;
using tawasul::host::SqlScriptError;
using tawasul::sdk::SqlDialect;
using tawasul::host::SqlStatement;

namespace {

std::vector<std::string> texts(const std::vector<SqlStatement>& statements) {
    std::vector<std::string> out;
    for (const auto& s : statements) out.push_back(s.text);
    return out;
}

std::string renderError(const std::string& script) {
    try {
        renderSqlScript(script, SqlDialect::sqlite(), "m/0001_x.sql");
    } catch (const SqlScriptError& error) {
        return error.what();
    }
    return "no error";
}

std::vector<int> lines(const std::vector<SqlStatement>& statements) {
    std::vector<int> out;
    for (const auto& s : statements) out.push_back(s.line);
    return out;
}

template <typename T>
std::string join(const std::vector<T>& values) {
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        std::ostringstream item;
        item << values[i];
        out += (i ? ", <" : "<") + item.str() + ">";
    }
    return out + "]";
}

}  // namespace

namespace CppUnit {
template <>
struct assertion_traits<std::vector<int>> {
    static bool equal(const std::vector<int>& a, const std::vector<int>& b) { return a == b; }
    static std::string toString(const std::vector<int>& v) { return join(v); }
};
}  // namespace CppUnit

class SqlScriptTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SqlScriptTest);
    CPPUNIT_TEST(testSplitsOnSemicolons);
    CPPUNIT_TEST(testLastStatementWithoutSemicolon);
    CPPUNIT_TEST(testSemicolonInString);
    CPPUNIT_TEST(testDoubledQuotesInString);
    CPPUNIT_TEST(testSemicolonInQuotedIdentifier);
    CPPUNIT_TEST(testLineComments);
    CPPUNIT_TEST(testBlockComments);
    CPPUNIT_TEST(testEmptyDollarQuote);
    CPPUNIT_TEST(testTaggedDollarQuote);
    CPPUNIT_TEST(testPlaceholdersAreNotDollarQuotes);
    CPPUNIT_TEST(testStartLines);
    CPPUNIT_TEST(testStartLineSkipsLeadingComments);
    CPPUNIT_TEST(testCommentOnlyStatementsAreDropped);
    CPPUNIT_TEST(testEmptyScript);
    CPPUNIT_TEST(testRendersTheTokensOfEachDialect);
    CPPUNIT_TEST(testTokensOutsideCodeAreKept);
    CPPUNIT_TEST(testUnknownTokenNamesFileLineColumn);
    CPPUNIT_TEST_SUITE_END();

public:
    void testSplitsOnSemicolons() {
        const auto statements = splitSqlScript("CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);\n");
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"CREATE TABLE a (x INT)", "\nCREATE TABLE b (y INT)"}),
                             texts(statements));
        CPPUNIT_ASSERT_EQUAL(std::vector<int>({1, 2}), lines(statements));
    }

    void testLastStatementWithoutSemicolon() {
        const auto statements = splitSqlScript("SELECT 1;SELECT 2");
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"SELECT 1", "SELECT 2"}), texts(statements));
        CPPUNIT_ASSERT_EQUAL(std::vector<int>({1, 1}), lines(statements));
    }

    void testSemicolonInString() {
        const auto statements =
            splitSqlScript("INSERT INTO t VALUES ('a;b');\nINSERT INTO t VALUES (';');");
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"INSERT INTO t VALUES ('a;b')", "\nINSERT INTO t VALUES (';')"}),
                             texts(statements));
    }

    void testDoubledQuotesInString() {
        const auto statements = splitSqlScript(
            "INSERT INTO t VALUES ('it''s; fine', '''');\n"
            "INSERT INTO t VALUES ('');\n"
            "SELECT 'x'';y'");
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"INSERT INTO t VALUES ('it''s; fine', '''')",
                                                       "\nINSERT INTO t VALUES ('')", "\nSELECT 'x'';y'"}),
                             texts(statements));
        CPPUNIT_ASSERT_EQUAL(std::vector<int>({1, 2, 3}), lines(statements));
    }

    void testSemicolonInQuotedIdentifier() {
        const auto statements = splitSqlScript(
            "CREATE TABLE \"odd;name\" (\"a\"\"b;\" INT);\n"
            "SELECT \"it's\" FROM t;");  // a single quote inside an identifier opens no string
        CPPUNIT_ASSERT_EQUAL(
            std::vector<std::string>({"CREATE TABLE \"odd;name\" (\"a\"\"b;\" INT)", "\nSELECT \"it's\" FROM t"}),
            texts(statements));
    }

    void testLineComments() {
        const auto statements = splitSqlScript(
            "SELECT 1; -- a comment; with a semicolon and a quote '\n"
            "SELECT 2 -- trailing; comment\n"
            ";\n"
            "SELECT '--not a comment;';\n");
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"SELECT 1",
                                                       " -- a comment; with a semicolon and a quote '\n"
                                                       "SELECT 2 -- trailing; comment\n",
                                                       "\nSELECT '--not a comment;'"}),
                             texts(statements));
    }

    void testBlockComments() {
        const auto statements = splitSqlScript(
            "/* header; with ' quote\n   and two lines */ CREATE TABLE a (x INT /* inline; */);\n"
            "SELECT '/* not; a comment */';\n");
        CPPUNIT_ASSERT_EQUAL(
            std::vector<std::string>({"/* header; with ' quote\n   and two lines */ CREATE TABLE a (x INT /* inline; */)",
                                      "\nSELECT '/* not; a comment */'"}),
            texts(statements));
        CPPUNIT_ASSERT_EQUAL(std::vector<int>({2, 3}), lines(statements));
    }

    void testEmptyDollarQuote() {
        const std::string function =
            "CREATE FUNCTION f() RETURNS trigger AS $$\n"
            "BEGIN\n"
            "  NEW.updated_at := now(); -- 'quote\n"
            "  RETURN NEW;\n"
            "END;\n"
            "$$ LANGUAGE plpgsql";
        const auto statements = splitSqlScript(function + ";\nSELECT 1;\n");
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({function, "\nSELECT 1"}), texts(statements));
        CPPUNIT_ASSERT_EQUAL(std::vector<int>({1, 7}), lines(statements));
    }

    void testTaggedDollarQuote() {
        // $body$ ends only at $body$: an inner $$ and $other$ are part of the text.
        const std::string function =
            "CREATE FUNCTION g() RETURNS text AS $body$\n"
            "  SELECT $$;$$ || $other$;$other$;\n"
            "$body$ LANGUAGE sql";
        const auto statements = splitSqlScript(function + ";\nSELECT $q_1$a;b$q_1$;");
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({function, "\nSELECT $q_1$a;b$q_1$"}), texts(statements));
        CPPUNIT_ASSERT_EQUAL(std::vector<int>({1, 4}), lines(statements));
    }

    void testPlaceholdersAreNotDollarQuotes() {
        const auto statements = splitSqlScript(
            "UPDATE t SET a = $1 WHERE b = $2;\n"
            "INSERT INTO t VALUES ($1,$2);\n"
            "SELECT $10;");
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"UPDATE t SET a = $1 WHERE b = $2",
                                                       "\nINSERT INTO t VALUES ($1,$2)", "\nSELECT $10"}),
                             texts(statements));
        CPPUNIT_ASSERT_EQUAL(std::vector<int>({1, 2, 3}), lines(statements));
    }

    void testStartLines() {
        const auto statements = splitSqlScript(
            "\n"
            "\n"
            "CREATE TABLE a (\n"
            "  note TEXT DEFAULT 'multi\n"
            "line'\n"
            ");\n"
            "\n"
            "   CREATE TABLE b (x INT); CREATE TABLE c (y INT);\n"
            "CREATE TABLE d (\n"
            "  \"quoted\n"
            "name\" INT);\n"
            "CREATE TABLE e (x INT);\n");
        CPPUNIT_ASSERT_EQUAL(std::vector<int>({3, 8, 8, 9, 12}), lines(statements));
        CPPUNIT_ASSERT_EQUAL(std::string(" CREATE TABLE c (y INT)"), statements[2].text);
    }

    void testStartLineSkipsLeadingComments() {
        // A statement's line is that of its first code, not of a comment left over from the
        // previous line or written above it.
        const auto statements = splitSqlScript(
            "CREATE TABLE a (x INT); -- the first table\n"
            "CREATE TABLE b (x INT);\n"
            "\n"
            "-- the third table\n"
            "/* spans\n"
            "   lines */\n"
            "CREATE TABLE c (x INT);\n");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), statements.size());
        CPPUNIT_ASSERT_EQUAL(std::vector<int>({1, 2, 7}), lines(statements));
        CPPUNIT_ASSERT_EQUAL(std::string(" -- the first table\nCREATE TABLE b (x INT)"), statements[1].text);
    }

    void testCommentOnlyStatementsAreDropped() {
        const auto statements = splitSqlScript(
            "-- migration 001\n"
            ";\n"
            "/* nothing here */;\n"
            "  ;  ;\n"
            "SELECT 1;\n"
            "-- trailing comment only\n"
            "/* and an unterminated one");
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"\nSELECT 1"}), texts(statements));
        CPPUNIT_ASSERT_EQUAL(std::vector<int>({5}), lines(statements));
    }

    void testEmptyScript() {
        CPPUNIT_ASSERT(splitSqlScript("").empty());
        CPPUNIT_ASSERT(splitSqlScript(" \n\t\n").empty());
        CPPUNIT_ASSERT(splitSqlScript("-- only\n-- comments\n").empty());
    }

    void testRendersTheTokensOfEachDialect() {
        const std::string script =
            "CREATE TABLE t (\n"
            "    id {{ID_PRIMARY_KEY}},\n"
            "    body {{BLOB}} NOT NULL,\n"
            "    at BIGINT NOT NULL DEFAULT ({{NOW_MS}})\n"
            ");\n";
        CPPUNIT_ASSERT_EQUAL(std::string("CREATE TABLE t (\n"
                                         "    id INTEGER PRIMARY KEY,\n"
                                         "    body BLOB NOT NULL,\n"
                                         "    at BIGINT NOT NULL DEFAULT (CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER))\n"
                                         ");\n"),
                             renderSqlScript(script, SqlDialect::sqlite(), "f.sql"));
        CPPUNIT_ASSERT_EQUAL(std::string("CREATE TABLE t (\n"
                                         "    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n"
                                         "    body BYTEA NOT NULL,\n"
                                         "    at BIGINT NOT NULL DEFAULT (floor(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT)\n"
                                         ");\n"),
                             renderSqlScript(script, SqlDialect::postgresql(), "f.sql"));
        // A script without tokens is its own rendering (its checksum does not change).
        const std::string plain = "INSERT INTO roles (name) VALUES ('admin'); -- { not a token }\n";
        CPPUNIT_ASSERT_EQUAL(plain, renderSqlScript(plain, SqlDialect::postgresql(), "f.sql"));
    }

    void testTokensOutsideCodeAreKept() {
        // Strings (a seeded Mustache template), identifiers, comments and dollar quotes are data.
        const std::string script =
            "INSERT INTO t (body) VALUES ('Hello {{name}}, {{BLOB}}');\n"
            "SELECT \"{{NOW_MS}}\" FROM t; -- {{UNKNOWN}}\n"
            "/* {{1}} */ SELECT $q${{ID_PRIMARY_KEY}}$q$;\n";
        CPPUNIT_ASSERT_EQUAL(script, renderSqlScript(script, SqlDialect::sqlite(), "f.sql"));
        CPPUNIT_ASSERT_EQUAL(script, renderSqlScript(script, SqlDialect::postgresql(), "f.sql"));
    }

    void testUnknownTokenNamesFileLineColumn() {
        const std::string known = "; the tokens are {{ID_PRIMARY_KEY}}, {{NOW_MS}}, {{BLOB}}";
        CPPUNIT_ASSERT_EQUAL("m/0001_x.sql:3:22: unknown dialect token {{BYTES}}" + known,
                             renderError("SELECT 'a\nb' FROM t;\nCREATE TABLE u (data {{BYTES}});"));
        CPPUNIT_ASSERT_EQUAL("m/0001_x.sql:1:19: unknown dialect token {{blob}}" + known,
                             renderError("CREATE TABLE u (b {{blob}})"));
        CPPUNIT_ASSERT_EQUAL("m/0001_x.sql:1:19: unclosed dialect token {{" + known, renderError("CREATE TABLE u (b {{BLOB)"));
        CPPUNIT_ASSERT_EQUAL("m/0001_x.sql:1:8: unclosed dialect token {{" + known, renderError("SELECT {{"));
        CPPUNIT_ASSERT_EQUAL("m/0001_x.sql:1:8: unclosed dialect token {{" + known,
                             renderError("SELECT {{" + std::string(100, 'A') + "}}"));  // too long to be a token
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SqlScriptTest);
