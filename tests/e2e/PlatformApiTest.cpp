// The platform API as the training platform calls it: the real binary, tokens made with
// `tawasul token create`, requests over HTTP. Sends through the dispatcher are covered with the
// fake Graph API in OutboundTest; here: tokens, refusals, validation and platform events.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "Assertions.hpp"
#include "tawasul/sdk/Crypto.hpp"
#include "FakeGraphApi.hpp"
#include "HostProcess.hpp"
#include "whatsapp/MetaPayloads.hpp"
#include "db/SqlDatabase.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul::test;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

Poco::JSON::Object::Ptr json(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

// The secret from `token create` output: its second line.
std::string createToken(const HostProcess& host, const std::string& name, const std::string& scopes) {
    const auto [status, output] = host.cli({"token", "create", "--name", name, "--scopes", scopes});
    if (status != 0) throw std::runtime_error("token create failed: " + output);
    const auto start = output.find('\n') + 1;
    return output.substr(start, output.find('\n', start) - start);
}

Headers bearer(const std::string& token, const std::string& idempotencyKey = "") {
    Headers headers{{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
    if (!idempotencyKey.empty()) headers.emplace_back("Idempotency-Key", idempotencyKey);
    return headers;
}

void assertError(const HttpResult& result, int status, const std::string& code, const std::string& field) {
    CPPUNIT_ASSERT_EQUAL_MESSAGE(result.body, status, result.status);
    const auto error = json(result.body)->getObject("error");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(result.body, code, error->getValue<std::string>("code"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(result.body, field, error->optValue<std::string>("field", ""));
    CPPUNIT_ASSERT_MESSAGE(result.body, !error->getValue<std::string>("message").empty());
}

// A host that sends through cloud_api to `fake`, with the outbox as the fallback.
HostOptions sendingHost(const FakeGraphApi& fake) {
    HostOptions options = withWebhookSecrets();
    options.pluginsYaml = "    - webhook_receiver: {}\n    - contact_matcher: {}\n    - inbound_router: {}\n"
                          "    - cloud_api: { graph_url: \"" + fake.url() + "\", api_version: v21.0, messages_per_second: 1000 }\n"
                          "    - outbox: {}\n";
    options.extraYaml = "dispatch:\n  chain: [cloud_api, outbox]\n";
    options.settings.emplace_back("whatsapp.cloud.access_token", "test-token");
    options.settings.emplace_back("whatsapp.cloud.phone_number_id", "100000000000001");
    return options;
}

// Amina writes now, which opens the 24-hour window; returns her conversation's id.
std::string aminaWrites(const HostProcess& host, tawasul::sdk::Database& db) {
    tawasul::host::InboundText message;
    message.from = "213555123456";
    message.name = "Amina";
    message.wamid = "wamid.API-IN-1";
    message.timestamp = std::time(nullptr);
    message.text = "Bonjour";
    CPPUNIT_ASSERT_EQUAL(200, postSigned(host, tawasul::host::inboundTextBody(message)).status);
    waitForProcessing(db);
    return queryText(db, "SELECT conversation_id FROM whatsapp_messages WHERE wa_message_id = 'wamid.API-IN-1'");
}

}  // namespace

class PlatformApiTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PlatformApiTest);
    CPPUNIT_TEST(tokenCommandRefusesMisuse);
    CPPUNIT_TEST(tokenIsShownOnceAndStoredHashed);
    CPPUNIT_TEST(refusesMissingUnknownRevokedAndUnderscopedTokens);
    CPPUNIT_TEST(eventIsStoredThenPublishedOnce);
    CPPUNIT_TEST(eventRequestsSentWrongAreRefusedAndWriteNothing);
    CPPUNIT_TEST(messageRequestsSentWrongAreRefusedBeforeSending);
    CPPUNIT_TEST(unknownMessageIsNotFound);
    CPPUNIT_TEST(sendsOncePerIdempotencyKeyAndReportsStatus);
    CPPUNIT_TEST(freeTextOutsideTheWindowIsRefusedBeforeAnyCall);
    CPPUNIT_TEST(eventStartsAFlowThatRendersIntoTheOutbox);
    CPPUNIT_TEST_SUITE_END();

public:
    void tokenCommandRefusesMisuse() {
        HostProcess host;
        host.start();
        const std::vector<std::vector<std::string>> misuses{
            {"token"},
            {"token", "mint"},
            {"token", "create", "--scopes", "events.write"},
            {"token", "create", "--name", "p"},
            {"token", "create", "--name", "p", "--scopes", "events.write,admin"},
            {"token", "create", "--name", "p", "--scopes", ""},
            {"token", "create", "--name", std::string(101, 'x'), "--scopes", "events.write"},
            {"token", "revoke"},
            {"token", "revoke", "abc"},
            {"token", "revoke", "-1"},
            {"token", "list", "extra"},
        };
        for (const auto& args : misuses) {
            const auto [status, output] = host.cli(args);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 2, status);
            CPPUNIT_ASSERT_MESSAGE(output, output.rfind("tawasul: ", 0) == 0);
        }
        const auto revoked = host.cli({"token", "revoke", "999"});
        CPPUNIT_ASSERT_EQUAL(1, revoked.first);
        CPPUNIT_ASSERT_EQUAL(std::string("tawasul: no active API token with id 999\n"), revoked.second);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*openDatabase(host.databaseUrl()), "SELECT COUNT(*) FROM api_tokens"));
    }

    void tokenIsShownOnceAndStoredHashed() {
        HostProcess host;
        host.start();
        const std::string secret = createToken(host, "platform", "messages.send,events.write,events.write");
        CPPUNIT_ASSERT_EQUAL(std::size_t(4 + 43), secret.size());  // "tws_" + 32 bytes in base64url
        const auto list = host.cli({"token", "list"});
        CPPUNIT_ASSERT_EQUAL(0, list.first);
        assertContains(list.second, "platform");
        assertContains(list.second, "messages.send events.write");
        assertLacks(list.second, secret);
        auto db = openDatabase(host.databaseUrl());
        CPPUNIT_ASSERT_EQUAL(tawasul::sdk::sha256Hex(secret), queryText(*db, "SELECT token_hash FROM api_tokens"));
        CPPUNIT_ASSERT_EQUAL(std::string("messages.send events.write"), queryText(*db, "SELECT scopes FROM api_tokens"));
    }

    void refusesMissingUnknownRevokedAndUnderscopedTokens() {
        HostProcess host;
        host.start();
        const std::string reader = createToken(host, "reader", "messages.read");
        const std::string body = R"({"type":"registration.confirmed","data":{"registration_id":1}})";

        auto missing = host.request("POST", "/api/v1/events", body);
        assertError(missing, 401, "unauthenticated", "");
        CPPUNIT_ASSERT_EQUAL(std::string("Bearer realm=\"tawasul\""), missing.headers["www-authenticate"]);
        assertError(host.request("POST", "/api/v1/events", body, {{"Authorization", "Basic dXNlcjpwYXNz"}}), 401, "invalid_token", "");
        assertError(host.request("POST", "/api/v1/events", body, bearer("tws_not-a-real-token")), 401, "invalid_token", "");
        assertError(host.request("POST", "/api/v1/events", body, bearer(reader.substr(0, reader.size() - 1))), 401, "invalid_token", "");

        auto underscoped = host.request("POST", "/api/v1/events", body, bearer(reader));
        assertError(underscoped, 403, "insufficient_scope", "");
        assertContains(underscoped.headers["www-authenticate"], "scope=\"events.write\"");

        const std::string writer = createToken(host, "writer", "events.write");
        CPPUNIT_ASSERT_EQUAL(202, host.request("POST", "/api/v1/events", body, bearer(writer)).status);
        const std::string writerId = queryText(*openDatabase(host.databaseUrl()), "SELECT id FROM api_tokens WHERE name = 'writer'");
        CPPUNIT_ASSERT_EQUAL(0, host.cli({"token", "revoke", writerId}).first);
        assertError(host.request("POST", "/api/v1/events", body, bearer(writer)), 401, "invalid_token", "");
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*openDatabase(host.databaseUrl()), "SELECT COUNT(*) FROM platform_events"));
    }

    void eventIsStoredThenPublishedOnce() {
        HostProcess host;
        host.start();
        const std::string token = createToken(host, "platform", "events.write");
        const std::string body = R"({"type":"registration.confirmed","data":{"registration_id":42,"note":"مرحبا"}})";

        auto first = host.request("POST", "/api/v1/events", body, bearer(token, "reg-42"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(first.body, 202, first.status);
        const auto id = json(first.body)->getValue<Poco::Int64>("id");
        auto again = host.request("POST", "/api/v1/events", body, bearer(token, "reg-42"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(again.body, 200, again.status);
        CPPUNIT_ASSERT_EQUAL(id, json(again.body)->getValue<Poco::Int64>("id"));
        assertError(host.request("POST", "/api/v1/events", R"({"type":"registration.confirmed","data":{"registration_id":43}})",
                                 bearer(token, "reg-42")),
                    409, "idempotency_key_reused", "Idempotency-Key");

        auto db = openDatabase(host.databaseUrl());
        waitUntil([&] { return queryText(*db, "SELECT COUNT(*) FROM platform_events WHERE published_at IS NOT NULL") == "1"; },
                  "the platform event was not published");
        CPPUNIT_ASSERT_EQUAL(std::string("registration.confirmed|{\"note\":\"مرحبا\",\"registration_id\":42}|reg-42"),
                             queryRows(*db, "SELECT type, data, idempotency_key FROM platform_events"));
        CPPUNIT_ASSERT_EQUAL(std::string("publish_platform_event|done"), queryRows(*db, "SELECT type, status FROM jobs"));
    }

    void eventRequestsSentWrongAreRefusedAndWriteNothing() {
        HostProcess host;
        host.start();
        const Headers headers = bearer(createToken(host, "platform", "events.write"));
        struct Case {
            std::string body;
            int status;
            std::string code, field;
        };
        const std::vector<Case> cases{
            {"", 400, "invalid_json", ""},
            {"{\"type\":", 400, "invalid_json", ""},
            {"[1,2]", 422, "invalid_field", ""},
            {R"({"data":{}})", 422, "missing_field", "type"},
            {R"({"type":7,"data":{}})", 422, "invalid_field", "type"},
            {R"({"type":"Registration.Confirmed","data":{}})", 422, "invalid_field", "type"},
            {R"({"type":"confirmed","data":{}})", 422, "invalid_field", "type"},
            {R"({"type":"registration.confirmed"})", 422, "missing_field", "data"},
            {R"({"type":"registration.confirmed","data":[1]})", 422, "missing_field", "data"},
        };
        for (const auto& c : cases) assertError(host.request("POST", "/api/v1/events", c.body, headers), c.status, c.code, c.field);
        Headers badKey = headers;
        badKey.emplace_back("Idempotency-Key", "has space");
        assertError(host.request("POST", "/api/v1/events", R"({"type":"a.b","data":{}})", badKey), 422, "invalid_idempotency_key",
                    "Idempotency-Key");
        auto db = openDatabase(host.databaseUrl());
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM platform_events"));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM jobs"));
    }

    void messageRequestsSentWrongAreRefusedBeforeSending() {
        HostProcess host;
        host.start();
        const std::string token = createToken(host, "platform", "messages.send");
        assertError(host.request("POST", "/api/v1/messages", R"({"to":"0555123456","text":"Bonjour"})", bearer(token)), 422,
                    "missing_idempotency_key", "Idempotency-Key");
        struct Case {
            std::string body;
            std::string code, field;
        };
        const std::vector<Case> cases{
            {R"({"text":"Bonjour"})", "invalid_field", "to"},
            {R"({"to":"0555123456","conversation_id":3,"text":"Bonjour"})", "invalid_field", "conversation_id"},
            {R"({"to":5551234,"text":"Bonjour"})", "invalid_field", "to"},
            {R"({"conversation_id":"3","text":"Bonjour"})", "invalid_field", "conversation_id"},
            {R"({"conversation_id":0,"text":"Bonjour"})", "invalid_field", "conversation_id"},
            // Above 2^63 - 1 Poco reads an unsigned integer that it refuses to convert: once a 500.
            {R"({"conversation_id":18446744073709551615,"text":"Bonjour"})", "invalid_field", "conversation_id"},
            {R"({"conversation_id":true,"text":"Bonjour"})", "invalid_field", "conversation_id"},
            {R"({"conversation_id":1.5,"text":"Bonjour"})", "invalid_field", "conversation_id"},
            {R"({"to":"0555123456"})", "invalid_field", "text"},
            {R"({"to":"0555123456","text":"Bonjour","template":{"name":"x","language":"fr"}})", "invalid_field", "template"},
            {R"({"to":"0555123456","text":""})", "missing_field", "text"},
            // 4,097 characters: Meta's limit counts characters, so 2,100 Arabic letters (4,200 bytes) pass.
            {"{\"to\":\"0555123456\",\"text\":\"" + std::string(4097, 'a') + "\"}", "invalid_field", "text"},
            {R"({"to":"0555123456","template":"welcome"})", "invalid_field", "template"},
            {R"({"to":"0555123456","template":{"language":"fr"}})", "missing_field", "template.name"},
            {R"({"to":"0555123456","template":{"name":"welcome"}})", "missing_field", "template.language"},
            {R"({"to":"0555123456","template":{"name":"welcome","language":"fr","parameters":5}})", "invalid_field",
             "template.parameters"},
            {R"({"to":"0555123456","template":{"name":"welcome","language":"fr","parameters":["a",3]}})", "invalid_field",
             "template.parameters[1]"},
            {R"({"to":"0555123456","template":{"name":"welcome","language":"fr","components":[{"type":"footer"}]}})",
             "invalid_field", "template.components[0].type"},
            {R"({"to":"0555123456","template":{"name":"welcome","language":"fr","components":[{"type":"button","sub_type":"call"}]}})",
             "invalid_field", "template.components[0].sub_type"},
            {R"({"to":"0555123456","template":{"name":"w","language":"fr","components":[{"type":"body","index":4294967296}]}})",
             "invalid_field", "template.components[0].index"},
            {R"({"to":"0555123456","template":{"name":"w","language":"fr","components":[{"type":"body","index":18446744073709551615}]}})",
             "invalid_field", "template.components[0].index"},
            {R"({"to":"0555123456","template":{"name":"w","language":"fr","components":[{"type":"body","index":true}]}})",
             "invalid_field", "template.components[0].index"},
        };
        int n = 0;
        for (const auto& c : cases)
            assertError(host.request("POST", "/api/v1/messages", c.body, bearer(token, "key-" + std::to_string(++n))), 422, c.code,
                        c.field);
        assertError(host.request("POST", "/api/v1/messages", "not json", bearer(token, "k")), 400, "invalid_json", "");
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*openDatabase(host.databaseUrl()), "SELECT COUNT(*) FROM whatsapp_messages"));
    }

    void unknownMessageIsNotFound() {
        HostProcess host;
        host.start();
        const Headers headers = bearer(createToken(host, "platform", "messages.read"));
        assertError(host.request("GET", "/api/v1/messages/12345", "", headers), 404, "message_not_found", "id");
        assertError(host.request("GET", "/api/v1/messages/abc", "", headers), 404, "message_not_found", "id");
    }

    void sendsOncePerIdempotencyKeyAndReportsStatus() {
        FakeGraphApi fake;
        HostProcess host(sendingHost(fake));
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const std::string conversation = aminaWrites(host, *db);
        const std::string token = createToken(host, "platform", "messages.send,messages.read");
        const std::string body = "{\"conversation_id\":" + conversation + ",\"text\":\"Votre inscription est confirmée\"}";

        auto first = host.request("POST", "/api/v1/messages", body, bearer(token, "reply-1"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(first.body, 202, first.status);
        const auto id = json(first.body)->getValue<Poco::Int64>("id");
        // The answer shows the message as stored at that moment: a worker may have sent it already.
        const std::string firstStatus = json(first.body)->getValue<std::string>("status");
        CPPUNIT_ASSERT_MESSAGE(firstStatus, firstStatus == "queued" || firstStatus == "sent");
        auto again = host.request("POST", "/api/v1/messages", body, bearer(token, "reply-1"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(again.body, 200, again.status);
        CPPUNIT_ASSERT_EQUAL(id, json(again.body)->getValue<Poco::Int64>("id"));
        assertError(host.request("POST", "/api/v1/messages", "{\"conversation_id\":" + conversation + ",\"text\":\"autre\"}",
                                 bearer(token, "reply-1")),
                    409, "idempotency_key_reused", "Idempotency-Key");

        const std::string path = "/api/v1/messages/" + std::to_string(id);
        waitUntil([&] { return json(host.request("GET", path, "", bearer(token)).body)->getValue<std::string>("status") == "sent"; },
                  "the message was not sent");
        const auto sent = json(host.request("GET", path, "", bearer(token)).body);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), fake.sendCount());
        CPPUNIT_ASSERT_EQUAL(fake.wamids().at(0), sent->getValue<std::string>("wa_message_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api"), sent->getValue<std::string>("provider"));
        CPPUNIT_ASSERT_EQUAL(std::string("out"), sent->getValue<std::string>("direction"));
        const auto graphBody = json(fake.sends().at(0).body);
        CPPUNIT_ASSERT_EQUAL(std::string("+213555123456"), graphBody->getValue<std::string>("to"));
        CPPUNIT_ASSERT_EQUAL(std::string("Votre inscription est confirmée"), graphBody->getObject("text")->getValue<std::string>("body"));

        // Limits are the dispatcher's: 2,100 Arabic letters are 4,200 bytes but 2,100 characters, and
        // the longest key the header allows still fits once the API prefixes it with the token.
        std::string arabic;
        for (int i = 0; i < 2100; ++i) arabic += "ب";
        const auto longText = host.request("POST", "/api/v1/messages", "{\"conversation_id\":" + conversation + ",\"text\":\"" + arabic + "\"}",
                                           bearer(token, std::string(255, 'k')));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(longText.body, 202, longText.status);

        // A template to a phone written as Algerians write it: no window needed.
        auto templ = host.request("POST", "/api/v1/messages",
                                  R"({"to":"0555 12 34 56","template":{"name":"inscription","language":"fr","parameters":["Amina"]}})",
                                  bearer(token, "template-1"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(templ.body, 202, templ.status);
        CPPUNIT_ASSERT_EQUAL(conversation, std::to_string(json(templ.body)->getValue<Poco::Int64>("conversation_id")));
        CPPUNIT_ASSERT(fake.waitForSends(3, std::chrono::seconds(30)));
        const auto templateBody = json(fake.sends().at(2).body);
        CPPUNIT_ASSERT_EQUAL(std::string("inscription"), templateBody->getObject("template")->getValue<std::string>("name"));
        assertError(host.request("POST", "/api/v1/messages",
                                 R"({"to":"0555 12 34 56","template":{"name":"rappel","language":"fr"}})", bearer(token, "template-1")),
                    409, "idempotency_key_reused", "Idempotency-Key");
        assertError(host.request("POST", "/api/v1/messages", R"({"conversation_id":999999,"text":"x"})", bearer(token, "ghost")), 404,
                    "conversation_not_found", "conversation_id");
    }

    void freeTextOutsideTheWindowIsRefusedBeforeAnyCall() {
        FakeGraphApi fake;
        HostProcess host(sendingHost(fake));
        host.start();
        const std::string token = createToken(host, "platform", "messages.send");
        // Nobody wrote from this number: no window is open.
        auto refused = host.request("POST", "/api/v1/messages", R"({"to":"+213661000000","text":"Bonjour"})", bearer(token, "cold-1"));
        assertError(refused, 422, "window_closed", "text");
        auto db = openDatabase(host.databaseUrl());
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_messages"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), fake.sendCount());
    }

    void eventStartsAFlowThatRendersIntoTheOutbox() {
        HostProcess host;
        host.start();
        auto db = openDatabase(host.databaseUrl());
        {
            Poco::Data::Session session = db->session();
            session << "INSERT INTO registrations (id, full_name, phone, programme) VALUES (42, 'Amina Benali', '0555 12 34 56', 'Excel')",
                Poco::Data::Keywords::now;
            session << "INSERT INTO whatsapp_templates (name, language, body, created_at, updated_at) VALUES "
                       "('confirmation', 'fr', 'Bonjour {{full_name}}, votre inscription à {{programme}} est confirmée ✅', 0, 0), "
                       "('rappel', 'ar', 'مرحبا {{full_name}}، نراك غدا & شكرا', 0, 0)",
                Poco::Data::Keywords::now;
            session << "INSERT INTO whatsapp_flows (id, name, trigger_event, active, created_at, updated_at) "
                       "VALUES (1, 'Bienvenue', 'registration.confirmed', 1, 0, 0)",
                Poco::Data::Keywords::now;
            session << "INSERT INTO whatsapp_flow_steps (flow_id, position, template_name, language, delay_seconds) VALUES "
                       "(1, 1, 'confirmation', 'fr', 0), (1, 2, 'rappel', 'ar', 0)",
                Poco::Data::Keywords::now;
        }
        const std::string token = createToken(host, "platform", "events.write");
        const auto posted = host.request("POST", "/api/v1/events", R"({"type":"registration.confirmed","data":{"registration_id":42}})",
                                         bearer(token, "reg-42"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(posted.body, 202, posted.status);
        waitUntil([&] { return queryText(*db, "SELECT COUNT(*) FROM whatsapp_outbox_messages") == "2"; }, "the flow did not render");
        CPPUNIT_ASSERT_EQUAL(
            std::string("1|+213555123456|Bonjour Amina Benali, votre inscription à Excel est confirmée ✅|"
                        "https://wa.me/213555123456?text=Bonjour%20Amina%20Benali%2C%20votre%20inscription%20%C3%A0%20Excel%20"
                        "est%20confirm%C3%A9e%20%E2%9C%85|pending\n"
                        "2|+213555123456|مرحبا Amina Benali، نراك غدا & شكرا|"
                        "https://wa.me/213555123456?text=%D9%85%D8%B1%D8%AD%D8%A8%D8%A7%20Amina%20Benali%D8%8C%20%D9%86%D8%B1%D8%A7%D9%83"
                        "%20%D8%BA%D8%AF%D8%A7%20%26%20%D8%B4%D9%83%D8%B1%D8%A7|pending"),
            queryRows(*db, "SELECT flow_step, recipient_phone, rendered_text, wa_me_link, status FROM whatsapp_outbox_messages ORDER BY flow_step"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PlatformApiTest);
