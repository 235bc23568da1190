#include "AccountEvents.hpp"

#include <algorithm>
#include <set>

#include <Poco/Data/Session.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Nullable.h>
#include <Poco/Timestamp.h>

#include "tawasul/sdk/Errors.hpp"
#include "tawasul/sdk/Json.hpp"
#include "tawasul/sdk/PreparedSession.hpp"

namespace tawasul::plugins::cloud_api {
namespace {

using namespace Poco::Data::Keywords;
using Poco::JSON::Array;
using Poco::JSON::Object;
using Int = Poco::Nullable<Poco::Int64>;

// The alert codes that stop sends (see AccountRestrictions::blocking), and the restriction types an
// account_update lists; a restriction that a later update no longer lists is lifted.
constexpr const char* kBusinessInitiated = "RESTRICTED_BIZ_INITIATED_MESSAGING";
constexpr const char* kCustomerInitiated = "RESTRICTED_CUSTOMER_INITIATED_MESSAGING";
constexpr const char* kAddPhoneNumber = "RESTRICTED_ADD_PHONE_NUMBER_ACTION";
constexpr const char* kDisabled = "ACCOUNT_DISABLED";
constexpr const char* kDisableScheduled = "ACCOUNT_DISABLE_SCHEDULED";
constexpr const char* kViolation = "ACCOUNT_VIOLATION";
constexpr const char* kQualityFlagged = "QUALITY_FLAGGED";
constexpr const char* kLimitLowered = "MESSAGING_LIMIT_LOWERED";

Object::Ptr objectAt(const Object& object, const std::string& key) {
    return object.has(key) && object.isObject(key) ? object.getObject(key) : nullptr;
}

// One of Meta's upper-case words (an event, a type, a tier), or "" for anything else: such a word
// becomes an alert code and a metric label, so it must stay short and plain.
std::string metaWord(const Object& object, const std::string& key) {
    const std::string text = sdk::jsonText(object, key);
    if (text.empty() || text.size() > 64) return "";
    for (const char c : text)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return "";
    return text;
}

// Free words from Meta, kept to a size an alert shows whole.
std::string words(const Object& object, const std::string& key) { return sdk::jsonText(object, key).substr(0, 300); }

std::string isoTime(Poco::Int64 seconds) {
    return Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(static_cast<std::time_t>(seconds)),
                                           Poco::DateTimeFormat::ISO8601_FORMAT);
}

// Meta's seconds as stored milliseconds; anything that is no time in years 1970-9999 is none.
Int millisOf(const Object& object, const std::string& key) {
    try {
        const Poco::Int64 seconds = std::stoll(sdk::jsonText(object, key));
        if (seconds > 0 && seconds <= 253402300799) return seconds * 1000;
    } catch (const std::exception&) {
    }
    return {};
}

// The writes of one change: an alert raised (or its words brought up to date) or resolved, as of
// Meta's time for the change, so that a change processed again, or late, undoes nothing newer.
class Alerts {
public:
    Alerts(sdk::PreparedSession& db, Poco::Int64 atMillis) : db_(db), at_(atMillis) {}

    void raise(const std::string& code, const std::string& message, const Int& expiresAt = {}) {
        // Parameters first written in numeric order (SQLite's rule).
        if (db_.run("UPDATE whatsapp_alerts SET message = $1, expires_at = $2 WHERE source = 'meta_account' AND code = $3 "
                    "AND resolved_at IS NULL",
                    {message, expiresAt, code}) > 0)
            return;
        db_.run("INSERT INTO whatsapp_alerts (source, code, message, created_at, expires_at) SELECT 'meta_account', $1, $2, $3, $4 "
                "WHERE NOT EXISTS (SELECT 1 FROM whatsapp_alerts WHERE source = 'meta_account' AND code = $1 AND resolved_at >= $3)",
                {code, message, at_, expiresAt});
    }
    void resolve(const std::string& code) {
        db_.run("UPDATE whatsapp_alerts SET resolved_at = $1 WHERE source = 'meta_account' AND code = $2 AND resolved_at IS NULL "
                "AND created_at <= $1",
                {at_, code});
    }

private:
    sdk::PreparedSession& db_;
    const Poco::Int64 at_;
};

// account_update: {"phone_number", "event", "restriction_info": [{"restriction_type", "expiration"}],
// "ban_info": {"waba_ban_state", "waba_ban_date"}, "violation_info": {"violation_type"}}.
void accountUpdate(Alerts& alerts, const std::string& event, const Object& value) {
    if (event == "ACCOUNT_RESTRICTION") {
        std::set<std::string> listed;
        if (value.has("restriction_info") && value.isArray("restriction_info")) {
            const Array::Ptr restrictions = value.getArray("restriction_info");
            for (std::size_t i = 0; i < restrictions->size() && i < 16; ++i) {
                const Object::Ptr restriction = restrictions->getObject(static_cast<unsigned>(i));
                if (!restriction) continue;
                const std::string type = metaWord(*restriction, "restriction_type");
                if (type.empty()) continue;
                listed.insert(type);
                const Int expires = millisOf(*restriction, "expiration");
                alerts.raise(type, "Meta restricted the account: " + type +
                                       (expires.isNull() ? "" : " until " + isoTime(expires.value() / 1000)),
                             expires);
            }
        }
        for (const char* type : {kBusinessInitiated, kCustomerInitiated, kAddPhoneNumber})
            if (!listed.count(type)) alerts.resolve(type);
    } else if (event == "DISABLED_UPDATE") {
        const Object::Ptr ban = objectAt(value, "ban_info");
        const std::string state = ban ? metaWord(*ban, "waba_ban_state") : "";
        if (state == "DISABLE") {
            alerts.raise(kDisabled, "Meta disabled the WhatsApp Business Account");
            alerts.resolve(kDisableScheduled);
        } else if (state == "SCHEDULE_FOR_DISABLE") {
            const std::string date = ban ? words(*ban, "waba_ban_date") : "";
            alerts.raise(kDisableScheduled, "Meta will disable the WhatsApp Business Account" + (date.empty() ? "" : " on " + date));
        } else if (state == "REINSTATE") {
            alerts.resolve(kDisabled);
            alerts.resolve(kDisableScheduled);
        }
    } else if (event == "ACCOUNT_VIOLATION") {
        const Object::Ptr violation = objectAt(value, "violation_info");
        const std::string type = violation ? words(*violation, "violation_type") : "";
        alerts.raise(kViolation, "Meta reports a policy violation" + (type.empty() ? "" : ": " + type));
    }
}

// account_alerts: {"entity_type", "entity_id", "alert_info": {"alert_severity", "alert_status",
// "alert_type", "alert_description"}}. Active until Meta says otherwise.
void accountAlert(Alerts& alerts, const Object& value) {
    const Object::Ptr info = objectAt(value, "alert_info");
    if (!info) return;
    const std::string type = metaWord(*info, "alert_type");
    if (type.empty()) return;
    const std::string code = "ALERT_" + type;
    if (metaWord(*info, "alert_status") != "ACTIVE") {
        alerts.resolve(code);
        return;
    }
    const std::string severity = metaWord(*info, "alert_severity"), description = words(*info, "alert_description");
    alerts.raise(code, "Meta alert" + (severity.empty() ? "" : " (" + severity + ")") + ": " + (description.empty() ? type : description));
}

// phone_number_quality_update: {"display_phone_number", "event", "current_limit", "old_limit"}.
void qualityUpdate(Alerts& alerts, const std::string& event, const Object& value) {
    const std::string limit = metaWord(value, "current_limit");
    const std::string number = words(value, "display_phone_number");
    if (event == "FLAGGED")
        alerts.raise(kQualityFlagged, "Meta flagged the quality of " + (number.empty() ? "the number" : number) +
                                          ": its messaging limit may be lowered" + (limit.empty() ? "" : " (now " + limit + ")"));
    else if (event == "UNFLAGGED")
        alerts.resolve(kQualityFlagged);
    else if (event == "DOWNGRADE")
        alerts.raise(kLimitLowered, "Meta lowered the messaging limit of " + (number.empty() ? "the number" : number) +
                                        (limit.empty() ? "" : " to " + limit));
    else if (event == "UPGRADE")
        alerts.resolve(kLimitLowered);
}

}  // namespace

void AccountEvents::write(sdk::PreparedSession& db, const std::vector<sdk::WebhookChange>& changes) {
    const Poco::Int64 nowMillis = context_.clock().nowMillis();
    for (const sdk::WebhookChange* change : sdk::inMetaOrder(changes)) {
        const Object& value = *change->value;
        Alerts alerts(db, change->time > 0 ? change->time * 1000 : nowMillis);
        const std::string event = metaWord(value, "event");
        if (change->field == "account_update")
            accountUpdate(alerts, event, value);
        else if (change->field == "account_alerts")
            accountAlert(alerts, value);
        else if (change->field == "phone_number_quality_update")
            qualityUpdate(alerts, event, value);
        // Counted before the commit: a batch rolled back and retried counts its changes again.
        context_.metrics()
            .counter("tawasul_whatsapp_account_events_total{field=\"" + change->field + "\",event=\"" + (event.empty() ? "NONE" : event) +
                         "\"}",
                     "What Meta said about the business account and its number, by webhook field and event")
            .increment();
    }
}

std::optional<std::string> AccountRestrictions::blocking(bool templateMessage) {
    const auto current = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (current - readAt_ >= kAge) {
        std::vector<Open> open;
        try {
            Poco::Data::Session session = context_.database().session();
            Poco::Int64 nowMillis = context_.clock().nowMillis();
            std::string business = kBusinessInitiated, customer = kCustomerInitiated, disabled = kDisabled;
            std::vector<std::string> codes, messages;
            session << "SELECT code, message FROM whatsapp_alerts WHERE source = 'meta_account' AND resolved_at IS NULL "
                       "AND code IN ($1, $2, $3) AND (expires_at IS NULL OR expires_at > $4) ORDER BY id",
                use(business), use(customer), use(disabled), use(nowMillis), into(codes), into(messages), now;
            for (std::size_t i = 0; i < codes.size(); ++i) open.push_back({codes[i], messages[i]});
        } catch (const std::exception& error) {
            // Unknown is not restricted: Meta refuses a send it would not take anyway.
            context_.logger().warning("cannot read the account's restrictions: " + sdk::errorText(error));
        }
        open_ = std::move(open);
        readAt_ = current;
    }
    for (const Open& restriction : open_)
        if (restriction.code != kBusinessInitiated || templateMessage) return restriction.message;
    return std::nullopt;
}

}  // namespace tawasul::plugins::cloud_api
