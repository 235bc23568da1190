#pragma once
// Everything the host gives a plugin, in one place. What a plugin registers through it (routes,
// subscriptions, job handlers, services) is tagged with the plugin's name and removed after stop().
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include <Poco/Logger.h>

#include "tawasul/sdk/Api.hpp"
#include "tawasul/sdk/Clock.hpp"
#include "tawasul/sdk/Config.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Events.hpp"
#include "tawasul/sdk/Http.hpp"
#include "tawasul/sdk/Jobs.hpp"
#include "tawasul/sdk/Metrics.hpp"
#include "tawasul/sdk/Pages.hpp"
#include "tawasul/sdk/Services.hpp"
#include "tawasul/sdk/Settings.hpp"

namespace tawasul::sdk {

class TAWASUL_SDK_API HostContext {
public:
    virtual ~HostContext();
    virtual const std::string& pluginName() const = 0;
    virtual const ConfigNode& config() const = 0;                  // the plugin's node under plugins.load
    virtual Poco::Logger& logger() = 0;                            // "plugin.<name>"
    virtual std::filesystem::path pluginDirectory() const = 0;     // templates/, lang/, public/
    virtual Database& database() = 0;
    virtual RouteRegistry& routes() = 0;
    virtual EventBus& events() = 0;
    virtual JobQueue& jobs() = 0;
    virtual ServiceRegistry& services() = 0;
    virtual Settings& settings() = 0;
    virtual Metrics& metrics() = 0;
    virtual const Clock& clock() const = 0;
    virtual const Translator& translator() const = 0;              // the plugin's lang/ catalogs
    virtual PageRenderer& pages() = 0;                             // the plugin's templates/ in the layout
    // server.public_url without a trailing slash: where Meta and browsers reach this host, for
    // addresses a page shows (the webhook URL to paste into Meta's dashboard).
    virtual std::string publicUrl() const { return {}; }
};

}  // namespace tawasul::sdk
