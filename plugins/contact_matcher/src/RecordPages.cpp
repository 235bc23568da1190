#include "RecordPages.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "tawasul/sdk/Forms.hpp"
#include "tawasul/sdk/PreparedSession.hpp"

namespace tawasul::plugins::contact_matcher {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

// Columns and values the catalogs name; others are shown as the platform wrote them (a column of
// a configured table has no translation to look up).
const std::set<std::string> kKnownColumns{"full_name", "name", "contact_name", "phone", "mobile", "email", "programme",
                                          "status", "city", "created_at", "updated_at", "registration_id", "organization_id"};
const std::set<std::string> kKnownStatuses{"pending", "active", "confirmed", "cancelled", "completed", "new", "contacted",
                                           "qualified", "won", "lost"};
const std::set<std::string> kKinds{"enrollment", "registration", "b2b_lead", "organization"};

bool allDigits(const std::string& text) {
    return !text.empty() && text.size() <= 18 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool endsWith(const std::string& text, const std::string& tail) {
    return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

std::string spaced(std::string column) {
    std::replace(column.begin(), column.end(), '_', ' ');
    return column;
}

}  // namespace

std::optional<std::string> routePatternOf(const std::string& link) {
    if (link.size() < 2 || link[0] != '/' || link.find_first_of("?#%\\ ") != std::string::npos) return std::nullopt;
    int ids = 0;
    std::size_t from = 1;
    while (from <= link.size()) {
        const std::size_t end = std::min(link.find('/', from), link.size());
        const std::string segment = link.substr(from, end - from);
        if (segment == "{id}") ++ids;
        else if (segment.empty() || segment.find_first_of("{}") != std::string::npos) return std::nullopt;
        from = end + 1;
    }
    return ids == 1 ? std::optional<std::string>(link) : std::nullopt;
}

RecordPages::RecordPages(sdk::HostContext& context, std::vector<Source> sources) : context_(context), sources_(std::move(sources)) {}

std::string RecordPages::t(const sdk::HttpRequest& request, const std::string& key, const std::map<std::string, std::string>& args) const {
    return context_.translator().text(request.locale(), key, args);
}

void RecordPages::registerRoutes() {
    std::set<std::string> registered;
    for (const Source& source : sources_) {
        if (source.adminLink.empty()) continue;
        const auto pattern = routePatternOf(source.adminLink);
        if (!pattern) {
            context_.logger().information("no summary page for " + source.table + ": its admin_link " + source.adminLink +
                                          " is not a local path with one {id} segment");
            continue;
        }
        if (!registered.insert(*pattern).second) continue;
        try {
            if (source.table == "b2b_leads") {
                // The platform's leads have their page with its actions; another link to them goes there.
                if (*pattern == kLeadPagePattern) continue;
                context_.routes().add(
                    "GET", *pattern,
                    [](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
                        const std::int64_t id = sdk::positiveId(request.param("id"));
                        std::string target = kLeadPagePattern;
                        target.replace(target.find("{id}"), 4, std::to_string(id));
                        response.redirect(302, target);
                    },
                    sdk::RouteOptions::session(sdk::RouteStyle::Page, "whatsapp.leads.manage"));
                continue;
            }
            const Source* page = &source;
            context_.routes().add(
                "GET", *pattern, [this, page](const sdk::HttpRequest& request, sdk::HttpResponse& response) { render(*page, request, response); },
                // Whoever sees the contact panel that links here may see what it links to.
                sdk::RouteOptions::session(sdk::RouteStyle::Page, "whatsapp.inbox.view"));
        } catch (const std::invalid_argument& error) {
            // Another plugin serves that address already: its page stands, the link leads there.
            context_.logger().warning("no summary page for " + source.table + ": " + error.what());
        }
    }
}

void RecordPages::notFound(const Source& source, const sdk::HttpRequest& request, sdk::HttpResponse& response) {
    Object model;
    const std::string message = t(request, "record_not_found_" + source.kind);
    model.set("message", message);
    model.set("back_url", "/admin/inbox");
    context_.pages().render(request, response, "record_not_found", message, model, 404);
}

void RecordPages::render(const Source& source, const sdk::HttpRequest& request, sdk::HttpResponse& response) {
    const std::int64_t id = sdk::positiveId(request.param("id"));
    if (!id) return notFound(source, request, response);

    // The row by the configured identifiers (checked when the configuration was read), each
    // column as text so that any column type reads alike on both engines.
    std::vector<std::string> columns{source.nameColumn};
    std::vector<bool> isPhone{false};
    for (const std::string& column : source.phoneColumns)
        if (std::find(columns.begin(), columns.end(), column) == columns.end()) columns.push_back(column), isPhone.push_back(true);
    for (const std::string& column : source.displayColumns)
        if (std::find(columns.begin(), columns.end(), column) == columns.end()) columns.push_back(column), isPhone.push_back(false);
    std::string select;
    for (const std::string& column : columns) select += (select.empty() ? "" : ", ") + std::string("CAST(") + column + " AS TEXT)";
    const std::string sql = "SELECT " + select + " FROM " + source.table + " WHERE " + source.idColumn + " = $1";

    sdk::PreparedSession db(context_.database().session(), context_.database().sql());
    std::vector<std::optional<std::string>> values;
    const Poco::Int64 key = id;
    db.run(sql, {key}, [&](const sdk::SqlRow& row) {
        for (std::size_t i = 0; i < columns.size(); ++i)
            values.push_back(row.isNull(static_cast<int>(i)) ? std::nullopt : std::optional<std::string>(row.text(static_cast<int>(i))));
    });
    if (values.empty()) return notFound(source, request, response);

    const std::string locale = request.locale();
    const auto& tr = context_.translator();
    Object model;
    const std::string kindLabel = kKinds.count(source.kind) ? t(request, "kind_" + source.kind) : source.kind;
    const std::string name = values[0] && !values[0]->empty() ? *values[0] : t(request, "record_unnamed", {{"kind", kindLabel}, {"id", std::to_string(id)}});
    model.set("name", name);
    model.set("kind", kindLabel);
    model.set("id", id);
    Array::Ptr fields = new Array;
    for (std::size_t i = 1; i < columns.size(); ++i) {
        if (!values[i] || values[i]->empty()) continue;
        const std::string& column = columns[i];
        std::string value = *values[i];
        // Times the platform keeps as epoch numbers (milliseconds, or seconds when small).
        if (endsWith(column, "_at") && allDigits(value)) {
            const std::int64_t number = std::stoll(value);
            value = tr.dateTime(locale, number > 100000000000LL ? number / 1000 : number);
        } else if (column == "status" && kKnownStatuses.count(value)) {
            value = t(request, "record_status_" + value);
        }
        Object::Ptr field = new Object;
        field->set("label", kKnownColumns.count(column) ? t(request, "field_" + column) : spaced(column));
        field->set("value", value);
        const bool phone = isPhone[i];  // not the vector<bool>'s proxy: the page's model takes a bool
        field->set("ltr", phone || column == "email");
        field->set("phone", phone);
        fields->add(field);
    }
    model.set("fields", fields);
    model.set("has_fields", fields->size() > 0);

    // The conversations of the record's phones, through the matcher's index and the contacts' phone index.
    Array::Ptr conversations = new Array;
    std::string kind = source.kind;
    db.run("SELECT c.id, ct.profile_name, ct.phone_e164, c.status, c.last_message_at FROM whatsapp_conversations c "
           "JOIN whatsapp_contacts ct ON ct.id = c.contact_id WHERE ct.phone_e164 IN ("
           "SELECT phone_e164 FROM contact_phone_index WHERE kind = $1 AND record_id = $2) "
           "ORDER BY c.last_message_at DESC, c.id DESC LIMIT 20",
           {kind, key}, [&](const sdk::SqlRow& row) {
               Object::Ptr conversation = new Object;
               const std::string contact = row.text(1), phone = row.text(2), status = row.text(3);
               conversation->set("url", "/admin/messaging/whatsapp/conversations/" + std::to_string(row.integer(0)));
               conversation->set("name", contact.empty() ? phone : contact);
               conversation->set("phone", phone);
               conversation->set("has_phone", !contact.empty() && !phone.empty());
               conversation->set("status", t(request, "conversation_status_" + status));
               conversation->set("last_at", row.integer(4) > 0 ? tr.dateTime(locale, row.integer(4) / 1000) : "");
               conversations->add(conversation);
           });
    model.set("conversations", conversations);
    model.set("has_conversations", conversations->size() > 0);
    model.set("inbox_url", "/admin/inbox");
    model.set("assets", "/admin/static/" + context_.pluginName());
    context_.pages().render(request, response, "record", name, model);
}

}  // namespace tawasul::plugins::contact_matcher
