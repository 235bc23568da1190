#pragma once
// The command line: `tawasul [--config FILE] COMMAND [ARGS]`. Each command is a Command value;
// the table in Cli.cpp lists them all.
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/HostConfig.hpp"

namespace tawasul::host {

// Exit statuses: 0 done, 1 the command failed at run time, 2 misuse (arguments, configuration).
enum ExitStatus { kExitOk = 0, kExitFailure = 1, kExitUsage = 2 };

// Misuse of the command line: printed as one line, exit status 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Command {
    std::string name;     // first word: "settings"
    std::string summary;  // one line for `tawasul --help`
    std::string help;     // the whole text for `tawasul NAME --help`, starting with "usage: "
    // Checks the arguments before the configuration is read; throws UsageError.
    std::function<void(const std::vector<std::string>& args)> validate;
    std::function<int(const HostConfig& config, const std::vector<std::string>& args)> run;
};

// Options of the form `--name VALUE` and `--flag`, after positional words.
class Arguments {
public:
    // `valued` names options that take a value, `flags` those that don't. Throws UsageError.
    Arguments(const std::string& command, const std::vector<std::string>& args, std::vector<std::string> valued,
              std::vector<std::string> flags);
    const std::vector<std::string>& positional() const { return positional_; }
    std::optional<std::string> value(const std::string& name) const;
    bool flag(const std::string& name) const;
    // The option as a whole number in [min, max], or fallback when absent.
    long long number(const std::string& name, long long fallback, long long min, long long max) const;
    void expectPositional(std::size_t min, std::size_t max, const std::string& usage) const;

private:
    std::string command_;
    std::vector<std::string> positional_;
    std::map<std::string, std::string> values_;
    std::vector<std::string> flags_;
};

// Commands by area; each file defines one of these.
Command serveCommand();
Command migrateCommand();
Command configCommand();
Command pluginsCommand();
Command settingsCommand();  // SettingsCommands.cpp
Command eventsCommand();    // EventsCommands.cpp
Command simulateCommand();  // SimulateCommands.cpp
Command contactsCommand();  // ContactsCommands.cpp
Command templatesCommand(); // TemplatesCommands.cpp
Command tokenCommand();     // TokensCommands.cpp
Command userCommand();      // UserCommands.cpp
Command roleCommand();      // UserCommands.cpp
Command demoCommand();      // DemoCommands.cpp
Command backupCommand();    // BackupCommands.cpp
Command restoreCommand();   // BackupCommands.cpp
Command doctorCommand();    // DoctorCommands.cpp
Command readyCommand();     // DoctorCommands.cpp

int runCli(int argc, char** argv);

}  // namespace tawasul::host
