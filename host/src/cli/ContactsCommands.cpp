// `tawasul contacts reindex|match`: rebuilds the contact matcher's phone index from the platform's
// tables, and shows what a phone number matches (the operator's view of what the inbox will show).
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>

#include "cli/StartedPlugins.hpp"
#include "tawasul/whatsapp/Contacts.hpp"
#include "tawasul/whatsapp/Phones.hpp"

namespace tawasul::host {
namespace {

constexpr const char* kUsage = "tawasul contacts reindex | contacts match PHONE";
// The contact_matcher plugin publishes the matcher; its configuration says the default region.
constexpr const char* kMatcherPlugin = "contact_matcher";

void validateContacts(const std::vector<std::string>& args) {
    const Arguments parsed("contacts", args, {}, {});
    const auto& words = parsed.positional();
    if (words.empty()) throw UsageError("usage: " + std::string(kUsage));
    if (words[0] == "reindex") {
        parsed.expectPositional(1, 1, "tawasul contacts reindex");
    } else if (words[0] == "match") {
        parsed.expectPositional(2, 2, "tawasul contacts match PHONE");
        if (words[1].empty()) throw UsageError("contacts match: PHONE is empty");
    } else {
        throw UsageError("contacts: unknown action '" + words[0] + "' (usage: " + kUsage + ")");
    }
}


int commandReindex(const HostConfig& config) {
    StartedPlugins plugins(config);
    if (const std::size_t pending = plugins.runtime().migrator().pendingCount(); pending > 0) {
        std::cerr << "tawasul: contacts reindex: " << pending << " migration(s) pending: run `tawasul migrate` first\n";
        return kExitFailure;
    }
    auto matcher = plugins.service<sdk::ContactMatcher>("contacts", sdk::ContactMatcher::kServiceName, kMatcherPlugin);
    const auto started = std::chrono::steady_clock::now();
    // At most about once a second (the first call at once, for the total), and the final count.
    auto lastLine = started - std::chrono::seconds(1);
    std::size_t records = 0, outOf = 0, lastPrinted = static_cast<std::size_t>(-1);
    auto print = [&](std::size_t done, std::size_t total) {
        std::cerr << "indexed " << done << "/" << total << " platform records\n" << std::flush;
        lastPrinted = done;
    };
    const std::size_t phones = matcher->reindex([&](std::size_t done, std::size_t total) {
        records = done;
        outOf = total;
        const auto now = std::chrono::steady_clock::now();
        if (now - lastLine >= std::chrono::seconds(1)) {
            print(done, total);
            lastLine = now;
        }
    });
    if (lastPrinted != records) print(records, std::max(records, outOf));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << "reindexed " << records << " platform records: " << phones << " phone numbers in the index ("
              << plugins.runtime().database().displayUrl() << ", " << std::fixed << std::setprecision(1) << seconds << " s)\n";
    return kExitOk;
}

int commandMatch(const HostConfig& config, const std::string& phone) {
    // The matcher's own region decides what a national number means.
    std::string region = "DZ";
    for (const PluginEntry& entry : config.plugins)
        if (entry.name == kMatcherPlugin && entry.config.isMap()) region = entry.config.getString("default_region", "DZ");
    StartedPlugins plugins(config);
    auto matcher = plugins.service<sdk::ContactMatcher>("contacts", sdk::ContactMatcher::kServiceName, kMatcherPlugin);
    const auto e164 = sdk::PhoneNormalizer(region).toE164(phone);
    if (!e164) throw UsageError("contacts match: '" + phone + "' is not a valid phone number (default region " + region + ")");
    const auto candidates = matcher->match(phone);
    if (candidates.empty()) {
        std::cout << "no platform record has " << *e164 << "\n";
        return kExitOk;
    }
    std::cout << *e164 << ": " << candidates.size() << " match" << (candidates.size() == 1 ? "" : "es") << "\n";
    std::cout << std::left << std::setw(14) << "KIND" << std::setw(10) << "ID" << std::setw(28) << "NAME" << std::setw(28)
              << "SOURCE" << std::setw(22) << "RAW VALUE" << "LINK\n";
    for (const sdk::MatchCandidate& c : candidates) {
        std::cout << std::left << std::setw(14) << c.kind << std::setw(10) << c.id << std::setw(28) << (c.name.empty() ? "-" : c.name)
                  << std::setw(28) << (c.source + "." + c.column) << std::setw(22) << c.rawValue << (c.adminLink.empty() ? "-" : c.adminLink)
                  << "\n";
    }
    return kExitOk;
}

}  // namespace

Command contactsCommand() {
    return {"contacts", "rebuild the phone index of the contact matcher, or show a number's matches",
            "usage: tawasul [--config FILE] contacts reindex\n"
            "       tawasul [--config FILE] contacts match PHONE\n\n"
            "reindex  rebuilds the contact matcher's index of platform phone numbers (every configured\n"
            "         source, in batches, each swapped in its own transaction so that matching keeps\n"
            "         working meanwhile), with a progress line on stderr. Values that are not phone\n"
            "         numbers are skipped and counted in a warning. Run it after changing the sources\n"
            "         or after bulk edits the refresh cannot see (deletes, tables without updated_column).\n"
            "match    normalises PHONE (a wa_id, 0555 12 34 56, +213..., 00213...) and lists the records it\n"
            "         matches, best first: kind, id, name, table.column, the value as stored, admin link.\n",
            validateContacts,
            [](const HostConfig& config, const std::vector<std::string>& args) {
                const std::vector<std::string> words = Arguments("contacts", args, {}, {}).positional();
                return words[0] == "reindex" ? commandReindex(config) : commandMatch(config, words[1]);
            }};
}

}  // namespace tawasul::host
