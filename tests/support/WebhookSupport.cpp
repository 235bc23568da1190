#include "WebhookSupport.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <mutex>
#include <thread>

#include <Poco/Data/LOB.h>

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Session.h>

#include "tawasul/whatsapp/Webhooks.hpp"
#include "whatsapp/MetaPayloads.hpp"

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
    try {
        waitUntil([&] { return queryText(db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status IN ('pending', 'processing')") == "0"; },
                  "webhook events were not processed");
    } catch (const std::exception& error) {
        // Which events, how often tried and why they failed: what the next person needs to know.
        throw std::runtime_error(std::string(error.what()) + "; unfinished (id|status|attempts|last error):\n" +
                                 queryRows(db, "SELECT id, status, attempts, last_error FROM whatsapp_webhook_events "
                                               "WHERE status IN ('pending', 'processing') ORDER BY id LIMIT 10"));
    }
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

std::map<std::int64_t, std::string> acknowledgedBeforeTheEnd(HostProcess& host,
                                                             const std::function<HttpResult(const std::string& body)>& post,
                                                             bool graceful) {
    std::mutex mutex;
    std::map<std::int64_t, std::string> acknowledged;
    std::atomic<bool> stop{false};
    std::atomic<int> sent{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
        clients.emplace_back([&, c] {
            for (int i = 0; !stop && i < 100000; ++i) {
                host::InboundText message;
                message.from = "21366" + std::to_string(1000000 + c);
                message.name = "Client " + std::to_string(c);
                message.wamid = "wamid.KILL" + std::to_string(c) + "x" + std::to_string(i);
                message.timestamp = 1764064860 + i;
                message.text = "message " + std::to_string(i);
                const std::string body = host::inboundTextBody(message);
                try {
                    const auto response = post(body);
                    ++sent;
                    if (response.status == 200) {
                        std::lock_guard lock(mutex);
                        acknowledged[std::stoll(response.headers.at("x-tawasul-event-id"))] = body;
                    }
                } catch (const std::exception&) {
                    return;  // the host is gone
                }
            }
        });
    }
    while (sent < 300) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    int exitStatus = 0;
    if (graceful) exitStatus = host.stop();
    else host.kill();
    stop = true;
    for (auto& client : clients) client.join();
    if (exitStatus != 0) throw std::runtime_error("the host exited " + std::to_string(exitStatus) + " on SIGTERM:\n" + host.log());
    if (acknowledged.size() < 300) throw std::runtime_error("only " + std::to_string(acknowledged.size()) + " events were acknowledged");
    return acknowledged;
}

void assertStoredAndProcessedOnce(HostProcess& host, const std::map<std::int64_t, std::string>& acknowledged) {
    host.start();  // same database, same key; migrate is a no-op
    auto db = openDatabase(host.databaseUrl());
    for (const auto& [id, body] : acknowledged) {
        Poco::Data::Session session = db->session();
        Poco::Data::BLOB payload;
        std::int64_t eventId = id;
        session << "SELECT payload FROM whatsapp_webhook_events WHERE id = $1", use(eventId), into(payload), now;
        const std::string stored(reinterpret_cast<const char*>(payload.rawContent()), payload.size());
        if (stored != body) throw std::runtime_error("acknowledged event " + std::to_string(id) + " is not stored as sent");
    }
    waitForProcessing(*db);
    const std::string notProcessed = queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status <> 'processed'");
    // The event is its own queue entry (issue #13): no job row for it, and none still held.
    const std::string eventJobs = queryText(*db, "SELECT COUNT(*) FROM jobs WHERE type = 'process_webhook_event'");
    const std::string held = queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE locked_by IS NOT NULL");
    if (notProcessed != "0") throw std::runtime_error(notProcessed + " events are not processed");
    if (eventJobs != "0") throw std::runtime_error(eventJobs + " process_webhook_event rows in jobs");
    if (held != "0") throw std::runtime_error(held + " processed events still hold a lease");
}

HttpResult postWebhook(const HostProcess& host, const std::string& body, const std::string& signature) {
    return host.request("POST", kWebhookPath, body, {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", signature}});
}

HttpResult postSigned(const HostProcess& host, const std::string& body) {
    return postWebhook(host, body, sdk::webhookSignature(body, kFixtureSecret));
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
