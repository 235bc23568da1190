#include "app/Runtime.hpp"

#include <chrono>
#include <sstream>

#include <Poco/Environment.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>
#include <Poco/Process.h>

#include "files/PrivateFiles.hpp"
#include "tawasul/sdk/Errors.hpp"
#include "tawasul/sdk/EveryHostEvents.hpp"
#include "tawasul/sdk/HostContext.hpp"

namespace tawasul::host {

using namespace Poco::Data::Keywords;

std::int64_t SystemClock::nowMillis() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// sdk::EveryHostEvents over the host's bus: subscriptions that also hear the other hosts' events.
class EveryHostSubscriptions final : public sdk::EveryHostEvents {
public:
    explicit EveryHostSubscriptions(LocalEventBus& events) : events_(events) {}
    std::uint64_t subscribe(const std::string& owner, const std::string& topic, sdk::EventHandler handler) override {
        return events_.subscribe(owner, topic, std::move(handler), true);
    }

private:
    LocalEventBus& events_;
};

// What one plugin sees of the host. Registrations go through here so they carry the plugin's name.
class Runtime::PluginContext final : public sdk::HostContext {
public:
    PluginContext(Runtime& runtime, const PluginEntry& entry, const PluginLibrary& library)
        : runtime_(runtime), name_(entry.name), config_(entry.config), directory_(library.directory),
          logger_(Poco::Logger::get("plugin." + entry.name)), routes_(*this), events_(*this), jobs_(*this), services_(*this) {}

    const std::string& pluginName() const override { return name_; }
    const sdk::ConfigNode& config() const override { return config_; }
    Poco::Logger& logger() override { return logger_; }
    std::filesystem::path pluginDirectory() const override { return directory_; }
    sdk::Database& database() override { return runtime_.database(); }
    sdk::RouteRegistry& routes() override { return routes_; }
    sdk::EventBus& events() override { return events_; }
    sdk::JobQueue& jobs() override { return jobs_; }
    sdk::ServiceRegistry& services() override { return services_; }
    sdk::Settings& settings() override { return runtime_.settings(); }
    sdk::Metrics& metrics() override { return runtime_.metrics(); }
    const sdk::Clock& clock() const override { return runtime_.clock(); }
    std::string publicUrl() const override {
        std::string url = runtime_.config().server.publicUrl;
        while (!url.empty() && url.back() == '/') url.pop_back();
        return url;
    }
    const sdk::Translator& translator() const override { return catalog_; }
    sdk::PageRenderer& pages() override {
        std::lock_guard lock(pagesMutex_);
        if (!pages_) pages_ = std::make_unique<PluginPages>(runtime_.adminUi(), catalog_, templates_);
        return *pages_;
    }
    // The plugin's lang/ and templates/, read before its start(): a broken file stops the start.
    void loadPages() {
        catalog_ = Catalog::load(directory_ / "lang", name_);
        if (catalog_.mustacheData("en").is_object() && catalog_.mustacheData("en").get("host"))
            throw sdk::ConfigError((directory_ / "lang" / "en.yaml").string() + ":1:1: the top-level key 'host' is reserved for the layout's strings");
        for (const auto& problem : catalog_.problems()) logger_.warning("catalog: " + problem);
        templates_ = TemplateSet::load(directory_ / "templates");
    }

    void removeRegistrations() {
        runtime_.router().removeOwner(name_);
        runtime_.events().removeOwner(name_);
        if (runtime_.jobs_) runtime_.jobs().removeOwner(name_);
        runtime_.services().removeOwner(name_);
    }

private:
    struct Routes final : sdk::RouteRegistry {
        explicit Routes(PluginContext& c) : c(c) {}
        void add(const std::string& method, const std::string& pattern, sdk::HttpHandler handler,
                 sdk::RouteOptions options) override {
            c.runtime_.router().add(c.name_, method, pattern, std::move(handler), options);
        }
        void addAsync(const std::string& method, const std::string& pattern, sdk::AsyncHandler handler,
                      sdk::RouteOptions options) override {
            c.runtime_.router().addAsync(c.name_, method, pattern, std::move(handler), options);
        }
        void addStream(const std::string& pattern, sdk::StreamHandler handler, sdk::RouteOptions options) override {
            c.runtime_.router().addStream(c.name_, pattern, std::move(handler), options);
        }
        PluginContext& c;
    };
    struct Events final : sdk::EventBus {
        explicit Events(PluginContext& c) : c(c) {}
        std::uint64_t subscribe(const std::string& topic, sdk::EventHandler handler) override {
            return c.runtime_.events().subscribe(c.name_, topic, std::move(handler));
        }
        void unsubscribe(std::uint64_t id) override { c.runtime_.events().unsubscribe(id); }
        void publish(const sdk::Event& event) override { c.runtime_.events().publish(event); }
        PluginContext& c;
    };
    struct Jobs final : sdk::JobQueue {
        explicit Jobs(PluginContext& c) : c(c) {}
        void handle(const std::string& type, sdk::JobHandler handler) override {
            c.runtime_.jobs().handle(c.name_, type, std::move(handler));
        }
        void handleBatch(const std::string& type, std::size_t maxBatch, sdk::BatchJobHandler handler) override {
            c.runtime_.jobs().handleBatch(c.name_, type, maxBatch, std::move(handler));
        }
        std::int64_t enqueue(Poco::Data::Session& session, const std::string& type, const std::string& payload,
                             const sdk::EnqueueOptions& options) override {
            return c.runtime_.jobs().enqueue(session, type, payload, options);
        }
        void enqueueAll(Poco::Data::Session& session, const std::vector<sdk::NewJob>& jobs) override {
            c.runtime_.jobs().enqueueAll(session, jobs);
        }
        void enqueueAll(sdk::PreparedSession& session, const std::vector<sdk::NewJob>& jobs) override {
            c.runtime_.jobs().enqueueAll(session, jobs);
        }
        void wake() override { c.runtime_.jobs().wake(); }
        PluginContext& c;
    };
    struct Services final : sdk::ServiceRegistry {
        explicit Services(PluginContext& c) : c(c) {}
        void publishErased(const char* type, const std::string& name, std::shared_ptr<void> service) override {
            c.runtime_.services().publish(c.name_, type, name, std::move(service));
        }
        std::shared_ptr<void> findErased(const char* type, const std::string& name) const override {
            return c.runtime_.services().find(type, name);
        }
        std::vector<std::string> namesErased(const char* type) const override { return c.runtime_.services().names(type); }
        PluginContext& c;
    };

    Runtime& runtime_;
    std::string name_;
    sdk::ConfigNode config_;
    std::filesystem::path directory_;
    Poco::Logger& logger_;
    Routes routes_;
    Events events_;
    Jobs jobs_;
    Services services_;
    Catalog catalog_;
    TemplateSet templates_;
    std::mutex pagesMutex_;
    std::unique_ptr<PluginPages> pages_;
};

// A started plugin: its object, made and destroyed by its own library, and its context.
struct Runtime::ActivePlugin {
    PluginLibrary* library = nullptr;
    std::unique_ptr<PluginContext> context;
    sdk::Plugin* instance = nullptr;
    ~ActivePlugin() {
        if (instance) library->descriptor->destroy(instance);
    }
};

Runtime::Runtime(HostConfig config) : config_(std::move(config)) {
    DatabaseOptions options;
    options.url = config_.database.url;
    options.maxSessions = config_.database.maxSessions;
    options.busyTimeoutMs = config_.database.busyTimeoutMs;
    try {
        // Every command and host that opens the embedded database holds its lock, so that
        // `restore` never renames the file under one of them.
        if (const SqlDatabase::Target target = SqlDatabase::parseUrl(options.url); target.connector == "SQLite") {
            const std::filesystem::path file = target.connectionString;
            createPrivateDirectories(file.parent_path());
            databaseLock_ = std::make_unique<DatabaseLock>(file, DatabaseLock::Mode::Shared);
            if (!databaseLock_->held())
                throw StartupError("a restore is replacing " + file.string() + "; run this again when it is done");
        }
        database_ = std::make_unique<SqlDatabase>(options);
    } catch (const std::invalid_argument& error) {
        config_.root.child("database").child("url").fail(error.what());
    }
    JobRunnerOptions jobOptions;
    jobOptions.threads = config_.workers.threads;
    jobOptions.leaseSeconds = config_.workers.leaseSeconds;
    jobOptions.maxAttempts = config_.workers.maxAttempts;
    jobOptions.workerId = Poco::Environment::nodeName() + ":" + std::to_string(Poco::Process::id());
    jobs_ = std::make_unique<JobRunner>(*database_, clock_, metrics_, jobOptions);
    AuthOptions authOptions = config_.auth;
    authOptions.secureCookie = config_.server.publicUrl.rfind("https://", 0) == 0;
    auth_ = std::make_unique<Auth>(*database_, clock_, authOptions, &metrics_);
}

AdminUi* Runtime::adminUiIfMade() {
    std::lock_guard lock(adminUiMutex_);
    return adminUi_.get();
}

AdminUi& Runtime::adminUi() {
    std::lock_guard lock(adminUiMutex_);
    if (!adminUi_) {
        try {
            adminUi_ = std::make_unique<AdminUi>(config_.server.webDir, router_);
        } catch (const sdk::ConfigError& error) {
            throw StartupError(error.what(), true);
        }
        for (const auto& library : libraries_) adminUi_->addPublicDir(library->name, library->directory / "public");
    }
    return *adminUi_;
}

Runtime::~Runtime() {
    stopServing();
    stopPlugins();
    jobs_.reset();
    active_.clear();
    libraries_.clear();  // libraries last: no object made by a plugin is left
}

SettingsStore& Runtime::settings() {
    if (!settings_) throw StartupError("settings are not available before the master key is opened");
    return *settings_;
}

void Runtime::openSecrets(bool createKey) {
    try {
        secretBox_ = std::make_unique<SecretBox>(SecretBox::fromEnvironmentOrFile(config_.secrets.keyFile, createKey));
    } catch (const SecretError& error) {
        throw StartupError(error.what());
    }
    settings_ = std::make_unique<SettingsStore>(*database_, *secretBox_, clock_);
}

void Runtime::loadPlugins() {
    for (const PluginEntry& entry : config_.plugins) {
        try {
            libraries_.push_back(loadPluginLibrary(config_.pluginDir, entry.name));
        } catch (const PluginLoadError& error) {
            throw StartupError(entry.where.where() + ": " + error.what(), true);
        }
        const auto& library = *libraries_.back();
        states_.push_back({entry.name, library.descriptor->version ? library.descriptor->version : "", library.path, "loaded"});
        // The plugin's own keys, read by the reader its start() uses, before any plugin starts: a
        // wrong key is refused by `config check` as by `serve`, at its place in the file (exit 2).
        if (library.checkConfig) {
            try {
                library.checkConfig(entry.config);
            } catch (const sdk::ConfigError& error) {
                throw StartupError(error.what(), true);
            } catch (const std::exception& error) {
                throw StartupError(entry.where.where() + ": plugin '" + entry.name + "': its configuration reader failed: " +
                                       sdk::errorText(error),
                                   true);
            } catch (...) {
                throw StartupError(entry.where.where() + ": plugin '" + entry.name + "': its configuration reader failed with an "
                                   "unknown exception", true);
            }
        }
    }
    try {
        (void)startOrder(libraries_);
    } catch (const PluginLoadError& error) {
        throw StartupError(config_.root.child("plugins").child("load").where() + ": " + error.what(), true);
    }
}

std::vector<MigrationSource> migrationSources(const HostConfig& config) {
    std::vector<MigrationSource> sources{{"host", config.database.migrationsDir}};
    for (const PluginEntry& entry : config.plugins)
        sources.push_back({entry.name, pluginLibraryPath(config.pluginDir, entry.name).parent_path() / "migrations"});
    return sources;
}

Migrator Runtime::migrator() { return Migrator(*database_, migrationSources(config_)); }

void Runtime::startPlugins() {
    if (!dispatcher_) {
        dispatcher_ = std::make_shared<Dispatcher>(*database_, *jobs_, events_, services_, settings(), clock_, metrics_,
                                                   config_.dispatchChain);
        dispatcher_->attach();
        services_.publish("host", typeid(sdk::MessageDispatcher).name(), sdk::MessageDispatcher::kServiceName,
                          std::static_pointer_cast<void>(std::static_pointer_cast<sdk::MessageDispatcher>(dispatcher_)));
        services_.publish("host", typeid(sdk::EveryHostEvents).name(), sdk::EveryHostEvents::kServiceName,
                          std::static_pointer_cast<void>(std::shared_ptr<sdk::EveryHostEvents>(std::make_shared<EveryHostSubscriptions>(events_))));
    }
    const auto order = startOrder(libraries_);
    for (std::size_t index : order) {
        PluginLibrary& library = *libraries_[index];
        const PluginEntry& entry = config_.plugins[index];
        auto active = std::make_unique<ActivePlugin>();
        active->library = &library;
        active->context = std::make_unique<PluginContext>(*this, entry, library);
        try {
            active->context->loadPages();
            active->instance = library.descriptor->create();
            if (!active->instance) throw std::runtime_error("create() returned no plugin");
            active->instance->start(*active->context);
        } catch (const std::exception& error) {
            states_[index].status = "failed: " + sdk::errorText(error);
            // stop() runs after a failed start too, so a plugin can end what it began (threads).
            if (active->instance) active->instance->stop();
            active->context->removeRegistrations();
            active.reset();
            stopPlugins();
            throw StartupError("plugin '" + library.name + "' failed to start: " + sdk::errorText(error));
        } catch (...) {
            states_[index].status = "failed: unknown exception";
            if (active->instance) active->instance->stop();
            active->context->removeRegistrations();
            active.reset();
            stopPlugins();
            throw StartupError("plugin '" + library.name + "' failed to start with an unknown exception");
        }
        states_[index].status = "started";
        Poco::Logger::get("host").information("started plugin " + library.name + " " + states_[index].version);
        active_.push_back(std::move(active));
    }
    pluginsStarted_ = true;
    for (const std::string& name : config_.dispatchChain)
        if (!services_.find(typeid(sdk::MessageProvider).name(), name))
            Poco::Logger::get("host").warning("dispatch.chain names '" + name + "', which publishes no MessageProvider: "
                                              "messages pass it by");
}

void Runtime::stopPlugins() noexcept {
    pluginsStarted_ = false;
    while (!active_.empty()) {
        auto& active = active_.back();
        active->instance->stop();
        active->context->removeRegistrations();
        for (auto& state : states_)
            if (state.name == active->library->name) state.status = "stopped";
        active_.pop_back();  // destroys the plugin object through its own library
    }
}

std::vector<PluginState> Runtime::pluginStates() const { return states_; }

void Runtime::registerHostRoutes() {
    platformApi_ = std::make_unique<PlatformApi>(*database_, services_, *jobs_, events_, clock_);
    platformApi_->registerWith(router_);
    const auto plain = sdk::RouteOptions::open(sdk::RouteStyle::Plain);
    router_.add("host", "GET", "/healthz", [](const sdk::HttpRequest&, sdk::HttpResponse& response) { response.text(200, "ok\n"); },
                plain);
    router_.add("host", "GET", "/readyz", [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        std::string reason;
        const bool ok = ready(reason);
        Poco::JSON::Object body;
        body.set("ready", ok);
        if (!ok) body.set("reason", reason);
        Poco::JSON::Array plugins;
        for (const auto& state : pluginStates()) {
            Poco::JSON::Object plugin;
            plugin.set("name", state.name);
            plugin.set("version", state.version);
            plugin.set("status", state.status);
            plugins.add(plugin);
        }
        body.set("plugins", plugins);
        std::ostringstream text;
        body.stringify(text);
        response.json(ok ? 200 : 503, text.str() + "\n");
    }, sdk::RouteOptions::open(sdk::RouteStyle::Api));
    router_.add("host", "GET", "/metrics", [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const auto& allow = config_.metrics.allow;
        if (std::find(allow.begin(), allow.end(), request.remoteAddress) == allow.end()) {
            response.text(403, "metrics are not available from " + request.remoteAddress + "\n");
            return;
        }
        response.text(200, metrics_.render());
        response.contentType = "text/plain; version=0.0.4; charset=utf-8";
    }, plain);
    registerAdminRoutes(router_, *auth_, adminUi());
}

bool Runtime::ready(std::string& reason) {
    if (!pluginsStarted_) {
        reason = "plugins are not started";
        return false;
    }
    try {
        Poco::Data::Session session = database_->session();
        int one = 0;
        session << "SELECT 1", into(one), now;
        if (relay_ && !relay_->listening()) {
            reason = "not yet listening for the other hosts' events";
            return false;
        }
        if (!migrationsCurrent_) {
            // Checked until it first succeeds: migrations are applied by `migrate`, not while serving.
            const std::size_t pending = migrator().pendingCount();
            if (pending > 0) {
                reason = std::to_string(pending) + " migration(s) pending: run `tawasul migrate`";
                return false;
            }
            migrationsCurrent_ = true;
        }
    } catch (const std::exception& error) {
        reason = std::string("database unreachable: ") + error.what();
        return false;
    }
    return true;
}

void Runtime::startServing() {
    if (database_->sql() == sdk::SqlDialect::postgresql()) {
        // Before the workers: what they publish reaches the other hosts from the first job.
        relay_ = std::make_unique<PostgresEventRelay>(SqlDatabase::parseUrl(config_.database.url).connectionString,
                                                      [this](const sdk::Event& event) { events_.deliverFromPeer(event); });
        relay_->start();
        PostgresEventRelay* relay = relay_.get();
        events_.setRelay([relay](const sdk::Event& event) { relay->send(event); });
    }
    jobs_->start();
    const auto& server = config_.server;
    HttpServerOptions options;
    options.listeners = {HttpListener{server.host, server.port}};
    for (const auto& extra : server.listeners) options.listeners.push_back(HttpListener{extra.host, extra.port});
    options.threads = server.threads;
    options.ioThreads = server.ioThreads;
    options.maxQueued = server.maxQueued;
    options.maxBodyBytes = server.maxBodyBytes;
    options.maxHeaderBytes = static_cast<std::size_t>(server.maxHeaderBytes);
    options.headTimeout = std::chrono::seconds(server.headTimeoutSeconds);
    options.bodyTimeout = std::chrono::seconds(server.bodyTimeoutSeconds);
    options.keepAlive = std::chrono::seconds(server.keepAliveSeconds);
    options.maxConnections = static_cast<std::size_t>(server.maxConnections);
    options.maxConnectionsPerAddress = static_cast<std::size_t>(server.maxConnectionsPerAddress);
    options.streamBufferBytes = static_cast<std::size_t>(server.streamBufferBytes);
    options.trustedProxies = TrustedProxies(server.trustedProxies);
    access_ = std::make_unique<AccessGate>(*database_, clock_, auth_.get());
    if (AdminUi* ui = adminUiIfMade()) {
        // A signed-in user refused a page (403) or sent to none (404) sees it in the admin's layout
        // and language, with the same status.
        access_->setPageErrors([ui](const sdk::HttpRequest& request, sdk::HttpResponse& response, int status, const std::string& code,
                                    const std::string& detail) { ui->renderError(request, response, status, code, detail); });
    }
    http_ = std::make_unique<HttpServer>(options, router_, *access_, metrics_);
    try {
        http_->start();
    } catch (const std::runtime_error& error) {
        throw StartupError(error.what());
    }
}

void Runtime::stopServing() noexcept {
    try {
        if (http_) http_->stop();  // no new requests; in-flight ones finish
        if (jobs_) jobs_->stop();  // running jobs finish; unclaimed ones stay for the next start
        if (relay_) {
            events_.setRelay(nullptr);
            relay_->stop();
        }
    } catch (const std::exception& error) {
        Poco::Logger::get("host").error(std::string("while stopping: ") + error.what());
    }
}

std::uint16_t Runtime::httpPort() const { return http_ ? http_->port() : config_.server.port; }

}  // namespace tawasul::host
