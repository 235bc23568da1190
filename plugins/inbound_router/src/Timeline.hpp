#pragma once
// Writes a batch of webhook events into the timeline (contacts, conversations, messages, statuses,
// errors and B2B leads) in two phases, so that the write transaction holds only writes:
//   1. add() parses each event, normalises the senders' phones and routes the texts by keyword;
//      lookUpMatches() reads the phone index once for the whole batch. No transaction, no lock.
//   2. write() runs in the caller's transaction: it first takes the advisory locks of its
//      statuses' wamids (sdk::lockWamids, against the status/wamid race with a send), then reads
//      the rows the batch touches once per table (locking them in id order on PostgreSQL),
//      replays the batch on them in memory, event by event, by the same rules the per-event code
//      had, and stores the outcome with one statement per table and kind of change. Each takes its
//      rows as one JSON parameter, so its text is the same for any batch and is prepared once per
//      connection (sdk::PreparedSession).
// Every write is idempotent (a redelivered message, status or error is a no-op), so an event may be
// processed any number of times.
//
// A person may be known by phone (wa_id), by business-scoped user id (BSUID, `user_id`), or both.
// A message or status naming a phone and a BSUID that two contacts hold makes them one contact
// (mergeContacts): the older is kept, the newer's conversations move to it (when both have an open
// one, the newer's messages move into the kept one and the emptied conversation is deleted), and
// the newer is deleted. A rare path: it adds statements only to a batch that merges (up to six:
// the kept conversations' counts, the conversations moved, the messages moved, the emptied
// conversations and the contacts deleted, one statement each for the whole batch).
// What the identities cost the common path: a status naming both ids is read with the batch's
// contacts (one contact read for a batch of statuses alone, none more when it has messages), and
// on PostgreSQL the people's ids are locked in the statement that locks the wamids (one statement
// for a batch of messages alone, which took none before).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/Nullable.h>

#include "KeywordRules.hpp"
#include "MessageRenderer.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/PreparedSession.hpp"
#include "tawasul/sdk/Events.hpp"
#include "tawasul/whatsapp/Contacts.hpp"
#include "tawasul/whatsapp/Phones.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

namespace tawasul::plugins::inbound_router {

struct TimelineCounts {
    int messages = 0;    // new inbound messages
    int duplicates = 0;  // messages already known
    int statuses = 0;    // new status events
    int errors = 0;
    int leads = 0;
};

class Timeline {
public:
    Timeline(const sdk::SqlDialect& dialect, const KeywordRules& rules, std::shared_ptr<sdk::ContactMatcher> matcher,
             const sdk::PhoneNormalizer& phones, std::int64_t now);

    // Phase 1. Walks every entry, change, message, status and error of a notification. Unknown
    // fields and message types are kept, never dropped and never fatal.
    void add(std::int64_t eventId, const Poco::JSON::Object& notification);
    // Phase 1. The platform records of every sender of the batch, one read of the phone index.
    void lookUpMatches();
    // Phase 2, inside the caller's transaction on db's session.
    void write(sdk::PreparedSession& db);

    const TimelineCounts& counts() const { return counts_; }
    // The changes of fields other than "messages", in the order the events said them, for the
    // plugins that take them (sdk::WebhookFieldHandler). add() collects them; write() leaves them.
    const std::vector<sdk::WebhookChange>& fieldChanges() const { return fieldChanges_; }
    // Events to publish once the transaction has committed, in the order the events said them.
    const std::vector<sdk::Event>& events() const { return events_; }
    // After write(): the ids of the messages it stored that carry a media id (image, audio, video,
    // document, sticker), each once; a message Meta delivered again is not among them.
    std::vector<Poco::Int64> newMediaMessages() const;

private:
    using Text = Poco::Nullable<std::string>;
    using Int = Poco::Nullable<Poco::Int64>;
    static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

    struct ErrorRow {
        Poco::Int64 eventId = 0;
        std::string source, wamid, title;
        Poco::Int64 code = 0;
        Text message, details;
        std::size_t onlyIfMessage = kNone;  // recorded only when this message is new
    };
    struct Message {
        Poco::Int64 eventId = 0;
        std::string phoneNumberId, waId, userId, profileName, username;
        Text phone;  // E.164 of waId
        std::string wamid, payload;
        RenderedMessage rendered;
        Poco::Int64 at = 0;
        const KeywordRule* rule = nullptr;
        // Filled by write():
        std::size_t contact = kNone, conversation = kNone;
        bool reopened = false, inserted = false;
        Poco::Int64 id = 0;
        Text contactName, contactPhone, matchedType;  // the contact as it was once this message was applied
        Int matchedId;
    };
    struct Status {
        Poco::Int64 eventId = 0;
        std::string phoneNumberId, wamid, word, payload;
        Text recipient, recipientUserId, title, details;
        Text recipientPhone;  // E.164 of recipient
        Int code;
        Poco::Int64 occurredAt = 0;
        bool inserted = false;
        std::optional<Poco::Int64> changedConversation;  // the outbound message it moved
    };
    struct Contact {
        Poco::Int64 id = 0;  // 0 until inserted
        bool fresh = false;  // created by this batch
        std::string phoneNumberId;
        Text waId, userId, phone, name, username, matchedType;
        Int matchedId;
        bool touched = false, matchChanged = false;
        std::size_t mergedInto = kNone;  // folded into that contact by this batch: not written
    };
    struct Merge {  // two stored contacts made one: `gone`'s conversations go to `kept`, then it is deleted
        std::size_t kept = kNone, gone = kNone;
    };
    struct OpenConversation {  // a merged-away contact's open conversation, as read
        Poco::Int64 id = 0, unread = 0, lastMessageAt = 0;
        Int lastInboundAt, assigned, lead;
        Text intent;
    };
    struct Conversation {
        Poco::Int64 id = 0;
        Poco::Int64 contactId = 0;
        std::size_t contact = kNone;
        Int assigned, lead;
        Text intent;
        Poco::Int64 firstAt = 0;  // the time of its contact's first message, for one this batch creates
        Poco::Int64 latestAt = 0;
        int newMessages = 0;
        bool changed = false;
        bool created = false;  // inserted by this batch, with the counts of `expected` new messages
        int expected = 0;
        bool recount = false;  // created, and fewer of its messages were new than expected
    };
    struct Lead {
        std::size_t conversation = kNone;
        Int organization;
        Text name, phone;
        std::string notes;
        Poco::Int64 id = 0;
    };
    struct LeadNote {  // a lead the sender already is, which their quote request is linked to
        Poco::Int64 lead = 0;
        std::string text;
    };
    struct Step {  // what route() did for one message, for the events
        enum class Kind { AutoReply, Lead, LeadLinked } kind;
        const RuleAction* action = nullptr;
        std::size_t lead = kNone;  // Lead: index in leads_; LeadLinked: in leadNotes_
    };
    struct Item {  // the batch in the order the events said it
        enum class Kind { Message, Status } kind;
        std::size_t index;
    };

    void addEntries(std::int64_t eventId, const Poco::JSON::Object& notification);
    void addChange(std::int64_t eventId, const Poco::JSON::Object& value);
    void addMessage(std::int64_t eventId, const std::string& phoneNumberId, const Poco::JSON::Object& value,
                    const Poco::JSON::Object& message);
    void addStatus(std::int64_t eventId, const std::string& phoneNumberId, const Poco::JSON::Object& status);
    void addErrors(std::int64_t eventId, const std::string& source, const std::string& waMessageId,
                   const Poco::JSON::Object& holder, std::size_t onlyIfMessage = kNone);

    void writeContacts(sdk::PreparedSession& db);
    bool replayContacts(sdk::PreparedSession& db);
    // Whether contacts `a` and `b` (indexes in contacts_) can be one: no id either has differs.
    bool mergeable(std::size_t a, std::size_t b) const;
    // Folds one of two contacts into the other (the older is kept); returns the kept one.
    std::size_t mergeContacts(std::size_t a, std::size_t b);
    void writeConversations(sdk::PreparedSession& db);
    void mergeConversations(sdk::PreparedSession& db, const std::map<std::size_t, OpenConversation>& goneOpen,
                            std::vector<std::size_t>& conversationOf);
    void updateContacts(sdk::PreparedSession& db);
    void writeMessages(sdk::PreparedSession& db);
    void route(sdk::PreparedSession& db);
    void writeLeads(sdk::PreparedSession& db);
    std::set<Poco::Int64> existingLeadsOfSenders(sdk::PreparedSession& db);
    Int leadOfSender(const Message& m) const;
    void writeLeadNotes(sdk::PreparedSession& db);
    void updateConversations(sdk::PreparedSession& db);
    void writeStatuses(sdk::PreparedSession& db);
    void writeErrors(sdk::PreparedSession& db);
    void collectEvents();

    std::string rows(const char* parameter) const;  // a JsonRows parameter as the table `r`
    std::string lockClause() const;
    // For an UPDATE ... FROM a JsonRows parameter joined on `key` = its first column (a BIGINT).
    std::string throughKey(const std::string& key, const char* parameter) const;

    const sdk::SqlDialect& dialect_;
    const KeywordRules& rules_;
    std::shared_ptr<sdk::ContactMatcher> matcher_;
    const sdk::PhoneNormalizer& phones_;
    std::int64_t now_;

    std::vector<Item> items_;
    std::vector<Message> messages_;
    std::vector<Status> statuses_;
    std::vector<ErrorRow> errors_;
    std::vector<sdk::WebhookChange> fieldChanges_;
    std::map<std::string, std::vector<sdk::MatchCandidate>> matches_;  // by wa_id

    std::vector<Contact> contacts_;
    std::map<std::pair<std::string, std::string>, std::size_t> byWaId_, byUserId_;
    std::size_t storedContacts_ = 0;  // contacts_[0, storedContacts_) were read, the rest are new
    std::vector<Merge> merges_;
    std::vector<Poco::Int64> mergedConversations_;  // kept conversations that took another's messages
    std::vector<Conversation> conversations_;
    std::vector<Lead> leads_;
    std::vector<LeadNote> leadNotes_;
    std::map<std::size_t, std::vector<Step>> steps_;  // message index → route steps

    TimelineCounts counts_;
    std::vector<sdk::Event> events_;
};

// Meta's status words in order; a status only moves forward along this (failed is apart).
int statusRank(const std::string& status);

}  // namespace tawasul::plugins::inbound_router
