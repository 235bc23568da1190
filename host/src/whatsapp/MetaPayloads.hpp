#pragma once
// Webhook bodies shaped and escaped the way Meta sends them: what `tawasul simulate` posts, and
// what tests and benchmarks can post without a fixture file. They are signed with
// sdk::webhookSignature (tawasul/whatsapp/Webhooks.hpp), as the receiver checks them.
#include <cstdint>
#include <optional>
#include <string>

namespace tawasul::host {

// The JSON string content (no surrounding quotes) for UTF-8 text, escaped as Meta escapes it.
// Throws std::invalid_argument when the text is not valid UTF-8.
std::string metaJsonEscape(const std::string& utf8);

// The phone as WhatsApp writes it in wa_id / from: digits only, "+213 555 12 34 56" → "213555123456".
// Empty when anything but digits, '+' and spaces is present.
std::string phoneDigits(const std::string& phone);

// The business side of a webhook: entry[].id and value.metadata.
struct MetaBusiness {
    std::string businessAccountId = "100000000000000";
    std::string phoneNumberId = "100000000000001";
    std::string displayPhoneNumber = "15550000000";
};

struct InboundText {
    MetaBusiness business;
    std::string from;      // digits; empty for a user known only by BSUID (a username hides the phone)
    std::string userId;    // business-scoped user id (BSUID, e.g. "DZ.1349..."), empty: none
    std::string name;      // profile name; empty: no name (with no username: no profile, a known name is kept)
    std::string username;  // profile.username, empty: none
    std::string wamid;
    std::int64_t timestamp = 0;  // seconds since the epoch
    std::string text;            // UTF-8
};

// One whatsapp_business_account entry with one change carrying one text message. At least one of
// `from` and `userId` must be set.
std::string inboundTextBody(const InboundText& message);

struct StatusUpdate {
    MetaBusiness business;
    std::string wamid;
    std::string status;  // sent, delivered, read, failed
    std::string recipientId;      // digits; empty: omitted (a recipient with a username)
    std::string recipientUserId;  // BSUID; empty: omitted
    std::int64_t timestamp = 0;
    std::optional<std::int64_t> errorCode;  // written as errors[] when set
    std::string errorTitle;
};

// One whatsapp_business_account entry with one change carrying one status.
std::string statusBody(const StatusUpdate& update);

// Meta's review of a template (field message_template_status_update).
struct TemplateStatusUpdate {
    MetaBusiness business;
    std::string name, language;
    std::string event;   // APPROVED, REJECTED, PAUSED, ...
    std::string reason;  // empty: Meta's "NONE"
    std::int64_t templateId = 0;
    std::int64_t time = 0;  // entry[].time, seconds
};
std::string templateStatusBody(const TemplateStatusUpdate& update);

// A message the business sent from the WhatsApp Business app (field smb_message_echoes).
struct MessageEcho {
    MetaBusiness business;
    std::string to;  // the customer's wa_id (digits)
    std::string wamid;
    std::int64_t timestamp = 0;
    std::string text;  // UTF-8
};
std::string messageEchoBody(const MessageEcho& echo);

// An account_update: a restriction (restrictionType set; none listed lifts them), or a ban state
// (DISABLE, REINSTATE, SCHEDULE_FOR_DISABLE) with event DISABLED_UPDATE.
struct AccountUpdate {
    MetaBusiness business;
    std::string event;            // ACCOUNT_RESTRICTION, DISABLED_UPDATE, ...
    std::string restrictionType;  // ACCOUNT_RESTRICTION: RESTRICTED_BIZ_INITIATED_MESSAGING, ...
    std::int64_t expiration = 0;  // the restriction's end, seconds; 0: none given
    std::string banState;         // DISABLED_UPDATE
    std::int64_t time = 0;
};
std::string accountUpdateBody(const AccountUpdate& update);

// A phone_number_quality_update: the number's messaging limit moved (UPGRADE, DOWNGRADE) or its
// quality was flagged (FLAGGED, UNFLAGGED).
struct QualityUpdate {
    MetaBusiness business;
    std::string event;
    std::string currentLimit;  // TIER_250, TIER_1K, ...; "" leaves it out
    std::string oldLimit;
    std::int64_t time = 0;
};
std::string qualityUpdateBody(const QualityUpdate& update);

}  // namespace tawasul::host
