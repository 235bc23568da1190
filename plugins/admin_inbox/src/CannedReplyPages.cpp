#include "CannedReplyPages.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "tawasul/sdk/Forms.hpp"

namespace tawasul::plugins::admin_inbox {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

class CannedReplyPages {
public:
    CannedReplyPages(sdk::HostContext& context, std::shared_ptr<CannedReplyStore> store, std::string assets)
        : context_(context), store_(std::move(store)), assets_(std::move(assets)) {}

    void list(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        Object model;
        Array::Ptr replies = new Array;
        for (const CannedReply& reply : store_->list()) {
            Object::Ptr row = new Object;
            row->set("title", reply.title);
            row->set("shortcut", reply.shortcut);
            row->set("url", kCannedPath + "/" + std::to_string(reply.id));
            row->set("delete_url", kCannedPath + "/" + std::to_string(reply.id) + "/delete");
            row->set("updated", tr().dateTime(request.locale(), reply.updatedAt / 1000));
            Array::Ptr texts = new Array;
            for (const std::string& language : cannedLanguages()) {
                const auto text = reply.texts.find(language);
                if (text == reply.texts.end()) continue;
                Object::Ptr line = new Object;
                line->set("language", language);
                line->set("language_label", t(request, "canned_language_" + language));
                line->set("parts", textParts(text->second));
                texts->add(line);
            }
            row->set("texts", texts);
            replies->add(row);
        }
        model.set("replies", replies);
        model.set("empty", replies->size() == 0);
        model.set("new_url", kCannedPath + "/new");
        model.set("assets", assets_);
        if (request.queryParam("done")) model.set("notice", t(request, "action_done"));
        if (request.queryParam("error").value_or("") == "not_found") model.set("error", t(request, "canned_not_found"));
        context_.pages().render(request, response, "canned_replies", t(request, "canned_title"), model);
    }

    void blank(const sdk::HttpRequest& request, sdk::HttpResponse& response) { form(request, response, CannedReply{}, {}, 200); }

    void edit(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::int64_t id = sdk::positiveId(request.param("id"));
        const auto reply = id ? store_->find(id) : std::nullopt;
        if (!reply) return notFound(request, response);
        form(request, response, *reply, {}, 200);
    }

    // POST kCannedPath (a new one) or kCannedPath/{id}.
    void save(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        CannedReply reply;
        if (request.params.count("id")) {
            reply.id = sdk::positiveId(request.params.at("id"));
            if (!reply.id || !store_->find(reply.id)) return notFound(request, response);
        }
        const sdk::FormData form(request.body);
        reply.title = form.value("title");
        reply.shortcut = form.value("shortcut");
        for (const std::string& language : cannedLanguages()) reply.texts[language] = form.value("text_" + language);
        const CannedReply typed = reply;
        bool readable = validUtf8(reply.title) && validUtf8(reply.shortcut);
        for (const auto& [language, text] : reply.texts) readable = readable && validUtf8(text);
        CannedProblems problems;
        if (!readable) problems.noText = "unreadable";
        else problems = checkCannedReply(reply);
        if (!problems.any() && !store_->save(reply, request.principal->id, context_.clock().nowMillis(), problems)) {
            if (!problems.any()) return notFound(request, response);  // deleted meanwhile
        }
        if (problems.any()) return this->form(request, response, typed, problems, 422);
        response.redirect(303, kCannedPath + "?done=1");
    }

    void remove(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::int64_t id = sdk::positiveId(request.param("id"));
        if (!id || !store_->remove(id)) return response.redirect(303, kCannedPath + "?error=not_found");
        response.redirect(303, kCannedPath + "?done=1");
    }

private:
    const sdk::Translator& tr() const { return context_.translator(); }
    std::string t(const sdk::HttpRequest& request, const std::string& key, const std::map<std::string, std::string>& args = {}) const {
        return tr().text(request.locale(), key, args);
    }

    // A stored text as pieces of text and {{fields}}: the page shows a field as code (it is a name
    // for the program, the same in every language), the rest as the text it is.
    static Array::Ptr textParts(const std::string& text) {
        Array::Ptr parts = new Array;
        auto add = [&](const std::string& piece, bool field) {
            if (piece.empty()) return;
            Object::Ptr part = new Object;
            part->set("text", piece);
            part->set("is_field", field);
            parts->add(part);
        };
        std::size_t at = 0;
        while (at < text.size()) {
            const auto open = text.find("{{", at);
            const auto close = open == std::string::npos ? std::string::npos : text.find("}}", open + 2);
            if (close == std::string::npos) break;
            add(text.substr(at, open - at), false);
            add(text.substr(open, close + 2 - open), true);
            at = close + 2;
        }
        add(text.substr(std::min(at, text.size())), false);
        return parts;
    }

    void notFound(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        Object model;
        model.set("message", t(request, "canned_not_found"));
        model.set("back_url", kCannedPath);
        model.set("back_label", t(request, "canned_back"));
        context_.pages().render(request, response, "not_found", t(request, "canned_not_found"), model, 404);
    }

    void form(const sdk::HttpRequest& request, sdk::HttpResponse& response, const CannedReply& reply, const CannedProblems& problems,
              int status) {
        Object model;
        const bool editing = reply.id > 0;
        model.set("heading", editing ? t(request, "canned_edit_title") : t(request, "canned_new"));
        model.set("action_url", editing ? kCannedPath + "/" + std::to_string(reply.id) : kCannedPath);
        if (editing) model.set("delete_url", kCannedPath + "/" + std::to_string(reply.id) + "/delete");
        model.set("list_url", kCannedPath);
        model.set("reply_title", reply.title);
        model.set("shortcut", reply.shortcut);
        Array::Ptr errors = new Array;
        if (!problems.title.empty()) errors->add(t(request, "canned_error_title_" + problems.title));
        if (!problems.shortcut.empty())
            errors->add(t(request, "canned_error_shortcut_" + problems.shortcut, {{"max", std::to_string(kMaxShortcutChars)}}));
        if (!problems.noText.empty()) errors->add(t(request, "canned_error_" + problems.noText));
        Array::Ptr languages = new Array;
        for (const std::string& language : cannedLanguages()) {
            Object::Ptr field = new Object;
            field->set("code", language);
            field->set("label", t(request, "canned_field_text", {{"language", t(request, "canned_language_" + language)}}));
            field->set("dir", language == "ar" ? "rtl" : "ltr");
            const auto text = reply.texts.find(language);
            field->set("text", text == reply.texts.end() ? "" : text->second);
            const auto problem = problems.texts.find(language);
            field->set("invalid", problem != problems.texts.end());
            if (problem != problems.texts.end())
                errors->add(t(request, "canned_error_text_" + problem->second,
                              {{"language", t(request, "canned_language_" + language)},
                               {"field", "{{" + problems.unknownField + "}}"},
                               {"max", std::to_string(kMaxCannedTextChars)}}));
            languages->add(field);
        }
        model.set("languages", languages);
        Array::Ptr fields = new Array;
        for (const std::string& name : cannedFields()) {
            Object::Ptr field = new Object;
            field->set("token", "{{" + name + "}}");
            fields->add(field);
        }
        model.set("fields", fields);
        model.set("errors", errors);
        model.set("has_errors", errors->size() > 0);
        model.set("error_title", !problems.title.empty());
        model.set("error_shortcut", !problems.shortcut.empty());
        model.set("assets", assets_);
        context_.pages().render(request, response, "canned_reply", model.getValue<std::string>("heading"), model, status);
    }

    sdk::HostContext& context_;
    std::shared_ptr<CannedReplyStore> store_;
    std::string assets_;
};

}  // namespace

void registerCannedReplyPages(sdk::HostContext& context, std::shared_ptr<CannedReplyStore> store, const std::string& assets) {
    auto pages = std::make_shared<CannedReplyPages>(context, std::move(store), assets);
    const auto manage = sdk::RouteOptions::session(sdk::RouteStyle::Page, kCannedPermission);
    using Handler = void (CannedReplyPages::*)(const sdk::HttpRequest&, sdk::HttpResponse&);
    auto add = [&](const std::string& method, const std::string& path, Handler handler) {
        context.routes().add(method, path, [pages, handler](const sdk::HttpRequest& rq, sdk::HttpResponse& rs) { ((*pages).*handler)(rq, rs); },
                             manage);
    };
    add("GET", kCannedPath, &CannedReplyPages::list);
    add("GET", kCannedPath + "/new", &CannedReplyPages::blank);
    add("POST", kCannedPath, &CannedReplyPages::save);
    add("GET", kCannedPath + "/{id}", &CannedReplyPages::edit);
    add("POST", kCannedPath + "/{id}", &CannedReplyPages::save);
    add("POST", kCannedPath + "/{id}/delete", &CannedReplyPages::remove);
}

}  // namespace tawasul::plugins::admin_inbox
