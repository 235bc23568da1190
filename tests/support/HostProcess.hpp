#pragma once
// Starts the real `tawasul` binary with a temporary configuration, waits until /readyz says ready,
// and stops it: the one helper every end-to-end test uses.
#include <string>
#include <vector>

#include <sys/types.h>

#include "TestSupport.hpp"

namespace tawasul::test {

struct HostOptions {
    std::string databaseUrl;  // empty: a SQLite file in the temporary folder
    std::string pluginDir = TAWASUL_PLUGIN_DIR;
    std::string pluginsYaml;  // the `load:` list; empty: all six plugins with empty config
    std::string extraYaml;    // appended at top level
    std::string serverYaml;   // more lines of the server: block, "  key: value\n" each
    std::string listenHost = "127.0.0.1";  // server.listen's address (0.0.0.0: every interface)
    std::vector<std::string> environment;
    bool migrate = true;
    // Settings stored with `tawasul settings set` after migrate and before serve, so the host
    // sees them from its first request.
    std::vector<std::pair<std::string, std::string>> settings;
    int workerThreads = 2;
};

class HostProcess {
public:
    explicit HostProcess(HostOptions options = {});
    ~HostProcess();  // stops the host if it still runs

    // Writes the config, runs `migrate`, starts `serve`, waits for ready. Throws with the log on failure.
    void start();
    // SIGTERM and wait: returns the exit status.
    int stop();
    void kill();  // SIGKILL, no cleanup: a crash
    // Takes effect at the next start(), which writes the config again: a restart on the same
    // database with another number of workers.
    void setWorkerThreads(int threads) { options_.workerThreads = threads; }

    int port() const { return port_; }
    const std::string& configPath() const { return configPath_; }
    const std::string& databaseUrl() const { return databaseUrl_; }
    std::string log() const;
    const TempDir& dir() const { return dir_; }
    // Runs `tawasul --config <this config> ARGS...`.
    std::pair<int, std::string> cli(const std::vector<std::string>& args) const;
    HttpResult request(const std::string& method, const std::string& path, const std::string& body = "",
                       const std::vector<std::pair<std::string, std::string>>& headers = {}) const;

private:
    HostOptions options_;
    TempDir dir_;
    std::string configPath_, logPath_, databaseUrl_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace tawasul::test
