#include "OutboundSupport.hpp"

#include <chrono>
#include <thread>

#include <cppunit/TestAssert.h>
#include <Poco/JSON/Parser.h>

#include "whatsapp/MetaPayloads.hpp"
#include "WebhookSupport.hpp"

namespace tawasul::test {

HostOptions outboundHost(const FakeGraphApi& fake, const std::string& cloudExtra) {
    HostOptions options = withWebhookSecrets();
    options.pluginDir = TAWASUL_TEST_PLUGIN_DIR;
    options.pluginsYaml =
        "    - webhook_receiver: {}\n    - contact_matcher: {}\n"
        "    - inbound_router: { keywords: [ { intent: prices, keywords: { fr: [tarif] }, actions: [ { auto_reply: { template: tarifs, language: fr } } ] } ] }\n"
        "    - cloud_api: { graph_url: \"" + fake.url() + "\", api_version: v21.0, messages_per_second: 1000, timeout_ms: 1000" +
        cloudExtra + " }\n"
        "    - outbox: {}\n    - outbound_probe: {}\n";
    options.extraYaml = "dispatch:\n  chain: [cloud_api, outbox]\n";
    options.settings.emplace_back("whatsapp.cloud.access_token", kGraphToken);
    options.settings.emplace_back("whatsapp.cloud.phone_number_id", kGraphPhoneNumberId);
    return options;
}

std::int64_t nowSeconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::int64_t customerWrites(const HostProcess& host, sdk::Database& db, const std::string& wamid, std::int64_t secondsAgo,
                            const std::string& text) {
    host::InboundText message;
    message.from = kCustomerWaId;
    message.name = "Amina";
    message.wamid = wamid;
    message.timestamp = nowSeconds() - secondsAgo;
    message.text = text;
    const auto response = postSigned(host, host::inboundTextBody(message));
    if (response.status != 200) throw std::runtime_error("webhook answered " + std::to_string(response.status));
    waitForProcessing(db);
    return std::stoll(queryText(db, "SELECT conversation_id FROM whatsapp_messages WHERE wa_message_id = '" + wamid + "'"));
}

Poco::JSON::Object::Ptr sendThroughProbe(const HostProcess& host, const std::string& json) {
    const auto response = host.request("POST", "/test/send", json);
    if (response.status != 200) throw std::runtime_error("/test/send answered " + std::to_string(response.status) + ": " + response.body);
    return Poco::JSON::Parser().parse(response.body).extract<Poco::JSON::Object::Ptr>();
}

void waitForRows(sdk::Database& db, const std::string& sql, const std::string& expected, int seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
        last = queryRows(db, sql);
        if (last == expected) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    CPPUNIT_ASSERT_EQUAL_MESSAGE(sql, expected, last);
}

std::string attemptRows(sdk::Database& db, std::int64_t messageId) {
    return queryRows(db, "SELECT provider, attempt, outcome, COALESCE(http_status, 0), COALESCE(error_code, 0) FROM "
                         "whatsapp_message_attempts WHERE message_id = " + std::to_string(messageId) + " ORDER BY id");
}

}  // namespace tawasul::test
