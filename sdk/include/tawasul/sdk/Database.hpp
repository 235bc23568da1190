#pragma once
// The one database of the host, SQLite or PostgreSQL. Sessions come from a pool; write SQL with
// `$1, $2, ...` placeholders (both engines accept them) and bind every value.
#include <string>

#include <Poco/Data/Session.h>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

enum class Dialect { SQLite, PostgreSQL };

class TAWASUL_SDK_API Database {
public:
    virtual ~Database();
    virtual Poco::Data::Session session() = 0;
    virtual Dialect dialect() const = 0;
    // The URL with any password replaced by "***", for logs and status lines.
    virtual std::string displayUrl() const = 0;
};

// A write transaction that rolls back unless committed. On SQLite it takes the write lock at BEGIN
// (BEGIN IMMEDIATE), so two writers never deadlock upgrading a read lock; on PostgreSQL it is a
// plain BEGIN.
class TAWASUL_SDK_API Transaction {
public:
    Transaction(Dialect dialect, Poco::Data::Session& session);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();
    void commit();
    void rollback() noexcept;

private:
    Poco::Data::Session& session_;
    bool open_ = true;
};

}  // namespace tawasul::sdk
