#include "tawasul/whatsapp/TimelineWrites.hpp"

#include <algorithm>
#include <stdexcept>

#include <Poco/Nullable.h>

namespace tawasul::sdk {

using namespace Poco::Data::Keywords;

int statusRank(const std::string& status) {
    if (status == "sent") return 1;
    if (status == "delivered") return 2;
    if (status == "read") return 3;
    return 0;
}

namespace {

// The wamids as one text (Meta's ids have no newline), sorted and without repeats; "" for none.
std::string joinedWamids(std::vector<std::string> wamids) {
    std::sort(wamids.begin(), wamids.end());
    wamids.erase(std::unique(wamids.begin(), wamids.end()), wamids.end());
    std::string joined;
    for (const std::string& wamid : wamids)
        if (wamid.find('\n') == std::string::npos) joined += (joined.empty() ? "" : "\n") + wamid;
    return joined;
}

// One round trip for the batch: the wamids split and locked in the order of the lock keys
// themselves, so that two wamids sharing a hash cannot make two transactions take the same keys in
// different orders. 1414 keeps these keys apart from other advisory locks (migrate's).
const char* const kLockWamids =
    "SELECT COUNT(pg_advisory_xact_lock(1414, k)) FROM "
    "(SELECT DISTINCT hashtext(w) AS k FROM unnest(string_to_array($1, E'\\n')) AS w ORDER BY k) AS ordered";

}  // namespace

void lockWamids(Poco::Data::Session& session, const SqlDialect& sql, std::vector<std::string> wamids) {
    if (sql.singleWriter() || wamids.empty()) return;
    std::string joined = joinedWamids(std::move(wamids));
    Poco::Int64 locked = 0;
    session << kLockWamids, Poco::Data::Keywords::use(joined), Poco::Data::Keywords::into(locked), Poco::Data::Keywords::now;
}

void lockWamids(PreparedSession& db, const SqlDialect& sql, std::vector<std::string> wamids) {
    if (sql.singleWriter() || wamids.empty()) return;
    const std::string joined = joinedWamids(std::move(wamids));
    db.run(kLockWamids, {joined});
}

std::optional<std::int64_t> applyMessageStatus(Poco::Data::Session& session, const StatusChange& change, std::int64_t nowMillis) {
    std::string wamid = change.waMessageId;
    Poco::Int64 occurredAt = change.occurredAt, receivedAt = nowMillis;
    std::vector<Poco::Int64> updated;
    if (change.status == "failed") {
        Poco::Nullable<Poco::Int64> code;
        Poco::Nullable<std::string> title, details;
        if (change.errorCode) code = *change.errorCode;
        if (change.errorTitle) title = *change.errorTitle;
        if (change.errorDetails) details = *change.errorDetails;
        Poco::Data::Statement fail(session);
        fail << "UPDATE whatsapp_messages SET status = CASE WHEN status = 'read' THEN status ELSE 'failed' END, "
                "error_code = $1, error_title = $2, error_details = $3, failed_at = $4, updated_at = $5 "
                "WHERE wa_message_id = $6 AND direction = 'out' RETURNING conversation_id",
            use(code), use(title), use(details), use(occurredAt), use(receivedAt), use(wamid), into(updated);
        fail.execute();
    } else if (const int rank = statusRank(change.status); rank > 0) {
        std::string word = change.status;
        const std::string column = word + "_at";  // sent_at, delivered_at, read_at: from statusRank's words only
        Poco::Data::Statement forward(session);
        int newRank = rank;
        forward << "UPDATE whatsapp_messages SET status = $1, " + column + " = $2, updated_at = $3 "
                   "WHERE wa_message_id = $4 AND direction = 'out' AND status <> 'failed' AND "
                   "(CASE status WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE 0 END) < $5 "
                   "RETURNING conversation_id",
            use(word), use(occurredAt), use(receivedAt), use(wamid), use(newRank), into(updated);
        forward.execute();
    }
    if (updated.empty()) return std::nullopt;
    return updated.front();
}

std::int64_t openConversation(Poco::Data::Session& session, std::int64_t contactId, std::int64_t at, std::int64_t nowMillis,
                              bool& reopened) {
    reopened = false;
    Poco::Int64 contact = contactId, when = at, updatedAt = nowMillis;
    auto findOpen = [&]() -> std::optional<std::int64_t> {
        std::vector<Poco::Int64> ids;
        session << "SELECT id FROM whatsapp_conversations WHERE contact_id = $1 AND status <> 'resolved'", use(contact),
            into(ids), now;
        if (ids.empty()) return std::nullopt;
        return ids.front();
    };
    if (auto open = findOpen()) return *open;
    // A resolved conversation comes back to life: one timeline per person, not one per question.
    Poco::Data::Statement reopen(session);
    reopen << "UPDATE whatsapp_conversations SET status = 'open', resolved_at = NULL, updated_at = $1 "
              "WHERE id = (SELECT MAX(id) FROM whatsapp_conversations WHERE contact_id = $2) AND status = 'resolved'",
        use(updatedAt), use(contact);
    if (reopen.execute() > 0) {
        reopened = true;
        if (auto open = findOpen()) return *open;
    }
    session << "INSERT INTO whatsapp_conversations (contact_id, status, last_message_at, unread_count, created_at, updated_at) "
               "VALUES ($1, 'open', $2, 0, $3, $3) ON CONFLICT DO NOTHING",
        use(contact), use(when), use(updatedAt), now;
    if (auto open = findOpen()) return *open;
    throw std::runtime_error("no open conversation for contact " + std::to_string(contactId));
}

}  // namespace tawasul::sdk
