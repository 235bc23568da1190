#include "OutboxTemplates.hpp"

#include <algorithm>
#include <cctype>

#include <Poco/URI.h>

namespace tawasul::plugins::outbox {
namespace {

struct Token {
    std::size_t begin = 0, end = 0;  // of "{{...}}"
    std::string name;
};

bool isNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool isNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Splits a body into its {{variable}} tokens; an error for anything malformed.
std::vector<Token> scan(const std::string& body, std::string& error) {
    std::vector<Token> tokens;
    std::size_t at = 0;
    while (true) {
        const std::size_t open = body.find("{{", at);
        const std::size_t stray = body.find("}}", at);
        if (stray != std::string::npos && (open == std::string::npos || stray < open)) {
            error = "'}}' without '{{' at character " + std::to_string(stray + 1);
            return {};
        }
        if (open == std::string::npos) break;
        const std::size_t close = body.find("}}", open + 2);
        if (close == std::string::npos) {
            error = "'{{' without '}}' at character " + std::to_string(open + 1);
            return {};
        }
        std::string name = body.substr(open + 2, close - open - 2);
        // Trim spaces: "{{ name }}" is common in hand-written text.
        name.erase(0, name.find_first_not_of(' '));
        name.erase(name.find_last_not_of(' ') + 1);
        const bool number = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        const bool word = !name.empty() && isNameStart(name[0]) && std::all_of(name.begin(), name.end(), isNameChar);
        if (!number && !word) {
            error = "'{{" + body.substr(open + 2, close - open - 2) + "}}' is not a variable: use {{1}}, {{2}}... or {{name}}";
            return {};
        }
        if (number && (name[0] == '0')) {
            error = "variable {{" + name + "}}: numbered variables start at {{1}}";
            return {};
        }
        tokens.push_back({open, close + 2, name});
        at = close + 2;
    }
    return tokens;
}

std::size_t codePoints(const std::string& utf8) {
    std::size_t count = 0;
    for (unsigned char c : utf8) count += (c & 0xC0) != 0x80;
    return count;
}

}  // namespace

std::optional<std::string> OutboxTemplate::validate(const std::string& body) {
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) return std::string("the body is empty");
    if (codePoints(body) > 1024) return std::string("the body is longer than 1024 characters");
    std::string error;
    const std::vector<Token> tokens = scan(body, error);
    if (!error.empty()) return error;
    bool numbered = false, named = false;
    std::vector<int> numbers;
    for (const Token& token : tokens) {
        if (std::isdigit(static_cast<unsigned char>(token.name[0]))) {
            numbered = true;
            if (token.name.size() > 3) return "variable {{" + token.name + "}} is out of range";
            numbers.push_back(std::stoi(token.name));
        } else {
            named = true;
        }
    }
    if (numbered && named) return std::string("a body uses either numbered variables ({{1}}) or named ones ({{name}}), not both");
    std::sort(numbers.begin(), numbers.end());
    numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
    for (std::size_t i = 0; i < numbers.size(); ++i)
        if (numbers[i] != static_cast<int>(i + 1))
            return "numbered variables run {{1}}, {{2}}... without gaps: {{" + std::to_string(i + 1) + "}} is missing";
    return std::nullopt;
}

std::vector<std::string> OutboxTemplate::variables(const std::string& body) {
    std::string error;
    std::vector<std::string> names;
    for (const Token& token : scan(body, error))
        if (std::find(names.begin(), names.end(), token.name) == names.end()) names.push_back(token.name);
    return names;
}

std::optional<std::string> OutboxTemplate::render(const std::string& body, const std::map<std::string, std::string>& values,
                                                  std::string& error) {
    const std::vector<Token> tokens = scan(body, error);
    if (!error.empty()) return std::nullopt;
    std::vector<std::string> missing;
    for (const Token& token : tokens)
        if (!values.count(token.name) && std::find(missing.begin(), missing.end(), token.name) == missing.end())
            missing.push_back(token.name);
    if (!missing.empty()) {
        error = "missing value for";
        for (std::size_t i = 0; i < missing.size(); ++i) error += (i ? ", {{" : " {{") + missing[i] + "}}";
        return std::nullopt;
    }
    std::string out;
    std::size_t at = 0;
    for (const Token& token : tokens) {
        out += body.substr(at, token.begin - at);
        out += values.at(token.name);
        at = token.end;
    }
    out += body.substr(at);
    return out;
}

std::string waMeLink(const std::string& phoneE164, const std::string& text) {
    std::string digits;
    for (char c : phoneE164)
        if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
    // Every byte but letters, digits and - . _ ~ is percent-encoded (the reserved set below plus
    // what Poco always encodes).
    std::string encoded;
    Poco::URI::encode(text, "!#$&'()*+,/:;=?@[]", encoded);
    return "https://wa.me/" + digits + "?text=" + encoded;
}

}  // namespace tawasul::plugins::outbox
