// Settings → Cloud API. A stored secret never reaches the page: the access token is shown as "set on
// DATE" and can only be replaced. The connection test's result is kept in site_settings (as a
// catalog key and its arguments), so that the page the
// browser is redirected to shows it in the reader's language, whichever host answers.
#include "SettingsPage.hpp"

#include <algorithm>
#include <memory>
#include <sstream>

#include <Poco/Data/Session.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "AccountEvents.hpp"
#include "tawasul/sdk/Forms.hpp"
#include "tawasul/whatsapp/Messaging.hpp"

namespace tawasul::plugins::cloud_api {
namespace {

using namespace Poco::Data::Keywords;
using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr const char* kAccessTokenKey = "whatsapp.cloud.access_token";
constexpr const char* kPhoneNumberIdKey = "whatsapp.cloud.phone_number_id";
constexpr const char* kAccountIdKey = "whatsapp.cloud.business_account_id";
constexpr const char* kLastTestKey = "whatsapp.cloud.connection_test";
constexpr const char* kEnabledKey = "whatsapp.cloud.enabled";

bool allDigits(const std::string& text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The catalog key of what is wrong with a new access token; empty when it is acceptable.
std::string accessTokenProblem(const std::string& value) {
    if (value.size() < 20 || value.size() > 4096) return "settings_error_token_length";
    for (char c : value)
        if (c <= ' ' || c > '~') return "settings_error_token_characters";
    return {};
}

// The outcome of one connection test: a catalog key with its arguments, and whether it passed.
struct ProbeResult {
    bool ok = false;
    std::string key;
    std::map<std::string, std::string> args;
};

class SettingsPage {
public:
    explicit SettingsPage(sdk::HostContext& context) : context_(context) {}

    void show(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        Object model = baseModel(request);
        if (request.queryParam("done").value_or("") == "saved")
            model.set("notice", context_.translator().text(request.locale(), "settings_saved"));
        render(request, response, model, 200);
    }

    void save(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::string locale = request.locale();
        const sdk::FormData form(request.body);
        const std::string token = form.value("access_token");
        const std::string phoneNumberId = form.value("phone_number_id");
        const std::string accountId = form.value("business_account_id");
        // Every field is checked before any is written: a refused form changes nothing.
        std::string problem, field;
        if (!token.empty() && !(problem = accessTokenProblem(token)).empty()) {
            field = "access_token";
        } else if (!phoneNumberId.empty() && !allDigits(phoneNumberId)) {
            problem = "settings_error_phone_number_id";
            field = "phone_number_id";
        } else if (!accountId.empty() && !allDigits(accountId)) {
            problem = "settings_error_business_account_id";
            field = "business_account_id";
        }
        if (problem.empty() && token.empty() && phoneNumberId.empty() && accountId.empty()) problem = "settings_error_nothing";
        if (!problem.empty()) {
            Object model = baseModel(request);
            model.set("error", context_.translator().text(locale, problem));
            model.set("error_" + (field.empty() ? std::string("form") : field), true);
            // The ids the admin typed come back so they need not be typed again; the token never does.
            if (!phoneNumberId.empty()) model.set("phone_number_id", phoneNumberId);
            if (!accountId.empty()) model.set("business_account_id", accountId);
            render(request, response, model, 422);
            return;
        }
        sdk::Settings& settings = context_.settings();
        if (!token.empty()) settings.set(kAccessTokenKey, token);
        if (!phoneNumberId.empty() && settings.get(kPhoneNumberIdKey).value_or("") != phoneNumberId)
            settings.set(kPhoneNumberIdKey, phoneNumberId);
        if (!accountId.empty() && settings.get(kAccountIdKey).value_or("") != accountId) settings.set(kAccountIdKey, accountId);
        context_.logger().information(std::string("Cloud API settings changed") + (token.empty() ? "" : " (access token replaced)") +
                                      " by " + (request.principal ? request.principal->email : std::string("?")));
        response.redirect(303, std::string(kSettingsPagePath) + "?done=saved");
    }

    // The on/off switch: "false" sends everything down the chain (the Outbox) at once, on every host.
    void setEnabled(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::string value = sdk::FormData(request.body).value("enabled");
        if (value != "true" && value != "false") {
            Object model = baseModel(request);
            model.set("error", context_.translator().text(request.locale(), "settings_error_switch"));
            render(request, response, model, 422);
            return;
        }
        context_.settings().set(kEnabledKey, value);
        context_.logger().information(std::string("Cloud API sending turned ") + (value == "true" ? "on" : "off") + " by " +
                                      (request.principal ? request.principal->email : std::string("?")));
        response.redirect(303, std::string(kSettingsPagePath) + "?done=saved#switch");
    }

    // The provider's own test (GET /{version}/{phone_number_id} with its connection pool), so that a
    // success also clears its unhealthy state and resolves its alerts.
    void test(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        ProbeResult result;
        const auto tester = context_.services().find<sdk::ProviderConnectionTest>(context_.pluginName());
        const sdk::ProviderHealth health = tester ? tester->testConnection()
                                                  : sdk::ProviderHealth{sdk::ProviderState::Unhealthy, "the cloud_api provider is not running"};
        if (health.state == sdk::ProviderState::Healthy) {
            result = {true, "settings_test_ok", {{"id", context_.settings().get(kPhoneNumberIdKey).value_or("")}}};
        } else if (health.state == sdk::ProviderState::Unconfigured) {
            result = {false, "settings_test_unconfigured", {}};
        } else {
            result = {false, "settings_test_failed", {{"reason", health.reason}}};
        }
        Object stored;
        stored.set("ok", result.ok);
        stored.set("key", result.key);
        stored.set("at", context_.clock().nowMillis());
        Object::Ptr args = new Object;
        for (const auto& [name, value] : result.args) args->set(name, value);
        stored.set("args", args);
        std::ostringstream text;
        stored.stringify(text);
        context_.settings().set(kLastTestKey, text.str());
        context_.logger().information("connection test by " + (request.principal ? request.principal->email : std::string("?")) + ": " +
                                      (result.ok ? "passed" : "failed (" + result.key + ")"));
        response.redirect(303, std::string(kSettingsPagePath) + "#connection");
    }

private:
    Object baseModel(const sdk::HttpRequest& request) {
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        sdk::Settings& settings = context_.settings();
        Object model;
        model.set("save_url", std::string(kSettingsPagePath));
        model.set("test_url", std::string(kSettingsPagePath) + "/test");
        model.set("webhook_settings_url", std::string(kSettingsPagePath) + "/webhook");
        model.set("switch_url", std::string(kSettingsPagePath) + "/enabled");
        model.set("enabled", settings.get(kEnabledKey).value_or("true") != "false");
        model.set("phone_number_id", settings.get(kPhoneNumberIdKey).value_or(""));
        model.set("business_account_id", settings.get(kAccountIdKey).value_or(""));

        // When the token was last set comes from its row's timestamp; its value is not read here.
        Poco::Data::Session session = context_.database().session();
        std::vector<Poco::Int64> tokenTimes;
        std::string tokenKey = kAccessTokenKey;
        session << "SELECT updated_at FROM site_settings WHERE key = $1", use(tokenKey), into(tokenTimes), now;
        model.set("access_token_status", tokenTimes.empty() ? t.text(locale, "settings_secret_unset")
                                                            : t.text(locale, "settings_secret_set",
                                                                     {{"date", t.dateTime(locale, tokenTimes[0] / 1000)}}));

        // The last connection test, in the reader's language.
        if (const auto last = settings.get(kLastTestKey); last && !last->empty()) {
            try {
                const Object::Ptr stored = Poco::JSON::Parser().parse(*last).extract<Object::Ptr>();
                std::map<std::string, std::string> args;
                if (const Object::Ptr a = stored->getObject("args"))
                    for (const auto& name : a->getNames()) args[name] = a->getValue<std::string>(name);
                model.set("test_ok", stored->getValue<bool>("ok"));
                model.set("test_result", t.text(locale, stored->getValue<std::string>("key"), args));
                model.set("test_when", t.dateTime(locale, stored->getValue<Poco::Int64>("at") / 1000));
            } catch (const std::exception& error) {
                context_.logger().warning(std::string("unreadable ") + kLastTestKey + ": " + error.what());
            }
        }

        // The dispatch chain, primary first, each provider with its health in words.
        Array::Ptr chain = new Array;
        if (const auto dispatcher = context_.services().find<sdk::MessageDispatcher>(sdk::MessageDispatcher::kServiceName)) {
            int position = 0;
            for (const auto& [name, health] : dispatcher->chainHealth()) {
                Object::Ptr row = new Object;
                row->set("name", name);
                row->set("role", t.text(locale, position++ == 0 ? "settings_chain_primary" : "settings_chain_fallback"));
                const char* state = health.state == sdk::ProviderState::Healthy        ? "healthy"
                                    : health.state == sdk::ProviderState::Unconfigured ? "unconfigured"
                                    : health.state == sdk::ProviderState::Disabled     ? "disabled"
                                                                                       : "unhealthy";
                row->set("state", std::string(state));
                row->set("state_label", t.text(locale, std::string("settings_state_") + state));
                row->set("healthy", health.state == sdk::ProviderState::Healthy);
                if (!health.reason.empty()) row->set("reason", health.reason);
                chain->add(row);
            }
        }
        model.set("chain", chain);
        model.set("no_chain", chain->size() == 0);

        // Open alerts, newest first: what an admin has to act on (an expired token, a restriction).
        std::vector<std::string> sources, codes, messages;
        std::vector<Poco::Int64> created;
        Poco::Int64 limit = 20;
        session << "SELECT source, code, message, created_at FROM whatsapp_alerts WHERE resolved_at IS NULL "
                   "ORDER BY created_at DESC, id DESC LIMIT $1",
            use(limit), into(sources), into(codes), into(messages), into(created), now;
        Array::Ptr alerts = new Array;
        for (std::size_t i = 0; i < sources.size(); ++i) {
            Object::Ptr row = new Object;
            row->set("source", sources[i]);
            row->set("code", codes[i]);
            row->set("message", messages[i]);
            row->set("when", t.dateTime(locale, created[i] / 1000));
            alerts->add(row);
        }
        model.set("open_alerts", alerts);
        model.set("no_alerts", alerts->size() == 0);

        // Each business number's messaging limit and quality, as Meta last said (its webhooks).
        Array::Ptr numbers = new Array;
        for (const NumberHealth& health : readNumberHealth(context_.database())) {
            Object::Ptr row = new Object;
            row->set("number", health.number);
            row->set("limit", health.limit.empty() ? t.text(locale, "settings_numbers_limit_unknown") : health.limit);
            row->set("flagged", health.flagged);
            numbers->add(row);
        }
        model.set("numbers", numbers);
        model.set("has_numbers", numbers->size() > 0);
        return model;
    }

    void render(const sdk::HttpRequest& request, sdk::HttpResponse& response, const Object& model, int status) {
        context_.pages().render(request, response, "settings", context_.translator().text(request.locale(), "settings_title"), model,
                                status);
    }

    sdk::HostContext& context_;
};

}  // namespace

void registerSettingsPage(sdk::HostContext& context) {
    auto page = std::make_shared<SettingsPage>(context);
    const auto manage = sdk::RouteOptions::session(sdk::RouteStyle::Page, kSettingsPermission);
    const std::string base = kSettingsPagePath;
    sdk::RouteRegistry& routes = context.routes();
    routes.add("GET", base, [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->show(rq, rs); }, manage);
    routes.add("POST", base, [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->save(rq, rs); }, manage);
    routes.add("POST", base + "/enabled", [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->setEnabled(rq, rs); }, manage);
    routes.add("POST", base + "/test", [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->test(rq, rs); }, manage);
}

}  // namespace tawasul::plugins::cloud_api
