// The webhook receiver's event-driven intake (`listen:`), end to end against the real binary: the
// same answers as the host's server for Meta's requests, the HTTP it must get right by itself
// (keep-alive, pipelining, 100-continue, refusals that close), and no acknowledged event lost when
// the host is killed or stopped under load.
#include <cppunit/extensions/HelperMacros.h>

#include <functional>
#include <regex>
#include <thread>

#include <Poco/Exception.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include "Assertions.hpp"
#include "HostProcess.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"
#include "whatsapp/MetaPayloads.hpp"
#include "TestSupport.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;

namespace {

const std::string kPath = kWebhookPath;

HostOptions intakeHost(const std::string& listen = "127.0.0.1:0", const std::string& moreConfig = "") {
    HostOptions options = withWebhookSecrets();
    options.pluginsYaml = "    - webhook_receiver: { listen: \"" + listen + "\"" + moreConfig + " }\n    - contact_matcher: {}\n    - inbound_router: {}\n";
    return options;
}

// The port the intake logged at its latest start (port 0 in the config: the kernel chose).
int intakePort(const HostProcess& host) {
    static const std::regex listening(R"(webhook intake listening on 127\.0\.0\.1:(\d+)/)");
    const std::string log = host.log();
    int port = 0;
    for (std::sregex_iterator it(log.begin(), log.end(), listening), end; it != end; ++it) port = std::stoi((*it)[1]);
    if (port == 0) throw std::runtime_error("the intake did not say where it listens:\n" + log);
    return port;
}

HttpResult intakeRequest(const HostProcess& host, const std::string& method, const std::string& path, const std::string& body = "",
                         const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return httpRequest(method, "127.0.0.1", intakePort(host), path, body, headers);
}

HttpResult intakePost(const HostProcess& host, const std::string& body, const std::string& signature) {
    return intakeRequest(host, "POST", kPath, body, {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", signature}});
}

// Posts a body to the intake at `port`, signed with the fixture secret.
std::function<HttpResult(const std::string&)> signedPostsTo(int port) {
    return [port](const std::string& body) {
        return httpRequest("POST", "127.0.0.1", port, kPath, body, {{"X-Hub-Signature-256", sdk::webhookSignature(body, kFixtureSecret)}});
    };
}

std::string signedPost(const std::string& body, const std::string& extraHeaders = "") {
    return "POST " + kPath + " HTTP/1.1\r\nHost: intake\r\nContent-Type: application/json\r\nX-Hub-Signature-256: " +
           sdk::webhookSignature(body, kFixtureSecret) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extraHeaders +
           "\r\n" + body;
}

std::string textBody(const std::string& wamid) {
    host::InboundText message;
    message.from = "213661234567";
    message.name = "Amina";
    message.wamid = wamid;
    message.timestamp = 1764064860;
    message.text = "Bonjour";
    return host::inboundTextBody(message);
}

// A client that speaks HTTP by hand, to send what libraries will not.
class RawClient {
public:
    explicit RawClient(int port) : socket_(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port))) {
        socket_.setReceiveTimeout(Poco::Timespan(10, 0));
    }
    void send(const std::string& bytes) { socket_.sendBytes(bytes.data(), static_cast<int>(bytes.size())); }

    struct Answer {
        int status = 0;
        std::string head;
        std::string body;
    };
    // The next answer (an interim 100 included), read by its Content-Length.
    Answer next() {
        std::size_t end;
        while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) fill();
        Answer answer;
        answer.head = buffer_.substr(0, end + 4);
        answer.status = std::stoi(answer.head.substr(9, 3));
        std::size_t length = 0;
        static const std::regex contentLength(R"(\r\nContent-Length: (\d+)\r\n)", std::regex::icase);
        std::smatch match;
        if (std::regex_search(answer.head, match, contentLength)) length = std::stoul(match[1]);
        while (buffer_.size() < end + 4 + length) fill();
        answer.body = buffer_.substr(end + 4, length);
        buffer_.erase(0, end + 4 + length);
        return answer;
    }
    // True when the server closed the connection (after any answer already read).
    bool closedByServer() {
        char byte;
        try {
            return buffer_.empty() && socket_.receiveBytes(&byte, 1) == 0;
        } catch (const Poco::TimeoutException&) {
            return false;  // still open after the receive timeout
        } catch (const Poco::Exception&) {
            return true;  // reset
        }
    }

private:
    void fill() {
        char chunk[8192];
        const int received = socket_.receiveBytes(chunk, sizeof chunk);
        if (received <= 0) throw std::runtime_error("the server closed the connection; had: " + buffer_);
        buffer_.append(chunk, static_cast<std::size_t>(received));
    }
    Poco::Net::StreamSocket socket_;
    std::string buffer_;
};

}  // namespace

class WebhookIntakeTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(WebhookIntakeTest);
    CPPUNIT_TEST(everyFixtureIsStoredByteForByteAndProcessed);
    CPPUNIT_TEST(refusesAndVerifiesLikeTheHostServer);
    CPPUNIT_TEST(keepAlivePipeliningAndContinue);
    CPPUNIT_TEST(unreadableRequestsGetAPreciseStatusThenAClose);
    CPPUNIT_TEST(aHundredThousandPipelinedRequestsAreAnsweredInOrder);
    CPPUNIT_TEST(aClientThatLeavesEarlyLosesNothing);
    CPPUNIT_TEST(connectionsBeyondTheLimitAreClosedAndCounted);
    CPPUNIT_TEST(slowAndIdleClientsFollowTheServerTimeouts);
    CPPUNIT_TEST(everyAcknowledgedEventSurvivesSigkill);
    CPPUNIT_TEST(sigtermAnswersEveryStoredEvent);
    CPPUNIT_TEST(badListenSettingsStopTheStart);
    CPPUNIT_TEST_SUITE_END();

public:
    void everyFixtureIsStoredByteForByteAndProcessed() {
        HostProcess host(intakeHost());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        std::size_t posted = 0;
        for (const std::string& name : fixtureNames()) {
            const std::string body = fixture(name);
            const auto response = intakePost(host, body, fixtureSignature(name));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name + ": " + response.body, 200, response.status);
            CPPUNIT_ASSERT_EQUAL(std::string("ok\n"), response.body);
            CPPUNIT_ASSERT(!response.headers.at("date").empty());
            const std::string id = response.headers.at("x-tawasul-event-id");
            CPPUNIT_ASSERT_MESSAGE(name, queryText(*db, "SELECT CAST(payload AS TEXT) FROM whatsapp_webhook_events WHERE id = " + id) == body);
            ++posted;
        }
        CPPUNIT_ASSERT(posted >= 11);
        const std::string count = std::to_string(posted);
        CPPUNIT_ASSERT_EQUAL(count, queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
        const std::string metrics = host.request("GET", "/metrics").body;
        assertContains(metrics, "tawasul_webhook_stored_total " + count + "\n");
        assertContains(metrics, "tawasul_webhook_ack_seconds_count " + count + "\n");
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(count, queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status = 'processed'"));
        // The host's own server still takes webhooks too.
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, textBody("wamid.HOSTDOOR")).status);
    }

    void refusesAndVerifiesLikeTheHostServer() {
        HostProcess host(intakeHost());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        std::string body = fixture("text-fr.json");
        body[body.size() / 2] ^= 0x01;
        CPPUNIT_ASSERT_EQUAL(403, intakePost(host, body, fixtureSignature("text-fr.json")).status);
        CPPUNIT_ASSERT_EQUAL(401, intakeRequest(host, "POST", kPath, fixture("text-fr.json")).status);
        CPPUNIT_ASSERT_EQUAL(403, intakePost(host, fixture("text-fr.json"), "sha1=abc").status);

        const auto ok = intakeRequest(host, "GET", kPath + "?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444");
        CPPUNIT_ASSERT_EQUAL(200, ok.status);
        CPPUNIT_ASSERT_EQUAL(std::string("1158201444"), ok.body);
        CPPUNIT_ASSERT_EQUAL(403, intakeRequest(host, "GET", kPath + "?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1").status);
        CPPUNIT_ASSERT_EQUAL(400, intakeRequest(host, "GET", kPath).status);

        const auto elsewhere = intakeRequest(host, "GET", "/admin/inbox");
        CPPUNIT_ASSERT_EQUAL(404, elsewhere.status);
        const auto put = intakeRequest(host, "PUT", kPath, "{}");
        CPPUNIT_ASSERT_EQUAL(405, put.status);
        CPPUNIT_ASSERT_EQUAL(std::string("GET, POST"), put.headers.at("allow"));

        const std::string head = "{\"object\":\"whatsapp_business_account\",\"entry\":[],\"padding\":\"";
        const std::string largest = head + std::string(3 * 1024 * 1024 - head.size() - 2, 'p') + "\"}";
        CPPUNIT_ASSERT_EQUAL(200, intakePost(host, largest, sdk::webhookSignature(largest, kFixtureSecret)).status);
        const std::string tooBig = largest + " ";
        CPPUNIT_ASSERT_EQUAL(413, intakePost(host, tooBig, sdk::webhookSignature(tooBig, kFixtureSecret)).status);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
        assertContains(host.request("GET", "/metrics").body, "tawasul_webhook_rejected_total{reason=\"bad_signature\"} 1\n");
    }

    void keepAlivePipeliningAndContinue() {
        HostProcess host(intakeHost());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        RawClient client(intakePort(host));
        // Two requests in one write: two answers, in order, on the same connection.
        client.send(signedPost(textBody("wamid.PIPE1")) + signedPost(textBody("wamid.PIPE2")));
        const auto first = client.next();
        const auto second = client.next();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(first.head, 200, first.status);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(second.head, 200, second.status);
        assertContains(first.head, "X-Tawasul-Event-Id: 1\r\n");
        assertContains(second.head, "X-Tawasul-Event-Id: 2\r\n");
        assertLacks(first.head, "Connection: close");
        // Expect: 100-continue: the interim answer first, then the body, then the 200.
        const std::string body = textBody("wamid.CONTINUE");
        const std::string request = signedPost(body, "Expect: 100-continue\r\n");
        client.send(request.substr(0, request.size() - body.size()));
        CPPUNIT_ASSERT_EQUAL(100, client.next().status);
        client.send(body);
        const auto third = client.next();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(third.head, 200, third.status);
        CPPUNIT_ASSERT_EQUAL(std::string("3"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
        CPPUNIT_ASSERT_EQUAL(body, queryText(*db, "SELECT CAST(payload AS TEXT) FROM whatsapp_webhook_events WHERE id = 3"));
        // Connection: close is honoured.
        client.send(signedPost(textBody("wamid.LAST"), "Connection: close\r\n"));
        const auto last = client.next();
        CPPUNIT_ASSERT_EQUAL(200, last.status);
        assertContains(last.head, "Connection: close\r\n");
        CPPUNIT_ASSERT(client.closedByServer());
    }

    void unreadableRequestsGetAPreciseStatusThenAClose() {
        HostProcess host(intakeHost());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const std::string body = textBody("wamid.BAD");
        const std::string signature = sdk::webhookSignature(body, kFixtureSecret);
        const std::string headers = "Host: intake\r\nX-Hub-Signature-256: " + signature + "\r\n";
        const std::vector<std::pair<std::string, int>> cases = {
            {"NONSENSE\r\n\r\n", 400},
            {"POST " + kPath + " HTTP/1.1\r\n" + headers + "Transfer-Encoding: chunked\r\n\r\n" + "5\r\nhello\r\n0\r\n\r\n", 411},
            {"POST " + kPath + " HTTP/1.1\r\n" + headers + "Content-Length: -5\r\n\r\n", 400},
            {"POST " + kPath + " HTTP/1.1\r\n" + headers + "Content-Length: many\r\n\r\n", 400},
            {"POST " + kPath + " HTTP/1.1\r\n" + headers + "Content-Length: " + std::to_string(3 * 1024 * 1024 + 1) + "\r\n\r\n", 413},
            {"POST " + kPath + " HTTP/1.1\r\n" + headers + "X-Padding: " + std::string(20000, 'x') + "\r\n\r\n", 431},
        };
        for (const auto& [request, status] : cases) {
            RawClient client(intakePort(host));
            client.send(request);
            const auto answer = client.next();
            CPPUNIT_ASSERT_EQUAL_MESSAGE(request.substr(0, 80), status, answer.status);
            assertContains(answer.head, "Connection: close\r\n");
            CPPUNIT_ASSERT_MESSAGE(request.substr(0, 80), client.closedByServer());
        }
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
        CPPUNIT_ASSERT_EQUAL(200, intakePost(host, body, signature).status);  // and it still serves
    }

    void aHundredThousandPipelinedRequestsAreAnsweredInOrder() {
        HostProcess host(intakeHost());
        host.start();
        RawClient client(intakePort(host));
        // 3.3 MB of tiny requests, sent while the answers are read (a client that does not read
        // would block both sides: that is TCP, not the intake).
        constexpr int kRequests = 100000;
        std::thread sender([&] {
            std::string burst;
            for (int i = 0; i < kRequests; ++i) burst += "GET /n" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n";
            try {
                client.send(burst);
            } catch (const std::exception&) {
                // the reader below reports what went wrong
            }
        });
        int inOrder = 0;
        try {
            for (int i = 0; i < kRequests; ++i) {
                const auto answer = client.next();
                if (answer.status == 404 && answer.body == "no route for /n" + std::to_string(i) + "\n") ++inOrder;
            }
        } catch (const std::exception& error) {
            sender.join();
            CPPUNIT_FAIL("after " + std::to_string(inOrder) + " answers: " + error.what() + "\n" + host.log().substr(0, 2000));
        }
        sender.join();
        CPPUNIT_ASSERT_EQUAL(kRequests, inOrder);
        CPPUNIT_ASSERT_EQUAL(200, intakeRequest(host, "GET", kPath + "?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=7").status);
    }

    void aClientThatLeavesEarlyLosesNothing() {
        HostProcess host(intakeHost());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        for (int i = 0; i < 20; ++i) {
            RawClient client(intakePort(host));
            client.send(signedPost(textBody("wamid.GONE" + std::to_string(i))));
        }  // closed before any answer
        waitUntil([&] { return queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events") == "20"; }, "the events of clients that left");
        CPPUNIT_ASSERT_EQUAL(200, intakePost(host, textBody("wamid.AFTER"), sdk::webhookSignature(textBody("wamid.AFTER"), kFixtureSecret)).status);
    }

    void connectionsBeyondTheLimitAreClosedAndCounted() {
        HostProcess host(intakeHost("127.0.0.1:0", ", max_connections: 2"));
        host.start();
        RawClient first(intakePort(host));
        RawClient second(intakePort(host));
        first.send(signedPost(textBody("wamid.CAP1")));
        CPPUNIT_ASSERT_EQUAL(200, first.next().status);  // both are open now
        RawClient third(intakePort(host));
        CPPUNIT_ASSERT(third.closedByServer());
        waitUntil([&] { return host.log().find("webhook intake: closed 1 connection at accept: the limit of 2 (max_connections) was reached") != std::string::npos; },
                  "the warning about the refused connection");
        second.send(signedPost(textBody("wamid.CAP2")));
        CPPUNIT_ASSERT_EQUAL(200, second.next().status);
    }

    void slowAndIdleClientsFollowTheServerTimeouts() {
        HostOptions options = intakeHost();
        options.serverYaml = "  request_timeout_seconds: 1\n  keep_alive_seconds: 1\n";
        HostProcess host(options);
        host.start();
        // Half a request, then nothing: 408 once the request timeout has passed, then a close.
        RawClient slow(intakePort(host));
        const std::string request = signedPost(textBody("wamid.SLOW"));
        slow.send(request.substr(0, request.size() / 2));
        const auto started = std::chrono::steady_clock::now();
        const auto late = slow.next();
        CPPUNIT_ASSERT_EQUAL(408, late.status);
        CPPUNIT_ASSERT(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(900));
        CPPUNIT_ASSERT(slow.closedByServer());
        // An answered connection that stays quiet is closed after the keep-alive time.
        RawClient idle(intakePort(host));
        idle.send(signedPost(textBody("wamid.IDLE")));
        CPPUNIT_ASSERT_EQUAL(200, idle.next().status);
        CPPUNIT_ASSERT(idle.closedByServer());  // waits: the receive timeout is 10 s, the keep-alive 1 s
        auto db = openDatabase(host.databaseUrl());
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
    }

    void everyAcknowledgedEventSurvivesSigkill() {
        HostProcess host(intakeHost());
        host.start();
        const auto acknowledged = acknowledgedBeforeTheEnd(host, signedPostsTo(intakePort(host)), false);
        assertStoredAndProcessedOnce(host, acknowledged);
    }

    void sigtermAnswersEveryStoredEvent() {
        HostProcess host(intakeHost());
        host.start();
        const auto acknowledged = acknowledgedBeforeTheEnd(host, signedPostsTo(intakePort(host)), true);
        // A graceful stop answers what it stored: no event is in the database without its 200,
        // unless its client had already gone.
        auto db = openDatabase(host.databaseUrl());
        CPPUNIT_ASSERT_EQUAL(std::to_string(acknowledged.size()), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
        assertStoredAndProcessedOnce(host, acknowledged);
    }

    void badListenSettingsStopTheStart() {
        for (const std::string& listen : {std::string("nowhere"), std::string("127.0.0.1:99999"), std::string(":8081")}) {
            HostProcess host(intakeHost(listen));
            try {
                host.start();
                CPPUNIT_FAIL("the host started with listen: " + listen);
            } catch (const std::runtime_error& error) {
                assertContains(error.what(), "plugins.load[0].webhook_receiver.listen: must be HOST:PORT, such as 127.0.0.1:8081");
            }
        }
        Poco::Net::ServerSocket taken(Poco::Net::SocketAddress("127.0.0.1", 0));
        const std::string address = "127.0.0.1:" + std::to_string(taken.address().port());
        HostProcess host(intakeHost(address));
        try {
            host.start();
            CPPUNIT_FAIL("the host started on a port already taken");
        } catch (const std::runtime_error& error) {
            assertContains(error.what(), "webhook intake: cannot listen on " + address + ": Address already in use");
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(WebhookIntakeTest);
