#pragma once
// Outbox template text: which variables a body uses, whether it is well formed (checked when an
// admin saves it), rendering with values (a missing value is an error naming it), and the wa.me
// link a person clicks to send the result by hand. No database here: the admin pages of this
// plugin and the provider share it.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tawasul::plugins::outbox {

class OutboxTemplate {
public:
    // Checks a body: not empty, at most 1024 characters, balanced {{ }}, variables named
    // [A-Za-z_][A-Za-z0-9_]* or numbered 1..n without gaps, and not both kinds in one body.
    // Returns the problem in words, or nullopt when the body is fine.
    static std::optional<std::string> validate(const std::string& body);

    // The distinct variables in order of first appearance ("1", "2" or "first_name", ...).
    // Assumes a body that validate() accepts.
    static std::vector<std::string> variables(const std::string& body);

    // Replaces every {{variable}} with its value. On a missing value returns nullopt and names
    // the missing variables in `error`.
    static std::optional<std::string> render(const std::string& body, const std::map<std::string, std::string>& values,
                                             std::string& error);
};

// https://wa.me/<digits>?text=<text>, every byte outside RFC 3986's unreserved set
// percent-encoded (so Arabic and French UTF-8 arrive intact); "+213 555..." → "213555...".
std::string waMeLink(const std::string& phoneE164, const std::string& text);

}  // namespace tawasul::plugins::outbox
