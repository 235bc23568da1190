#pragma once
// HTML form bodies (application/x-www-form-urlencoded) as admin pages receive them. Header-only so
// that it adds nothing to the SDK's ABI: every plugin with a form parses it the same way.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tawasul::sdk {

// A positive id from a route segment, a query value or a form field; 0 when it is not one.
inline std::int64_t positiveId(const std::string& text) {
    if (text.empty() || text.size() > 18) return 0;
    std::int64_t id = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return 0;
        id = id * 10 + (c - '0');
    }
    return id;
}

class FormData {
public:
    FormData() = default;
    explicit FormData(const std::string& body) {
        std::size_t start = 0;
        while (start <= body.size()) {
            std::size_t end = body.find('&', start);
            if (end == std::string::npos) end = body.size();
            const std::string pair = body.substr(start, end - start);
            if (!pair.empty()) {
                const std::size_t equals = pair.find('=');
                if (equals == std::string::npos) fields_.emplace_back(decode(pair), std::string());
                else fields_.emplace_back(decode(pair.substr(0, equals)), decode(pair.substr(equals + 1)));
            }
            start = end + 1;
        }
    }

    // The first value of `name`, or nullopt when the form has no such field.
    std::optional<std::string> get(const std::string& name) const {
        for (const auto& [key, value] : fields_)
            if (key == name) return value;
        return std::nullopt;
    }
    std::string value(const std::string& name) const { return get(name).value_or(std::string()); }
    // Every value of `name`, in order (repeated fields such as the steps of a flow).
    std::vector<std::string> all(const std::string& name) const {
        std::vector<std::string> values;
        for (const auto& [key, value] : fields_)
            if (key == name) values.push_back(value);
        return values;
    }
    const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

    // Percent-decoding with '+' as a space. A malformed escape is kept as written rather than
    // refused: the field's own validation then names what is wrong with it.
    static std::string decode(const std::string& text) {
        std::string out;
        out.reserve(text.size());
        for (std::size_t i = 0; i < text.size(); ++i) {
            const char c = text[i];
            if (c == '+') {
                out += ' ';
            } else if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
                out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
                i += 2;
            } else {
                out += c;
            }
        }
        return out;
    }

private:
    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace tawasul::sdk
