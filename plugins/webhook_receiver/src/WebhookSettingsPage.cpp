// Settings → Webhook. A stored secret never reaches the page: the form shows whether a secret is
// set and since when, and takes a new value. The verify token is the one secret the admin must copy
// into Meta's dashboard, so it can be shown on request: a POST (CSRF-checked, never cached, not in
// the browser history) answers the page with the token in it. The app secret is never shown.
#include "WebhookSettingsPage.hpp"

#include <algorithm>
#include <cctype>

#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>

#include "tawasul/sdk/Forms.hpp"

namespace tawasul::plugins::webhook_receiver {
namespace {

using namespace Poco::Data::Keywords;
using Poco::JSON::Object;

constexpr const char* kVerifyTokenKey = "whatsapp.webhook.verify_token";
constexpr const char* kAppSecretKey = "whatsapp.cloud.app_secret";

// What is wrong with a new verify token, as a catalog key; empty when it is acceptable. Meta sends
// it back in a query string, so printable ASCII without spaces keeps it unambiguous.
std::string verifyTokenProblem(const std::string& value) {
    if (value.size() < 8 || value.size() > 200) return "webhook_error_verify_token_length";
    for (char c : value)
        if (c <= ' ' || c > '~') return "webhook_error_verify_token_characters";
    return {};
}

// Meta's app secrets are 32 hexadecimal digits (App settings → Basic): anything else is a paste error.
std::string appSecretProblem(const std::string& value) {
    if (value.size() != 32) return "webhook_error_app_secret";
    for (char c : value)
        if (!std::isxdigit(static_cast<unsigned char>(c))) return "webhook_error_app_secret";
    return {};
}

class WebhookSettingsPage {
public:
    WebhookSettingsPage(sdk::HostContext& context, std::string webhookPath)
        : context_(context), webhookPath_(std::move(webhookPath)) {}

    void show(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        Object model = baseModel(request);
        if (request.queryParam("done").value_or("") == "saved")
            model.set("notice", context_.translator().text(request.locale(), "webhook_saved"));
        render(request, response, model, 200);
    }

    void reveal(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        Object model = baseModel(request);
        const auto token = context_.settings().get(kVerifyTokenKey);
        if (token && !token->empty()) model.set("verify_token_plain", *token);
        // The answer holds a secret: no cache may keep it.
        response.setHeader("Cache-Control", "no-store");
        render(request, response, model, 200);
    }

    void save(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::string locale = request.locale();
        const sdk::FormData form(request.body);
        const std::string verifyToken = form.value("verify_token");
        const std::string appSecret = form.value("app_secret");
        // Everything is checked before anything is written: a refused form changes nothing.
        std::string problem, field;
        if (verifyToken.empty() && appSecret.empty()) {
            problem = "webhook_error_nothing";
        } else if (!verifyToken.empty() && !(problem = verifyTokenProblem(verifyToken)).empty()) {
            field = "verify_token";
        } else if (!appSecret.empty() && !(problem = appSecretProblem(appSecret)).empty()) {
            field = "app_secret";
        }
        if (!problem.empty()) {
            Object model = baseModel(request);
            model.set("error", context_.translator().text(locale, problem));
            model.set("error_field", field);
            model.set("error_" + (field.empty() ? std::string("form") : field), true);
            render(request, response, model, 422);
            return;
        }
        if (!verifyToken.empty()) context_.settings().set(kVerifyTokenKey, verifyToken);
        if (!appSecret.empty()) context_.settings().set(kAppSecretKey, appSecret);
        context_.logger().information(std::string("webhook secrets replaced (") + (verifyToken.empty() ? "" : "verify token ") +
                                      (appSecret.empty() ? "" : "app secret ") + ") by " +
                                      (request.principal ? request.principal->email : std::string("?")));
        response.redirect(303, std::string(kWebhookSettingsPath) + "?done=saved");
    }

private:
    Object baseModel(const sdk::HttpRequest& request) {
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        Object model;
        const std::string base = context_.publicUrl();
        model.set("webhook_url", base + webhookPath_);
        model.set("save_url", std::string(kWebhookSettingsPath));
        model.set("reveal_url", std::string(kWebhookSettingsPath) + "/reveal");
        model.set("cloud_settings_url", std::string("/admin/messaging/whatsapp/settings"));
        // When each secret was last set, from the row's timestamp: the value itself is not read.
        Poco::Data::Session session = context_.database().session();
        std::vector<std::string> keys;
        std::vector<Poco::Int64> times;
        std::string verifyKey = kVerifyTokenKey, secretKey = kAppSecretKey;
        session << "SELECT key, updated_at FROM site_settings WHERE key = $1 OR key = $2", use(verifyKey), use(secretKey), into(keys),
            into(times), now;
        auto status = [&](const std::string& key) {
            for (std::size_t i = 0; i < keys.size(); ++i)
                if (keys[i] == key) return t.text(locale, "webhook_secret_set", {{"date", t.dateTime(locale, times[i] / 1000)}});
            return t.text(locale, "webhook_secret_unset");
        };
        model.set("verify_token_status", status(kVerifyTokenKey));
        model.set("app_secret_status", status(kAppSecretKey));
        model.set("verify_token_set", std::find(keys.begin(), keys.end(), verifyKey) != keys.end());
        return model;
    }

    void render(const sdk::HttpRequest& request, sdk::HttpResponse& response, const Object& model, int status) {
        context_.pages().render(request, response, "webhook_settings", context_.translator().text(request.locale(), "webhook_title"),
                                model, status);
    }

    sdk::HostContext& context_;
    std::string webhookPath_;
};

}  // namespace

void registerWebhookSettingsPage(sdk::HostContext& context, const std::string& webhookPath) {
    auto page = std::make_shared<WebhookSettingsPage>(context, webhookPath);
    const auto manage = sdk::RouteOptions::session(sdk::RouteStyle::Page, kSettingsPermission);
    const std::string base = kWebhookSettingsPath;
    sdk::RouteRegistry& routes = context.routes();
    routes.add("GET", base, [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->show(rq, rs); }, manage);
    routes.add("POST", base, [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->save(rq, rs); }, manage);
    routes.add("POST", base + "/reveal", [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->reveal(rq, rs); }, manage);
}

}  // namespace tawasul::plugins::webhook_receiver
