#include "tawasul/sdk/PreparedSession.hpp"

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <unordered_map>

#include <Poco/Any.h>
#include <Poco/Data/PostgreSQL/SessionHandle.h>
#include <libpq-fe.h>
#include <sqlite3.h>

namespace tawasul::sdk {

class PreparedSession::Engine {
public:
    virtual ~Engine() = default;
    virtual std::size_t run(const std::string& sql, const SqlParam* params, std::size_t count, const EachRow& each) = 0;
};

namespace {

// The start of a statement, for an error message.
std::string shortened(const std::string& sql) { return sql.size() > 160 ? sql.substr(0, 160) + "..." : sql; }

// ---- SQLite --------------------------------------------------------------------------------------

// `$n` as SQLite's `?n`: SQLite takes `$n` for a name and numbers names by first appearance, so a
// `$2` written before `$1`, or twice, would not be parameter 2. Quoted text and identifiers are kept.
std::string numberedPlaceholders(const std::string& sql) {
    std::string out;
    out.reserve(sql.size());
    char quote = 0;
    for (std::size_t i = 0; i < sql.size(); ++i) {
        const char c = sql[i];
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
            out += '?';
            continue;
        }
        out += c;
    }
    return out;
}

class SqliteRow final : public SqlRow {
public:
    explicit SqliteRow(sqlite3_stmt* statement) : statement_(statement) {}
    bool isNull(int column) const override { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
    Poco::Int64 integer(int column) const override { return sqlite3_column_int64(statement_, column); }
    std::string text(int column) const override {
        const auto* bytes = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
        return bytes ? std::string(bytes, static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))) : std::string();
    }
    std::string bytes(int column) const override {
        const auto* bytes = static_cast<const char*>(sqlite3_column_blob(statement_, column));
        return bytes ? std::string(bytes, static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))) : std::string();
    }

private:
    sqlite3_stmt* statement_;
};

class SqliteEngine final : public PreparedSession::Engine {
public:
    explicit SqliteEngine(Poco::Data::Session& session) : db_(Poco::AnyCast<sqlite3*>(session.getProperty("handle"))) {
        if (!db_) throw std::runtime_error("PreparedSession: the SQLite session is not open");
        // JsonRows are read with `->>`, which SQLite has from 3.38 on (Debian 12 ships 3.40).
        if (sqlite3_libversion_number() < 3038000)
            throw std::runtime_error(std::string("PreparedSession: SQLite 3.38 or newer is needed, this is ") + sqlite3_libversion());
    }
    ~SqliteEngine() override {
        for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
    }

    std::size_t run(const std::string& sql, const SqlParam* params, std::size_t count, const PreparedSession::EachRow& each) override {
        sqlite3_stmt* statement = prepared(sql);
        // Reset however it ends: a statement left stepping holds its read of the database.
        struct Reset {
            sqlite3_stmt* statement;
            ~Reset() {
                sqlite3_reset(statement);
                sqlite3_clear_bindings(statement);
            }
        } reset{statement};
        if (static_cast<int>(count) != sqlite3_bind_parameter_count(statement))
            throw std::runtime_error("SQLite: " + std::to_string(count) + " values for " +
                                     std::to_string(sqlite3_bind_parameter_count(statement)) + " parameters in: " + shortened(sql));
        for (std::size_t i = 0; i < count; ++i) {
            const int at = static_cast<int>(i + 1);
            const SqlParam& param = params[i];
            int rc = SQLITE_OK;
            switch (param.kind()) {
                case SqlParam::Kind::Null: rc = sqlite3_bind_null(statement, at); break;
                case SqlParam::Kind::Integer: rc = sqlite3_bind_int64(statement, at, param.integer()); break;
                case SqlParam::Kind::Text:
                    // Static: the caller's text lives until run() returns, and the statement is reset before.
                    rc = sqlite3_bind_text64(statement, at, param.text().data(), param.text().size(), SQLITE_STATIC, SQLITE_UTF8);
                    break;
                case SqlParam::Kind::Blob:
                    // A zero-length blob given as bytes would be bound as NULL.
                    rc = param.text().empty() ? sqlite3_bind_zeroblob(statement, at, 0)
                                              : sqlite3_bind_blob64(statement, at, param.text().data(), param.text().size(), SQLITE_STATIC);
                    break;
            }
            if (rc != SQLITE_OK) fail(sql);
        }
        std::size_t rows = 0;
        const SqliteRow row(statement);
        for (;;) {
            const int rc = sqlite3_step(statement);
            if (rc == SQLITE_ROW) {
                ++rows;
                if (each) each(row);
            } else if (rc == SQLITE_DONE) {
                break;
            } else {
                fail(sql);
            }
        }
        return rows > 0 || sqlite3_column_count(statement) > 0 ? rows : static_cast<std::size_t>(sqlite3_changes64(db_));
    }

private:
    sqlite3_stmt* prepared(const std::string& sql) {
        if (const auto it = statements_.find(sql); it != statements_.end()) return it->second;
        const std::string text = numberedPlaceholders(sql);
        sqlite3_stmt* statement = nullptr;
        const char* tail = nullptr;
        if (sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size() + 1), SQLITE_PREPARE_PERSISTENT, &statement, &tail) != SQLITE_OK) {
            sqlite3_finalize(statement);
            fail(sql);
        }
        if (!statement) throw std::runtime_error("SQLite: no statement in: " + shortened(sql));
        while (tail && (*tail == ' ' || *tail == '\n' || *tail == ';')) ++tail;
        if (tail && *tail) {
            sqlite3_finalize(statement);
            throw std::runtime_error("SQLite: one statement at a time: " + shortened(sql));
        }
        statements_.emplace(sql, statement);
        return statement;
    }

    [[noreturn]] void fail(const std::string& sql) const {
        throw std::runtime_error(std::string("SQLite: ") + sqlite3_errmsg(db_) + " in: " + shortened(sql));
    }

    sqlite3* db_;
    std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

// ---- PostgreSQL ----------------------------------------------------------------------------------

class PostgresRow final : public SqlRow {
public:
    PostgresRow(PGresult* result, int row) : result_(result), row_(row) {}
    bool isNull(int column) const override { return PQgetisnull(result_, row_, column) != 0; }
    Poco::Int64 integer(int column) const override {
        const char* text = PQgetvalue(result_, row_, column);
        const char* end = text + PQgetlength(result_, row_, column);
        Poco::Int64 value = 0;
        std::from_chars(text, end, value);  // NULL ("") reads as 0
        return value;
    }
    std::string text(int column) const override {
        return std::string(PQgetvalue(result_, row_, column), static_cast<std::size_t>(PQgetlength(result_, row_, column)));
    }
    std::string bytes(int column) const override {
        if (isNull(column)) return "";
        // Text results spell a BYTEA in hex ("\\x..."); libpq reads that back.
        std::size_t size = 0;
        unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row_, column)), &size);
        if (!raw) throw std::runtime_error("PostgreSQL: a BYTEA value could not be read");
        std::string value(reinterpret_cast<const char*>(raw), size);
        PQfreemem(raw);
        return value;
    }

private:
    PGresult* result_;
    int row_;
};

class PostgresEngine final : public PreparedSession::Engine {
public:
    explicit PostgresEngine(Poco::Data::Session& session)
        : connection_(*Poco::AnyCast<Poco::Data::PostgreSQL::SessionHandle*>(session.getProperty("handle"))) {
        if (!connection_ || PQstatus(connection_) != CONNECTION_OK) throw std::runtime_error("PreparedSession: the PostgreSQL session is not open");
        // Names of this object only: the connection goes back to the pool, and Poco names its own
        // statements with UUIDs.
        static std::atomic<unsigned long long> objects{0};
        prefix_ = "tawasul_" + std::to_string(++objects) + "_";
    }
    ~PostgresEngine() override {
        // What this object prepared leaves with it; the connection may serve others for hours.
        if (PQstatus(connection_) != CONNECTION_OK || PQtransactionStatus(connection_) != PQTRANS_IDLE) return;
        for (const auto& [sql, name] : names_) PQclear(PQexec(connection_, ("DEALLOCATE " + name).c_str()));
    }

    std::size_t run(const std::string& sql, const SqlParam* params, std::size_t count, const PreparedSession::EachRow& each) override {
        const std::string& name = prepared(sql);
        std::vector<std::string> integers(count);
        std::vector<const char*> values(count, nullptr);
        std::vector<int> lengths, formats;  // only when a value is bytes, sent in binary (bytea as it is)
        for (std::size_t i = 0; i < count; ++i) {
            switch (params[i].kind()) {
                case SqlParam::Kind::Null: break;
                case SqlParam::Kind::Integer:
                    integers[i] = std::to_string(params[i].integer());
                    values[i] = integers[i].c_str();
                    break;
                // Text format: libpq reads a value up to its NUL, as Poco's binding did.
                case SqlParam::Kind::Text: values[i] = params[i].text().c_str(); break;
                case SqlParam::Kind::Blob:
                    if (formats.empty()) {
                        lengths.assign(count, 0);
                        formats.assign(count, 0);
                    }
                    values[i] = params[i].text().data();  // never null, even when empty: not NULL
                    lengths[i] = static_cast<int>(params[i].text().size());
                    formats[i] = 1;
                    break;
            }
        }
        std::unique_ptr<PGresult, void (*)(PGresult*)> result(
            PQexecPrepared(connection_, name.c_str(), static_cast<int>(count), values.data(), formats.empty() ? nullptr : lengths.data(),
                           formats.empty() ? nullptr : formats.data(), 0),
            PQclear);
        const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
        if (status == PGRES_TUPLES_OK) {
            const int rows = PQntuples(result.get());
            if (each)
                for (int r = 0; r < rows; ++r) each(PostgresRow(result.get(), r));
            return static_cast<std::size_t>(rows);
        }
        if (status == PGRES_COMMAND_OK) return static_cast<std::size_t>(std::strtoull(PQcmdTuples(result.get()), nullptr, 10));
        throw std::runtime_error(error(result.get(), sql));
    }

private:
    const std::string& prepared(const std::string& sql) {
        if (const auto it = names_.find(sql); it != names_.end()) return it->second;
        const std::string name = prefix_ + std::to_string(names_.size() + 1);
        // Parameter types come from where each one is used (a CAST says it where nothing else does).
        std::unique_ptr<PGresult, void (*)(PGresult*)> result(PQprepare(connection_, name.c_str(), sql.c_str(), 0, nullptr), PQclear);
        if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) throw std::runtime_error(error(result.get(), sql));
        return names_.emplace(sql, name).first->second;
    }

    std::string error(const PGresult* result, const std::string& sql) const {
        std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(connection_);
        while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
        const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
        return "PostgreSQL: " + message + (state ? " (SQLSTATE " + std::string(state) + ")" : "") + " in: " + shortened(sql);
    }

    PGconn* connection_;
    std::string prefix_;
    std::unordered_map<std::string, std::string> names_;
};

}  // namespace

PreparedTransaction::PreparedTransaction(Database& database, PreparedSession& db, Durability durability)
    : sql_(database.sql()), db_(db), durability_(durability) {
    writer_ = Database::writeTurn(database, durability_);
    // As sdk::Transaction: SQLite's synchronous pragma belongs to the connection, lowered before
    // BEGIN and restored after the end; PostgreSQL's is set for the transaction.
    const bool relaxed = durability_ == Durability::Relaxed;
    if (relaxed && !sql_.relaxBeforeBegin().empty()) db_.run(sql_.relaxBeforeBegin(), {});
    try {
        db_.run(sql_.beginWrite(), {});
        if (relaxed && !sql_.relaxAfterBegin().empty()) db_.run(sql_.relaxAfterBegin(), {});
    } catch (...) {
        restore();
        throw;
    }
}

PreparedTransaction::~PreparedTransaction() { rollback(); }

void PreparedTransaction::commit() {
    db_.run("COMMIT", {});
    open_ = false;
    restore();
    if (writer_.owns_lock()) writer_.unlock();
}

void PreparedTransaction::restore() noexcept {
    if (durability_ != Durability::Relaxed || sql_.restoreAfterRelaxed().empty()) return;
    try {
        db_.run(sql_.restoreAfterRelaxed(), {});
    } catch (...) {
        // A broken connection: its owner drops the PreparedSession after the error.
    }
}

void PreparedTransaction::rollback() noexcept {
    if (!open_) return;
    open_ = false;
    try {
        db_.run("ROLLBACK", {});
    } catch (...) {
        // The connection is broken or the transaction already ended; nothing is left to undo.
    }
    restore();
    if (writer_.owns_lock()) writer_.unlock();
}

PreparedSession::PreparedSession(Poco::Data::Session session, const SqlDialect& dialect) : session_(std::move(session)) {
    if (dialect == SqlDialect::sqlite()) engine_ = std::make_unique<SqliteEngine>(session_);
    else engine_ = std::make_unique<PostgresEngine>(session_);
}

PreparedSession::~PreparedSession() = default;

std::size_t PreparedSession::run(const std::string& sql, std::initializer_list<SqlParam> params, const EachRow& each) {
    return engine_->run(sql, params.begin(), params.size(), each);
}

std::size_t PreparedSession::run(const std::string& sql, const std::vector<SqlParam>& params, const EachRow& each) {
    return engine_->run(sql, params.data(), params.size(), each);
}

}  // namespace tawasul::sdk
