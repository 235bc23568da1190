#pragma once
// Keyword routing: ordered rules from the YAML, each an intent with keywords in French, Arabic and
// English and the actions to take when a message matches. The first matching rule wins.
#include <optional>
#include <string>
#include <vector>

#include "tawasul/sdk/Config.hpp"

namespace tawasul::plugins::inbound_router {

struct RuleAction {
    enum class Kind { Tag, CreateB2bLead, Assign, AutoReply } kind = Kind::Tag;
    std::string value;  // tag: the tag; assign: a user's email; auto_reply: a template name
    std::string language;  // auto_reply: the template's language code
};

struct KeywordRule {
    std::string intent;
    std::vector<std::string> keywords;  // folded, " word " form
    std::vector<std::string> original;  // as written in the configuration, for logs
    std::vector<RuleAction> actions;
};

struct RuleMatch {
    const KeywordRule* rule = nullptr;
    std::string keyword;  // the keyword as configured
};

class KeywordRules {
public:
    KeywordRules() = default;
    // `keywords:` is a list of {intent, keywords: {fr: [...], ar: [...], en: [...]}, actions: [...]}.
    // Errors point at FILE:LINE:COL.
    static KeywordRules fromConfig(const sdk::ConfigNode& node);
    // The built-in rules used when the configuration has none: registration and institution.
    static KeywordRules defaults();

    std::optional<RuleMatch> match(const std::string& text) const;
    const std::vector<KeywordRule>& rules() const { return rules_; }

private:
    std::vector<KeywordRule> rules_;
};

}  // namespace tawasul::plugins::inbound_router
