#pragma once
// Method + path routing with {param} segments. Each route remembers the plugin that owns it, so a
// plugin's routes leave with it, and its errors are reported under its name.
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "tawasul/sdk/Http.hpp"

namespace tawasul::host {

struct Route {
    std::string owner;
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    sdk::HttpHandler handler;    // or:
    sdk::AsyncHandler async;     // answered later through a Responder, or:
    sdk::StreamHandler stream;   // a GET answered with text/event-stream
    sdk::RouteOptions options;
};

struct RouteMatch {
    std::shared_ptr<const Route> route;
    std::map<std::string, std::string> params;
};

class Router {
public:
    // Throws std::invalid_argument for a malformed pattern or one already taken for this method.
    void add(const std::string& owner, const std::string& method, const std::string& pattern,
             sdk::HttpHandler handler, sdk::RouteOptions options);
    void addAsync(const std::string& owner, const std::string& method, const std::string& pattern,
                  sdk::AsyncHandler handler, sdk::RouteOptions options);
    // A GET route whose connection becomes a Server-Sent Events subscriber.
    void addStream(const std::string& owner, const std::string& pattern, sdk::StreamHandler handler, sdk::RouteOptions options);
    void removeOwner(const std::string& owner);

    enum class Outcome { Found, NotFound, MethodNotAllowed };
    Outcome match(const std::string& method, const std::string& path, RouteMatch& out,
                  std::string* allowedMethods = nullptr) const;

    std::vector<std::shared_ptr<const Route>> routes() const;

private:
    void insert(std::shared_ptr<Route> route);

    mutable std::shared_mutex mutex_;
    std::vector<std::shared_ptr<const Route>> routes_;
};

std::vector<std::string> splitPath(const std::string& path);

}  // namespace tawasul::host
