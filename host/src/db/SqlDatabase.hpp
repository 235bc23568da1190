#pragma once
// The host's Database: a Poco SessionPool over SQLite (embedded default) or PostgreSQL.
#include <memory>
#include <string>

#include <Poco/Data/SessionPool.h>

#include "tawasul/sdk/Database.hpp"

namespace tawasul::host {

struct DatabaseOptions {
    std::string url;          // "sqlite:PATH" or "postgresql://user:pass@host:port/db"
    int maxSessions = 32;      // shared by request handlers, jobs and plugins
    int reservedSessions = 2;  // kept apart for reservedSession() (the webhook event writer)
    int busyTimeoutMs = 5000;  // SQLite: how long a writer waits for the lock; both: for a free session
};

class SqlDatabase final : public sdk::Database {
public:
    explicit SqlDatabase(const DatabaseOptions& options);
    ~SqlDatabase() override;

    // Both wait up to busyTimeoutMs for a free session when every one is in use (Poco's pool
    // would throw at once), then throw Poco::Data::SessionPoolExhaustedException.
    Poco::Data::Session session() override;
    Poco::Data::Session reservedSession() override;
    const sdk::SqlDialect& sql() const override { return *sql_; }
    std::string displayUrl() const override { return displayUrl_; }

    // Parses a database URL; throws std::invalid_argument with a message fit for the user.
    struct Target {
        const sdk::SqlDialect* sql;
        std::string connector;         // Poco connector name
        std::string connectionString;  // what the connector expects
        std::string displayUrl;        // password masked
    };
    static Target parseUrl(const std::string& url);

private:
    // Reached by sdk::Transaction only (see sdk::Database).
    std::timed_mutex* writeLock() override { return sql_->singleWriter() ? &writeLock_ : nullptr; }
    std::atomic<int>* urgentWriters() override { return sql_->singleWriter() ? &urgentWriters_ : nullptr; }
    std::chrono::milliseconds writeLockTimeout() const override { return std::chrono::milliseconds(busyTimeoutMs_); }

    const sdk::SqlDialect* sql_;
    std::string displayUrl_;
    int busyTimeoutMs_ = 5000;
    std::timed_mutex writeLock_;
    std::atomic<int> urgentWriters_{0};
    std::unique_ptr<Poco::Data::SessionPool> pool_;
    std::unique_ptr<Poco::Data::SessionPool> reserved_;
};

}  // namespace tawasul::host
