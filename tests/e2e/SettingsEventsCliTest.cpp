// `tawasul settings`, `events` and `simulate` as an operator runs them: the real binary, a migrated
// SQLite database, rows written here directly, and a fake receiver standing in for a running host.
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <mutex>

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "Assertions.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"
#include "db/SqlDatabase.hpp"
#include "TestSupport.hpp"

using namespace tawasul::test;
using namespace Poco::Data::Keywords;

namespace {

constexpr const char* kOtherMasterKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";  // 32 zero bytes

void assertOneLine(const std::pair<int, std::string>& result, int status, const std::string& expected) {
    CPPUNIT_ASSERT_EQUAL_MESSAGE(result.second, status, result.first);
    CPPUNIT_ASSERT_EQUAL(expected + "\n", result.second);
}

// A configuration (the `good` test plugin, so nothing under development is loaded) and a migrated
// database with a fresh master key.
struct Installation {
    TempDir dir;
    std::string config = dir.file("tawasul.yaml");
    std::string url = "sqlite:" + dir.file("tawasul.db");

    Installation() {
        writeFile(config, testConfigYaml(dir, TAWASUL_TEST_PLUGIN_DIR, "    - good: {}\n"));
        auto migrated = cli({"migrate"});
        if (migrated.first != 0) throw std::runtime_error("migrate failed: " + migrated.second);
    }

    std::pair<int, std::string> cli(const std::vector<std::string>& args, const std::vector<std::string>& environment = {}) const {
        std::vector<std::string> argv{TAWASUL_BINARY, "--config", config};
        argv.insert(argv.end(), args.begin(), args.end());
        return runCommand(argv, environment);
    }

    // `tawasul settings set KEY --stdin` fed `input` on standard input.
    std::pair<int, std::string> setFromStdin(const std::string& key, const std::string& input) const {
        writeFile(dir.file("stdin"), input);
        return runCommand({"/bin/sh", "-c", "exec \"$0\" --config \"$1\" settings set \"$2\" --stdin < \"$3\"", TAWASUL_BINARY, config, key,
                           dir.file("stdin")});
    }

    std::unique_ptr<tawasul::host::SqlDatabase> database() const {
        tawasul::host::DatabaseOptions options;
        options.url = url;
        return std::make_unique<tawasul::host::SqlDatabase>(options);
    }

    std::int64_t insertEvent(std::int64_t receivedAt, const std::string& payload, const std::string& status, int attempts,
                             const std::string& lastError) const {
        auto db = database();
        Poco::Data::Session session = db->session();
        Poco::Data::BLOB blob(reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
        Poco::Nullable<std::string> error;
        if (!lastError.empty()) error = lastError;
        Poco::Nullable<Poco::Int64> processedAt;
        if (status == "processed" || status == "failed") processedAt = receivedAt + 5;
        std::string s = status, signature = "sha256=00";
        Poco::Int64 at = receivedAt, id = 0;
        session << "INSERT INTO whatsapp_webhook_events (received_at, signature, payload, status, attempts, last_error, processed_at) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            use(at), use(signature), use(blob), use(s), use(attempts), use(error), use(processedAt), into(id), now;
        return id;
    }

    struct EventRow {
        std::string status;
        int attempts = 0;
        bool hasError = false, hasProcessedAt = false;
    };
    EventRow event(std::int64_t id) const {
        auto db = database();
        Poco::Data::Session session = db->session();
        EventRow row;
        Poco::Nullable<std::string> error;
        Poco::Nullable<Poco::Int64> processedAt;
        Poco::Int64 key = id;
        session << "SELECT status, attempts, last_error, processed_at FROM whatsapp_webhook_events WHERE id = $1", use(key),
            into(row.status), into(row.attempts), into(error), into(processedAt), now;
        row.hasError = !error.isNull();
        row.hasProcessedAt = !processedAt.isNull();
        return row;
    }

    // 1 when the event is queued again as its own queue entry: pending, due (run_at set by the
    // replay: insertEvent leaves it 0), held by no worker, and with no row in jobs (issue #13).
    int jobsFor(std::int64_t id) const {
        auto db = database();
        Poco::Data::Session session = db->session();
        int count = 0;
        Poco::Int64 key = id;
        session << "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE id = $1 AND status = 'pending' AND run_at > 0 "
                   "AND locked_by IS NULL AND locked_until IS NULL AND NOT EXISTS (SELECT 1 FROM jobs WHERE ref_id = $1)",
            use(key), into(count), now;
        return count;
    }

    std::string storedSetting(const std::string& key) const {
        auto db = database();
        Poco::Data::Session session = db->session();
        std::string value, k = key;
        session << "SELECT value FROM site_settings WHERE key = $1", use(k), into(value), now;
        return value;
    }
};

// A stand-in for a running host's webhook_receiver: checks the handshake and the signature as
// Meta's rules say, and remembers the last request.
class FakeReceiver {
public:
    FakeReceiver(std::string verifyToken, std::string appSecret)
        : state_(std::make_shared<State>()), socket_(Poco::Net::SocketAddress("127.0.0.1", 0)) {
        state_->verifyToken = std::move(verifyToken);
        state_->appSecret = std::move(appSecret);
        auto* params = new Poco::Net::HTTPServerParams;
        params->setMaxThreads(2);
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(state_), socket_, params);
        server_->start();
    }
    ~FakeReceiver() { server_->stopAll(true); }

    int port() const { return socket_.address().port(); }
    std::string url(const std::string& path = "/webhooks/whatsapp") const { return "http://127.0.0.1:" + std::to_string(port()) + path; }

    struct Seen {
        std::string method, uri, signature, contentType, body;
        int requests = 0;
    };
    Seen last() const {
        std::lock_guard lock(state_->mutex);
        return state_->seen;
    }
    void answer(int status) {
        std::lock_guard lock(state_->mutex);
        state_->forcedStatus = status;
    }

private:
    struct State {
        std::mutex mutex;
        std::string verifyToken, appSecret;
        Seen seen;
        int forcedStatus = 0;
    };
    class Handler final : public Poco::Net::HTTPRequestHandler {
    public:
        explicit Handler(std::shared_ptr<State> state) : state_(std::move(state)) {}
        void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
            std::string body;
            Poco::StreamCopier::copyToString(request.stream(), body);
            std::lock_guard lock(state_->mutex);
            Seen& seen = state_->seen;
            seen = {request.getMethod(), request.getURI(), request.get("X-Hub-Signature-256", ""), request.getContentType(), body,
                    seen.requests + 1};
            int status = 200;
            std::string answer = "ok";
            if (request.getMethod() == "GET") {
                Poco::URI uri(request.getURI());
                std::map<std::string, std::string> query;
                for (const auto& [name, value] : uri.getQueryParameters()) query[name] = value;
                answer = query["hub.challenge"];
                if (query["hub.mode"] != "subscribe" || query["hub.verify_token"] != state_->verifyToken) status = 403, answer = "forbidden";
            } else if (seen.signature != tawasul::sdk::webhookSignature(body, state_->appSecret)) {
                status = 403;
                answer = "bad signature";
            }
            if (state_->forcedStatus) status = state_->forcedStatus, answer = "forced";
            response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
            response.setContentType("text/plain");
            response.sendBuffer(answer.data(), answer.size());
        }

    private:
        std::shared_ptr<State> state_;
    };
    class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
    public:
        explicit Factory(std::shared_ptr<State> state) : state_(std::move(state)) {}
        Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override { return new Handler(state_); }

    private:
        std::shared_ptr<State> state_;
    };

    std::shared_ptr<State> state_;
    Poco::Net::ServerSocket socket_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

// A port where nothing listens: bound once by the kernel's choice, then released.
int closedPort() {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    const int port = socket.address().port();
    socket.close();
    return port;
}

Poco::JSON::Object::Ptr firstValue(const std::string& body) {
    auto root = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
    CPPUNIT_ASSERT_EQUAL(std::string("whatsapp_business_account"), root->getValue<std::string>("object"));
    auto change = root->getArray("entry")->getObject(0)->getArray("changes")->getObject(0);
    CPPUNIT_ASSERT_EQUAL(std::string("messages"), change->getValue<std::string>("field"));
    return change->getObject("value");
}

}  // namespace

class SettingsEventsCliTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SettingsEventsCliTest);
    CPPUNIT_TEST(helpNamesTheNewCommands);
    CPPUNIT_TEST(settingsMaskSecretsUnlessRevealed);
    CPPUNIT_TEST(settingsSetFromStdin);
    CPPUNIT_TEST(settingsRefuseAWrongMasterKey);
    CPPUNIT_TEST(settingsBadValuesExitTwo);
    CPPUNIT_TEST(eventsListShowsNewestFirst);
    CPPUNIT_TEST(eventsShowWritesTheRawBytes);
    CPPUNIT_TEST(eventsReplayRequeues);
    CPPUNIT_TEST(eventsMisuse);
    CPPUNIT_TEST(simulateMisuse);
    CPPUNIT_TEST(simulateWithNothingListening);
    CPPUNIT_TEST(simulateAgainstAFakeReceiver);
    CPPUNIT_TEST(simulateTargetsTheConfiguredPath);
    CPPUNIT_TEST_SUITE_END();

public:
    void helpNamesTheNewCommands() {
        auto main = runCommand({TAWASUL_BINARY, "--help"});
        for (const char* command : {"settings", "events", "simulate", "templates"}) {
            assertContains(main.second, std::string("  ") + command);
            auto [status, text] = runCommand({TAWASUL_BINARY, command, "--help"});
            CPPUNIT_ASSERT_EQUAL(0, status);
            CPPUNIT_ASSERT_MESSAGE(text, text.find(std::string("usage: tawasul [--config FILE] ") + command) == 0);
        }
        assertContains(runCommand({TAWASUL_BINARY, "events", "--help"}).second, "poll interval");
    }

    void settingsMaskSecretsUnlessRevealed() {
        Installation install;
        assertOneLine(install.cli({"settings", "set", "whatsapp.cloud.app_secret", "s3cret-value"}), 0,
                      "set whatsapp.cloud.app_secret (encrypted)");
        assertOneLine(install.cli({"settings", "set", "whatsapp.cloud.phone_number_id", "106540352242922"}), 0,
                      "set whatsapp.cloud.phone_number_id = 106540352242922");
        assertOneLine(install.cli({"settings", "set", "whatsapp.cloud.enabled", "false"}), 0, "set whatsapp.cloud.enabled = false");
        assertOneLine(install.cli({"settings", "set", "whatsapp.cloud.api_version", "v21.0"}), 0, "set whatsapp.cloud.api_version = v21.0");
        // At rest: sealed, never the plaintext.
        const std::string stored = install.storedSetting("whatsapp.cloud.app_secret");
        assertLacks(stored, "s3cret-value");
        CPPUNIT_ASSERT(stored.rfind("v1:", 0) == 0);

        assertOneLine(install.cli({"settings", "get", "whatsapp.cloud.app_secret"}), 0, "******** (encrypted)");
        assertOneLine(install.cli({"settings", "get", "whatsapp.cloud.app_secret", "--reveal"}), 0, "s3cret-value");
        assertOneLine(install.cli({"settings", "get", "whatsapp.cloud.phone_number_id"}), 0, "106540352242922");

        auto list = install.cli({"settings", "list"});
        CPPUNIT_ASSERT_EQUAL(0, list.first);
        assertContains(list.second, "whatsapp.cloud.app_secret = ******** (encrypted)\n");
        assertContains(list.second, "whatsapp.cloud.phone_number_id = 106540352242922\n");
        assertContains(list.second, "whatsapp.cloud.enabled = false\n");
        assertContains(list.second, "whatsapp.cloud.access_token = (not set)\n");
        assertLacks(list.second, "s3cret-value");
        assertLacks(list.second, "key_check");
        auto revealed = install.cli({"settings", "list", "--reveal"});
        CPPUNIT_ASSERT_EQUAL(0, revealed.first);
        assertContains(revealed.second, "whatsapp.cloud.app_secret = s3cret-value\n");
        assertLacks(revealed.second, "key_check");

        assertOneLine(install.cli({"settings", "unset", "whatsapp.cloud.app_secret"}), 0, "removed whatsapp.cloud.app_secret");
        assertOneLine(install.cli({"settings", "get", "whatsapp.cloud.app_secret"}), 1, "tawasul: no setting 'whatsapp.cloud.app_secret'");
        assertOneLine(install.cli({"settings", "unset", "whatsapp.cloud.app_secret"}), 1, "tawasul: no setting 'whatsapp.cloud.app_secret'");
        assertOneLine(install.cli({"settings", "get", "no.such.key"}), 1, "tawasul: no setting 'no.such.key'");
    }

    void settingsSetFromStdin() {
        Installation install;
        assertOneLine(install.setFromStdin("whatsapp.webhook.verify_token", "from-stdin-token\n"), 0,
                      "set whatsapp.webhook.verify_token (encrypted)");
        assertOneLine(install.cli({"settings", "get", "whatsapp.webhook.verify_token", "--reveal"}), 0, "from-stdin-token");
        // No trailing newline at all, and a CRLF from a Windows paste.
        assertOneLine(install.setFromStdin("whatsapp.cloud.access_token", "EAAG-token"), 0, "set whatsapp.cloud.access_token (encrypted)");
        assertOneLine(install.cli({"settings", "get", "whatsapp.cloud.access_token", "--reveal"}), 0, "EAAG-token");
        assertOneLine(install.setFromStdin("whatsapp.cloud.access_token", "EAAG-other\r\n"), 0, "set whatsapp.cloud.access_token (encrypted)");
        assertOneLine(install.cli({"settings", "get", "whatsapp.cloud.access_token", "--reveal"}), 0, "EAAG-other");
        // Bad input on stdin is misuse too, and a secret is never echoed back.
        auto twoLines = install.setFromStdin("whatsapp.cloud.app_secret", "line-one\nline-two\n");
        CPPUNIT_ASSERT_EQUAL(2, twoLines.first);
        assertLacks(twoLines.second, "line-one");
        assertOneLine(install.setFromStdin("whatsapp.cloud.app_secret", "\n"), 2,
                      "tawasul: settings: empty value for whatsapp.cloud.app_secret (to remove it: tawasul settings unset "
                      "whatsapp.cloud.app_secret) (see tawasul --help)");
        assertOneLine(install.cli({"settings", "set", "whatsapp.cloud.app_secret", "value", "--stdin"}), 2,
                      "tawasul: usage: tawasul settings set KEY VALUE | tawasul settings set KEY --stdin (see tawasul --help)");
    }

    void settingsRefuseAWrongMasterKey() {
        Installation install;
        CPPUNIT_ASSERT_EQUAL(0, install.cli({"settings", "set", "whatsapp.cloud.app_secret", "right"}).first);
        const std::string line =
            "tawasul: the master key does not match the key that sealed the stored secrets (check TAWASUL_MASTER_KEY or "
            "secrets.key_file)";
        const std::vector<std::string> wrong{std::string("TAWASUL_MASTER_KEY=") + kOtherMasterKey};
        assertOneLine(install.cli({"settings", "get", "whatsapp.cloud.app_secret", "--reveal"}, wrong), 1, line);
        assertOneLine(install.cli({"settings", "list"}, wrong), 1, line);
        const std::string before = install.storedSetting("whatsapp.cloud.app_secret");
        assertOneLine(install.cli({"settings", "set", "whatsapp.cloud.app_secret", "sealed-with-the-wrong-key"}, wrong), 1, line);
        CPPUNIT_ASSERT_EQUAL(before, install.storedSetting("whatsapp.cloud.app_secret"));
        assertOneLine(install.cli({"settings", "get", "whatsapp.cloud.app_secret", "--reveal"}), 0, "right");
        // Not base64 of 32 bytes at all: one line too.
        auto garbage = install.cli({"settings", "list"}, {"TAWASUL_MASTER_KEY=not-a-key"});
        CPPUNIT_ASSERT_EQUAL(1, garbage.first);
        CPPUNIT_ASSERT_EQUAL(std::string::size_type(1), static_cast<std::string::size_type>(std::count(garbage.second.begin(), garbage.second.end(), '\n')));
    }

    void settingsBadValuesExitTwo() {
        Installation install;
        assertOneLine(install.cli({"settings", "set", "whatsapp.cloud.enabled", "yes"}), 2,
                      "tawasul: settings: whatsapp.cloud.enabled must be true or false, got 'yes' (see tawasul --help)");
        assertOneLine(install.cli({"settings", "set", "whatsapp.cloud.api_version", "21"}), 2,
                      "tawasul: settings: whatsapp.cloud.api_version must look like v21.0, got '21' (see tawasul --help)");
        assertOneLine(install.cli({"settings", "set", "whatsapp.cloud.phone_number_id", "+213 55"}), 2,
                      "tawasul: settings: whatsapp.cloud.phone_number_id must be digits only, got '+213 55' (see tawasul --help)");
        auto unknown = install.cli({"settings", "set", "whatsapp.cloud.app_secert", "x"});
        CPPUNIT_ASSERT_EQUAL(2, unknown.first);
        assertContains(unknown.second, "tawasul: settings: unknown setting 'whatsapp.cloud.app_secert' (known: ");
        auto spaced = install.cli({"settings", "set", "whatsapp.cloud.app_secret", " pasted-secret"});
        CPPUNIT_ASSERT_EQUAL(2, spaced.first);
        assertLacks(spaced.second, "pasted-secret");
        assertOneLine(install.cli({"settings", "set", "secrets.key_check", "x"}), 2,
                      "tawasul: settings: unknown setting 'secrets.key_check' (known: whatsapp.cloud.access_token, "
                      "whatsapp.cloud.app_secret, whatsapp.webhook.verify_token, whatsapp.cloud.phone_number_id, "
                      "whatsapp.cloud.business_account_id, whatsapp.cloud.api_version, whatsapp.cloud.enabled) (see tawasul --help)");
        CPPUNIT_ASSERT_EQUAL(2, install.cli({"settings", "get", "secrets.key_check", "--reveal"}).first);
        CPPUNIT_ASSERT_EQUAL(2, install.cli({"settings"}).first);
        CPPUNIT_ASSERT_EQUAL(2, install.cli({"settings", "frob"}).first);
        CPPUNIT_ASSERT_EQUAL(2, install.cli({"settings", "get"}).first);
        assertOneLine(install.cli({"settings", "list", "--all"}), 2,
                      "tawasul: settings list: unknown argument '--all' (expected --reveal) (see tawasul --help)");
        assertOneLine(install.cli({"settings", "unset", "a", "b"}), 2, "tawasul: usage: tawasul settings unset KEY (see tawasul --help)");
        // Nothing was written by any of them.
        assertContains(install.cli({"settings", "list"}).second, "whatsapp.cloud.enabled = (not set)");
    }

    void eventsListShowsNewestFirst() {
        Installation install;
        assertOneLine(install.cli({"events", "list"}), 0, "no webhook events");
        const std::string longError(120, 'x');
        const auto a = install.insertEvent(1764064800123, "{\"a\":1}", "processed", 1, "");
        const auto b = install.insertEvent(1764064860000, "{\"b\":22}", "failed", 8, "bad JSON\n" + longError);
        const auto c = install.insertEvent(1764064920000, "{}", "pending", 0, "");
        auto [status, text] = install.cli({"events", "list"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(text, 0, status);
        const std::string header = "ID        RECEIVED_AT               STATUS      ATTEMPTS  BYTES     LAST_ERROR\n";
        CPPUNIT_ASSERT(text.rfind(header, 0) == 0);
        const auto posA = text.find("\n" + std::to_string(a) + " "), posB = text.find("\n" + std::to_string(b) + " "),
                   posC = text.find("\n" + std::to_string(c) + " ");
        CPPUNIT_ASSERT(posC < posB && posB < posA && posA != std::string::npos);
        assertContains(text, "2025-11-25T10:00:00.123Z  processed   1         7         \n");
        // The error on one line, cut to 80 characters.
        assertContains(text, "2025-11-25T10:01:00.000Z  failed      8         8         bad JSON " + std::string(68, 'x') + "...\n");

        auto failed = install.cli({"events", "list", "--status", "failed"});
        CPPUNIT_ASSERT_EQUAL(0, failed.first);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), static_cast<std::size_t>(std::count(failed.second.begin(), failed.second.end(), '\n')));
        assertContains(failed.second, "\n" + std::to_string(b) + " ");
        auto limited = install.cli({"events", "list", "--limit", "1"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), static_cast<std::size_t>(std::count(limited.second.begin(), limited.second.end(), '\n')));
        assertContains(limited.second, "\n" + std::to_string(c) + " ");
        assertOneLine(install.cli({"events", "list", "--status", "processing"}), 0, "no webhook events with status processing");
    }

    void eventsShowWritesTheRawBytes() {
        Installation install;
        const std::string fixture = readFile(std::string(TAWASUL_FIXTURES_DIR) + "/text-ar.json");
        const auto id = install.insertEvent(1764064800000, fixture, "processed", 1, "");
        auto shown = install.cli({"events", "show", std::to_string(id)});
        CPPUNIT_ASSERT_EQUAL(0, shown.first);
        CPPUNIT_ASSERT(shown.second == fixture);
        // Not JSON, with a NUL and bytes that are not UTF-8: still byte for byte.
        const std::string odd("x\0\xff\xfe\n", 5);
        const auto oddId = install.insertEvent(1764064800001, odd, "failed", 8, "not JSON");
        auto oddShown = install.cli({"events", "show", std::to_string(oddId)});
        CPPUNIT_ASSERT_EQUAL(0, oddShown.first);
        CPPUNIT_ASSERT(oddShown.second == odd);
        assertOneLine(install.cli({"events", "show", "999"}), 1, "tawasul: no webhook event 999");
    }

    void eventsReplayRequeues() {
        Installation install;
        const auto old = install.insertEvent(1764064800000, "{\"old\":1}", "processed", 1, "");          // 2025-11-25T10:00:00Z
        const auto failedA = install.insertEvent(1764068400000, "{\"f\":1}", "failed", 8, "boom");       // 11:00
        const auto failedB = install.insertEvent(1764072000000, "{\"f\":2}", "failed", 3, "no handler");  // 12:00
        const auto done = install.insertEvent(1764075600000, "{\"d\":1}", "processed", 2, "");          // 13:00

        assertOneLine(install.cli({"events", "replay", std::to_string(old)}), 0, "re-queued 1 event(s)");
        auto row = install.event(old);
        CPPUNIT_ASSERT_EQUAL(std::string("pending"), row.status);
        CPPUNIT_ASSERT_EQUAL(0, row.attempts);
        CPPUNIT_ASSERT(!row.hasError && !row.hasProcessedAt);
        CPPUNIT_ASSERT_EQUAL(1, install.jobsFor(old));

        assertOneLine(install.cli({"events", "replay", "--failed"}), 0, "re-queued 2 event(s)");
        for (auto id : {failedA, failedB}) {
            row = install.event(id);
            CPPUNIT_ASSERT_EQUAL(std::string("pending"), row.status);
            CPPUNIT_ASSERT_EQUAL(0, row.attempts);
            CPPUNIT_ASSERT(!row.hasError && !row.hasProcessedAt);
            CPPUNIT_ASSERT_EQUAL(1, install.jobsFor(id));
        }
        CPPUNIT_ASSERT_EQUAL(std::string("processed"), install.event(done).status);
        CPPUNIT_ASSERT_EQUAL(0, install.jobsFor(done));
        assertOneLine(install.cli({"events", "replay", "--failed"}), 0, "re-queued 0 event(s)");

        // --since: at or after the time, as ISO-8601 or as milliseconds.
        assertOneLine(install.cli({"events", "replay", "--since", "2025-11-25T13:00:00Z"}), 0, "re-queued 1 event(s)");
        CPPUNIT_ASSERT_EQUAL(std::string("pending"), install.event(done).status);
        CPPUNIT_ASSERT_EQUAL(1, install.jobsFor(done));
        assertOneLine(install.cli({"events", "replay", "--since", "1764072000000"}), 0, "re-queued 2 event(s)");
        assertOneLine(install.cli({"events", "replay", "--since", "2025-11-25T12:00:00.001Z"}), 0, "re-queued 1 event(s)");
        CPPUNIT_ASSERT_EQUAL(1, install.jobsFor(failedB));
        CPPUNIT_ASSERT_EQUAL(1, install.jobsFor(done));
        CPPUNIT_ASSERT_EQUAL(1, install.jobsFor(old));
        // 0: from the beginning; a date alone: midnight UTC.
        assertOneLine(install.cli({"events", "replay", "--since", "0"}), 0, "re-queued 4 event(s)");
        assertOneLine(install.cli({"events", "replay", "--since", "2025-11-25"}), 0, "re-queued 4 event(s)");
        assertOneLine(install.cli({"events", "replay", "--since", "2025-11-26"}), 0, "re-queued 0 event(s)");
        CPPUNIT_ASSERT_EQUAL(1, install.jobsFor(old));
    }

    void eventsMisuse() {
        Installation install;
        const std::string suffix = " (see tawasul --help)";
        const std::string exactlyOne = "tawasul: events replay: give exactly one of ID, --failed, --since T" + suffix;
        assertOneLine(install.cli({"events", "replay"}), 2, exactlyOne);
        assertOneLine(install.cli({"events", "replay", "1", "--failed"}), 2, exactlyOne);
        assertOneLine(install.cli({"events", "replay", "--failed", "--since", "2026-01-01T00:00:00Z"}), 2, exactlyOne);
        assertOneLine(install.cli({"events", "replay", "1", "2"}), 2, "tawasul: usage: tawasul events replay ID | --failed | --since T" + suffix);
        assertOneLine(install.cli({"events", "replay", "abc"}), 2, "tawasul: events: ID must be a positive whole number, got 'abc'" + suffix);
        assertOneLine(install.cli({"events", "replay", "0"}), 2, "tawasul: events: ID must be a positive whole number, got '0'" + suffix);
        assertOneLine(install.cli({"events", "replay", "--since", "yesterday"}), 2,
                      "tawasul: events: --since wants an ISO-8601 UTC time like 2026-11-25T10:00:00Z or milliseconds since the "
                      "epoch, got 'yesterday'" + suffix);
        CPPUNIT_ASSERT_EQUAL(2, install.cli({"events", "replay", "--since", "2026-02-30T00:00:00Z"}).first);
        CPPUNIT_ASSERT_EQUAL(2, install.cli({"events", "replay", "--since", "2026-11-25T10:00:00+01:00"}).first);
        assertOneLine(install.cli({"events", "replay", "--since", "1764064800"}), 2,
                      "tawasul: events: --since 1764064800 looks like seconds; give milliseconds (1764064800000) or an ISO-8601 time" +
                          suffix);
        assertOneLine(install.cli({"events", "replay", "--since"}), 2, "tawasul: events replay: --since needs a value" + suffix);
        assertOneLine(install.cli({"events", "list", "--status", "done"}), 2,
                      "tawasul: events list: --status must be pending, processing, processed or failed, got 'done'" + suffix);
        assertOneLine(install.cli({"events", "list", "--limit", "0"}), 2,
                      "tawasul: events list: --limit must be a whole number from 1 to 10000, got '0'" + suffix);
        CPPUNIT_ASSERT_EQUAL(2, install.cli({"events", "list", "--limit", "10001"}).first);
        CPPUNIT_ASSERT_EQUAL(2, install.cli({"events", "show"}).first);
        CPPUNIT_ASSERT_EQUAL(2, install.cli({"events"}).first);
        CPPUNIT_ASSERT_EQUAL(2, install.cli({"events", "purge"}).first);
        assertOneLine(install.cli({"events", "replay", "42"}), 1, "tawasul: no webhook event 42");
        CPPUNIT_ASSERT_EQUAL(0, install.jobsFor(42));
    }

    void simulateMisuse() {
        const std::string suffix = " (see tawasul --help)";
        // Arguments are checked before any configuration is read.
        const std::string inboundUsage =
            "(usage: tawasul simulate inbound --from PHONE|--user-id BSUID --text TEXT [--name NAME] [--username NAME] [--wamid ID] "
            "[--phone-number-id ID])";
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "inbound"}), 2,
                      "tawasul: simulate inbound: --from or --user-id is required " + inboundUsage + suffix);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "inbound", "--from", "+213555123456"}), 2,
                      "tawasul: simulate inbound: --text is required " + inboundUsage + suffix);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "inbound", "--text", "hi"}), 2,
                      "tawasul: simulate inbound: --from or --user-id is required " + inboundUsage + suffix);
        // A user with a username: --user-id alone is a sender; a BSUID has Meta's form; a username
        // comes only with a BSUID.
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "inbound", "--user-id", "DZ.1349", "--username", "amina"}), 2,
                      "tawasul: simulate inbound: --text is required " + inboundUsage + suffix);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "inbound", "--user-id", "213555123456", "--text", "hi"}), 2,
                      "tawasul: simulate inbound: --user-id must be a business-scoped user id such as DZ.13491208655302741918, "
                      "got '213555123456'" + suffix);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "inbound", "--user-id", "DZ.13-49", "--text", "hi"}), 2,
                      "tawasul: simulate inbound: --user-id must be a business-scoped user id such as DZ.13491208655302741918, "
                      "got 'DZ.13-49'" + suffix);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "inbound", "--user-id", "", "--text", "hi"}), 2,
                      "tawasul: simulate inbound: --from or --user-id is required " + inboundUsage + suffix);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "inbound", "--from", "+213555123456", "--user-id", "", "--text", "hi"}), 2,
                      "tawasul: simulate inbound: --user-id is required " + inboundUsage + suffix);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "inbound", "--from", "+213555123456", "--username", "amina", "--text", "hi"}), 2,
                      "tawasul: simulate inbound: --username goes with --user-id (Meta sends a username with the user's BSUID)" + suffix);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "inbound", "--user-id", "DZ.1349", "--username", "", "--text", "hi"}), 2,
                      "tawasul: simulate inbound: --username is required " + inboundUsage + suffix);
        CPPUNIT_ASSERT_EQUAL(2, runCommand({TAWASUL_BINARY, "simulate", "inbound", "--user-id", "DZ.1349", "--username", "\xff", "--text", "hi"}).first);
        CPPUNIT_ASSERT_EQUAL(2, runCommand({TAWASUL_BINARY, "simulate", "inbound", "--from", "phone", "--text", "hi"}).first);
        CPPUNIT_ASSERT_EQUAL(2, runCommand({TAWASUL_BINARY, "simulate", "inbound", "--from", "213555123456", "--text", "\xff"}).first);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "status", "--wamid", "wamid.X", "--status", "seen"}), 2,
                      "tawasul: simulate status: --status must be sent, delivered, read or failed, got 'seen'" + suffix);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "status", "--wamid", "wamid.X", "--status", "read", "--error-code", "1"}), 2,
                      "tawasul: simulate status: --error-code and --error-title go with --status failed" + suffix);
        CPPUNIT_ASSERT_EQUAL(2, runCommand({TAWASUL_BINARY, "simulate", "status", "--status", "read"}).first);
        // Meta's other webhook fields (#17).
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "echo", "--to", "+213555123456"}), 2,
                      "tawasul: simulate echo: --text is required (usage: tawasul simulate echo --to PHONE --text TEXT [--wamid ID] "
                      "[--phone-number-id ID])" + suffix);
        CPPUNIT_ASSERT_EQUAL(2, runCommand({TAWASUL_BINARY, "simulate", "echo", "--to", "phone", "--text", "hi"}).first);
        CPPUNIT_ASSERT_EQUAL(2, runCommand({TAWASUL_BINARY, "simulate", "echo", "--to", "+213555123456", "--text", "hi", "--wamid", ""}).first);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "template-status", "--name", "rappel", "--language", "fr"}), 2,
                      "tawasul: simulate template-status: --status is required (usage: tawasul simulate template-status --name NAME "
                      "--language CODE --status APPROVED|REJECTED|PAUSED|... [--reason TEXT])" + suffix);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "template-status", "--name", "rappel", "--language", "fr", "--status", "approved"}),
                      2, "tawasul: simulate template-status: --status must be one of Meta's upper-case names such as APPROVED, got 'approved'" +
                             suffix);
        CPPUNIT_ASSERT_EQUAL(2, runCommand({TAWASUL_BINARY, "simulate", "template-status", "--name", "\xff", "--language", "fr", "--status",
                                            "APPROVED"}).first);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "account-alert", "--event", "DISABLED_UPDATE"}), 2,
                      "tawasul: simulate account-alert: --event DISABLED_UPDATE needs --ban-state (usage: tawasul simulate account-alert "
                      "--event ACCOUNT_RESTRICTION [--restriction TYPE [--expires UNIX_SECONDS]] | --event DISABLED_UPDATE --ban-state "
                      "DISABLE|REINSTATE|SCHEDULE_FOR_DISABLE)" + suffix);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "account-alert", "--event", "ACCOUNT_RESTRICTION", "--expires", "1"}), 2,
                      "tawasul: simulate account-alert: --expires goes with --restriction" + suffix);
        assertOneLine(runCommand({TAWASUL_BINARY, "simulate", "account-alert", "--event", "ACCOUNT_RESTRICTION", "--ban-state", "DISABLE"}), 2,
                      "tawasul: simulate account-alert: --ban-state goes with --event DISABLED_UPDATE, not ACCOUNT_RESTRICTION" + suffix);
        CPPUNIT_ASSERT_EQUAL(2, runCommand({TAWASUL_BINARY, "simulate", "account-alert", "--event", "ACCOUNT_RESTRICTION", "--restriction",
                                            "RESTRICTED_BIZ_INITIATED_MESSAGING", "--expires", "soon"}).first);
        CPPUNIT_ASSERT_EQUAL(2, runCommand({TAWASUL_BINARY, "simulate", "account-alert", "--event", "restriction"}).first);
        CPPUNIT_ASSERT_EQUAL(2, runCommand({TAWASUL_BINARY, "simulate", "post"}).first);
        assertOneLine(runCommand({TAWASUL_BINARY, "templates"}), 2, "tawasul: usage: tawasul templates sync" + suffix);
        assertOneLine(runCommand({TAWASUL_BINARY, "templates", "pull"}), 2,
                      "tawasul: templates: unknown action 'pull' (usage: tawasul templates sync)" + suffix);
        CPPUNIT_ASSERT_EQUAL(2, runCommand({TAWASUL_BINARY, "templates", "sync", "now"}).first);
        CPPUNIT_ASSERT_EQUAL(2, runCommand({TAWASUL_BINARY, "simulate", "verify", "--url", "https://example.com/x"}).first);
        CPPUNIT_ASSERT_EQUAL(2, runCommand({TAWASUL_BINARY, "simulate"}).first);
        // The test configuration listens on port 0: there is no URL to derive.
        Installation install;
        assertOneLine(install.cli({"simulate", "verify"}), 2,
                      "tawasul: simulate: server.listen has port 0 (the host picks one when it starts): give --url "
                      "http://HOST:PORT/webhooks/whatsapp" + suffix);
    }

    void simulateWithNothingListening() {
        Installation install;
        const std::string url = "http://127.0.0.1:" + std::to_string(closedPort()) + "/webhooks/whatsapp";
        // No app secret yet: say how to set one.
        assertOneLine(install.cli({"simulate", "inbound", "--from", "+213 555 12 34 56", "--text", "Salam", "--url", url}), 1,
                      "tawasul: no app secret to sign with: run `tawasul settings set whatsapp.cloud.app_secret --stdin`");
        assertOneLine(install.cli({"simulate", "verify", "--url", url}), 1,
                      "tawasul: no verify token configured: run `tawasul settings set whatsapp.webhook.verify_token --stdin`");
        CPPUNIT_ASSERT_EQUAL(0, install.cli({"settings", "set", "whatsapp.cloud.app_secret", "fixture-app-secret"}).first);
        assertOneLine(install.cli({"simulate", "inbound", "--from", "+213 555 12 34 56", "--text", "Salam", "--url", url}), 1,
                      "tawasul: cannot POST " + url + ": Connection refused");
        assertOneLine(install.cli({"simulate", "post", std::string(TAWASUL_FIXTURES_DIR) + "/text-fr.json", "--url", url}), 1,
                      "tawasul: cannot POST " + url + ": Connection refused");
        assertOneLine(install.cli({"simulate", "post", install.dir.file("absent.json"), "--url", url}), 1,
                      "tawasul: cannot read " + install.dir.file("absent.json") + ": No such file or directory");
    }

    void simulateAgainstAFakeReceiver() {
        Installation install;
        FakeReceiver receiver("verify-me", "fixture-app-secret");
        const std::string url = receiver.url();
        CPPUNIT_ASSERT_EQUAL(0, install.cli({"settings", "set", "whatsapp.cloud.app_secret", "fixture-app-secret"}).first);
        CPPUNIT_ASSERT_EQUAL(0, install.cli({"settings", "set", "whatsapp.webhook.verify_token", "verify-me"}).first);
        CPPUNIT_ASSERT_EQUAL(0, install.cli({"settings", "set", "whatsapp.cloud.phone_number_id", "106540352242922"}).first);

        // verify: the handshake with the configured token, the challenge checked.
        assertOneLine(install.cli({"simulate", "verify", "--url", url}), 0, "ok: " + url + " answered the verification challenge");
        auto seen = receiver.last();
        CPPUNIT_ASSERT_EQUAL(std::string("GET"), seen.method);
        assertContains(seen.uri, "hub.mode=subscribe");
        assertContains(seen.uri, "hub.verify_token=verify-me");
        CPPUNIT_ASSERT_EQUAL(0, install.cli({"settings", "set", "whatsapp.webhook.verify_token", "stale"}).first);
        assertOneLine(install.cli({"simulate", "verify", "--url", url}), 1,
                      "tawasul: verification failed: " + url + " answered HTTP 403 Forbidden: forbidden");

        // inbound: Meta's shape and escaping, signed with the app secret.
        auto inbound = install.cli({"simulate", "inbound", "--from", "+213 661 23 45 67", "--text", "السلام عليكم / 😀", "--name", "شركة النور",
                                    "--url", url});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(inbound.second, 0, inbound.first);
        seen = receiver.last();
        CPPUNIT_ASSERT_EQUAL(std::string("POST"), seen.method);
        CPPUNIT_ASSERT_EQUAL(std::string("/webhooks/whatsapp"), seen.uri);
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), seen.contentType);
        CPPUNIT_ASSERT_EQUAL(tawasul::sdk::webhookSignature(seen.body, "fixture-app-secret"), seen.signature);
        assertContains(seen.body, "\\u0627\\u0644\\u0633\\u0644\\u0627\\u0645");
        assertContains(seen.body, " \\/ \\ud83d\\ude00\"");
        for (unsigned char c : seen.body) CPPUNIT_ASSERT(c < 0x80);
        auto value = firstValue(seen.body);
        CPPUNIT_ASSERT_EQUAL(std::string("whatsapp"), value->getValue<std::string>("messaging_product"));
        CPPUNIT_ASSERT_EQUAL(std::string("106540352242922"), value->getObject("metadata")->getValue<std::string>("phone_number_id"));
        auto contact = value->getArray("contacts")->getObject(0);
        CPPUNIT_ASSERT_EQUAL(std::string("213661234567"), contact->getValue<std::string>("wa_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("شركة النور"), contact->getObject("profile")->getValue<std::string>("name"));
        auto message = value->getArray("messages")->getObject(0);
        CPPUNIT_ASSERT_EQUAL(std::string("213661234567"), message->getValue<std::string>("from"));
        CPPUNIT_ASSERT_EQUAL(std::string("text"), message->getValue<std::string>("type"));
        CPPUNIT_ASSERT_EQUAL(std::string("السلام عليكم / 😀"), message->getObject("text")->getValue<std::string>("body"));
        const std::string wamid = message->getValue<std::string>("id");
        CPPUNIT_ASSERT(wamid.rfind("wamid.SIM", 0) == 0 && wamid.size() == 9 + 32);
        const auto timestamp = std::stoll(message->getValue<std::string>("timestamp"));
        CPPUNIT_ASSERT(std::abs(timestamp - static_cast<long long>(std::time(nullptr))) < 60);
        CPPUNIT_ASSERT_EQUAL("message " + wamid + "\nHTTP 200 OK\nok\n", inbound.second);

        auto chosen = install.cli({"simulate", "inbound", "--from", "213555123456", "--text", "x", "--wamid", "wamid.MINE",
                                   "--phone-number-id", "42", "--url", url});
        CPPUNIT_ASSERT_EQUAL(0, chosen.first);
        value = firstValue(receiver.last().body);
        CPPUNIT_ASSERT_EQUAL(std::string("wamid.MINE"), value->getArray("messages")->getObject(0)->getValue<std::string>("id"));
        CPPUNIT_ASSERT_EQUAL(std::string("42"), value->getObject("metadata")->getValue<std::string>("phone_number_id"));

        // Every way people write one number becomes the wa_id Meta would send, so one person stays
        // one contact; without --name the body has no profile, so a known name is not overwritten.
        for (const char* form : {"0555 12 34 56", "00213555123456", "+213 555 12 34 56", "555123456"}) {
            CPPUNIT_ASSERT_EQUAL_MESSAGE(form, 0, install.cli({"simulate", "inbound", "--from", form, "--text", "x", "--url", url}).first);
            value = firstValue(receiver.last().body);
            contact = value->getArray("contacts")->getObject(0);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(form, std::string("213555123456"), contact->getValue<std::string>("wa_id"));
            CPPUNIT_ASSERT_MESSAGE(form, !contact->has("profile"));
            CPPUNIT_ASSERT_EQUAL(std::string("213555123456"), value->getArray("messages")->getObject(0)->getValue<std::string>("from"));
        }
        // A user whose username hides the phone: user_id and from_user_id, a username, no wa_id and no from.
        CPPUNIT_ASSERT_EQUAL(0, install.cli({"simulate", "inbound", "--user-id", "DZ.13491208655302741918", "--username", "amina.dz",
                                             "--text", "x", "--url", url}).first);
        value = firstValue(receiver.last().body);
        contact = value->getArray("contacts")->getObject(0);
        CPPUNIT_ASSERT_EQUAL(std::string("DZ.13491208655302741918"), contact->getValue<std::string>("user_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("amina.dz"), contact->getObject("profile")->getValue<std::string>("username"));
        CPPUNIT_ASSERT(!contact->has("wa_id") && !contact->getObject("profile")->has("name"));
        auto byBsuid = value->getArray("messages")->getObject(0);
        CPPUNIT_ASSERT_EQUAL(std::string("DZ.13491208655302741918"), byBsuid->getValue<std::string>("from_user_id"));
        CPPUNIT_ASSERT(!byBsuid->has("from"));
        // Both ids, as Meta sends them for a user whose phone it may still share.
        CPPUNIT_ASSERT_EQUAL(0, install.cli({"simulate", "inbound", "--from", "0555 12 34 56", "--user-id", "DZ.ENT.1181579921", "--name", "Amina",
                                             "--text", "x", "--url", url}).first);
        value = firstValue(receiver.last().body);
        contact = value->getArray("contacts")->getObject(0);
        CPPUNIT_ASSERT_EQUAL(std::string("213555123456|DZ.ENT.1181579921|Amina"),
                             contact->getValue<std::string>("wa_id") + "|" + contact->getValue<std::string>("user_id") + "|" +
                                 contact->getObject("profile")->getValue<std::string>("name"));
        byBsuid = value->getArray("messages")->getObject(0);
        CPPUNIT_ASSERT_EQUAL(std::string("213555123456|DZ.ENT.1181579921"),
                             byBsuid->getValue<std::string>("from") + "|" + byBsuid->getValue<std::string>("from_user_id"));
        assertOneLine(install.cli({"simulate", "inbound", "--from", "0999", "--text", "x", "--url", url}), 2,
                      "tawasul: simulate: --from must be a phone number such as 0555 12 34 56 or +213555123456, got '0999' (see tawasul --help)");

        // status: failed carries errors[].
        assertOneLine(install.cli({"simulate", "status", "--wamid", "wamid.OUT1", "--status", "failed", "--to", "+213555123456",
                                   "--error-code", "131047", "--error-title", "Re-engagement message", "--url", url}),
                      0, "HTTP 200 OK\nok");
        seen = receiver.last();
        CPPUNIT_ASSERT_EQUAL(tawasul::sdk::webhookSignature(seen.body, "fixture-app-secret"), seen.signature);
        auto status = firstValue(seen.body)->getArray("statuses")->getObject(0);
        CPPUNIT_ASSERT_EQUAL(std::string("wamid.OUT1"), status->getValue<std::string>("id"));
        CPPUNIT_ASSERT_EQUAL(std::string("failed"), status->getValue<std::string>("status"));
        CPPUNIT_ASSERT_EQUAL(std::string("213555123456"), status->getValue<std::string>("recipient_id"));
        CPPUNIT_ASSERT_EQUAL(131047, status->getArray("errors")->getObject(0)->getValue<int>("code"));
        CPPUNIT_ASSERT_EQUAL(0, install.cli({"simulate", "status", "--wamid", "wamid.OUT1", "--status", "delivered", "--url", url}).first);
        CPPUNIT_ASSERT(!firstValue(receiver.last().body)->getArray("statuses")->getObject(0)->has("errors"));

        // post: the file's bytes exactly, signed, or with the fixture's own signature.
        const std::string fixtureFile = std::string(TAWASUL_FIXTURES_DIR) + "/text-ar.json";
        const std::string fixture = readFile(fixtureFile);
        std::string sig = readFile(fixtureFile + ".sig");
        while (!sig.empty() && sig.back() == '\n') sig.pop_back();
        assertOneLine(install.cli({"simulate", "post", fixtureFile, "--url", url}), 0, "HTTP 200 OK\nok");
        CPPUNIT_ASSERT(receiver.last().body == fixture);
        CPPUNIT_ASSERT_EQUAL(sig, receiver.last().signature);
        assertOneLine(install.cli({"simulate", "post", fixtureFile, "--signature", sig, "--url", url}), 0, "HTTP 200 OK\nok");
        assertOneLine(install.cli({"simulate", "post", fixtureFile, "--signature", "sha256=00", "--url", url}), 1,
                      "HTTP 403 Forbidden\nbad signature");
        CPPUNIT_ASSERT_EQUAL(std::string("sha256=00"), receiver.last().signature);

        // Anything but a 200 is a failure.
        receiver.answer(500);
        assertOneLine(install.cli({"simulate", "post", fixtureFile, "--url", url}), 1, "HTTP 500 Internal Server Error\nforced");
    }

    void simulateTargetsTheConfiguredPath() {
        // Without --url: http:// + server.listen + the webhook_receiver's path. `post --signature`
        // needs neither the database nor the master key.
        FakeReceiver receiver("t", "fixture-app-secret");
        TempDir dir;
        std::string yaml = testConfigYaml(dir, TAWASUL_TEST_PLUGIN_DIR, "    - webhook_receiver: { path: /custom/hook }\n");
        const std::string listen = "127.0.0.1:0";
        yaml.replace(yaml.find(listen), listen.size(), "127.0.0.1:" + std::to_string(receiver.port()));
        writeFile(dir.file("t.yaml"), yaml);
        const std::string fixtureFile = std::string(TAWASUL_FIXTURES_DIR) + "/status-read.json";
        auto posted = runCommand({TAWASUL_BINARY, "--config", dir.file("t.yaml"), "simulate", "post", fixtureFile, "--signature",
                                  "sha256=" + std::string(64, '0')});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(posted.second, 1, posted.first);
        CPPUNIT_ASSERT_EQUAL(std::string("/custom/hook"), receiver.last().uri);
        CPPUNIT_ASSERT(receiver.last().body == readFile(fixtureFile));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SettingsEventsCliTest);
