#include "db/SqlScript.hpp"

#include <algorithm>
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

bool opensComment(const std::string& script, std::size_t i) {
    const char c = script[i];
    return (c == '-' || c == '/') && i + 1 < script.size() && script[i + 1] == (c == '-' ? '-' : '*');
}

// When script[i] opens something that is not SQL code — a '...' string, a "..." identifier, a
// -- or /* */ comment, a $tag$ quote — the index just past its end (the script's size if it is
// never closed); otherwise i. `$1` is a placeholder, not a quote.
std::size_t skipNonCode(const std::string& script, std::size_t i) {
    const std::size_t n = script.size();
    const char c = script[i];
    if (c == '\'' || c == '"') {
        std::size_t j = i + 1;
        while (j < n) {
            if (script[j] == c) {
                if (j + 1 < n && script[j + 1] == c) {
                    j += 2;  // doubled quote inside the literal
                    continue;
                }
                return j + 1;
            }
            ++j;
        }
        return n;
    }
    if (c == '-' && opensComment(script, i)) {
        const std::size_t j = script.find('\n', i);
        return j == std::string::npos ? n : j;
    }
    if (c == '/' && opensComment(script, i)) {
        const std::size_t j = script.find("*/", i + 2);
        return j == std::string::npos ? n : j + 2;
    }
    if (c == '$') {
        std::size_t j = i + 1;
        while (j < n && (std::isalnum(static_cast<unsigned char>(script[j])) || script[j] == '_')) ++j;
        const bool isTag = j < n && script[j] == '$' && !std::isdigit(static_cast<unsigned char>(script[i + 1]));
        if (!isTag) return i;
        const std::string tag = script.substr(i, j - i + 1);
        const std::size_t close = script.find(tag, j + 1);
        return close == std::string::npos ? n : close + tag.size();
    }
    return i;
}

struct DialectToken {
    const char* name;
    const std::string& (sdk::SqlDialect::*value)() const;
};

constexpr DialectToken kTokens[] = {
    {"ID_PRIMARY_KEY", &sdk::SqlDialect::idPrimaryKey},
    {"NOW_MS", &sdk::SqlDialect::nowMillis},
    {"BLOB", &sdk::SqlDialect::blobType},
};

constexpr std::size_t kLongestTokenName = 32;  // longer names are not read further: they are unknown

}  // namespace

std::string renderSqlScript(const std::string& script, const sdk::SqlDialect& dialect, const std::string& file) {
    std::string out;
    out.reserve(script.size());
    int line = 1;
    std::size_t lineStart = 0;
    const std::size_t n = script.size();
    auto countLines = [&](std::size_t from, std::size_t to) {
        for (std::size_t j = from; j < to; ++j)
            if (script[j] == '\n') {
                ++line;
                lineStart = j + 1;
            }
    };
    for (std::size_t i = 0; i < n;) {
        const std::size_t end = skipNonCode(script, i);
        if (end != i) {
            out.append(script, i, end - i);
            countLines(i, end);
            i = end;
            continue;
        }
        if (script[i] == '{' && i + 1 < n && script[i + 1] == '{') {
            const std::string where = file + ":" + std::to_string(line) + ":" + std::to_string(i - lineStart + 1) + ": ";
            std::size_t j = i + 2;
            while (j < n && j - (i + 2) <= kLongestTokenName &&
                   (std::isalnum(static_cast<unsigned char>(script[j])) || script[j] == '_'))
                ++j;
            const std::string name = script.substr(i + 2, j - (i + 2));
            const bool closed = script.compare(j, 2, "}}") == 0;
            const DialectToken* token = nullptr;
            for (const DialectToken& known : kTokens)
                if (closed && name == known.name) token = &known;
            if (!token) {
                std::string list;
                for (const DialectToken& known : kTokens) list += std::string(list.empty() ? "" : ", ") + "{{" + known.name + "}}";
                throw SqlScriptError(where + (closed ? "unknown dialect token {{" + name + "}}" : std::string("unclosed dialect token {{")) +
                                     "; the tokens are " + list);
            }
            out += (dialect.*(token->value))();
            i = j + 2;
            continue;
        }
        countLines(i, i + 1);
        out += script[i++];
    }
    return out;
}

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
    for (std::size_t i = 0; i < n;) {
        const char c = script[i];
        if (atStart && !std::isspace(static_cast<unsigned char>(c)) && !opensComment(script, i)) {
            startLine = line;  // a statement starts at its first code, not at the comment above it
            atStart = false;
        }
        const std::size_t end = std::max(skipNonCode(script, i), i + 1);
        if (end == i + 1 && c == ';') {
            flush();
        } else {
            for (std::size_t j = i; j < end; ++j) {
                if (script[j] == '\n') ++line;
                current += script[j];
            }
        }
        i = end;
    }
    flush();
    return statements;
}

}  // namespace tawasul::host
