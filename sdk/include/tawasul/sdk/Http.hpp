#pragma once
// Requests and responses as plugins see them: the host has already read the whole body (within
// server.max_body_bytes), matched the route and extracted its {param} segments.
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

class TAWASUL_SDK_API HttpRequest {
public:
    std::string method;
    std::string path;                                         // decoded path, no query
    std::string rawQuery;                                     // as received, without '?'
    std::vector<std::pair<std::string, std::string>> query;   // decoded, in order
    std::vector<std::pair<std::string, std::string>> headers; // as received
    std::map<std::string, std::string> params;                // {name} segments of the route
    std::string body;                                         // raw bytes, exactly as received
    std::string remoteAddress;
    std::string requestId;

    // First header with this name (case-insensitive), or nullopt.
    std::optional<std::string> header(const std::string& name) const;
    // First query parameter with this exact name, or nullopt.
    std::optional<std::string> queryParam(const std::string& name) const;
    const std::string& param(const std::string& name) const;  // throws std::out_of_range
};

class TAWASUL_SDK_API HttpResponse {
public:
    int status = 200;
    std::string contentType = "text/plain; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    void setHeader(const std::string& name, const std::string& value);
    void json(int statusCode, std::string jsonBody);
    void text(int statusCode, std::string textBody);
    void html(int statusCode, std::string htmlBody);
    void redirect(int statusCode, const std::string& location);
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

// How the host answers errors on this route: API routes get a JSON body, pages an HTML one.
enum class RouteStyle { Api, Page, Plain };

struct RouteOptions {
    RouteStyle style = RouteStyle::Api;
};

class TAWASUL_SDK_API RouteRegistry {
public:
    virtual ~RouteRegistry();
    // `pattern` is an absolute path whose segments may be `{name}`; a later segment
    // `{name...}` matches the rest of the path. Throws std::invalid_argument on a conflict.
    virtual void add(const std::string& method, const std::string& pattern, HttpHandler handler,
                     RouteOptions options = {}) = 0;
};

}  // namespace tawasul::sdk
