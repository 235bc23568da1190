#include "whatsapp/Dispatcher.hpp"

#include <optional>
#include <chrono>
#include <map>
#include <set>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Logger.h>
#include <Poco/Nullable.h>

#include "plugin/LocalEventBus.hpp"
#include "jobs/JobRunner.hpp"
#include "metrics/MetricsRegistry.hpp"
#include "plugin/ServiceDirectory.hpp"
#include "secrets/SettingsStore.hpp"
#include "tawasul/sdk/Errors.hpp"
#include "tawasul/sdk/Json.hpp"
#include "tawasul/whatsapp/Templates.hpp"
#include "tawasul/whatsapp/TimelineWrites.hpp"

namespace tawasul::host {
namespace {

using namespace Poco::Data::Keywords;
using Poco::JSON::Array;
using Poco::JSON::Object;
using NullableText = Poco::Nullable<std::string>;
using NullableInt = Poco::Nullable<Poco::Int64>;

Poco::Logger& log() {
    static Poco::Logger& logger = Poco::Logger::get("host.dispatch");  // Logger::get takes a process-wide lock
    return logger;
}

NullableText orNull(const std::string& text) { return text.empty() ? NullableText() : NullableText(text); }

bool blank(const std::string& text) { return text.find_first_not_of(" \t\r\n") == std::string::npos; }

std::size_t codePoints(const std::string& utf8) {
    std::size_t count = 0;
    for (unsigned char c : utf8) count += (c & 0xC0) != 0x80;
    return count;
}

const char* outcomeWord(sdk::SendOutcome outcome) {
    switch (outcome) {
        case sdk::SendOutcome::Sent: return "sent";
        case sdk::SendOutcome::Queued: return "queued";
        case sdk::SendOutcome::RetryLater: return "retry";
        case sdk::SendOutcome::Refused: return "refused";
        case sdk::SendOutcome::Unavailable: return "unavailable";
    }
    return "refused";
}

// The content of a request as stored in whatsapp_messages.payload: what the job sends, and to whom
// (a phone, or the BSUID of a contact known only by it).
std::string contentJson(const sdk::SendRequest& request, const std::string& toE164, const std::string& userId) {
    Object payload;
    if (!toE164.empty()) payload.set("to", toE164);
    else payload.set("recipient", userId);
    if (request.kind == sdk::ContentKind::Text) {
        payload.set("kind", "text");
        payload.set("text", request.text);
    } else {
        payload.set("kind", "template");
        Object templ;
        templ.set("name", request.templ.name);
        templ.set("language", request.templ.language);
        Array components;
        for (const auto& component : request.templ.components) {
            Object c;
            c.set("type", component.type);
            if (!component.subType.empty()) c.set("sub_type", component.subType);
            c.set("index", component.index);
            Array parameters;
            for (const auto& parameter : component.parameters) {
                Object p;
                if (!parameter.name.empty()) p.set("name", parameter.name);
                p.set("value", parameter.value);
                parameters.add(p);
            }
            c.set("parameters", parameters);
            components.add(c);
        }
        templ.set("components", components);
        payload.set("template", templ);
    }
    Object actor;
    actor.set("kind", request.actor.kind);
    actor.set("id", request.actor.id);
    actor.set("name", request.actor.name);
    payload.set("actor", actor);
    return sdk::jsonString(payload);
}

std::string text(const Object& object, const std::string& key) { return sdk::jsonText(object, key); }

void readContent(const std::string& json, sdk::OutboundMessage& message) {
    const auto payload = Poco::JSON::Parser().parse(json).extract<Object::Ptr>();
    if (text(*payload, "kind") == "template") {
        message.kind = sdk::ContentKind::Template;
        const auto templ = payload->getObject("template");
        message.templ.name = text(*templ, "name");
        message.templ.language = text(*templ, "language");
        const auto components = templ->getArray("components");
        for (std::size_t i = 0; components && i < components->size(); ++i) {
            const auto c = components->getObject(static_cast<unsigned>(i));
            sdk::TemplateComponent component;
            component.type = text(*c, "type");
            component.subType = text(*c, "sub_type");
            component.index = c->optValue<int>("index", 0);
            const auto parameters = c->getArray("parameters");
            for (std::size_t j = 0; parameters && j < parameters->size(); ++j) {
                const auto p = parameters->getObject(static_cast<unsigned>(j));
                component.parameters.push_back({text(*p, "name"), text(*p, "value")});
            }
            message.templ.components.push_back(std::move(component));
        }
    } else {
        message.kind = sdk::ContentKind::Text;
        message.text = text(*payload, "text");
    }
}

std::string eventJson(std::int64_t conversationId, std::int64_t messageId,
                      std::initializer_list<std::pair<const char*, std::string>> texts) {
    Object event;
    event.set("conversation_id", conversationId);
    event.set("message_id", messageId);
    for (const auto& [key, value] : texts) event.set(key, value);
    return sdk::jsonString(event);
}

struct AttemptRow {
    std::string provider;
    int attempt = 1;
    std::string outcome;
    int httpStatus = 0;
    int errorCode = 0;
    std::string errorTitle, errorDetails, note;
    std::int64_t durationMs = 0;
};

}  // namespace

// The statements of a send, prepared once on a connection kept for them (a worker takes one for
// each job and gives it back). Poco's PostgreSQL connector turns each new statement into four
// round trips (prepare, describe, execute, deallocate) and the server parses and plans it again:
// at 1,000 sends a second over three hosts, that was most of two cores. A kept statement is one
// round trip. Poco binds by reference, so each statement reads the members it was bound to.
struct Dispatcher::Kept {
    explicit Kept(sdk::Database& database)
        : session(database.session()), asynchronous(!database.sql().singleWriter()), load(session), attempt(session),
          markSent(session), early(session), sent(session) {
        // Every write on this connection is relaxed (Durability::Relaxed: sends and their
        // attempts can be done again from what is durable). On PostgreSQL the connection says so
        // once, for as long as it is kept, instead of each transaction saying SET LOCAL (a
        // statement of four round trips); the pool gets it back as it was (~Kept).
        if (asynchronous) session << "SET synchronous_commit = off", now;
        if (asynchronous) {
            // sdk::lockWamids for the one wamid of a send, with the same key (1414, hashtext), kept
            // prepared: parsed and planned afresh it cost the server more than the writes it guards.
            lock = std::make_unique<Poco::Data::Statement>(session);
            *lock << "SELECT COUNT(pg_advisory_xact_lock(1414, hashtext($1)))", use(wamid), into(locked);
        }
        load << "SELECT m.status, m.payload, m.context_wa_message_id, m.idempotency_key, m.provider, m.wa_message_id, "
                "m.conversation_id, c.last_inbound_at, k.phone_e164, k.wa_id, k.user_id FROM whatsapp_messages m "
                "JOIN whatsapp_conversations c ON c.id = m.conversation_id JOIN whatsapp_contacts k ON k.id = c.contact_id "
                "WHERE m.id = $1 AND m.direction = 'out'",
            use(id), into(status), into(payload), into(context), into(key), into(providerDone), into(wamidDone), into(conversationId),
            into(lastInbound), into(phone), into(waId), into(userId);
        attempt << "INSERT INTO whatsapp_message_attempts (message_id, provider, attempt, outcome, http_status, error_code, "
                   "error_title, error_details, note, duration_ms, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            use(id), use(attemptProvider), use(attemptNumber), use(attemptOutcome), use(attemptHttpStatus), use(attemptErrorCode),
            use(attemptTitle), use(attemptDetails), use(attemptNote), use(attemptDuration), use(at);
        markSent << "UPDATE whatsapp_messages SET wa_message_id = $1, provider = $2, status = 'sent', sent_at = $3, updated_at = $3 "
                    "WHERE id = $4 AND wa_message_id IS NULL",
            use(wamid), use(sentBy), use(at), use(id);
        early << "SELECT status, error_code, error_title, error_details, occurred_at FROM whatsapp_message_statuses "
                 "WHERE wa_message_id = $1 ORDER BY occurred_at, id",
            use(wamid), into(earlyStatuses), into(earlyCodes), into(earlyTitles), into(earlyDetails), into(earlyAt);
        if (asynchronous) {
            // PostgreSQL: the attempt, the wamid and the early statuses of a send in one round trip
            // instead of three (a data-modifying WITH runs whether or not the query reads it). Its
            // snapshot is taken after lockWamid, as the three statements' were.
            sent << "WITH attempt AS (INSERT INTO whatsapp_message_attempts (message_id, provider, attempt, outcome, http_status, "
                    "error_code, error_title, error_details, note, duration_ms, created_at) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)), "
                    "sent AS (UPDATE whatsapp_messages SET wa_message_id = $12, provider = $13, status = 'sent', sent_at = $11, "
                    "updated_at = $11 WHERE id = $1 AND wa_message_id IS NULL) "
                    "SELECT status, error_code, error_title, error_details, occurred_at FROM whatsapp_message_statuses "
                    "WHERE wa_message_id = $12 ORDER BY occurred_at, id",
                use(id), use(attemptProvider), use(attemptNumber), use(attemptOutcome), use(attemptHttpStatus), use(attemptErrorCode),
                use(attemptTitle), use(attemptDetails), use(attemptNote), use(attemptDuration), use(at), use(wamid), use(sentBy),
                into(earlyStatuses), into(earlyCodes), into(earlyTitles), into(earlyDetails), into(earlyAt);
        }
    }

    ~Kept() {
        if (!asynchronous) return;
        try {
            session << "RESET synchronous_commit", now;
        } catch (...) {
            // A broken connection is discarded by the pool; nothing else runs on it.
        }
    }

    // What a relaxed transaction on this connection asks of sdk::Transaction: on PostgreSQL
    // nothing more (the connection commits asynchronously already, and a Full transaction there
    // differs from a Relaxed one only by its SET LOCAL); on SQLite, Relaxed (its pragma is per
    // transaction, and the write lock is taken the same way).
    sdk::Durability relaxed() const { return asynchronous ? sdk::Durability::Full : sdk::Durability::Relaxed; }

    // The outbound message `messageId` and its contact; false when there is none.
    bool loadMessage(std::int64_t messageId) {
        id = messageId;
        status.clear();
        payload.clear();
        context = key = providerDone = wamidDone = phone = waId = userId = NullableText();
        conversationId = 0;
        lastInbound = NullableInt();
        return load.execute() > 0;
    }

    void recordAttempt(const AttemptRow& row, std::int64_t atMillis) {
        setAttempt(row, atMillis);
        attempt.execute();
    }

    void setAttempt(const AttemptRow& row, std::int64_t atMillis) {
        attemptProvider = row.provider;
        attemptNumber = row.attempt;
        attemptOutcome = row.outcome;
        attemptHttpStatus = row.httpStatus ? Poco::Nullable<int>(row.httpStatus) : Poco::Nullable<int>();
        attemptErrorCode = row.errorCode ? Poco::Nullable<int>(row.errorCode) : Poco::Nullable<int>();
        attemptTitle = orNull(row.errorTitle.substr(0, 500));
        attemptDetails = orNull(row.errorDetails.substr(0, 2000));
        attemptNote = orNull(row.note.substr(0, 1000));
        attemptDuration = row.durationMs;
        at = atMillis;
    }

    // In the transaction that stores a sent message's wamid, before anything else (see
    // sdk::lockWamids): a status for it being stored now is then seen, or sees this one.
    void lockWamid(const std::string& providerMessageId) {
        wamid = providerMessageId;
        if (lock) lock->execute();
    }

    // Records the attempt that sent a message, stores its wamid and reads the statuses that
    // arrived before it (earlyStatuses...).
    void storeSent(const AttemptRow& row, const std::string& providerMessageId, std::int64_t atMillis) {
        setAttempt(row, atMillis);
        wamid = providerMessageId;
        sentBy = row.provider;
        // Poco appends to bound vectors: each run starts them empty.
        earlyStatuses.clear();
        earlyCodes.clear();
        earlyTitles.clear();
        earlyDetails.clear();
        earlyAt.clear();
        if (asynchronous) {
            sent.execute();
            return;
        }
        attempt.execute();
        markSent.execute();
        early.execute();
    }

    Poco::Data::Session session;
    const bool asynchronous;  // PostgreSQL: set to commit asynchronously while kept
    Poco::Int64 id = 0, conversationId = 0, attemptDuration = 0, at = 0;
    std::string status, payload;
    NullableText context, key, providerDone, wamidDone, phone, waId, userId;
    NullableInt lastInbound;
    std::string attemptProvider, attemptOutcome;
    int attemptNumber = 1;
    Poco::Nullable<int> attemptHttpStatus, attemptErrorCode;
    NullableText attemptTitle, attemptDetails, attemptNote;
    std::string wamid, sentBy;
    std::vector<std::string> earlyStatuses;
    std::vector<NullableInt> earlyCodes;
    std::vector<NullableText> earlyTitles, earlyDetails;
    std::vector<Poco::Int64> earlyAt;
    Poco::Int64 locked = 0;
    Poco::Data::Statement load, attempt, markSent, early, sent;  // sent: PostgreSQL only
    std::unique_ptr<Poco::Data::Statement> lock;  // PostgreSQL only: SQLite has one writer
};

Dispatcher::~Dispatcher() = default;

Dispatcher::Dispatcher(sdk::Database& database, JobRunner& jobs, LocalEventBus& events, ServiceDirectory& services,
                       SettingsStore& settings, const sdk::Clock& clock, MetricsRegistry& metrics, std::vector<std::string> chain)
    : database_(database), jobs_(jobs), events_(events), services_(services), settings_(settings), clock_(clock),
      metrics_(metrics), chain_(std::move(chain)) {}

void Dispatcher::attach() {
    // A few sends a claim: each waits for its pacing slot anyway, and a claim and a finish per
    // send were 7 of its 16 round trips on PostgreSQL. Few enough that a worker never holds
    // much of the queue while it waits (8 slots at 80/s shared by 12 workers: 1.2 s).
    jobs_.handleEach("host", sdk::kSendMessageJob, kSendsPerClaim, [this](const sdk::Job& job) { runJob(job); });
    events_.subscribe("host", "auto_reply.requested", [this](const sdk::Event& event) { onAutoReply(event.json); });
}

std::shared_ptr<sdk::MessageProvider> Dispatcher::provider(const std::string& name) const {
    return std::static_pointer_cast<sdk::MessageProvider>(services_.find(typeid(sdk::MessageProvider).name(), name));
}

void Dispatcher::publishAfterCommit(const std::vector<std::pair<std::string, std::string>>& events) {
    for (const auto& [topic, json] : events) events_.publish({topic, json});
}

sdk::SendReceipt Dispatcher::send(const sdk::SendRequest& request) {
    sdk::SendReceipt receipt;
    auto answer = [&](sdk::SendStatus status, const std::string& field, const std::string& message) {
        receipt.status = status;
        receipt.field = field;
        receipt.message = message;
        const char* word = status == sdk::SendStatus::Accepted    ? "accepted"
                           : status == sdk::SendStatus::Duplicate ? "duplicate"
                           : status == sdk::SendStatus::WindowClosed ? "window_closed"
                           : status == sdk::SendStatus::KeyReused    ? "key_reused"
                                                                     : "invalid";
        metrics_.counter(std::string("tawasul_outbound_requests_total{status=\"") + word + "\"}", "Send requests, by answer")
            .increment();
        return receipt;
    };
    auto invalid = [&](const std::string& field, const std::string& message) {
        return answer(sdk::SendStatus::InvalidRequest, field, message);
    };

    if (request.kind == sdk::ContentKind::Text) {
        if (blank(request.text)) return invalid("text", "the text is empty");
        if (codePoints(request.text) > 4096) return invalid("text", "the text is longer than 4096 characters");
    } else {
        if (blank(request.templ.name)) return invalid("template.name", "the template has no name");
        if (blank(request.templ.language)) return invalid("template.language", "the template has no language code");
        // A template Meta rejected or paused would come back refused (132001, 132015): say so now.
        const auto approval = std::static_pointer_cast<sdk::TemplateApproval>(
            services_.find(typeid(sdk::TemplateApproval).name(), sdk::TemplateApproval::kServiceName));
        if (approval)
            if (const auto refusal = approval->refusal(request.templ.name, request.templ.language))
                return invalid("template.name", "template '" + request.templ.name + "' (" + request.templ.language + ") cannot be sent: " + *refusal);
    }
    if (request.idempotencyKey.size() > 300) return invalid("idempotency_key", "the idempotency key is longer than 300 bytes");
    std::string e164;
    std::string phoneNumberId;
    if (request.conversationId <= 0) {
        if (blank(request.phone)) return invalid("phone", "give a conversation or a phone number");
        const auto normalised = phones_.toE164(request.phone);
        if (!normalised) return invalid("phone", "'" + request.phone + "' is not a valid phone number");
        e164 = *normalised;
        // New contacts belong to the business number the Cloud API sends from, so that the
        // customer's answer (keyed on that number and their wa_id) lands on the same contact.
        phoneNumberId = settings_.get("whatsapp.cloud.phone_number_id").value_or("");
    } else if (!blank(request.phone)) {
        return invalid("phone", "give a conversation or a phone number, not both");
    }

    const std::int64_t nowMs = clock_.nowMillis();
    Poco::Data::Session session = database_.session();
    NullableText key = orNull(request.idempotencyKey);
    std::string type = request.kind == sdk::ContentKind::Text ? "text" : "template";
    std::string body = request.kind == sdk::ContentKind::Text
                           ? request.text
                           : "template " + request.templ.name + " (" + request.templ.language + ")";
    // A key seen before: the first message stands. The same key for another content is the
    // caller's bug, answered as such rather than silently taken for a double click.
    auto earlierUse = [&]() -> std::optional<sdk::SendStatus> {
        if (key.isNull()) return std::nullopt;
        std::vector<Poco::Int64> ids, conversations;
        std::vector<std::string> types, bodies;
        session << "SELECT id, conversation_id, type, COALESCE(body, '') FROM whatsapp_messages WHERE idempotency_key = $1", use(key),
            into(ids), into(conversations), into(types), into(bodies), now;
        if (ids.empty()) return std::nullopt;
        receipt.messageId = ids.front();
        receipt.conversationId = conversations.front();
        return types.front() == type && bodies.front() == body ? sdk::SendStatus::Duplicate : sdk::SendStatus::KeyReused;
    };
    auto answerEarlierUse = [&](sdk::SendStatus status) {
        return status == sdk::SendStatus::Duplicate
                   ? answer(status, "idempotency_key", "this idempotency key was already used")
                   : answer(status, "idempotency_key", "this idempotency key was already used for a different message");
    };

    sdk::Transaction transaction(database_, session, sdk::Durability::Full);
    if (const auto earlier = earlierUse()) return answerEarlierUse(*earlier);

    Poco::Int64 conversationId = request.conversationId;
    NullableInt lastInbound;
    if (conversationId > 0) {
        std::vector<Poco::Int64> found;
        std::vector<NullableInt> inbound;
        session << "SELECT id, last_inbound_at FROM whatsapp_conversations WHERE id = $1", use(conversationId), into(found),
            into(inbound), now;
        if (found.empty()) return invalid("conversation_id", "conversation " + std::to_string(conversationId) + " does not exist");
        lastInbound = inbound.front();
    } else {
        std::string phone = e164, waId = e164.substr(1);
        auto findContact = [&]() -> std::optional<Poco::Int64> {
            std::vector<Poco::Int64> ids;
            session << "SELECT id FROM whatsapp_contacts WHERE phone_e164 = $1 ORDER BY id LIMIT 1", use(phone), into(ids), now;
            if (ids.empty()) return std::nullopt;
            return ids.front();
        };
        auto contact = findContact();
        if (!contact) {
            Poco::Int64 at = nowMs;
            session << "INSERT INTO whatsapp_contacts (phone_number_id, wa_id, phone_e164, created_at, updated_at) "
                       "VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING",
                use(phoneNumberId), use(waId), use(phone), use(at), now;
            contact = findContact();
            if (!contact) throw std::runtime_error("contact for " + phone + " could not be written");
        }
        bool reopened = false;
        conversationId = sdk::openConversation(session, *contact, nowMs, nowMs, reopened);
        session << "SELECT last_inbound_at FROM whatsapp_conversations WHERE id = $1", use(conversationId), into(lastInbound), now;
    }
    receipt.conversationId = conversationId;

    // Free text only inside the customer-service window, checked before anything is stored or sent.
    const bool windowOpen = !lastInbound.isNull() && nowMs - lastInbound.value() < kWindowMillis;
    if (request.kind == sdk::ContentKind::Text && !windowOpen) {
        transaction.rollback();
        return answer(sdk::SendStatus::WindowClosed, "text",
                      lastInbound.isNull() ? "the contact has never written: free text cannot be sent, choose a template"
                                           : "the 24-hour window is closed (the contact last wrote more than 24 hours ago): "
                                             "free text cannot be sent, choose a template");
    }
    std::string userId;
    if (e164.empty()) {
        // A contact with a username may be known only by its business-scoped user id: it is
        // answered at that id (the Cloud API's `recipient`), which only a provider that can use it takes.
        NullableText phone, bsuid;
        Poco::Int64 id = conversationId;
        session << "SELECT k.phone_e164, k.user_id FROM whatsapp_conversations c JOIN whatsapp_contacts k ON k.id = c.contact_id "
                   "WHERE c.id = $1",
            use(id), into(phone), into(bsuid), now;
        if (phone.isNull() && bsuid.isNull())
            return invalid("conversation_id", "conversation " + std::to_string(conversationId) + " has no phone number and no user id");
        if (!phone.isNull()) e164 = phone.value();
        else userId = bsuid.value();
    }

    std::string payload = contentJson(request, e164, userId);
    NullableText context = orNull(request.replyToWamid);
    NullableInt createdBy;
    if (request.actor.kind == "user" && request.actor.id > 0) createdBy = request.actor.id;
    Poco::Int64 at = nowMs;
    std::vector<Poco::Int64> inserted;
    Poco::Data::Statement insert(session);
    // The unique index on idempotency_key decides a race between two senders with one key.
    insert << "INSERT INTO whatsapp_messages (conversation_id, direction, type, body, payload, status, context_wa_message_id, "
              "idempotency_key, created_by_user_id, created_at, updated_at) "
              "VALUES ($1, 'out', $2, $3, $4, 'queued', $5, $6, $7, $8, $8) "
              "ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id",
        use(conversationId), use(type), use(body), use(payload), use(context), use(key), use(createdBy), use(at), into(inserted);
    insert.execute();
    if (inserted.empty()) {
        transaction.rollback();
        return answerEarlierUse(earlierUse().value_or(sdk::SendStatus::Duplicate));
    }
    receipt.messageId = inserted.front();
    session << "UPDATE whatsapp_conversations SET last_message_at = CASE WHEN last_message_at < $1 THEN $1 ELSE last_message_at END, "
               "updated_at = $1 WHERE id = $2",
        use(at), use(conversationId), now;
    Object job;
    job.set("message_id", receipt.messageId);
    jobs_.enqueue(session, sdk::kSendMessageJob, sdk::jsonString(job), {});
    transaction.commit();
    jobs_.wake();
    log().information("message " + std::to_string(receipt.messageId) + " queued (" + type + ", conversation " +
                      std::to_string(conversationId) + ", by " + request.actor.kind + ")");
    publishAfterCommit({{"message.queued", eventJson(conversationId, receipt.messageId, {{"status", "queued"}})}});
    return answer(sdk::SendStatus::Accepted, "", "queued");
}

std::unique_ptr<Dispatcher::Kept> Dispatcher::takeKept() {
    {
        std::lock_guard lock(keptMutex_);
        if (!kept_.empty()) {
            auto kept = std::move(kept_.back());
            kept_.pop_back();
            return kept;
        }
    }
    return std::make_unique<Kept>(database_);
}

void Dispatcher::runJob(const sdk::Job& job) {
    std::unique_ptr<Kept> kept = takeKept();
    const auto giveBack = [&] {
        std::lock_guard lock(keptMutex_);
        kept_.push_back(std::move(kept));
    };
    try {
        runJob(job, *kept);
    } catch (const sdk::RetryJobLater&) {
        giveBack();
        throw;
    } catch (const sdk::PermanentJobFailure&) {
        giveBack();
        throw;
    }
    // Any other exception (a database error) drops the connection with its statements.
    giveBack();
}

void Dispatcher::runJob(const sdk::Job& job, Kept& kept) {
    std::int64_t messageId = 0;
    try {
        messageId = Poco::JSON::Parser().parse(job.payload).extract<Object::Ptr>()->getValue<Poco::Int64>("message_id");
    } catch (const Poco::Exception& error) {
        throw sdk::PermanentJobFailure("send_message job without message_id: " + error.displayText());
    }
    Poco::Data::Session& session = kept.session;
    Poco::Int64 id = messageId;
    if (!kept.loadMessage(messageId)) throw sdk::PermanentJobFailure("outbound message " + std::to_string(messageId) + " does not exist");
    const std::string status = kept.status, payload = kept.payload;
    const NullableText context = kept.context, key = kept.key, phone = kept.phone, waId = kept.waId, userId = kept.userId;
    const Poco::Int64 conversationId = kept.conversationId;
    const NullableInt lastInbound = kept.lastInbound;
    // At least once: a job that runs again after its message was handed over does nothing.
    if (status != "queued" || !kept.wamidDone.isNull() || !kept.providerDone.isNull()) return;
    {
        std::lock_guard lock(inFlightMutex_);
        if (!inFlight_.insert(messageId).second)
            throw sdk::RetryJobLater("message " + std::to_string(messageId) + " is being sent by another worker",
                                     std::chrono::milliseconds(5000));
    }
    struct Release {
        Dispatcher& d;
        std::int64_t id;
        ~Release() {
            std::lock_guard lock(d.inFlightMutex_);
            d.inFlight_.erase(id);
        }
    } release{*this, messageId};

    sdk::OutboundMessage message;
    message.messageId = messageId;
    message.conversationId = conversationId;
    message.toE164 = phone.isNull() ? "" : phone.value();
    message.waId = waId.isNull() ? "" : waId.value();
    message.userId = userId.isNull() ? "" : userId.value();
    message.replyToWamid = context.isNull() ? "" : context.value();
    message.idempotencyKey = key.isNull() ? "" : key.value();
    try {
        readContent(payload, message);
    } catch (const Poco::Exception& error) {
        throw sdk::PermanentJobFailure("message " + std::to_string(messageId) + " has an unreadable payload: " + error.displayText());
    }
    message.windowOpen = !lastInbound.isNull() && clock_.nowMillis() - lastInbound.value() < kWindowMillis;

    // A provider that passed this message on does not get it back; one that asked to retry does.
    std::set<std::string> passed;
    std::map<std::string, int> tries;
    if (job.attempts > 1) {  // a first attempt has no history to read
        std::vector<std::string> providers, outcomes;
        session << "SELECT provider, outcome FROM whatsapp_message_attempts WHERE message_id = $1", use(id), into(providers),
            into(outcomes), now;
        for (std::size_t i = 0; i < providers.size(); ++i) {
            ++tries[providers[i]];
            if (outcomes[i] == "refused" || outcomes[i] == "unavailable") passed.insert(providers[i]);
        }
    }

    auto& durations = metrics_.histogram("tawasul_outbound_attempt_duration_seconds", "Time of one provider call",
                                         {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
    auto count = [&](const std::string& provider, const std::string& outcome) {
        metrics_.counter("tawasul_outbound_sends_total{provider=\"" + provider + "\",outcome=\"" + outcome + "\"}",
                         "Provider attempts, by provider and outcome")
            .increment();
    };
    auto commitAttempt = [&](const AttemptRow& row) {
        // Relaxed, like the queue's own bookkeeping: a crash of the machine loses at most this
        // record and the job runs again.
        sdk::Transaction transaction(database_, session, kept.relaxed());
        kept.recordAttempt(row, clock_.nowMillis());
        transaction.commit();
        count(row.provider, row.outcome);
    };
    auto nextAfter = [&](std::size_t index) -> std::string {
        for (std::size_t j = index + 1; j < chain_.size(); ++j)
            if (!passed.count(chain_[j])) return chain_[j];
        return "";
    };
    // `cause` is the attempt whose error the message keeps (code and title, shown on the
    // timeline): the last attempt itself, or the refusal that best says why nobody sent it.
    auto failMessage = [&](const AttemptRow* row, const std::string& reason, const AttemptRow* cause) {
        sdk::Transaction transaction(database_, session, kept.relaxed());
        const std::int64_t at = clock_.nowMillis();
        if (row) kept.recordAttempt(*row, at);
        Poco::Nullable<int> code;
        if (cause && cause->errorCode) code = cause->errorCode;
        NullableText title = orNull(cause ? cause->errorTitle.substr(0, 500) : ""), details = orNull(reason);
        Poco::Int64 when = at;
        session << "UPDATE whatsapp_messages SET status = 'failed', error_code = $1, error_title = $2, error_details = $3, "
                   "failed_at = $4, updated_at = $4 WHERE id = $5 AND status = 'queued'",
            use(code), use(title), use(details), use(when), use(id), now;
        transaction.commit();
        if (row) count(row->provider, row->outcome);
        log().error("message " + std::to_string(messageId) + " failed: " + reason);
        publishAfterCommit({{"message.status", eventJson(conversationId, messageId, {{"status", "failed"}})}});
    };

    std::string lastReason = "the dispatch chain is empty";
    // Why the message failed when every provider passed it on: the first refusal with the
    // network's error code (Meta's 132000 says more than the outbox's "template variables"),
    // else the first with a title. Without it the message kept no code and no title at all.
    std::optional<AttemptRow> refusal;
    auto keepRefusal = [&refusal](const AttemptRow& row) {
        const bool says = row.errorCode || !row.errorTitle.empty();
        if (!refusal) {
            if (says) refusal = row;
        } else if (!refusal->errorCode && row.errorCode) {
            refusal = row;
        }
    };
    for (std::size_t index = 0; index < chain_.size(); ++index) {
        const std::string& name = chain_[index];
        if (passed.count(name)) continue;
        AttemptRow row;
        row.provider = name;
        row.attempt = tries[name] + 1;
        const std::string next = nextAfter(index);
        const std::string handedTo = next.empty() ? "no provider left in the chain" : "handed to " + next;
        const auto instance = provider(name);
        if (!instance) {
            row.outcome = "unavailable";
            row.note = name + " is not running, " + handedTo;
            commitAttempt(row);
            lastReason = row.note;
            passed.insert(name);
            continue;
        }
        if (instance->enforcesWindow() && message.kind == sdk::ContentKind::Text && !message.windowOpen) {
            row.outcome = "refused";
            row.errorTitle = "24-hour window closed";
            row.note = name + " cannot send free text outside the 24-hour window, " + handedTo;
            commitAttempt(row);
            lastReason = row.note;
            passed.insert(name);
            continue;
        }
        message.attempt = row.attempt;
        sdk::SendResult result;
        const auto started = std::chrono::steady_clock::now();
        try {
            result = instance->send(message);
        } catch (const std::exception& error) {
            result = {};
            result.outcome = sdk::SendOutcome::RetryLater;
            result.errorDetails = name + " threw: " + sdk::errorText(error);
        }
        const auto elapsed = std::chrono::steady_clock::now() - started;
        durations.observe(std::chrono::duration<double>(elapsed).count());
        row.durationMs = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
        row.outcome = outcomeWord(result.outcome);
        row.httpStatus = result.httpStatus;
        row.errorCode = result.errorCode;
        row.errorTitle = result.errorTitle;
        row.errorDetails = result.errorDetails;
        row.note = result.note;
        const std::string what = name + (result.errorCode ? " " + std::to_string(result.errorCode) : std::string()) +
                                 (result.errorTitle.empty() ? "" : " (" + result.errorTitle + ")");

        switch (result.outcome) {
            case sdk::SendOutcome::Sent: {
                std::vector<std::pair<std::string, std::string>> events;
                {
                    sdk::Transaction transaction(database_, session, kept.relaxed());
                    // First: a status for this wamid being stored now is then seen below, or sees ours.
                    kept.lockWamid(result.providerMessageId);
                    const std::int64_t at = clock_.nowMillis();
                    const std::string& wamid = result.providerMessageId;
                    // Statuses that arrived before the wamid was known are read with it, and
                    // applied now by the inbound router's rule (forward only, failed apart).
                    kept.storeSent(row, wamid, at);
                    events.push_back({"message.sent", eventJson(conversationId, messageId,
                                                                {{"wa_message_id", wamid}, {"provider", name}, {"status", "sent"}})});
                    const std::vector<std::string>& words = kept.earlyStatuses;
                    const std::vector<NullableInt>& codes = kept.earlyCodes;
                    const std::vector<NullableText>& titles = kept.earlyTitles;
                    const std::vector<NullableText>& details = kept.earlyDetails;
                    const std::vector<Poco::Int64>& occurred = kept.earlyAt;
                    for (std::size_t i = 0; i < words.size(); ++i) {
                        sdk::StatusChange change;
                        change.waMessageId = wamid;
                        change.status = words[i];
                        if (!codes[i].isNull()) change.errorCode = codes[i].value();
                        if (!titles[i].isNull()) change.errorTitle = titles[i].value();
                        if (!details[i].isNull()) change.errorDetails = details[i].value();
                        change.occurredAt = occurred[i];
                        if (sdk::applyMessageStatus(session, change, at))
                            events.push_back({"message.status", eventJson(conversationId, messageId,
                                                                          {{"wa_message_id", wamid}, {"status", words[i]}})});
                    }
                    transaction.commit();
                }
                count(name, "sent");
                log().information("message " + std::to_string(messageId) + " sent by " + name + " as " + result.providerMessageId +
                                  " (attempt " + std::to_string(row.attempt) + ", " + std::to_string(row.durationMs) + " ms)");
                publishAfterCommit(events);
                return;
            }
            case sdk::SendOutcome::Queued: {
                {
                    sdk::Transaction transaction(database_, session, kept.relaxed());
                    const std::int64_t at = clock_.nowMillis();
                    kept.recordAttempt(row, at);
                    std::string providerName = name;
                    Poco::Int64 when = at;
                    session << "UPDATE whatsapp_messages SET provider = $1, updated_at = $2 WHERE id = $3", use(providerName),
                        use(when), use(id), now;
                    transaction.commit();
                }
                count(name, "queued");
                log().information("message " + std::to_string(messageId) + " handed to " + name + ": " + result.note);
                publishAfterCommit({{"message.status",
                                     eventJson(conversationId, messageId, {{"status", "queued"}, {"provider", name}, {"note", result.note}})}});
                return;
            }
            case sdk::SendOutcome::RetryLater: {
                const std::string reason = what + " asked to retry: " + (result.errorDetails.empty() ? result.note : result.errorDetails);
                if (job.attempts >= job.maxAttempts) {
                    row.outcome = "failed";
                    failMessage(&row, reason + " (gave up after " + std::to_string(job.attempts) + " attempts)", &row);
                    return;
                }
                commitAttempt(row);
                throw sdk::RetryJobLater(reason, result.retryAfter);
            }
            case sdk::SendOutcome::Refused:
            case sdk::SendOutcome::Unavailable: {
                row.note = (result.outcome == sdk::SendOutcome::Refused ? what + " refused" : what + " unavailable") +
                           (result.note.empty() ? "" : " (" + result.note + ")") + ", " + handedTo;
                commitAttempt(row);
                log().warning("message " + std::to_string(messageId) + ": " + row.note +
                              (result.errorDetails.empty() ? "" : ": " + result.errorDetails));
                lastReason = row.note + (result.errorDetails.empty() ? "" : ": " + result.errorDetails);
                keepRefusal(row);
                passed.insert(name);
                continue;
            }
        }
    }
    failMessage(nullptr, "no provider accepted the message: " + lastReason, refusal ? &*refusal : nullptr);
    throw sdk::PermanentJobFailure("no provider accepted message " + std::to_string(messageId) + ": " + lastReason);
}

// The conversation's latest inbound message that Meta named: what a read (or typing) call is about.
std::optional<std::string> Dispatcher::latestInboundWamid(std::int64_t conversationId) {
    Poco::Data::Session session = database_.session();
    Poco::Int64 id = conversationId;
    std::vector<std::string> wamids;
    session << "SELECT wa_message_id FROM whatsapp_messages WHERE conversation_id = $1 AND direction = 'in' AND "
               "wa_message_id IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT 1",
        use(id), into(wamids), now;
    if (wamids.empty()) return std::nullopt;
    return wamids.front();
}

bool Dispatcher::markRead(std::int64_t conversationId) {
    const std::optional<std::string> wamid = latestInboundWamid(conversationId);
    if (!wamid) return false;
    for (const std::string& name : chain_) {
        const auto instance = provider(name);
        if (!instance) continue;
        try {
            if (instance->markRead(*wamid)) return true;
        } catch (const std::exception& error) {
            log().warning("mark-read through " + name + " failed: " + sdk::errorText(error));
        }
    }
    return false;
}

bool Dispatcher::showTyping(std::int64_t conversationId) {
    const std::optional<std::string> wamid = latestInboundWamid(conversationId);
    if (!wamid) return false;
    for (const std::string& name : chain_) {
        // Optional beside the MessageProvider (ABI 2.8): a provider that does not publish it is passed.
        const auto typing = std::static_pointer_cast<sdk::TypingIndicator>(services_.find(typeid(sdk::TypingIndicator).name(), name));
        if (!typing) continue;
        try {
            if (typing->showTyping(*wamid)) return true;
        } catch (const std::exception& error) {
            log().warning("typing indicator through " + name + " failed: " + sdk::errorText(error));
        }
    }
    return false;
}

sdk::SendReceipt Dispatcher::retry(std::int64_t messageId, const sdk::Actor& actor) {
    sdk::SendReceipt receipt;
    receipt.messageId = messageId;
    Poco::Data::Session session = database_.session();
    Poco::Int64 id = messageId;
    Poco::Int64 at = clock_.nowMillis();
    sdk::Transaction transaction(database_, session, sdk::Durability::Full);
    std::vector<Poco::Int64> conversations;
    session << "SELECT conversation_id FROM whatsapp_messages WHERE id = $1 AND direction = 'out'", use(id), into(conversations), now;
    if (conversations.empty()) {
        receipt.status = sdk::SendStatus::InvalidRequest;
        receipt.field = "message_id";
        receipt.message = "outbound message " + std::to_string(messageId) + " does not exist";
        return receipt;
    }
    receipt.conversationId = conversations.front();
    // The one conditional update decides between two clicks (or two hosts): the second finds the
    // message queued already and queues nothing. A wamid of a send Meta accepted and then failed
    // (131026 in a status) goes with the error: the new send gets its own.
    std::vector<Poco::Int64> requeued;
    Poco::Data::Statement update(session);
    update << "UPDATE whatsapp_messages SET status = 'queued', wa_message_id = NULL, provider = NULL, error_code = NULL, "
              "error_title = NULL, error_details = NULL, failed_at = NULL, updated_at = $1 "
              "WHERE id = $2 AND direction = 'out' AND status = 'failed' RETURNING id",
        use(at), use(id), into(requeued);
    update.execute();
    if (requeued.empty()) {
        transaction.rollback();
        receipt.status = sdk::SendStatus::Duplicate;
        receipt.message = "the message is not failed (retried already?)";
        return receipt;
    }
    Object job;
    job.set("message_id", messageId);
    jobs_.enqueue(session, sdk::kSendMessageJob, sdk::jsonString(job), {});
    transaction.commit();
    jobs_.wake();
    log().information("message " + std::to_string(messageId) + " queued again (retry, by " + actor.kind +
                      (actor.id ? " " + std::to_string(actor.id) : std::string()) + ")");
    publishAfterCommit({{"message.queued", eventJson(receipt.conversationId, messageId, {{"status", "queued"}, {"retry", "1"}})}});
    receipt.status = sdk::SendStatus::Accepted;
    receipt.message = "queued";
    return receipt;
}

std::vector<std::pair<std::string, sdk::ProviderHealth>> Dispatcher::chainHealth() const {
    std::vector<std::pair<std::string, sdk::ProviderHealth>> health;
    for (const std::string& name : chain_) {
        const auto instance = provider(name);
        if (instance)
            health.emplace_back(name, instance->health());
        else
            health.emplace_back(name, sdk::ProviderHealth{sdk::ProviderState::Disabled, name + " is not running"});
    }
    return health;
}

void Dispatcher::onAutoReply(const std::string& json) {
    sdk::SendRequest request;
    std::string trigger;
    try {
        const auto event = Poco::JSON::Parser().parse(json).extract<Object::Ptr>();
        request.conversationId = event->getValue<Poco::Int64>("conversation_id");
        request.kind = sdk::ContentKind::Template;
        request.templ.name = text(*event, "template");
        request.templ.language = text(*event, "language");
        trigger = event->has("message_id") ? std::to_string(event->getValue<Poco::Int64>("message_id"))
                                           : "conversation-" + std::to_string(request.conversationId);
    } catch (const Poco::Exception& error) {
        log().error("auto_reply.requested without a usable body: " + error.displayText());
        return;
    }
    // One reply per triggering message, however often the event is produced for it.
    request.idempotencyKey = "auto_reply:" + trigger + ":" + request.templ.name + ":" + request.templ.language;
    request.actor = {"system", 0, "auto_reply"};
    const sdk::SendReceipt receipt = send(request);
    if (receipt.status == sdk::SendStatus::Accepted)
        log().information("auto-reply " + request.templ.name + " queued as message " + std::to_string(receipt.messageId));
    else if (receipt.status != sdk::SendStatus::Duplicate)
        log().warning("auto-reply " + request.templ.name + " for conversation " + std::to_string(request.conversationId) +
                      " not sent: " + receipt.message);
}

}  // namespace tawasul::host
