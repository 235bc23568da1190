#pragma once
// The build signature: the facts that must agree between the host and a plugin for C++ objects
// to cross between them safely. A plugin records the string it was compiled with in its descriptor;
// the host compares it with its own and refuses the plugin on any difference.
#include <Poco/Version.h>
#include <boost/version.hpp>

// The major step breaks plugins built for an earlier one; a minor step adds to the SDK and breaks
// nothing: the host loads plugins of its minor and older.
// 2.0: the HTTP server's async routes (Responder, RouteRegistry::addAsync, EventStream without a
//      thread), sdk::JobFailure from batch handlers, sdk::EveryHostEvents, sdk::lockWamids.
// 2.1: PluginDescriptor::check_config (a plugin's configuration read before any plugin starts, by
//      `config check` too), sdk::defaultRegionOf; sdk::PreparedSession (statements prepared once
//      per connection, SqlParam::blob() for bytes as they are), sdk::JsonRows,
//      SqlDialect::jsonRows(), JobQueue::enqueueAll on a PreparedSession.
// 2.2: tawasul/whatsapp/Templates.hpp (sdk::TemplateText, TemplateDefinition with header and
//      buttons, templateFields, templateComponents, renderTemplate).
// 2.3: OutboundMessage::userId (the contact's business-scoped user id, appended last: a provider
//      built for 2.2 reads the members before it as they were).
// 2.5: sdk::WebhookFieldHandler and WebhookChange (webhook fields other than "messages"),
//      sdk::TemplateApproval (Meta's review of a template, asked before a send), sdk::TemplateSource
//      and sdk::TemplateSync (Meta's templates read, submitted and kept), sdk::MetaTemplate,
//      sdk::TemplateSubmission.
// 2.6: tawasul/whatsapp/Media.hpp (sdk::MediaSource, MediaFetch, MediaLimits, kFetchMediaJob):
//      inbound media fetched through the provider that delivered it.
// 2.7: Metrics::addGauges/removeGauges (gauge families read at each scrape, appended last),
//      sdk::GaugeSample, sdk::GaugeReader.
// 2.8: sdk::TypingIndicator (optional, beside a MessageProvider: the read call with Meta's
//      typing_indicator); MessageDispatcher::showTyping and MessageDispatcher::retry (a failed
//      outbound message queued again), appended after its 2.6 members (2.7 changed no class of it).
// 2.9: SqlDialect::inSubquery() (a subquery's rows looked up through an index on PostgreSQL).
// 2.10: Database::requestsWroteWithin() (whether requests share SQLite's one writer right now),
//       a member after Database's others.
#define TAWASUL_SDK_ABI_MAJOR 2
#define TAWASUL_SDK_ABI_MINOR 10

#define TAWASUL_STRINGIFY_(x) #x
#define TAWASUL_STRINGIFY(x) TAWASUL_STRINGIFY_(x)

#if defined(__clang__)
#define TAWASUL_COMPILER "clang-" TAWASUL_STRINGIFY(__clang_major__)
#elif defined(__GNUC__)
#define TAWASUL_COMPILER "gcc-" TAWASUL_STRINGIFY(__GNUC__)
#else
#define TAWASUL_COMPILER "unknown"
#endif

#if defined(NDEBUG)
#define TAWASUL_NDEBUG "1"
#else
#define TAWASUL_NDEBUG "0"
#endif

#define TAWASUL_BUILD_SIGNATURE                                                                    \
    TAWASUL_COMPILER ";cxx11abi=" TAWASUL_STRINGIFY(_GLIBCXX_USE_CXX11_ABI) ";poco=" TAWASUL_STRINGIFY( \
        POCO_VERSION) ";boost=" TAWASUL_STRINGIFY(BOOST_VERSION) ";ndebug=" TAWASUL_NDEBUG          \
                                                                  ";sdk=" TAWASUL_STRINGIFY(TAWASUL_SDK_ABI_MAJOR)
