// Settings → Cloud API. A stored secret never reaches the page: the access token is shown as "set on
// DATE" and can only be replaced. The connection test's result is kept in site_settings (as a
// catalog key and its arguments, never Meta's raw answer with a secret in it), so that the page the
// browser is redirected to shows it in the reader's language, whichever host answers.
#include "SettingsPage.hpp"

#include <algorithm>
#include <memory>
#include <sstream>

#include <Poco/Data/Session.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "tawasul/sdk/Forms.hpp"
#include "tawasul/sdk/Messaging.hpp"

namespace tawasul::plugins::cloud {
namespace {

using namespace Poco::Data::Keywords;
using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr const char* kAccessTokenKey = "whatsapp.cloud.access_token";
constexpr const char* kPhoneNumberIdKey = "whatsapp.cloud.phone_number_id";
constexpr const char* kAccountIdKey = "whatsapp.cloud.business_account_id";
constexpr const char* kApiVersionKey = "whatsapp.cloud.api_version";
constexpr const char* kLastTestKey = "whatsapp.cloud.connection_test";

std::string localeOf(const sdk::HttpRequest& request) {
    return request.principal && !request.principal->locale.empty() ? request.principal->locale : "en";
}

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
    explicit SettingsPage(sdk::HostContext& context) : context_(context) {
        const sdk::ConfigNode& config = context.config();
        graphUrl_ = config.getString("graph_url", "https://graph.facebook.com");
        while (!graphUrl_.empty() && graphUrl_.back() == '/') graphUrl_.pop_back();
        apiVersion_ = config.getString("api_version", "v21.0");
        timeoutSeconds_ = static_cast<int>(config.getInt("timeout_seconds", 10, 1, 120));
    }

    void show(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        Object model = baseModel(request);
        if (request.queryParam("done").value_or("") == "saved")
            model.set("notice", context_.translator().text(localeOf(request), "settings_saved"));
        render(request, response, model, 200);
    }

    void save(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::string locale = localeOf(request);
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

    void test(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const ProbeResult result = probe();
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
    // GET /{version}/{phone_number_id}: the cheapest call that proves the token, the id and the
    // network all work, and names the number so the admin sees it is the right one.
    ProbeResult probe() {
        sdk::Settings& settings = context_.settings();
        const std::string token = settings.get(kAccessTokenKey).value_or("");
        const std::string phoneNumberId = settings.get(kPhoneNumberIdKey).value_or("");
        const std::string version = settings.get(kApiVersionKey).value_or(apiVersion_);
        if (token.empty() || phoneNumberId.empty()) return {false, "settings_test_unconfigured", {}};
        try {
            const Poco::URI uri(graphUrl_ + "/" + version + "/" + phoneNumberId + "?fields=display_phone_number,verified_name");
            std::unique_ptr<Poco::Net::HTTPClientSession> session;
            if (uri.getScheme() == "https") {
                Poco::Net::Context::Ptr tls = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                                                                     Poco::Net::Context::VERIFY_RELAXED, 9, true);
                session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), tls);
            } else {
                session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
            }
            session->setTimeout(Poco::Timespan(timeoutSeconds_, 0));
            Poco::Net::HTTPRequest get(Poco::Net::HTTPRequest::HTTP_GET, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
            get.set("Authorization", "Bearer " + token);
            session->sendRequest(get);
            Poco::Net::HTTPResponse answer;
            std::istream& in = session->receiveResponse(answer);
            std::string body;
            Poco::StreamCopier::copyToString(in, body);
            const int status = static_cast<int>(answer.getStatus());
            Object::Ptr json;
            try {
                json = Poco::JSON::Parser().parse(body).extract<Object::Ptr>();
            } catch (const std::exception&) {
            }
            if (status == 200 && json) {
                return {true, "settings_test_ok",
                        {{"number", json->optValue<std::string>("display_phone_number", "?")},
                         {"name", json->optValue<std::string>("verified_name", "?")}}};
            }
            if (json && json->has("error")) {
                const Object::Ptr error = json->getObject("error");
                const std::string code = error ? error->optValue<std::string>("code", "") : "";
                const std::string message = error ? error->optValue<std::string>("message", "") : "";
                if (code == "190") return {false, "settings_test_token_expired", {{"code", code}}};
                if (code == "100" || status == 404) return {false, "settings_test_unknown_number", {{"id", phoneNumberId}, {"message", message}}};
                return {false, "settings_test_refused", {{"code", code}, {"status", std::to_string(status)}, {"message", message}}};
            }
            return {false, "settings_test_bad_answer", {{"status", std::to_string(status)}}};
        } catch (const std::exception& error) {
            return {false, "settings_test_unreachable", {{"url", graphUrl_}, {"reason", error.what()}}};
        }
    }

    Object baseModel(const sdk::HttpRequest& request) {
        const std::string locale = localeOf(request);
        const sdk::Translator& t = context_.translator();
        sdk::Settings& settings = context_.settings();
        Object model;
        model.set("save_url", std::string(kSettingsPagePath));
        model.set("test_url", std::string(kSettingsPagePath) + "/test");
        model.set("webhook_settings_url", std::string(kSettingsPagePath) + "/webhook");
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
        if (const auto dispatcher = context_.services().find<sdk::MessageDispatcher>(sdk::kDispatcherService)) {
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
                row->set("reason", health.reason);
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
        return model;
    }

    void render(const sdk::HttpRequest& request, sdk::HttpResponse& response, const Object& model, int status) {
        context_.pages().render(request, response, "settings", context_.translator().text(localeOf(request), "settings_title"), model,
                                status);
    }

    sdk::HostContext& context_;
    std::string graphUrl_, apiVersion_;
    int timeoutSeconds_ = 10;
};

}  // namespace

void registerSettingsPage(sdk::HostContext& context) {
    auto page = std::make_shared<SettingsPage>(context);
    const auto manage = sdk::RouteOptions::session(sdk::RouteStyle::Page, kSettingsPermission);
    const std::string base = kSettingsPagePath;
    sdk::RouteRegistry& routes = context.routes();
    routes.add("GET", base, [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->show(rq, rs); }, manage);
    routes.add("POST", base, [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->save(rq, rs); }, manage);
    routes.add("POST", base + "/test", [page](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { page->test(rq, rs); }, manage);
}

}  // namespace tawasul::plugins::cloud
