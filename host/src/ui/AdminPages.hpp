#pragma once
// Server-rendered admin pages: Mustache templates (escaped by default) inside the host's shared
// layout, the host's own pages (sign-in, home), and static files from host/public and
// plugins/<name>/public. Templates are parsed when their owner starts, so a broken template stops
// the start with FILE:LINE:COL, not a request.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <kainjow/mustache.hpp>

#include "tawasul/sdk/Pages.hpp"

#include "access/Auth.hpp"
#include "ui/I18n.hpp"
#include "http/Router.hpp"

namespace tawasul::host {

// Every templates/<name>.mustache of a folder, parsed.
class TemplateSet {
public:
    // Throws sdk::ConfigError("FILE:LINE:COL: message") on the first template that does not parse.
    static TemplateSet load(const std::filesystem::path& dir);
    const kainjow::mustache::mustache* find(const std::string& name) const;

private:
    std::map<std::string, std::shared_ptr<kainjow::mustache::mustache>> templates_;
};

// `text` without bidirectional embeddings, overrides, isolates and marks, nor control characters
// (for <title>, which cannot isolate a name); invalid UTF-8 becomes U+FFFD.
std::string withoutBidiControls(const std::string& text);

// Poco JSON (objects, arrays, strings, numbers, booleans, null) as Mustache data.
kainjow::mustache::data toMustache(const Poco::JSON::Object& object);

class AdminUi {
public:
    // `webDir` holds templates/layout.mustache, the host's templates, lang/ and public/.
    AdminUi(const std::filesystem::path& webDir, Router& router);

    // The language of this request: the signed-in user's choice, else the tawasul_lang cookie,
    // else Accept-Language, else English.
    static std::string localeOf(const sdk::HttpRequest& request);

    void render(const Catalog& catalog, const TemplateSet& templates, const sdk::HttpRequest& request,
                sdk::HttpResponse& response, const std::string& templateName, const std::string& title,
                const Poco::JSON::Object& model, int status) const;
    // The host's own pages (login, home).
    void renderHost(const sdk::HttpRequest& request, sdk::HttpResponse& response, const std::string& templateName,
                    const std::string& title, const Poco::JSON::Object& model, int status = 200) const;

    // GET /admin/static/{path...}: host/public/<path>, or plugins/<name>/public/<rest> when the
    // first segment is a plugin that has a public/ folder.
    void serveStatic(const sdk::HttpRequest& request, sdk::HttpResponse& response) const;
    void addPublicDir(const std::string& plugin, const std::filesystem::path& dir);

    const Catalog& hostCatalog() const { return hostCatalog_; }

    // An error page in the layout (error.mustache): 403 forbidden (detail: the permission),
    // 403 csrf, 404 not_found; translated, with the request id to quote.
    void renderError(const sdk::HttpRequest& request, sdk::HttpResponse& response, int status, const std::string& code,
                     const std::string& detail) const;

private:
    std::filesystem::path webDir_;
    Router& router_;
    Catalog hostCatalog_;
    TemplateSet hostTemplates_;
    std::shared_ptr<kainjow::mustache::mustache> layout_;
    std::map<std::string, std::filesystem::path> publicDirs_;
};

// One plugin's renderer: its templates and catalog in the shared layout.
class PluginPages final : public sdk::PageRenderer {
public:
    PluginPages(const AdminUi& ui, const Catalog& catalog, TemplateSet templates)
        : ui_(ui), catalog_(catalog), templates_(std::move(templates)) {}
    void render(const sdk::HttpRequest& request, sdk::HttpResponse& response, const std::string& templateName,
                const std::string& title, const Poco::JSON::Object& model, int status = 200) override {
        ui_.render(catalog_, templates_, request, response, templateName, title, model, status);
    }

private:
    const AdminUi& ui_;
    const Catalog& catalog_;
    TemplateSet templates_;
};

// The host's admin routes: sign-in, sign-out, language, home, static files.
void registerAdminRoutes(Router& router, Auth& auth, AdminUi& ui);
// The users page (/admin/users, users.manage): UsersPage.cpp.
void registerUsersRoutes(Router& router, Auth& auth, AdminUi& ui);

}  // namespace tawasul::host
