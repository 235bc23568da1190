#include "tawasul/sdk/Database.hpp"

#include <limits>
#include <stdexcept>
#include <thread>

#include <Poco/Data/Session.h>

namespace tawasul::sdk {

using Poco::Data::Keywords::now;

std::unique_lock<std::timed_mutex> Database::writeTurn(Database& database, Durability durability) {
    std::timed_mutex* lock = database.writeLock();
    if (!lock) return {};
    const auto timeout = database.writeLockTimeout();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::atomic<int>* urgent = database.urgentWriters();
    if (urgent && durability == Durability::Full) urgent->fetch_add(1);
    // Background writers step aside while an urgent one waits (bounded by the same timeout).
    while (urgent && durability == Durability::Relaxed && urgent->load() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    std::unique_lock<std::timed_mutex> writer(*lock, std::defer_lock);
    const bool acquired = writer.try_lock_until(deadline);
    if (urgent && durability == Durability::Full) urgent->fetch_sub(1);
    if (!acquired) throw std::runtime_error("database is busy: no write turn within " + std::to_string(timeout.count()) + " ms");
    if (durability == Durability::Full)
        database.lastRequestWrite_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    return writer;
}

bool Database::requestsWroteWithin(std::chrono::milliseconds window) const {
    const auto last = lastRequestWrite_.load(std::memory_order_relaxed);
    if (last == std::numeric_limits<std::chrono::steady_clock::rep>::min()) return false;
    return std::chrono::steady_clock::now().time_since_epoch() - std::chrono::steady_clock::duration(last) < window;
}

Transaction::Transaction(Database& database, Poco::Data::Session& session, Durability durability)
    : sql_(database.sql()), session_(session), durability_(durability) {
    writer_ = Database::writeTurn(database, durability_);
    // Pooled SQLite connections run with synchronous=FULL; a relaxed transaction lowers it for
    // its own commit and restores it after, since the pragma belongs to the connection.
    const bool relaxed = durability_ == Durability::Relaxed;
    if (relaxed && !sql_.relaxBeforeBegin().empty()) session_ << sql_.relaxBeforeBegin(), now;
    try {
        // On SQLite a statement rather than Session::begin(), whose SQLite form is a deferred BEGIN.
        // On PostgreSQL Session::begin(): one round trip (a plain query), where Poco's connector
        // makes a statement four (prepare, describe, execute, deallocate); and the connector then
        // knows a transaction is open.
        if (sql_.singleWriter())
            session_ << sql_.beginWrite(), now;
        else
            session_.begin();
        if (relaxed && !sql_.relaxAfterBegin().empty()) session_ << sql_.relaxAfterBegin(), now;
    } catch (...) {
        restore();
        throw;
    }
}

Transaction::~Transaction() { rollback(); }

void Transaction::commit() {
    if (sql_.singleWriter())
        session_ << "COMMIT", now;
    else
        session_.commit();
    open_ = false;
    restore();
    if (writer_.owns_lock()) writer_.unlock();
}

void Transaction::restore() noexcept {
    if (durability_ != Durability::Relaxed || sql_.restoreAfterRelaxed().empty()) return;
    try {
        session_ << sql_.restoreAfterRelaxed(), now;
    } catch (...) {
        // A broken connection is discarded by the pool; nothing else runs on it.
    }
}

void Transaction::rollback() noexcept {
    if (!open_) return;
    open_ = false;
    try {
        if (sql_.singleWriter())
            session_ << "ROLLBACK", now;
        else
            session_.rollback();
    } catch (...) {
        // The connection is broken or the transaction already ended; nothing is left to undo.
    }
    restore();
    if (writer_.owns_lock()) writer_.unlock();
}

}  // namespace tawasul::sdk
