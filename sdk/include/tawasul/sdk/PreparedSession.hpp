#pragma once
// A database session whose statements are prepared once, for a writer that runs the same few
// statements again and again (the inbound router's batches, the job queue's claims).
//
// Poco 1.11 prepares a statement anew every time it runs, even a Statement executed again: on
// SQLite parsing the statements of a processing batch took a sixth of the host's CPU, and on
// PostgreSQL each statement costs four round trips (prepare, describe, execute, deallocate) and a
// parse and plan on the server. Here a statement's text is prepared on the
// connection the first time it runs and kept until this object is destroyed; running it again is
// one step (SQLite) or one round trip (PostgreSQL).
//
// Placeholders are `$1, $2, ...` on both engines; each may appear any number of times, in any order.
// Values are integers, texts, bytes or NULL, bound without a copy. A statement's text should not depend
// on the number of rows it handles, or each count is prepared (and kept) once: pass rows as one
// JsonRows parameter and read them with SqlDialect::jsonRows().
//
// One thread at a time, like any session. The session is kept out of the pool until this object
// is destroyed; after an error, destroy it rather than go on (the connection may be broken).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>
#include <Poco/Nullable.h>
#include <Poco/Types.h>

#include "tawasul/sdk/Api.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/SqlDialect.hpp"

namespace tawasul::sdk {

// A parameter's value. It refers to the caller's text, which must outlive the run() it is given to.
class SqlParam {
public:
    enum class Kind { Null, Integer, Text, Blob };
    SqlParam() = default;  // NULL
    SqlParam(Poco::Int64 value) : kind_(Kind::Integer), integer_(value) {}
    SqlParam(int value) : kind_(Kind::Integer), integer_(value) {}
    SqlParam(const std::string& value) : kind_(Kind::Text), text_(&value) {}
    SqlParam(const Poco::Nullable<std::string>& value) : kind_(value.isNull() ? Kind::Null : Kind::Text) {
        if (!value.isNull()) text_ = &value.value();
    }
    SqlParam(const Poco::Nullable<Poco::Int64>& value) : kind_(value.isNull() ? Kind::Null : Kind::Integer) {
        if (!value.isNull()) integer_ = value.value();
    }
    // The bytes of `value` exactly as they are (NULs and all), for a BLOB or bytea column; empty
    // bytes are stored as empty bytes, not NULL.
    static SqlParam blob(const std::string& value) {
        SqlParam param(value);
        param.kind_ = Kind::Blob;
        return param;
    }
    static SqlParam blob(std::string&&) = delete;
    SqlParam(std::string&&) = delete;  // a temporary would be gone before the statement runs
    SqlParam(Poco::Nullable<std::string>&&) = delete;
    SqlParam(const char*) = delete;

    Kind kind() const { return kind_; }
    Poco::Int64 integer() const { return integer_; }
    const std::string& text() const { return *text_; }

private:
    Kind kind_ = Kind::Null;
    Poco::Int64 integer_ = 0;
    const std::string* text_ = nullptr;
};

// One row of a result, valid during the callback that receives it. Columns count from 0.
class TAWASUL_SDK_API SqlRow {
public:
    virtual ~SqlRow();
    virtual bool isNull(int column) const = 0;
    virtual Poco::Int64 integer(int column) const = 0;  // NULL reads as 0
    virtual std::string text(int column) const = 0;     // NULL reads as ""
    // A BLOB (SQLite) or BYTEA (PostgreSQL) column's bytes; NULL reads as "".
    virtual std::string bytes(int column) const = 0;
    Poco::Nullable<Poco::Int64> nullableInteger(int column) const {
        return isNull(column) ? Poco::Nullable<Poco::Int64>() : Poco::Nullable<Poco::Int64>(integer(column));
    }
    Poco::Nullable<std::string> nullableText(int column) const {
        return isNull(column) ? Poco::Nullable<std::string>() : Poco::Nullable<std::string>(text(column));
    }
};

class TAWASUL_SDK_API PreparedSession {
public:
    using EachRow = std::function<void(const SqlRow&)>;

    PreparedSession(Poco::Data::Session session, const SqlDialect& dialect);
    ~PreparedSession();
    PreparedSession(const PreparedSession&) = delete;
    PreparedSession& operator=(const PreparedSession&) = delete;

    // The session itself, for a Transaction and for statements that run rarely.
    Poco::Data::Session& session() { return session_; }

    // Runs `sql` with `params` ($1 is the first), handing every row it returns to `each`. Returns
    // the number of rows returned, or of rows changed by a statement that returns none. Throws
    // std::runtime_error with the engine's message.
    std::size_t run(const std::string& sql, std::initializer_list<SqlParam> params, const EachRow& each = {});
    std::size_t run(const std::string& sql, const std::vector<SqlParam>& params, const EachRow& each = {});

    class Engine;  // one per database engine, in the .cpp

private:
    Poco::Data::Session session_;
    std::unique_ptr<Engine> engine_;
};

// sdk::Transaction on a PreparedSession: the same write turn and durability, with its BEGIN,
// COMMIT and durability statements prepared once like the others (through Poco each is a parse
// on SQLite and four round trips on PostgreSQL).
class TAWASUL_SDK_API PreparedTransaction {
public:
    PreparedTransaction(Database& database, PreparedSession& db, Durability durability = Durability::Full);
    PreparedTransaction(const PreparedTransaction&) = delete;
    PreparedTransaction& operator=(const PreparedTransaction&) = delete;
    ~PreparedTransaction();
    void commit();
    void rollback() noexcept;

private:
    void restore() noexcept;

    const SqlDialect& sql_;
    PreparedSession& db_;
    Durability durability_;
    std::unique_lock<std::timed_mutex> writer_;
    bool open_ = true;
};

// Rows for one parameter, read by a statement with SqlDialect::jsonRows(): a JSON array of arrays,
// so that the statement's text, and so its prepared form, is one whatever the number of rows.
// Header-only. Texts are written up to their first NUL: neither engine keeps a NUL in a text
// (libpq ends a parameter there, SQLite's JSON functions end the value there).
class JsonRows {
public:
    JsonRows() { text_ = "["; }
    JsonRows& row() {
        if (rows_ > 0) text_ += "]";
        text_ += rows_ == 0 ? "[" : ",[";
        ++rows_;
        first_ = true;
        return *this;
    }
    JsonRows& null() {
        separate();
        text_ += "null";
        return *this;
    }
    JsonRows& add(Poco::Int64 value) {
        separate();
        text_ += std::to_string(value);
        return *this;
    }
    JsonRows& add(int value) { return add(static_cast<Poco::Int64>(value)); }
    JsonRows& add(const std::string& value) {
        separate();
        text_ += '"';
        for (const char c : value) {
            const auto byte = static_cast<unsigned char>(c);
            if (byte == 0) break;
            if (c == '"' || c == '\\') {
                text_ += '\\';
                text_ += c;
            } else if (byte < 0x20) {
                static const char* const kHex = "0123456789abcdef";
                text_ += "\\u00";
                text_ += kHex[byte >> 4];
                text_ += kHex[byte & 0xF];
            } else {
                text_ += c;
            }
        }
        text_ += '"';
        return *this;
    }
    JsonRows& add(const Poco::Nullable<std::string>& value) { return value.isNull() ? null() : add(value.value()); }
    JsonRows& add(const Poco::Nullable<Poco::Int64>& value) { return value.isNull() ? null() : add(value.value()); }
    JsonRows& add(const char*) = delete;

    std::size_t size() const { return rows_; }
    bool empty() const { return rows_ == 0; }
    // The JSON text; the builder is done once this is taken.
    const std::string& text() {
        if (!closed_) text_ += rows_ > 0 ? "]]" : "]";
        closed_ = true;
        return text_;
    }

private:
    void separate() {
        if (!first_) text_ += ',';
        first_ = false;
    }
    std::string text_;
    std::size_t rows_ = 0;
    bool first_ = true;
    bool closed_ = false;
};

}  // namespace tawasul::sdk
