#pragma once
// Writes one webhook event into the timeline: contacts, conversations, messages, statuses, errors
// and B2B leads, inside the caller's transaction. Every write is idempotent (a redelivered message,
// status or error is a no-op), so an event may be processed any number of times.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>

#include "KeywordRules.hpp"
#include "tawasul/whatsapp/Contacts.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Events.hpp"
#include "tawasul/whatsapp/Phones.hpp"

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
    Timeline(Poco::Data::Session& session, const KeywordRules& rules,
             std::shared_ptr<sdk::ContactMatcher> matcher, const sdk::PhoneNormalizer& phones, std::int64_t now);

    // Walks every entry, change, message, status and error of a notification. Unknown fields and
    // message types are kept, never dropped and never fatal.
    void apply(std::int64_t eventId, const Poco::JSON::Object& notification);
    // The wamids of the notification's statuses, for sdk::lockWamids before apply().
    static void statusWamids(const Poco::JSON::Object& notification, std::vector<std::string>& wamids);

    const TimelineCounts& counts() const { return counts_; }
    // Events to publish once the transaction has committed.
    const std::vector<sdk::Event>& events() const { return events_; }

private:
    struct Contact {
        std::int64_t id = 0;
        bool matched = false;
    };
    void applyChange(std::int64_t eventId, const Poco::JSON::Object& value);
    void applyMessage(std::int64_t eventId, const std::string& phoneNumberId, const Poco::JSON::Object& value,
                      const Poco::JSON::Object& message);
    void applyStatus(std::int64_t eventId, const Poco::JSON::Object& status);
    void recordErrors(std::int64_t eventId, const std::string& source, const std::string& waMessageId,
                      const Poco::JSON::Object& holder);
    Contact upsertContact(const std::string& phoneNumberId, const std::string& waId, const std::string& userId,
                          const std::string& profileName);
    void matchContact(std::int64_t contactId, const std::string& waId);
    std::int64_t openConversation(std::int64_t contactId, std::int64_t at, bool& reopened);
    void route(std::int64_t conversationId, std::int64_t contactId, std::int64_t messageId, const std::string& text);
    void createLead(std::int64_t conversationId, std::int64_t contactId, const std::string& firstMessage);
    void publish(const std::string& topic, const std::string& json);

    Poco::Data::Session& session_;
    const KeywordRules& rules_;
    std::shared_ptr<sdk::ContactMatcher> matcher_;
    const sdk::PhoneNormalizer& phones_;
    std::int64_t now_;
    TimelineCounts counts_;
    std::vector<sdk::Event> events_;
};

// Meta's status words in order; a status only moves forward along this (failed is apart).
int statusRank(const std::string& status);

}  // namespace tawasul::plugins::inbound_router
