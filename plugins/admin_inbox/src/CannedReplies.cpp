#include "CannedReplies.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>

namespace tawasul::plugins::admin_inbox {
namespace {

using namespace Poco::Data::Keywords;
using NullableText = Poco::Nullable<std::string>;

bool isNameChar(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }

std::string trimSpaces(const std::string& text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return "";
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

const std::vector<std::string>& cannedLanguages() {
    static const std::vector<std::string> languages{"en", "fr", "ar"};
    return languages;
}

const std::vector<std::string>& cannedFields() {
    static const std::vector<std::string> fields{"name", "first_name", "phone"};
    return fields;
}

std::size_t characterCount(const std::string& text) {
    std::size_t n = 0;
    for (const char c : text)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

bool validUtf8(const std::string& text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        std::size_t extra = 0;
        std::uint32_t code = 0;
        if (c < 0x80) extra = 0, code = c;
        else if ((c & 0xE0) == 0xC0) extra = 1, code = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) extra = 2, code = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) extra = 3, code = c & 0x07;
        else return false;
        if (i + extra >= text.size()) return false;  // cut short
        for (std::size_t k = 1; k <= extra; ++k) {
            const unsigned char next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            code = (code << 6) | (next & 0x3F);
        }
        // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8; nor is NUL.
        if ((extra == 1 && code < 0x80) || (extra == 2 && code < 0x800) || (extra == 3 && code < 0x10000) || code > 0x10FFFF ||
            (code >= 0xD800 && code <= 0xDFFF) || code == 0)
            return false;
        i += extra + 1;
    }
    return true;
}

std::string trimmedText(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i)
        if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) out += text[i];
    const auto first = out.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return "";
    return out.substr(first, out.find_last_not_of(" \t\r\n") - first + 1);
}

std::string checkCannedFields(const std::string& text, std::string& field) {
    std::size_t at = 0;
    while (true) {
        const auto open = text.find("{{", at);
        const auto stray = text.find("}}", at);
        if (open == std::string::npos) return stray == std::string::npos ? "" : "malformed";
        if (stray < open) return "malformed";
        const auto close = text.find("}}", open + 2);
        if (close == std::string::npos) return "malformed";
        const std::string name = trimSpaces(text.substr(open + 2, close - open - 2));
        if (name.empty() || !std::all_of(name.begin(), name.end(), isNameChar)) return "malformed";
        if (std::find(cannedFields().begin(), cannedFields().end(), name) == cannedFields().end()) {
            field = name;
            return "unknown_field";
        }
        at = close + 2;
    }
}

CannedProblems checkCannedReply(CannedReply& reply) {
    CannedProblems problems;
    reply.title = trimmedText(reply.title);
    if (reply.title.empty()) problems.title = "empty";
    else if (characterCount(reply.title) > kMaxTitleChars) problems.title = "too_long";

    std::string shortcut = trimSpaces(reply.shortcut);
    if (!shortcut.empty() && shortcut[0] == '/') shortcut.erase(0, 1);
    std::transform(shortcut.begin(), shortcut.end(), shortcut.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    reply.shortcut = shortcut;
    // One word an agent types after "/": ASCII letters, digits, '-' and '_', starting with a
    // letter or digit (what every keyboard layout the admin uses can type, and what the page's
    // script matches as typed).
    const auto wordChar = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; };
    if (shortcut.empty()) problems.shortcut = "empty";
    else if (shortcut.size() > kMaxShortcutChars) problems.shortcut = "too_long";
    else if (!std::all_of(shortcut.begin(), shortcut.end(), wordChar) || shortcut[0] == '-' || shortcut[0] == '_')
        problems.shortcut = "invalid";

    std::map<std::string, std::string> texts;
    for (const std::string& language : cannedLanguages()) {
        const auto found = reply.texts.find(language);
        if (found == reply.texts.end()) continue;
        const std::string text = trimmedText(found->second);
        if (text.empty()) continue;
        texts[language] = text;
        std::string field;
        const std::string problem = checkCannedFields(text, field);
        if (!problem.empty()) {
            problems.texts[language] = problem;
            if (problem == "unknown_field" && problems.unknownField.empty()) problems.unknownField = field;
        } else if (characterCount(text) > kMaxCannedTextChars) {
            problems.texts[language] = "too_long";
        }
    }
    reply.texts = texts;
    if (texts.empty()) problems.noText = "no_text";
    return problems;
}

std::string fillCannedReply(const CannedReply& reply, const CannedContact& contact, const std::string& uiLanguage, std::string* language) {
    const std::string* text = nullptr;
    for (const std::string& wanted : {contact.language, uiLanguage}) {
        const auto found = reply.texts.find(wanted);
        if (!wanted.empty() && found != reply.texts.end()) {
            text = &found->second;
            if (language) *language = wanted;
            break;
        }
    }
    if (!text)
        for (const std::string& candidate : cannedLanguages()) {
            const auto found = reply.texts.find(candidate);
            if (found == reply.texts.end()) continue;
            text = &found->second;
            if (language) *language = candidate;
            break;
        }
    if (!text) return "";
    const std::string name = trimSpaces(contact.name);
    const std::map<std::string, std::string> values{
        {"name", name}, {"first_name", name.substr(0, name.find(' '))}, {"phone", contact.phone}};
    std::string out;
    std::size_t at = 0;
    while (true) {
        const auto open = text->find("{{", at);
        const auto close = open == std::string::npos ? std::string::npos : text->find("}}", open + 2);
        if (close == std::string::npos) {
            out += text->substr(at);
            return out;
        }
        out += text->substr(at, open - at);
        const auto value = values.find(trimSpaces(text->substr(open + 2, close - open - 2)));
        if (value != values.end()) out += value->second;
        else out += text->substr(open, close + 2 - open);  // a stored text is checked: not reached
        at = close + 2;
    }
}

CannedReplyStore::CannedReplyStore(sdk::Database& database) : database_(database) {}

namespace {
const char* const kColumns = "SELECT id, title, shortcut, body_en, body_fr, body_ar, updated_at FROM whatsapp_canned_replies";

std::vector<CannedReply> rowsOf(Poco::Data::Statement& select) {
    std::vector<Poco::Int64> ids, updated;
    std::vector<std::string> titles, shortcuts;
    std::vector<NullableText> en, fr, ar;
    select, into(ids), into(titles), into(shortcuts), into(en), into(fr), into(ar), into(updated);
    select.execute();
    std::vector<CannedReply> out;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        CannedReply reply{ids[i], titles[i], shortcuts[i], {}, updated[i]};
        if (!en[i].isNull()) reply.texts["en"] = en[i].value();
        if (!fr[i].isNull()) reply.texts["fr"] = fr[i].value();
        if (!ar[i].isNull()) reply.texts["ar"] = ar[i].value();
        out.push_back(std::move(reply));
    }
    return out;
}

NullableText textIn(const CannedReply& reply, const std::string& language) {
    const auto found = reply.texts.find(language);
    return found == reply.texts.end() ? NullableText() : NullableText(found->second);
}
}  // namespace

std::vector<CannedReply> CannedReplyStore::list() {
    Poco::Data::Session session = database_.session();
    Poco::Data::Statement select(session);
    select << std::string(kColumns) + " ORDER BY shortcut LIMIT 1000";
    return rowsOf(select);
}

std::optional<CannedReply> CannedReplyStore::find(std::int64_t id) {
    Poco::Data::Session session = database_.session();
    Poco::Data::Statement select(session);
    Poco::Int64 key = id;
    select << std::string(kColumns) + " WHERE id = $1", use(key);
    auto rows = rowsOf(select);
    if (rows.empty()) return std::nullopt;
    return rows.front();
}

bool CannedReplyStore::save(CannedReply& reply, std::int64_t actorUserId, std::int64_t at, CannedProblems& problems) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session, sdk::Durability::Full);
    Poco::Int64 id = reply.id, when = at;
    std::string title = reply.title, shortcut = reply.shortcut;
    NullableText en = textIn(reply, "en"), fr = textIn(reply, "fr"), ar = textIn(reply, "ar");
    std::vector<Poco::Int64> taken;
    session << "SELECT id FROM whatsapp_canned_replies WHERE shortcut = $1 AND id <> $2", use(shortcut), use(id), into(taken), now;
    if (!taken.empty()) {
        problems.shortcut = "duplicate";
        return false;
    }
    try {
        if (reply.id == 0) {
            Poco::Nullable<Poco::Int64> actor = actorUserId > 0 ? Poco::Nullable<Poco::Int64>(actorUserId) : Poco::Nullable<Poco::Int64>();
            std::vector<Poco::Int64> ids;
            session << "INSERT INTO whatsapp_canned_replies (title, shortcut, body_en, body_fr, body_ar, created_by_user_id, created_at, updated_at) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                use(title), use(shortcut), use(en), use(fr), use(ar), use(actor), use(when), into(ids), now;
            reply.id = ids.at(0);
        } else {
            Poco::Data::Statement update(session);
            update << "UPDATE whatsapp_canned_replies SET title = $1, shortcut = $2, body_en = $3, body_fr = $4, body_ar = $5, updated_at = $6 "
                      "WHERE id = $7",
                use(title), use(shortcut), use(en), use(fr), use(ar), use(when), use(id);
            if (update.execute() == 0) return false;
        }
    } catch (const Poco::Exception&) {
        // Another save took the shortcut between the check and this write: the unique index
        // refused it. Anything else is not this form's problem.
        Poco::Data::Session fresh = database_.session();
        std::vector<Poco::Int64> now_taken;
        fresh << "SELECT id FROM whatsapp_canned_replies WHERE shortcut = $1 AND id <> $2", use(shortcut), use(id), into(now_taken), now;
        if (now_taken.empty()) throw;
        problems.shortcut = "duplicate";
        return false;
    }
    tx.commit();
    reply.updatedAt = at;
    return true;
}

bool CannedReplyStore::remove(std::int64_t id) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session, sdk::Durability::Full);
    Poco::Int64 key = id;
    Poco::Data::Statement remove(session);
    remove << "DELETE FROM whatsapp_canned_replies WHERE id = $1", use(key);
    const std::size_t removed = remove.execute();
    tx.commit();
    return removed > 0;
}

}  // namespace tawasul::plugins::admin_inbox
