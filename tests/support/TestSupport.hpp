#pragma once
// Small helpers shared by the suites: temporary folders, files, HTTP calls, fixtures.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tawasul::test {

// A fresh folder under /tmp, removed with everything in it when the object goes.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

void writeFile(const std::string& path, const std::string& content);
std::string readFile(const std::string& path);

// Polls `condition` every 10 ms; throws std::runtime_error("<what> within 60 s") when it never holds.
void waitUntil(const std::function<bool()>& condition, const std::string& what);

struct HttpResult {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
    std::vector<std::string> cookies;            // every Set-Cookie, in order (headers keeps one)
    std::string location() const { return headers.count("location") ? headers.at("location") : std::string(); }
};

HttpResult httpRequest(const std::string& method, const std::string& host, int port, const std::string& path,
                       const std::string& body = "", const std::vector<std::pair<std::string, std::string>>& headers = {});

// The URL of the PostgreSQL server that ctest started for the `postgres` label.
std::string postgresUrl();

// A fresh database on that server, dropped with the object: each test starts from nothing.
class PostgresDatabase {
public:
    PostgresDatabase();
    ~PostgresDatabase();
    const std::string& url() const { return url_; }

private:
    std::string admin_;
    std::string name_;
    std::string url_;
};

// A complete host configuration for tests: listens on a free port, keeps its SQLite file (unless
// databaseUrl names another database) and master key in `dir`, loads `pluginsYaml` (the items of
// plugins.load, one "    - name: {...}" line each) from `pluginDir`. `serverYaml`: more lines of
// the server: block ("  key: value\n" each). `listenHost`: the address of server.listen (port 0).
std::string testConfigYaml(const TempDir& dir, const std::string& pluginDir, const std::string& pluginsYaml,
                           const std::string& databaseUrl = "", const std::string& extraYaml = "", int workerThreads = 2,
                           const std::string& serverYaml = "", const std::string& listenHost = "127.0.0.1");

// Runs a command, returns (exit status, stdout + stderr).
std::pair<int, std::string> runCommand(const std::vector<std::string>& argv,
                                       const std::vector<std::string>& extraEnvironment = {});

}  // namespace tawasul::test
