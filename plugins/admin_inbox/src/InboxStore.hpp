#pragma once
// The inbox's data: the conversation list (filters, search, keyset pages), one conversation's
// timeline and contact, and the changes an agent makes (assign, resolve, reopen, leads), each
// written in one transaction together with the system line that records it. No HTTP here, so the
// integration tests exercise exactly the queries the pages run.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tawasul/sdk/Database.hpp"
#include "tawasul/whatsapp/Phones.hpp"
#include "tawasul/whatsapp/Templates.hpp"

namespace tawasul::plugins::admin_inbox {

// A position in the list ORDER BY last_message_at DESC, id DESC: the next page starts after it.
struct Cursor {
    std::int64_t lastMessageAt = 0;
    std::int64_t id = 0;

    std::string encode() const;                                 // "1732540000000.42"
    static std::optional<Cursor> decode(const std::string& text);  // nullopt unless exactly that form
};

struct InboxFilter {
    std::string status;         // "", "open", "pending", "resolved"
    std::string owner = "all";  // "all", "mine", "unassigned"
    std::int64_t userId = 0;    // whose "mine"
    std::string intent;         // "" or an intent word
    std::string search;         // a name or a phone in any form
    std::optional<Cursor> after;
    int limit = 50;
};

struct InboxRow {
    std::int64_t id = 0;
    std::int64_t contactId = 0;
    std::string name;   // profile name, may be empty
    std::string phone;  // E.164, may be empty (BSUID-only contacts)
    std::string waId;
    std::string username;  // profile.username (without '@'), may be empty
    std::string status;
    std::int64_t assignedUserId = 0;  // 0: nobody
    std::string assignedName;
    std::string intent;
    std::int64_t lastInboundAt = 0;  // 0: never wrote
    std::int64_t lastMessageAt = 0;
    std::int64_t unread = 0;
    std::int64_t leadId = 0;
    std::string previewType;
    std::string previewBody;
    std::string previewDirection;
};

struct InboxPage {
    std::vector<InboxRow> rows;
    std::optional<Cursor> next;  // set when there is a further page
};

struct Reaction {
    std::string emoji;
    std::string direction;
};

struct TimelineMessage {
    std::int64_t id = 0;
    std::string direction;  // in, out
    std::string waMessageId;
    std::string type;
    std::string body;
    std::string status;  // received, queued, sent, delivered, read, failed
    std::int64_t errorCode = 0;
    std::string errorTitle;
    std::string errorDetails;
    std::string provider;
    std::string authorName;  // outbound: the user who sent it
    std::int64_t createdAt = 0;
    std::string payload;  // the message as Meta sent it (JSON): location, contacts, a document's name
    // Replies-to: the quoted message when it is in this conversation.
    std::string quotedWaMessageId;
    bool quoteFound = false;
    std::string quotedType;
    std::string quotedBody;
    std::vector<Reaction> reactions;
};

// Why a provider passed a message on to the next one: its stored outcome and Meta's error code.
struct FallbackReason {
    std::string provider;  // the one that gave the message up
    std::string outcome;   // refused, unavailable, failed, ...
    std::int64_t errorCode = 0;
};

struct SystemLine {
    std::string kind;  // assigned, unassigned, resolved, reopened, pending, lead_created, lead_linked, provider_fallback
    std::string actorName;
    std::string targetName;  // assigned: to whom; provider_fallback: the provider that took over
    std::int64_t leadId = 0;
    std::string detail;  // provider_fallback: "PROVIDER: OUTCOME [CODE]", the raw words
    std::int64_t at = 0;
    FallbackReason reason;  // provider_fallback
};

// An internal note: what an agent wrote for the others, never sent to WhatsApp.
struct NoteLine {
    std::int64_t id = 0;
    std::string authorName;  // as the author was named when writing it
    std::string body;
    std::int64_t at = 0;
};

// One line of the timeline: a message, a system line or a note, in time order.
struct TimelineItem {
    std::int64_t at = 0;
    std::optional<TimelineMessage> message;
    std::optional<SystemLine> system;
    std::optional<NoteLine> note = std::nullopt;
};

// A note holds at most this many characters (code points).
inline constexpr std::size_t kMaxConversationNoteChars = 4000;

struct ConversationView {
    InboxRow summary;
    std::int64_t createdAt = 0;
    std::vector<TimelineItem> timeline;
    std::string lastInboundWamid;
    std::string leadName;
    std::string leadStatus;
};

struct UserOption {
    std::int64_t id = 0;
    std::string name;
    std::string email;
};

struct LeadOption {
    std::int64_t id = 0;
    std::string name;
    std::string phone;
    std::string status;
    std::string organization;
};

struct TemplateOption {
    std::string name;
    std::string language;
    sdk::TemplateDefinition definition;  // header, body and buttons with their variables
    std::string metaStatus;              // Meta's review (outbox's meta_status); empty: local
};

// The leads page: newest first (created_at, id), optionally one status and a search.
struct LeadFilter {
    std::string status;  // "" or one status word
    std::string search;  // a name, a company or a phone in any form
    std::optional<Cursor> after;  // Cursor{created_at, id} of the last row shown
    int limit = 50;
};

struct LeadRow {
    std::int64_t id = 0;
    std::string contactName;
    std::string phone;  // as the lead was written ("0555 12 34 56")
    std::string email;
    std::string source;
    std::string status;
    std::int64_t organizationId = 0;  // 0: none
    std::string organization;
    std::int64_t createdAt = 0;
    std::int64_t updatedAt = 0;
    std::int64_t conversations = 0;  // linked to it
};

struct LeadListPage {
    std::vector<LeadRow> rows;
    std::optional<Cursor> next;
};

struct LeadConversation {
    std::int64_t id = 0;
    std::string name;
    std::string phone;
    std::string status;
    std::int64_t lastMessageAt = 0;
};

// A change of a lead recorded in whatsapp_lead_events: who moved its status, from what to what.
struct LeadEvent {
    std::string kind;       // status
    std::string actorName;  // empty: a user since deleted
    std::string fromStatus;
    std::string toStatus;
    std::int64_t at = 0;
};

struct LeadView {
    LeadRow lead;
    std::vector<LeadEvent> history;  // oldest first
    std::string notes;  // paragraphs separated by a blank line
    std::string organizationCity;
    std::vector<LeadConversation> conversations;
};

// Why a change was refused, in a word the page translates.
struct ChangeResult {
    bool ok = false;
    std::string error;  // not_found, invalid_user, already_open, other_open, lead_exists, invalid_lead
};

// The 24-hour customer-service window: open while the last inbound message is younger than 24 h.
inline constexpr std::int64_t kWindowMillis = 24LL * 60 * 60 * 1000;
inline bool windowOpen(std::int64_t lastInboundAt, std::int64_t nowMillis) {
    return lastInboundAt > 0 && nowMillis < lastInboundAt + kWindowMillis;
}

class InboxStore {
public:
    InboxStore(sdk::Database& database, const sdk::PhoneNormalizer& phones);

    InboxPage list(const InboxFilter& filter);
    // The engine's plan for list(filter), one line per step (EXPLAIN QUERY PLAN / EXPLAIN).
    std::vector<std::string> explainList(const InboxFilter& filter);
    // The intents that occur, for the filter's choices.
    std::vector<std::string> intents();
    std::int64_t unreadTotal();
    // The newest inbound message of a conversation assigned to `userId` (the page's browser
    // notification compares it with the one it saw); messageId 0 when there is none.
    struct MineLatest {
        std::int64_t messageId = 0;
        std::int64_t conversationId = 0;
        std::string name;
    };
    MineLatest latestInboundAssignedTo(std::int64_t userId);
    // The conversation of outbound message `messageId`; 0 when there is no such message.
    std::int64_t outboundConversationOf(std::int64_t messageId);

    std::optional<ConversationView> conversation(std::int64_t id, int messageLimit = 200);
    // Clears the unread count; true when there was something to clear.
    bool markOpened(std::int64_t id, std::int64_t at);

    std::vector<UserOption> assignableUsers();
    ChangeResult assign(std::int64_t conversationId, std::int64_t targetUserId, std::int64_t actorUserId, std::int64_t at);
    ChangeResult resolve(std::int64_t conversationId, std::int64_t actorUserId, std::int64_t at);
    ChangeResult reopen(std::int64_t conversationId, std::int64_t actorUserId, std::int64_t at);
    // Pending: waiting on the customer or on someone else; the conversation stays one of the
    // contact's unresolved ones (reopen takes it back to open).
    ChangeResult markPending(std::int64_t conversationId, std::int64_t actorUserId, std::int64_t at);
    // A lead from the contact of the conversation, linked to it; leadId gets its id.
    ChangeResult createLead(std::int64_t conversationId, std::int64_t actorUserId, std::int64_t at, std::int64_t& leadId);
    ChangeResult linkLead(std::int64_t conversationId, std::int64_t leadId, std::int64_t actorUserId, std::int64_t at);
    std::vector<LeadOption> searchLeads(const std::string& term, int limit = 20);

    // The lead page's data: the list, one lead with its linked conversations, and its changes.
    LeadListPage leads(const LeadFilter& filter);
    std::optional<LeadView> lead(std::int64_t id);
    bool leadExists(std::int64_t id);
    // The status words of the filter besides the ones offered (a platform may have its own).
    std::vector<std::string> leadStatuses();
    // Records who made the change (whatsapp_lead_events) with it; choosing the status it has changes nothing.
    ChangeResult setLeadStatus(std::int64_t leadId, const std::string& status, std::int64_t actorUserId, std::int64_t at);
    // A paragraph added at the end of the lead's notes (the inbound router adds requests alike).
    ChangeResult addLeadNote(std::int64_t leadId, const std::string& note, std::int64_t at);
    // The conversation no longer belongs to the lead; its timeline says who did it.
    ChangeResult unlinkLead(std::int64_t leadId, std::int64_t conversationId, std::int64_t actorUserId, std::int64_t at);

    // What Meta says about the account that does not stop sending (the quality flagged, the limit
    // lowered, templates restricted, Meta's alerts): open `meta_account` alerts not past their end,
    // newest first, at most `limit`. Empty when cloud_api, which raises them, never ran here.
    struct AccountAlert {
        std::string code, message;
    };
    std::vector<AccountAlert> accountAlerts(std::int64_t nowMillis, std::size_t limit);

    // Active templates of the outbox (empty when the outbox's table is absent).
    std::vector<TemplateOption> templates();
    // An internal note on the conversation, by `authorName` (the user's name or e-mail). Refused,
    // with nothing written: empty_note (only spaces), note_too_long (over
    // kMaxConversationNoteChars), not_found (no such conversation). `body` is stored trimmed.
    ChangeResult addNote(std::int64_t conversationId, std::int64_t authorUserId, const std::string& authorName, const std::string& body,
                         std::int64_t at);

    // Whether conversation `id` exists: what every action checks first (one index probe, not the page).
    bool exists(std::int64_t id);

private:
    // The LIKE pattern that finds `search` in a phone: the digits of its E.164 form when it is a
    // phone number, else its own digits without a leading trunk 0; empty when it has no digits.
    std::string phoneDigitsPattern(const std::string& search) const;
    void record(Poco::Data::Session& session, std::int64_t conversationId, const std::string& kind, std::int64_t actor,
                std::int64_t target, std::int64_t lead, std::int64_t at);

    sdk::Database& database_;
    bool hasTemplates_ = false;
    const sdk::PhoneNormalizer& phones_;
};

// `%`, `_` and `\` taken literally in a LIKE ... ESCAPE '\' pattern.
std::string likeEscape(const std::string& text);

}  // namespace tawasul::plugins::admin_inbox
