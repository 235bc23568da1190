// A test plugin for the admin foundation: an event stream fed by the event bus, a page rendered in
// the shared layout, and a state-changing route. Its templates/ and lang/ are in stream_test/.
#include <condition_variable>
#include <deque>
#include <mutex>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace {

using namespace tawasul;

// Every event published on "test.ping", numbered from 1: a stream sends those after its last id.
struct Feed {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<std::string> events;
};

class StreamPlugin final : public sdk::Plugin {
public:
    void start(sdk::HostContext& context) override {
        context.config().allowOnly({});
        auto feed = feed_;
        subscription_ = context.events().subscribe("test.ping", [feed](const sdk::Event& event) {
            {
                std::lock_guard lock(feed->mutex);
                feed->events.push_back(event.json);
            }
            feed->changed.notify_all();
        });
        events_ = &context.events();

        context.routes().addStream("/admin/test/stream", [feed](const sdk::HttpRequest& request, sdk::EventStream& stream) {
            std::size_t sent = 0;
            if (auto last = request.header("Last-Event-ID")) {
                try {
                    sent = std::stoul(*last);
                } catch (const std::exception&) {
                }
            }
            std::unique_lock lock(feed->mutex);
            while (!stream.stopping()) {
                while (sent < feed->events.size()) {
                    const std::string data = feed->events[sent++];
                    lock.unlock();
                    if (!stream.send("ping", data, std::to_string(sent))) return;
                    lock.lock();
                }
                // Wake at least every 200 ms to see stopping(); a keep-alive tells a gone client.
                if (!feed->changed.wait_for(lock, std::chrono::milliseconds(200), [&] { return sent < feed->events.size(); })) {
                    lock.unlock();
                    if (!stream.keepAlive()) return;
                    lock.lock();
                }
            }
        }, sdk::RouteOptions::session(sdk::RouteStyle::Api, "whatsapp.inbox.view"));

        context.routes().add("POST", "/admin/test/ping", [this](const sdk::HttpRequest& request, sdk::HttpResponse& response) {
            events_->publish({"test.ping", request.body});
            response.json(200, "{\"published\":true}");
        }, sdk::RouteOptions::session(sdk::RouteStyle::Api, "whatsapp.inbox.reply"));

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
