#pragma once
// whatsapp_logs, the outbox's log page: what the provider, the flows and the admins did.
#include <cstdint>
#include <string>

#include <Poco/Data/Session.h>

namespace tawasul::plugins::outbox {

// One line, written in the caller's session (and so its transaction). `level` is info, warning or
// error; `source` who wrote it (provider, flow, admin); `context` JSON, or empty for none. A message
// longer than 2,000 bytes is cut there, at a character boundary.
void writeLog(Poco::Data::Session& session, const std::string& level, const std::string& source, const std::string& message,
              const std::string& context, std::int64_t at);

}  // namespace tawasul::plugins::outbox
