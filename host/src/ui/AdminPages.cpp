#include "ui/AdminPages.hpp"

#include <fstream>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/Logger.h>
#include <Poco/URI.h>
#include <utf8proc.h>

#include "tawasul/sdk/Config.hpp"
#include "tawasul/sdk/Crypto.hpp"
#include "tawasul/sdk/Forms.hpp"

#include "http/Responses.hpp"

namespace tawasul::host {
namespace {

using kainjow::mustache::data;
using kainjow::mustache::mustache;

std::string readWhole(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + file.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// kainjow reports "... at <offset>": point at FILE:LINE:COL instead.
std::string templateError(const std::filesystem::path& file, const std::string& text, const std::string& message) {
    std::size_t offset = 0;
    const auto at = message.rfind(" at ");
    std::string what = message;
    if (at != std::string::npos) {
        try {
            offset = std::stoul(message.substr(at + 4));
            what = message.substr(0, at);
        } catch (const std::exception&) {
        }
    }
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return file.string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what;
}

std::shared_ptr<mustache> parseTemplate(const std::filesystem::path& file) {
    const std::string text = readWhole(file);
    auto parsed = std::make_shared<mustache>(text);
    if (!parsed->is_valid()) throw sdk::ConfigError(templateError(file, text, parsed->error_message()));
    // kainjow escapes & < > "; htmlEscape the apostrophe too, so a value is safe in a single-quoted attribute.
    parsed->set_custom_escape(htmlEscape);
    return parsed;
}

data fromVar(const Poco::Dynamic::Var& value);

data fromArray(const Poco::JSON::Array& array) {
    data list{data::type::list};
    for (std::size_t i = 0; i < array.size(); ++i) list.push_back(fromVar(array.get(i)));
    return list;
}

data fromVar(const Poco::Dynamic::Var& value) {
    if (value.isEmpty()) return data{false};
    if (value.type() == typeid(Poco::JSON::Object::Ptr)) {
        auto object = value.extract<Poco::JSON::Object::Ptr>();
        return object ? toMustache(*object) : data{false};
    }
    if (value.type() == typeid(Poco::JSON::Object)) return toMustache(value.extract<Poco::JSON::Object>());
    if (value.type() == typeid(Poco::JSON::Array::Ptr)) {
        auto array = value.extract<Poco::JSON::Array::Ptr>();
        return array ? fromArray(*array) : data{data::type::list};
    }
    if (value.type() == typeid(Poco::JSON::Array)) return fromArray(value.extract<Poco::JSON::Array>());
    if (value.type() == typeid(bool)) return data{value.extract<bool>()};
    return data{value.convert<std::string>()};
}

struct NavSection {
    const char* key;  // host catalog: nav.<key>
    const char* href;
    const char* permission;
};

// The admin sections, in menu order. A section appears when its page is registered and the user
// holds its permission.
const NavSection kSections[] = {
    {"inbox", "/admin/inbox", "whatsapp.inbox.view"},
    {"leads", "/admin/b2b-leads", "whatsapp.leads.manage"},
    {"replies", "/admin/messaging/whatsapp/canned-replies", "whatsapp.replies.manage"},
    {"outbox", "/admin/messaging/whatsapp/outbox", "whatsapp.outbox.manage"},
    {"templates", "/admin/messaging/whatsapp/templates", "whatsapp.templates.manage"},
    {"flows", "/admin/messaging/whatsapp/flows", "whatsapp.outbox.manage"},
    {"logs", "/admin/messaging/whatsapp/logs", "whatsapp.webhooks.view"},
    {"webhook_events", "/admin/messaging/whatsapp/webhook-events", "whatsapp.webhooks.view"},
    {"settings", "/admin/messaging/whatsapp/settings", "whatsapp.settings.manage"},
    {"users", "/admin/users", "users.manage"},
};

std::string contentTypeOf(const std::filesystem::path& file) {
    static const std::map<std::string, std::string> types{
        {".css", "text/css; charset=utf-8"},      {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".svg", "image/svg+xml"},
        {".png", "image/png"},                    {".jpg", "image/jpeg"},
        {".ico", "image/x-icon"},                 {".woff2", "font/woff2"},
        {".json", "application/json"},            {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},
    };
    auto it = types.find(file.extension().string());
    return it == types.end() ? "application/octet-stream" : it->second;
}

// Only plain names: no "..", no ".", no hidden files, no backslashes or NULs.
bool safeSegments(const std::vector<std::string>& parts) {
    if (parts.empty()) return false;
    for (const auto& part : parts) {
        if (part.empty() || part[0] == '.') return false;
        if (part.find('\\') != std::string::npos || part.find('\0') != std::string::npos) return false;
    }
    return true;
}

// A `next` that stays on this site's admin pages: "/admin..." and not "//host" or "/\host".
std::string safeNext(const std::string& next) {
    if (next.rfind("/admin", 0) != 0) return "/admin";
    for (char c : next)
        if (c == '\\' || static_cast<unsigned char>(c) < 0x20) return "/admin";
    if (next.rfind("/admin/login", 0) == 0) return "/admin";
    return next;
}

}  // namespace

TemplateSet TemplateSet::load(const std::filesystem::path& dir) {
    TemplateSet set;
    if (!std::filesystem::is_directory(dir)) return set;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".mustache") continue;
        set.templates_[entry.path().stem().string()] = parseTemplate(entry.path());
    }
    return set;
}

const mustache* TemplateSet::find(const std::string& name) const {
    auto it = templates_.find(name);
    return it == templates_.end() ? nullptr : it->second.get();
}

data toMustache(const Poco::JSON::Object& object) {
    data out{data::type::object};
    for (const auto& [key, value] : object) out.set(key, fromVar(value));
    return out;
}

AdminUi::AdminUi(const std::filesystem::path& webDir, Router& router)
    : webDir_(webDir), router_(router) {
    const auto layout = webDir / "templates" / "layout.mustache";
    if (!std::filesystem::exists(layout))
        throw sdk::ConfigError(layout.string() + ":1:1: the admin layout is missing (server.web_dir points at the host's web folder)");
    hostCatalog_ = Catalog::load(webDir / "lang", "host");
    hostTemplates_ = TemplateSet::load(webDir / "templates");
    layout_ = parseTemplate(layout);
    publicDirs_[""] = webDir / "public";
}

void AdminUi::addPublicDir(const std::string& plugin, const std::filesystem::path& dir) {
    if (std::filesystem::is_directory(dir)) publicDirs_[plugin] = dir;
}

std::string AdminUi::localeOf(const sdk::HttpRequest& request) {
    if (request.principal && supportedLocale(request.principal->locale)) return request.principal->locale;
    const std::string cookie = cookieValue(request, kLocaleCookie);
    if (supportedLocale(cookie)) return cookie;
    return localeFromAcceptLanguage(request.header("Accept-Language").value_or(""));
}

void AdminUi::render(const Catalog& catalog, const TemplateSet& templates, const sdk::HttpRequest& request,
                     sdk::HttpResponse& response, const std::string& templateName, const std::string& title,
                     const Poco::JSON::Object& model, int status) const {
    const mustache* page = templates.find(templateName);
    if (!page) throw std::runtime_error("no template '" + templateName + "' in " + catalog.directory().parent_path().string() + "/templates");
    const std::string locale = localeOf(request);
    const auto& principal = request.principal;

    data root = toMustache(model);
    data t = catalog.mustacheData(locale);
    t.set("host", hostCatalog_.mustacheData(locale));
    root.set("t", t);
    root.set("lang", locale);
    root.set("dir", hostCatalog_.rightToLeft(locale) ? "rtl" : "ltr");
    root.set("title", withoutBidiControls(title));
    root.set("path", request.path);
    root.set("signed_in", principal != nullptr);
    if (principal) {
        data user{data::type::object};
        user.set("name", principal->name);
        user.set("email", principal->email);
        root.set("user", user);
        root.set("csrf_token", principal->csrfToken);
        data nav{data::type::list};
        for (const NavSection& section : kSections) {
            RouteMatch match;
            if (!principal->can(section.permission) || router_.match("GET", section.href, match) != Router::Outcome::Found) continue;
            data item{data::type::object};
            item.set("href", section.href);
            item.set("label", hostCatalog_.text(locale, std::string("nav.") + section.key));
            const bool current = request.path == section.href || request.path.rfind(std::string(section.href) + "/", 0) == 0;
            item.set("current", current);
            nav.push_back(item);
        }
        root.set("nav", nav);
    }
    data locales{data::type::list};
    for (const std::string& code : sdk::supportedLocales()) {
        data item{data::type::object};
        item.set("code", code);
        item.set("label", hostCatalog_.text(code, "language_name"));
        item.set("current", code == locale);
        locales.push_back(item);
    }
    root.set("locales", locales);

    // Rendering keeps state in the template object: each request renders its own copy.
    mustache pageCopy = *page, layoutCopy = *layout_;
    const std::string content = pageCopy.render(root);
    if (!pageCopy.is_valid()) throw std::runtime_error("template '" + templateName + "': " + pageCopy.error_message());
    root.set("content", content);  // host-made HTML: the layout inserts it with {{{content}}}
    response.html(status, layoutCopy.render(root));
    setPageSecurityHeaders(response);
}

std::string withoutBidiControls(const std::string& text) {
    // A title is plain text in the tab and the history: no <bdi> can isolate a name there, so an
    // embedding, override or isolate (U+202A-202E, U+2066-2069) or a mark (LRM, RLM, ALM) that
    // would reorder the rest is dropped, as are control characters; invalid UTF-8 becomes U+FFFD.
    std::string out;
    out.reserve(text.size());
    const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    utf8proc_ssize_t at = 0;
    const auto size = static_cast<utf8proc_ssize_t>(text.size());
    while (at < size) {
        utf8proc_int32_t cp = 0;
        utf8proc_ssize_t length = utf8proc_iterate(bytes + at, size - at, &cp);
        if (length <= 0) {
            cp = 0xFFFD;
            length = 1;
        }
        at += length;
        const utf8proc_property_t* property = utf8proc_get_property(cp);
        switch (property->bidi_class) {
            case UTF8PROC_BIDI_CLASS_LRE: case UTF8PROC_BIDI_CLASS_LRO: case UTF8PROC_BIDI_CLASS_RLE:
            case UTF8PROC_BIDI_CLASS_RLO: case UTF8PROC_BIDI_CLASS_PDF: case UTF8PROC_BIDI_CLASS_LRI:
            case UTF8PROC_BIDI_CLASS_RLI: case UTF8PROC_BIDI_CLASS_FSI: case UTF8PROC_BIDI_CLASS_PDI:
                continue;
            default: break;
        }
        if (cp == 0x200E || cp == 0x200F || cp == 0x061C || property->category == UTF8PROC_CATEGORY_CC) continue;
        utf8proc_uint8_t encoded[4];
        out.append(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(utf8proc_encode_char(cp, encoded)));
    }
    return out;
}

void AdminUi::renderHost(const sdk::HttpRequest& request, sdk::HttpResponse& response, const std::string& templateName,
                         const std::string& title, const Poco::JSON::Object& model, int status) const {
    render(hostCatalog_, hostTemplates_, request, response, templateName, title, model, status);
}

void AdminUi::renderError(const sdk::HttpRequest& request, sdk::HttpResponse& response, int status, const std::string& code,
                          const std::string& detail) const {
    const std::string locale = localeOf(request);
    const std::string word = code == "forbidden" || code == "csrf" || code == "not_found" ? code : "not_found";
    Poco::JSON::Object model;
    model.set("status", std::to_string(status));
    model.set("message", hostCatalog_.text(locale, "error." + word + ".message"));
    if (!detail.empty()) model.set("permission", detail);
    model.set("request_id", request.requestId);
    response = {};
    renderHost(request, response, "error", hostCatalog_.text(locale, "error." + word + ".title"), model, status);
}

void AdminUi::serveStatic(const sdk::HttpRequest& request, sdk::HttpResponse& response) const {
    auto parts = splitPath(request.param("path"));
    if (!safeSegments(parts)) {
        writeError(response, sdk::RouteStyle::Plain, 404, "not_found", "no such file", request.requestId);
        return;
    }
    std::filesystem::path root = publicDirs_.at("");
    auto plugin = publicDirs_.find(parts.front());
    if (plugin != publicDirs_.end() && parts.size() > 1) {
        root = plugin->second;
        parts.erase(parts.begin());
    }
    std::filesystem::path file = root;
    for (const auto& part : parts) file /= part;
    std::error_code error;
    // The canonical file must still be inside the canonical root (a symlink may not lead out).
    const auto canonicalRoot = std::filesystem::canonical(root, error);
    const auto canonicalFile = std::filesystem::canonical(file, error);
    if (error || !std::filesystem::is_regular_file(canonicalFile) ||
        canonicalFile.string().rfind(canonicalRoot.string() + "/", 0) != 0) {
        writeError(response, sdk::RouteStyle::Plain, 404, "not_found", "no such file", request.requestId);
        return;
    }
    const auto size = std::filesystem::file_size(canonicalFile, error);
    const auto modified = std::filesystem::last_write_time(canonicalFile, error).time_since_epoch().count();
    std::ostringstream etag;
    etag << "\"" << std::hex << size << "-" << modified << "\"";
    response.setHeader("ETag", etag.str());
    // Revalidated after an hour: an upgrade changes the files without changing their names.
    response.setHeader("Cache-Control", "public, max-age=3600");
    response.setHeader("X-Content-Type-Options", "nosniff");
    if (request.header("If-None-Match").value_or("") == etag.str()) {
        response.status = 304;
        response.body.clear();
        return;
    }
    response.status = 200;
    response.contentType = contentTypeOf(canonicalFile);
    response.body = readWhole(canonicalFile);
}

void registerAdminRoutes(Router& router, Auth& auth, AdminUi& ui) {
    const auto page = sdk::RouteOptions::open(sdk::RouteStyle::Page);
    const auto self = sdk::RouteOptions::session(sdk::RouteStyle::Page, "admin.self");

    router.add("host", "GET", "/admin/static/{path...}",
               [&ui](const sdk::HttpRequest& request, sdk::HttpResponse& response) { ui.serveStatic(request, response); },
               sdk::RouteOptions::open(sdk::RouteStyle::Plain));

    // The sign-in form carries a token that must equal a cookie set with it (double submit), so
    // another site cannot sign a browser in to an account of its choosing.
    auto showLogin = [&auth, &ui](const sdk::HttpRequest& request, sdk::HttpResponse& response, int status, const std::string& error,
                                  const std::string& email) {
        const std::string token = sdk::randomHex(16);
        Poco::JSON::Object model;
        model.set("login_csrf", token);
        model.set("next", safeNext(request.queryParam("next").value_or(sdk::FormData(request.body).get("next").value_or("/admin"))));
        model.set("email", email);
        if (!error.empty()) model.set("error", error);
        ui.renderHost(request, response, "login", ui.hostCatalog().text(AdminUi::localeOf(request), "login.title"), model, status);
        response.setHeader("Set-Cookie", std::string(kLoginCsrfCookie) + "=" + token + "; Path=/admin/login; HttpOnly; SameSite=Lax" +
                                             (auth.options().secureCookie ? "; Secure" : ""));
    };

    const bool secure = auth.options().secureCookie;
    router.add("host", "GET", "/admin/login", [showLogin, secure](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        // ?lang=xx on the sign-in page chooses the language before there is a user to remember it.
        const std::string lang = request.queryParam("lang").value_or("");
        if (supportedLocale(lang)) {
            std::string next;
            Poco::URI::encode(safeNext(request.queryParam("next").value_or("/admin")), "&=?#+%", next);
            response.redirect(303, "/admin/login?next=" + next);
            response.setHeader("Set-Cookie", std::string(kLocaleCookie) + "=" + lang + "; Path=/; Max-Age=31536000; SameSite=Lax" +
                                                 (secure ? "; Secure" : ""));
            return;
        }
        showLogin(request, response, 200, "", "");
    }, page);

    router.add("host", "POST", "/admin/login", [&auth, &ui, showLogin](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::string locale = AdminUi::localeOf(request);
        const auto& t = ui.hostCatalog();
        const sdk::FormData form(request.body);
        const std::string email = form.value("email");
        const std::string password = form.value("password");
        const std::string expected = cookieValue(request, kLoginCsrfCookie);
        if (!sdk::constantTimeEquals(expected, form.value("_csrf"))) {
            showLogin(request, response, 403, t.text(locale, "login.expired_form"), email);
            return;
        }
        if (email.empty() || password.empty()) {
            showLogin(request, response, 400, t.text(locale, "login.missing"), email);
            return;
        }
        const auto result = auth.signIn(email, password, request.remoteAddress, request.header("User-Agent").value_or(""));
        if (result.outcome == SignInResult::Throttled) {
            showLogin(request, response, 429, t.text(locale, "login.throttled", {{"minutes", std::to_string(result.retryMinutes)}}), email);
            response.setHeader("Retry-After", std::to_string(result.retryAfterSeconds));
            return;
        }
        if (result.outcome == SignInResult::Busy) {
            showLogin(request, response, 429, t.text(locale, "login.busy"), email);
            response.setHeader("Retry-After", std::to_string(result.retryAfterSeconds));
            return;
        }
        if (result.outcome == SignInResult::Invalid) {
            showLogin(request, response, 401, t.text(locale, "login.invalid"), email);
            return;
        }
        response.redirect(303, safeNext(form.get("next").value_or("/admin")));
        response.headers.emplace_back("Set-Cookie", auth.sessionCookie(result.sessionToken));
        response.headers.emplace_back("Set-Cookie", std::string(kLoginCsrfCookie) + "=; Path=/admin/login; Max-Age=0; HttpOnly; SameSite=Lax" +
                                                        (auth.options().secureCookie ? "; Secure" : ""));
    }, page);

    router.add("host", "POST", "/admin/logout", [&auth](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        auth.signOut(cookieValue(request, kSessionCookie));
        response.redirect(303, "/admin/login");
        response.setHeader("Set-Cookie", auth.clearedSessionCookie());
    }, self);

    router.add("host", "POST", "/admin/locale", [&auth](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const sdk::FormData form(request.body);
        const std::string locale = form.value("locale");
        if (!supportedLocale(locale)) {
            std::string known;
            for (const auto& code : sdk::supportedLocales()) known += (known.empty() ? "" : ", ") + code;
            writeError(response, sdk::RouteStyle::Page, 400, "invalid_locale", "choose one of " + known, request.requestId);
            return;
        }
        auth.setLocale(request.principal->id, locale);
        response.redirect(303, safeNext(form.get("next").value_or("/admin")));
    }, self);

    registerUsersRoutes(router, auth, ui);

    router.add("host", "GET", "/admin", [&ui](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        Poco::JSON::Object model;
        ui.renderHost(request, response, "home", ui.hostCatalog().text(AdminUi::localeOf(request), "home.title"), model);
    }, self);
}

}  // namespace tawasul::host
