#pragma once
// The one database of the host, SQLite or PostgreSQL. Sessions come from a pool; write SQL with
// `$1, $2, ...` placeholders (both engines accept them) and bind every value, in order. SQLite takes
// `$N` as a name and numbers parameters by first appearance, so `$N` must first appear in numeric
// order in the text (a `$2` may come back later; a `$3` before the first `$2` may not). Where the
// engines differ, take the piece from `sql()` (SqlDialect.hpp) instead of branching on the engine.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <limits>
#include <mutex>
#include <string>

#include <Poco/Data/Session.h>

#include "tawasul/sdk/Api.hpp"
#include "tawasul/sdk/SqlDialect.hpp"

namespace tawasul::sdk {

class Transaction;
class PreparedTransaction;

// How durable a commit must be. Full: when commit() returns, the data is on disk (SQLite
// synchronous=FULL, PostgreSQL synchronous_commit=on) — what a webhook's 200 promises. Relaxed: a
// crash of the process loses nothing, a crash of the machine may lose the last commits (SQLite
// synchronous=NORMAL in WAL mode, PostgreSQL synchronous_commit=off) — for work that can be done
// again from something already durable, such as processing a stored event.
enum class Durability { Full, Relaxed };

class TAWASUL_SDK_API Database {
public:
    virtual ~Database();
    virtual Poco::Data::Session session() = 0;
    // A session from a few kept apart for the writer that stores what outside systems hand over
    // (the webhook event writer): request handlers, sign-in floods included, cannot drain them.
    // Take it only for a short write, never while waiting for something else.
    virtual Poco::Data::Session reservedSession() { return session(); }
    // What differs between the engines (placeholders for long statements, ILIKE, SKIP LOCKED, ...).
    virtual const SqlDialect& sql() const = 0;
    // The URL with any password replaced by "***", for logs and status lines.
    virtual std::string displayUrl() const = 0;
    // Whether a write someone waits on (Durability::Full: a request's, a webhook's commit) took
    // the single writer's turn within `window`. Background writers (job batches) keep their share
    // of the one writer small while requests write, and take more of it when none do. Always
    // false where the engine queues writers itself (PostgreSQL).
    bool requestsWroteWithin(std::chrono::milliseconds window) const;

private:
    // The SQLite writer queue, for Transaction only: a plugin writes through a Transaction, which
    // takes its turn here, and never holds the lock itself.
    friend class Transaction;
    friend class PreparedTransaction;
    // The write turn of a transaction of this durability (an empty lock where the engine queues
    // writers itself); throws when it does not come within writeLockTimeout().
    static std::unique_lock<std::timed_mutex> writeTurn(Database& database, Durability durability);
    // SQLite has one writer at a time. Writers of this process queue on this lock instead of
    // SQLite's busy handler, which sleeps and retries and so turns contention into long stalls.
    // nullptr where the engine queues writers itself (PostgreSQL).
    virtual std::timed_mutex* writeLock() { return nullptr; }
    // How many Full-durability writers wait for writeLock(): relaxed writers (background work) let
    // them go first, so that a request waiting on its commit is not queued behind batch jobs.
    virtual std::atomic<int>* urgentWriters() { return nullptr; }
    // How long a writer waits for writeLock() before giving up.
    virtual std::chrono::milliseconds writeLockTimeout() const { return std::chrono::milliseconds(5000); }
    // When a Full-durability writer last took writeLock() (steady clock ticks).
    std::atomic<std::chrono::steady_clock::rep> lastRequestWrite_{std::numeric_limits<std::chrono::steady_clock::rep>::min()};
};


// A write transaction that rolls back unless committed. On SQLite it takes the write lock at BEGIN
// (BEGIN IMMEDIATE), so two writers never deadlock upgrading a read lock; on PostgreSQL it is a
// plain BEGIN.
class TAWASUL_SDK_API Transaction {
public:
    Transaction(Database& database, Poco::Data::Session& session, Durability durability = Durability::Full);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();
    void commit();
    void rollback() noexcept;

private:
    void restore() noexcept;

    const SqlDialect& sql_;
    Poco::Data::Session& session_;
    Durability durability_;
    std::unique_lock<std::timed_mutex> writer_;
    bool open_ = true;
};

}  // namespace tawasul::sdk
