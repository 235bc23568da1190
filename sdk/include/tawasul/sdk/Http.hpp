#pragma once
// Requests and responses as plugins see them: the host has already read the whole body (within
// server.max_body_bytes and server.body_timeout_seconds), matched the route and extracted its
// {param} segments. A header name or value with CR, LF or NUL is never written: the host answers 500.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

// Who is calling: a signed-in user (Access::Session) or a platform API token (Access::Token).
struct TAWASUL_SDK_API Principal {
    std::string kind;                      // "user" or "api_token"
    std::int64_t id = 0;                   // users.id or api_tokens.id
    std::string name;
    std::string email;                     // users only
    std::string locale;                    // "en", "fr" or "ar": the user's choice or Accept-Language
    std::vector<std::string> permissions;  // a user's through their roles; a token's scopes
    std::string csrfToken;                 // users only: put it in every form and state-changing request

    bool can(const std::string& permission) const;
};

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
    // Set by the host before the handler runs on Session and Token routes; null on Public ones.
    std::shared_ptr<const Principal> principal;

    // First header with this name (case-insensitive), or nullopt.
    std::optional<std::string> header(const std::string& name) const;
    // First query parameter with this exact name, or nullopt.
    std::optional<std::string> queryParam(const std::string& name) const;
    const std::string& param(const std::string& name) const;  // throws std::out_of_range
    // The signed-in user's language ("en", "fr", "ar"); "en" without a principal or a choice.
    std::string locale() const;
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

// The id that names a request in log lines and in its X-Request-Id answer: the caller's own
// X-Request-Id when it is short and plain (letters, digits, - _ .), else a new random one.
TAWASUL_SDK_API std::string requestIdFor(const std::string& incoming);

// The text with every CR and LF turned into a space: for a header value or an event-stream field,
// where a line break would start a field of the sender's choosing.
inline std::string singleLine(std::string text) {
    for (char& c : text)
        if (c == '\r' || c == '\n') c = ' ';
    return text;
}

// How the host answers errors on this route: API routes get a JSON body, pages an HTML one.
enum class RouteStyle { Api, Page, Plain };

// Who may call a route. Public: anyone (webhooks, health). Session: a signed-in user holding
// `permission`; without a session a Page route answers 302 to the sign-in page and an Api route
// 401; without the permission 403; a state-changing method also needs the session's CSRF token.
// Token: `Authorization: Bearer` with a platform API token whose scopes include `permission`.
enum class Access { Public, Session, Token };

struct RouteOptions {
    RouteStyle style = RouteStyle::Api;
    Access access = Access::Public;
    std::string permission;  // required for Session and Token routes: they do not register without one

    static RouteOptions open(RouteStyle style) { return RouteOptions{style, Access::Public, {}}; }
    static RouteOptions session(RouteStyle style, std::string permission) {
        return RouteOptions{style, Access::Session, std::move(permission)};
    }
    static RouteOptions token(std::string scope) { return RouteOptions{RouteStyle::Api, Access::Token, std::move(scope)}; }
};

// The answer to an async route, given later from any thread: the handler keeps it (a copy of the
// shared_ptr) and calls send() once, for example from a group commit's callback. No thread waits
// meanwhile. Dropped without send(), it answers 500 (and the host logs the route).
class TAWASUL_SDK_API Responder {
public:
    virtual ~Responder();
    // Answers the request; the first call wins, later ones are ignored. Never blocks.
    virtual void send(HttpResponse response) = 0;
};

// Called on one of the server's I/O threads (Public routes) or a pool thread: it must return at
// once and must not block (no database, no waiting); slow work goes to a thread of the plugin's.
using AsyncHandler = std::function<void(HttpRequest& request, std::shared_ptr<Responder> responder)>;

// A Server-Sent Events response: a subscriber that costs a socket and a small buffer, not a thread.
// The stream handler keeps the shared_ptr (in its hub's list of subscribers) and returns; anyone may
// then send() from any thread. The host writes a keep-alive comment when the stream is quiet.
class TAWASUL_SDK_API EventStream {
public:
    virtual ~EventStream();
    // Queues one event and returns at once. False once the stream is closed: the client went, the
    // host is stopping, or the client stopped reading and its buffer (server.stream_buffer_bytes)
    // is full: a slow reader is dropped, a publisher never waits for it.
    virtual bool send(const std::string& event, const std::string& data, const std::string& id = {}) = 0;
    virtual bool open() const = 0;
    // Ends the stream from the server's side.
    virtual void close() = 0;
    // `closed` runs once when the stream ends, for whatever reason (at once if it already has), on a
    // server thread: forget the subscriber there. Keep it short; it must not call send().
    virtual void onClose(std::function<void()> closed) = 0;
};

// Runs on a pool thread after the route's access check; events sent before it returns follow the
// response head. It returns promptly: the stream lives on in whoever holds the shared_ptr.
using StreamHandler = std::function<void(const HttpRequest&, std::shared_ptr<EventStream>)>;

class TAWASUL_SDK_API RouteRegistry {
public:
    virtual ~RouteRegistry();
    // `pattern` is an absolute path whose segments may be `{name}`; a later segment
    // `{name...}` matches the rest of the path. Throws std::invalid_argument on a conflict.
    // The handler runs on the server's bounded pool (server.threads) and may block.
    virtual void add(const std::string& method, const std::string& pattern, HttpHandler handler,
                     RouteOptions options = {}) = 0;
    // A route answered later through a Responder, without holding a thread (see AsyncHandler).
    virtual void addAsync(const std::string& method, const std::string& pattern, AsyncHandler handler,
                          RouteOptions options = {}) = 0;
    // A GET route answered with `text/event-stream` (see StreamHandler). `Last-Event-ID` from a
    // reconnecting browser is in request.headers.
    virtual void addStream(const std::string& pattern, StreamHandler handler, RouteOptions options) = 0;
};

}  // namespace tawasul::sdk
