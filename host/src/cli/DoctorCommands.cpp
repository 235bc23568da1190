// `tawasul doctor`: checks an installation end to end, one line per check, and says what to fix.
// A check that cannot run because an earlier one failed says "skip" and why, so that one fault
// gives one FAIL line.
#include <chrono>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <Poco/DateTimeParser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "app/Runtime.hpp"
#include "cli/Cli.hpp"
#include "cli/DatabaseFiles.hpp"
#include "tawasul/sdk/Errors.hpp"
#include "tawasul/whatsapp/Messaging.hpp"

namespace tawasul::host {
namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kMinFreeBytes = 256ull * 1024 * 1024;
constexpr long long kMaxClockSkewSeconds = 60;
constexpr int kHttpTimeoutSeconds = 10;
constexpr std::size_t kMaxAnswerBytes = 64 * 1024;

class Report {
public:
    void ok(const std::string& check, const std::string& text) { line("ok  ", check, text); }
    void fail(const std::string& check, const std::string& text) {
        line("FAIL", check, text);
        failed_ = true;
    }
    void skip(const std::string& check, const std::string& text) { line("skip", check, text); }
    bool failed() const { return failed_; }

private:
    void line(const char* verdict, const std::string& check, std::string text) {
        for (char& c : text)
            if (c == '\n' || c == '\r') c = ' ';
        std::cout << verdict << "  " << std::left << std::setw(14) << check << text << std::endl;
    }
    bool failed_ = false;
};

struct HttpAnswer {
    int status = 0;
    std::string body;
    std::string date;  // the Date header, "" when absent
};

// One GET with a deadline and a bounded answer; throws Poco::Exception when there is no answer.
HttpAnswer httpGet(const std::string& url, const std::string& bearer = "") {
    const Poco::URI uri(url);
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https") {
        Poco::Net::Context::Ptr tls = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                                                             Poco::Net::Context::VERIFY_RELAXED, 9, true);
        session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), tls);
    } else {
        session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    }
    session->setTimeout(Poco::Timespan(kHttpTimeoutSeconds, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
    if (!bearer.empty()) request.set("Authorization", "Bearer " + bearer);
    session->sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session->receiveResponse(response);
    HttpAnswer answer;
    answer.status = response.getStatus();
    answer.date = response.get("Date", "");
    char buffer[4096];
    while (answer.body.size() < kMaxAnswerBytes && in.read(buffer, sizeof buffer).gcount() > 0)
        answer.body.append(buffer, static_cast<std::size_t>(in.gcount()));
    return answer;
}

std::string modeText(mode_t mode) {
    std::ostringstream out;
    out << std::oct << std::setw(4) << std::setfill('0') << (mode & 07777);
    return out.str();
}

std::string sizeText(std::uintmax_t bytes) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1024.0 * 1024 * 1024) << " GiB";
    return out.str();
}

// A URL whose host is this machine only (127.0.0.0/8, ::1, localhost) or no address at all
// (0.0.0.0, ::): Meta's servers cannot post to it, whatever it answers here.
bool unreachableFromOutside(const std::string& url) {
    std::string host;
    try {
        host = Poco::URI(url).getHost();
    } catch (const Poco::Exception&) {
        return false;  // HostConfig accepted it; the handshake says what is wrong with it
    }
    const std::string lower = Poco::toLower(host);
    if (lower == "localhost" || (lower.size() > 10 && lower.compare(lower.size() - 10, 10, ".localhost") == 0)) return true;
    Poco::Net::IPAddress address;
    return Poco::Net::IPAddress::tryParse(host, address) && (address.isLoopback() || address.isWildcard());
}

const PluginEntry* pluginEntry(const HostConfig& config, const std::string& name) {
    for (const PluginEntry& entry : config.plugins)
        if (entry.name == name) return &entry;
    return nullptr;
}

int commandDoctor(const HostConfig& config) {
    Report report;
    report.ok("config", config.file + " (" + std::to_string(config.plugins.size()) + " plugins)");

    std::unique_ptr<Runtime> runtime;
    bool databaseOk = false, secretsOk = false, pluginsOk = false;
    const fs::path sqlite = sqliteFile(config);
    // The modes as the operator left them (opening the database changes none).
    std::string problems, checked;
    auto checkMode = [&](const std::string& file) {
        struct stat info {};
        if (::stat(file.c_str(), &info) != 0) return;
        checked += (checked.empty() ? "" : ", ") + file;
        if ((info.st_mode & 077) != 0) problems += (problems.empty() ? "" : "; ") + file + " is " + modeText(info.st_mode) + " (chmod 600 " + file + ")";
    };
    if (!sqlite.empty()) checkMode(sqlite.string());
    if (!std::getenv("TAWASUL_MASTER_KEY")) checkMode(config.secrets.keyFile);
    try {
        if (!sqlite.empty() && !fs::exists(sqlite)) throw std::runtime_error("no database at " + sqlite.string() + " (run tawasul migrate)");
        runtime = std::make_unique<Runtime>(config);
        Migrator migrator = runtime->migrator();
        std::size_t pending = 0, edited = 0, missing = 0;
        for (const MigrationStatus& status : migrator.status()) {
            if (status.state == MigrationStatus::State::Pending) ++pending;
            if (status.state == MigrationStatus::State::Edited) ++edited;
            if (status.state == MigrationStatus::State::Missing) ++missing;
        }
        if (edited + missing > 0)
            report.fail("database", std::to_string(edited) + " applied migration(s) edited and " + std::to_string(missing) +
                                        " missing from this installation (see tawasul migrate --status)");
        else if (pending > 0)
            report.fail("database", std::to_string(pending) + " migration(s) pending: run tawasul migrate");
        else {
            report.ok("database", runtime->database().displayUrl() + ", migrated");
            databaseOk = true;
        }
    } catch (const std::exception& error) {
        report.fail("database", sdk::errorText(error));
    }

    if (!databaseOk) {
        report.skip("master key", "needs a migrated database");
    } else {
        try {
            runtime->openSecrets(false);
            runtime->settings().verifyMasterKey();
            std::size_t opened = 0;
            for (const auto& [key, row] : runtime->settings().rows()) {
                if (!row.encrypted || key == SettingsStore::kKeyCheck) continue;
                runtime->settings().get(key);  // throws when the key does not open it
                ++opened;
            }
            report.ok("master key", "opens the key check and " + std::to_string(opened) + " sealed setting(s)");
            secretsOk = true;
        } catch (const std::exception& error) {
            report.fail("master key", sdk::errorText(error));
        }
    }

    if (!runtime) {
        report.skip("plugins", "needs the database");
    } else {
        try {
            runtime->loadPlugins();
            std::string names;
            for (const auto& state : runtime->pluginStates()) names += (names.empty() ? "" : ", ") + state.name + " " + state.version;
            report.ok("plugins", std::to_string(runtime->pluginStates().size()) + " load with this host's ABI (" + names + ")");
            pluginsOk = true;
        } catch (const std::exception& error) {
            report.fail("plugins", sdk::errorText(error));
        }
    }

    // The Cloud API token, through the plugin's own connection test (its graph_url, its settings).
    std::string graphUrl;
    if (const PluginEntry* cloud = pluginEntry(config, "cloud_api"); !cloud) {
        report.skip("cloud api", "cloud_api is not loaded");
    } else if (!secretsOk || !pluginsOk) {
        report.skip("cloud api", secretsOk ? "needs the plugins" : "needs the master key");
    } else {
        graphUrl = cloud->config.getString("graph_url", "https://graph.facebook.com");
        try {
            runtime->startPlugins();
            const auto tester = std::static_pointer_cast<sdk::ProviderConnectionTest>(
                runtime->services().find(typeid(sdk::ProviderConnectionTest).name(), "cloud_api"));
            if (!tester) throw std::runtime_error("cloud_api published no connection test");
            const sdk::ProviderHealth health = tester->testConnection();
            if (health.state == sdk::ProviderState::Healthy) report.ok("cloud api", "the access token works (" + graphUrl + ")");
            else if (health.state == sdk::ProviderState::Unconfigured) report.fail("cloud api", health.reason);
            else report.fail("cloud api", health.reason + " (renew it: tawasul settings set whatsapp.cloud.access_token --stdin)");
        } catch (const std::exception& error) {
            report.fail("cloud api", sdk::errorText(error));
        }
        runtime->stopPlugins();
    }

    // Meta's subscription handshake, from the outside in: public_url must reach this host.
    const PluginEntry* receiver = pluginEntry(config, "webhook_receiver");
    if (!receiver) {
        report.skip("public url", "webhook_receiver is not loaded");
    } else if (config.server.publicUrlDerived) {
        report.fail("public url", "server.public_url is not set, so it is the listen address " + config.server.publicUrl +
                                      ", which Meta cannot reach: set it (or TAWASUL_PUBLIC_URL) to the https:// address Meta posts webhooks to");
    } else if (unreachableFromOutside(config.server.publicUrl)) {
        report.fail("public url", "server.public_url " + config.server.publicUrl +
                                      " is a loopback or wildcard address, which Meta cannot reach: set it to the https:// address Meta posts webhooks to");
    } else if (!secretsOk) {
        report.skip("public url", "needs the master key (the verify token is sealed)");
    } else {
        const std::string path = receiver->config.getString("path", "/webhooks/whatsapp");
        std::string url = config.server.publicUrl;
        while (!url.empty() && url.back() == '/') url.pop_back();
        url += path;
        try {
            const auto token = runtime->settings().get("whatsapp.webhook.verify_token");
            if (!token || token->empty()) throw std::runtime_error("no verify token (setting whatsapp.webhook.verify_token)");
            const std::string challenge = std::to_string(std::random_device{}());
            std::string query;
            Poco::URI::encode(*token, "&=+#?/ ", query);
            const HttpAnswer answer = httpGet(url + "?hub.mode=subscribe&hub.challenge=" + challenge + "&hub.verify_token=" + query);
            if (answer.status == 200 && answer.body == challenge) report.ok("public url", url + " answers the verification handshake");
            else report.fail("public url", url + " answered HTTP " + std::to_string(answer.status) + " to the handshake, not the challenge");
        } catch (const Poco::Exception& error) {
            report.fail("public url", url + ": no answer (" + error.displayText() + ")");
        } catch (const std::exception& error) {
            report.fail("public url", error.what());
        }
    }

    // Who can read the database and the key: both hold what opens the secrets (read above).
    {
        if (!problems.empty()) report.fail("file modes", problems);
        else if (checked.empty()) report.skip("file modes", "no database file or key file here");
        else report.ok("file modes", checked + ": 0600");
    }

    {
        const fs::path where = !sqlite.empty() ? (sqlite.has_parent_path() ? sqlite.parent_path() : fs::path(".")) : fs::path(".");
        std::error_code error;
        const fs::space_info space = fs::space(where, error);
        if (error) report.fail("disk space", where.string() + ": " + error.message());
        else if (space.available < kMinFreeBytes) report.fail("disk space", sizeText(space.available) + " free under " + where.string() + " (below " + sizeText(kMinFreeBytes) + ")");
        else report.ok("disk space", sizeText(space.available) + " free under " + where.string());
    }

    // Meta's Date header against ours: timestamps, expiry and signature windows need a right clock.
    if (graphUrl.empty()) {
        report.skip("clock", "no Graph API to compare with");
    } else {
        try {
            const HttpAnswer answer = httpGet(graphUrl);
            if (answer.date.empty()) {
                report.skip("clock", graphUrl + " sent no Date header");
            } else {
                int zone = 0;
                const Poco::DateTime theirs = Poco::DateTimeParser::parse(answer.date, zone);
                const long long skew = static_cast<long long>(std::time(nullptr)) - static_cast<long long>(theirs.timestamp().epochTime());
                if (std::llabs(skew) > kMaxClockSkewSeconds)
                    report.fail("clock", "this clock is " + std::to_string(skew) + " s off the Graph API's (set up NTP, e.g. systemd-timesyncd)");
                else report.ok("clock", "within " + std::to_string(std::llabs(skew)) + " s of the Graph API's");
            }
        } catch (const Poco::Exception& error) {
            report.skip("clock", graphUrl + ": no answer (" + error.displayText() + ")");
        }
    }
    return report.failed() ? kExitFailure : kExitOk;
}

// Polls the local /readyz until 200 or `waitSeconds` pass (systemd's ExecStartPost).
int commandReady(const HostConfig& config, long long waitSeconds) {
    const std::string host = config.server.host == "0.0.0.0" || config.server.host.empty() ? "127.0.0.1"
                           : config.server.host == "::" ? "::1" : config.server.host;
    if (config.server.port == 0) {
        std::cerr << "tawasul: ready: server.listen has port 0 (a kernel-chosen port): nothing to ask\n";
        return kExitUsage;
    }
    const std::string url = "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                            std::to_string(config.server.port) + "/readyz";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(waitSeconds);
    std::string last = "no answer";
    do {
        try {
            const HttpAnswer answer = httpGet(url);
            if (answer.status == 200) {
                std::cout << "ready: " << url << "\n";
                return kExitOk;
            }
            last = "HTTP " + std::to_string(answer.status) + " " + answer.body.substr(0, 200);
        } catch (const Poco::Exception& error) {
            last = error.displayText();
        }
        if (std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    } while (true);
    std::cerr << "tawasul: ready: " << url << " is not ready: " << last << "\n";
    return kExitFailure;
}

}  // namespace

Command readyCommand() {
    return {"ready", "wait until this configuration's host answers /readyz 200 (--wait SECONDS)",
            "usage: tawasul [--config FILE] ready [--wait SECONDS]\n\n"
            "Asks http://<server.listen>/readyz (0.0.0.0 is asked on 127.0.0.1), again every 250 ms for\n"
            "up to --wait seconds (default 0: once). Exit 0 when it answers 200, 1 when it never did.\n"
            "The systemd unit runs it as ExecStartPost, so that started means ready.\n",
            [](const std::vector<std::string>& args) {
                Arguments parsed("ready", args, {"--wait"}, {});
                parsed.expectPositional(0, 0, "tawasul ready [--wait SECONDS]");
                parsed.number("--wait", 0, 0, 3600);
            },
            [](const HostConfig& config, const std::vector<std::string>& args) {
                return commandReady(config, Arguments("ready", args, {"--wait"}, {}).number("--wait", 0, 0, 3600));
            }};
}

Command doctorCommand() {
    return {"doctor", "check the installation end to end, one line per check",
            "usage: tawasul [--config FILE] doctor\n\n"
            "Checks, one line each (ok, FAIL with what to fix, or skip when an earlier check failed):\n"
            "the configuration, the database (reachable, every migration applied), the master key\n"
            "(opens every sealed setting), the plugins (load with this host's ABI), the Cloud API access\n"
            "token (a harmless Graph API call), the public URL (answers Meta's verification handshake),\n"
            "file modes of the database and key (0600), free disk space, and the clock against the Graph\n"
            "API's Date header. Exit 1 when a check fails; a broken configuration file exits 2 as for\n"
            "every command.\n",
            [](const std::vector<std::string>& args) { Arguments("doctor", args, {}, {}).expectPositional(0, 0, "tawasul doctor"); },
            [](const HostConfig& config, const std::vector<std::string>&) { return commandDoctor(config); }};
}

}  // namespace tawasul::host
