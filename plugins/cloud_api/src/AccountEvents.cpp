#include "AccountEvents.hpp"

#include <algorithm>
#include <limits>
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
        // Not raised again when it was resolved as of a later time (a change delivered late); the
        // index of open alerts keeps one when two batches raise it at once (the second does nothing).
        db_.run("INSERT INTO whatsapp_alerts (source, code, message, created_at, expires_at) SELECT 'meta_account', $1, $2, $3, $4 "
                "WHERE NOT EXISTS (SELECT 1 FROM whatsapp_alerts WHERE source = 'meta_account' AND code = $1 AND resolved_at >= $3) "
                "ON CONFLICT (source, code) WHERE resolved_at IS NULL DO NOTHING",
                {code, message, at_, expiresAt});
    }
    Poco::Int64 at() const { return at_; }
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

// The number a phone_number_quality_update is about, as its digits (it becomes a metric label).
std::string numberDigits(const Object& value) {
    std::string digits;
    for (const char c : sdk::jsonText(value, "display_phone_number"))
        if (c >= '0' && c <= '9' && digits.size() < 20) digits += c;
    return digits;
}

// The number's messaging limit and quality flag (whatsapp_number_health), each only over an older one.
void recordHealth(sdk::PreparedSession& db, const std::string& number, const std::string& event, const std::string& limit, Poco::Int64 at) {
    if (number.empty()) return;
    if (!limit.empty())
        db.run("INSERT INTO whatsapp_number_health (display_phone, messaging_limit, limit_at) VALUES ($1, $2, $3) "
               "ON CONFLICT (display_phone) DO UPDATE SET messaging_limit = excluded.messaging_limit, limit_at = excluded.limit_at "
               "WHERE whatsapp_number_health.limit_at <= excluded.limit_at",
               {number, limit, at});
    if (event == "FLAGGED" || event == "UNFLAGGED")
        db.run("INSERT INTO whatsapp_number_health (display_phone, quality_flagged, flagged_at) VALUES ($1, $2, $3) "
               "ON CONFLICT (display_phone) DO UPDATE SET quality_flagged = excluded.quality_flagged, flagged_at = excluded.flagged_at "
               "WHERE whatsapp_number_health.flagged_at <= excluded.flagged_at",
               {number, event == "FLAGGED" ? 1 : 0, at});
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
        else if (change->field == "phone_number_quality_update") {
            qualityUpdate(alerts, event, value);
            recordHealth(db, numberDigits(value), event, metaWord(value, "current_limit"), alerts.at());
        }
        // Counted before the commit: a batch rolled back and retried counts its changes again.
        context_.metrics()
            .counter("tawasul_whatsapp_account_events_total{field=\"" + change->field + "\",event=\"" + (event.empty() ? "NONE" : event) +
                         "\"}",
                     "What Meta said about the business account and its number, by webhook field and event")
            .increment();
    }
}

std::vector<NumberHealth> readNumberHealth(sdk::Database& database) {
    Poco::Data::Session session = database.session();
    std::vector<std::string> numbers;
    std::vector<Poco::Nullable<std::string>> limits;
    std::vector<Poco::Int64> flagged;
    session << "SELECT display_phone, messaging_limit, quality_flagged FROM whatsapp_number_health ORDER BY display_phone",
        into(numbers), into(limits), into(flagged), now;
    std::vector<NumberHealth> health;
    for (std::size_t i = 0; i < numbers.size(); ++i)
        health.push_back({numbers[i], limits[i].isNull() ? "" : limits[i].value(), flagged[i] != 0});
    return health;
}

double tierLimit(const std::string& tier) {
    if (tier == "TIER_UNLIMITED") return std::numeric_limits<double>::infinity();
    const std::string prefix = "TIER_";
    if (tier.compare(0, prefix.size(), prefix) != 0 || tier.size() == prefix.size()) return std::numeric_limits<double>::quiet_NaN();
    double count = 0;
    std::size_t i = prefix.size();
    for (; i < tier.size() && tier[i] >= '0' && tier[i] <= '9' && i < prefix.size() + 9; ++i) count = count * 10 + (tier[i] - '0');
    if (i == prefix.size()) return std::numeric_limits<double>::quiet_NaN();
    const std::string unit = tier.substr(i);
    if (unit.empty()) return count;
    if (unit == "K") return count * 1000;
    if (unit == "M") return count * 1000000;
    return std::numeric_limits<double>::quiet_NaN();
}

NumberHealthGauges::NumberHealthGauges(sdk::HostContext& context) : context_(context) {
    // Each reader logs its own failure: the registry leaves the family out of that scrape.
    const auto read = [&context] {
        try {
            return readNumberHealth(context.database());
        } catch (const std::exception& error) {
            context.logger().warning("cannot read the numbers' messaging limits for /metrics: " + sdk::errorText(error));
            throw;
        }
    };
    limits_ = context.metrics().addGauges(
        "tawasul_whatsapp_messaging_limit", "Business-initiated conversations a day Meta allows the number (its tier), as Meta last said",
        [read] {
            std::vector<sdk::GaugeSample> samples;
            for (const NumberHealth& number : read())
                if (!number.limit.empty()) samples.push_back({{{"number", number.number}, {"tier", number.limit}}, tierLimit(number.limit)});
            return samples;
        });
    flags_ = context.metrics().addGauges("tawasul_whatsapp_quality_flagged", "1 while Meta has flagged the number's quality, else 0", [read] {
        std::vector<sdk::GaugeSample> samples;
        for (const NumberHealth& number : read()) samples.push_back({{{"number", number.number}}, number.flagged ? 1.0 : 0.0});
        return samples;
    });
}

NumberHealthGauges::~NumberHealthGauges() {
    context_.metrics().removeGauges(limits_);
    context_.metrics().removeGauges(flags_);
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
