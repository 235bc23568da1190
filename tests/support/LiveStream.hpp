#pragma once
// An open Server-Sent Events connection to a host (the admin's live pages), read on its own thread.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

namespace tawasul::test {

class LiveStream {
public:
    LiveStream(int port, const std::string& path, const std::string& cookie, const std::string& lastEventId = "")
        : session_("127.0.0.1", static_cast<Poco::UInt16>(port)) {
        session_.setTimeout(Poco::Timespan(30, 0));
        Poco::Net::HTTPRequest request("GET", path, Poco::Net::HTTPMessage::HTTP_1_1);
        request.add("Cookie", cookie);
        request.add("Accept", "text/event-stream");
        if (!lastEventId.empty()) request.add("Last-Event-ID", lastEventId);
        session_.sendRequest(request);
        std::istream& in = session_.receiveResponse(response_);
        reader_ = std::thread([this, &in] {
            std::string line;
            while (!stop_ && std::getline(in, line)) {
                const auto at = std::chrono::steady_clock::now();
                std::lock_guard<std::mutex> lock(mutex_);
                text_ += line + "\n";
                lines_.emplace_back(at, line);
            }
        });
    }
    ~LiveStream() {
        stop_ = true;
        try {
            session_.abort();
        } catch (...) {
        }
        if (reader_.joinable()) reader_.join();
    }
    int status() const { return response_.getStatus(); }
    std::string contentType() const { return response_.getContentType(); }
    // Waits until the received text contains `part`.
    bool waitFor(const std::string& part, std::chrono::seconds limit = std::chrono::seconds(20)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (text().find(part) != std::string::npos) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }
    std::string text() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return text_;
    }
    // When each line equal to `line` was read, in order (the test process's steady clock).
    std::vector<std::chrono::steady_clock::time_point> arrivals(const std::string& line) const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<std::chrono::steady_clock::time_point> times;
        for (const auto& [at, text] : lines_)
            if (text == line) times.push_back(at);
        return times;
    }

private:
    Poco::Net::HTTPClientSession session_;
    Poco::Net::HTTPResponse response_;
    std::thread reader_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::string text_;
    std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> lines_;
};

}  // namespace tawasul::test
