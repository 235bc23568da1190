#include "TemplatesApi.hpp"

#include <optional>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Nullable.h>

#include "TemplateReviews.hpp"
#include "tawasul/sdk/Json.hpp"
#include "tawasul/whatsapp/Templates.hpp"

namespace tawasul::plugins::outbox {
namespace {

using namespace Poco::Data::Keywords;
using Poco::JSON::Array;
using Poco::JSON::Object;
using Text = Poco::Nullable<std::string>;

// The platform API's error shape (docs/platform-api.md).
void refuse(const sdk::HttpRequest& request, sdk::HttpResponse& response, int status, const std::string& code, const std::string& message,
            const std::string& field) {
    Object error;
    error.set("code", code);
    error.set("message", message);
    error.set("field", field);
    Object body;
    body.set("error", error);
    body.set("request_id", request.requestId);
    response.json(status, sdk::jsonString(body));
}

void listTemplates(sdk::HostContext& context, const sdk::HttpRequest& request, sdk::HttpResponse& response) {
    const auto include = request.queryParam("include");
    if (include && *include != "refused")
        return refuse(request, response, 422, "invalid_field", "include takes one value: refused", "include");
    const bool withRefused = include.has_value();

    Poco::Data::Session session = context.database().session();
    std::vector<std::string> names, languages, categories;
    std::vector<Text> bodies, headers, buttons, reviews, reasons;
    session << "SELECT name, language, category, body, header, buttons, meta_status, meta_reason FROM whatsapp_templates "
               "WHERE status = 'active' ORDER BY name, language",
        into(names), into(languages), into(categories), into(bodies), into(headers), into(buttons), into(reviews), into(reasons), now;
    Array templates;
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::optional<std::string> why = reviewRefusal(reviews[i], reasons[i]);
        if (why && !withRefused) continue;
        sdk::TemplateDefinition definition;
        definition.body = bodies[i].isNull() ? "" : bodies[i].value();
        if (!headers[i].isNull()) definition.header = headers[i].value();
        if (!buttons[i].isNull()) definition.buttons = sdk::TemplateDefinition::buttonsFromJson(buttons[i].value());
        Object item;
        item.set("name", names[i]);
        item.set("language", languages[i]);
        item.set("category", categories[i]);
        // Meta's review, or null for a local template (sent by hand through the Outbox).
        item.set("review", reviews[i].isNull() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(reviews[i].value()));
        item.set("sendable", !why);
        if (why) item.set("refusal", *why);
        Array fields;
        for (const sdk::TemplateField& field : sdk::templateFields(definition)) {
            Object value;
            value.set("component", field.component);
            if (field.component == "button") value.set("index", field.index);
            value.set("variable", field.variable);
            fields.add(value);
        }
        item.set("fields", fields);
        templates.add(item);
    }
    Object body;
    body.set("templates", templates);
    response.json(200, sdk::jsonString(body));
}

}  // namespace

void registerTemplatesApi(sdk::HostContext& context) {
    context.routes().add("GET", "/api/v1/templates",
                         [&context](const sdk::HttpRequest& request, sdk::HttpResponse& response) { listTemplates(context, request, response); },
                         sdk::RouteOptions::token("messages.send"));
}

}  // namespace tawasul::plugins::outbox
