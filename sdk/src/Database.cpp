#include "tawasul/sdk/Database.hpp"

#include <stdexcept>

#include <Poco/Data/Session.h>

namespace tawasul::sdk {

using Poco::Data::Keywords::now;

Transaction::Transaction(Database& database, Poco::Data::Session& session, Durability durability)
    : dialect_(database.dialect()), session_(session), durability_(durability) {
    if (std::timed_mutex* lock = database.writeLock()) {
        writer_ = std::unique_lock<std::timed_mutex>(*lock, std::defer_lock);
        if (!writer_.try_lock_for(database.writeLockTimeout()))
            throw std::runtime_error("database is busy: no write turn within " +
                                     std::to_string(database.writeLockTimeout().count()) + " ms");
    }
    // Pooled SQLite connections run with synchronous=FULL; a relaxed transaction lowers it for
    // its own commit and restores it after, since the pragma belongs to the connection.
    if (durability_ == Durability::Relaxed && dialect_ == Dialect::SQLite) session_ << "PRAGMA synchronous = NORMAL", now;
    try {
        // Issued as statements rather than Session::begin(), whose SQLite form is a deferred BEGIN.
        session_ << (dialect_ == Dialect::SQLite ? "BEGIN IMMEDIATE" : "BEGIN"), now;
        if (durability_ == Durability::Relaxed && dialect_ == Dialect::PostgreSQL)
            session_ << "SET LOCAL synchronous_commit = off", now;
    } catch (...) {
        restore();
        throw;
    }
}

Transaction::~Transaction() { rollback(); }

void Transaction::commit() {
    session_ << "COMMIT", now;
    open_ = false;
    restore();
    if (writer_.owns_lock()) writer_.unlock();
}

void Transaction::restore() noexcept {
    if (durability_ != Durability::Relaxed || dialect_ != Dialect::SQLite) return;
    try {
        session_ << "PRAGMA synchronous = FULL", now;
    } catch (...) {
        // A broken connection is discarded by the pool; nothing else runs on it.
    }
}

void Transaction::rollback() noexcept {
    if (!open_) return;
    open_ = false;
    try {
        session_ << "ROLLBACK", now;
    } catch (...) {
        // The connection is broken or the transaction already ended; nothing is left to undo.
    }
    restore();
    if (writer_.owns_lock()) writer_.unlock();
}

}  // namespace tawasul::sdk
