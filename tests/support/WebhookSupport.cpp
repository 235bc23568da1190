#include "WebhookSupport.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Session.h>

#include "MetaPayloads.hpp"

namespace tawasul::test {

using namespace Poco::Data::Keywords;

HostOptions withWebhookSecrets(HostOptions options) {
    options.settings.emplace_back("whatsapp.cloud.app_secret", kFixtureSecret);
    options.settings.emplace_back("whatsapp.webhook.verify_token", "verify-me");
    return options;
}

std::unique_ptr<host::SqlDatabase> openDatabase(const std::string& url) {
    host::DatabaseOptions options;
    options.url = url;
    return std::make_unique<host::SqlDatabase>(options);
}

void waitForProcessing(sdk::Database& db) {
    waitUntil([&] { return queryText(db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status IN ('pending', 'processing')") == "0"; },
              "webhook events were not processed");
}

std::string fixture(const std::string& name) { return readFile(std::string(TAWASUL_FIXTURES_DIR) + "/" + name); }

std::string fixtureSignature(const std::string& name) {
    std::string sig = fixture(name + ".sig");
    while (!sig.empty() && (sig.back() == '\n' || sig.back() == '\r')) sig.pop_back();
    return sig;
}

std::vector<std::string> fixtureNames() {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(TAWASUL_FIXTURES_DIR))
        if (entry.path().extension() == ".json") names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

HttpResult postWebhook(const HostProcess& host, const std::string& body, const std::string& signature) {
    return host.request("POST", kWebhookPath, body, {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", signature}});
}

HttpResult postSigned(const HostProcess& host, const std::string& body) {
    return postWebhook(host, body, host::signBody(body, kFixtureSecret));
}

int postConcurrentSenders(const std::vector<const HostProcess*>& hosts, int senders, int perSender, const std::string& wamidPrefix) {
    std::atomic<int> failures{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
        clients.emplace_back([&, c] {
            const HostProcess& host = *hosts[static_cast<std::size_t>(c) % hosts.size()];
            for (int i = c; i < senders * perSender; i += 8) {
                host::InboundText message;
                message.from = "2135" + std::to_string(50000000 + i % senders);
                message.name = "Sender " + std::to_string(i % senders);
                message.wamid = wamidPrefix + std::to_string(i);
                message.timestamp = 1764065000 + i;
                message.text = i % 7 == 0 ? "un devis svp" : "message " + std::to_string(i);
                if (postSigned(host, host::inboundTextBody(message)).status != 200) ++failures;
            }
        });
    }
    for (auto& client : clients) client.join();
    return failures.load();
}

std::string queryRows(sdk::Database& db, const std::string& sql) {
    Poco::Data::Session session = db.session();
    Poco::Data::Statement select(session);
    select << sql;
    select.execute();
    Poco::Data::RecordSet rows(select);
    std::string out;
    for (std::size_t r = 0; r < rows.rowCount(); ++r) {
        if (r) out += "\n";
        for (std::size_t c = 0; c < rows.columnCount(); ++c) {
            if (c) out += "|";
            if (!rows.value(c, r).isEmpty()) out += rows.value(c, r).convert<std::string>();
        }
    }
    return out;
}

std::string queryText(sdk::Database& db, const std::string& sql) { return queryRows(db, sql); }

}  // namespace tawasul::test
