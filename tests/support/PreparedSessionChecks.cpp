#include "PreparedSessionChecks.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/Data/LOB.h>

#include "tawasul/sdk/PreparedSession.hpp"

namespace tawasul::test {
namespace {

using Text = Poco::Nullable<std::string>;
using Int = Poco::Nullable<Poco::Int64>;

// The message of what `run` throws, or "" when it does not.
template <typename Run>
std::string errorOf(Run&& run) {
    try {
        run();
    } catch (const std::runtime_error& error) {
        return error.what();
    }
    return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

void checkPreparedSession(sdk::Database& database) {
    const sdk::SqlDialect& sql = database.sql();
    {
        Poco::Data::Session setup = database.session();
        setup << "CREATE TABLE prepared_check (id BIGINT PRIMARY KEY, label TEXT, amount BIGINT)", Poco::Data::Keywords::now;
    }
    sdk::PreparedSession db(database.session(), sql);

    // Placeholders: one value used twice, the second named before the first.
    std::vector<std::string> seen;
    const std::string twice = "x";
    const Poco::Int64 seven = 7;
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), db.run("SELECT CAST($2 AS TEXT) || CAST($1 AS TEXT) || CAST($2 AS TEXT), CAST($1 AS BIGINT) + 1",
                                                {seven, twice}, [&](const sdk::SqlRow& row) {
                                                    seen.push_back(row.text(0));
                                                    CPPUNIT_ASSERT_EQUAL(Poco::Int64(8), row.integer(1));
                                                }));
    CPPUNIT_ASSERT_EQUAL(std::string("x7x"), seen.at(0));

    // Rows as one parameter: integers at both ends, NULLs, and texts JSON must escape.
    const std::string quoted = "a \"quoted\" back\\slash, tab\tnewline\ncontrol\x01 and \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85";
    const std::string withNul = std::string("before") + '\0' + "after";
    const auto insert = [&](sdk::JsonRows& rows) {
        const std::string& text = rows.text();
        return db.run("INSERT INTO prepared_check (id, label, amount) SELECT CAST(r.value ->> 0 AS BIGINT), CAST(r.value ->> 1 AS TEXT), "
                      "CAST(r.value ->> 2 AS BIGINT) FROM " + sql.jsonRows("$1", "r") + " WHERE true ORDER BY r.key "
                      "ON CONFLICT (id) DO NOTHING RETURNING id",
                      {text});
    };
    sdk::JsonRows rows;
    rows.row().add(Poco::Int64(1)).add(quoted).add(std::numeric_limits<Poco::Int64>::max());
    rows.row().add(Poco::Int64(2)).add(Text()).add(std::numeric_limits<Poco::Int64>::min());
    rows.row().add(Poco::Int64(3)).add(withNul).add(Int());
    rows.row().add(Poco::Int64(4)).add(std::string()).null();
    CPPUNIT_ASSERT_EQUAL(std::size_t(4), rows.size());
    CPPUNIT_ASSERT_EQUAL(std::size_t(4), insert(rows));
    // The same text again, with one new row and three known ones: prepared once, ON CONFLICT holds.
    sdk::JsonRows again;
    for (Poco::Int64 id = 1; id <= 5; ++id) again.row().add(id).add("row " + std::to_string(id)).add(id * 10);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), insert(again));
    sdk::JsonRows none;
    CPPUNIT_ASSERT_EQUAL(std::string("[]"), none.text());
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), insert(none));

    std::vector<Poco::Int64> ids;
    std::vector<Text> labels;
    std::vector<Int> amounts;
    db.run("SELECT id, label, amount FROM prepared_check ORDER BY id", {}, [&](const sdk::SqlRow& row) {
        ids.push_back(row.integer(0));
        labels.push_back(row.nullableText(1));
        amounts.push_back(row.nullableInteger(2));
        CPPUNIT_ASSERT_EQUAL(row.isNull(2), amounts.back().isNull());
    });
    CPPUNIT_ASSERT_EQUAL(std::size_t(5), ids.size());
    CPPUNIT_ASSERT_EQUAL(Text(quoted), labels[0]);
    CPPUNIT_ASSERT_EQUAL(Int(std::numeric_limits<Poco::Int64>::max()), amounts[0]);
    CPPUNIT_ASSERT(labels[1].isNull());
    CPPUNIT_ASSERT_EQUAL(Int(std::numeric_limits<Poco::Int64>::min()), amounts[1]);
    // Neither engine keeps a NUL in a text: the value ends there, on both alike.
    CPPUNIT_ASSERT_EQUAL(Text("before"), labels[2]);
    CPPUNIT_ASSERT(amounts[2].isNull());
    CPPUNIT_ASSERT_EQUAL(Text(""), labels[3]);  // empty is not NULL
    CPPUNIT_ASSERT_EQUAL(Text("row 5"), labels[4]);

    // A statement without rows answers how many it changed; NULL parameters bind as NULL.
    const Text nothing;
    const std::string label = "changed";
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), db.run("UPDATE prepared_check SET label = $1, amount = $2 WHERE id IN (4, 5)", {label, nothing}));
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), db.run("DELETE FROM prepared_check WHERE id = $1", {Poco::Int64(99)}));

    // Misuse: a wrong number of values, two statements, an engine error. Each names the statement.
    const std::string countError = errorOf([&] { db.run("SELECT $1, $2", {seven}); });
    CPPUNIT_ASSERT_MESSAGE(countError, contains(countError, "SELECT $1, $2"));
    CPPUNIT_ASSERT_MESSAGE(countError, sql == sdk::SqlDialect::sqlite() ? contains(countError, "1 values for 2 parameters")
                                                                        : contains(countError, "SQLSTATE"));
    const std::string twoStatements = errorOf([&] { db.run("SELECT 1; SELECT 2", {}); });
    CPPUNIT_ASSERT_MESSAGE(twoStatements, !twoStatements.empty() && contains(twoStatements, "SELECT 1; SELECT 2"));
    const std::string duplicate = errorOf([&] { db.run("INSERT INTO prepared_check (id) VALUES ($1)", {Poco::Int64(1)}); });
    CPPUNIT_ASSERT_MESSAGE(duplicate, contains(duplicate, sql == sdk::SqlDialect::sqlite() ? "UNIQUE constraint failed" : "duplicate key"));
    const std::string unknown = errorOf([&] { db.run("SELECT nothing FROM no_such_table", {}); });
    CPPUNIT_ASSERT_MESSAGE(unknown, contains(unknown, "no_such_table"));
    // The session goes on after an error outside a transaction.
    CPPUNIT_ASSERT_EQUAL(std::size_t(5), db.run("SELECT id FROM prepared_check", {}));

    // Inside a Transaction on the same session, rolled back; a PreparedTransaction rolled back,
    // then committed, in each durability.
    {
        sdk::Transaction transaction(database, db.session(), sdk::Durability::Relaxed);
        db.run("DELETE FROM prepared_check", {});
    }
    CPPUNIT_ASSERT_EQUAL(std::size_t(5), db.run("SELECT id FROM prepared_check", {}));
    {
        sdk::PreparedTransaction transaction(database, db, sdk::Durability::Relaxed);
        db.run("DELETE FROM prepared_check WHERE id = 5", {});
    }
    CPPUNIT_ASSERT_EQUAL(std::size_t(5), db.run("SELECT id FROM prepared_check", {}));
    for (const auto durability : {sdk::Durability::Relaxed, sdk::Durability::Full}) {
        sdk::PreparedTransaction transaction(database, db, durability);
        db.run("DELETE FROM prepared_check WHERE id = (SELECT MAX(id) FROM prepared_check)", {});
        transaction.commit();
    }
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), db.run("SELECT id FROM prepared_check", {}));

    // Bytes as stored: a BLOB (SQLite) or BYTEA (PostgreSQL) with NUL and high bytes, and NULL.
    {
        Poco::Data::Session setup = database.session();
        setup << "CREATE TABLE prepared_bytes (id BIGINT PRIMARY KEY, raw " + sql.blobType() + ")", Poco::Data::Keywords::now;
        const std::string raw = std::string("a\0b\xff\xfe\\x00", 8);
        Poco::Data::BLOB blob(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
        setup << "INSERT INTO prepared_bytes (id, raw) VALUES (1, $1)", Poco::Data::Keywords::use(blob), Poco::Data::Keywords::now;
        setup << "INSERT INTO prepared_bytes (id, raw) VALUES (2, NULL)", Poco::Data::Keywords::now;
        std::vector<std::string> read;
        db.run("SELECT raw FROM prepared_bytes ORDER BY id", {}, [&](const sdk::SqlRow& row) { read.push_back(row.bytes(0)); });
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), read.size());
        CPPUNIT_ASSERT_EQUAL(raw, read[0]);
        CPPUNIT_ASSERT_EQUAL(std::string(), read[1]);
    }
}

}  // namespace tawasul::test
