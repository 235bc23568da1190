#include "Cli.hpp"

#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/ServerApplication.h>

#include "HostConfig.hpp"
#include "Runtime.hpp"

namespace tawasul::host {
namespace {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

const char* const kMainHelp =
    "usage: tawasul [--config FILE] COMMAND [ARGS]\n"
    "\n"
    "Tawasul: WhatsApp Cloud API integration host.\n"
    "\n"
    "commands:\n"
    "  serve            run the HTTP server, the plugins and the job workers\n"
    "  migrate          apply pending database migrations (--status to list them)\n"
    "  config check     validate the configuration file and the plugins it names\n"
    "  plugins list     load and start each configured plugin, then list them\n"
    "\n"
    "The configuration file is --config FILE, else $TAWASUL_CONFIG, else config/tawasul.yaml.\n"
    "`tawasul COMMAND --help` describes one command.\n";

const std::map<std::string, std::string>& commandHelp() {
    static const std::map<std::string, std::string> help{
        {"serve", "usage: tawasul [--config FILE] serve\n\n"
                  "Starts the plugins, the job workers and the HTTP server on server.listen, and runs until\n"
                  "SIGINT or SIGTERM, then drains in-flight requests and jobs and stops the plugins.\n"
                  "Refuses to start while the configuration or a plugin is wrong.\n"},
        {"migrate", "usage: tawasul [--config FILE] migrate [--status]\n\n"
                    "Applies the pending migrations of the host (database.migrations_dir) and of each plugin\n"
                    "(<plugin>/migrations), each in its own transaction, and creates the master key file when\n"
                    "it is missing. --status lists every migration as applied, pending, edited or missing.\n"},
        {"config", "usage: tawasul [--config FILE] config check\n\n"
                   "Parses the configuration, checks every key and type, and loads the plugins it names.\n"
                   "Prints 'ok' or FILE:LINE:COL: message and exits 2.\n"},
        {"plugins", "usage: tawasul [--config FILE] plugins list\n\n"
                    "Loads and starts every configured plugin without serving, prints name, version, path and\n"
                    "status (started, or why not), then stops them.\n"},
    };
    return help;
}

void setUpLogging(const std::string& level) {
    Poco::AutoPtr<Poco::PatternFormatter> formatter(new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s: %t"));
    formatter->setProperty("times", "UTC");
    Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, new Poco::ConsoleChannel(std::cerr)));
    Poco::Logger::root().setChannel(channel);
    Poco::Logger::root().setLevel(level);
    // Loggers made before this point keep their old settings; bring them along.
    Poco::Logger::setLevel("", Poco::Logger::parseLevel(level));
    Poco::Logger::setChannel("", channel);
}

std::string configPath(const std::string& fromArgs) {
    if (!fromArgs.empty()) return fromArgs;
    if (const char* env = std::getenv("TAWASUL_CONFIG"); env && *env) return env;
    return "config/tawasul.yaml";
}

// `serve` runs inside Poco's ServerApplication for its signal handling and termination wait.
class ServeApplication final : public Poco::Util::ServerApplication {
public:
    explicit ServeApplication(HostConfig config) : config_(std::move(config)) {}
    int exitCode = kExitOk;

protected:
    int main(const std::vector<std::string>&) override {
        // Poco's Application set-up replaces the root channel; ours goes back on here.
        setUpLogging(config_.logging.level);
        auto& log = Poco::Logger::get("host");
        const auto started = std::chrono::steady_clock::now();
        try {
            Runtime runtime(config_);
            runtime.openSecrets(false);
            runtime.settings().verifyMasterKey();
            runtime.loadPlugins();
            runtime.registerHostRoutes();
            runtime.startPlugins();
            runtime.startServing();
            std::string reason;
            const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
            const std::string url = "http://" + config_.server.host + ":" + std::to_string(runtime.httpPort());
            if (runtime.ready(reason)) {
                log.information("serving on " + url + " (ready in " + std::to_string(static_cast<int>(ms)) + " ms)");
            } else {
                log.warning("serving on " + url + " but not ready: " + reason);
            }
            waitForTerminationRequest();
            log.information("stopping: draining requests and jobs");
            runtime.stopServing();
            runtime.stopPlugins();
            log.information("stopped");
        } catch (const sdk::ConfigError& error) {
            std::cerr << "tawasul: " << error.what() << "\n";
            exitCode = kExitUsage;
        } catch (const StartupError& error) {
            std::cerr << "tawasul: " << error.what() << "\n";
            exitCode = kExitFailure;
        } catch (const std::exception& error) {
            std::cerr << "tawasul: " << error.what() << "\n";
            exitCode = kExitFailure;
        }
        return exitCode;
    }

private:
    HostConfig config_;
};

int commandServe(const HostConfig& config, char* argv0) {
    ServeApplication app(config);
    char* args[] = {argv0, nullptr};
    app.run(1, args);
    return app.exitCode;
}

std::string formatTime(std::int64_t millis) {
    if (millis <= 0) return "-";
    std::time_t seconds = static_cast<std::time_t>(millis / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

int commandMigrate(const HostConfig& config, const std::vector<std::string>& args) {
    bool statusOnly = false;
    for (const auto& arg : args) {
        if (arg == "--status") statusOnly = true;
        else throw UsageError("migrate: unknown argument '" + arg + "' (expected --status)");
    }
    Runtime runtime(config);
    Migrator migrator = runtime.migrator();
    if (statusOnly) {
        for (const MigrationStatus& s : migrator.status()) {
            static const char* names[] = {"applied", "pending", "EDITED", "missing"};
            std::cout << std::left << std::setw(18) << s.file.owner << std::setw(8) << s.file.version << std::setw(10)
                      << names[static_cast<int>(s.state)] << std::setw(22) << formatTime(s.appliedAt) << s.file.name << "\n";
        }
        return kExitOk;
    }
    const auto applied = migrator.migrate();
    for (const MigrationFile& file : applied)
        std::cout << "applied " << file.owner << "/" << std::setw(4) << std::setfill('0') << file.version << std::setfill(' ') << " "
                  << file.name << "\n";
    // The master key belongs with the schema: the first migrate of an installation makes both.
    runtime.openSecrets(true);
    runtime.settings().verifyMasterKey();
    std::cout << (applied.empty() ? "database is up to date" : "migrated") << " (" << runtime.database().displayUrl() << ")\n";
    return kExitOk;
}

int commandConfigCheck(const HostConfig& config) {
    Runtime runtime(config);
    runtime.loadPlugins();
    std::cout << "ok: " << config.file << " (" << config.plugins.size() << " plugins, database "
              << runtime.database().displayUrl() << ")\n";
    return kExitOk;
}

int commandPluginsList(const HostConfig& config) {
    Runtime runtime(config);
    runtime.openSecrets(false);
    runtime.loadPlugins();
    std::string failure;
    try {
        runtime.startPlugins();
    } catch (const StartupError& error) {
        failure = error.what();
    }
    const auto states = runtime.pluginStates();
    runtime.stopPlugins();
    std::cout << std::left << std::setw(20) << "NAME" << std::setw(10) << "VERSION" << std::setw(10) << "STATUS" << "PATH\n";
    for (const auto& state : states) {
        // Report the state the plugin reached, not the "stopped" that listing leaves behind.
        std::string status = state.status == "stopped" ? "started" : state.status;
        if (status == "loaded" && !failure.empty()) status = "not-started";
        std::cout << std::left << std::setw(20) << state.name << std::setw(10) << state.version << std::setw(10) << status
                  << state.path.string() << "\n";
    }
    if (!failure.empty()) {
        std::cerr << "tawasul: " << failure << "\n";
        return kExitFailure;
    }
    return kExitOk;
}

}  // namespace

int runCli(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string configFile;
    std::size_t i = 0;
    try {
        for (; i < args.size() && args[i].rfind("-", 0) == 0; ++i) {
            if (args[i] == "--help" || args[i] == "-h") {
                std::cout << kMainHelp;
                return kExitOk;
            }
            if (args[i] == "--config" || args[i] == "-c") {
                if (i + 1 >= args.size()) throw UsageError("--config needs a FILE");
                configFile = args[++i];
            } else if (args[i].rfind("--config=", 0) == 0) {
                configFile = args[i].substr(9);
            } else {
                throw UsageError("unknown option '" + args[i] + "'");
            }
        }
        if (i >= args.size()) throw UsageError("no command given");
        const std::string command = args[i];
        std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
        if (command == "help") {
            if (rest.empty()) std::cout << kMainHelp;
            else if (commandHelp().count(rest[0])) std::cout << commandHelp().at(rest[0]);
            else throw UsageError("no help for unknown command '" + rest[0] + "'");
            return kExitOk;
        }
        if (!commandHelp().count(command)) throw UsageError("unknown command '" + command + "'");
        for (const auto& arg : rest) {
            if (arg == "--help" || arg == "-h") {
                std::cout << commandHelp().at(command);
                return kExitOk;
            }
        }
        // Parse arguments fully before touching the configuration or the database.
        std::string sub = rest.empty() ? "" : rest[0];
        if (command == "serve" && !rest.empty()) throw UsageError("serve takes no arguments");
        if (command == "config" && (rest.size() != 1 || sub != "check")) throw UsageError("usage: tawasul config check");
        if (command == "plugins" && (rest.size() != 1 || sub != "list")) throw UsageError("usage: tawasul plugins list");

        const HostConfig config = HostConfig::load(configPath(configFile));
        setUpLogging(command == "serve" ? config.logging.level : "warning");
        if (command == "serve") return commandServe(config, argv[0]);
        if (command == "migrate") return commandMigrate(config, rest);
        if (command == "config") return commandConfigCheck(config);
        return commandPluginsList(config);
    } catch (const UsageError& error) {
        std::cerr << "tawasul: " << error.what() << " (see tawasul --help)\n";
        return kExitUsage;
    } catch (const sdk::ConfigError& error) {
        std::cerr << "tawasul: " << error.what() << "\n";
        return kExitUsage;
    } catch (const StartupError& error) {
        // Startup errors that point into the configuration (a plugin that does not exist) are misuse.
        std::cerr << "tawasul: " << error.what() << "\n";
        return std::string(error.what()).find(".yaml:") != std::string::npos ? kExitUsage : kExitFailure;
    } catch (const MigrationError& error) {
        std::cerr << "tawasul: " << error.what() << "\n";
        return kExitFailure;
    } catch (const std::exception& error) {
        std::cerr << "tawasul: " << error.what() << "\n";
        return kExitFailure;
    }
}

}  // namespace tawasul::host
