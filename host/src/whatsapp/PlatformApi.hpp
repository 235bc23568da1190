#pragma once
// The API the training platform calls, under /api/v1, authenticated with API tokens (ApiTokens):
//   POST /api/v1/messages       send text or a template to a phone or a conversation (messages.send)
//   GET  /api/v1/messages/{id}  a message's status and its send attempts               (messages.read)
//   POST /api/v1/events         a platform event, e.g. registration.confirmed          (events.write)
// Sends go through the MessageDispatcher service; events are stored with a job that publishes
// them on the event bus under sdk::kPlatformEventTopic (tawasul/whatsapp/PlatformEvents.hpp).
#include <string>

#include "tawasul/sdk/Clock.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Http.hpp"
#include "tawasul/sdk/Jobs.hpp"

#include "http/Router.hpp"
#include "jobs/JobRunner.hpp"
#include "plugin/LocalEventBus.hpp"
#include "plugin/ServiceDirectory.hpp"

namespace tawasul::host {

inline constexpr const char* kPublishPlatformEventJob = "publish_platform_event";

class PlatformApi {
public:
    PlatformApi(sdk::Database& database, ServiceDirectory& services, JobRunner& jobs, LocalEventBus& events, const sdk::Clock& clock);
    // Adds the routes (owned by "host") and the job that publishes stored platform events.
    void registerWith(Router& router);

    void sendMessage(const sdk::HttpRequest& request, sdk::HttpResponse& response);
    void getMessage(const sdk::HttpRequest& request, sdk::HttpResponse& response);
    void postEvent(const sdk::HttpRequest& request, sdk::HttpResponse& response);

private:
    void publishEvent(const sdk::Job& job);

    sdk::Database& database_;
    ServiceDirectory& services_;
    JobRunner& jobs_;
    LocalEventBus& events_;
    const sdk::Clock& clock_;
};

}  // namespace tawasul::host
