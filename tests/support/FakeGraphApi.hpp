#pragma once
// A stand-in for Meta's Graph API send endpoint: a small Poco HTTP server on a free loopback port
// that records every request, refuses a `to` that is not a phone (error 100; a BSUID goes in
// `recipient`), and answers from a script (200 with a wamid, a Meta error body, 429,
// 500, a slow answer, a dropped connection), then 200s. It also posts signed status webhooks back
// to a host, as Meta does after a send, and serves inbound media: GET /{version}/{media-id} answers
// {url, mime_type, sha256, file_size, id} and the url gives the bytes, each with switches for the
// ways Meta's media goes wrong.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "TestSupport.hpp"

namespace Poco::Net {
class HTTPServer;
}

namespace tawasul::test {

class HostProcess;

struct GraphRequest {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::int64_t receivedMicros = 0;  // steady clock
};

struct GraphReply {
    enum class Kind { Ok, Answer, Slow, Drop };
    Kind kind = Kind::Ok;
    int httpStatus = 200;
    std::string body;
    std::chrono::milliseconds delay{0};

    static GraphReply ok() { return {}; }
    // HTTP `httpStatus` with Meta's error body {"error":{"message","type","code","error_data":{"details"},"fbtrace_id"}}.
    static GraphReply metaError(int httpStatus, int code, const std::string& message, const std::string& details = "");
    static GraphReply status(int httpStatus, const std::string& body = "");  // e.g. a bare 429 or 500
    static GraphReply slow(std::chrono::milliseconds delay);                // waits, then answers 200
    static GraphReply drop();                                               // closes the connection unanswered
};

// One media id the fake knows, and how it goes wrong.
struct FakeMedia {
    enum class Fault {
        None,
        ExpiredId,    // the lookup answers Meta's 400, error 100 subcode 33 (the id is gone: past 7 days)
        NotFound,     // the lookup answers, the download answers 404
        WrongSha256,  // the lookup's sha256 is not that of the bytes
        ServerError,  // the first `failures` lookups answer 500, then it works
    };
    std::string bytes;
    std::string mimeType = "image/png";
    Fault fault = Fault::None;
    std::int64_t declaredSize = -1;  // file_size in the lookup; -1: the real size (an oversized body
                                     // may say it honestly or understate it)
    int failures = 1;                // ServerError: how many lookups fail
};

class FakeGraphApi {
public:
    explicit FakeGraphApi(std::uint16_t port = 0, int threads = 16);
    ~FakeGraphApi();
    FakeGraphApi(const FakeGraphApi&) = delete;
    FakeGraphApi& operator=(const FakeGraphApi&) = delete;

    std::uint16_t port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    // The next message sends (not mark-read calls) get these answers in order; then 200s.
    void script(std::vector<GraphReply> replies);
    // From now on, a GET whose Authorization is not "Bearer <token>" gets Meta's 401 (code 190), as
    // Graph answers an invalid access token; "" accepts any.
    void requireToken(const std::string& token);
    // An approved template, as Meta holds it: for each part ("header", "body", "button0"...) the
    // variables it takes, numbers ("1", "2") or names ("first_name"). Once one is approved, a
    // template send is checked as Meta checks it, before any scripted answer: an unknown name or
    // language gets 132001, a part with the wrong number of parameters 132000, a named template
    // whose parameters lack or mistake their parameter_name 131008.
    void approveTemplate(const std::string& name, const std::string& language,
                         std::map<std::string, std::vector<std::string>> parts);
    // The business account's templates as GET /{version}/{waba}/message_templates lists them: each
    // a JSON object as Meta writes one, `pageSize` a page (Meta's "limit" is ignored), with
    // paging.cursors.after and paging.next while more follow.
    void holdTemplates(std::vector<std::string> templateJson, std::size_t pageSize);
    // The answer to the next template submission (POST .../message_templates); by default 200 with
    // {"id": a new id, "status": "PENDING", "category": the one asked for}.
    void answerSubmission(GraphReply reply);
    // The wamid the next 200 will carry.
    std::string nextWamid() const;
    // From now on GET /{version}/{id} and its download URL serve `media`.
    void addMedia(const std::string& id, FakeMedia media);
    // How many lookups (GET /{version}/{id}) and downloads of this id arrived.
    std::size_t mediaLookups(const std::string& id) const;
    std::size_t mediaDownloads(const std::string& id) const;

    std::vector<GraphRequest> requests() const;  // everything, in arrival order
    std::vector<GraphRequest> sends() const;     // POST .../messages that send a message
    std::vector<std::string> wamids() const;     // issued in 200 answers, in order
    std::size_t sendCount() const;
    // Waits until at least `count` sends arrived; false after `timeout`.
    bool waitForSends(std::size_t count, std::chrono::milliseconds timeout) const;

    // Posts a signed status webhook for `wamid` to the host (app secret kFixtureSecret).
    static HttpResult postStatus(const HostProcess& host, const std::string& wamid, const std::string& status,
                                 std::int64_t timestampSeconds);

    // Arrival statistics of the sends, for the benchmark: count, span and the largest number of
    // sends in any one-second window.
    struct Stats {
        std::size_t count = 0;
        double spanSeconds = 0;
        double ratePerSecond = 0;  // (count - 1) / span
        std::size_t maxInOneSecond = 0;
        // Where a paced rate falls short: the longest pause between two arrivals, and the time
        // lost in pauses over 5 ms (beyond the first 1 ms of each, so a steady 1,000/s loses none).
        double longestGapMs = 0;
        double pausedMs = 0;
    };
    Stats stats() const;

private:
    class Handler;
    class Factory;
    friend class Handler;
    GraphReply take(const GraphRequest& request, std::string& wamid);
    // Meta's 100 for a send whose `to` is not a phone number or that names nobody (`recipient`, a
    // BSUID, is taken); nullopt when it names its recipient as Meta wants.
    static std::optional<GraphReply> checkRecipient(const std::string& body);
    // Meta's answer to a template send that does not fit the approved template; nullopt when it fits.
    std::optional<GraphReply> checkTemplate(const std::string& body) const;
    bool tokenAccepted(const GraphRequest& request) const;
    // Answers a media lookup or download of a known id; false when the path is neither.
    bool answerMedia(const GraphRequest& request, int& status, std::string& body, std::string& contentType);

    mutable std::mutex mutex_;
    mutable std::condition_variable arrived_;
    std::deque<GraphReply> script_;
    std::vector<GraphRequest> requests_;
    std::vector<std::string> wamids_;
    std::size_t sends_ = 0;
    std::string requiredToken_;
    std::map<std::string, std::map<std::string, std::vector<std::string>>> templates_;  // "name|language" -> parts
    std::vector<std::string> catalog_;  // holdTemplates()
    std::size_t catalogPage_ = 25;
    std::string templatePage(const std::string& uri) const;
    std::optional<GraphReply> submissionReply_;
    std::optional<GraphReply> takeSubmission();
    std::uint64_t nextId_ = 1;
    std::map<std::string, FakeMedia> media_;
    std::map<std::string, std::size_t> lookups_, downloads_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    std::uint16_t port_ = 0;
};

}  // namespace tawasul::test
