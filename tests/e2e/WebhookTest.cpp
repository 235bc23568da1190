// Meta's side of the webhook, end to end against the real binary: verification, signatures on the
// exact bytes, durable storage before the 200, the body limit, and a SIGKILL in the middle of a load.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>

#include "HostProcess.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"
#include "db/SqlDatabase.hpp"
#include "TestSupport.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;
using namespace Poco::Data::Keywords;

namespace {

const std::string kSecret = kFixtureSecret;
const std::string kPath = kWebhookPath;

std::unique_ptr<host::SqlDatabase> openDatabase(const HostProcess& host) { return test::openDatabase(host.databaseUrl()); }
int eventCount(sdk::Database& db) { return std::stoi(queryText(db, "SELECT COUNT(*) FROM whatsapp_webhook_events")); }

std::string storedPayload(sdk::Database& db, std::int64_t id) {
    Poco::Data::Session session = db.session();
    Poco::Data::BLOB payload;
    session << "SELECT payload FROM whatsapp_webhook_events WHERE id = $1", bind(id), into(payload), now;
    return std::string(reinterpret_cast<const char*>(payload.rawContent()), payload.size());
}

HttpResult post(const HostProcess& host, const std::string& body, const std::string& signature) {
    return postWebhook(host, body, signature);
}

}  // namespace

class WebhookTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(WebhookTest);
    CPPUNIT_TEST(verificationHandshake);
    CPPUNIT_TEST(everyFixtureIsStoredByteForByte);
    CPPUNIT_TEST(aChangedByteOrAMissingSignatureStoresNothing);
    CPPUNIT_TEST(bodyOverThreeMegabytesIsRefused);
    CPPUNIT_TEST(signedInvalidJsonIsKeptAndItsJobFailsVisibly);
    CPPUNIT_TEST(everyAcknowledgedEventSurvivesSigkill);
    CPPUNIT_TEST_SUITE_END();

public:
    void verificationHandshake() {
        HostProcess host(withWebhookSecrets());
        host.start();
        const auto ok = host.request("GET", kPath + "?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444");
        CPPUNIT_ASSERT_EQUAL(200, ok.status);
        CPPUNIT_ASSERT_EQUAL(std::string("1158201444"), ok.body);
        CPPUNIT_ASSERT_EQUAL(403, host.request("GET", kPath + "?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1").status);
        CPPUNIT_ASSERT_EQUAL(403, host.request("GET", kPath + "?hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1").status);
        CPPUNIT_ASSERT_EQUAL(400, host.request("GET", kPath + "?hub.mode=subscribe&hub.verify_token=verify-me").status);
        CPPUNIT_ASSERT_EQUAL(400, host.request("GET", kPath).status);
    }

    void everyFixtureIsStoredByteForByte() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host);
        std::size_t posted = 0;
        for (const std::string& name : fixtureNames()) {
            const std::string body = fixture(name);
            const auto response = post(host, body, fixtureSignature(name));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name + ": " + response.body, 200, response.status);
            const std::int64_t id = std::stoll(response.headers.at("x-tawasul-event-id"));
            CPPUNIT_ASSERT_MESSAGE(name, storedPayload(*db, id) == body);
            ++posted;
        }
        CPPUNIT_ASSERT(posted >= 11);
        CPPUNIT_ASSERT_EQUAL(static_cast<int>(posted), eventCount(*db));
        const std::string metrics = host.request("GET", "/metrics").body;
        const std::string count = std::to_string(posted);
        CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("tawasul_webhook_received_total " + count + "\n") != std::string::npos);
        CPPUNIT_ASSERT(metrics.find("tawasul_webhook_stored_total " + count + "\n") != std::string::npos);
        CPPUNIT_ASSERT(metrics.find("tawasul_webhook_ack_seconds_count " + count + "\n") != std::string::npos);
        // Every stored event went through a commit batch of at least one.
        CPPUNIT_ASSERT(metrics.find("tawasul_webhook_commit_batch_size_sum " + count + "\n") != std::string::npos);
        waitForProcessing(*db);
        Poco::Data::Session session = db->session();
        int processed = 0;
        session << "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status = 'processed' AND attempts = 1 AND processed_at IS NOT NULL",
            into(processed), now;
        CPPUNIT_ASSERT_EQUAL(static_cast<int>(posted), processed);
    }

    void aChangedByteOrAMissingSignatureStoresNothing() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host);
        std::string body = fixture("text-fr.json");
        const std::string signature = fixtureSignature("text-fr.json");
        body[body.size() / 2] ^= 0x01;
        CPPUNIT_ASSERT_EQUAL(403, post(host, body, signature).status);
        CPPUNIT_ASSERT_EQUAL(401, host.request("POST", kPath, fixture("text-fr.json")).status);
        CPPUNIT_ASSERT_EQUAL(403, post(host, fixture("text-fr.json"), "sha1=abc").status);
        CPPUNIT_ASSERT_EQUAL(403, post(host, fixture("text-fr.json"), "sha256=" + std::string(64, 'z')).status);
        CPPUNIT_ASSERT_EQUAL(0, eventCount(*db));
        const auto metrics = host.request("GET", "/metrics").body;
        CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("tawasul_webhook_rejected_total{reason=\"bad_signature\"} 1\n") != std::string::npos);
        CPPUNIT_ASSERT(metrics.find("tawasul_webhook_rejected_total{reason=\"missing_signature\"} 1\n") != std::string::npos);
        CPPUNIT_ASSERT(metrics.find("tawasul_webhook_rejected_total{reason=\"malformed_signature\"} 2\n") != std::string::npos);
    }

    void bodyOverThreeMegabytesIsRefused() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host);
        // A valid, signed, batch-sized body of exactly 3 MB is accepted; one byte more is not.
        const std::string head = "{\"object\":\"whatsapp_business_account\",\"entry\":[],\"padding\":\"";
        std::string body = head + std::string(3 * 1024 * 1024 - head.size() - 2, 'p') + "\"}";
        CPPUNIT_ASSERT_EQUAL(std::size_t(3 * 1024 * 1024), body.size());
        CPPUNIT_ASSERT_EQUAL(200, post(host, body, sdk::webhookSignature(body, kSecret)).status);
        const std::string tooBig = body + " ";
        CPPUNIT_ASSERT_EQUAL(413, post(host, tooBig, sdk::webhookSignature(tooBig, kSecret)).status);
        CPPUNIT_ASSERT_EQUAL(1, eventCount(*db));
    }

    void signedInvalidJsonIsKeptAndItsJobFailsVisibly() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host);
        const std::string body = "{\"object\": \"whatsapp_business_account\", \"entry\": [";
        const auto response = post(host, body, sdk::webhookSignature(body, kSecret));
        CPPUNIT_ASSERT_EQUAL(200, response.status);
        waitForProcessing(*db);
        Poco::Data::Session session = db->session();
        std::string status, lastError;
        session << "SELECT status, last_error FROM whatsapp_webhook_events", into(status), into(lastError), now;
        CPPUNIT_ASSERT_EQUAL(std::string("failed"), status);
        CPPUNIT_ASSERT_MESSAGE(lastError, lastError.find("not a JSON object") != std::string::npos);
        auto [listStatus, listing] = host.cli({"events", "list", "--status", "failed"});
        CPPUNIT_ASSERT_EQUAL(0, listStatus);
        CPPUNIT_ASSERT_MESSAGE(listing, listing.find("failed") != std::string::npos);
    }

    void everyAcknowledgedEventSurvivesSigkill() {
        HostProcess host(withWebhookSecrets());
        host.start();
        const auto acknowledged = acknowledgedBeforeTheEnd(
            host, [&](const std::string& body) { return post(host, body, sdk::webhookSignature(body, kSecret)); }, false);
        assertStoredAndProcessedOnce(host, acknowledged);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(WebhookTest);
