#pragma once
// What the outbound suites share: a host wired to a fake Graph API with the outbound_probe test
// plugin, a customer who writes (opening the 24-hour window), sends, and waits on the database.
#include <cstdint>
#include <string>

#include <Poco/JSON/Object.h>

#include "FakeGraphApi.hpp"
#include "HostProcess.hpp"
#include "tawasul/sdk/Database.hpp"

namespace tawasul::test {

inline const std::string kGraphToken = "test-token-1";
inline const std::string kGraphPhoneNumberId = "100000000000001";
inline const std::string kCustomerWaId = "213555123456";

// Webhook secrets, the Cloud API token and phone number id, cloud_api pointed at `fake` (plus
// `cloudExtra`, e.g. ", messages_per_second: 80"), the chain [cloud_api, outbox], and outbound_probe.
HostOptions outboundHost(const FakeGraphApi& fake, const std::string& cloudExtra = "");
std::int64_t nowSeconds();
// The customer writes (at `secondsAgo`); returns the conversation id once processed.
std::int64_t customerWrites(const HostProcess& host, sdk::Database& db, const std::string& wamid, std::int64_t secondsAgo = 0,
                            const std::string& text = "Bonjour");
// POST /test/send: the dispatcher's receipt as JSON (status, message_id, conversation_id, field, message).
Poco::JSON::Object::Ptr sendThroughProbe(const HostProcess& host, const std::string& json);
// Waits until the query's rows are `expected`; a CppUnit failure with what it last gave.
void waitForRows(sdk::Database& db, const std::string& sql, const std::string& expected, int seconds = 30);
// The message's attempts: provider|attempt|outcome|http_status|error_code per line.
std::string attemptRows(sdk::Database& db, std::int64_t messageId);

}  // namespace tawasul::test
