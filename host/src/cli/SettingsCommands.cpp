// `tawasul settings list|get|set|unset`: the site_settings rows, secrets masked unless --reveal.
#include <algorithm>
#include <iostream>
#include <iterator>
#include <map>

#include "cli/Cli.hpp"
#include "app/Runtime.hpp"

namespace tawasul::host {
namespace {

constexpr const char* kUsage =
    "tawasul settings list [--reveal] | get KEY [--reveal] | set KEY VALUE | set KEY --stdin | unset KEY | rekey --new-key-file FILE";
constexpr const char* kMask = "******** (encrypted)";

struct KnownSetting {
    const char* key;
    const char* about;
};

// The settings `set` accepts. A closed list on purpose: a typo in a secret's name would otherwise
// store the secret in clear text under a key nobody reads.
const std::vector<KnownSetting>& knownSettings() {
    static const std::vector<KnownSetting> known{
        {"whatsapp.cloud.access_token", "secret: the Graph API token (System User token)"},
        {"whatsapp.cloud.app_secret", "secret: the Meta app secret; webhook signatures are checked with it"},
        {"whatsapp.webhook.verify_token", "secret: the token Meta sends back in the verification handshake"},
        {"whatsapp.cloud.phone_number_id", "digits: the business number's id in the Graph API"},
        {"whatsapp.cloud.business_account_id", "digits: the WhatsApp Business Account id"},
        {"whatsapp.cloud.api_version", "the Graph API version, e.g. v21.0"},
        {"whatsapp.cloud.enabled", "true or false: send through the Cloud API"},
    };
    return known;
}

bool isKnown(const std::string& key) {
    const auto& known = knownSettings();
    return std::any_of(known.begin(), known.end(), [&](const KnownSetting& s) { return key == s.key; });
}

bool allDigits(const std::string& text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Throws UsageError when `value` is not acceptable for `key`. Secret values are never echoed.
void checkValue(const std::string& key, const std::string& value) {
    const bool secret = SettingsStore::secretKeys().count(key) > 0;
    const std::string shown = secret ? "" : ", got '" + value + "'";
    auto refuse = [&](const std::string& why) { throw UsageError("settings: " + key + " " + why + shown); };
    if (value.empty()) throw UsageError("settings: empty value for " + key + " (to remove it: tawasul settings unset " + key + ")");
    for (unsigned char c : value)
        if (c < 0x20 || c == 0x7F) throw UsageError("settings: the value for " + key + " contains a control character (newline, tab, ...)");
    if (key == "whatsapp.cloud.enabled" && value != "true" && value != "false") refuse("must be true or false");
    if ((key == "whatsapp.cloud.phone_number_id" || key == "whatsapp.cloud.business_account_id") && !allDigits(value))
        refuse("must be digits only");
    if (key == "whatsapp.cloud.api_version") {
        const auto dot = value.find('.');
        if (value.size() < 4 || value[0] != 'v' || dot == std::string::npos || !allDigits(value.substr(1, dot - 1)) ||
            !allDigits(value.substr(dot + 1)))
            refuse("must look like v21.0");
    }
    if (secret && (value.front() == ' ' || value.back() == ' '))
        throw UsageError("settings: the value for " + key + " starts or ends with a space (a paste error?)");
}

struct SettingsRequest {
    std::string action;  // list, get, set, unset
    std::string key;
    std::optional<std::string> value;  // set KEY VALUE
    bool fromStdin = false;
    bool reveal = false;
    std::string newKeyFile;  // rekey
};

SettingsRequest parseSettings(const std::vector<std::string>& args) {
    if (args.empty()) throw UsageError("usage: " + std::string(kUsage));
    SettingsRequest request;
    request.action = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    const std::string where = "settings " + request.action;
    if (request.action == "list") {
        Arguments parsed(where, rest, {}, {"--reveal"});
        parsed.expectPositional(0, 0, "tawasul settings list [--reveal]");
        request.reveal = parsed.flag("--reveal");
        return request;
    }
    if (request.action == "get") {
        Arguments parsed(where, rest, {}, {"--reveal"});
        parsed.expectPositional(1, 1, "tawasul settings get KEY [--reveal]");
        request.key = parsed.positional()[0];
        request.reveal = parsed.flag("--reveal");
    } else if (request.action == "set") {
        Arguments parsed(where, rest, {}, {"--stdin"});
        request.fromStdin = parsed.flag("--stdin");
        parsed.expectPositional(request.fromStdin ? 1 : 2, request.fromStdin ? 1 : 2,
                                "tawasul settings set KEY VALUE | tawasul settings set KEY --stdin");
        request.key = parsed.positional()[0];
        if (!isKnown(request.key)) {
            std::string names;
            for (const auto& s : knownSettings()) names += (names.empty() ? "" : ", ") + std::string(s.key);
            throw UsageError("settings: unknown setting '" + request.key + "' (known: " + names + ")");
        }
        if (!request.fromStdin) {
            request.value = parsed.positional()[1];
            checkValue(request.key, *request.value);
        }
    } else if (request.action == "rekey") {
        Arguments parsed(where, rest, {"--new-key-file"}, {});
        parsed.expectPositional(0, 0, "tawasul settings rekey --new-key-file FILE");
        const auto file = parsed.value("--new-key-file");
        if (!file || file->empty()) throw UsageError("usage: tawasul settings rekey --new-key-file FILE");
        request.newKeyFile = *file;
        return request;
    } else if (request.action == "unset") {
        Arguments parsed(where, rest, {}, {});
        parsed.expectPositional(1, 1, "tawasul settings unset KEY");
        request.key = parsed.positional()[0];
    } else {
        throw UsageError("usage: " + std::string(kUsage));
    }
    if (request.key == SettingsStore::kKeyCheck)
        throw UsageError("settings: " + request.key + " is the host's own record of the master key, not a setting");
    return request;
}

// The whole of stdin less one trailing newline (what `echo` or a here-string adds).
std::string readValueFromStdin() {
    std::string value((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (!value.empty() && value.back() == '\n') value.pop_back();
    if (!value.empty() && value.back() == '\r') value.pop_back();
    return value;
}

int runSettings(const HostConfig& config, const std::vector<std::string>& args) {
    SettingsRequest request = parseSettings(args);
    if (request.action == "set" && request.fromStdin) {
        request.value = readValueFromStdin();
        checkValue(request.key, *request.value);
    }
    Runtime runtime(config);
    runtime.openSecrets(false);
    SettingsStore& settings = runtime.settings();
    // Before anything is read or sealed: a wrong key would otherwise seal new secrets under a key
    // that cannot open the old ones.
    settings.verifyMasterKey();

    if (request.action == "list") {
        std::map<std::string, std::string> shown;
        for (const auto& known : knownSettings()) shown[known.key] = "(not set)";
        for (const auto& [key, row] : settings.rows()) {
            if (key == SettingsStore::kKeyCheck) continue;
            if (row.encrypted || settings.isSecret(key)) shown[key] = request.reveal ? settings.get(key).value_or("") : kMask;
            else shown[key] = row.value;
        }
        for (const auto& [key, value] : shown) std::cout << key << " = " << value << "\n";
        return kExitOk;
    }
    if (request.action == "get") {
        const auto value = settings.get(request.key);
        if (!value) throw std::runtime_error("no setting '" + request.key + "'");
        std::cout << (settings.isSecret(request.key) && !request.reveal ? std::string(kMask) : *value) << "\n";
        return kExitOk;
    }
    if (request.action == "set") {
        settings.set(request.key, *request.value);
        if (settings.isSecret(request.key)) std::cout << "set " << request.key << " (encrypted)\n";
        else std::cout << "set " << request.key << " = " << *request.value << "\n";
        return kExitOk;
    }
    if (request.action == "rekey") {
        // The new key: read from FILE, or made there (0600) when FILE does not exist yet.
        const SecretBox newBox = SecretBox::fromFile(request.newKeyFile, true);
        const std::size_t count = settings.rekey(newBox);
        std::cout << "re-sealed " << count << " secret(s) under the key in " << request.newKeyFile
                  << "; now point secrets.key_file (or TAWASUL_MASTER_KEY) at it on every host and restart them\n";
        return kExitOk;
    }
    // unset
    if (!settings.remove(request.key)) throw std::runtime_error("no setting '" + request.key + "'");
    std::cout << "removed " << request.key << "\n";
    return kExitOk;
}

std::string settingsHelp() {
    std::string text =
        "usage: tawasul [--config FILE] settings list [--reveal]\n"
        "       tawasul [--config FILE] settings get KEY [--reveal]\n"
        "       tawasul [--config FILE] settings set KEY VALUE\n"
        "       tawasul [--config FILE] settings set KEY --stdin\n"
        "       tawasul [--config FILE] settings unset KEY\n"
        "       tawasul [--config FILE] settings rekey --new-key-file FILE\n\n"
        "Reads and writes site_settings. Secret values are sealed with the master key (AES-256-GCM)\n"
        "before they reach the database and are printed as '********' unless --reveal is given.\n"
        "`set KEY --stdin` reads the value from standard input (one trailing newline dropped), which\n"
        "keeps secrets out of the shell history:  tawasul settings set whatsapp.cloud.app_secret --stdin\n"
        "A wrong master key (TAWASUL_MASTER_KEY or secrets.key_file) is refused before anything is read.\n"
        "Running hosts see a change within a second.\n"
        "`rekey` rotates the master key: it re-seals every secret under the key in FILE (made, 0600,\n"
        "when FILE does not exist) in one transaction; then use FILE as the key on every host.\n\nsettings:\n";
    for (const auto& known : knownSettings()) {
        std::string name = known.key;
        name.resize(38, ' ');
        text += "  " + name + known.about + "\n";
    }
    return text;
}

}  // namespace

Command settingsCommand() {
    return {"settings", "list, read and change settings; secrets are masked (settings list|get|set|unset|rekey)", settingsHelp(),
            [](const std::vector<std::string>& args) { (void)parseSettings(args); }, runSettings};
}

}  // namespace tawasul::host
