// A well-behaved test plugin: routes (one of which throws), a service, a job handler, a migration.
#include <stdexcept>

#include "TestService.hpp"
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Plugin.hpp"

namespace {

class Greeter final : public tawasul::test::TestService {
public:
    std::string greet(const std::string& name) const override { return "hello, " + name; }
};

// Its one key, declared to the host through TAWASUL_PLUGIN's last argument.
std::string readConfig(const tawasul::sdk::ConfigNode& config) {
    config.allowOnly({"greeting"});
    return config.getString("greeting", "hello");
}

class GoodPlugin final : public tawasul::sdk::Plugin {
public:
    void start(tawasul::sdk::HostContext& context) override {
        const std::string greeting = readConfig(context.config());
        context.routes().add("GET", "/test/hello", [greeting](const auto&, auto& response) { response.text(200, greeting); });
        context.routes().add("GET", "/test/items/{id}", [](const auto& request, auto& response) {
            response.text(200, "item " + request.param("id"));
        });
        context.routes().add("POST", "/test/echo", [](const auto& request, auto& response) {
            response.text(200, request.body);
        }, tawasul::sdk::RouteOptions::open(tawasul::sdk::RouteStyle::Plain));
        context.routes().add("GET", "/test/throw", [](const auto&, auto&) -> void {
            throw std::runtime_error("deliberate failure inside a request");
        });
        context.services().publish<tawasul::test::TestService>(tawasul::test::TestService::kServiceName, std::make_shared<Greeter>());
    }
    void stop() noexcept override {}
};

}  // namespace

TAWASUL_PLUGIN(GoodPlugin, "good", "1.2.3", tawasul::sdk::kNoDependencies, readConfig)
