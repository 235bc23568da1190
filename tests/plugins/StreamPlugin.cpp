// A test plugin for the admin foundation: an event stream fed by the event bus, a page rendered in
// the shared layout, state-changing routes, and a careless header echo. Its templates/ and lang/ are in stream_test/.
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace {

using namespace tawasul;

// Every event published on "test.ping", numbered from 1, and the open streams: a new stream gets
// those after its Last-Event-ID, then every later one as it is published.
struct Feed {
    std::mutex mutex;
    std::vector<std::string> events;
    std::map<std::uint64_t, std::shared_ptr<sdk::EventStream>> streams;
    std::uint64_t nextStream = 1;

    void publish(const std::string& data) {
        std::lock_guard lock(mutex);
        events.push_back(data);
        const std::string id = std::to_string(events.size());
        for (auto it = streams.begin(); it != streams.end();) {
            if (it->second->send("ping", data, id)) ++it;
            else it = streams.erase(it);  // gone or dropped: send() never waits for it
        }
    }
};

class StreamPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        context.config().allowOnly({});
        auto feed = feed_;
        subscription_ = context.events().subscribe("test.ping", [feed](const sdk::Event& event) { feed->publish(event.json); });
        events_ = &context.events();

        context.routes().addStream("/admin/test/stream", [feed](const sdk::HttpRequest& request, std::shared_ptr<sdk::EventStream> stream) {
            std::size_t sent = 0;
            if (auto last = request.header("Last-Event-ID")) {
                try {
                    sent = std::stoul(*last);
                } catch (const std::exception&) {
                }
            }
            std::uint64_t key = 0;
            {
                std::lock_guard lock(feed->mutex);
                while (sent < feed->events.size()) {
                    const std::string& data = feed->events[sent++];
                    if (!stream->send("ping", data, std::to_string(sent))) return;
                }
                key = feed->nextStream++;
                feed->streams[key] = stream;
            }
            std::weak_ptr<Feed> weak = feed;
            stream->onClose([weak, key] {
                if (auto live = weak.lock()) {
                    std::shared_ptr<sdk::EventStream> gone;
                    std::lock_guard lock(live->mutex);
                    auto it = live->streams.find(key);
                    if (it != live->streams.end()) {
                        gone = std::move(it->second);
                        live->streams.erase(it);
                    }
                }
            });
        }, sdk::RouteOptions::session(sdk::RouteStyle::Api, "whatsapp.inbox.view"));

        // Publishes `count` events of `bytes` bytes each at once: a publisher that a stalled
        // reader must never hold up. Answers how many streams are still open afterwards.
        context.routes().add("POST", "/admin/test/burst", [this, feed](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
            const int count = std::stoi(request.queryParam("count").value_or("1"));
            const std::size_t bytes = std::stoul(request.queryParam("bytes").value_or("10"));
            for (int i = 0; i < count; ++i) events_->publish({"test.ping", "\"" + std::string(bytes, 'b') + "\""});
            std::lock_guard lock(feed->mutex);
            response.json(200, "{\"published\":" + std::to_string(count) + ",\"open\":" + std::to_string(feed->streams.size()) + "}");
        }, sdk::RouteOptions::session(sdk::RouteStyle::Api, "whatsapp.inbox.reply"));

        context.routes().add("POST", "/admin/test/ping", [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
            events_->publish({"test.ping", request.body});
            response.json(200, "{\"published\":true}");
        }, sdk::RouteOptions::session(sdk::RouteStyle::Api, "whatsapp.inbox.reply"));

        // Echoes a header of the caller's choosing, as a careless handler might: the host must
        // refuse to write it when it holds CR, LF or NUL.
        context.routes().add("GET", "/test/header", [](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
            response.setHeader(request.queryParam("name").value_or("X-Echo"), request.queryParam("value").value_or("echo"));
            response.text(200, "echoed\n");
        }, sdk::RouteOptions::open(sdk::RouteStyle::Plain));

        sdk::PageRenderer& pages = context.pages();
        const sdk::Translator& translator = context.translator();
        context.routes().add("GET", "/admin/test/page", [&pages, &translator](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
            Poco::JSON::Object model;
            model.set("name", request.queryParam("name").value_or("<script>alert(1)</script>"));
            model.set("count", translator.number(request.principal->locale, 1234567));
            Poco::JSON::Array alerts;
            Poco::JSON::Object alert;
            alert.set("level", "warning");
            alert.set("text", "<b>careful</b>");
            alerts.add(alert);
            model.set("alerts", alerts);
            pages.render(request, response, "page", translator.text(request.principal->locale, "page.title"), model);
        }, sdk::RouteOptions::session(sdk::RouteStyle::Page, "whatsapp.inbox.view"));
    }
    void stop() noexcept override {
        if (events_) events_->unsubscribe(subscription_);
    }

private:
    std::shared_ptr<Feed> feed_ = std::make_shared<Feed>();
    sdk::EventBus* events_ = nullptr;
    std::uint64_t subscription_ = 0;
};

}  // namespace

TAWASUL_PLUGIN(StreamPlugin, "stream_test", "0.1.0", tawasul::sdk::kNoDependencies)
