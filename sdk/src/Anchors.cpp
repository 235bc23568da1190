// Out-of-line destructors: they anchor each interface's vtable and type_info in libtawasul-sdk,
// so the host and every plugin share one definition of each type that crosses the boundary.
#include "tawasul/sdk/Clock.hpp"
#include "tawasul/sdk/Config.hpp"
#include "tawasul/whatsapp/Contacts.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Events.hpp"
#include "tawasul/sdk/EveryHostEvents.hpp"
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/sdk/Http.hpp"
#include "tawasul/sdk/Jobs.hpp"
#include "tawasul/whatsapp/Media.hpp"
#include "tawasul/whatsapp/Messaging.hpp"
#include "tawasul/sdk/Metrics.hpp"
#include "tawasul/sdk/Pages.hpp"
#include "tawasul/sdk/Plugin.hpp"
#include "tawasul/sdk/PreparedSession.hpp"
#include "tawasul/sdk/Services.hpp"
#include "tawasul/sdk/Settings.hpp"
#include "tawasul/whatsapp/Templates.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

namespace tawasul::sdk {

Plugin::~Plugin() = default;
HostContext::~HostContext() = default;
ConfigError::~ConfigError() = default;
RouteRegistry::~RouteRegistry() = default;
Database::~Database() = default;
EventBus::~EventBus() = default;
EveryHostEvents::~EveryHostEvents() = default;
JobQueue::~JobQueue() = default;
SqlRow::~SqlRow() = default;
PermanentJobFailure::~PermanentJobFailure() = default;
RetryJobLater::~RetryJobLater() = default;
ServiceRegistry::~ServiceRegistry() = default;
Settings::~Settings() = default;
Counter::~Counter() = default;
Histogram::~Histogram() = default;
Metrics::~Metrics() = default;
Clock::~Clock() = default;
ContactMatcher::~ContactMatcher() = default;

std::map<std::string, std::vector<MatchCandidate>> ContactMatcher::matchAll(const std::vector<std::string>& phonesOrWaIds) {
    std::map<std::string, std::vector<MatchCandidate>> matches;
    for (const std::string& value : phonesOrWaIds) matches.emplace(value, match(value));
    return matches;
}
EventStream::~EventStream() = default;
Responder::~Responder() = default;
Translator::~Translator() = default;
PageRenderer::~PageRenderer() = default;
MessageProvider::~MessageProvider() = default;
MessageDispatcher::~MessageDispatcher() = default;
ProviderConnectionTest::~ProviderConnectionTest() = default;
TypingIndicator::~TypingIndicator() = default;
WebhookFieldHandler::~WebhookFieldHandler() = default;
TemplateApproval::~TemplateApproval() = default;
TemplateSource::~TemplateSource() = default;
TemplateSync::~TemplateSync() = default;
MediaSource::~MediaSource() = default;

}  // namespace tawasul::sdk
