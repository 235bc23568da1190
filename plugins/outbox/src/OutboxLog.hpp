#pragma once
// whatsapp_logs, the outbox's log page: what the provider, the flows and the admins did.
#include <cstdint>
#include <map>
#include <string>

#include <Poco/Data/Session.h>

namespace tawasul::plugins::outbox {

// What a line says: a code the page translates (lang: log_<code>) with its parameters, and the
// same in English for the logs and the table's other readers.
struct LogText {
    std::string code;
    std::map<std::string, std::string> params;
    std::string message;
};

// One line, written in the caller's session (and so its transaction). `level` is info, warning or
// error; `source` who wrote it (provider, flow, admin); `context` JSON, or empty for none. A message
// longer than 2,000 bytes is cut there, at a character boundary.
void writeLog(Poco::Data::Session& session, const std::string& level, const std::string& source, const LogText& text,
              const std::string& context, std::int64_t at);

}  // namespace tawasul::plugins::outbox
