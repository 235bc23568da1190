#pragma once
// What the host answers by itself, in the style of the route: the error bodies of the server, the
// access gate, the admin pages and the platform API, and the HTML escaping they (and the admin
// templates) use.
#include <string>

#include "tawasul/sdk/Http.hpp"

namespace tawasul::host {

// & < > " ' as HTML entities: safe in element text and in single- or double-quoted attributes.
std::string htmlEscape(const std::string& text);

// The body the host sends for an error on a route of this style (a Page error carries the page
// security headers). On Api routes:
// {"error":{"code","message","field"?},"request_id"}, `field` naming the part of the request at fault.
void writeError(sdk::HttpResponse& response, sdk::RouteStyle style, int status, const std::string& code,
                const std::string& message, const std::string& requestId, const std::string& field = {});

// The headers every HTML page of the admin carries, error pages included: no caching, no sniffing,
// no framing, same-origin referrers, and the Content-Security-Policy.
void setPageSecurityHeaders(sdk::HttpResponse& response);

}  // namespace tawasul::host
