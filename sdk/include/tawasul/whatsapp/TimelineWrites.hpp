#pragma once
// Timeline writes that both directions need, in one place: the inbound router (webhooks) and the
// host's dispatcher (sends) open conversations and apply message statuses by the same rules.
// Every function runs in the caller's session (and so its open transaction).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>

#include "tawasul/sdk/Api.hpp"
#include "tawasul/sdk/PreparedSession.hpp"
#include "tawasul/sdk/SqlDialect.hpp"

namespace tawasul::sdk {

// Meta's status words in order; a status only moves forward along this (failed is apart): 1 sent,
// 2 delivered, 3 read, 0 for anything else (queued, received, unknown words).
TAWASUL_SDK_API int statusRank(const std::string& status);

struct StatusChange {
    std::string waMessageId;
    std::string status;  // as Meta sent it: sent, delivered, read, failed, ...
    std::optional<std::int64_t> errorCode;
    std::optional<std::string> errorTitle;
    std::optional<std::string> errorDetails;
    std::int64_t occurredAt = 0;  // ms
};

// Applies one status to the outbound message with this wamid, if it is stored: statuses only move
// forward (sent < delivered < read); failed is recorded whatever came before, except after read.
// Returns the conversation id when the message changed.
TAWASUL_SDK_API std::optional<std::int64_t> applyMessageStatus(Poco::Data::Session& session, const StatusChange& change,
                                                               std::int64_t nowMillis);

// On PostgreSQL, serialises the transactions that meet these wamids: the one that stores a sent
// message's wamid and then applies the statuses that came first, and the one that stores a status
// and then applies it to the message. Without it each could miss the other's uncommitted row and
// the status would never be applied. Call it first in the transaction, before any row is locked,
// with every wamid the transaction will touch (sorted and locked in that order, one statement, so
// two such transactions cannot deadlock). Transaction-scoped advisory locks, keyed (1414,
// hashtext(wamid)) (the host's dispatcher takes the same key for a send's one wamid with a
// statement it keeps prepared); nothing on SQLite, which has one writer (`sql.singleWriter()`).
TAWASUL_SDK_API void lockWamids(Poco::Data::Session& session, const SqlDialect& sql, std::vector<std::string> wamids);
// The same on a PreparedSession, its statement prepared once.
TAWASUL_SDK_API void lockWamids(PreparedSession& db, const SqlDialect& sql, std::vector<std::string> wamids);

// The contact's conversation that is not resolved; a resolved one is reopened (one timeline per
// person), and a first one is created. `reopened` tells the caller which happened.
TAWASUL_SDK_API std::int64_t openConversation(Poco::Data::Session& session, std::int64_t contactId, std::int64_t at,
                                              std::int64_t nowMillis, bool& reopened);

}  // namespace tawasul::sdk
