#include "http/Router.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace tawasul::host {
namespace {

bool isParam(const std::string& segment) { return segment.size() > 2 && segment.front() == '{' && segment.back() == '}'; }
bool isRest(const std::string& segment) { return isParam(segment) && segment.size() > 5 && segment.compare(segment.size() - 4, 4, "...}") == 0; }
std::string paramName(const std::string& segment) {
    return isRest(segment) ? segment.substr(1, segment.size() - 5) : segment.substr(1, segment.size() - 2);
}
// Two patterns that differ only in parameter names match the same paths: the same route.
bool sameShape(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (isParam(a[i]) != isParam(b[i]) || isRest(a[i]) != isRest(b[i])) return false;
        if (!isParam(a[i]) && a[i] != b[i]) return false;
    }
    return true;
}

bool matches(const Route& route, const std::vector<std::string>& parts, std::map<std::string, std::string>& params) {
    const auto& segments = route.segments;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        if (isRest(segments[i])) {
            if (i >= parts.size()) return false;
            std::string rest;
            for (std::size_t j = i; j < parts.size(); ++j) rest += (j > i ? "/" : "") + parts[j];
            params[paramName(segments[i])] = rest;
            return true;
        }
        if (i >= parts.size()) return false;
        if (isParam(segments[i])) {
            params[paramName(segments[i])] = parts[i];
        } else if (segments[i] != parts[i]) {
            return false;
        }
    }
    return segments.size() == parts.size();
}

}  // namespace

std::vector<std::string> splitPath(const std::string& path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t slash = path.find('/', start);
        if (slash == std::string::npos) slash = path.size();
        if (slash > start) parts.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return parts;
}

namespace {

// Every page under /admin/ is for signed-in users, except the sign-in page itself, the static files
// it needs, and the legacy /admin/whatsapp/* addresses that only redirect.
bool mayBePublicUnderAdmin(const std::string& pattern) {
    return pattern == "/admin/login" || pattern.rfind("/admin/static/", 0) == 0 || pattern == "/admin/whatsapp" ||
           pattern.rfind("/admin/whatsapp/", 0) == 0;
}

std::shared_ptr<Route> makeRoute(const std::string& owner, const std::string& method, const std::string& pattern,
                                 const sdk::RouteOptions& options) {
    if (pattern.empty() || pattern[0] != '/') throw std::invalid_argument("route pattern must start with '/': " + pattern);
    // Fail closed: a guarded route must name the permission it guards with.
    if (options.access != sdk::Access::Public && options.permission.empty())
        throw std::invalid_argument("route " + method + " " + pattern + " needs a permission");
    const bool underAdmin = pattern == "/admin" || pattern.rfind("/admin/", 0) == 0;
    if (underAdmin && options.access != sdk::Access::Session && !mayBePublicUnderAdmin(pattern))
        throw std::invalid_argument("route " + method + " " + pattern +
                                    " is under /admin/ and must be a Session route with a permission (RouteOptions::session)");
    auto route = std::make_shared<Route>();
    route->owner = owner;
    route->method = method;
    route->pattern = pattern;
    route->segments = splitPath(pattern);
    route->options = options;
    for (std::size_t i = 0; i < route->segments.size(); ++i) {
        if (isRest(route->segments[i]) && i + 1 != route->segments.size())
            throw std::invalid_argument("{name...} must be the last segment: " + pattern);
    }
    return route;
}

}  // namespace

void Router::add(const std::string& owner, const std::string& method, const std::string& pattern,
                 sdk::HttpHandler handler, sdk::RouteOptions options) {
    if (!handler) throw std::invalid_argument("route " + method + " " + pattern + " has no handler");
    auto route = makeRoute(owner, method, pattern, options);
    route->handler = std::move(handler);
    insert(std::move(route));
}

void Router::addAsync(const std::string& owner, const std::string& method, const std::string& pattern,
                      sdk::AsyncHandler handler, sdk::RouteOptions options) {
    if (!handler) throw std::invalid_argument("route " + method + " " + pattern + " has no handler");
    auto route = makeRoute(owner, method, pattern, options);
    route->async = std::move(handler);
    insert(std::move(route));
}

void Router::addStream(const std::string& owner, const std::string& pattern, sdk::StreamHandler handler, sdk::RouteOptions options) {
    if (!handler) throw std::invalid_argument("stream GET " + pattern + " has no handler");
    auto route = makeRoute(owner, "GET", pattern, options);
    route->stream = std::move(handler);
    insert(std::move(route));
}

void Router::insert(std::shared_ptr<Route> route) {
    const std::string& method = route->method;
    const std::string& pattern = route->pattern;
    std::unique_lock lock(mutex_);
    for (const auto& existing : routes_) {
        if (existing->method == method && sameShape(existing->segments, route->segments))
            throw std::invalid_argument("route " + method + " " + pattern + " is already registered by '" + existing->owner + "'");
    }
    routes_.push_back(std::move(route));
    // Literal segments win over parameters, and a {rest...} comes last among routes with as many
    // literals: sort so that more specific routes are tried first.
    std::stable_sort(routes_.begin(), routes_.end(), [](const auto& a, const auto& b) {
        auto literals = [](const Route& r) {
            return std::count_if(r.segments.begin(), r.segments.end(), [](const std::string& s) { return !isParam(s); });
        };
        auto hasRest = [](const Route& r) { return !r.segments.empty() && isRest(r.segments.back()); };
        if (literals(*a) != literals(*b)) return literals(*a) > literals(*b);
        return !hasRest(*a) && hasRest(*b);
    });
}

void Router::removeOwner(const std::string& owner) {
    std::unique_lock lock(mutex_);
    routes_.erase(std::remove_if(routes_.begin(), routes_.end(), [&](const auto& r) { return r->owner == owner; }),
                  routes_.end());
}

Router::Outcome Router::match(const std::string& method, const std::string& path, RouteMatch& out,
                              std::string* allowedMethods) const {
    const auto parts = splitPath(path);
    std::shared_lock lock(mutex_);
    bool pathKnown = false;
    std::string allowed;
    for (const auto& route : routes_) {
        std::map<std::string, std::string> params;
        if (!matches(*route, parts, params)) continue;
        // HEAD is served by the GET route; the server drops the body.
        if (route->method == method || (method == "HEAD" && route->method == "GET")) {
            out.route = route;
            out.params = std::move(params);
            return Outcome::Found;
        }
        pathKnown = true;
        if (allowed.find(route->method) == std::string::npos) allowed += (allowed.empty() ? "" : ", ") + route->method;
    }
    if (allowedMethods) *allowedMethods = allowed;
    return pathKnown ? Outcome::MethodNotAllowed : Outcome::NotFound;
}

std::vector<std::shared_ptr<const Route>> Router::routes() const {
    std::shared_lock lock(mutex_);
    return routes_;
}

}  // namespace tawasul::host
