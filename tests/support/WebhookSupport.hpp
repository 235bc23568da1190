#pragma once
// What every test that plays Meta needs: the fixture secret, the fixtures, signed posts, and a wait
// for the workers to catch up.
#include <memory>
#include <string>

#include "HostProcess.hpp"
#include "SqlDatabase.hpp"

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
// The single value of a one-row, one-column query, as text ("" for NULL).
std::string queryText(sdk::Database& db, const std::string& sql);
// Every row of a query, each row's columns joined with '|', rows joined with '\n'.
std::string queryRows(sdk::Database& db, const std::string& sql);

}  // namespace tawasul::test
