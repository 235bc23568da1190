// The platform API as the training platform calls it: the real binary, tokens made with
// `tawasul token create`, requests over HTTP. Sends through the dispatcher are covered with the
// fake Graph API in OutboundTest; here: tokens, refusals, validation and platform events.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "Assertions.hpp"
#include "Digest.hpp"
#include "HostProcess.hpp"
#include "SqlDatabase.hpp"
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
        CPPUNIT_ASSERT_EQUAL(tawasul::host::sha256Hex(secret), queryText(*db, "SELECT token_hash FROM api_tokens"));
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
            {R"({"to":"0555123456"})", "invalid_field", "text"},
            {R"({"to":"0555123456","text":"Bonjour","template":{"name":"x","language":"fr"}})", "invalid_field", "template"},
            {R"({"to":"0555123456","text":""})", "missing_field", "text"},
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
};

CPPUNIT_TEST_SUITE_REGISTRATION(PlatformApiTest);
