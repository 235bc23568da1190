// The outbox in the admin. Every form is checked whole before anything is written, and a refused
// form comes back with the reason and the values typed; a write and its log line commit together.
// Template bodies are checked by OutboxTemplate, the same code that renders them for sending, so a
// body the page accepts is a body the provider and the flows can render.
#include "OutboxPages.hpp"

#include <algorithm>
#include <map>
#include <cctype>
#include <regex>

#include <Poco/String.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Nullable.h>

#include "OutboxLog.hpp"
#include "OutboxTemplates.hpp"
#include "tawasul/whatsapp/Templates.hpp"
#include "tawasul/sdk/Errors.hpp"
#include "tawasul/sdk/Forms.hpp"
#include "tawasul/sdk/ListPages.hpp"

namespace tawasul::plugins::outbox {
namespace {

using namespace Poco::Data::Keywords;
using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr Poco::Int64 kPageSize = 50;
const std::vector<std::string> kMessageStatuses{"pending", "sent", "failed", "cancelled"};
const std::vector<std::string> kCategories{"utility", "marketing", "authentication"};
const std::vector<std::string> kTemplateStatuses{"active", "draft", "disabled"};
const std::vector<std::string> kLogLevels{"info", "warning", "error"};
const std::vector<std::string> kLogSources{"admin", "provider", "flow"};
// The codes writeLog is given (lang: log_<code>).
const std::vector<std::string> kLogCodes{"outbox_sent",      "outbox_cancelled",  "template_created",     "template_changed",
                                         "flow_created",     "flow_changed",      "flow_activated",       "flow_deactivated",
                                         "message_queued",   "event_started",     "step_rendered",        "step_gone",
                                         "step_bad_registration", "step_no_registration", "step_no_phone", "step_no_template",
                                         "step_render"};

// A line's parameters (a JSON object of strings), or none when they do not read.
std::map<std::string, std::string> logParams(const std::string& json) {
    std::map<std::string, std::string> out;
    if (json.empty()) return out;
    try {
        const auto object = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
        for (const auto& [name, value] : *object)
            if (!value.isEmpty() && !value.isStruct() && !value.isArray()) out[name] = value.convert<std::string>();
    } catch (const std::exception&) {
    }
    return out;
}
constexpr int kBlankStepRows = 2;
constexpr std::int64_t kMaxDelayMinutes = 525600;  // a year

std::string actorOf(const sdk::HttpRequest& request) {
    return request.principal ? request.principal->email : std::string("?");
}

bool oneOf(const std::vector<std::string>& values, const std::string& value) {
    return std::find(values.begin(), values.end(), value) != values.end();
}

// Options of a <select>: value, label, selected.
Array::Ptr options(const sdk::Translator& t, const std::string& locale, const std::vector<std::string>& values,
                   const std::string& prefix, const std::string& selected) {
    Array::Ptr list = new Array;
    for (const std::string& value : values) {
        Object::Ptr option = new Object;
        option->set("value", value);
        option->set("label", t.text(locale, prefix + value));
        option->set("selected", value == selected);
        list->add(option);
    }
    return list;
}

struct TemplateForm {
    std::string name, language, category = "utility", status = "active", body;
    std::string header;                        // Meta's text header, may be empty
    std::vector<sdk::TemplateButton> buttons;  // quick replies and links, in order
};

// Rows of buttons the form offers (Meta allows up to ten, of which two links; three fit a page).
constexpr std::size_t kButtonRows = 3;
const std::vector<std::string> kButtonTypes{"", "quick_reply", "url"};

std::size_t codePoints(const std::string& utf8) {
    std::size_t count = 0;
    for (unsigned char c : utf8) count += (c & 0xC0) != 0x80;
    return count;
}

Poco::Nullable<std::string> nullIfEmpty(const std::string& value) {
    return value.empty() ? Poco::Nullable<std::string>() : Poco::Nullable<std::string>(value);
}

struct StepRow {
    std::string templateId;  // as typed in the form ("" for a blank row)
    std::string delay;       // minutes, as typed
    std::string missing;     // "name (language)" of a stored step whose template is gone
};

struct FlowForm {
    std::string name, trigger;
    std::vector<StepRow> steps;
};

class OutboxPages {
public:
    explicit OutboxPages(sdk::HostContext& context) : context_(context) {}

    // ---- outbox messages ------------------------------------------------------------------
    void messages(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        Object model;
        int status = 200;
        std::string statusFilter = request.queryParam("status").value_or("");
        std::string channel = Poco::trim(request.queryParam("channel").value_or(""));
        if (!statusFilter.empty() && !oneOf(kMessageStatuses, statusFilter)) {
            model.set("error", t.text(locale, "outbox_error_status", {{"status", statusFilter}}));
            statusFilter.clear();
            status = 400;
        }
        sdk::KeysetList list("SELECT id, recipient_phone, rendered_text, wa_me_link, status, channel, created_at "
                             "FROM whatsapp_outbox_messages",
                             kPageSize);
        if (!list.readBefore(request)) {
            model.set("error", t.text(locale, "outbox_error_before", {{"value", request.queryParam("before").value_or("")}}));
            status = 400;
        }
        list.filter("status", statusFilter);
        list.filter("channel", channel);
        Poco::Data::Session session = context_.database().session();
        Poco::Data::Statement select(session);
        list.prepare(select);
        std::vector<Poco::Int64> ids, created;
        std::vector<std::string> phones, texts, links, statuses, channels;
        select, into(ids), into(phones), into(texts), into(links), into(statuses), into(channels), into(created);
        select.execute();
        const bool more = list.trim(ids);
        Array::Ptr rows = new Array;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            Object::Ptr row = new Object;
            const std::string id = std::to_string(ids[i]);
            row->set("id", id);
            row->set("phone", phones[i]);
            row->set("text", texts[i]);
            // Only a wa.me address becomes a link: the column is data, not trusted markup.
            if (links[i].rfind("https://wa.me/", 0) == 0) row->set("wa_me_link", links[i]);
            row->set("status", statuses[i]);
            row->set("status_label", t.text(locale, "outbox_status_" + statuses[i]));
            row->set("channel", channels[i]);
            // manual (a person sends the wa.me link) in the reader's words; another channel by its name.
            row->set("channel_label", channels[i] == "manual" ? t.text(locale, "outbox_channel_manual") : channels[i]);
            row->set("created", t.dateTime(locale, created[i] / 1000));
            row->set("pending", statuses[i] == "pending");
            row->set("sent_url", std::string(kOutboxPagesPath) + "/" + id + "/sent");
            row->set("cancel_url", std::string(kOutboxPagesPath) + "/" + id + "/cancel");
            rows->add(row);
        }
        model.set("messages", rows);
        model.set("empty", ids.empty());
        model.set("statuses", options(t, locale, kMessageStatuses, "outbox_status_", statusFilter));
        model.set("channel", channel);
        list.setLinks(model, kOutboxPagesPath, ids, more);
        const std::string done = request.queryParam("done").value_or("");
        if (done == "sent" || done == "cancelled") model.set("notice", t.text(locale, "outbox_done_" + done));
        context_.pages().render(request, response, "outbox", t.text(locale, "outbox_title"), model, status);
    }

    // A person sent it from their phone (sent) or decided not to (cancelled): the outbox row and
    // the stored outbound message move together, and only from pending.
    void finish(const sdk::HttpRequest& request, sdk::HttpResponse& response, const std::string& outcome) {
        const std::int64_t id = sdk::positiveId(request.param("id"));
        sdk::Database& database = context_.database();
        Poco::Data::Session session = database.session();
        std::vector<std::string> current;
        std::vector<Poco::Int64> messageIds;
        {
            sdk::Transaction transaction(database, session);
            Poco::Int64 rowId = id;
            session << "SELECT status, COALESCE(message_id, 0) FROM whatsapp_outbox_messages WHERE id = $1", use(rowId), into(current),
                into(messageIds), now;
            if (!current.empty() && current.front() == "pending") {
                const std::int64_t at = context_.clock().nowMillis();
                Poco::Int64 when = at;
                std::string next = outcome;
                Poco::Data::Statement update(session);
                update << "UPDATE whatsapp_outbox_messages SET status = $1, updated_at = $2 WHERE id = $3 AND status = 'pending'",
                    use(next), use(when), use(rowId);
                // PostgreSQL's plain BEGIN lets another admin's click win between the SELECT and here:
                // then nothing is written and the answer names the status that click left.
                if (update.execute() == 0) {
                    current.clear();
                    messageIds.clear();
                    session << "SELECT status, COALESCE(message_id, 0) FROM whatsapp_outbox_messages WHERE id = $1", use(rowId),
                        into(current), into(messageIds), now;
                    return refuse(request, response, id, current);
                }
                Poco::Int64 messageId = messageIds.front();
                if (messageId > 0 && outcome == "sent") {
                    session << "UPDATE whatsapp_messages SET status = 'sent', sent_at = $1, updated_at = $1 WHERE id = $2 AND status = 'queued'",
                        use(when), use(messageId), now;
                } else if (messageId > 0) {
                    std::string title = "cancelled", details = "cancelled in the outbox by " + actorOf(request);
                    session << "UPDATE whatsapp_messages SET status = 'failed', error_title = $1, error_details = $2, failed_at = $3, "
                               "updated_at = $3 WHERE id = $4 AND status = 'queued'",
                        use(title), use(details), use(when), use(messageId), now;
                }
                writeLog(session, "info", "admin",
                         {"outbox_" + outcome, {{"id", std::to_string(id)}, {"actor", actorOf(request)}},
                          "outbox message " + std::to_string(id) + " " + outcome + " by " + actorOf(request)},
                         "{\"outbox_message_id\":" + std::to_string(id) + "}", at);
                transaction.commit();
                response.redirect(303, std::string(kOutboxPagesPath) + "?done=" + outcome);
                return;
            }
        }
        refuse(request, response, id, current);
    }

    // The outbox page with why the row did not change: it does not exist (404) or is no longer pending (409).
    void refuse(const sdk::HttpRequest& request, sdk::HttpResponse& response, std::int64_t id, const std::vector<std::string>& current) {
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        Object model;
        model.set("messages", Array::Ptr(new Array));
        model.set("statuses", options(t, locale, kMessageStatuses, "outbox_status_", ""));
        if (current.empty()) {
            model.set("error", t.text(locale, "outbox_error_not_found", {{"id", request.param("id")}}));
            context_.pages().render(request, response, "outbox", t.text(locale, "outbox_title"), model, 404);
        } else {
            model.set("error", t.text(locale, "outbox_error_not_pending",
                                      {{"id", std::to_string(id)}, {"status", t.text(locale, "outbox_status_" + current.front())}}));
            context_.pages().render(request, response, "outbox", t.text(locale, "outbox_title"), model, 409);
        }
    }

    // ---- templates --------------------------------------------------------------------------
    // Meta's statuses by the word the page has for them; the rarer ones (IN_APPEAL, LIMIT_EXCEEDED...) share "other".
    static std::string metaReviewWord(const std::string& status) {
        for (const char* known : {"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "FLAGGED", "REINSTATED"})
            if (status == known) {
                std::string word = status;
                std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                return word == "reinstated" ? "approved" : word;
            }
        return "other";
    }

    void templates(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const sdk::Translator& t = context_.translator();
        Object model;
        if (request.queryParam("done").value_or("") == "saved") model.set("notice", t.text(request.locale(), "templates_saved"));
        renderTemplates(request, response, 200, model);
    }

    // POST: Meta's templates into the outbox's, then the list with what changed, or why nothing did
    // (502: Meta could not be read).
    void syncTemplates(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        Object model;
        const auto sync = context_.services().find<sdk::TemplateSync>(sdk::TemplateSync::kServiceName);
        try {
            if (!sync) throw std::runtime_error("the outbox's template sync is not running");
            const sdk::TemplateSyncReport report = sync->sync();
            model.set("notice", t.text(locale, "templates_synced",
                                       {{"count", t.number(locale, static_cast<std::int64_t>(report.fromMeta))},
                                        {"added", t.number(locale, static_cast<std::int64_t>(report.added))},
                                        {"updated", t.number(locale, static_cast<std::int64_t>(report.updated))},
                                        {"deleted", t.number(locale, static_cast<std::int64_t>(report.deleted))}}));
            Array::Ptr skipped = new Array;
            for (const std::string& line : report.skipped) skipped->add(line);
            model.set("skipped", skipped);
            model.set("has_skipped", !report.skipped.empty());
            renderTemplates(request, response, 200, model);
        } catch (const std::exception& error) {
            model.set("error", t.text(locale, "templates_sync_failed", {{"reason", sdk::errorText(error)}}));
            renderTemplates(request, response, 502, model);
        }
    }

    // POST {id}/submit: the template to Meta for review (POST /{waba-id}/message_templates), with
    // an example per variable from the form; its review status is kept, and Meta's webhooks move it.
    void submitTemplate(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::int64_t id = sdk::positiveId(request.param("id"));
        const auto form = loadTemplate(id);
        if (!form) return notFound(request, response, "templates_error_not_found");
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        const sdk::FormData data(request.body);
        sdk::TemplateSubmission submission;
        submission.name = form->name;
        submission.language = form->language;
        submission.category = form->category;
        submission.definition = {form->header, form->body, form->buttons};
        std::map<std::string, std::string> examples;
        for (const sdk::TemplateField& field : sdk::templateFields(submission.definition)) {
            const std::string value = Poco::trim(data.value("example." + field.key()));
            examples[field.key()] = value;
            if (value.empty() || value.size() > 200) {
                Object::Ptr error = new Object;
                error->set("text", t.text(locale, "templates_submit_example_missing", {{"variable", "{{" + field.variable + "}}"}}));
                error->set("field", "examples");
                return renderTemplateForm(request, response, id, *form, examples, nullptr, 422, "", error);
            }
        }
        submission.examples = examples;
        std::shared_ptr<sdk::TemplateSource> source;
        for (const std::string& name : context_.services().names<sdk::TemplateSource>())
            if ((source = context_.services().find<sdk::TemplateSource>(name))) break;
        try {
            if (!source) throw std::runtime_error("no provider submits templates to Meta: load cloud_api");
            const sdk::SubmittedTemplate submitted = source->submit(submission);
            Poco::Data::Session session = context_.database().session();
            sdk::Transaction transaction(context_.database(), session, sdk::Durability::Full);
            Poco::Int64 tid = id, at = context_.clock().nowMillis(), reviewed = at / 1000;
            std::string metaId = submitted.id, status = submitted.status;
            Poco::Nullable<std::string> category;
            if (!submitted.category.empty()) category = submitted.category;
            session << "UPDATE whatsapp_templates SET meta_id = $1, meta_status = $2, meta_category = COALESCE($3, meta_category), "
                       "meta_reason = NULL, meta_reviewed_at = $4, updated_at = $5 WHERE id = $6",
                use(metaId), use(status), use(category), use(reviewed), use(at), use(tid), now;
            writeLog(session, "info", "admin",
                     {"template_submitted", {{"name", form->name}, {"language", form->language}, {"status", status}, {"actor", actorOf(request)}},
                      "template " + form->name + " (" + form->language + ") submitted to Meta by " + actorOf(request) + ": " + status},
                     "{\"template_id\":" + std::to_string(id) + "}", at);
            transaction.commit();
        } catch (const std::exception& error) {
            Object::Ptr problem = new Object;
            problem->set("text", t.text(locale, "templates_submit_failed", {{"reason", sdk::errorText(error)}}));
            problem->set("field", "examples");
            return renderTemplateForm(request, response, id, *form, examples, nullptr, 502, "", problem);
        }
        response.redirect(303, std::string(kTemplatesPagesPath) + "/" + std::to_string(id) + "?done=submitted");
    }

    void renderTemplates(const sdk::HttpRequest& request, sdk::HttpResponse& response, int status, Object& model) {
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        Poco::Data::Session session = context_.database().session();
        std::vector<Poco::Int64> ids, updated;
        std::vector<std::string> names, languages, categories, statuses, bodies;
        std::vector<Poco::Nullable<std::string>> metaStatuses, metaReasons;
        session << "SELECT id, name, language, category, status, body, updated_at, meta_status, meta_reason FROM whatsapp_templates "
                   "ORDER BY name, language, id",
            into(ids), into(names), into(languages), into(categories), into(statuses), into(bodies), into(updated), into(metaStatuses),
            into(metaReasons), now;
        Array::Ptr rows = new Array;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            Object::Ptr row = new Object;
            row->set("url", std::string(kTemplatesPagesPath) + "/" + std::to_string(ids[i]));
            row->set("name", names[i]);
            row->set("language", languages[i]);
            row->set("category", t.text(locale, "templates_category_" + categories[i]));
            row->set("status", statuses[i]);
            row->set("status_label", t.text(locale, "templates_status_" + statuses[i]));
            row->set("body", bodies[i]);
            row->set("updated", t.dateTime(locale, updated[i] / 1000));
            // Where Meta's review stands: none for a local template, sent by hand through the Outbox.
            const std::string meta = metaStatuses[i].isNull() ? "local" : metaReviewWord(metaStatuses[i].value());
            row->set("meta", meta);
            row->set("meta_label", t.text(locale, "templates_meta_" + meta));
            if (!metaReasons[i].isNull()) row->set("meta_reason", metaReasons[i].value());
            rows->add(row);
        }
        model.set("templates", rows);
        model.set("empty", ids.empty());
        model.set("new_url", std::string(kTemplatesPagesPath) + "/new");
        model.set("sync_url", std::string(kTemplatesPagesPath) + "/sync");
        context_.pages().render(request, response, "templates", t.text(locale, "templates_title"), model, status);
    }

    void newTemplate(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        renderTemplateForm(request, response, 0, TemplateForm{}, {}, {}, 200);
    }

    void editTemplate(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::int64_t id = sdk::positiveId(request.param("id"));
        const auto form = loadTemplate(id);
        if (!form) return notFound(request, response, "templates_error_not_found");
        const std::string locale = request.locale();
        Object::Ptr preview;
        // ?preview=1&value.NAME=...: the body rendered with sample values, nothing stored.
        if (request.queryParam("preview")) {
            preview = new Object;
            std::map<std::string, std::string> values;
            for (const auto& [key, value] : request.query)
                if (key.rfind("value.", 0) == 0) values[key.substr(6)] = value;
            std::string error;
            const auto text = OutboxTemplate::render(form->body, values, error);
            if (text) preview->set("text", *text);
            else preview->set("error", context_.translator().text(locale, "templates_preview_error", {{"reason", error}}));
        }
        std::map<std::string, std::string> samples;
        for (const auto& [key, value] : request.query)
            if (key.rfind("value.", 0) == 0) samples[key.substr(6)] = value;
        renderTemplateForm(request, response, id, *form, samples, preview, 200,
                           request.queryParam("done").value_or("") == "saved"       ? "templates_saved"
                           : request.queryParam("done").value_or("") == "submitted" ? "templates_submitted"
                                                                                    : "");
    }

    void saveTemplate(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::int64_t id = request.params.count("id") ? sdk::positiveId(request.param("id")) : 0;
        if (request.params.count("id") && (id == 0 || !loadTemplate(id))) return notFound(request, response, "templates_error_not_found");
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        const sdk::FormData data(request.body);
        TemplateForm form;
        form.name = Poco::trim(data.value("name"));
        form.language = Poco::trim(data.value("language"));
        form.category = data.value("category");
        form.status = data.value("status");
        form.body = data.value("body");
        form.header = Poco::trim(data.value("header"));
        // A row with no type and no words is no button; any other row must be whole.
        std::string buttonProblem;
        for (std::size_t i = 1; i <= kButtonRows; ++i) {
            const std::string n = std::to_string(i);
            sdk::TemplateButton button{data.value("button" + n + "_type"), Poco::trim(data.value("button" + n + "_text")),
                                       Poco::trim(data.value("button" + n + "_url"))};
            if (button.type.empty() && button.text.empty() && button.url.empty()) continue;
            if (buttonProblem.empty() &&
                (!oneOf(kButtonTypes, button.type) || button.type.empty() || button.text.empty() || codePoints(button.text) > 25 ||
                 (button.type == "url" && button.url.rfind("https://", 0) != 0)))
                buttonProblem = n;
            if (button.type != "url") button.url.clear();
            form.buttons.push_back(button);
        }
        std::string problem, field;
        std::map<std::string, std::string> args;
        static const std::regex name("[a-z0-9_]{1,100}"), language("[a-z]{2,3}(_[A-Z]{2})?");
        if (form.name.empty()) {
            problem = "templates_error_name_empty", field = "name";
        } else if (!std::regex_match(form.name, name)) {
            problem = "templates_error_name", field = "name";
        } else if (!std::regex_match(form.language, language)) {
            problem = "templates_error_language", field = "language";
        } else if (!oneOf(kCategories, form.category)) {
            problem = "templates_error_category", field = "category";
        } else if (!oneOf(kTemplateStatuses, form.status)) {
            problem = "templates_error_status", field = "status";
        } else if (const auto reason = OutboxTemplate::validate(form.body)) {
            problem = "templates_error_body", field = "body", args = {{"reason", *reason}};
        } else if (codePoints(form.header) > 60) {
            problem = "templates_error_header_length", field = "header";
        } else if (!buttonProblem.empty()) {
            problem = "templates_error_button", field = "buttons", args = {{"n", buttonProblem}};
        } else if (const auto reason = sdk::TemplateDefinition{form.header, form.body, form.buttons}.check()) {
            problem = "templates_error_parts", field = "header", args = {{"reason", *reason}};
        }
        sdk::Database& database = context_.database();
        Poco::Data::Session session = database.session();
        if (problem.empty()) {
            sdk::Transaction transaction(database, session);
            std::vector<Poco::Int64> same;
            Poco::Int64 self = id;
            session << "SELECT id FROM whatsapp_templates WHERE name = $1 AND language = $2 AND id <> $3", use(form.name),
                use(form.language), use(self), into(same), now;
            if (!same.empty()) {
                problem = "templates_error_duplicate", field = "name", args = {{"name", form.name}, {"language", form.language}};
            } else {
                const std::int64_t at = context_.clock().nowMillis();
                Poco::Int64 when = at;
                std::vector<Poco::Int64> written;
                Poco::Nullable<std::string> header = nullIfEmpty(form.header),
                                            buttons = nullIfEmpty(form.buttons.empty() ? "" : sdk::TemplateDefinition::buttonsToJson(form.buttons));
                if (id == 0) {
                    session << "INSERT INTO whatsapp_templates (name, language, category, body, status, header, buttons, created_at, updated_at) "
                               "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                        use(form.name), use(form.language), use(form.category), use(form.body), use(form.status), use(header), use(buttons),
                        use(when), into(written), now;
                } else {
                    session << "UPDATE whatsapp_templates SET name = $1, language = $2, category = $3, body = $4, status = $5, "
                               "header = $6, buttons = $7, updated_at = $8 WHERE id = $9",
                        use(form.name), use(form.language), use(form.category), use(form.body), use(form.status), use(header), use(buttons),
                        use(when), use(self), now;
                    written.push_back(id);
                }
                writeLog(session, "info", "admin",
                         {id == 0 ? "template_created" : "template_changed",
                          {{"name", form.name}, {"language", form.language}, {"actor", actorOf(request)}},
                          "template " + form.name + " (" + form.language + ") " + (id == 0 ? "created" : "changed") + " by " + actorOf(request)},
                         "{\"template_id\":" + std::to_string(written.front()) + "}", at);
                transaction.commit();
                response.redirect(303, std::string(kTemplatesPagesPath) + "/" + std::to_string(written.front()) + "?done=saved");
                return;
            }
        }
        Object::Ptr error = new Object;
        error->set("text", t.text(locale, problem, args));
        error->set("field", field);
        renderTemplateForm(request, response, id, form, {}, nullptr, 422, "", error);
    }

    // ---- flows ------------------------------------------------------------------------------
    void flows(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        Poco::Data::Session session = context_.database().session();
        std::vector<Poco::Int64> ids, active, steps;
        std::vector<std::string> names, triggers;
        session << "SELECT f.id, f.name, f.trigger_event, f.active, "
                   "(SELECT COUNT(*) FROM whatsapp_flow_steps s WHERE s.flow_id = f.id) FROM whatsapp_flows f ORDER BY f.name",
            into(ids), into(names), into(triggers), into(active), into(steps), now;
        Array::Ptr rows = new Array;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            const std::string url = std::string(kFlowsPagesPath) + "/" + std::to_string(ids[i]);
            Object::Ptr row = new Object;
            row->set("url", url);
            row->set("name", names[i]);
            row->set("trigger", triggers[i]);
            row->set("active", active[i] != 0);
            row->set("state", t.text(locale, active[i] != 0 ? "flows_active" : "flows_inactive"));
            row->set("steps", t.text(locale, "flows_step_count", {{"count", t.number(locale, steps[i])}}));
            row->set("toggle_url", url + (active[i] != 0 ? "/deactivate" : "/activate"));
            row->set("toggle_label", t.text(locale, active[i] != 0 ? "flows_deactivate" : "flows_activate"));
            rows->add(row);
        }
        Object model;
        model.set("flows", rows);
        model.set("empty", ids.empty());
        model.set("new_url", std::string(kFlowsPagesPath) + "/new");
        const std::string done = request.queryParam("done").value_or("");
        if (done == "activated" || done == "deactivated") model.set("notice", t.text(locale, "flows_done_" + done));
        context_.pages().render(request, response, "flows", t.text(locale, "flows_title"), model);
    }

    void newFlow(const sdk::HttpRequest& request, sdk::HttpResponse& response) { renderFlowForm(request, response, 0, FlowForm{}, 200); }

    void editFlow(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::int64_t id = sdk::positiveId(request.param("id"));
        const auto form = loadFlow(id);
        if (!form) return notFound(request, response, "flows_error_not_found");
        renderFlowForm(request, response, id, *form, 200, request.queryParam("done").value_or("") == "saved" ? "flows_saved" : "");
    }

    void saveFlow(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::int64_t id = request.params.count("id") ? sdk::positiveId(request.param("id")) : 0;
        if (request.params.count("id") && (id == 0 || !loadFlow(id))) return notFound(request, response, "flows_error_not_found");
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        const sdk::FormData data(request.body);
        FlowForm form;
        form.name = Poco::trim(data.value("name"));
        form.trigger = Poco::trim(data.value("trigger_event"));
        const auto templateIds = data.all("step_template");
        const auto delays = data.all("step_delay");
        for (std::size_t i = 0; i < std::max(templateIds.size(), delays.size()); ++i) {
            StepRow row{i < templateIds.size() ? Poco::trim(templateIds[i]) : "", i < delays.size() ? Poco::trim(delays[i]) : "", ""};
            if (!row.templateId.empty() || !row.delay.empty()) form.steps.push_back(row);
        }
        static const std::regex trigger("[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*");
        std::string problem, field;
        std::map<std::string, std::string> args;
        if (form.name.empty() || form.name.size() > 100) {
            problem = "flows_error_name", field = "name";
        } else if (form.trigger.size() > 100 || !std::regex_match(form.trigger, trigger)) {
            problem = "flows_error_trigger", field = "trigger_event";
        } else if (form.steps.empty()) {
            problem = "flows_error_no_steps", field = "steps";
        }
        Poco::Data::Session session = context_.database().session();
        // Each step's template, resolved now: the flow stores its name and language.
        std::vector<std::pair<std::string, std::string>> resolved;
        std::vector<std::int64_t> delaySeconds;
        for (std::size_t i = 0; problem.empty() && i < form.steps.size(); ++i) {
            const StepRow& row = form.steps[i];
            const std::string position = std::to_string(i + 1);
            const std::int64_t templateId = sdk::positiveId(row.templateId);
            std::vector<std::string> names, languages;
            if (templateId > 0) {
                Poco::Int64 tid = templateId;
                session << "SELECT name, language FROM whatsapp_templates WHERE id = $1", use(tid), into(names), into(languages), now;
            }
            if (row.templateId.empty()) {
                problem = "flows_error_step_template_missing", field = "steps", args = {{"step", position}};
            } else if (names.empty()) {
                problem = "flows_error_step_template_unknown", field = "steps", args = {{"step", position}, {"id", row.templateId}};
            } else {
                const std::int64_t minutes = row.delay.empty() ? 0 : (row.delay.size() <= 6 ? sdk::positiveId(row.delay) : -1);
                if (minutes < 0 || minutes > kMaxDelayMinutes || (minutes == 0 && !row.delay.empty() && row.delay != "0")) {
                    problem = "flows_error_step_delay", field = "steps", args = {{"step", position}, {"value", row.delay}};
                } else {
                    resolved.emplace_back(names.front(), languages.front());
                    delaySeconds.push_back(minutes * 60);
                }
            }
        }
        if (problem.empty()) {
            sdk::Database& database = context_.database();
            sdk::Transaction transaction(database, session);
            std::vector<Poco::Int64> same;
            Poco::Int64 self = id;
            session << "SELECT id FROM whatsapp_flows WHERE name = $1 AND id <> $2", use(form.name), use(self), into(same), now;
            if (!same.empty()) {
                problem = "flows_error_duplicate", field = "name", args = {{"name", form.name}};
            } else {
                const std::int64_t at = context_.clock().nowMillis();
                Poco::Int64 when = at;
                std::vector<Poco::Int64> written;
                if (id == 0) {
                    session << "INSERT INTO whatsapp_flows (name, trigger_event, active, created_at, updated_at) "
                               "VALUES ($1, $2, 1, $3, $3) RETURNING id",
                        use(form.name), use(form.trigger), use(when), into(written), now;
                } else {
                    session << "UPDATE whatsapp_flows SET name = $1, trigger_event = $2, updated_at = $3 WHERE id = $4", use(form.name),
                        use(form.trigger), use(when), use(self), now;
                    session << "DELETE FROM whatsapp_flow_steps WHERE flow_id = $1", use(self), now;
                    written.push_back(id);
                }
                Poco::Int64 flowId = written.front();
                for (std::size_t i = 0; i < resolved.size(); ++i) {
                    Poco::Int64 position = static_cast<Poco::Int64>(i + 1), delay = delaySeconds[i];
                    std::string name = resolved[i].first, language = resolved[i].second;
                    session << "INSERT INTO whatsapp_flow_steps (flow_id, position, template_name, language, delay_seconds) "
                               "VALUES ($1, $2, $3, $4, $5)",
                        use(flowId), use(position), use(name), use(language), use(delay), now;
                }
                writeLog(session, "info", "admin",
                         {id == 0 ? "flow_created" : "flow_changed", {{"name", form.name}, {"actor", actorOf(request)}},
                          "flow " + form.name + " " + (id == 0 ? "created" : "changed") + " by " + actorOf(request)},
                         "{\"flow_id\":" + std::to_string(flowId) + "}", at);
                transaction.commit();
                response.redirect(303, std::string(kFlowsPagesPath) + "/" + std::to_string(flowId) + "?done=saved");
                return;
            }
        }
        Object::Ptr error = new Object;
        error->set("text", t.text(locale, problem, args));
        error->set("field", field);
        renderFlowForm(request, response, id, form, 422, "", error);
    }

    void setFlowActive(const sdk::HttpRequest& request, sdk::HttpResponse& response, bool active) {
        const std::int64_t id = sdk::positiveId(request.param("id"));
        sdk::Database& database = context_.database();
        Poco::Data::Session session = database.session();
        sdk::Transaction transaction(database, session);
        Poco::Int64 flowId = id, value = active ? 1 : 0, when = context_.clock().nowMillis();
        Poco::Data::Statement update(session);
        update << "UPDATE whatsapp_flows SET active = $1, updated_at = $2 WHERE id = $3", use(value), use(when), use(flowId);
        if (id == 0 || update.execute() == 0) return notFound(request, response, "flows_error_not_found");
        writeLog(session, "info", "admin",
                 {active ? "flow_activated" : "flow_deactivated", {{"id", std::to_string(id)}, {"actor", actorOf(request)}},
                  "flow " + std::to_string(id) + (active ? " activated" : " deactivated") + " by " + actorOf(request)},
                 "{\"flow_id\":" + std::to_string(id) + "}", when);
        transaction.commit();
        response.redirect(303, std::string(kFlowsPagesPath) + "?done=" + (active ? "activated" : "deactivated"));
    }

    // ---- logs -------------------------------------------------------------------------------
    void logs(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        Object model;
        int status = 200;
        std::string level = request.queryParam("level").value_or("");
        std::string source = Poco::trim(request.queryParam("source").value_or(""));
        if (!level.empty() && !oneOf(kLogLevels, level)) {
            model.set("error", t.text(locale, "logs_error_level", {{"level", level}}));
            level.clear();
            status = 400;
        }
        sdk::KeysetList list("SELECT id, level, source, message, created_at, COALESCE(code, ''), COALESCE(params, '') FROM whatsapp_logs",
                             kPageSize);
        if (!list.readBefore(request)) {
            model.set("error", t.text(locale, "outbox_error_before", {{"value", request.queryParam("before").value_or("")}}));
            status = 400;
        }
        list.filter("level", level);
        list.filter("source", source);
        Poco::Data::Session session = context_.database().session();
        Poco::Data::Statement select(session);
        list.prepare(select);
        std::vector<Poco::Int64> ids, created;
        std::vector<std::string> levels, sources, messages, codes, params;
        select, into(ids), into(levels), into(sources), into(messages), into(created), into(codes), into(params);
        select.execute();
        const bool more = list.trim(ids);
        Array::Ptr rows = new Array;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            Object::Ptr row = new Object;
            row->set("level", levels[i]);
            row->set("level_label", t.text(locale, "logs_level_" + levels[i]));
            row->set("source", sources[i]);
            row->set("source_label", oneOf(kLogSources, sources[i]) ? t.text(locale, "logs_source_" + sources[i]) : sources[i]);
            // A line with a code is said in the reader's language; an older one has only its English message.
            const bool coded = oneOf(kLogCodes, codes[i]);
            row->set("message", coded ? t.text(locale, "log_" + codes[i], logParams(params[i])) : messages[i]);
            row->set("raw", !coded);
            row->set("created", t.dateTime(locale, created[i] / 1000));
            rows->add(row);
        }
        model.set("entries", rows);
        model.set("empty", ids.empty());
        model.set("levels", options(t, locale, kLogLevels, "logs_level_", level));
        model.set("source", source);
        list.setLinks(model, kLogsPagesPath, ids, more);
        context_.pages().render(request, response, "logs", t.text(locale, "logs_title"), model, status);
    }

private:
    void notFound(const sdk::HttpRequest& request, sdk::HttpResponse& response, const std::string& key) {
        const std::string locale = request.locale();
        Object model;
        model.set("error", context_.translator().text(locale, key, {{"id", request.params.count("id") ? request.param("id") : ""}}));
        context_.pages().render(request, response, "not_found", context_.translator().text(locale, "outbox_not_found_title"), model, 404);
    }

    // meta_status and meta_reason of a template (NULL: local).
    std::pair<Poco::Nullable<std::string>, Poco::Nullable<std::string>> metaReview(std::int64_t id) {
        Poco::Data::Session session = context_.database().session();
        Poco::Int64 tid = id;
        std::vector<Poco::Nullable<std::string>> statuses, reasons;
        session << "SELECT meta_status, meta_reason FROM whatsapp_templates WHERE id = $1", use(tid), into(statuses), into(reasons), now;
        if (statuses.empty()) return {};
        return {statuses.front(), reasons.front()};
    }

    std::optional<TemplateForm> loadTemplate(std::int64_t id) {
        if (id <= 0) return std::nullopt;
        Poco::Data::Session session = context_.database().session();
        Poco::Int64 tid = id;
        std::vector<std::string> names, languages, categories, statuses, bodies;
        std::vector<Poco::Nullable<std::string>> headers, buttons;
        session << "SELECT name, language, category, status, body, header, buttons FROM whatsapp_templates WHERE id = $1", use(tid),
            into(names), into(languages), into(categories), into(statuses), into(bodies), into(headers), into(buttons), now;
        if (names.empty()) return std::nullopt;
        TemplateForm form{names[0], languages[0], categories[0], statuses[0], bodies[0], {}, {}};
        if (!headers[0].isNull()) form.header = headers[0].value();
        if (!buttons[0].isNull()) form.buttons = sdk::TemplateDefinition::buttonsFromJson(buttons[0].value());
        return form;
    }

    void renderTemplateForm(const sdk::HttpRequest& request, sdk::HttpResponse& response, std::int64_t id, const TemplateForm& form,
                            const std::map<std::string, std::string>& samples, Object::Ptr preview, int status,
                            const std::string& notice = "", Object::Ptr error = nullptr) {
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        Object model;
        const std::string url = std::string(kTemplatesPagesPath) + (id > 0 ? "/" + std::to_string(id) : "");
        model.set("action_url", url);
        model.set("list_url", std::string(kTemplatesPagesPath));
        model.set("editing", id > 0);
        model.set("heading", id > 0 ? t.text(locale, "templates_edit_heading", {{"name", form.name}})
                                    : t.text(locale, "templates_new_heading"));
        model.set("name", form.name);
        model.set("language", form.language);
        model.set("body", form.body);
        model.set("header", form.header);
        Array::Ptr buttonRows = new Array;
        for (std::size_t i = 0; i < kButtonRows; ++i) {
            const sdk::TemplateButton button = i < form.buttons.size() ? form.buttons[i] : sdk::TemplateButton{};
            Object::Ptr row = new Object;
            const std::string n = std::to_string(i + 1);
            row->set("n", n);
            row->set("legend", t.text(locale, "templates_button_n", {{"n", n}}));
            Array::Ptr types = new Array;
            for (const std::string& type : kButtonTypes) {
                Object::Ptr option = new Object;
                option->set("value", type);
                option->set("label", t.text(locale, "templates_button_type_" + (type.empty() ? std::string("none") : type)));
                option->set("selected", type == button.type);
                types->add(option);
            }
            row->set("types", types);
            row->set("text", button.text);
            row->set("url", button.url);
            buttonRows->add(row);
        }
        model.set("buttons", buttonRows);
        model.set("categories", options(t, locale, kCategories, "templates_category_", form.category));
        model.set("statuses", options(t, locale, kTemplateStatuses, "templates_status_", form.status));
        if (!notice.empty()) model.set("notice", t.text(locale, notice));
        if (error) {
            model.set("error", error->getValue<std::string>("text"));
            model.set("error_" + error->getValue<std::string>("field"), true);
        }
        // The preview form offers one field per variable of the stored, valid body.
        if (id > 0 && !error && !OutboxTemplate::validate(form.body)) {
            Array::Ptr variables = new Array;
            for (const std::string& name : OutboxTemplate::variables(form.body)) {
                Object::Ptr variable = new Object;
                variable->set("name", name);
                variable->set("label", "{{" + name + "}}");
                variable->set("field", "value." + name);
                const auto sample = samples.find(name);
                variable->set("value", sample == samples.end() ? std::string() : sample->second);
                variables->add(variable);
            }
            model.set("variables", variables);
            model.set("preview_url", url);
            model.set("can_preview", true);
        }
        if (preview) model.set("preview", preview);
        // Meta's review, and the submission form: one example per variable of header, body and links.
        if (id > 0) {
            const auto review = metaReview(id);
            const std::string meta = review.first.isNull() ? "local" : metaReviewWord(review.first.value());
            model.set("meta", meta);
            model.set("meta_label", t.text(locale, "templates_meta_" + meta));
            if (!review.second.isNull()) model.set("meta_reason", review.second.value());
            const sdk::TemplateDefinition definition{form.header, form.body, form.buttons};
            if (!definition.check()) {
                Array::Ptr examples = new Array;
                for (const sdk::TemplateField& field : sdk::templateFields(definition)) {
                    Object::Ptr example = new Object;
                    example->set("field", "example." + field.key());
                    example->set("id", "example-" + field.component + std::to_string(field.index) + "-" + field.variable);
                    example->set("label", t.text(locale, "templates_part_" + field.component) + " · {{" + field.variable + "}}");
                    const auto sample = samples.find(field.key());
                    example->set("value", sample == samples.end() ? std::string() : sample->second);
                    examples->add(example);
                }
                model.set("examples", examples);
                model.set("submit_url", url + "/submit");
                model.set("can_submit", review.first.isNull() || review.first.value() == "REJECTED");
            }
        }
        context_.pages().render(request, response, "template_form", t.text(locale, id > 0 ? "templates_edit_title" : "templates_new_title"),
                                model, status);
    }

    std::optional<FlowForm> loadFlow(std::int64_t id) {
        if (id <= 0) return std::nullopt;
        Poco::Data::Session session = context_.database().session();
        Poco::Int64 fid = id;
        std::vector<std::string> names, triggers;
        session << "SELECT name, trigger_event FROM whatsapp_flows WHERE id = $1", use(fid), into(names), into(triggers), now;
        if (names.empty()) return std::nullopt;
        FlowForm form{names[0], triggers[0], {}};
        std::vector<std::string> templateNames, languages;
        std::vector<Poco::Int64> delays, templateIds;
        session << "SELECT s.template_name, s.language, s.delay_seconds, COALESCE(t.id, 0) FROM whatsapp_flow_steps s "
                   "LEFT JOIN whatsapp_templates t ON t.name = s.template_name AND t.language = s.language "
                   "WHERE s.flow_id = $1 ORDER BY s.position",
            use(fid), into(templateNames), into(languages), into(delays), into(templateIds), now;
        for (std::size_t i = 0; i < templateNames.size(); ++i) {
            StepRow row{templateIds[i] > 0 ? std::to_string(templateIds[i]) : "", std::to_string(delays[i] / 60), ""};
            if (templateIds[i] == 0) row.missing = templateNames[i] + " (" + languages[i] + ")";
            form.steps.push_back(row);
        }
        return form;
    }

    void renderFlowForm(const sdk::HttpRequest& request, sdk::HttpResponse& response, std::int64_t id, const FlowForm& form, int status,
                        const std::string& notice = "", Object::Ptr error = nullptr) {
        const std::string locale = request.locale();
        const sdk::Translator& t = context_.translator();
        Poco::Data::Session session = context_.database().session();
        std::vector<Poco::Int64> templateIds;
        std::vector<std::string> names, languages;
        session << "SELECT id, name, language FROM whatsapp_templates ORDER BY name, language", into(templateIds), into(names),
            into(languages), now;
        Object model;
        model.set("action_url", std::string(kFlowsPagesPath) + (id > 0 ? "/" + std::to_string(id) : ""));
        model.set("list_url", std::string(kFlowsPagesPath));
        model.set("heading", id > 0 ? t.text(locale, "flows_edit_heading", {{"name", form.name}}) : t.text(locale, "flows_new_heading"));
        model.set("name", form.name);
        model.set("trigger_event", form.trigger);
        model.set("no_templates", templateIds.empty());
        model.set("templates_url", std::string(kTemplatesPagesPath) + "/new");
        std::vector<StepRow> rows = form.steps;
        for (int i = 0; i < kBlankStepRows; ++i) rows.push_back({});
        Array::Ptr steps = new Array;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            Object::Ptr step = new Object;
            step->set("number", std::to_string(i + 1));
            step->set("label", t.text(locale, "flows_step", {{"step", std::to_string(i + 1)}}));
            step->set("delay", rows[i].delay);
            if (!rows[i].missing.empty()) step->set("missing", t.text(locale, "flows_step_missing_template", {{"template", rows[i].missing}}));
            Array::Ptr choices = new Array;
            for (std::size_t j = 0; j < templateIds.size(); ++j) {
                Object::Ptr choice = new Object;
                choice->set("value", std::to_string(templateIds[j]));
                choice->set("label", names[j] + " (" + languages[j] + ")");
                choice->set("selected", rows[i].templateId == std::to_string(templateIds[j]));
                choices->add(choice);
            }
            step->set("templates", choices);
            steps->add(step);
        }
        model.set("steps", steps);
        if (!notice.empty()) model.set("notice", t.text(locale, notice));
        if (error) {
            model.set("error", error->getValue<std::string>("text"));
            model.set("error_" + error->getValue<std::string>("field"), true);
        }
        context_.pages().render(request, response, "flow_form", t.text(locale, id > 0 ? "flows_edit_title" : "flows_new_title"), model,
                                status);
    }

    sdk::HostContext& context_;
};

}  // namespace

void registerOutboxPages(sdk::HostContext& context) {
    auto pages = std::make_shared<OutboxPages>(context);
    const auto outbox = sdk::RouteOptions::session(sdk::RouteStyle::Page, kOutboxPermission);
    const auto templates = sdk::RouteOptions::session(sdk::RouteStyle::Page, kTemplatesPermission);
    sdk::RouteRegistry& routes = context.routes();
    using Handler = void (OutboxPages::*)(const sdk::HttpRequest&, sdk::HttpResponse&);
    auto add = [&](const std::string& method, const std::string& path, Handler handler, const sdk::RouteOptions& options) {
        routes.add(method, path, [pages, handler](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { ((*pages).*handler)(rq, rs); },
                   options);
    };
    const std::string box = kOutboxPagesPath, tpl = kTemplatesPagesPath, flow = kFlowsPagesPath;
    add("GET", box, &OutboxPages::messages, outbox);
    routes.add("POST", box + "/{id}/sent", [pages](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { pages->finish(rq, rs, "sent"); },
               outbox);
    routes.add("POST", box + "/{id}/cancel",
               [pages](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { pages->finish(rq, rs, "cancelled"); }, outbox);

    add("GET", tpl, &OutboxPages::templates, templates);
    add("GET", tpl + "/new", &OutboxPages::newTemplate, templates);
    add("POST", tpl, &OutboxPages::saveTemplate, templates);
    add("POST", tpl + "/sync", &OutboxPages::syncTemplates, templates);
    add("POST", tpl + "/{id}/submit", &OutboxPages::submitTemplate, templates);
    add("GET", tpl + "/{id}", &OutboxPages::editTemplate, templates);
    add("POST", tpl + "/{id}", &OutboxPages::saveTemplate, templates);

    add("GET", flow, &OutboxPages::flows, outbox);
    add("GET", flow + "/new", &OutboxPages::newFlow, outbox);
    add("POST", flow, &OutboxPages::saveFlow, outbox);
    add("GET", flow + "/{id}", &OutboxPages::editFlow, outbox);
    add("POST", flow + "/{id}", &OutboxPages::saveFlow, outbox);
    routes.add("POST", flow + "/{id}/activate",
               [pages](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { pages->setFlowActive(rq, rs, true); }, outbox);
    routes.add("POST", flow + "/{id}/deactivate",
               [pages](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { pages->setFlowActive(rq, rs, false); }, outbox);

    add("GET", kLogsPagesPath, &OutboxPages::logs, sdk::RouteOptions::session(sdk::RouteStyle::Page, kLogsPermission));
}

}  // namespace tawasul::plugins::outbox
