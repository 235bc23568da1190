#include "db/SqlScript.hpp"

#include <cctype>

namespace tawasul::host {
namespace {

bool hasCode(const std::string& text) {
    // True when the statement holds something besides white space and comments.
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '-' && i + 1 < text.size() && text[i + 1] == '-') {
            while (i < text.size() && text[i] != '\n') ++i;
        } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
            const auto end = text.find("*/", i + 2);
            if (end == std::string::npos) return false;
            i = end + 1;
        } else if (!std::isspace(static_cast<unsigned char>(c))) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::vector<SqlStatement> splitSqlScript(const std::string& script) {
    std::vector<SqlStatement> statements;
    std::string current;
    int line = 1;
    int startLine = 1;
    bool atStart = true;
    auto flush = [&] {
        if (hasCode(current)) statements.push_back({current, startLine});
        current.clear();
        atStart = true;
    };
    const std::size_t n = script.size();
    for (std::size_t i = 0; i < n; ++i) {
        const char c = script[i];
        const bool opensComment = (c == '-' || c == '/') && i + 1 < n && script[i + 1] == (c == '-' ? '-' : '*');
        if (atStart && !std::isspace(static_cast<unsigned char>(c)) && !opensComment) {
            startLine = line;  // a statement starts at its first code, not at the comment above it
            atStart = false;
        }
        auto copyUntil = [&](std::size_t end) {  // copies script[i, end) and counts lines
            for (std::size_t j = i; j < end && j < n; ++j) {
                if (script[j] == '\n') ++line;
                current += script[j];
            }
            i = (end < n ? end : n) - 1;
        };
        if (c == '\'' || c == '"') {
            std::size_t j = i + 1;
            while (j < n) {
                if (script[j] == c) {
                    if (j + 1 < n && script[j + 1] == c) {
                        j += 2;  // doubled quote inside the literal
                        continue;
                    }
                    break;
                }
                ++j;
            }
            copyUntil(j + 1);
        } else if (c == '-' && i + 1 < n && script[i + 1] == '-') {
            std::size_t j = script.find('\n', i);
            copyUntil(j == std::string::npos ? n : j);
        } else if (c == '/' && i + 1 < n && script[i + 1] == '*') {
            std::size_t j = script.find("*/", i + 2);
            copyUntil(j == std::string::npos ? n : j + 2);
        } else if (c == '$') {
            // A dollar quote $tag$...$tag$ (tag may be empty); `$1` is a placeholder, not a quote.
            std::size_t j = i + 1;
            while (j < n && (std::isalnum(static_cast<unsigned char>(script[j])) || script[j] == '_')) ++j;
            const bool isTag = j < n && script[j] == '$' && !std::isdigit(static_cast<unsigned char>(script[i + 1]));
            if (isTag) {
                const std::string tag = script.substr(i, j - i + 1);
                const std::size_t close = script.find(tag, j + 1);
                copyUntil(close == std::string::npos ? n : close + tag.size());
            } else {
                current += c;
            }
        } else if (c == ';') {
            flush();
        } else {
            if (c == '\n') ++line;
            current += c;
        }
    }
    flush();
    return statements;
}

}  // namespace tawasul::host
