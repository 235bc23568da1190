#include "TestSupport.hpp"

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>

#include "db/SqlDatabase.hpp"

extern char** environ;

namespace tawasul::test {

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tawasul-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

void writeFile(const std::string& path, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream out(path, std::ios::binary);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + path);
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

HttpResult httpRequest(const std::string& method, const std::string& host, int port, const std::string& path,
                       const std::string& body, const std::vector<std::pair<std::string, std::string>>& headers) {
    Poco::Net::HTTPClientSession session(host, static_cast<Poco::UInt16>(port));
    session.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [name, value] : headers) request.set(name, value);
    if (!body.empty() || method == "POST" || method == "PUT") request.setContentLength64(static_cast<Poco::Int64>(body.size()));
    std::ostream& out = session.sendRequest(request);
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    HttpResult result;
    result.status = response.getStatus();
    for (const auto& [name, value] : response) {
        result.headers[Poco::toLower(name)] = value;
        if (Poco::icompare(name, "Set-Cookie") == 0) result.cookies.push_back(value);
    }
    Poco::StreamCopier::copyToString(in, result.body);
    return result;
}

std::string postgresUrl() {
    if (const char* url = std::getenv("TAWASUL_TEST_PG_URL"); url && *url) return url;
    const char* dir = std::getenv("TAWASUL_TEST_PG_DIR");
    if (!dir) throw std::runtime_error("no PostgreSQL server: run through ctest (label postgres), or set TAWASUL_TEST_PG_URL");
    std::string url = readFile(std::string(dir) + "/url");
    while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
    return url;
}

PostgresDatabase::PostgresDatabase() : admin_(postgresUrl()) {
    std::random_device random;
    name_ = "t_" + std::to_string(getpid()) + "_" + std::to_string(random() % 1000000000);
    host::DatabaseOptions options;
    options.url = admin_;
    host::SqlDatabase admin(options);
    Poco::Data::Session session = admin.session();
    session << "CREATE DATABASE " + name_, Poco::Data::Keywords::now;
    url_ = admin_.substr(0, admin_.rfind('/') + 1) + name_;
}

PostgresDatabase::~PostgresDatabase() {
    try {
        host::DatabaseOptions options;
        options.url = admin_;
        host::SqlDatabase admin(options);
        Poco::Data::Session session = admin.session();
        session << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)", Poco::Data::Keywords::now;
    } catch (...) {
    }
}

std::string testConfigYaml(const TempDir& dir, const std::string& pluginDir, const std::string& pluginsYaml,
                           const std::string& databaseUrl, const std::string& extraYaml, int workerThreads,
                           const std::string& serverYaml, const std::string& listenHost) {
    const std::string url = databaseUrl.empty() ? "sqlite:" + dir.file("tawasul.db") : databaseUrl;
    // Tests hash passwords at the interactive cost: the moderate one takes 256 MiB and most of a second.
    // Last in the file, so that the lines above keep their numbers for tests that point at them.
    const std::string auth = extraYaml.find("auth:") == std::string::npos ? "auth:\n  password_cost: interactive\n" : "";
    // serverYaml may choose the number of threads itself.
    const std::string threads = serverYaml.find("  threads:") == std::string::npos ? "  threads: 16\n" : "";
    return "server:\n  listen: \"" + listenHost + ":0\"\n" + threads + "  web_dir: \"" TAWASUL_SOURCE_DIR "/host\"\n" + serverYaml +
           "database:\n  url: \"" + url + "\"\n  migrations_dir: \"" TAWASUL_SOURCE_DIR "/migrations\"\n"
           "secrets:\n  key_file: \"" + dir.file("master.key") + "\"\n"
           "workers:\n  threads: " + std::to_string(workerThreads) + "\n  lease_seconds: 5\n"
           "plugins:\n  dir: \"" + pluginDir + "\"\n  load:\n" + pluginsYaml + extraYaml + auth;
}

void waitUntil(const std::function<bool()>& condition, const std::string& what) {
    for (int i = 0; i < 6000; ++i) {
        if (condition()) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error(what + " within 60 s");
}

std::pair<int, std::string> runCommand(const std::vector<std::string>& argv, const std::vector<std::string>& extraEnvironment) {
    int pipeFds[2];
    if (pipe(pipeFds) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 2);
    posix_spawn_file_actions_addclose(&actions, pipeFds[0]);
    std::vector<std::string> environment;
    for (char** e = environ; *e; ++e) environment.emplace_back(*e);
    for (const auto& extra : extraEnvironment) environment.push_back(extra);
    std::vector<char*> envp, args;
    for (auto& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> argvCopy = argv;
    for (auto& a : argvCopy) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(pipeFds[1]);
    if (rc != 0) {
        close(pipeFds[0]);
        throw std::runtime_error("cannot run " + argv[0]);
    }
    std::string output;
    char buffer[4096];
    ssize_t n;
    while ((n = read(pipeFds[0], buffer, sizeof buffer)) > 0) output.append(buffer, static_cast<std::size_t>(n));
    close(pipeFds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

}  // namespace tawasul::test
