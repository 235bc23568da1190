#include "db/SqlDatabase.hpp"

#include "files/PrivateFiles.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <Poco/Data/DataException.h>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/URI.h>

namespace tawasul::host {
namespace {

using Poco::Data::Keywords::now;

void registerConnectors() {
    static std::once_flag once;
    std::call_once(once, [] {
        Poco::Data::SQLite::Connector::registerConnector();
        Poco::Data::PostgreSQL::Connector::registerConnector();
    });
}

// Values in a libpq keyword/value string are quoted so that spaces and quotes survive.
std::string libpqValue(const std::string& value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    return out + "'";
}

class ConfiguredSessionPool final : public Poco::Data::SessionPool {
public:
    ConfiguredSessionPool(const SqlDatabase::Target& target, int maxSessions, int busyTimeoutMs)
        : Poco::Data::SessionPool(target.connector, target.connectionString, 1, maxSessions, 60),
          sql_(*target.sql),
          busyTimeoutMs_(busyTimeoutMs) {}

protected:
    // Runs once per new connection: connection-level settings live here.
    void customizeSession(Poco::Data::Session& session) override {
        for (const std::string& setting : sql_.connectionSetup(busyTimeoutMs_)) session << setting, now;
    }

private:
    const sdk::SqlDialect& sql_;
    int busyTimeoutMs_;
};

}  // namespace

SqlDatabase::Target SqlDatabase::parseUrl(const std::string& url) {
    if (url.rfind("sqlite:", 0) == 0) {
        const std::string path = url.substr(7);
        if (path.empty()) throw std::invalid_argument("database.url 'sqlite:' needs a file path, e.g. sqlite:var/tawasul.db");
        return {&sdk::SqlDialect::sqlite(), "SQLite", path, url};
    }
    if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
        Poco::URI uri;
        try {
            uri = Poco::URI(url);
        } catch (const Poco::Exception& error) {
            throw std::invalid_argument("database.url is not a valid URL: " + error.message());
        }
        std::string user = uri.getUserInfo(), password;
        if (const auto colon = user.find(':'); colon != std::string::npos) {
            password = user.substr(colon + 1);
            user = user.substr(0, colon);
        }
        std::string database = uri.getPath();
        if (!database.empty() && database[0] == '/') database.erase(0, 1);
        if (uri.getHost().empty() || database.empty())
            throw std::invalid_argument("database.url needs a host and a database name: postgresql://user:pass@host:5432/name");
        std::string connection = "host=" + libpqValue(uri.getHost()) + " port=" + std::to_string(uri.getPort() ? uri.getPort() : 5432) +
                                 " dbname=" + libpqValue(database);
        if (!user.empty()) connection += " user=" + libpqValue(user);
        if (!password.empty()) connection += " password=" + libpqValue(password);
        for (const auto& [key, value] : uri.getQueryParameters()) connection += " " + key + "=" + libpqValue(value);
        std::string display = url;
        if (!password.empty()) {
            const auto at = display.find('@');
            const auto colon = display.find(':', display.find("//") + 2);
            if (at != std::string::npos && colon < at) display = display.substr(0, colon + 1) + "***" + display.substr(at);
        }
        return {&sdk::SqlDialect::postgresql(), "PostgreSQL", connection, display};
    }
    throw std::invalid_argument("database.url must start with sqlite: or postgresql://, got '" + url + "'");
}

SqlDatabase::SqlDatabase(const DatabaseOptions& options) {
    registerConnectors();
    const Target target = parseUrl(options.url);
    sql_ = target.sql;
    displayUrl_ = target.displayUrl;
    busyTimeoutMs_ = options.busyTimeoutMs;
    if (target.connector == "SQLite") {
        // Opening changes no file mode: main()'s umask makes what SQLite creates 0600, and
        // `migrate` and `serve` narrow what an older version left open (narrowSqliteFiles).
        createPrivateDirectories(std::filesystem::path(target.connectionString).parent_path());
    }
    pool_ = std::make_unique<ConfiguredSessionPool>(target, options.maxSessions, options.busyTimeoutMs);
    if (options.reservedSessions > 0)
        reserved_ = std::make_unique<ConfiguredSessionPool>(target, options.reservedSessions, options.busyTimeoutMs);
}

SqlDatabase::~SqlDatabase() {
    if (reserved_) reserved_->shutdown();
    if (pool_) pool_->shutdown();
}

namespace {

// Poco's pool throws the moment every session is out, so a burst of requests turned into 500s
// while sessions were about to come back. Wait a bounded time instead; the pool has no hook for
// a returned session, hence the short sleeps.
Poco::Data::Session getWithin(Poco::Data::SessionPool& pool, int timeoutMs) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
        try {
            return pool.get();
        } catch (const Poco::Data::SessionPoolExhaustedException&) {
            if (std::chrono::steady_clock::now() + pause > deadline) throw;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
}

}  // namespace

Poco::Data::Session SqlDatabase::session() { return getWithin(*pool_, busyTimeoutMs_); }

Poco::Data::Session SqlDatabase::reservedSession() { return getWithin(reserved_ ? *reserved_ : *pool_, busyTimeoutMs_); }

}  // namespace tawasul::host
