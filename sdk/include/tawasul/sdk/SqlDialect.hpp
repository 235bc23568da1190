#pragma once
// What differs between the two engines, in one value: `database.sql()` hands it out, so plugins and
// the host write one statement with a few pieces from here instead of `if (postgres)` branches.
// Everything else is common SQL: `$1, $2, ...` placeholders, `ON CONFLICT ... DO UPDATE` upserts,
// `RETURNING`, `LIMIT`.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

class TAWASUL_SDK_API SqlDialect {
public:
    static const SqlDialect& sqlite();
    static const SqlDialect& postgresql();

    // "sqlite" or "postgresql": the suffix of a dialect-specific migration file, and for messages.
    const std::string& name() const { return name_; }
    bool operator==(const SqlDialect& other) const { return this == &other; }
    bool operator!=(const SqlDialect& other) const { return this != &other; }

    // ---- statements with many parameters -------------------------------------------------------
    // The n-th placeholder (from 1) of a statement whose parameters are each bound once, in order:
    // SQLite's plain `?`, which it numbers by position; PostgreSQL's `$n`. SQLite looks each `$n` up
    // by name in a list, which makes a statement of hundreds of them cost more to parse than to run.
    std::string placeholder(std::size_t n) const;
    // "first, first+1, ..., first+count-1" as placeholders, comma-separated.
    std::string placeholders(std::size_t first, std::size_t count) const;

    // ---- pieces of a query ---------------------------------------------------------------------
    // "LIKE" that ignores case: PostgreSQL's ILIKE; SQLite's LIKE already does (for ASCII).
    const std::string& caseInsensitiveLike() const { return caseInsensitiveLike_; }
    // Appended to a SELECT inside a write transaction to lock its rows until commit. SQLite has
    // one writer at a time (BEGIN IMMEDIATE), so there it is "".
    const std::string& forUpdate() const { return forUpdate_; }
    // forUpdate() that skips rows another transaction holds: how N hosts claim work without
    // waiting on each other.
    const std::string& skipLocked() const { return skipLocked_; }
    // The rows of a JsonRows parameter as a table for FROM, named `alias`: each row's values are
    // `alias.value ->> 0`, `->> 1`, ... (wrap each in CAST(... AS type): PostgreSQL reads them as
    // text), in the order given by `alias.key`. SQLite's json_each, PostgreSQL's
    // jsonb_array_elements.
    std::string jsonRows(const std::string& parameter, const std::string& alias) const;
    // " IN (subquery)" for a one-column subquery (the values of jsonRows(), a claim's LIMIT), so
    // written that the rows are looked up through the column's index: PostgreSQL's
    // " = ANY(ARRAY(subquery))". Its planner guesses a hundred rows for jsonRows() and a third of
    // the table for a LIMIT $n, and for a table of up to some tens of thousands of rows (the job
    // queue) then scans the whole table for each statement: 3 ms a statement at 10,000 jobs.
    std::string inSubquery(const std::string& subquery) const;
    // The size in bytes of a TEXT or BLOB expression (SQLite's length() counts characters of TEXT).
    std::string byteLength(const std::string& expression) const;

    // ---- questions about the database ----------------------------------------------------------
    bool tableExists(Poco::Data::Session& session, const std::string& table) const;
    // The engine's query plan of `sql`, one line per row (for tests that check an index is used).
    // `bind` binds the statement's parameters, as for running it.
    std::vector<std::string> queryPlan(Poco::Data::Session& session, const std::string& sql,
                                       const std::function<void(Poco::Data::Statement&)>& bind) const;

    // ---- schema (the values of the migration tokens, see docs/plugin-guide.md) ------------------
    // {{ID_PRIMARY_KEY}}: an id column the database numbers itself.
    const std::string& idPrimaryKey() const { return idPrimaryKey_; }
    // {{NOW_MS}}: the current time in milliseconds since the epoch, as a BIGINT expression.
    const std::string& nowMillis() const { return nowMillis_; }
    // {{BLOB}}: the type of a column of bytes.
    const std::string& blobType() const { return blobType_; }
    // An empty byte string as a literal. Poco binds an empty BLOB as NULL, so a NOT NULL byte column
    // written from a possibly empty value through a Poco session says COALESCE($n, emptyBlob()).
    // On a PreparedSession bind SqlParam::blob() instead: it keeps an empty value empty.
    const std::string& emptyBlob() const { return emptyBlob_; }

    // ---- for the host's database and Transaction -----------------------------------------------
    // True where the engine takes one writer at a time (SQLite): the host then queues its writers
    // on a lock of its own (see Transaction).
    bool singleWriter() const { return singleWriter_; }
    // Starts a write transaction: SQLite's BEGIN IMMEDIATE takes the write lock at once, so two
    // writers never deadlock upgrading a read lock.
    const std::string& beginWrite() const { return beginWrite_; }
    // A relaxed commit (Durability::Relaxed): what runs before BEGIN, right after it, and after the
    // transaction ends ("" = nothing). SQLite's synchronous pragma belongs to the connection, so it
    // is lowered before and restored after; PostgreSQL sets it for the transaction only.
    const std::string& relaxBeforeBegin() const { return relaxBeforeBegin_; }
    const std::string& relaxAfterBegin() const { return relaxAfterBegin_; }
    const std::string& restoreAfterRelaxed() const { return restoreAfterRelaxed_; }
    // Run once on every new connection ("" entries skipped): SQLite's busy timeout, WAL, durability.
    std::vector<std::string> connectionSetup(int busyTimeoutMs) const;
    // Serialise a section across every process sharing the database (PostgreSQL's advisory lock);
    // "" on SQLite, whose BEGIN IMMEDIATE already serialises writers.
    std::string lockAcrossHosts(long long key) const;
    std::string unlockAcrossHosts(long long key) const;

private:
    enum class Engine { SQLite, PostgreSQL };
    explicit SqlDialect(Engine engine);

    Engine engine_;
    std::string name_, caseInsensitiveLike_, forUpdate_, skipLocked_, idPrimaryKey_, nowMillis_, blobType_, emptyBlob_;
    bool singleWriter_;
    std::string beginWrite_, relaxBeforeBegin_, relaxAfterBegin_, restoreAfterRelaxed_;
};

}  // namespace tawasul::sdk
