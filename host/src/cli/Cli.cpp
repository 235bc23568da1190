#include "cli/Cli.hpp"

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>

#include <pthread.h>
#include <signal.h>

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/Exception.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/ServerApplication.h>

#include "app/HostConfig.hpp"
#include "app/Runtime.hpp"
#include "tawasul/sdk/Clock.hpp"
#include "cli/DatabaseFiles.hpp"
#include "files/PrivateFiles.hpp"
#include "tawasul/sdk/Errors.hpp"

namespace tawasul::host {
namespace {

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
            // Blocked here, before any thread starts, so that every thread inherits the mask and
            // SIGTERM or SIGINT reach waitForTerminationRequest()'s sigwait. A thread that left them
            // unblocked (std::thread does not block them as Poco's threads do) would take the
            // signal's default action: the process killed mid-request, exit status 143.
            sigset_t termination;
            sigemptyset(&termination);
            for (const int signal : {SIGINT, SIGQUIT, SIGTERM}) sigaddset(&termination, signal);
            pthread_sigmask(SIG_BLOCK, &termination, nullptr);
            if (const auto database = sqliteFile(config_); !database.empty()) narrowSqliteFiles(database);
            Runtime runtime(config_);
            // First: the plugins' own keys are configuration too, refused as `config check` does.
            runtime.loadPlugins();
            runtime.openSecrets(false);
            runtime.settings().verifyMasterKey();
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
            exitCode = error.inConfiguration ? kExitUsage : kExitFailure;
        } catch (const std::exception& error) {
            std::cerr << "tawasul: " << error.what() << "\n";
            exitCode = kExitFailure;
        }
        return exitCode;
    }

private:
    HostConfig config_;
};

int commandServe(const HostConfig& config) {
    ServeApplication app(config);
    std::string name = "tawasul";
    char* args[] = {name.data(), nullptr};
    app.run(1, args);
    return app.exitCode;
}

int commandMigrate(const HostConfig& config, bool statusOnly) {
    // The database holds sealed secrets and session hashes: a new one starts 0600 (whatever the
    // umask), and one an older version left 0644 is narrowed here, at the upgrade step.
    if (const auto database = sqliteFile(config); !statusOnly && !database.empty()) {
        createPrivateDirectories(database.parent_path());
        createPrivateFile(database);
        narrowSqliteFiles(database);
    }
    Runtime runtime(config);
    Migrator migrator = runtime.migrator();
    if (statusOnly) {
        for (const MigrationStatus& s : migrator.status()) {
            static const char* names[] = {"applied", "pending", "EDITED", "missing"};
            std::cout << std::left << std::setw(18) << s.file.owner << std::setw(8) << s.file.version << std::setw(10)
                      << names[static_cast<int>(s.state)] << std::setw(26) << (s.appliedAt > 0 ? sdk::isoTime(s.appliedAt) : "-") << s.file.name << "\n";
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

Arguments::Arguments(const std::string& command, const std::vector<std::string>& args, std::vector<std::string> valued,
                     std::vector<std::string> flags)
    : command_(command) {
    auto known = [](const std::vector<std::string>& list, const std::string& name) {
        return std::find(list.begin(), list.end(), name) != list.end();
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg.rfind("--", 0) != 0 || arg == "--") {
            positional_.push_back(arg);
            continue;
        }
        std::string name = arg, value;
        bool inlineValue = false;
        if (const auto eq = arg.find('='); eq != std::string::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            inlineValue = true;
        }
        if (known(valued, name)) {
            if (!inlineValue) {
                if (i + 1 >= args.size()) throw UsageError(command_ + ": " + name + " needs a value");
                value = args[++i];
            }
            values_[name] = value;
        } else if (known(flags, name) && !inlineValue) {
            flags_.push_back(name);
        } else {
            std::string expected;
            for (const auto& v : valued) expected += (expected.empty() ? "" : ", ") + v + " VALUE";
            for (const auto& f : flags) expected += (expected.empty() ? "" : ", ") + f;
            throw UsageError(command_ + ": unknown argument '" + arg + "'" +
                             (expected.empty() ? std::string(" (it takes no options)") : " (expected " + expected + ")"));
        }
    }
}

std::optional<std::string> Arguments::value(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

bool Arguments::flag(const std::string& name) const { return std::find(flags_.begin(), flags_.end(), name) != flags_.end(); }

long long Arguments::number(const std::string& name, long long fallback, long long min, long long max) const {
    const auto text = value(name);
    if (!text) return fallback;
    std::size_t used = 0;
    long long parsed = 0;
    try {
        parsed = std::stoll(*text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text->size() || parsed < min || parsed > max)
        throw UsageError(command_ + ": " + name + " must be a whole number from " + std::to_string(min) + " to " +
                         std::to_string(max) + ", got '" + *text + "'");
    return parsed;
}

void Arguments::expectPositional(std::size_t min, std::size_t max, const std::string& usage) const {
    if (positional_.size() < min || positional_.size() > max) throw UsageError("usage: " + usage);
}

Command serveCommand() {
    return {"serve", "run the HTTP server, the plugins and the job workers",
            "usage: tawasul [--config FILE] serve\n\n"
            "Starts the plugins, the job workers and the HTTP server on server.listen, and runs until\n"
            "SIGINT or SIGTERM, then drains in-flight requests and jobs and stops the plugins.\n"
            "Refuses to start while the configuration or a plugin is wrong.\n",
            [](const std::vector<std::string>& args) {
                if (!args.empty()) throw UsageError("serve takes no arguments");
            },
            [](const HostConfig& config, const std::vector<std::string>&) { return commandServe(config); }};
}

Command migrateCommand() {
    return {"migrate", "apply pending database migrations (--status to list them)",
            "usage: tawasul [--config FILE] migrate [--status]\n\n"
            "Applies the pending migrations of the host (database.migrations_dir) and of each plugin\n"
            "(<plugin>/migrations), each in its own transaction, and creates the master key file when\n"
            "it is missing. --status lists every migration as applied, pending, edited or missing.\n",
            [](const std::vector<std::string>& args) { Arguments("migrate", args, {}, {"--status"}).expectPositional(0, 0, "tawasul migrate [--status]"); },
            [](const HostConfig& config, const std::vector<std::string>& args) {
                return commandMigrate(config, Arguments("migrate", args, {}, {"--status"}).flag("--status"));
            }};
}

Command configCommand() {
    return {"config", "validate the configuration file and the plugins it names (config check)",
            "usage: tawasul [--config FILE] config check\n\n"
            "Parses the configuration, checks every key and type, and loads the plugins it names, each\n"
            "of which checks its own keys; nothing is started. Prints 'ok' or FILE:LINE:COL: message\n"
            "and exits 2.\n",
            [](const std::vector<std::string>& args) {
                if (args.size() != 1 || args[0] != "check") throw UsageError("usage: tawasul config check");
            },
            [](const HostConfig& config, const std::vector<std::string>&) { return commandConfigCheck(config); }};
}

Command pluginsCommand() {
    return {"plugins", "load and start each configured plugin, then list them (plugins list)",
            "usage: tawasul [--config FILE] plugins list\n\n"
            "Loads and starts every configured plugin without serving, prints name, version, path and\n"
            "status (started, or why not), then stops them.\n",
            [](const std::vector<std::string>& args) {
                if (args.size() != 1 || args[0] != "list") throw UsageError("usage: tawasul plugins list");
            },
            [](const HostConfig& config, const std::vector<std::string>&) { return commandPluginsList(config); }};
}

namespace {

std::vector<Command> allCommands() {
    return {serveCommand(),    migrateCommand(), configCommand(), pluginsCommand(),
            settingsCommand(), eventsCommand(),  simulateCommand(), contactsCommand(), templatesCommand(),
            userCommand(),     roleCommand(),    tokenCommand(),   demoCommand(),
            backupCommand(),  restoreCommand(), doctorCommand(),
            readyCommand()};
}

std::string mainHelp(const std::vector<Command>& commands) {
    std::string text =
        "usage: tawasul [--config FILE] COMMAND [ARGS]\n\n"
        "Tawasul: WhatsApp Cloud API integration host.\n\ncommands:\n";
    for (const Command& command : commands) {
        std::string name = command.name;
        name.resize(12, ' ');
        text += "  " + name + command.summary + "\n";
    }
    text += "\nThe configuration file is --config FILE, else $TAWASUL_CONFIG, else config/tawasul.yaml.\n"
            "`tawasul COMMAND --help` describes one command.\n";
    return text;
}

}  // namespace

int runCli(int argc, char** argv) {
    const std::vector<Command> commands = allCommands();
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string configFile;
    std::size_t i = 0;
    try {
        for (; i < args.size() && args[i].rfind("-", 0) == 0; ++i) {
            if (args[i] == "--help" || args[i] == "-h") {
                std::cout << mainHelp(commands);
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
        const std::string name = args[i];
        std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
        auto find = [&](const std::string& wanted) {
            return std::find_if(commands.begin(), commands.end(), [&](const Command& c) { return c.name == wanted; });
        };
        if (name == "help") {
            if (rest.empty()) std::cout << mainHelp(commands);
            else if (find(rest[0]) != commands.end()) std::cout << find(rest[0])->help;
            else throw UsageError("no help for unknown command '" + rest[0] + "'");
            return kExitOk;
        }
        const auto command = find(name);
        if (command == commands.end()) throw UsageError("unknown command '" + name + "'");
        for (const auto& arg : rest) {
            if (arg == "--help" || arg == "-h") {
                std::cout << command->help;
                return kExitOk;
            }
        }
        // Arguments are checked before the configuration or the database is touched.
        command->validate(rest);
        const HostConfig config = HostConfig::load(configPath(configFile));
        setUpLogging(name == "serve" ? config.logging.level : "warning");
        return command->run(config, rest);
    } catch (const UsageError& error) {
        std::cerr << "tawasul: " << error.what() << " (see tawasul --help)\n";
        return kExitUsage;
    } catch (const sdk::ConfigError& error) {
        std::cerr << "tawasul: " << error.what() << "\n";
        return kExitUsage;
    } catch (const StartupError& error) {
        std::cerr << "tawasul: " << error.what() << "\n";
        return error.inConfiguration ? kExitUsage : kExitFailure;
    } catch (const std::exception& error) {
        // One line, whatever the error: a database's message may span several.
        std::string text = sdk::errorText(error);
        for (char& c : text)
            if (c == '\n' || c == '\r') c = ' ';
        std::cerr << "tawasul: " << text << "\n";
        return kExitFailure;
    }
}

}  // namespace tawasul::host
