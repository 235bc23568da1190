#include "OutboxLog.hpp"

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

void writeLog(Poco::Data::Session& session, const std::string& level, const std::string& source, const std::string& message,
              const std::string& context, std::int64_t at) {
    std::string lvl = level, src = source, msg = cut(message, kMaxMessageBytes);
    Poco::Nullable<std::string> ctx;
    if (!context.empty()) ctx = context;
    Poco::Int64 when = at;
    session << "INSERT INTO whatsapp_logs (level, source, message, context, created_at) VALUES ($1, $2, $3, $4, $5)", use(lvl),
        use(src), use(msg), use(ctx), use(when), now;
}

}  // namespace tawasul::plugins::outbox
