#include "whatsapp/MetaPayloads.hpp"

#include <stdexcept>

namespace tawasul::host {
namespace {

void appendUnit(std::string& out, unsigned unit) {
    static const char hex[] = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(unit >> shift) & 0xF];
}

std::string quoted(const std::string& utf8) { return "\"" + metaJsonEscape(utf8) + "\""; }

// entry[] and value.metadata around one change's own fields (`inner`, without braces).
std::string envelope(const MetaBusiness& business, const std::string& inner) {
    return "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":" + quoted(business.businessAccountId) +
           ",\"changes\":[{\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{"
           "\"display_phone_number\":" + quoted(business.displayPhoneNumber) +
           ",\"phone_number_id\":" + quoted(business.phoneNumberId) + "}," + inner + "}}]}]}";
}

}  // namespace

// Meta serialises webhook bodies the way PHP's json_encode does by default: every non-ASCII
// character as \uXXXX (lower-case hex, UTF-16 surrogate pairs above U+FFFF) and '/' as '\/'.
// The signature covers those exact bytes, so a simulator that escaped differently (or a library
// that re-serialised) would post bodies Meta never sends and miss bugs that only its escaping shows.
std::string metaJsonEscape(const std::string& utf8) {
    std::string out;
    out.reserve(utf8.size() + utf8.size() / 4);
    const auto* bytes = reinterpret_cast<const unsigned char*>(utf8.data());
    const std::size_t size = utf8.size();
    for (std::size_t i = 0; i < size;) {
        const unsigned char lead = bytes[i];
        if (lead < 0x80) {
            switch (lead) {
                case '"': out += "\\\""; break;
                case '\\': out += "\\\\"; break;
                case '/': out += "\\/"; break;
                case '\b': out += "\\b"; break;
                case '\f': out += "\\f"; break;
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                default:
                    if (lead < 0x20) appendUnit(out, lead);
                    else out += static_cast<char>(lead);
            }
            ++i;
            continue;
        }
        // Strict UTF-8: no overlong forms, no encoded surrogates, nothing above U+10FFFF.
        std::size_t length = 0;
        unsigned codePoint = 0, minimum = 0;
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2, codePoint = lead & 0x1Fu, minimum = 0x80;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3, codePoint = lead & 0x0Fu, minimum = 0x800;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4, codePoint = lead & 0x07u, minimum = 0x10000;
        } else {
            throw std::invalid_argument("not valid UTF-8 (byte " + std::to_string(i) + ")");
        }
        if (i + length > size) throw std::invalid_argument("not valid UTF-8 (truncated at byte " + std::to_string(i) + ")");
        for (std::size_t k = 1; k < length; ++k) {
            if ((bytes[i + k] & 0xC0) != 0x80) throw std::invalid_argument("not valid UTF-8 (byte " + std::to_string(i + k) + ")");
            codePoint = (codePoint << 6) | (bytes[i + k] & 0x3Fu);
        }
        if (codePoint < minimum || codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF))
            throw std::invalid_argument("not valid UTF-8 (byte " + std::to_string(i) + ")");
        if (codePoint > 0xFFFF) {
            const unsigned offset = codePoint - 0x10000;
            appendUnit(out, 0xD800 + (offset >> 10));
            appendUnit(out, 0xDC00 + (offset & 0x3FF));
        } else {
            appendUnit(out, codePoint);
        }
        i += length;
    }
    return out;
}

std::string phoneDigits(const std::string& phone) {
    std::string digits;
    for (char c : phone) {
        if (c >= '0' && c <= '9') digits += c;
        else if (c != '+' && c != ' ') return "";
    }
    return digits;
}

std::string inboundTextBody(const InboundText& message) {
    // As Meta writes them: the profile first, then wa_id and user_id; a user whose username hides
    // the phone has no wa_id and no `from`, only user_id and `from_user_id`.
    std::string profile;
    if (!message.name.empty()) profile += "\"name\":" + quoted(message.name);
    if (!message.username.empty()) profile += (profile.empty() ? "" : ",") + std::string("\"username\":") + quoted(message.username);
    std::string contact = profile.empty() ? "" : "\"profile\":{" + profile + "},";
    std::string sender;
    if (!message.from.empty()) {
        contact += "\"wa_id\":" + quoted(message.from) + ",";
        sender += "\"from\":" + quoted(message.from) + ",";
    }
    if (!message.userId.empty()) {
        contact += "\"user_id\":" + quoted(message.userId) + ",";
        sender += "\"from_user_id\":" + quoted(message.userId) + ",";
    }
    if (!contact.empty()) contact.pop_back();  // the last comma
    return envelope(message.business, "\"contacts\":[{" + contact + "}],\"messages\":[{" + sender + "\"id\":" + quoted(message.wamid) +
                                          ",\"timestamp\":\"" + std::to_string(message.timestamp) +
                                          "\",\"type\":\"text\",\"text\":{\"body\":" + quoted(message.text) + "}}]");
}

std::string statusBody(const StatusUpdate& update) {
    std::string status = "{\"id\":" + quoted(update.wamid) + ",\"status\":" + quoted(update.status) + ",\"timestamp\":\"" +
                         std::to_string(update.timestamp) + "\"";
    if (!update.recipientId.empty()) status += ",\"recipient_id\":" + quoted(update.recipientId);
    if (!update.recipientUserId.empty()) status += ",\"recipient_user_id\":" + quoted(update.recipientUserId);
    if (update.errorCode) {
        status += ",\"errors\":[{\"code\":" + std::to_string(*update.errorCode) + ",\"title\":" + quoted(update.errorTitle) +
                  ",\"message\":" + quoted(update.errorTitle) + "}]";
    }
    status += "}";
    return envelope(update.business, "\"statuses\":[" + status + "]");
}

namespace {

// An entry whose one change is of `field`: Meta writes these with the account's id and a time, and
// no metadata.
std::string fieldEnvelope(const MetaBusiness& business, std::int64_t time, const std::string& field, const std::string& value) {
    return "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":" + quoted(business.businessAccountId) +
           ",\"time\":" + std::to_string(time) + ",\"changes\":[{\"value\":" + value + ",\"field\":" + quoted(field) + "}]}]}";
}

}  // namespace

std::string templateStatusBody(const TemplateStatusUpdate& update) {
    return fieldEnvelope(update.business, update.time, "message_template_status_update",
                         "{\"event\":" + quoted(update.event) + ",\"message_template_id\":" + std::to_string(update.templateId) +
                             ",\"message_template_name\":" + quoted(update.name) + ",\"message_template_language\":" +
                             quoted(update.language) + ",\"reason\":" + quoted(update.reason.empty() ? "NONE" : update.reason) + "}");
}

std::string messageEchoBody(const MessageEcho& echo) {
    return fieldEnvelope(echo.business, echo.timestamp, "smb_message_echoes",
                         "{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_number\":" +
                             quoted(echo.business.displayPhoneNumber) + ",\"phone_number_id\":" + quoted(echo.business.phoneNumberId) +
                             "},\"message_echoes\":[{\"from\":" + quoted(echo.business.displayPhoneNumber) + ",\"to\":" + quoted(echo.to) +
                             ",\"id\":" + quoted(echo.wamid) + ",\"timestamp\":\"" + std::to_string(echo.timestamp) +
                             "\",\"type\":\"text\",\"text\":{\"body\":" + quoted(echo.text) + "}}]}");
}

std::string accountUpdateBody(const AccountUpdate& update) {
    std::string value = "{\"phone_number\":" + quoted(update.business.displayPhoneNumber) + ",\"event\":" + quoted(update.event);
    if (update.event == "ACCOUNT_RESTRICTION") {
        value += ",\"restriction_info\":[";
        if (!update.restrictionType.empty()) {
            value += "{\"restriction_type\":" + quoted(update.restrictionType);
            if (update.expiration > 0) value += ",\"expiration\":" + std::to_string(update.expiration);
            value += "}";
        }
        value += "]";
    }
    if (!update.banState.empty()) value += ",\"ban_info\":{\"waba_ban_state\":" + quoted(update.banState) + "}";
    value += "}";
    return fieldEnvelope(update.business, update.time, "account_update", value);
}

std::string qualityUpdateBody(const QualityUpdate& update) {
    std::string value = "{\"display_phone_number\":" + quoted(update.business.displayPhoneNumber) + ",\"event\":" + quoted(update.event);
    if (!update.currentLimit.empty()) value += ",\"current_limit\":" + quoted(update.currentLimit);
    if (!update.oldLimit.empty()) value += ",\"old_limit\":" + quoted(update.oldLimit);
    value += "}";
    return fieldEnvelope(update.business, update.time, "phone_number_quality_update", value);
}

}  // namespace tawasul::host
