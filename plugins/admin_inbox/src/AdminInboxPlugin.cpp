// The admin inbox: the conversation list, one conversation with its actions (reply, assign,
// resolve/reopen, leads), live updates over Server-Sent Events, and the legacy redirects. Pages are
// rendered by the host's PageRenderer (escaped Mustache in the shared layout); every string comes
// from lang/<locale>.yaml. Actions are POST + redirect (303) back to the page, errors travel as a
// word in the query string and are shown translated.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <memory>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/URI.h>
#include <Poco/UUIDGenerator.h>

#include "CannedReplies.hpp"
#include "CannedReplyPages.hpp"
#include "InboxStore.hpp"
#include "LiveHub.hpp"
#include "MediaPages.hpp"
#include "MediaStore.hpp"
#include "tawasul/sdk/EveryHostEvents.hpp"
#include "tawasul/sdk/Forms.hpp"
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/whatsapp/Media.hpp"
#include "tawasul/whatsapp/Messaging.hpp"
#include "tawasul/whatsapp/Contacts.hpp"
#include "tawasul/whatsapp/Phones.hpp"
#include "tawasul/whatsapp/Templates.hpp"
#include "tawasul/sdk/Plugin.hpp"
#include "tawasul/sdk/ListPages.hpp"

namespace tawasul::plugins::admin_inbox {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;


const std::string kBase = "/admin/messaging/whatsapp";
const std::string kInboxPath = kBase + "/inbox";
const std::string kConversationPath = kBase + "/conversations/";
// The B2B leads of the platform's b2b_leads table: the contact matcher links a matched lead here.
const std::string kLeadsPath = "/admin/b2b-leads";
// The statuses the lead page sets, in the order of a lead's life; a platform may store others,
// which the page shows and keeps until one of these is chosen.
const std::vector<std::string> kLeadStatuses{"new", "contacted", "qualified", "won", "lost"};
// Where leads come from, as the catalogs name them; another source is shown as it is stored.
const std::vector<std::string> kLeadSources{"whatsapp", "website", "manual"};
// The intents of the default keyword rules (inbound_router), as the catalogs name them; an intent a
// deployment adds is its own word and shown as configured.
const std::vector<std::string> kKnownIntents{"registration", "institution"};
// The providers the catalogs name (provider_<name>); another is shown by its plugin name.
const std::vector<std::string> kKnownProviders{"cloud_api", "outbox"};
// Template languages the catalogs name (template_language_<code>); another code is shown as it is.
const std::vector<std::string> kKnownLanguages{"ar", "fr", "en", "en_US", "en_GB", "fr_FR"};
// What a provider's attempt came to (whatsapp_message_attempts.outcome), as the catalogs say it.
const std::vector<std::string> kAttemptOutcomes{"refused", "unavailable", "failed", "retry", "queued", "sent"};
const std::vector<std::string> kLeadErrors{"not_found", "invalid_status", "empty_note", "note_too_long", "not_linked"};
constexpr std::size_t kMaxNoteBytes = 4000;
// The host serves each plugin's public/ folder under /admin/static/<plugin>/.
const std::string kAssets = "/admin/static/admin_inbox";

// Errors an action may report back to its page; anything else in ?error= is ignored, so the page
// never shows words a link put there.
const std::vector<std::string> kActionErrors{"not_found",    "invalid_user", "other_open",       "lead_exists",     "invalid_lead",
                                             "window_closed", "invalid",     "empty_text",       "no_dispatcher",   "duplicate",
                                             "no_template",  "missing_variable", "invalid_request", "resolved",
                                             "media_not_failed", "not_failed"};
// The list's filters, kept by a conversation opened from it (the three panes) and by its actions.
const std::vector<std::string> kListKeys{"status", "owner", "intent", "q"};
// At most one typing call to Meta per conversation in this time (it lasts about 25 s there).
constexpr std::int64_t kTypingEveryMillis = 20000;

std::string oneOf(const std::optional<std::string>& value, const std::vector<std::string>& allowed, const std::string& fallback) {
    if (value && std::find(allowed.begin(), allowed.end(), *value) != allowed.end()) return *value;
    return fallback;
}

// At most maxBytes of `text`, cut between characters (half a character is no text to PostgreSQL).
std::string cutAt(const std::string& text, std::size_t maxBytes) {
    if (text.size() <= maxBytes) return text;
    std::size_t cut = maxBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return text.substr(0, cut);
}

// UTF-8 safe shortening for previews.
std::string shorten(const std::string& text, std::size_t maxBytes) {
    return text.size() <= maxBytes ? text : cutAt(text, maxBytes) + "…";
}

// "NAME 2026-12-01T10:00:00.000Z: " at the start of a lead's note paragraph: who wrote it and when
// (sdk::isoTime's form, with or without the milliseconds). None: author empty.
struct NotePrefix {
    std::string author;
    std::int64_t at = 0;
    std::size_t length = 0;  // of "NAME TIME: "
};

NotePrefix notePrefix(const std::string& paragraph) {
    NotePrefix out;
    const auto colon = paragraph.find("Z: ");
    if (colon == std::string::npos) return out;
    const auto space = paragraph.rfind(' ', colon);
    if (space == std::string::npos || space == 0 || paragraph.find('\n') < space) return out;
    const std::string time = paragraph.substr(space + 1, colon + 1 - space - 1);
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
    char tail = 0;
    const bool withMillis = std::sscanf(time.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &year, &month, &day, &hour, &minute, &second, &millis, &tail) == 8;
    if (!withMillis && std::sscanf(time.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &year, &month, &day, &hour, &minute, &second, &tail) != 7) return out;
    if (tail != 'Z' || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return out;
    // Days from the civil date (Howard Hinnant's algorithm): no timezone of the process involved.
    const int y = year - (month <= 2 ? 1 : 0);
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const std::int64_t days = static_cast<std::int64_t>(era) * 146097 + doe - 719468;
    out.at = ((days * 24 + hour) * 60 + minute) * 60000LL + second * 1000LL + millis;
    out.author = paragraph.substr(0, space);
    out.length = colon + 3;
    return out;
}

// A template reply sent back to its page (422): the choice, what was typed, what is missing.
struct TemplateChoice {
    std::string value;                          // "name|language"
    std::map<std::string, std::string> values;  // by TemplateField::key()
    std::vector<std::string> missing;           // keys
};

// A note sent back to its page (422): what was typed and why it was refused.
struct NoteDraft {
    std::string text;
    std::string error;  // empty_note, note_too_long
};

struct InboxConfig {
    std::size_t liveBuffer = 1000;  // events each open page may fall behind by
    MediaOptions media;             // where inbound media is kept, and how large it may be
};

// The plugin's keys: read by start() and, before anything starts, by `tawasul config check`.
InboxConfig readConfig(const sdk::ConfigNode& config) {
    config.allowOnly({"live_buffer", "media"});
    InboxConfig result;
    result.liveBuffer = static_cast<std::size_t>(config.getInt("live_buffer", 1000, 10, 100000));
    result.media = readMediaOptions(config.child("media"));
    return result;
}

class AdminInboxPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        const InboxConfig config = readConfig(context.config());
        context_ = &context;
        hub_ = std::make_shared<LiveHub>(config.liveBuffer);
        store_ = std::make_unique<InboxStore>(context.database(), phones_);
        media_ = std::make_unique<MediaStore>(context.database(), config.media);
        canned_ = std::make_shared<CannedReplyStore>(context.database());
        // Inbound media, one job per message the inbound router stored with a media id.
        context.jobs().handle(sdk::kFetchMediaJob, [this](const sdk::Job& job) {
            media_->fetch(job, context_->services().find<sdk::MediaSource>(media_->options().source), nowMillis(),
                          [this](std::int64_t conversation) { changed(conversation, "media"); });
        });

        // Everything the pages show that others change: new messages, ticks, assignments, leads,
        // and the dispatcher's own news (queued sends, provider fallbacks), from every host; and
        // the bus's word that some may have been missed, which open pages answer by refreshing.
        const auto everyHost = context.services().find<sdk::EveryHostEvents>(sdk::EveryHostEvents::kServiceName);
        std::weak_ptr<LiveHub> hub = hub_;
        const sdk::EventHandler show = [hub](const sdk::Event& event) {
            auto live = hub.lock();
            if (!live) return;
            if (event.topic == sdk::kBusReconnectedTopic) live->pushRefresh();
            else live->push(event.topic, event.json);
        };
        for (const char* topic : {"message.received", "message.queued", "message.sent", "message.status", "conversation.updated", "lead.created",
                                  "lead.updated", "alert.raised"}) {
            context.events().subscribe(topic, show);
            if (everyHost) everyHost->subscribe(context.pluginName(), topic, show);
        }
        if (everyHost) everyHost->subscribe(context.pluginName(), sdk::kBusReconnectedTopic, show);

        auto& routes = context.routes();
        const auto page = [](const std::string& permission) { return sdk::RouteOptions::session(sdk::RouteStyle::Page, permission); };
        auto inboxPage = [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { renderInbox(request, response); };
        routes.add("GET", kInboxPath, inboxPage, page("whatsapp.inbox.view"));
        routes.add("GET", "/admin/inbox", inboxPage, page("whatsapp.inbox.view"));
        routes.add("GET", kConversationPath + "{id}",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { renderConversation(request, response); },
                   page("whatsapp.inbox.view"));
        // The bytes of a message's media: only for a session that may read the inbox.
        routes.add("GET", kMediaPath + "{message}",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
                       serveMedia(*media_, request, response, context_->logger());
                   },
                   sdk::RouteOptions::session(sdk::RouteStyle::Api, "whatsapp.inbox.view"));
        routes.add("POST", kConversationPath + "{id}/media/{message}/retry",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { retryMedia(request, response); },
                   page("whatsapp.inbox.reply"));
        routes.add("POST", kConversationPath + "{id}/messages/{message}/retry",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { retrySend(request, response); },
                   page("whatsapp.inbox.reply"));
        // The reply box's "an agent is typing", sent by the page's script (X-CSRF-Token).
        routes.add("POST", kConversationPath + "{id}/typing",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { typing(request, response); },
                   sdk::RouteOptions::session(sdk::RouteStyle::Api, "whatsapp.inbox.reply"));
        routes.add("POST", kConversationPath + "{id}/reply",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { reply(request, response); },
                   page("whatsapp.inbox.reply"));
        // An internal note: stored and shown, never sent (no dispatcher, no provider, no job).
        routes.add("POST", kConversationPath + "{id}/notes",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { addNote(request, response); },
                   page("whatsapp.inbox.reply"));
        registerCannedReplyPages(context, canned_, kAssets);
        routes.add("POST", kConversationPath + "{id}/assign",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { assign(request, response); },
                   page("whatsapp.inbox.assign"));
        routes.add("POST", kConversationPath + "{id}/resolve",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { resolve(request, response, true); },
                   page("whatsapp.inbox.resolve"));
        routes.add("POST", kConversationPath + "{id}/reopen",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { resolve(request, response, false); },
                   page("whatsapp.inbox.resolve"));
        routes.add("POST", kConversationPath + "{id}/pending",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { markPending(request, response); },
                   page("whatsapp.inbox.resolve"));
        routes.add("POST", kConversationPath + "{id}/lead",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { createLead(request, response); },
                   page("whatsapp.leads.manage"));
        routes.add("POST", kConversationPath + "{id}/lead/link",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { linkLead(request, response); },
                   page("whatsapp.leads.manage"));
        // B2B leads: the list, one lead, and what the lead page changes.
        routes.add("GET", kLeadsPath, [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { renderLeads(request, response); },
                   page("whatsapp.leads.manage"));
        routes.add("GET", kLeadsPath + "/{id}",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { renderLead(request, response); },
                   page("whatsapp.leads.manage"));
        routes.add("POST", kLeadsPath + "/{id}/status",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { setLeadStatus(request, response); },
                   page("whatsapp.leads.manage"));
        routes.add("POST", kLeadsPath + "/{id}/notes",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { addLeadNote(request, response); },
                   page("whatsapp.leads.manage"));
        routes.add("POST", kLeadsPath + "/{id}/unlink",
                   [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) { unlinkLead(request, response); },
                   page("whatsapp.leads.manage"));
        routes.addStream(kBase + "/live",
                         [this](const sdk::HttpRequest& request, std::shared_ptr<sdk::EventStream> stream) { live(request, std::move(stream)); },
                         sdk::RouteOptions::session(sdk::RouteStyle::Api, "whatsapp.inbox.view"));
        // The old admin lived under /admin/whatsapp: bookmarks keep working, with their query.
        routes.add("GET", "/admin/whatsapp/{rest...}",
                   [](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
                       // From the decoded path, encoded again: a %0d%0a in the old address stays
                       // text in Location and never becomes a header of the caller's choosing.
                       std::string rest;
                       Poco::URI::encode(request.param("rest"), "?#;", rest);
                       std::string target = kBase + "/" + rest;
                       if (!request.rawQuery.empty()) target += "?" + request.rawQuery;
                       response.redirect(301, target);
                   },
                   sdk::RouteOptions::open(sdk::RouteStyle::Plain));
        context.logger().information("admin_inbox ready; inbound media from " + config.media.source + " kept in " +
                                     (config.media.inDatabase ? std::string("the database") : config.media.dir.string()) + ", at most " +
                                     std::to_string(config.media.maxBytes) + " bytes each");
    }

    void stop() noexcept override {
        if (hub_) hub_->close();  // every open page's stream ends
    }

private:
    const sdk::Translator& tr() const { return context_->translator(); }
    std::string t(const sdk::HttpRequest& request, const std::string& key, const std::map<std::string, std::string>& args = {}) const {
        return tr().text(request.locale(), key, args);
    }
    std::string when(const sdk::HttpRequest& request, std::int64_t millis) const {
        return millis > 0 ? tr().dateTime(request.locale(), millis / 1000) : "";
    }
    std::int64_t nowMillis() const { return context_->clock().nowMillis(); }
    std::shared_ptr<sdk::MessageDispatcher> dispatcher() const {
        return context_->services().find<sdk::MessageDispatcher>(sdk::MessageDispatcher::kServiceName);
    }

    // The templates the picker offers: local ones and those Meta lets be sent, read with them (the
    // dispatcher refuses the others, and says why when one is posted anyway).
    std::vector<TemplateOption> offeredTemplates() {
        std::vector<TemplateOption> options = store_->templates();
        options.erase(std::remove_if(options.begin(), options.end(),
                                     [](const TemplateOption& o) { return !o.metaStatus.empty() && !sdk::sendableAtMeta(o.metaStatus); }),
                      options.end());
        return options;
    }

    // The 24-hour window in words: "open until 14:05" or "closed".
    void windowInto(const sdk::HttpRequest& request, Object& out, std::int64_t lastInboundAt) const {
        const bool open = windowOpen(lastInboundAt, nowMillis());
        out.set("window_open", open);
        out.set("window_label", open ? t(request, "window_open_until", {{"time", when(request, lastInboundAt + kWindowMillis)}})
                                     : t(request, "window_closed"));
    }

    std::string statusLabel(const sdk::HttpRequest& request, const std::string& status) const {
        return t(request, "status_" + status);
    }

    static bool known(const std::vector<std::string>& words, const std::string& word) {
        return std::find(words.begin(), words.end(), word) != words.end();
    }
    std::string intentLabel(const sdk::HttpRequest& request, const std::string& intent) const {
        return known(kKnownIntents, intent) ? t(request, "intent_" + intent) : intent;
    }
    std::string providerLabel(const sdk::HttpRequest& request, const std::string& provider) const {
        return known(kKnownProviders, provider) ? t(request, "provider_" + provider) : provider;
    }
    std::string languageLabel(const sdk::HttpRequest& request, const std::string& code) const {
        if (!known(kKnownLanguages, code)) return code;
        std::string key = "template_language_" + code;  // catalog keys are lower-case: en_us
        std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return t(request, key);
    }
    // "NAME (Français)": the template's own name, its language in the page's words.
    std::string templateLabel(const sdk::HttpRequest& request, const std::string& name, const std::string& language) const {
        return t(request, "template_label", {{"name", name}, {"language", languageLabel(request, language)}});
    }
    // The dispatcher stores a template message's body as "template NAME (LANG)": said as "NAME
    // (Français)"; a body of another form is shown as it is.
    std::string templateBody(const sdk::HttpRequest& request, const std::string& body) const {
        const std::string prefix = "template ";
        const auto open = body.rfind(" (");
        if (body.rfind(prefix, 0) != 0 || open == std::string::npos || open <= prefix.size() || body.back() != ')') return body;
        return templateLabel(request, body.substr(prefix.size(), open - prefix.size()), body.substr(open + 2, body.size() - open - 3));
    }
    // Why a provider passed a message on, from the attempt's stored outcome and error code (the
    // raw words stay in whatsapp_message_attempts for the logs).
    std::string fallbackReason(const sdk::HttpRequest& request, const FallbackReason& reason) const {
        const std::string provider = providerLabel(request, reason.provider);
        if (!known(kAttemptOutcomes, reason.outcome)) return provider;
        if (reason.errorCode != 0)
            return t(request, "fallback_" + reason.outcome + "_code", {{"provider", provider}, {"code", std::to_string(reason.errorCode)}});
        return t(request, "fallback_" + reason.outcome, {{"provider", provider}});
    }

    std::string messageSummary(const sdk::HttpRequest& request, const std::string& type, const std::string& body) const {
        if (type == "text" || type.empty()) return body;
        if (type == "template") return t(request, "media_template") + " · " + templateBody(request, body);
        const std::string label = t(request, "media_" + type);
        return body.empty() ? label : label + " · " + body;
    }

    Object::Ptr rowModel(const sdk::HttpRequest& request, const InboxRow& row) const {
        Object::Ptr out = new Object;
        out->set("id", row.id);
        out->set("url", kConversationPath + std::to_string(row.id));
        out->set("name", !row.name.empty()       ? row.name
                         : !row.phone.empty()    ? row.phone
                         : !row.username.empty() ? "@" + row.username
                                                 : t(request, "contact_unknown"));
        out->set("phone", row.phone);
        // Mustache shows a section for any string, even an empty one: sections test these booleans.
        out->set("has_phone", !row.phone.empty());
        out->set("username", row.username);  // escaped by the template, as every value
        out->set("has_username", !row.username.empty());
        out->set("has_intent", !row.intent.empty());
        out->set("status", row.status);
        out->set("status_label", statusLabel(request, row.status));
        out->set("assigned", !row.assignedName.empty());
        out->set("assigned_name", row.assignedName);
        out->set("intent", row.intent);
        out->set("intent_label", intentLabel(request, row.intent));
        out->set("unread", row.unread);
        out->set("has_unread", row.unread > 0);
        out->set("unread_label", tr().number(request.locale(), row.unread));
        out->set("last_at", when(request, row.lastMessageAt));
        out->set("preview", shorten(messageSummary(request, row.previewType, row.previewBody), 140));
        out->set("preview_outbound", row.previewDirection == "out");
        windowInto(request, *out, row.lastInboundAt);
        return out;
    }

    Array::Ptr options(const sdk::HttpRequest& request, const std::vector<std::string>& values, const std::string& selected,
                       const std::string& keyPrefix) const {
        Array::Ptr out = new Array;
        for (const std::string& value : values) {
            Object::Ptr option = new Object;
            option->set("value", value);
            option->set("label", keyPrefix.empty() ? value : t(request, keyPrefix + (value.empty() ? "any" : value)));
            option->set("selected", value == selected);
            out->add(option);
        }
        return out;
    }

    // When the first provider of the chain cannot send (an expired token, a restriction, switched
    // off), agents must know that their replies wait in the Outbox: a banner on the inbox and on
    // every conversation, with the way to the settings for those who may change them.
    void addSendingNotice(const sdk::HttpRequest& request, Object& model) const {
        const auto sender = dispatcher();
        if (!sender) return;
        const auto chain = sender->chainHealth();
        if (chain.empty() || chain.front().second.state == sdk::ProviderState::Healthy) return;
        const auto& [provider, health] = chain.front();
        model.set("sending_notice", t(request, "sending_stopped", {{"provider", providerLabel(request, provider)}}));
        if (!health.reason.empty()) model.set("sending_reason", health.reason);
        if (request.principal && request.principal->can("whatsapp.settings.manage"))
            model.set("sending_settings_url", kBase + "/settings");  // cloud_api's settings page
    }

    // What Meta says of the account that does not stop replies (quality, limits, templates
    // restricted, Meta's own alerts): one line each, in the page's words, Meta's detail beside it.
    void addAccountAlerts(const sdk::HttpRequest& request, Object& model) const {
        Array::Ptr alerts = new Array;
        for (const InboxStore::AccountAlert& alert : store_->accountAlerts(nowMillis(), 3)) {
            static const std::vector<std::string> kKnown{"QUALITY_FLAGGED", "MESSAGING_LIMIT_LOWERED", "RESTRICTED_BIZ_INITIATED_MESSAGING",
                                                         "RESTRICTED_ADD_PHONE_NUMBER_ACTION", "ACCOUNT_DISABLE_SCHEDULED", "ACCOUNT_VIOLATION"};
            std::string key = known(kKnown, alert.code) ? alert.code : alert.code.rfind("ALERT_", 0) == 0 ? "ALERT" : "OTHER";
            std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            Object::Ptr line = new Object;
            line->set("text", t(request, "account_alert_" + key));
            line->set("detail", alert.message);
            alerts->add(line);
        }
        model.set("account_alerts", alerts);
    }

    // The list's filters from a query string's values (unknown values fall back to the defaults).
    InboxFilter listFilter(const sdk::HttpRequest& request, const std::vector<std::string>& intents,
                           const std::function<std::optional<std::string>(const std::string&)>& param) const {
        InboxFilter filter;
        filter.status = oneOf(param("status"), {"", "open", "pending", "resolved"}, "");
        filter.owner = oneOf(param("owner"), {"all", "mine", "unassigned"}, "all");
        filter.userId = request.principal ? request.principal->id : 0;
        filter.intent = oneOf(param("intent"), intents, "");
        filter.search = cutAt(param("q").value_or(""), 200);
        return filter;
    }

    // "status=open&q=..." for a filter other than the default, "" for the default list.
    static std::string listQuery(const InboxFilter& filter) {
        if (filter.status.empty() && filter.owner == "all" && filter.intent.empty() && filter.search.empty()) return "";
        return "status=" + sdk::queryValue(filter.status) + "&owner=" + sdk::queryValue(filter.owner) +
               "&intent=" + sdk::queryValue(filter.intent) + "&q=" + sdk::queryValue(filter.search);
    }

    // The filters of the list an action's page was opened from: its Referer's query (the page's
    // own address), read back through listFilter so that only known values come through.
    std::string refererListQuery(const sdk::HttpRequest& request) const {
        const auto referer = request.header("Referer");
        if (!referer) return "";
        std::map<std::string, std::string> values;
        try {
            for (const auto& [key, value] : Poco::URI(*referer).getQueryParameters())
                if (known(kListKeys, key)) values[key] = value;
        } catch (const Poco::Exception&) {
            return "";
        }
        const auto intents = store_->intents();
        return listQuery(listFilter(request, intents, [&](const std::string& key) -> std::optional<std::string> {
            const auto found = values.find(key);
            if (found == values.end()) return std::nullopt;
            return found->second;
        }));
    }

    // The conversation list, as the inbox shows it and as the conversation page shows it beside
    // the conversation (desktop): filters, rows (each linking with the filters kept), pages.
    void listInto(const sdk::HttpRequest& request, Object& model, const InboxFilter& filter, const std::vector<std::string>& intents,
                  std::int64_t activeId) const {
        const InboxPage page = store_->list(filter);
        const std::string query = listQuery(filter);
        Array::Ptr rows = new Array;
        for (const auto& row : page.rows) {
            Object::Ptr out = rowModel(request, row);
            if (!query.empty()) out->set("url", kConversationPath + std::to_string(row.id) + "?" + query);
            out->set("active", row.id == activeId);
            rows->add(out);
        }
        model.set("rows", rows);
        model.set("empty", page.rows.empty());
        model.set("q", filter.search);
        model.set("status_options", options(request, {"", "open", "pending", "resolved"}, filter.status, "filter_status_"));
        model.set("owner_options", options(request, {"all", "mine", "unassigned"}, filter.owner, "filter_owner_"));
        std::vector<std::string> intentValues{""};
        intentValues.insert(intentValues.end(), intents.begin(), intents.end());
        Array::Ptr intentOptions = options(request, intentValues, filter.intent, "");
        intentOptions->getObject(0)->set("label", t(request, "filter_intent_any"));
        for (std::size_t i = 1; i < intentOptions->size(); ++i) intentOptions->getObject(i)->set("label", intentLabel(request, intentValues[i]));
        model.set("intent_options", intentOptions);
        std::string fullQuery = "status=" + sdk::queryValue(filter.status) + "&owner=" + sdk::queryValue(filter.owner) + "&intent=" +
                                sdk::queryValue(filter.intent) + "&q=" + sdk::queryValue(filter.search);
        if (page.next) model.set("next_url", kInboxPath + "?" + fullQuery + "&after=" + page.next->encode());
        model.set("first_page", !filter.after.has_value());
        if (filter.after) model.set("first_url", kInboxPath + "?" + fullQuery);
        model.set("inbox_url", kInboxPath + (query.empty() ? "" : "?" + query));
        model.set("list_query", query);
    }

    // What both pages carry for the agent's conveniences: the unread total (also in the tab's
    // title, "(3) Inbox", kept current by the live refresh), the newest inbound message assigned
    // to the user (the browser notification), the keyboard shortcuts' help.
    std::string unreadInto(const sdk::HttpRequest& request, Object& model, const std::string& title) const {
        const std::int64_t unread = store_->unreadTotal();
        model.set("unread_total", tr().number(request.locale(), unread));
        model.set("unread_count", unread);
        model.set("has_unread", unread > 0);
        const auto mine = store_->latestInboundAssignedTo(request.principal ? request.principal->id : 0);
        model.set("mine_latest", mine.messageId);
        model.set("mine_conversation", mine.conversationId);
        model.set("mine_name", mine.name);
        model.set("mine_url", mine.conversationId ? kConversationPath + std::to_string(mine.conversationId) : "");
        return unread > 0 ? t(request, "title_with_unread", {{"count", tr().number(request.locale(), unread)}, {"title", title}}) : title;
    }

    void renderInbox(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::uint64_t shown = hub_->latest();  // before reading: what comes later, the stream replays
        const auto intents = store_->intents();
        InboxFilter filter = listFilter(request, intents, [&](const std::string& key) { return request.queryParam(key); });
        if (const auto after = request.queryParam("after")) filter.after = Cursor::decode(*after);
        Object model;
        listInto(request, model, filter, intents, 0);
        model.set("live_url", kBase + "/live?after=" + hub_->cursor(shown));
        model.set("assets", kAssets);
        addSendingNotice(request, model);
        addAccountAlerts(request, model);
        const std::string title = unreadInto(request, model, t(request, "inbox_title"));
        context_->pages().render(request, response, "inbox", title, model);
    }

    Object::Ptr messageModel(const sdk::HttpRequest& request, const TimelineMessage& m) const {
        Object::Ptr out = new Object;
        out->set("id", m.id);
        out->set("inbound", m.direction == "in");
        out->set("outbound", m.direction == "out");
        out->set("text", m.type == "text");
        // A template message says which template, in the page's words, not the stored "template NAME (LANG)".
        out->set("body", m.type == "template" ? templateBody(request, m.body) : m.body);
        out->set("has_body", !m.body.empty());
        const bool media = m.type != "text";
        out->set("media", media);
        out->set("media_label", media ? t(request, "media_" + m.type) : "");
        out->set("type", m.type);
        out->set("at", when(request, m.createdAt));
        out->set("author", m.authorName);
        out->set("has_author", !m.authorName.empty());
        out->set("provider", m.provider);
        if (m.direction == "out") {
            out->set("status", m.status);
            out->set("status_label", t(request, "tick_" + m.status));
            // Characters every font has (◷ rather than an emoji clock, which a machine without an
            // emoji font shows as a box); the label beside it says the same in words.
            out->set("ticks", m.status == "read" || m.status == "delivered" ? "✓✓" : m.status == "sent" ? "✓" : m.status == "failed" ? "!" : "◷");
        }
        if (m.status == "failed" || m.errorCode != 0) {
            out->set("failed", true);
            // What went wrong in the agent's language, then the network's own words: Meta's code
            // and message (error_code_prefix), or, with no code, the reason the dispatcher recorded.
            const std::string key = "error_code_" + std::to_string(m.errorCode);
            const std::string sentence = m.errorCode != 0 ? t(request, key) : "";
            const bool known = !sentence.empty() && sentence != key;
            out->set("has_error_sentence", known);
            out->set("error_sentence", known ? sentence : "");
            // The prefix in the page's language, the network's words isolated beside it (an
            // English message inside an Arabic line keeps its own direction).
            // Meta's and the providers' words are English: marked so (lang="en"), isolated, kept as
            // they came; what Tawasul itself recorded is said in the page's language.
            const std::string cancelledBy = "cancelled in the outbox by ";
            if (m.errorCode != 0) {
                out->set("error_prefix", t(request, "error_code_prefix", {{"code", std::to_string(m.errorCode)}}));
                out->set("error_reason", m.errorTitle);
                out->set("error_reason_english", true);
            } else if (m.errorTitle == "cancelled" && m.errorDetails.rfind(cancelledBy, 0) == 0) {
                out->set("error_prefix", t(request, "error_not_sent"));
                out->set("error_reason", t(request, "error_cancelled_by", {{"actor", m.errorDetails.substr(cancelledBy.size())}}));
            } else {
                const std::string words = !m.errorTitle.empty() && !m.errorDetails.empty() ? m.errorTitle + ": " + m.errorDetails
                                                                                           : m.errorTitle + m.errorDetails;
                out->set("error_prefix", t(request, "error_not_sent"));
                out->set("error_reason", words.empty() ? t(request, "error_no_reason") : words);
                out->set("error_reason_english", !words.empty());
            }
        }
        if (!m.quotedWaMessageId.empty() && m.type != "reaction") {
            out->set("reply", true);
            out->set("quote", m.quoteFound ? shorten(messageSummary(request, m.quotedType, m.quotedBody), 200) : t(request, "reply_unknown"));
        }
        Array::Ptr reactions = new Array;
        for (const auto& r : m.reactions) {
            Object::Ptr reaction = new Object;
            reaction->set("emoji", r.emoji);
            reaction->set("mine", r.direction == "out");
            reactions->add(reaction);
        }
        out->set("reactions", reactions);
        out->set("has_reactions", !m.reactions.empty());
        return out;
    }

    Object::Ptr systemModel(const sdk::HttpRequest& request, const SystemLine& s) const {
        Object::Ptr out = new Object;
        out->set("system", true);
        out->set("at", when(request, s.at));
        const std::string actor = s.actorName.empty() ? t(request, "system_someone") : s.actorName;
        const std::string target = s.kind == "provider_fallback" ? providerLabel(request, s.targetName) : s.targetName;
        const std::string detail = s.kind == "provider_fallback" ? fallbackReason(request, s.reason) : s.detail;
        out->set("line", t(request, "system_" + s.kind,
                           {{"actor", actor}, {"target", target}, {"lead", std::to_string(s.leadId)}, {"detail", detail}}));
        return out;
    }

    Object::Ptr noteModel(const sdk::HttpRequest& request, const NoteLine& note) const {
        Object::Ptr out = new Object;
        out->set("is_note", true);
        out->set("note_id", note.id);
        out->set("author", note.authorName.empty() ? t(request, "system_someone") : note.authorName);
        out->set("at", when(request, note.at));
        out->set("body", note.body);
        return out;
    }

    // The canned replies offered in the reply box, each filled for this conversation's contact in
    // the contact's language, else the page's, else the first it is written in.
    Array::Ptr cannedModel(const sdk::HttpRequest& request, const ConversationView& view) const {
        Array::Ptr out = new Array;
        const CannedContact contact{view.summary.name, view.summary.phone, ""};  // no contact language is recorded yet
        for (const CannedReply& reply : canned_->list()) {
            std::string language;
            const std::string text = fillCannedReply(reply, contact, request.locale(), &language);
            if (text.empty()) continue;
            Object::Ptr item = new Object;
            item->set("shortcut", reply.shortcut);
            item->set("title", reply.title);
            item->set("text", text);
            item->set("language", language);
            out->add(item);
        }
        return out;
    }

    void renderConversation(const sdk::HttpRequest& request, sdk::HttpResponse& response, const TemplateChoice* choice = nullptr,
                            int status = 200, const NoteDraft* note = nullptr) {
        const std::uint64_t shown = hub_->latest();  // before reading: what comes later, the stream replays
        const std::int64_t id = sdk::positiveId(request.param("id"));
        auto view = id ? store_->conversation(id) : std::nullopt;
        if (!view) {
            Object model;
            model.set("message", t(request, "conversation_not_found"));
            model.set("back_url", kInboxPath);
            context_->pages().render(request, response, "not_found", t(request, "conversation_not_found"), model, 404);
            return;
        }
        // Opening the conversation reads it: the count goes, the sender sees blue ticks. Only for a
        // user who may answer: a read-only role's GET changes nothing, here or at Meta.
        if (request.principal->can("whatsapp.inbox.reply") && store_->markOpened(id, nowMillis())) {
            if (auto sender = dispatcher()) {
                try {
                    sender->markRead(id);
                } catch (const std::exception& error) {
                    context_->logger().warning("mark read of conversation " + std::to_string(id) + ": " + error.what());
                }
            }
            context_->events().publish({"conversation.updated", "{\"conversation_id\":" + std::to_string(id) + ",\"reason\":\"read\"}"});
            view->summary.unread = 0;
        }
        const sdk::Principal& user = *request.principal;
        Object model;
        Object::Ptr summary = rowModel(request, view->summary);
        model.set("conversation", summary);
        model.set("url", kConversationPath + std::to_string(id));
        Array::Ptr timeline = new Array;
        const auto media = media_->forConversation(id);
        const bool canRetry = request.principal->can("whatsapp.inbox.reply");
        for (const auto& item : view->timeline) {
            if (item.note) {
                timeline->add(noteModel(request, *item.note));
                continue;
            }
            if (!item.message) {
                timeline->add(systemModel(request, *item.system));
                continue;
            }
            const TimelineMessage& m = *item.message;
            Object::Ptr message = messageModel(request, m);
            // A send that failed: tried again through the dispatcher (reply permission), or sent
            // by hand from the agent's own WhatsApp (wa.me, when the contact has a phone).
            if (m.direction == "out" && m.status == "failed") {
                message->set("can_resend", canRetry);
                message->set("resend_url", kConversationPath + std::to_string(id) + "/messages/" + std::to_string(m.id) + "/retry");
                const std::string handText = m.type == "text" ? m.body : "";
                if (!view->summary.phone.empty() && !handText.empty()) message->set("wa_me_url", sdk::waMeLink(view->summary.phone, handText));
            }
            const auto row = media.find(m.id);
            addContentModel(*message, m, row == media.end() ? nullptr : &row->second, tr(), request.locale(),
                            canRetry ? kConversationPath + std::to_string(id) + "/media/" + std::to_string(m.id) + "/retry" : "");
            timeline->add(message);
        }
        model.set("timeline", timeline);
        model.set("timeline_empty", view->timeline.empty());
        model.set("max_note", kMaxConversationNoteChars);
        if (note) {
            model.set("note_text", note->text);
            model.set("note_error", t(request, "note_error_" + note->error, {{"max", tr().number(request.locale(), kMaxConversationNoteChars)}}));
        }

        // The contact panel: the platform's records with this phone, and why they match.
        Array::Ptr matches = new Array;
        if (auto matcher = context_->services().find<sdk::ContactMatcher>(sdk::ContactMatcher::kServiceName)) {
            const std::string phone = !view->summary.phone.empty() ? view->summary.phone : view->summary.waId;
            if (!phone.empty()) {
                for (const auto& candidate : matcher->match(phone)) {
                    Object::Ptr match = new Object;
                    match->set("kind", t(request, "match_kind_" + candidate.kind));
                    match->set("name", candidate.name.empty() ? "#" + std::to_string(candidate.id) : candidate.name);
                    // "Phone of B2B lead", in the page's words: the table and column stay out of the page.
                    match->set("evidence", t(request, "match_evidence_" + candidate.kind));
                    match->set("evidence_value", candidate.rawValue);
                    match->set("link", candidate.adminLink);
                    // A lead's page is for those who manage leads: the others see its name, not a 403.
                    const bool leadPage = candidate.source == "b2b_leads";
                    match->set("has_link", !candidate.adminLink.empty() && (!leadPage || user.can("whatsapp.leads.manage")));
                    matches->add(match);
                }
            }
        }
        model.set("matches", matches);
        model.set("has_matches", matches->size() > 0);

        // Actions, each shown only to those who may.
        const bool windowIsOpen = windowOpen(view->summary.lastInboundAt, nowMillis());
        model.set("can_reply", user.can("whatsapp.inbox.reply"));
        model.set("can_assign", user.can("whatsapp.inbox.assign"));
        model.set("can_resolve", user.can("whatsapp.inbox.resolve"));
        model.set("can_leads", user.can("whatsapp.leads.manage"));
        model.set("window_open", windowIsOpen);
        model.set("idempotency_key", Poco::UUIDGenerator::defaultGenerator().createRandom().toString());
        model.set("resolved", view->summary.status == "resolved");
        model.set("pending", view->summary.status == "pending");
        Array::Ptr templates = new Array;
        if (!windowIsOpen) {
            const auto options = offeredTemplates();
            for (std::size_t i = 0; i < options.size(); ++i) {
                const bool selected = choice ? choice->value == templateValue(options[i]) : i == 0;
                templates->add(templateModel(request, options[i], i, selected, choice));
            }
        }
        model.set("templates", templates);
        model.set("has_templates", templates->size() > 0);
        if (windowIsOpen && user.can("whatsapp.inbox.reply")) {
            Array::Ptr canned = cannedModel(request, *view);
            model.set("canned", canned);
            model.set("has_canned", canned->size() > 0);
        }
        if (user.can(kCannedPermission)) model.set("canned_url", kCannedPath);
        Array::Ptr users = new Array;
        for (const auto& option : store_->assignableUsers()) {
            Object::Ptr u = new Object;
            u->set("id", option.id);
            u->set("name", option.name.empty() ? option.email : option.name);
            u->set("selected", option.id == view->summary.assignedUserId);
            users->add(u);
        }
        model.set("users", users);
        model.set("me", user.id);
        model.set("has_lead", view->summary.leadId > 0);
        model.set("lead_id", view->summary.leadId);
        model.set("lead_name", view->leadName);
        model.set("lead_status", leadStatusLabel(request, view->leadStatus));
        if (view->summary.leadId > 0 && user.can("whatsapp.leads.manage"))
            model.set("lead_url", kLeadsPath + "/" + std::to_string(view->summary.leadId));
        const std::string leadQuery = request.queryParam("lead_q").value_or("");
        model.set("lead_q", leadQuery);
        if (request.queryParam("lead_q")) {
            Array::Ptr leads = new Array;
            for (const auto& option : store_->searchLeads(leadQuery)) {
                Object::Ptr lead = new Object;
                lead->set("id", option.id);
                lead->set("label", (option.name.empty() ? "#" + std::to_string(option.id) : option.name) +
                                       (option.organization.empty() ? "" : " — " + option.organization) +
                                       (option.phone.empty() ? "" : " · " + option.phone));
                leads->add(lead);
            }
            model.set("lead_results", leads);
            model.set("lead_searched", true);
            model.set("lead_none", leads->size() == 0);
        }
        const std::string error = choice ? "missing_variable" : oneOf(request.queryParam("error"), kActionErrors, "");
        if (!error.empty()) model.set("error", t(request, "action_error_" + error));
        if (request.queryParam("done")) model.set("notice", t(request, "action_done"));
        // Every event, not only this conversation's: the list beside it and the unread count move too.
        model.set("live_url", kBase + "/live?after=" + hub_->cursor(shown));
        model.set("assets", kAssets);
        // The list the conversation was opened from, with its filters (the first page: the rows
        // beside the conversation; the inbox page has the others).
        const auto intents = store_->intents();
        const InboxFilter filter = listFilter(request, intents, [&](const std::string& key) { return request.queryParam(key); });
        listInto(request, model, filter, intents, id);
        model.set("typing_url", kConversationPath + std::to_string(id) + "/typing");
        addSendingNotice(request, model);
        addAccountAlerts(request, model);
        const std::string title = unreadInto(request, model, summary->getValue<std::string>("name"));
        context_->pages().render(request, response, "conversation", title, model, status);
    }

    static std::string templateValue(const TemplateOption& option) { return option.name + "|" + option.language; }

    // One template of the picker: a labelled field per variable (header, body, link buttons; named
    // by name, positional by number), and the preview of each part, filled with what was typed
    // (the page's script fills it as the agent types; the server does it for a page sent back).
    Object::Ptr templateModel(const sdk::HttpRequest& request, const TemplateOption& option, std::size_t position, bool selected,
                              const TemplateChoice* choice) const {
        Object::Ptr tpl = new Object;
        tpl->set("value", templateValue(option));
        tpl->set("label", templateLabel(request, option.name, option.language));
        tpl->set("selected", selected);
        const sdk::TemplateDefinition& definition = option.definition;
        std::map<std::string, std::string> typed;
        if (selected && choice) typed = choice->values;
        Array::Ptr fields = new Array;
        int n = 0;
        for (const sdk::TemplateField& field : sdk::templateFields(definition)) {
            Object::Ptr f = new Object;
            const std::string key = field.key();
            f->set("id", "tpl" + std::to_string(position) + "-" + std::to_string(++n));
            f->set("input_name", "var:" + key);
            f->set("part", field.component == "button" ? "button" + std::to_string(field.index) : field.component);
            f->set("variable", field.variable);
            f->set("variable_label", "{{" + field.variable + "}}");
            std::string part;
            if (field.component == "button") {
                const auto& button = definition.buttons.at(static_cast<std::size_t>(field.index));
                part = t(request, "template_part_button", {{"n", std::to_string(field.index + 1)}, {"text", button.text}});
            } else {
                part = t(request, "template_part_" + field.component);
            }
            f->set("part_label", part);
            const auto value = typed.find(key);
            f->set("value", value == typed.end() ? "" : value->second);
            const bool missing = selected && choice && std::find(choice->missing.begin(), choice->missing.end(), key) != choice->missing.end();
            f->set("missing", missing);
            fields->add(f);
        }
        tpl->set("fields", fields);
        tpl->set("has_fields", fields->size() > 0);
        // The preview: each part's text with {{variables}} as typed, or left showing when empty.
        Array::Ptr preview = new Array;
        auto addPart = [&](const std::string& kind, const std::string& part, const std::string& text) {
            if (text.find_first_not_of(" \t\r\n") == std::string::npos) return;
            std::map<std::string, std::string> values;
            for (const auto& variable : sdk::TemplateText::variables(text)) {
                const auto value = typed.find(part + ":" + variable);
                values[variable] = value != typed.end() && !value->second.empty() ? value->second : "{{" + variable + "}}";
            }
            std::string error;
            Object::Ptr p = new Object;
            p->set("kind", kind);
            p->set("part", part);
            p->set("text", text);
            p->set("filled", sdk::TemplateText::render(text, values, error).value_or(text));
            preview->add(p);
        };
        addPart("header", "header", definition.header);
        addPart("body", "body", definition.body);
        for (std::size_t i = 0; i < definition.buttons.size(); ++i) {
            const auto& button = definition.buttons[i];
            addPart("button", "button" + std::to_string(i), button.type == "url" ? button.text + ": " + button.url : button.text);
        }
        tpl->set("preview", preview);
        return tpl;
    }

    // POST → 303 back to the conversation, with what happened (and the list's filters it was
    // shown with, read from the page's address: see refererListQuery).
    void back(const sdk::HttpRequest& request, sdk::HttpResponse& response, std::int64_t id, const std::string& error = "") {
        const std::string list = refererListQuery(request);
        response.redirect(303, kConversationPath + std::to_string(id) + (error.empty() ? "?done=1" : "?error=" + error) +
                                   (list.empty() ? "" : "&" + list));
    }

    // The conversation of a POST, or a 404 page written already.
    std::optional<std::int64_t> target(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::int64_t id = sdk::positiveId(request.param("id"));
        if (id && store_->exists(id)) return id;
        Object model;
        model.set("message", t(request, "conversation_not_found"));
        model.set("back_url", kInboxPath);
        context_->pages().render(request, response, "not_found", t(request, "conversation_not_found"), model, 404);
        return std::nullopt;
    }

    void changed(std::int64_t id, const std::string& reason) {
        context_->events().publish({"conversation.updated", "{\"conversation_id\":" + std::to_string(id) + ",\"reason\":\"" + reason + "\"}"});
    }

    void reply(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const auto id = target(request, response);
        if (!id) return;
        const sdk::FormData form(request.body);
        auto sender = dispatcher();
        if (!sender) return back(request, response, *id, "no_dispatcher");
        sdk::SendRequest send;
        send.conversationId = *id;
        send.idempotencyKey = form.value("idempotency_key");
        if (send.idempotencyKey.empty() || send.idempotencyKey.size() > 100) return back(request, response, *id, "invalid");
        // Keyed per conversation, so that a key from one page cannot name another conversation's message.
        send.idempotencyKey = "inbox:" + std::to_string(*id) + ":" + send.idempotencyKey;
        send.actor = sdk::Actor{"user", request.principal->id, request.principal->name};
        if (!form.value("template").empty()) {
            const std::string choice = form.value("template");
            const auto bar = choice.find('|');
            if (bar == std::string::npos) return back(request, response, *id, "no_template");
            const auto templates = store_->templates();
            const auto found = std::find_if(templates.begin(), templates.end(), [&](const TemplateOption& o) {
                return o.name == choice.substr(0, bar) && o.language == choice.substr(bar + 1);
            });
            if (found == templates.end()) return back(request, response, *id, "no_template");
            send.kind = sdk::ContentKind::Template;
            send.templ.name = found->name;
            send.templ.language = found->language;
            // Every variable of header, body and link buttons, checked here: a template with a
            // blank one is never sent (Meta would refuse it with 132000), the page comes back.
            TemplateChoice typed;
            typed.value = choice;
            for (const sdk::TemplateField& field : sdk::templateFields(found->definition))
                typed.values[field.key()] = form.value("var:" + field.key());
            send.templ.components = sdk::templateComponents(found->definition, typed.values, typed.missing);
            if (!typed.missing.empty()) return renderConversation(request, response, &typed, 422);
        } else {
            send.kind = sdk::ContentKind::Text;
            send.text = form.value("text");
            if (send.text.find_first_not_of(" \t\r\n") == std::string::npos) return back(request, response, *id, "empty_text");
        }
        const sdk::SendReceipt receipt = sender->send(send);
        switch (receipt.status) {
            case sdk::SendStatus::Accepted:
            case sdk::SendStatus::Duplicate:  // a double click: the first one stands
                return back(request, response, *id);
            case sdk::SendStatus::WindowClosed:
                return back(request, response, *id, "window_closed");
            case sdk::SendStatus::InvalidRequest:
            case sdk::SendStatus::KeyReused:  // the page makes a fresh key per render: not reachable from it
                return back(request, response, *id, "invalid_request");
        }
    }

    // A note for the other agents: stored with its author and time, shown in the timeline, pushed
    // to the conversation's open pages; never handed to the dispatcher. Refused (422, the page
    // again with what was typed, nothing stored) when empty or too long.
    void addNote(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const auto id = target(request, response);
        if (!id) return;
        const sdk::FormData form(request.body);
        const std::string text = form.value("note");
        const sdk::Principal& user = *request.principal;
        const auto result = validUtf8(text) ? store_->addNote(*id, user.id, user.name.empty() ? user.email : user.name, text, nowMillis())
                                            : ChangeResult{false, "empty_note"};
        if (result.error == "not_found") return back(request, response, *id, "not_found");
        if (!result.ok) {
            const NoteDraft draft{validUtf8(text) ? text : "", result.error};
            return renderConversation(request, response, nullptr, 422, &draft);
        }
        changed(*id, "note");
        back(request, response, *id);
    }

    // A failed send queued again, the same message (MessageDispatcher::retry): once, whatever the
    // clicks; a message that is not failed (any more) says so.
    void retrySend(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const auto id = target(request, response);
        if (!id) return;
        auto sender = dispatcher();
        if (!sender) return back(request, response, *id, "no_dispatcher");
        const std::int64_t message = sdk::positiveId(request.param("message"));
        if (!message || store_->outboundConversationOf(message) != *id) return back(request, response, *id, "not_found");
        const sdk::SendReceipt receipt = sender->retry(message, sdk::Actor{"user", request.principal->id, request.principal->name});
        if (receipt.status == sdk::SendStatus::Accepted) return back(request, response, *id);
        back(request, response, *id, receipt.status == sdk::SendStatus::Duplicate ? "not_failed" : "not_found");
    }

    // The reply box is being written in: Meta shows the customer "typing" (the read call with
    // typing_indicator). The page asks at most every 20 s; this host keeps to that per
    // conversation whatever the pages do. 202: asked; 204: not now (too soon, nothing to show on).
    void typing(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::int64_t id = sdk::positiveId(request.param("id"));
        if (!id || !store_->exists(id)) return response.json(404, "{\"error\":\"not_found\"}");
        const std::int64_t at = nowMillis();
        {
            std::lock_guard lock(typingMutex_);
            auto& last = typingAt_[id];
            if (last != 0 && at - last < kTypingEveryMillis) return response.json(204, "");
            last = at;
            if (typingAt_.size() > 10000) typingAt_.clear();  // a bound, not a cache policy
        }
        auto sender = dispatcher();
        bool shown = false;
        if (sender) {
            try {
                shown = sender->showTyping(id);
            } catch (const std::exception& error) {
                context_->logger().warning("typing indicator of conversation " + std::to_string(id) + ": " + error.what());
            }
        }
        response.json(shown ? 202 : 204, shown ? "{\"typing\":true}" : "");
    }

    void assign(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const auto id = target(request, response);
        if (!id) return;
        const sdk::FormData form(request.body);
        std::int64_t user = 0;
        const std::string to = form.value("user");
        if (to == "me") user = request.principal->id;
        else if (to != "none") {
            user = sdk::positiveId(to);
            if (!user) return back(request, response, *id, "invalid_user");
        }
        const auto result = store_->assign(*id, user, request.principal->id, nowMillis());
        if (result.ok) changed(*id, user ? "assigned" : "unassigned");
        back(request, response, *id, result.error);
    }

    // A media fetch that failed for good, tried again (a new job); only a failed one, only once.
    void retryMedia(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const auto id = target(request, response);
        if (!id) return;
        const std::int64_t message = sdk::positiveId(request.param("message"));
        if (!message || media_->conversationOf(message) != *id) return back(request, response, *id, "not_found");
        if (!media_->retry(message, context_->jobs(), nowMillis())) return back(request, response, *id, "media_not_failed");
        changed(*id, "media");
        back(request, response, *id);
    }

    void resolve(const sdk::HttpRequest& request, sdk::HttpResponse& response, bool resolving) {
        const auto id = target(request, response);
        if (!id) return;
        const auto result = resolving ? store_->resolve(*id, request.principal->id, nowMillis())
                                      : store_->reopen(*id, request.principal->id, nowMillis());
        if (result.ok) changed(*id, resolving ? "resolved" : "reopened");
        back(request, response, *id, result.error);
    }

    void markPending(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const auto id = target(request, response);
        if (!id) return;
        const auto result = store_->markPending(*id, request.principal->id, nowMillis());
        if (result.ok) changed(*id, "pending");
        back(request, response, *id, result.error);
    }

    void createLead(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const auto id = target(request, response);
        if (!id) return;
        std::int64_t lead = 0;
        const auto result = store_->createLead(*id, request.principal->id, nowMillis(), lead);
        if (result.ok)
            context_->events().publish({"lead.created", "{\"conversation_id\":" + std::to_string(*id) + ",\"lead_id\":" + std::to_string(lead) + "}"});
        back(request, response, *id, result.error);
    }

    void linkLead(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const auto id = target(request, response);
        if (!id) return;
        const sdk::FormData form(request.body);
        const std::int64_t lead = sdk::positiveId(form.value("lead_id"));
        if (!lead) return back(request, response, *id, "invalid_lead");
        const auto result = store_->linkLead(*id, lead, request.principal->id, nowMillis());
        if (result.ok) changed(*id, "lead_linked");
        back(request, response, *id, result.error);
    }

    // A lead status in words: the known ones translated, a platform's own shown as it is stored.
    std::string leadStatusLabel(const sdk::HttpRequest& request, const std::string& status) const {
        if (std::find(kLeadStatuses.begin(), kLeadStatuses.end(), status) == kLeadStatuses.end()) return status;
        return t(request, "lead_status_" + status);
    }

    std::string leadUrl(std::int64_t id) const { return kLeadsPath + "/" + std::to_string(id); }

    Object::Ptr leadModel(const sdk::HttpRequest& request, const LeadRow& lead) const {
        Object::Ptr out = new Object;
        out->set("id", lead.id);
        out->set("url", leadUrl(lead.id));
        out->set("name", lead.contactName.empty() ? t(request, "lead_unnamed", {{"id", std::to_string(lead.id)}}) : lead.contactName);
        out->set("phone", lead.phone);
        out->set("has_phone", !lead.phone.empty());
        out->set("email", lead.email);
        out->set("has_email", !lead.email.empty());
        out->set("source", lead.source);
        const bool knownSource = std::find(kLeadSources.begin(), kLeadSources.end(), lead.source) != kLeadSources.end();
        out->set("source_label", knownSource ? t(request, "lead_source_" + lead.source) : lead.source);
        out->set("status", lead.status);
        out->set("status_label", leadStatusLabel(request, lead.status));
        out->set("organization", lead.organization);
        out->set("has_organization", !lead.organization.empty());
        out->set("created_at", when(request, lead.createdAt));
        out->set("updated_at", when(request, lead.updatedAt));
        out->set("conversations", tr().number(request.locale(), lead.conversations));
        out->set("has_conversations", lead.conversations > 0);
        return out;
    }

    void leadNotFound(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        Object model;
        model.set("message", t(request, "lead_not_found"));
        model.set("back_url", kLeadsPath);
        model.set("back_label", t(request, "leads_back"));
        context_->pages().render(request, response, "not_found", t(request, "lead_not_found"), model, 404);
    }

    void renderLeads(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::uint64_t shown = hub_->latest();
        std::vector<std::string> statuses = kLeadStatuses;
        for (const std::string& stored : store_->leadStatuses())
            if (std::find(statuses.begin(), statuses.end(), stored) == statuses.end()) statuses.push_back(stored);
        std::vector<std::string> statusValues{""};
        statusValues.insert(statusValues.end(), statuses.begin(), statuses.end());
        LeadFilter filter;
        filter.status = oneOf(request.queryParam("status"), statusValues, "");
        filter.search = cutAt(request.queryParam("q").value_or(""), 200);
        if (const auto after = request.queryParam("after")) filter.after = Cursor::decode(*after);
        const LeadListPage page = store_->leads(filter);

        Object model;
        Array::Ptr rows = new Array;
        for (const auto& row : page.rows) rows->add(leadModel(request, row));
        model.set("rows", rows);
        model.set("empty", page.rows.empty());
        model.set("q", filter.search);
        Array::Ptr statusOptions = new Array;
        for (const std::string& value : statusValues) {
            Object::Ptr option = new Object;
            option->set("value", value);
            option->set("label", value.empty() ? t(request, "filter_status_any") : leadStatusLabel(request, value));
            option->set("selected", value == filter.status);
            statusOptions->add(option);
        }
        model.set("status_options", statusOptions);
        const std::string query = "status=" + sdk::queryValue(filter.status) + "&q=" + sdk::queryValue(filter.search);
        if (page.next) model.set("next_url", kLeadsPath + "?" + query + "&after=" + page.next->encode());
        model.set("first_page", !filter.after.has_value());
        if (filter.after) model.set("first_url", kLeadsPath + "?" + query);
        model.set("live_url", kBase + "/live?after=" + hub_->cursor(shown));
        model.set("assets", kAssets);
        context_->pages().render(request, response, "leads", t(request, "leads_title"), model);
    }

    void renderLead(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::uint64_t shown = hub_->latest();
        const std::int64_t id = sdk::positiveId(request.param("id"));
        const auto view = id ? store_->lead(id) : std::nullopt;
        if (!view) return leadNotFound(request, response);
        Object model;
        Object::Ptr lead = leadModel(request, view->lead);
        model.set("lead", lead);
        model.set("url", leadUrl(id));
        model.set("unlink_url", leadUrl(id) + "/unlink");
        model.set("city", view->organizationCity);
        model.set("has_city", !view->organizationCity.empty());
        // The notes as paragraphs: what the customer asked (the inbound router's) and what agents added.
        Array::Ptr notes = new Array;
        std::size_t from = 0;
        while (from <= view->notes.size()) {
            const std::size_t end = view->notes.find("\n\n", from);
            std::string paragraph = view->notes.substr(from, end == std::string::npos ? std::string::npos : end - from);
            if (paragraph.find_first_not_of(" \t\r\n") != std::string::npos) {
                Object::Ptr note = new Object;
                // "NAME ISO-TIME: text" (an agent's note, or "WhatsApp ISO-TIME: ..." from the
                // inbound router): who and when apart, the time as the rest of the inbox writes it.
                const NotePrefix prefix = notePrefix(paragraph);
                note->set("has_author", !prefix.author.empty());
                note->set("author", prefix.author);
                note->set("at", prefix.at > 0 ? when(request, prefix.at) : "");
                note->set("text", prefix.author.empty() ? paragraph : paragraph.substr(prefix.length));
                notes->add(note);
            }
            if (end == std::string::npos) break;
            from = end + 2;
        }
        model.set("notes", notes);
        model.set("has_notes", notes->size() > 0);
        // Who moved the status, newest first.
        Array::Ptr history = new Array;
        for (auto event = view->history.rbegin(); event != view->history.rend(); ++event) {
            Object::Ptr line = new Object;
            line->set("line", t(request, "lead_event_" + event->kind,
                                {{"actor", event->actorName.empty() ? t(request, "system_someone") : event->actorName},
                                 {"from", leadStatusLabel(request, event->fromStatus)},
                                 {"to", leadStatusLabel(request, event->toStatus)}}));
            line->set("at", when(request, event->at));
            history->add(line);
        }
        model.set("history", history);
        model.set("has_history", history->size() > 0);
        Array::Ptr statuses = new Array;
        std::vector<std::string> values = kLeadStatuses;
        if (std::find(values.begin(), values.end(), view->lead.status) == values.end()) values.insert(values.begin(), view->lead.status);
        for (const std::string& value : values) {
            Object::Ptr option = new Object;
            option->set("value", value);
            option->set("label", leadStatusLabel(request, value));
            option->set("selected", value == view->lead.status);
            statuses->add(option);
        }
        model.set("status_options", statuses);
        Array::Ptr conversations = new Array;
        for (const auto& c : view->conversations) {
            Object::Ptr conversation = new Object;
            conversation->set("id", c.id);
            conversation->set("url", kConversationPath + std::to_string(c.id));
            conversation->set("name", !c.name.empty() ? c.name : !c.phone.empty() ? c.phone : t(request, "contact_unknown"));
            conversation->set("phone", c.phone);
            conversation->set("has_phone", !c.phone.empty() && !c.name.empty());
            conversation->set("status", c.status);
            conversation->set("status_label", statusLabel(request, c.status));
            conversation->set("last_at", when(request, c.lastMessageAt));
            conversations->add(conversation);
        }
        model.set("conversations", conversations);
        model.set("has_conversations", conversations->size() > 0);
        const std::string error = oneOf(request.queryParam("error"), kLeadErrors, "");
        if (!error.empty()) model.set("error", t(request, "lead_error_" + error));
        if (request.queryParam("done")) model.set("notice", t(request, "action_done"));
        model.set("leads_url", kLeadsPath);
        model.set("max_note", kMaxNoteBytes);
        model.set("live_url", kBase + "/live?after=" + hub_->cursor(shown));
        model.set("assets", kAssets);
        context_->pages().render(request, response, "lead", lead->getValue<std::string>("name"), model);
    }

    // POST → 303 back to the lead page, with what happened.
    void backToLead(sdk::HttpResponse& response, std::int64_t id, const std::string& error = "") {
        response.redirect(303, leadUrl(id) + (error.empty() ? "?done=1" : "?error=" + error));
    }

    // The lead of a POST, or a 404 page written already.
    std::optional<std::int64_t> targetLead(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const std::int64_t id = sdk::positiveId(request.param("id"));
        if (id && store_->leadExists(id)) return id;
        leadNotFound(request, response);
        return std::nullopt;
    }

    void leadChanged(std::int64_t lead, const std::string& reason) {
        context_->events().publish({"lead.updated", "{\"lead_id\":" + std::to_string(lead) + ",\"reason\":\"" + reason + "\"}"});
    }

    void setLeadStatus(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const auto id = targetLead(request, response);
        if (!id) return;
        const sdk::FormData form(request.body);
        const std::string status = form.value("status");
        if (std::find(kLeadStatuses.begin(), kLeadStatuses.end(), status) == kLeadStatuses.end())
            return backToLead(response, *id, "invalid_status");
        const auto result = store_->setLeadStatus(*id, status, request.principal->id, nowMillis());
        if (result.ok) leadChanged(*id, "status");
        backToLead(response, *id, result.error);
    }

    void addLeadNote(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const auto id = targetLead(request, response);
        if (!id) return;
        const sdk::FormData form(request.body);
        std::string note = form.value("note");
        // Line ends as one kind, no blank lines inside: a note stays one paragraph of the notes.
        note.erase(std::remove(note.begin(), note.end(), '\r'), note.end());
        while (note.find("\n\n") != std::string::npos) note.replace(note.find("\n\n"), 2, "\n");
        const auto first = note.find_first_not_of(" \t\n"), last = note.find_last_not_of(" \t\n");
        if (first == std::string::npos) return backToLead(response, *id, "empty_note");
        note = note.substr(first, last - first + 1);
        if (note.size() > kMaxNoteBytes) return backToLead(response, *id, "note_too_long");
        // Who wrote it and when, as the inbound router writes a customer's request ("WhatsApp TIME: ..."):
        // the notes are one text that the platform reads too.
        const sdk::Principal& user = *request.principal;
        const std::int64_t at = nowMillis();
        note = (user.name.empty() ? user.email : user.name) + " " + sdk::isoTime(at) + ": " + note;
        const auto result = store_->addLeadNote(*id, note, at);
        if (result.ok) leadChanged(*id, "note");
        backToLead(response, *id, result.error);
    }

    void unlinkLead(const sdk::HttpRequest& request, sdk::HttpResponse& response) {
        const auto id = targetLead(request, response);
        if (!id) return;
        const sdk::FormData form(request.body);
        const std::int64_t conversation = sdk::positiveId(form.value("conversation_id"));
        if (!conversation) return backToLead(response, *id, "not_linked");
        const auto result = store_->unlinkLead(*id, conversation, request.principal->id, nowMillis());
        if (result.ok) {
            changed(conversation, "lead_unlinked");
            leadChanged(*id, "unlinked");
        }
        backToLead(response, *id, result.error);
    }

    // Server-Sent Events: what the page shows has changed; the page fetches its fresh HTML. The
    // stream joins the hub's subscribers and this returns: an open page holds no thread.
    void live(const sdk::HttpRequest& request, std::shared_ptr<sdk::EventStream> stream) {
        std::int64_t conversation = 0;
        if (const auto only = request.queryParam("conversation")) conversation = sdk::positiveId(*only);
        std::uint64_t last = hub_->latest();
        // The page names the last event it was rendered after: what was published between the
        // render and this connection (a reply sent meanwhile) is sent first, not lost. A cursor
        // of another host or an earlier run (LiveHub::cursor) makes the page refresh instead.
        if (const auto after = request.queryParam("after")) last = hub_->number(*after);
        // A browser coming back: send what it missed, or tell it to refresh when that is gone.
        if (const auto header = request.header("Last-Event-ID")) last = hub_->number(*header);
        hub_->subscribe(std::move(stream), last, conversation);
    }

    sdk::HostContext* context_ = nullptr;
    sdk::PhoneNormalizer phones_;
    std::shared_ptr<LiveHub> hub_;
    std::unique_ptr<InboxStore> store_;
    std::unique_ptr<MediaStore> media_;
    std::shared_ptr<CannedReplyStore> canned_;
    std::mutex typingMutex_;
    std::map<std::int64_t, std::int64_t> typingAt_;  // conversation → when Meta was last asked
};

const char* const kDependencies[] = {"inbound_router", "contact_matcher", nullptr};
}  // namespace
}  // namespace tawasul::plugins::admin_inbox

TAWASUL_PLUGIN(tawasul::plugins::admin_inbox::AdminInboxPlugin, "admin_inbox", "0.1.0", tawasul::plugins::admin_inbox::kDependencies,
               tawasul::plugins::admin_inbox::readConfig)
