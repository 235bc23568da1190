#include "OutboxTemplates.hpp"

#include <cctype>

#include <Poco/URI.h>

#include "tawasul/sdk/ListPages.hpp"
#include "tawasul/whatsapp/Templates.hpp"

namespace tawasul::plugins::outbox {
namespace {

std::size_t codePoints(const std::string& utf8) {
    std::size_t count = 0;
    for (unsigned char c : utf8) count += (c & 0xC0) != 0x80;
    return count;
}

}  // namespace

std::optional<std::string> OutboxTemplate::validate(const std::string& body) {
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) return std::string("the body is empty");
    if (codePoints(body) > 1024) return std::string("the body is longer than 1024 characters");
    return sdk::TemplateText::check(body);
}

std::vector<std::string> OutboxTemplate::variables(const std::string& body) { return sdk::TemplateText::variables(body); }

std::optional<std::string> OutboxTemplate::render(const std::string& body, const std::map<std::string, std::string>& values,
                                                  std::string& error) {
    return sdk::TemplateText::render(body, values, error);
}

std::string waMeLink(const std::string& phoneE164, const std::string& text) { return sdk::waMeLink(phoneE164, text); }

}  // namespace tawasul::plugins::outbox
