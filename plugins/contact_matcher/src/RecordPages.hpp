#pragma once
// The page behind every admin_link the matcher hands out: a read-only summary of one platform
// record (its name, phones and display columns, read by the source's own table and id column)
// with the conversations of its phones, so that a match in the inbox's contact panel leads
// somewhere. The platform owns these rows: nothing here changes them. B2B leads of the platform's
// b2b_leads table have their own page (admin_inbox, /admin/b2b-leads/{id}), with its actions.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "Sources.hpp"
#include "tawasul/sdk/HostContext.hpp"

namespace tawasul::plugins::contact_matcher {

// The admin_inbox's lead page: a source of the platform's b2b_leads table links there.
inline constexpr const char* kLeadPagePattern = "/admin/b2b-leads/{id}";

// The route pattern of an admin_link: the link itself when it is a local path whose segments are
// plain words and exactly one "{id}"; nullopt for anything else (an address on another site, a
// query string), which the host cannot serve.
std::optional<std::string> routePatternOf(const std::string& adminLink);

class RecordPages {
public:
    RecordPages(sdk::HostContext& context, std::vector<Source> sources);
    // One GET route per source link (sources sharing a link share the first one's page).
    void registerRoutes();

private:
    void render(const Source& source, const sdk::HttpRequest& request, sdk::HttpResponse& response);
    void notFound(const Source& source, const sdk::HttpRequest& request, sdk::HttpResponse& response);
    std::string t(const sdk::HttpRequest& request, const std::string& key, const std::map<std::string, std::string>& args = {}) const;

    sdk::HostContext& context_;
    std::vector<Source> sources_;
};

}  // namespace tawasul::plugins::contact_matcher
