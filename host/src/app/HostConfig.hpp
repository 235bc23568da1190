#pragma once
// The host's own part of the YAML file, validated as a whole before anything starts.
#include <algorithm>
#include <cstdint>
#include <thread>
#include <string>
#include <vector>

#include "access/AuthOptions.hpp"
#include "tawasul/sdk/Config.hpp"

namespace tawasul::host {

struct PluginEntry {
    std::string name;
    sdk::ConfigNode config;  // the plugin's own node; the plugin validates it in start()
    sdk::ConfigNode where;   // the entry itself, to point errors at the right line
};

struct HostConfig {
    std::string file;
    sdk::ConfigNode root;

    struct Address {
        std::string host;
        std::uint16_t port = 0;
    };
    static int defaultIoThreads() {
        const unsigned cores = std::thread::hardware_concurrency();
        return cores == 0 ? 1 : static_cast<int>(std::min(cores, 8u));
    }
    struct Server {
        std::string host = "127.0.0.1";  // server.listen
        std::uint16_t port = 8080;
        std::vector<Address> listeners;  // server.listeners: more doors, served by the same code
        int threads = 16;                // the pool that runs blocking handlers
        // Event loops: sockets, parsing, signature checks, async routes, live streams. One per core
        // (at most 8): on 2 cores, one loop left the webhook door at 76 % of two (bench/README.md).
        int ioThreads = defaultIoThreads();
        int maxQueued = 256;             // requests waiting for a pool thread; beyond, 503
        std::int64_t maxBodyBytes = 3 * 1024 * 1024;
        int maxHeaderBytes = 16 * 1024;
        int headTimeoutSeconds = 10;     // the whole request line and headers, from their first byte
        int bodyTimeoutSeconds = 30;     // the whole body (and writing the answer)
        int keepAliveSeconds = 15;       // an idle connection closes after this
        int maxConnections = 4096;
        int maxConnectionsPerAddress = 256;
        int streamBufferBytes = 256 * 1024;  // a live stream's unsent bytes; beyond, it is dropped
        std::string publicUrl;
        // public_url was unset or empty and is http://<listen>: fine for a local try, but not an
        // address Meta can post to (`tawasul doctor` says so).
        bool publicUrlDerived = false;
        std::string webDir = "host";  // the host's templates/, lang/ and public/ (admin pages)
        std::vector<std::string> trustedProxies;  // addresses or CIDRs whose X-Forwarded-For is believed
    } server;

    AuthOptions auth;  // secureCookie is set by the Runtime, from server.public_url

    struct Db {
        std::string url = "sqlite:var/tawasul.db";
        int maxSessions = 32;
        int busyTimeoutMs = 5000;
        std::string migrationsDir = "migrations";
    } database;

    struct Secrets {
        std::string keyFile = "var/master.key";
    } secrets;

    struct Workers {
        int threads = 4;
        int leaseSeconds = 30;
        int maxAttempts = 8;
    } workers;

    struct Logging {
        std::string level = "information";
    } logging;

    struct Metrics {
        std::vector<std::string> allow{"127.0.0.1", "::1"};
    } metrics;

    std::string pluginDir = "build/dev/plugins";
    std::vector<PluginEntry> plugins;
    std::vector<std::string> dispatchChain;

    // Throws sdk::ConfigError ("FILE:LINE:COL: message") on any problem.
    static HostConfig load(const std::string& file);
    static HostConfig parse(const sdk::ConfigNode& root);
};

// "127.0.0.1:8080" → host, port. Throws std::invalid_argument.
void parseListen(const std::string& listen, std::string& host, std::uint16_t& port);

}  // namespace tawasul::host
