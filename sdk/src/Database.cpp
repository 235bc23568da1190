#include "tawasul/sdk/Database.hpp"

#include <Poco/Data/Session.h>

namespace tawasul::sdk {

using Poco::Data::Keywords::now;

Transaction::Transaction(Dialect dialect, Poco::Data::Session& session) : session_(session) {
    // Issued as statements rather than Session::begin(), whose SQLite form is a deferred BEGIN.
    session_ << (dialect == Dialect::SQLite ? "BEGIN IMMEDIATE" : "BEGIN"), now;
}

Transaction::~Transaction() { rollback(); }

void Transaction::commit() {
    session_ << "COMMIT", now;
    open_ = false;
}

void Transaction::rollback() noexcept {
    if (!open_) return;
    open_ = false;
    try {
        session_ << "ROLLBACK", now;
    } catch (...) {
        // The connection is broken or the transaction already ended; nothing is left to undo.
    }
}

}  // namespace tawasul::sdk
