#pragma once
// What Meta says about the business account and its number, from three webhook fields:
//   account_update               restrictions, disabling and reinstatement, violations
//   account_alerts               Meta's alerts about the account (severity, type, description)
//   phone_number_quality_update  the number flagged for quality, its messaging limit tier moving
// Each becomes an open alert (whatsapp_alerts, source "meta_account") that the settings page lists
// and a later event resolves, and a metric. The number's messaging limit tier and quality flag are
// also kept as its current state (whatsapp_number_health), which every host shows as gauges. A restriction or a disabled account also stops the Cloud
// API's sends on every host (they go down the dispatch chain, as with an expired token) until it is
// lifted or expires: AccountRestrictions reads it back for the provider.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

namespace tawasul::plugins::cloud_api {

inline constexpr const char* kAccountAlertSource = "meta_account";

class AccountEvents final : public sdk::WebhookFieldHandler {
public:
    explicit AccountEvents(sdk::HostContext& context) : context_(context) {}
    std::vector<std::string> fields() const override { return {"account_update", "account_alerts", "phone_number_quality_update"}; }
    void write(sdk::PreparedSession& db, const std::vector<sdk::WebhookChange>& changes) override;

private:
    sdk::HostContext& context_;
};

// What Meta last said about each business number (whatsapp_number_health).
struct NumberHealth {
    std::string number;   // digits of the display phone number
    std::string limit;    // Meta's tier word (TIER_250, TIER_1K, TIER_UNLIMITED, ...), "" if none yet
    bool flagged = false;
};
std::vector<NumberHealth> readNumberHealth(sdk::Database& database);
// Business-initiated conversations a day that a tier word allows: TIER_1K is 1000, TIER_UNLIMITED
// +Inf, and a word that is no count (TIER_NOT_SET, a tier Meta adds later) NaN.
double tierLimit(const std::string& tier);
// The gauges tawasul_whatsapp_messaging_limit{number,tier} and tawasul_whatsapp_quality_flagged{number},
// read from the database at each scrape (the same on every host); removed again by stop().
class NumberHealthGauges {
public:
    explicit NumberHealthGauges(sdk::HostContext& context);
    ~NumberHealthGauges();
    NumberHealthGauges(const NumberHealthGauges&) = delete;
    NumberHealthGauges& operator=(const NumberHealthGauges&) = delete;

private:
    sdk::HostContext& context_;
    std::uint64_t limits_ = 0, flags_ = 0;
};

// The open restriction that stops a send of this kind, if any, as the alert's message. Read from
// the database at most every kAge (the alerts are shared by every host on PostgreSQL).
class AccountRestrictions {
public:
    explicit AccountRestrictions(sdk::HostContext& context) : context_(context) {}
    // A restriction of business-initiated messaging stops templates only; one of customer-initiated
    // messaging, or a disabled account, stops everything.
    std::optional<std::string> blocking(bool templateMessage);

    static constexpr std::chrono::milliseconds kAge{500};

private:
    struct Open {
        std::string code, message;
    };
    sdk::HostContext& context_;
    std::mutex mutex_;
    std::chrono::steady_clock::time_point readAt_{};
    std::vector<Open> open_;
};

}  // namespace tawasul::plugins::cloud_api
