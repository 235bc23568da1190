// Webhook events in the admin: what Meta sent, what became of it, and a way to process it again.
// The raw bytes stay exactly as stored: the page shows them pretty-printed (escaped by the
// template), the download hands them over untouched.
#include "EventsPages.hpp"

#include <algorithm>
#include <sstream>

#include <Poco/Data/LOB.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include "tawasul/sdk/Forms.hpp"
#include "tawasul/sdk/Json.hpp"
#include "tawasul/sdk/ListPages.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

namespace tawasul::plugins::webhook_receiver {
namespace {

using namespace Poco::Data::Keywords;
using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr Poco::Int64 kPageSize = 50;
const char* const kStatuses[] = {"pending", "processing", "processed", "failed"};

bool knownStatus(const std::string& status) {
    for (const char* known : kStatuses)
        if (status == known) return true;
    return false;
}

// At most `limit` characters (not bytes: never half a UTF-8 character), with an ellipsis when cut.
std::string shortened(const std::string& text, std::size_t limit) {
    std::size_t characters = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && characters++ == limit) return text.substr(0, i) + "…";
    }
    return text;
}

class EventsPages {
public:
    explicit EventsPages(sdk::HostContext& context) : context_(context) {}

    void list(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        Object model;
        int status = 200;
        std::string filter = request.queryParam("status").value_or("");
        if (!filter.empty() && !knownStatus(filter)) {
            model.set("error", t.text(locale, "events_error_status", {{"status", filter}}));
            status = 400;
            filter.clear();
        }
        // Keyset pages on the primary key; the status filter walks whatsapp_webhook_events_status_idx (status, id).
        sdk::KeysetList list("SELECT id, received_at, status, attempts, COALESCE(last_error, '') FROM whatsapp_webhook_events", kPageSize);
        if (!list.readBefore(request)) {
            model.set("error", t.text(locale, "events_error_before", {{"value", request.queryParam("before").value_or("")}}));
            status = 400;
        }
        list.filter("status", filter);
        Poco::Data::Session session = context_.database().session();
        std::vector<Poco::Int64> ids, receivedAt, attempts;
        std::vector<std::string> statuses, errors;
        Poco::Data::Statement select(session);
        list.prepare(select);
        select, into(ids), into(receivedAt), into(statuses), into(attempts), into(errors);
        select.execute();
        const bool more = list.trim(ids);
        Array::Ptr rows = new Array;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            Object::Ptr row = new Object;
            row->set("id", std::to_string(ids[i]));
            row->set("url", std::string(kEventsPagesPath) + "/" + std::to_string(ids[i]));
            row->set("received", t.dateTime(locale, receivedAt[i] / 1000));
            row->set("status", statuses[i]);
            row->set("status_label", t.text(locale, "events_status_" + statuses[i]));
            row->set("failed", statuses[i] == "failed");
            row->set("attempts", t.number(locale, attempts[i]));
            // The list shows the start of a long error; the event's page shows all of it.
            row->set("last_error", shortened(errors[i], 200));
            rows->add(row);
        }
        model.set("events", rows);
        model.set("empty", ids.empty());
        model.set("filter", filter);
        Array::Ptr options = new Array;
        for (const char* known : kStatuses) {
            Object::Ptr option = new Object;
            option->set("value", std::string(known));
            option->set("label", t.text(locale, std::string("events_status_") + known));
            option->set("selected", filter == known);
            options->add(option);
        }
        model.set("statuses", options);
        list.setLinks(model, kEventsPagesPath, ids, more);
        context_.pages().render(request, response, "webhook_events", t.text(locale, "events_title"), model, status);
    }

    void show(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        Object model;
        model.set("list_url", std::string(kEventsPagesPath));
        const std::int64_t id = sdk::positiveId(request.param("id"));
        Poco::Data::Session session = context_.database().session();
        Poco::Int64 eventId = id;
        Poco::Int64 receivedAt = 0, attempts = 0, processedAt = 0;
        std::string status, error, signature;
        Poco::Data::BLOB payload;
        std::size_t found = 0;
        if (id > 0) {
            Poco::Data::Statement select(session);
            select << "SELECT received_at, status, attempts, COALESCE(last_error, ''), COALESCE(processed_at, 0), "
                      "COALESCE(signature, ''), payload FROM whatsapp_webhook_events WHERE id = $1",
                use(eventId), into(receivedAt), into(status), into(attempts), into(error), into(processedAt), into(signature),
                into(payload);
            found = select.execute();
        }
        if (found == 0) {
            model.set("error", t.text(locale, "events_error_not_found", {{"id", request.param("id")}}));
            context_.pages().render(request, response, "webhook_event", t.text(locale, "events_event_title"), model, 404);
            return;
        }
        const std::string raw(reinterpret_cast<const char*>(payload.rawContent()), payload.size());
        const std::string idText = std::to_string(id);
        model.set("id", idText);
        model.set("heading", t.text(locale, "events_event_heading", {{"id", idText}}));
        model.set("received", t.dateTime(locale, receivedAt / 1000));
        // Set only when there is something: a Mustache section opens on any string, even an empty one.
        if (processedAt > 0) model.set("processed", t.dateTime(locale, processedAt / 1000));
        model.set("status", status);
        model.set("status_label", t.text(locale, "events_status_" + status));
        model.set("attempts", t.number(locale, attempts));
        if (!error.empty()) model.set("last_error", error);
        model.set("size", t.text(locale, "events_bytes", {{"count", t.number(locale, static_cast<std::int64_t>(raw.size()))}}));
        model.set("raw_url", std::string(kEventsPagesPath) + "/" + idText + "/raw");
        model.set("replay_url", std::string(kEventsPagesPath) + "/" + idText + "/replay");
        model.set("can_replay", request.principal && request.principal->can(kReplayPermission));
        if (request.queryParam("done").value_or("") == "replayed") model.set("notice", t.text(locale, "events_replayed"));
        std::string pretty, fields;
        if (prettyJson(raw, pretty, fields)) {
            model.set("payload", pretty);
            if (!fields.empty()) model.set("fields", fields);
        } else {
            model.set("payload", raw);
            model.set("not_json", t.text(locale, "events_not_json"));
        }
        context_.pages().render(request, response, "webhook_event", t.text(locale, "events_event_heading", {{"id", idText}}), model);
    }

    // The stored bytes, untouched, as a file: what Meta signed, for `tawasul simulate post` or a bug report.
    void raw(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::int64_t id = sdk::positiveId(request.param("id"));
        Poco::Data::Session session = context_.database().session();
        Poco::Int64 eventId = id;
        Poco::Data::BLOB payload;
        std::size_t found = 0;
        if (id > 0) {
            Poco::Data::Statement select(session);
            select << "SELECT payload FROM whatsapp_webhook_events WHERE id = $1", use(eventId), into(payload);
            found = select.execute();
        }
        if (found == 0) {
            const std::string locale = request.locale();
            response.text(404, context_.translator().text(locale, "events_error_not_found", {{"id", request.param("id")}}) + "\n");
            return;
        }
        response.status = 200;
        response.contentType = "application/octet-stream";
        response.setHeader("Content-Disposition", "attachment; filename=\"webhook-event-" + std::to_string(id) + ".json\"");
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.body.assign(reinterpret_cast<const char*>(payload.rawContent()), payload.size());
    }

    // The same as `tawasul events replay ID`: back to pending with a new processing job, both in one
    // transaction so that the event is never pending without a job. Processing is idempotent.
    void replay(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        if (!request.principal || !request.principal->can(kReplayPermission)) {
            Object model;
            model.set("list_url", std::string(kEventsPagesPath));
            model.set("error", t.text(locale, "events_error_replay_permission", {{"permission", kReplayPermission}}));
            context_.pages().render(request, response, "webhook_event", t.text(locale, "events_event_title"), model, 403);
            return;
        }
        const std::int64_t id = sdk::positiveId(request.param("id"));
        std::size_t updated = 0;
        if (id > 0) {
            sdk::Database& database = context_.database();
            Poco::Data::Session session = database.session();
            sdk::Transaction transaction(database, session);
            Poco::Int64 eventId = id;
            Poco::Int64 runAt = context_.clock().nowMillis();
            Poco::Data::Statement update(session);
            // The event is its own queue entry (the host claims it from this table): pending again, due now.
            update << "UPDATE whatsapp_webhook_events SET status = 'pending', attempts = 0, last_error = NULL, "
                      "processed_at = NULL, run_at = $1, locked_by = NULL, locked_until = NULL WHERE id = $2",
                use(runAt), use(eventId);
            updated = update.execute();
            if (updated > 0) transaction.commit();
        }
        if (updated == 0) {
            Object model;
            model.set("list_url", std::string(kEventsPagesPath));
            model.set("error", t.text(locale, "events_error_not_found", {{"id", request.param("id")}}));
            context_.pages().render(request, response, "webhook_event", t.text(locale, "events_event_title"), model, 404);
            return;
        }
        context_.jobs().wake();
        context_.logger().information("webhook event " + std::to_string(id) + " re-queued by " +
                                      (request.principal ? request.principal->email : std::string("?")));
        response.redirect(303, std::string(kEventsPagesPath) + "/" + std::to_string(id) + "?done=replayed");
    }

private:
    // Indented JSON with the keys in the order Meta sent them; false when the bytes are not JSON.
    // Pretty-printed, and the distinct webhook fields of its changes in order ("messages",
    // "account_update", ...): which plugin took the event, or that none did.
    static bool prettyJson(const std::string& raw, std::string& out, std::string& fields) {
        try {
            Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(true));
            const Poco::Dynamic::Var value = parser.parse(raw);
            fields = changeFields(value);
            std::ostringstream text;
            Poco::JSON::Stringifier::stringify(value, text, 2, -1, Poco::JSON_WRAP_STRINGS | Poco::JSON_PRESERVE_KEY_ORDER);
            out = text.str();
            return true;
        } catch (const std::exception&) {
            return false;
        }
    }

    static std::string changeFields(const Poco::Dynamic::Var& value) {
        std::vector<std::string> seen;
        const auto notification = value.type() == typeid(Poco::JSON::Object::Ptr) ? value.extract<Poco::JSON::Object::Ptr>() : nullptr;
        const auto entries = notification && notification->isArray("entry") ? notification->getArray("entry") : nullptr;
        for (std::size_t e = 0; entries && e < entries->size(); ++e) {
            const auto entry = entries->getObject(static_cast<unsigned>(e));
            const auto changes = entry && entry->isArray("changes") ? entry->getArray("changes") : nullptr;
            for (std::size_t c = 0; changes && c < changes->size(); ++c) {
                const auto change = changes->getObject(static_cast<unsigned>(c));
                const std::string field = change ? sdk::jsonText(*change, "field").substr(0, 100) : "";
                if (!field.empty() && std::find(seen.begin(), seen.end(), field) == seen.end()) seen.push_back(field);
            }
        }
        std::string joined;
        for (const std::string& field : seen) joined += (joined.empty() ? "" : ", ") + field;
        return joined;
    }

    sdk::HostContext& context_;
};

}  // namespace

void registerEventsPages(sdk::HostContext& context) {
    auto pages = std::make_shared<EventsPages>(context);
    const auto view = sdk::RouteOptions::session(sdk::RouteStyle::Page, kWebhooksViewPermission);
    const std::string base = kEventsPagesPath;
    sdk::RouteRegistry& routes = context.routes();
    routes.add("GET", base, [pages](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { pages->list(rq, rs); }, view);
    routes.add("GET", base + "/{id}", [pages](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { pages->show(rq, rs); }, view);
    routes.add("GET", base + "/{id}/raw", [pages](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { pages->raw(rq, rs); }, view);
    routes.add("POST", base + "/{id}/replay", [pages](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { pages->replay(rq, rs); }, view);
}

}  // namespace tawasul::plugins::webhook_receiver
