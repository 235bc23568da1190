#pragma once
// Canned replies: texts an agent inserts in the reply box by typing /shortcut. Each has a title,
// a shortcut (one word, lower case, unique) and its text in one or more of the admin's languages
// (en, fr, ar), with {{name}}-style fields that are filled from the conversation's contact when
// inserted. The rules (what a shortcut and a field may be, which language is chosen) live here,
// beside the store, so the integration tests check exactly what the pages apply. No HTTP here.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tawasul/sdk/Database.hpp"

namespace tawasul::plugins::admin_inbox {

// The languages a canned reply may be written in, in the order the form shows them (and the
// order "the first one there is" follows).
const std::vector<std::string>& cannedLanguages();
// The fields a text may hold: {{name}}, {{first_name}}, {{phone}}.
const std::vector<std::string>& cannedFields();

inline constexpr std::size_t kMaxShortcutChars = 30;
inline constexpr std::size_t kMaxTitleChars = 100;
inline constexpr std::size_t kMaxCannedTextChars = 4096;  // what a WhatsApp text message may hold

struct CannedReply {
    std::int64_t id = 0;
    std::string title;
    std::string shortcut;
    std::map<std::string, std::string> texts;  // language → text; only the languages written
    std::int64_t updatedAt = 0;
};

// What was wrong with a canned reply's form, field by field, as words the page translates.
struct CannedProblems {
    std::string title;     // empty, too_long
    std::string shortcut;  // empty, invalid, too_long, duplicate
    std::map<std::string, std::string> texts;  // language → malformed, unknown_field, too_long
    std::string unknownField;  // the first unknown field's name, for the message
    std::string noText;        // "no_text" when every language is empty
    bool any() const { return !title.empty() || !shortcut.empty() || !texts.empty() || !noText.empty(); }
};

// The number of characters (code points) of UTF-8 text.
std::size_t characterCount(const std::string& text);
// Whether `text` is well-formed UTF-8 (PostgreSQL refuses anything else).
bool validUtf8(const std::string& text);
// `text` without leading and trailing spaces, tabs and line ends; CR LF made LF.
std::string trimmedText(const std::string& text);

// The form's values made canonical (trimmed, the shortcut lower case, a leading "/" dropped, empty
// languages left out) and checked; the store's uniqueness is checked by CannedReplyStore::save.
CannedProblems checkCannedReply(CannedReply& reply);
// The problem of one text's fields: "" when fine, "malformed" ({{ without its }} or with
// something that is not a name inside), "unknown_field" (the name is put in `field`).
std::string checkCannedFields(const std::string& text, std::string& field);

// The contact a reply is filled for.
struct CannedContact {
    std::string name;   // profile name; may be empty
    std::string phone;  // E.164; may be empty
    std::string language;  // the contact's language when known ("fr"); usually empty
};
// The text of `reply` for this contact: in the contact's language if written, else the admin's
// (`uiLanguage`), else the first there is; its fields filled (a field with no value, such as the
// name of a contact who has none, becomes empty text). `language` gets the one chosen.
std::string fillCannedReply(const CannedReply& reply, const CannedContact& contact, const std::string& uiLanguage,
                            std::string* language = nullptr);

class CannedReplyStore {
public:
    explicit CannedReplyStore(sdk::Database& database);

    // Every canned reply, by shortcut.
    std::vector<CannedReply> list();
    std::optional<CannedReply> find(std::int64_t id);
    // Inserts (reply.id == 0) or updates; false with problems.shortcut = "duplicate" when another
    // reply has the shortcut (the unique index decides, so two agents saving at once cannot both
    // win), false when the id does not exist (problems empty). reply.id gets the new id.
    bool save(CannedReply& reply, std::int64_t actorUserId, std::int64_t at, CannedProblems& problems);
    bool remove(std::int64_t id);

private:
    sdk::Database& database_;
};

}  // namespace tawasul::plugins::admin_inbox
