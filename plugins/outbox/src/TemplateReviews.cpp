#include "TemplateReviews.hpp"

#include <algorithm>

#include <Poco/Data/Session.h>
#include <Poco/Logger.h>
#include <Poco/Nullable.h>

#include "tawasul/sdk/Json.hpp"
#include "tawasul/sdk/PreparedSession.hpp"

namespace tawasul::plugins::outbox {
namespace {

using namespace Poco::Data::Keywords;
using Poco::JSON::Object;
using Text = Poco::Nullable<std::string>;

// Meta writes "NONE" where a status has no reason.
Text reasonOf(const Object& value) {
    std::string reason = sdk::jsonText(value, "reason");
    if (reason.empty() || reason == "NONE") {
        // A pause or a disabling says why in other_info instead.
        if (value.has("other_info") && value.isObject("other_info")) {
            const Object::Ptr info = value.getObject("other_info");
            reason = sdk::jsonText(*info, "title");
            const std::string description = sdk::jsonText(*info, "description");
            if (!description.empty()) reason += (reason.empty() ? "" : ": ") + description;
        }
    }
    if (reason.empty() || reason == "NONE") return {};
    return reason.substr(0, 500);
}

// Meta's words are upper-case identifiers; anything longer or stranger is not one of them.
Text word(const Object& value, const std::string& key) {
    const std::string text = sdk::jsonIdentifier(value, key);
    if (text.empty() || text.size() > 64) return {};
    return text;
}

}  // namespace

void TemplateReviews::write(sdk::PreparedSession& db, const std::vector<sdk::WebhookChange>& changes) {
    const std::int64_t nowMillis = context_.clock().nowMillis();
    for (const sdk::WebhookChange* change : sdk::inMetaOrder(changes)) {
        const Object& value = *change->value;
        const std::string name = sdk::jsonText(value, "message_template_name");
        const std::string language = sdk::jsonText(value, "message_template_language");
        const Text id = word(value, "message_template_id");
        if (name.empty() || language.empty() || name.size() > 512 || language.size() > 32) {
            context_.logger().warning("webhook event " + std::to_string(change->eventId) + ": " + change->field +
                                      " names no template (message_template_name and _language); kept in the event");
            continue;
        }
        // No time from Meta: as of now, after everything earlier.
        const Poco::Int64 at = change->time > 0 ? change->time : nowMillis / 1000;
        const Poco::Int64 updated = nowMillis;
        // One statement per kind, its parameters first written in numeric order (SQLite's rule):
        // $1 the new value, $2 the time, $3 Meta's id, $4 now, then name and language ($5, $6).
        const auto update = [&](const char* column, const Text& newValue) {
            return db.run(std::string("UPDATE whatsapp_templates SET ") + column +
                              " = $1, meta_reviewed_at = $2, meta_id = COALESCE($3, meta_id), updated_at = $4 WHERE name = $5 AND "
                              "language = $6 AND (meta_reviewed_at IS NULL OR meta_reviewed_at <= $2)",
                          {newValue, at, id, updated, name, language});
        };
        std::size_t rows = 0;
        if (change->field == kStatusField) {
            const Text status = word(value, "event");
            if (status.isNull()) continue;
            const Text reason = reasonOf(value);
            rows = update("meta_status", status);
            // The reason goes with the status it explains (none for an approval).
            if (rows > 0) db.run("UPDATE whatsapp_templates SET meta_reason = $1 WHERE name = $2 AND language = $3", {reason, name, language});
        } else if (change->field == kQualityField) {
            const Text quality = word(value, "new_quality_score");
            if (quality.isNull()) continue;
            rows = update("meta_quality", quality);
        } else if (change->field == kCategoryField) {
            const Text category = word(value, "new_category");
            if (category.isNull()) continue;
            rows = update("meta_category", category);
        }
        if (rows == 0)
            context_.logger().information("webhook event " + std::to_string(change->eventId) + ": " + change->field + " for template '" +
                                          name + "' (" + language + "), which the outbox does not hold or has newer news of; "
                                          "`tawasul templates sync` brings Meta's templates");
    }
}

std::optional<std::string> TemplateReviews::refusal(const std::string& name, const std::string& language) {
    Poco::Data::Session session = context_.database().session();
    std::string n = name, l = language;
    std::vector<Text> statuses, reasons;
    session << "SELECT meta_status, meta_reason FROM whatsapp_templates WHERE name = $1 AND language = $2", use(n), use(l), into(statuses),
        into(reasons), now;
    if (statuses.empty()) return std::nullopt;
    return reviewRefusal(statuses.front(), reasons.front());
}

std::optional<std::string> reviewRefusal(const Text& review, const Text& reason) {
    if (review.isNull() || sdk::sendableAtMeta(review.value())) return std::nullopt;
    std::string status = review.value();
    std::transform(status.begin(), status.end(), status.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return "Meta has not approved it (status " + status + (reason.isNull() ? "" : ": " + reason.value()) + ")";
}

}  // namespace tawasul::plugins::outbox
