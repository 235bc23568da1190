#include "HostProcess.hpp"

#include <chrono>
#include <csignal>
#include <regex>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace tawasul::test {

HostProcess::HostProcess(HostOptions options) : options_(std::move(options)) {
    configPath_ = dir_.file("tawasul.yaml");
    logPath_ = dir_.file("host.log");
    databaseUrl_ = options_.databaseUrl.empty() ? "sqlite:" + dir_.file("tawasul.db") : options_.databaseUrl;
}

HostProcess::~HostProcess() {
    if (pid_ > 0) stop();
}

void HostProcess::start() {
    std::string plugins = options_.pluginsYaml;
    if (plugins.empty())
        plugins = "    - webhook_receiver: {}\n    - contact_matcher: {}\n    - inbound_router: {}\n"
                  "    - cloud_api: {}\n    - outbox: {}\n    - admin_inbox: {}\n";
    writeFile(configPath_, testConfigYaml(dir_, options_.pluginDir, plugins, databaseUrl_, options_.extraYaml, options_.workerThreads,
                                                options_.serverYaml, options_.listenHost));
    if (options_.migrate) {
        auto [status, output] = cli({"migrate"});
        if (status != 0) throw std::runtime_error("tawasul migrate failed (" + std::to_string(status) + "): " + output);
    }
    for (const auto& [key, value] : options_.settings) {
        auto [status, output] = cli({"settings", "set", key, value});
        if (status != 0) throw std::runtime_error("tawasul settings set " + key + " failed: " + output);
    }
    // A restarted host appends to the same log: only what it writes from here on counts.
    const std::size_t logStart = log().size();
    port_ = 0;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, logPath_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<std::string> environment;
    for (char** e = environ; *e; ++e) environment.emplace_back(*e);
    for (const auto& extra : options_.environment) environment.push_back(extra);
    std::vector<char*> envp;
    for (auto& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string binary = TAWASUL_BINARY, flag = "--config", command = "serve";
    char* args[] = {binary.data(), flag.data(), configPath_.data(), command.data(), nullptr};
    const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + binary);

    // The host logs "serving on http://HOST:PORT" once it listens; port 0 in the config means
    // the kernel picked a free one, so there is no race with other tests for a port.
    static const std::regex serving(R"(serving on http://[^:]+:(\d+))");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("the host exited during start-up:\n" + log());
        }
        std::smatch match;
        const std::string text = log().substr(logStart);
        if (port_ == 0 && std::regex_search(text, match, serving)) port_ = std::stoi(match[1]);
        if (port_ != 0) {
            try {
                if (request("GET", "/readyz").status == 200) return;
            } catch (const std::exception&) {
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill();
    throw std::runtime_error("the host did not become ready within 30 s:\n" + log());
}

int HostProcess::stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void HostProcess::kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
}

std::string HostProcess::log() const {
    try {
        return readFile(logPath_);
    } catch (const std::exception&) {
        return "";
    }
}

std::pair<int, std::string> HostProcess::cli(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{TAWASUL_BINARY, "--config", configPath_};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv, options_.environment);
}

HttpResult HostProcess::request(const std::string& method, const std::string& path, const std::string& body,
                                const std::vector<std::pair<std::string, std::string>>& headers) const {
    return httpRequest(method, "127.0.0.1", port_, path, body, headers);
}

}  // namespace tawasul::test
