#pragma once
// What every test that plays Meta needs: the fixture secret, the fixtures, signed posts, and a wait
// for the workers to catch up.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "HostProcess.hpp"
#include "db/SqlDatabase.hpp"

namespace tawasul::test {

inline const std::string kFixtureSecret = "fixture-app-secret";  // signs ../shared/fixtures/meta
inline const std::string kWebhookPath = "/webhooks/whatsapp";

// Host options with the fixture app secret and the verify token "verify-me" set before serving.
HostOptions withWebhookSecrets(HostOptions options = {});
std::unique_ptr<host::SqlDatabase> openDatabase(const std::string& url);
// Waits until no webhook event is pending or processing; throws after 60 s.
void waitForProcessing(sdk::Database& db);
std::string fixture(const std::string& name);           // the exact bytes of a fixture body
std::string fixtureSignature(const std::string& name);  // its X-Hub-Signature-256 value
std::vector<std::string> fixtureNames();                // every NAME.json, sorted
HttpResult postWebhook(const HostProcess& host, const std::string& body, const std::string& signature);
// Signs with kFixtureSecret and posts.
HttpResult postSigned(const HostProcess& host, const std::string& body);
// Posts senders × perSender signed inbound texts from 8 client threads, spread over `hosts` in
// turn; every 7th text asks for a quote ("un devis svp"). Returns how many were not answered 200.
int postConcurrentSenders(const std::vector<const HostProcess*>& hosts, int senders, int perSender, const std::string& wamidPrefix);
// Posts signed inbound texts from 8 client threads through `post` until 300 were sent, then ends
// the host: SIGKILL, or SIGTERM when `graceful` (which must then exit 0). Returns the body of
// every event answered 200, by the id the answer gave.
std::map<std::int64_t, std::string> acknowledgedBeforeTheEnd(HostProcess& host,
                                                             const std::function<HttpResult(const std::string& body)>& post,
                                                             bool graceful);
// Restarts the host on the same database and checks that every acknowledged event is stored
// byte for byte and processed, each by one job.
void assertStoredAndProcessedOnce(HostProcess& host, const std::map<std::int64_t, std::string>& acknowledged);
// The single value of a one-row, one-column query, as text ("" for NULL).
std::string queryText(sdk::Database& db, const std::string& sql);
// Every row of a query, each row's columns joined with '|', rows joined with '\n'.
std::string queryRows(sdk::Database& db, const std::string& sql);

}  // namespace tawasul::test
