#include "KeywordRules.hpp"

#include <set>

#include "TextNormalizer.hpp"

namespace tawasul::plugins::inbound_router {
namespace {

constexpr const char* kDefaultRules = R"(
keywords:
  # Institution first: a company asking for training mentions training too.
  - intent: institution
    keywords:
      fr: [devis, entreprise, "notre société", "nos employés", "nos salariés", "formation en entreprise", organisme]
      # The article (ال, والـ, بالـ, للـ...) is folded away: "شركة" finds "الشركة" and "للشركة".
      ar: [شركة, شركات, مؤسسة, مؤسسات, موظفين, موظفي, موظفينا, موظفيكم, لموظفي, لموظفينا, عمالنا, "عرض سعر", "عروض أسعار"]
      en: [company, quote, quotation, "our employees", "our staff", corporate]
    actions:
      - tag: institution
      - create_b2b_lead: {}
  - intent: registration
    keywords:
      fr: [inscription, inscrire, "m'inscrire", "s'inscrire", formation, session, programme]
      ar: [تسجيل, سجلني, اشتراك, تكوين, تكوينات, دورة, دورات]
      en: [register, registration, enroll, enrol, course, training]
    actions:
      - tag: registration
)";

}  // namespace

KeywordRules KeywordRules::defaults() {
    return fromConfig(sdk::ConfigNode::loadString(kDefaultRules, "<built-in keyword rules>").child("keywords"));
}

KeywordRules KeywordRules::fromConfig(const sdk::ConfigNode& node) {
    KeywordRules result;
    std::set<std::string> intents;
    for (const sdk::ConfigNode& item : node.items()) {
        item.allowOnly({"intent", "keywords", "actions"});
        KeywordRule rule;
        rule.intent = item.getString("intent");
        if (rule.intent.empty()) item.child("intent").fail("an intent needs a name");
        if (!intents.insert(rule.intent).second) item.child("intent").fail("intent '" + rule.intent + "' is defined twice");
        const sdk::ConfigNode keywords = item.child("keywords");
        keywords.allowOnly({"fr", "ar", "en"});
        for (const auto& [language, list] : keywords.entries()) {
            for (const sdk::ConfigNode& word : list.items()) {
                const std::string text = word.asString();
                const std::string folded = foldForMatching(text);
                if (folded == " ") word.fail("a keyword needs at least one letter or digit");
                rule.keywords.push_back(folded);
                rule.original.push_back(text);
            }
        }
        if (rule.keywords.empty()) item.fail("intent '" + rule.intent + "' has no keywords");
        for (const sdk::ConfigNode& action : item.child("actions").items()) {
            action.allowOnly({"tag", "create_b2b_lead", "assign", "auto_reply"});
            const auto entries = action.entries();
            if (entries.size() != 1) action.fail("each action is one of tag, create_b2b_lead, assign, auto_reply");
            const auto& [name, value] = entries.front();
            RuleAction parsed;
            if (name == "tag") {
                parsed.kind = RuleAction::Kind::Tag;
                parsed.value = value.asString();
            } else if (name == "create_b2b_lead") {
                parsed.kind = RuleAction::Kind::CreateB2bLead;
                value.allowOnly({});
            } else if (name == "assign") {
                parsed.kind = RuleAction::Kind::Assign;
                parsed.value = value.asString();
                if (parsed.value.find('@') == std::string::npos) value.fail("assign takes a user's email address");
            } else {
                parsed.kind = RuleAction::Kind::AutoReply;
                value.allowOnly({"template", "language"});
                parsed.value = value.getString("template");
                parsed.language = value.getString("language", "fr");
            }
            rule.actions.push_back(parsed);
        }
        result.rules_.push_back(std::move(rule));
    }
    return result;
}

std::optional<RuleMatch> KeywordRules::match(const std::string& text) const {
    if (rules_.empty()) return std::nullopt;
    const std::string folded = foldForMatching(text);
    for (const KeywordRule& rule : rules_) {
        for (std::size_t i = 0; i < rule.keywords.size(); ++i) {
            if (folded.find(rule.keywords[i]) != std::string::npos) return RuleMatch{&rule, rule.original[i]};
        }
    }
    return std::nullopt;
}

}  // namespace tawasul::plugins::inbound_router
