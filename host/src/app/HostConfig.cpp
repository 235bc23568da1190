#include "app/HostConfig.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "http/ClientAddress.hpp"

namespace tawasul::host {

void parseListen(const std::string& listen, std::string& host, std::uint16_t& port) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size())
        throw std::invalid_argument("expected HOST:PORT, got '" + listen + "'");
    host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string portText = listen.substr(colon + 1);
    for (char c : portText)
        if (c < '0' || c > '9') throw std::invalid_argument("port must be a number, got '" + portText + "'");
    if (portText.size() > 5) throw std::invalid_argument("port must be 0-65535, got " + portText);  // std::stol would throw out_of_range
    const long value = std::stol(portText);
    if (value < 0 || value > 65535) throw std::invalid_argument("port must be 0-65535, got " + portText);
    port = static_cast<std::uint16_t>(value);
}

HostConfig HostConfig::load(const std::string& file) { return parse(sdk::ConfigNode::loadFile(file)); }

HostConfig HostConfig::parse(const sdk::ConfigNode& root) {
    HostConfig config{root.file(), root, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}};
    root.allowOnly({"server", "database", "secrets", "workers", "logging", "metrics", "plugins", "dispatch", "auth"});

    const sdk::ConfigNode server = root.child("server");
    if (server.has("request_timeout_seconds"))
        server.child("request_timeout_seconds")
            .fail("was replaced by head_timeout_seconds (the whole request head) and body_timeout_seconds (the whole body)");
    server.allowOnly({"listen", "listeners", "threads", "io_threads", "max_queued", "max_body_bytes", "max_header_bytes",
                      "head_timeout_seconds", "body_timeout_seconds", "keep_alive_seconds", "max_connections",
                      "max_connections_per_address", "stream_buffer_bytes", "public_url", "web_dir", "trusted_proxies"});
    if (server.has("listen")) {
        const sdk::ConfigNode listen = server.child("listen");
        try {
            parseListen(listen.asString(), config.server.host, config.server.port);
        } catch (const std::invalid_argument& error) {
            listen.fail(error.what());
        }
    }
    if (server.has("listeners")) {
        const sdk::ConfigNode listeners = server.child("listeners");
        if (!listeners.isSequence()) listeners.fail("expected a list of HOST:PORT, such as [\"127.0.0.1:8081\"]");
        std::set<std::string> seen{config.server.host + ":" + std::to_string(config.server.port)};
        for (const sdk::ConfigNode& item : listeners.items()) {
            HostConfig::Address address;
            try {
                parseListen(item.asString(), address.host, address.port);
            } catch (const std::invalid_argument& error) {
                item.fail(error.what());
            }
            if (address.port != 0 && !seen.insert(address.host + ":" + std::to_string(address.port)).second)
                item.fail("listed twice (server.listen counts): " + item.asString());
            config.server.listeners.push_back(address);
        }
    }
    config.server.threads = static_cast<int>(server.getInt("threads", config.server.threads, 1, 1024));
    config.server.ioThreads = static_cast<int>(server.getInt("io_threads", config.server.ioThreads, 1, 64));
    config.server.maxQueued = static_cast<int>(server.getInt("max_queued", config.server.maxQueued, 1, 65536));
    config.server.maxBodyBytes = server.getInt("max_body_bytes", config.server.maxBodyBytes, 1024, 1LL << 30);
    config.server.maxHeaderBytes = static_cast<int>(server.getInt("max_header_bytes", config.server.maxHeaderBytes, 1024, 1 << 20));
    config.server.headTimeoutSeconds = static_cast<int>(server.getInt("head_timeout_seconds", config.server.headTimeoutSeconds, 1, 3600));
    config.server.bodyTimeoutSeconds = static_cast<int>(server.getInt("body_timeout_seconds", config.server.bodyTimeoutSeconds, 1, 3600));
    config.server.keepAliveSeconds = static_cast<int>(server.getInt("keep_alive_seconds", config.server.keepAliveSeconds, 1, 3600));
    config.server.maxConnections = static_cast<int>(server.getInt("max_connections", config.server.maxConnections, 1, 1'000'000));
    config.server.maxConnectionsPerAddress = static_cast<int>(
        server.getInt("max_connections_per_address", std::min(config.server.maxConnectionsPerAddress, config.server.maxConnections), 1,
                      config.server.maxConnections));
    config.server.streamBufferBytes =
        static_cast<int>(server.getInt("stream_buffer_bytes", config.server.streamBufferBytes, 4096, 64 << 20));
    // Unset or empty (the default config's "${TAWASUL_PUBLIC_URL:-}"), it follows the listen address,
    // so that TAWASUL_LISTEN alone gives the settings page a webhook URL that answers.
    config.server.publicUrl = server.getString("public_url", "");
    if (config.server.publicUrl.empty()) {
        config.server.publicUrl = "http://" + config.server.host + ":" + std::to_string(config.server.port);
        config.server.publicUrlDerived = true;
    } else if (config.server.publicUrl.rfind("http://", 0) != 0 && config.server.publicUrl.rfind("https://", 0) != 0) {
        server.child("public_url").fail("expected an http:// or https:// URL");
    }

    config.server.webDir = server.getString("web_dir", config.server.webDir);
    if (server.has("trusted_proxies")) {
        config.server.trustedProxies = server.getStringList("trusted_proxies");
        const auto items = server.child("trusted_proxies").items();
        for (std::size_t i = 0; i < items.size(); ++i) {
            try {
                TrustedProxies({config.server.trustedProxies[i]});
            } catch (const std::invalid_argument& error) {
                items[i].fail(error.what());
            }
        }
    }

    const sdk::ConfigNode auth = root.child("auth");
    auth.allowOnly({"idle_minutes", "absolute_hours", "max_failures", "failure_window_minutes", "max_waiting_checks", "password_cost"});
    config.auth.idleMinutes = static_cast<int>(auth.getInt("idle_minutes", config.auth.idleMinutes, 1, 7 * 24 * 60));
    config.auth.absoluteHours = static_cast<int>(auth.getInt("absolute_hours", config.auth.absoluteHours, 1, 24 * 90));
    config.auth.maxFailures = static_cast<int>(auth.getInt("max_failures", config.auth.maxFailures, 1, 1000));
    config.auth.failureWindowMinutes =
        static_cast<int>(auth.getInt("failure_window_minutes", config.auth.failureWindowMinutes, 1, 24 * 60));
    config.auth.maxWaitingChecks = static_cast<int>(auth.getInt("max_waiting_checks", config.auth.maxWaitingChecks, 0, 1024));
    config.auth.passwordCost = auth.getString("password_cost", config.auth.passwordCost);
    if (config.auth.passwordCost != "moderate" && config.auth.passwordCost != "interactive")
        auth.child("password_cost").fail("expected moderate or interactive");

    const sdk::ConfigNode database = root.child("database");
    database.allowOnly({"url", "max_sessions", "busy_timeout_ms", "migrations_dir"});
    config.database.url = database.getString("url", config.database.url);
    config.database.maxSessions = static_cast<int>(database.getInt("max_sessions", config.database.maxSessions, 1, 1024));
    config.database.busyTimeoutMs = static_cast<int>(database.getInt("busy_timeout_ms", config.database.busyTimeoutMs, 0, 600000));
    config.database.migrationsDir = database.getString("migrations_dir", config.database.migrationsDir);

    const sdk::ConfigNode secrets = root.child("secrets");
    secrets.allowOnly({"key_file"});
    config.secrets.keyFile = secrets.getString("key_file", config.secrets.keyFile);

    const sdk::ConfigNode workers = root.child("workers");
    workers.allowOnly({"threads", "lease_seconds", "max_attempts"});
    config.workers.threads = static_cast<int>(workers.getInt("threads", config.workers.threads, 0, 256));
    config.workers.leaseSeconds = static_cast<int>(workers.getInt("lease_seconds", config.workers.leaseSeconds, 1, 86400));
    config.workers.maxAttempts = static_cast<int>(workers.getInt("max_attempts", config.workers.maxAttempts, 1, 1000));

    const sdk::ConfigNode logging = root.child("logging");
    logging.allowOnly({"level"});
    config.logging.level = logging.getString("level", config.logging.level);
    static const std::set<std::string> levels{"fatal", "critical", "error", "warning", "notice", "information", "debug", "trace"};
    if (!levels.count(config.logging.level))
        logging.child("level").fail("expected one of fatal, critical, error, warning, notice, information, debug, trace");

    const sdk::ConfigNode metrics = root.child("metrics");
    metrics.allowOnly({"allow"});
    if (metrics.has("allow")) config.metrics.allow = metrics.getStringList("allow");

    const sdk::ConfigNode plugins = root.child("plugins");
    plugins.allowOnly({"dir", "load"});
    config.pluginDir = plugins.getString("dir", config.pluginDir);
    std::set<std::string> seen;
    for (const sdk::ConfigNode& item : plugins.child("load").items()) {
        // Each entry is `name: {config}` or a bare `name`.
        PluginEntry entry{"", item, item};
        if (item.isMap()) {
            const auto entries = item.entries();
            if (entries.size() != 1) item.fail("each plugin entry is one 'name: {config}' pair");
            entry.name = entries.front().first;
            entry.config = entries.front().second;
            entry.config.requireMap();
        } else {
            entry.name = item.asString();
            // A bare `name` has no configuration: the plugin sees an empty node, as for `- name:`.
            entry.config = sdk::ConfigNode(YAML::Node(YAML::NodeType::Null), std::make_shared<const std::string>(root.file()),
                                           item.path() + "." + entry.name);
        }
        for (char c : entry.name)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
                item.fail("plugin names use letters, digits and '_', got '" + entry.name + "'");
        if (!seen.insert(entry.name).second) item.fail("plugin '" + entry.name + "' is listed twice");
        config.plugins.push_back(entry);
    }

    const sdk::ConfigNode dispatch = root.child("dispatch");
    dispatch.allowOnly({"chain"});
    config.dispatchChain = dispatch.getStringList("chain");
    for (std::size_t i = 0; i < config.dispatchChain.size(); ++i) {
        if (!seen.count(config.dispatchChain[i]))
            dispatch.child("chain").items()[i].fail("'" + config.dispatchChain[i] + "' is not a loaded plugin");
    }
    return config;
}

}  // namespace tawasul::host
