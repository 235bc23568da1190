// The one HTTP server, end to end against the real binary, as a hostile client or an operator
// would try it: Meta's requests on any listener, keep-alive, pipelining, 100-continue, chunked
// bodies, the precise refusals (400/408/411/413/431) and their deadlines for a whole head and body,
// connection caps per address, CR/LF never written into a header, slow clients and open live
// streams that do not starve the door, a stream that stops reading dropped without holding up its
// publisher, and no acknowledged event lost when the host is stopped under load.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <regex>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include "AdminSession.hpp"
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
const char* const kPlugins[] = {"webhook_receiver", "contact_matcher", "inbound_router", "cloud_api", "outbox", "admin_inbox"};

// The six plugins and the test plugin stream_test (a live stream fed by bursts, a route that
// echoes a header), from a folder of links made in `dir`.
HostOptions withStreamPlugin(const TempDir& dir, HostOptions options = withWebhookSecrets()) {
    const auto plugins = dir.path() / "plugins";
    std::filesystem::create_directories(plugins);
    options.pluginsYaml.clear();
    for (const char* name : kPlugins) {
        std::filesystem::create_directory_symlink(std::filesystem::path(TAWASUL_PLUGIN_DIR) / name, plugins / name);
        options.pluginsYaml += std::string("    - ") + name + ": {}\n";
    }
    std::filesystem::create_directory_symlink(std::filesystem::path(TAWASUL_TEST_PLUGIN_DIR) / "stream_test", plugins / "stream_test");
    options.pluginsYaml += "    - stream_test: {}\n";
    options.pluginDir = plugins.string();
    return options;
}

// The port of the second listener (server.listeners), as the host logged it.
int secondPort(const HostProcess& host) {
    static const std::regex listening(R"(also listening on 127\.0\.0\.1:(\d+))");
    const std::string log = host.log();
    std::smatch match;
    if (!std::regex_search(log, match, listening)) throw std::runtime_error("no second listener in the log:\n" + log);
    return std::stoi(match[1]);
}

std::string signedPost(const std::string& body, const std::string& extraHeaders = "") {
    return "POST " + kPath + " HTTP/1.1\r\nHost: tawasul\r\nContent-Type: application/json\r\nX-Hub-Signature-256: " +
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

// Every connection is a descriptor: the load tests hold more than the usual soft limit of 1024.
void raiseFileLimit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

// A client that speaks HTTP by hand over a plain socket, to send what libraries will not: from a
// chosen loopback address, with a small receive buffer, a request in pieces.
class RawClient {
public:
    explicit RawClient(int port, const std::string& from = "127.0.0.1", int receiveBuffer = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket() failed");
        if (receiveBuffer > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        inet_pton(AF_INET, from.c_str(), &local.sin_addr);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) throw std::runtime_error("bind " + from + " failed");
        sockaddr_in remote{};
        remote.sin_family = AF_INET;
        remote.sin_port = htons(static_cast<std::uint16_t>(port));
        inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) throw std::runtime_error("connect failed");
    }
    ~RawClient() { ::close(fd_); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    void setDeadline(std::chrono::milliseconds deadline) { deadline_ = deadline; }
    void send(const std::string& bytes) {
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) throw std::runtime_error("send failed");
            sent += static_cast<std::size_t>(n);
        }
    }
    // False when the server has closed or reset the connection.
    bool trySend(const std::string& bytes) {
        return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
    }

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
    // Reads until `text` has arrived (it and what came before are dropped); false at a close.
    bool readUntil(const std::string& text) {
        std::size_t at;
        try {
            while ((at = buffer_.find(text)) == std::string::npos) fill();
        } catch (const std::exception& e) {
            lastError = e.what();
            return false;
        }
        buffer_.erase(0, at + text.size());
        return true;
    }
    // Reads what is there now, without waiting; false once the server has closed.
    bool drain(std::string& into) {
        char chunk[65536];
        for (;;) {
            const ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
            if (n > 0) {
                into.append(chunk, static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0) return false;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
    }
    // True when the server closed the connection (after any answer already read) within the deadline.
    bool closedByServer() {
        if (!buffer_.empty()) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(deadline_.count())) <= 0) return false;  // still open
        char byte;
        return ::recv(fd_, &byte, 1, 0) <= 0;
    }

private:
    void fill() {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(deadline_.count())) <= 0)
            throw std::runtime_error("no answer within " + std::to_string(deadline_.count()) + " ms; had: " + buffer_.substr(0, 300));
        char chunk[65536];
        const ssize_t received = ::recv(fd_, chunk, sizeof chunk, 0);
        if (received <= 0) throw std::runtime_error("the server closed the connection; had: " + buffer_.substr(0, 300));
        buffer_.append(chunk, static_cast<std::size_t>(received));
    }
public:
    std::string lastError;  // why readUntil last returned false

private:
    int fd_ = -1;
    std::string buffer_;
    std::chrono::milliseconds deadline_{10000};
};

std::string streamRequest(const std::string& cookie) {
    return "GET /admin/test/stream HTTP/1.1\r\nHost: tawasul\r\nAccept: text/event-stream\r\nCookie: " + cookie + "\r\n\r\n";
}

}  // namespace

class HttpServerTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(HttpServerTest);
    CPPUNIT_TEST(everyListenerServesEveryRouteWithTheSameMetrics);
    CPPUNIT_TEST(refusesAndVerifiesWebhooks);
    CPPUNIT_TEST(keepAlivePipeliningContinueAndChunkedBodies);
    CPPUNIT_TEST(unreadableRequestsGetAPreciseStatusThenAClose);
    CPPUNIT_TEST(aHundredThousandPipelinedRequestsAreAnsweredInOrder);
    CPPUNIT_TEST(aClientThatLeavesEarlyLosesNothing);
    CPPUNIT_TEST(wholeHeadAndBodyDeadlinesAndIdleKeepAlive);
    CPPUNIT_TEST(aClientOverThePerAddressCapIsRefusedWhileOthersAreServed);
    CPPUNIT_TEST(aTrustedProxyIsHeldToTheTotalOnly);
    CPPUNIT_TEST(crlfInAHeaderNeverReachesTheWire);
    CPPUNIT_TEST(slowClientsAndOpenStreamsDoNotStarveTheDoor);
    CPPUNIT_TEST(aStreamThatStopsReadingIsDroppedAndThePublisherNeverWaits);
    CPPUNIT_TEST(sigtermAnswersEveryStoredEvent);
    CPPUNIT_TEST(badListenSettingsStopTheStart);
    CPPUNIT_TEST_SUITE_END();

public:
    void everyListenerServesEveryRouteWithTheSameMetrics() {
        HostOptions options = withWebhookSecrets();
        options.serverYaml = "  listeners: [\"127.0.0.1:0\"]\n";
        HostProcess host(options);
        host.start();
        const int second = secondPort(host);
        CPPUNIT_ASSERT(second != host.port());
        const auto answered = [&] {  // 2xx answers so far, on every door
            static const std::regex twoHundreds(R"(tawasul_http_requests_total\{status="2xx"\} (\d+)\n)");
            const std::string metrics = host.request("GET", "/metrics").body;
            std::smatch match;
            CPPUNIT_ASSERT(std::regex_search(metrics, match, twoHundreds));
            return std::stoul(match[1]);
        };
        const std::size_t before = answered();
        auto db = openDatabase(host.databaseUrl());
        std::size_t posted = 0;
        for (const std::string& name : fixtureNames()) {
            const std::string body = fixture(name);
            const auto response = httpRequest("POST", "127.0.0.1", second, kPath, body,
                                              {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", fixtureSignature(name)}});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name + ": " + response.body, 200, response.status);
            CPPUNIT_ASSERT_EQUAL(std::string("ok\n"), response.body);
            CPPUNIT_ASSERT(!response.headers.at("date").empty());
            const std::string id = response.headers.at("x-tawasul-event-id");
            CPPUNIT_ASSERT_MESSAGE(name, queryText(*db, "SELECT CAST(payload AS TEXT) FROM whatsapp_webhook_events WHERE id = " + id) == body);
            ++posted;
        }
        CPPUNIT_ASSERT(posted >= 11);
        // Every route is on both doors: the pages too.
        CPPUNIT_ASSERT_EQUAL(302, httpRequest("GET", "127.0.0.1", second, "/admin/inbox").status);
        CPPUNIT_ASSERT_EQUAL(200, httpRequest("GET", "127.0.0.1", second, "/healthz").status);
        const std::string count = std::to_string(posted);
        const std::string metrics = host.request("GET", "/metrics").body;
        assertContains(metrics, "tawasul_webhook_stored_total " + count + "\n");
        // The webhooks and /healthz on the second door (and the first /metrics call), counted like
        // the first door's; and the page's redirect.
        CPPUNIT_ASSERT_EQUAL(before + 1 + posted + 1, answered() - 1);
        assertContains(metrics, "tawasul_http_requests_total{status=\"3xx\"} 1\n");
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(count, queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status = 'processed'"));
        // One access-log line per request, whichever door.
        assertContains(host.log(), "\"GET /healthz\" 200 ");
        assertContains(host.log(), "\"POST " + kPath + "\" 200 ");
    }

    void refusesAndVerifiesWebhooks() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        std::string body = fixture("text-fr.json");
        body[body.size() / 2] ^= 0x01;
        CPPUNIT_ASSERT_EQUAL(403, postWebhook(host, body, fixtureSignature("text-fr.json")).status);
        CPPUNIT_ASSERT_EQUAL(401, host.request("POST", kPath, fixture("text-fr.json")).status);
        CPPUNIT_ASSERT_EQUAL(403, postWebhook(host, fixture("text-fr.json"), "sha1=abc").status);

        const auto ok = host.request("GET", kPath + "?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444");
        CPPUNIT_ASSERT_EQUAL(200, ok.status);
        CPPUNIT_ASSERT_EQUAL(std::string("1158201444"), ok.body);
        CPPUNIT_ASSERT_EQUAL(403, host.request("GET", kPath + "?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1").status);
        CPPUNIT_ASSERT_EQUAL(400, host.request("GET", kPath).status);
        const auto put = host.request("PUT", kPath, "{}");
        CPPUNIT_ASSERT_EQUAL(405, put.status);
        CPPUNIT_ASSERT_EQUAL(std::string("GET, POST"), put.headers.at("allow"));

        const std::string head = "{\"object\":\"whatsapp_business_account\",\"entry\":[],\"padding\":\"";
        const std::string largest = head + std::string(3 * 1024 * 1024 - head.size() - 2, 'p') + "\"}";
        CPPUNIT_ASSERT_EQUAL(200, postWebhook(host, largest, sdk::webhookSignature(largest, kFixtureSecret)).status);
        const std::string tooBig = largest + " ";
        CPPUNIT_ASSERT_EQUAL(413, postWebhook(host, tooBig, sdk::webhookSignature(tooBig, kFixtureSecret)).status);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
        assertContains(host.request("GET", "/metrics").body, "tawasul_webhook_rejected_total{reason=\"bad_signature\"} 1\n");
    }

    void keepAlivePipeliningContinueAndChunkedBodies() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        RawClient client(host.port());
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
        CPPUNIT_ASSERT_EQUAL(body, queryText(*db, "SELECT CAST(payload AS TEXT) FROM whatsapp_webhook_events WHERE id = 3"));
        // A chunked body, in three chunks: stored exactly as the bytes they carry.
        const std::string chunked = textBody("wamid.CHUNKED");
        const std::size_t a = chunked.size() / 3, b = 2 * chunked.size() / 3;
        const auto hex = [](std::size_t n) {
            char text[20];
            std::snprintf(text, sizeof text, "%zx", n);
            return std::string(text);
        };
        client.send("POST " + kPath + " HTTP/1.1\r\nHost: tawasul\r\nTransfer-Encoding: chunked\r\nX-Hub-Signature-256: " +
                    sdk::webhookSignature(chunked, kFixtureSecret) + "\r\n\r\n" + hex(a) + "\r\n" + chunked.substr(0, a) + "\r\n" + hex(b - a) +
                    "\r\n" + chunked.substr(a, b - a) + "\r\n" + hex(chunked.size() - b) + "\r\n" + chunked.substr(b) + "\r\n0\r\n\r\n");
        const auto fourth = client.next();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(fourth.head, 200, fourth.status);
        CPPUNIT_ASSERT_EQUAL(chunked, queryText(*db, "SELECT CAST(payload AS TEXT) FROM whatsapp_webhook_events WHERE id = 4"));
        // Connection: close is honoured.
        client.send(signedPost(textBody("wamid.LAST"), "Connection: close\r\n"));
        const auto last = client.next();
        CPPUNIT_ASSERT_EQUAL(200, last.status);
        assertContains(last.head, "Connection: close\r\n");
        CPPUNIT_ASSERT(client.closedByServer());
        CPPUNIT_ASSERT_EQUAL(std::string("5"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
    }

    void unreadableRequestsGetAPreciseStatusThenAClose() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const std::string body = textBody("wamid.BAD");
        const std::string signature = sdk::webhookSignature(body, kFixtureSecret);
        const std::string headers = "Host: tawasul\r\nX-Hub-Signature-256: " + signature + "\r\n";
        const std::string overLimit = std::to_string(3 * 1024 * 1024 + 1);
        std::string hugeChunks;
        for (int i = 0; i < 4; ++i) hugeChunks += "100000\r\n" + std::string(0x100000, 'x') + "\r\n";
        const std::vector<std::pair<std::string, int>> cases = {
            {"NONSENSE\r\n\r\n", 400},
            {"POST " + kPath + " HTTP/1.1\r\n" + headers + "Content-Length: -5\r\n\r\n", 400},
            {"POST " + kPath + " HTTP/1.1\r\n" + headers + "Content-Length: many\r\n\r\n", 400},
            {"POST " + kPath + " HTTP/1.1\r\n" + headers + "\r\n", 411},
            // Refused from its head, before a byte of the body is read.
            {"POST " + kPath + " HTTP/1.1\r\n" + headers + "Content-Length: " + overLimit + "\r\n\r\n", 413},
            {"POST " + kPath + " HTTP/1.1\r\n" + headers + "Content-Length: " + overLimit + "\r\nExpect: 100-continue\r\n\r\n", 413},
            {"POST " + kPath + " HTTP/1.1\r\n" + headers + "Transfer-Encoding: chunked\r\n\r\n" + hugeChunks, 413},
            {"POST " + kPath + " HTTP/1.1\r\n" + headers + "X-Padding: " + std::string(20000, 'x') + "\r\n\r\n", 431},
        };
        for (const auto& [request, status] : cases) {
            RawClient client(host.port());
            client.trySend(request);
            const auto answer = client.next();
            CPPUNIT_ASSERT_EQUAL_MESSAGE(request.substr(0, 80), status, answer.status);
            assertContains(answer.head, "Connection: close\r\n");
            CPPUNIT_ASSERT_MESSAGE(request.substr(0, 80), client.closedByServer());
        }
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
        CPPUNIT_ASSERT_EQUAL(200, postWebhook(host, body, signature).status);  // and it still serves
        assertContains(host.log(), "\"POST " + kPath + "\" 413 ");             // refusals are in the access log too
    }

    void aHundredThousandPipelinedRequestsAreAnsweredInOrder() {
        HostProcess host(withWebhookSecrets());
        host.start();
        RawClient client(host.port());
        // 3.3 MB of tiny requests, sent while the answers are read (a client that does not read
        // would block both sides: that is TCP, not the server).
        constexpr int kRequests = 100000;
        std::thread sender([&] {
            std::string burst;
            for (int i = 0; i < kRequests; ++i) burst += "GET /n" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n";
            client.trySend(burst);
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
    }

    void aClientThatLeavesEarlyLosesNothing() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        for (int i = 0; i < 20; ++i) {
            RawClient client(host.port());
            client.send(signedPost(textBody("wamid.GONE" + std::to_string(i))));
        }  // closed before any answer
        waitUntil([&] { return queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events") == "20"; }, "the events of clients that left");
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, textBody("wamid.AFTER")).status);
    }

    void wholeHeadAndBodyDeadlinesAndIdleKeepAlive() {
        HostOptions options = withWebhookSecrets();
        options.serverYaml = "  head_timeout_seconds: 1\n  body_timeout_seconds: 1\n  keep_alive_seconds: 1\n";
        HostProcess host(options);
        host.start();
        // A client that trickles a byte every 200 ms never finishes: the deadline is for the whole
        // head (or body), not for each read, so it gets 408 and a close however busy it looks.
        const auto trickled = [&](const std::string& start, const std::string& trickle) {
            RawClient slow(host.port());
            slow.send(start);
            std::atomic<bool> done{false};
            std::thread feeder([&] {
                for (std::size_t i = 0; i < trickle.size() && !done; ++i) {
                    if (!slow.trySend(trickle.substr(i, 1))) return;
                    std::this_thread::sleep_for(std::chrono::milliseconds(200));
                }
            });
            RawClient::Answer answer;
            try {
                answer = slow.next();
            } catch (const std::exception&) {
            }
            done = true;
            feeder.join();
            CPPUNIT_ASSERT_EQUAL_MESSAGE(start.substr(0, 40), 408, answer.status);
            assertContains(answer.head, "Connection: close\r\n");
            CPPUNIT_ASSERT(slow.closedByServer());
        };
        trickled("GET /healthz HTTP/1.1\r\nHost: tawasul\r\n", "X-Slow-Header: " + std::string(100, 'z'));
        const std::string request = signedPost(textBody("wamid.SLOW"));
        const std::size_t bodyStart = request.find("\r\n\r\n") + 4;
        trickled(request.substr(0, bodyStart), request.substr(bodyStart));
        // An answered connection that stays quiet is closed after the keep-alive time; so is one
        // that never sends a byte.
        RawClient idle(host.port());
        idle.send(signedPost(textBody("wamid.IDLE")));
        CPPUNIT_ASSERT_EQUAL(200, idle.next().status);
        CPPUNIT_ASSERT(idle.closedByServer());
        RawClient silent(host.port());
        CPPUNIT_ASSERT(silent.closedByServer());
        auto db = openDatabase(host.databaseUrl());
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
        assertContains(host.log(), "\" 408 ");
    }

    void aClientOverThePerAddressCapIsRefusedWhileOthersAreServed() {
        HostOptions options = withWebhookSecrets();
        options.serverYaml = "  max_connections_per_address: 3\n";
        HostProcess host(options);
        host.start();
        // From an address nobody else uses: start()'s readiness probes come from 127.0.0.1, and
        // under load the server may still count one of them when the test connects.
        const std::string capped = "127.0.0.3";
        std::vector<std::unique_ptr<RawClient>> held;
        for (int i = 0; i < 3; ++i) {
            held.push_back(std::make_unique<RawClient>(host.port(), capped));
            held.back()->send("GET /healthz HTTP/1.1\r\nHost: tawasul\r\n\r\n");
            CPPUNIT_ASSERT_EQUAL(200, held.back()->next().status);  // open and counted
        }
        RawClient refused(host.port(), capped);
        refused.setDeadline(std::chrono::milliseconds(5000));
        CPPUNIT_ASSERT(refused.closedByServer());
        // Another address is served meanwhile, and so are the three held connections.
        RawClient other(host.port(), "127.0.0.2");
        other.send(signedPost(textBody("wamid.OTHER")));
        CPPUNIT_ASSERT_EQUAL(200, other.next().status);
        held[0]->send("GET /healthz HTTP/1.1\r\nHost: tawasul\r\n\r\n");
        CPPUNIT_ASSERT_EQUAL(200, held[0]->next().status);
        // From 127.0.0.1: the metrics allow-list's address.
        const auto metrics = host.request("GET", "/metrics");
        CPPUNIT_ASSERT_EQUAL(200, metrics.status);
        assertContains(metrics.body, "tawasul_http_connections_refused_total{reason=\"max_connections_per_address\"} 1\n");
        waitUntil([&] {
            return host.log().find("closed a connection from 127.0.0.3 at accept: the limit of 3 (server.max_connections_per_address) "
                                   "was reached") != std::string::npos;
        }, "the warning about the refused connection");
        // Once one of them goes, the address may connect again.
        held.pop_back();
        waitUntil([&] {
            RawClient again(host.port(), capped);
            return again.trySend("GET /healthz HTTP/1.1\r\nHost: tawasul\r\n\r\n") && again.readUntil("\r\n\r\nok\n");
        }, "a new connection once one of the three closed");
    }

    // A trusted proxy speaks for many clients: the per-address cap does not apply to it, and still
    // does to any other peer.
    void aTrustedProxyIsHeldToTheTotalOnly() {
        HostOptions options = withWebhookSecrets();
        options.serverYaml = "  max_connections_per_address: 2\n  trusted_proxies: [\"127.0.0.1\"]\n";
        HostProcess host(options);
        host.start();
        std::vector<std::unique_ptr<RawClient>> held;
        for (int i = 0; i < 4; ++i) {
            held.push_back(std::make_unique<RawClient>(host.port()));
            held.back()->send("GET /healthz HTTP/1.1\r\nHost: tawasul\r\n\r\n");
            CPPUNIT_ASSERT_EQUAL(200, held.back()->next().status);
        }
        std::vector<std::unique_ptr<RawClient>> others;
        for (int i = 0; i < 2; ++i) {
            others.push_back(std::make_unique<RawClient>(host.port(), "127.0.0.2"));
            others.back()->send("GET /healthz HTTP/1.1\r\nHost: tawasul\r\n\r\n");
            CPPUNIT_ASSERT_EQUAL(200, others.back()->next().status);
        }
        RawClient refused(host.port(), "127.0.0.2");
        refused.setDeadline(std::chrono::milliseconds(5000));
        CPPUNIT_ASSERT(refused.closedByServer());
    }

    void crlfInAHeaderNeverReachesTheWire() {
        TempDir plugins;
        HostProcess host(withStreamPlugin(plugins));
        host.start();
        // The legacy redirect builds Location from the encoded path: the CR LF stays text.
        RawClient client(host.port());
        client.send("GET /admin/whatsapp/x%0d%0aSet-Cookie:%20injected=1?tab=open HTTP/1.1\r\nHost: tawasul\r\n\r\n");
        const auto redirect = client.next();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(redirect.head, 301, redirect.status);
        assertContains(redirect.head, "\r\nLocation: /admin/messaging/whatsapp/x%0D%0ASet-Cookie:%20injected=1?tab=open\r\n");
        assertLacks(redirect.head, "\r\nSet-Cookie");
        // A handler that puts a line break into a header gets a 500, and the header is not written.
        for (const std::string& query : {std::string("value=a%0d%0aSet-Cookie:%20injected=1"), std::string("value=a%0aX-Injected:%201"),
                                         std::string("value=a%00b"), std::string("name=X-Bad%0d%0aSet-Cookie")}) {
            client.send("GET /test/header?" + query + " HTTP/1.1\r\nHost: tawasul\r\n\r\n");
            const auto answer = client.next();
            CPPUNIT_ASSERT_EQUAL_MESSAGE(query + "\n" + answer.head, 500, answer.status);
            assertLacks(answer.head, "injected");
            assertLacks(answer.head, "X-Injected");
            assertLacks(answer.head, "X-Echo");
        }
        client.send("GET /test/header?value=plain HTTP/1.1\r\nHost: tawasul\r\n\r\n");
        const auto plain = client.next();
        CPPUNIT_ASSERT_EQUAL(200, plain.status);
        assertContains(plain.head, "\r\nX-Echo: plain\r\n");
        assertContains(host.log(), "route GET /test/header set header 'X-Echo' with CR, LF or NUL");
    }

    void slowClientsAndOpenStreamsDoNotStarveTheDoor() {
        raiseFileLimit();
        TempDir plugins;
        HostOptions options = withStreamPlugin(plugins);
        options.serverYaml = "  max_connections: 4000\n  max_connections_per_address: 4000\n"
                             "  head_timeout_seconds: 120\n  body_timeout_seconds: 120\n  keep_alive_seconds: 120\n";
        HostProcess host(options);
        host.start();
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        // 300 clients stuck in their headers, 300 stuck in their bodies, 500 open live streams.
        std::vector<std::unique_ptr<RawClient>> held;
        for (int i = 0; i < 300; ++i) {
            held.push_back(std::make_unique<RawClient>(host.port()));
            held.back()->send("GET /healthz HTTP/1.1\r\nHost: tawasul\r\nX-Slow: ");
        }
        const std::string body = textBody("wamid.SLOWBODY");
        const std::string post = signedPost(body);
        const std::string postHead = post.substr(0, post.find("\r\n\r\n") + 4);
        for (int i = 0; i < 300; ++i) {
            held.push_back(std::make_unique<RawClient>(host.port()));
            held.back()->send(postHead + body.substr(0, 10));
        }
        // Opened a hundred at a time, as pages are opened: 500 at once would exceed the pool and its
        // queue (server.threads + max_queued, 272 here), and the rest would rightly get 503.
        std::vector<std::unique_ptr<RawClient>> streams;
        for (int wave = 0; wave < 5; ++wave) {
            for (int i = 0; i < 100; ++i) {
                streams.push_back(std::make_unique<RawClient>(host.port()));
                streams.back()->send(streamRequest(admin.cookie()));
            }
            for (std::size_t i = streams.size() - 100; i < streams.size(); ++i) {
                const bool opened = streams[i]->readUntil(": open\n\n");
                CPPUNIT_ASSERT_MESSAGE(streams[i]->lastError, opened);
            }
        }
        // Each probe on a fresh connection must be answered, correctly, within a second.
        auto db = openDatabase(host.databaseUrl());
        for (int i = 0; i < 10; ++i) {
            RawClient health(host.port());
            health.setDeadline(std::chrono::milliseconds(1000));
            health.send("GET /healthz HTTP/1.1\r\nHost: tawasul\r\n\r\n");
            const auto answer = health.next();
            CPPUNIT_ASSERT_EQUAL(200, answer.status);
            CPPUNIT_ASSERT_EQUAL(std::string("ok\n"), answer.body);
            RawClient webhook(host.port());
            webhook.setDeadline(std::chrono::milliseconds(1000));
            const std::string probe = textBody("wamid.PROBE" + std::to_string(i));
            webhook.send(signedPost(probe));
            const auto stored = webhook.next();
            CPPUNIT_ASSERT_EQUAL_MESSAGE(stored.head, 200, stored.status);
            const std::string id = stored.head.substr(stored.head.find("X-Tawasul-Event-Id: ") + 20);
            CPPUNIT_ASSERT_EQUAL(probe, queryText(*db, "SELECT CAST(payload AS TEXT) FROM whatsapp_webhook_events WHERE id = " +
                                                           id.substr(0, id.find('\r'))));
        }
        // They were all held the whole time: the streams are open and get the next event.
        const auto burst = admin.post("/admin/test/burst?count=1&bytes=10", {});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(burst.body, 200, burst.status);
        assertContains(burst.body, "\"open\":500}");
        for (auto& stream : streams) CPPUNIT_ASSERT(stream->readUntil("event: ping\n"));
        for (auto& slow : held) CPPUNIT_ASSERT(slow->trySend("z"));
        CPPUNIT_ASSERT_EQUAL(std::string("10"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
        held.clear();
        streams.clear();
    }

    void aStreamThatStopsReadingIsDroppedAndThePublisherNeverWaits() {
        TempDir plugins;
        HostOptions options = withStreamPlugin(plugins);
        options.serverYaml = "  stream_buffer_bytes: 1048576\n";
        HostProcess host(options);
        host.start();
        const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
        RawClient stalled(host.port(), "127.0.0.1", 4096);
        stalled.send(streamRequest(admin.cookie()));
        CPPUNIT_ASSERT(stalled.readUntil(": open\n\n"));  // and from here on it reads nothing
        RawClient reader(host.port());
        reader.send(streamRequest(admin.cookie()));
        CPPUNIT_ASSERT(reader.readUntil(": open\n\n"));
        // Bursts of 50 events of 8 KiB: each is answered (the publisher does not wait for the
        // stalled stream), the reading stream gets every event, until the stalled one's buffer is
        // full and the host drops it.
        std::string received;
        std::size_t published = 0, seen = 0;
        bool dropped = false;
        for (int round = 0; round < 200 && !dropped; ++round) {
            const auto burst = admin.post("/admin/test/burst?count=50&bytes=8192", {});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(burst.body, 200, burst.status);
            published += 50;
            dropped = burst.body.find("\"open\":1}") != std::string::npos;
            waitUntil([&] {
                CPPUNIT_ASSERT(reader.drain(received));
                for (std::size_t at; (at = received.find("event: ping\n")) != std::string::npos;) {
                    ++seen;
                    received.erase(0, at + 12);
                }
                return seen == published;
            }, "every event on the stream that reads");
        }
        CPPUNIT_ASSERT_MESSAGE("the stalled stream was never dropped", dropped);
        waitUntil([&] { return host.request("GET", "/metrics").body.find("tawasul_http_streams_dropped_total 1\n") != std::string::npos; },
                  "the dropped stream counted");
        waitUntil([&] { return host.log().find("dropped the live stream /admin/test/stream of 127.0.0.1") != std::string::npos; },
                  "the warning about the dropped stream");
    }

    void sigtermAnswersEveryStoredEvent() {
        HostProcess host(withWebhookSecrets());
        host.start();
        const int port = host.port();
        const auto acknowledged = acknowledgedBeforeTheEnd(host, [port](const std::string& body) {
            return httpRequest("POST", "127.0.0.1", port, kPath, body, {{"X-Hub-Signature-256", sdk::webhookSignature(body, kFixtureSecret)}});
        }, true);
        // A graceful stop answers what it stored: no event is in the database without its 200,
        // unless its client had already gone.
        auto db = openDatabase(host.databaseUrl());
        CPPUNIT_ASSERT_EQUAL(std::to_string(acknowledged.size()), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events"));
        assertStoredAndProcessedOnce(host, acknowledged);
    }

    void badListenSettingsStopTheStart() {
        {
            HostOptions options = withWebhookSecrets();
            options.pluginsYaml = "    - webhook_receiver: { listen: \"127.0.0.1:8081\" }\n";
            HostProcess host(options);
            try {
                host.start();
                CPPUNIT_FAIL("the host started with webhook_receiver.listen");
            } catch (const std::runtime_error& error) {
                assertContains(error.what(), "plugins.load[0].webhook_receiver.listen: was removed: webhooks are served by the host's "
                                             "server; to give Meta a port of its own, add the address to server.listeners");
                // Where in the file: FILE:LINE:COL, then the key.
                CPPUNIT_ASSERT_MESSAGE(error.what(), std::regex_search(std::string(error.what()),
                                                                       std::regex(R"(\.yaml:[0-9]+:[0-9]+: plugins\.load\[0\]\.webhook_receiver\.listen: )")));
            }
        }
        for (const std::string& listeners : {std::string("[\"nowhere\"]"), std::string("\"127.0.0.1:8081\"")}) {
            HostOptions options = withWebhookSecrets();
            options.serverYaml = "  listeners: " + listeners + "\n";
            HostProcess host(options);
            try {
                host.start();
                CPPUNIT_FAIL("the host started with listeners: " + listeners);
            } catch (const std::runtime_error& error) {
                assertContains(error.what(), listeners[0] == '[' ? "server.listeners[0]: expected HOST:PORT, got 'nowhere'"
                                                                 : "server.listeners: expected a list of HOST:PORT");
            }
        }
        Poco::Net::ServerSocket taken(Poco::Net::SocketAddress("127.0.0.1", 0));
        const std::string address = "127.0.0.1:" + std::to_string(taken.address().port());
        HostOptions options = withWebhookSecrets();
        options.serverYaml = "  listeners: [\"" + address + "\"]\n";
        HostProcess host(options);
        try {
            host.start();
            CPPUNIT_FAIL("the host started on a port already taken");
        } catch (const std::runtime_error& error) {
            assertContains(error.what(), "cannot listen on " + address + ": Address already in use");
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HttpServerTest);
