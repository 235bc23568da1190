#pragma once
// The host's services and its plugins, in the order they are built and torn down:
// database → settings → registries → plugins (started in dependency order) → workers → HTTP.
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "access/AccessGate.hpp"
#include "access/Auth.hpp"
#include "app/HostConfig.hpp"
#include "db/DatabaseLock.hpp"
#include "db/Migrator.hpp"
#include "db/PostgresEventRelay.hpp"
#include "db/SqlDatabase.hpp"
#include "http/HttpServer.hpp"
#include "http/Router.hpp"
#include "jobs/JobRunner.hpp"
#include "metrics/MetricsRegistry.hpp"
#include "plugin/LocalEventBus.hpp"
#include "plugin/PluginLoader.hpp"
#include "plugin/ServiceDirectory.hpp"
#include "secrets/SecretBox.hpp"
#include "secrets/SettingsStore.hpp"
#include "ui/AdminPages.hpp"
#include "whatsapp/Dispatcher.hpp"
#include "whatsapp/PlatformApi.hpp"

namespace tawasul::host {

class SystemClock final : public sdk::Clock {
public:
    std::int64_t nowMillis() const override;
};

class StartupError : public std::runtime_error {
public:
    explicit StartupError(const std::string& message, bool inConfiguration = false)
        : std::runtime_error(message), inConfiguration(inConfiguration) {}
    bool inConfiguration;  // the configuration names something wrong (misuse, exit 2)
};

struct PluginState {
    std::string name;
    std::string version;
    std::filesystem::path path;
    std::string status = "loaded";  // loaded, started, stopped, failed: <reason>
};

// The migration folders of this configuration: the host's, then each configured plugin's
// <plugin>/migrations. A function of the configuration alone (restore needs no Runtime for it).
std::vector<MigrationSource> migrationSources(const HostConfig& config);

class Runtime {
public:
    // Opens the database; on SQLite first takes its DatabaseLock shared, and throws StartupError
    // when a `restore` holds it.
    explicit Runtime(HostConfig config);
    ~Runtime();

    const HostConfig& config() const { return config_; }
    sdk::Database& database() { return *database_; }
    Router& router() { return router_; }
    MetricsRegistry& metrics() { return metrics_; }
    LocalEventBus& events() { return events_; }
    ServiceDirectory& services() { return services_; }
    JobRunner& jobs() { return *jobs_; }
    SettingsStore& settings();
    const sdk::Clock& clock() const { return clock_; }
    Auth& auth() { return *auth_; }
    // The admin layout and the host's pages, read from server.web_dir on first use.
    AdminUi& adminUi();
    AdminUi* adminUiIfMade();  // null before anything asked for the admin pages

    // The master key, created on first use when `createKey` (only `migrate` does that).
    void openSecrets(bool createKey);

    // Loads every configured plugin; throws StartupError naming the plugin and the reason.
    void loadPlugins();
    Migrator migrator();
    // Starts the loaded plugins in dependency order. On a failure, stops those already started and
    // throws StartupError("plugin 'x' failed to start: ...").
    void startPlugins();
    void stopPlugins() noexcept;
    std::vector<PluginState> pluginStates() const;

    // serve: host routes, workers and the HTTP server.
    void registerHostRoutes();
    void startServing();
    void stopServing() noexcept;
    std::uint16_t httpPort() const;
    bool ready(std::string& reason);

private:
    class PluginContext;
    struct ActivePlugin;

    HostConfig config_;
    SystemClock clock_;
    MetricsRegistry metrics_;
    Router router_;
    LocalEventBus events_;
    ServiceDirectory services_;
    // Before database_: taken before it opens, released after it closes.
    std::unique_ptr<DatabaseLock> databaseLock_;
    std::unique_ptr<SqlDatabase> database_;
    std::unique_ptr<SecretBox> secretBox_;
    std::unique_ptr<SettingsStore> settings_;
    std::unique_ptr<JobRunner> jobs_;
    // Made before the plugins start, so that they find it; it finds the providers when it sends.
    std::shared_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<Auth> auth_;
    std::unique_ptr<AdminUi> adminUi_;
    std::mutex adminUiMutex_;
    std::unique_ptr<AccessGate> access_;
    std::unique_ptr<PlatformApi> platformApi_;
    std::unique_ptr<HttpServer> http_;
    // On PostgreSQL: this host's events to the other hosts and theirs to this one's subscribers.
    std::unique_ptr<PostgresEventRelay> relay_;
    std::vector<std::unique_ptr<PluginLibrary>> libraries_;
    std::vector<std::unique_ptr<ActivePlugin>> active_;  // in start order
    std::vector<PluginState> states_;
    std::atomic<bool> pluginsStarted_{false};
    std::atomic<bool> migrationsCurrent_{false};
};

}  // namespace tawasul::host
