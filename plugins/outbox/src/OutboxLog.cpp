#include "OutboxLog.hpp"

#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/Nullable.h>

namespace tawasul::plugins::outbox {

using namespace Poco::Data::Keywords;

namespace {

constexpr std::size_t kMaxMessageBytes = 2000;

// The first `limit` bytes of UTF-8 text, without a character cut in two (PostgreSQL refuses that).
std::string cut(const std::string& text, std::size_t limit) {
    if (text.size() <= limit) return text;
    std::size_t end = limit;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    return text.substr(0, end);
}

}  // namespace

void writeLog(Poco::Data::Session& session, const std::string& level, const std::string& source, const LogText& text,
              const std::string& context, std::int64_t at) {
    std::string lvl = level, src = source, msg = cut(text.message, kMaxMessageBytes);
    Poco::Nullable<std::string> ctx, code, params;
    if (!context.empty()) ctx = context;
    if (!text.code.empty()) code = text.code;
    if (!text.params.empty()) {
        Poco::JSON::Object object;
        for (const auto& [name, value] : text.params) object.set(name, cut(value, kMaxMessageBytes));
        std::ostringstream json;
        object.stringify(json);
        params = json.str();
    }
    Poco::Int64 when = at;
    session << "INSERT INTO whatsapp_logs (level, source, message, context, created_at, code, params) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        use(lvl), use(src), use(msg), use(ctx), use(when), use(code), use(params), now;
}

}  // namespace tawasul::plugins::outbox
