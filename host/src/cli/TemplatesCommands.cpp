// `tawasul templates sync`: Meta's templates (GET /{waba-id}/message_templates, every page) into
// the outbox's, as the templates page's "Sync with Meta" button does.
#include <iostream>

#include "cli/StartedPlugins.hpp"
#include "tawasul/sdk/Errors.hpp"
#include "tawasul/whatsapp/Templates.hpp"

namespace tawasul::host {
namespace {

constexpr const char* kUsage = "tawasul templates sync";

void validateTemplates(const std::vector<std::string>& args) {
    const Arguments parsed("templates", args, {}, {});
    const auto& words = parsed.positional();
    if (words.empty()) throw UsageError("usage: " + std::string(kUsage));
    if (words[0] != "sync") throw UsageError("templates: unknown action '" + words[0] + "' (usage: " + kUsage + ")");
    parsed.expectPositional(1, 1, kUsage);
}

int commandSync(const HostConfig& config) {
    StartedPlugins plugins(config);
    if (const std::size_t pending = plugins.runtime().migrator().pendingCount(); pending > 0) {
        std::cerr << "tawasul: templates sync: " << pending << " migration(s) pending: run `tawasul migrate` first\n";
        return kExitFailure;
    }
    const auto sync = plugins.service<sdk::TemplateSync>("templates sync", sdk::TemplateSync::kServiceName, "outbox");
    sdk::TemplateSyncReport report;
    try {
        report = sync->sync();
    } catch (const std::exception& error) {
        std::cerr << "tawasul: templates sync: " << sdk::errorText(error) << "\n";
        return kExitFailure;
    }
    std::cout << "templates sync: " << report.fromMeta << " template(s) at Meta: " << report.added << " added, " << report.updated
              << " updated, " << report.deleted << " deleted at Meta, " << report.skipped.size() << " skipped\n";
    for (const std::string& line : report.skipped) std::cout << "skipped " << line << "\n";
    return kExitOk;
}

}  // namespace

Command templatesCommand() {
    return {"templates", "bring Meta's message templates into the outbox (templates sync)",
            "usage: tawasul [--config FILE] templates sync\n\n"
            "sync  reads every template of the business account from Meta (setting\n"
            "      whatsapp.cloud.business_account_id, with the Cloud API's access token) and writes them into\n"
            "      the outbox's templates in one transaction: Meta's header, body, buttons, category, status,\n"
            "      reason and quality. A template Meta has not approved is then refused before any send; a\n"
            "      local one Meta does not hold stays local (sent by hand); one Meta no longer lists is\n"
            "      marked DELETED. Templates with parts Tawasul cannot send (a media header, an OTP or\n"
            "      copy-code button) are listed as skipped. Exits 1 when Meta cannot be read (nothing is\n"
            "      written).\n",
            validateTemplates, [](const HostConfig& config, const std::vector<std::string>&) { return commandSync(config); }};
}

}  // namespace tawasul::host
