#pragma once
// Sending. Two roles, two small interfaces:
//  - MessageProvider: one way out (the Cloud API, the Outbox, a plugin someone adds). A provider
//    is published in the ServiceRegistry under its plugin's name (HostContext::pluginName()), the
//    name `dispatch.chain` lists.
//  - MessageDispatcher: the host's service (MessageDispatcher::kServiceName) that callers use. It writes
//    the outbound message and a `send_message` job in one transaction and returns; the job walks
//    the chain, so a crash between the two loses nothing.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

inline constexpr const char* kSendMessageJob = "send_message";

// One parameter of a template component, positional ({{1}}) or named ({{name}}).
struct TemplateParameter {
    std::string name;   // empty for a positional parameter
    std::string value;  // text
};

// A template component: "header", "body" or "button" (with subType "quick_reply"/"url" and index).
struct TemplateComponent {
    std::string type;
    std::string subType;
    int index = 0;
    std::vector<TemplateParameter> parameters;
};

struct TemplateContent {
    std::string name;
    std::string language;  // e.g. "fr", "ar", "en_US"
    std::vector<TemplateComponent> components;
};

enum class ContentKind { Text, Template };

// What a provider is asked to send: one stored outbound message, already addressed.
struct OutboundMessage {
    std::int64_t messageId = 0;       // whatsapp_messages.id
    std::int64_t conversationId = 0;  // 0 when sent to a phone with no conversation yet
    std::string toE164;               // "+213555123456"; empty for a contact known only by userId
    std::string waId;                 // the contact's wa_id, when known
    ContentKind kind = ContentKind::Text;
    std::string text;                 // ContentKind::Text
    TemplateContent templ;            // ContentKind::Template
    std::string replyToWamid;         // context.message_id, optional
    std::string idempotencyKey;
    int attempt = 1;                  // 1 for the first try of this provider
    bool windowOpen = false;          // a free-form message is allowed (inbound in the last 24 h)
    // Since ABI 2.3 (appended, so that the members above keep their places): the contact's
    // business-scoped user id (BSUID, "DZ.1349..."), when known. A contact with a username may
    // have no phone: then toE164 is empty and this is the only address (the Cloud API's
    // `recipient`; a BSUID in `to` is dropped by Meta).
    std::string userId;
};

enum class SendOutcome {
    Sent,         // accepted by the network; providerMessageId is the wamid
    Queued,       // accepted for a person to send by hand (the Outbox); final for the dispatcher
    RetryLater,   // transient: try this provider again after retryAfter
    Refused,      // permanent for this message: the next provider in the chain may take it
    Unavailable,  // disabled, unconfigured or unhealthy: the next provider takes it, nothing was spent
};

struct SendResult {
    SendOutcome outcome = SendOutcome::Refused;
    std::string providerMessageId;  // wamid on Sent, outbox message id on Queued
    int httpStatus = 0;             // 0 when no HTTP call was made
    int errorCode = 0;              // Meta's error.code (131047, 190, ...), 0 if none
    std::string errorTitle;
    std::string errorDetails;
    std::chrono::milliseconds retryAfter{0};
    std::string note;               // words for the timeline, e.g. "queued for manual sending"
};

enum class ProviderState { Healthy, Unconfigured, Disabled, Unhealthy };

struct ProviderHealth {
    ProviderState state = ProviderState::Healthy;
    std::string reason;  // e.g. "access token expired (190)"; when healthy, empty or what it will not send
};

class TAWASUL_SDK_API MessageProvider {
public:
    virtual ~MessageProvider();
    virtual std::string name() const = 0;
    // Whether this provider is bound by the 24-hour customer-service window (the Cloud API is;
    // a person sending by hand is not).
    virtual bool enforcesWindow() const = 0;
    // Called from a job worker; may block on the network. Never throws for an answer of the
    // network: every outcome is a SendResult.
    virtual SendResult send(const OutboundMessage& message) = 0;
    // Marks an inbound message read; false when the provider cannot.
    virtual bool markRead(const std::string& inboundWamid) = 0;
    virtual ProviderHealth health() const = 0;
};

// Optional, published under the provider's name beside its MessageProvider: checks the provider's
// credentials now (the settings page's "test connection"). A success clears an unhealthy state.
class TAWASUL_SDK_API ProviderConnectionTest {
public:
    virtual ~ProviderConnectionTest();
    virtual ProviderHealth testConnection() = 0;
};

// Optional (ABI 2.8), published under the provider's name beside its MessageProvider: marks an
// inbound message read and shows the customer that an agent is typing (the Cloud API clears it
// with the reply or after about 25 s). A new interface rather than a virtual added to
// MessageProvider, so that a provider built for 2.6 (whose vtable has no such slot) is simply
// one that does not publish it.
class TAWASUL_SDK_API TypingIndicator {
public:
    virtual ~TypingIndicator();
    // False when the provider cannot (not configured, or the network refused).
    virtual bool showTyping(const std::string& inboundWamid) = 0;
};

// Who asked to send, for the timeline and the audit.
struct Actor {
    std::string kind;  // "user", "api_token", "system", "flow"
    std::int64_t id = 0;
    std::string name;
};

struct SendRequest {
    std::int64_t conversationId = 0;  // either a conversation...
    std::string phone;                // ...or a phone in any form (normalised to E.164)
    ContentKind kind = ContentKind::Text;
    std::string text;
    TemplateContent templ;
    std::string replyToWamid;
    std::string idempotencyKey;       // the same key twice sends once
    Actor actor;
};

enum class SendStatus {
    Accepted,       // stored as queued, a job will send it
    Duplicate,      // this idempotency key was used: messageId is the earlier message
    WindowClosed,   // free text outside the 24-hour window: choose a template
    InvalidRequest, // bad phone, empty text, unknown conversation...
    KeyReused,      // this idempotency key was used for a different message: nothing sent
};

struct SendReceipt {
    SendStatus status = SendStatus::InvalidRequest;
    std::int64_t messageId = 0;
    std::int64_t conversationId = 0;
    std::string field;    // the field at fault for InvalidRequest
    std::string message;  // words for the caller
};

class TAWASUL_SDK_API MessageDispatcher {
public:
    // The name the host publishes it under: services().find<MessageDispatcher>(MessageDispatcher::kServiceName).
    static constexpr const char* kServiceName = "dispatcher";
    virtual ~MessageDispatcher();
    virtual SendReceipt send(const SendRequest& request) = 0;
    // Marks the conversation's last inbound message read through the first provider that can.
    virtual bool markRead(std::int64_t conversationId) = 0;
    // The chain in order, with each provider's health.
    virtual std::vector<std::pair<std::string, ProviderHealth>> chainHealth() const = 0;
    // Since ABI 2.8, appended after the members of 2.6 (a plugin built for 2.6 sees the vtable it
    // knew; the host, which implements this, is never older than a plugin it loads):
    // Shows "typing" on the conversation's last inbound message through the first provider of the
    // chain that publishes a TypingIndicator; false when none could.
    virtual bool showTyping(std::int64_t conversationId) = 0;
    // Queues a failed outbound message again, the same row, through the chain (a new send job).
    // Accepted once; Duplicate when it is not failed any more (a second click, another agent);
    // InvalidRequest when there is no such outbound message.
    virtual SendReceipt retry(std::int64_t messageId, const Actor& actor) = 0;
};

}  // namespace tawasul::sdk
