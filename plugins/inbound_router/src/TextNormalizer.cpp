#include "TextNormalizer.hpp"

#include <cstdlib>
#include <memory>
#include <vector>

#include <utf8proc.h>

namespace tawasul::plugins::inbound_router {
namespace {

utf8proc_int32_t unifyArabic(utf8proc_int32_t c) {
    switch (c) {
        case 0x0622:  // آ alef with madda
        case 0x0623:  // أ alef with hamza above
        case 0x0625:  // إ alef with hamza below
        case 0x0671:  // ٱ alef wasla
            return 0x0627;  // ا
        case 0x0629: return 0x0647;  // ة ta marbuta → ه
        case 0x0649: return 0x064A;  // ى alef maqsura → ي
        default: return c;
    }
}

void appendUtf8(std::string& out, utf8proc_int32_t c) {
    utf8proc_uint8_t buffer[4];
    const auto length = utf8proc_encode_char(c, buffer);
    out.append(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(length));
}

constexpr utf8proc_int32_t kAlef = 0x0627, kLam = 0x0644, kWaw = 0x0648, kFa = 0x0641, kBa = 0x0628, kKaf = 0x0643;

// Where the stem of an Arabic word starts once its definite article is taken off: ال, optionally
// behind a conjunction (و ف) and then a preposition (ب ك ل) written onto it; ل + ال is written لل.
// A prefix letter is taken only when the article follows it, so "وقت" or "بيت" keep their first
// letter, and only when at least two letters remain ("الم" is left alone).
std::size_t articleLength(const std::vector<utf8proc_int32_t>& word, std::size_t from) {
    std::size_t at = from;
    if (word.size() > at && (word[at] == kWaw || word[at] == kFa)) ++at;
    std::size_t stem = 0;
    if (word.size() > at + 1 && word[at] == kAlef && word[at + 1] == kLam) {
        stem = at + 2;                                                            // (و)ال
    } else if (word.size() > at + 2 && (word[at] == kBa || word[at] == kKaf) && word[at + 1] == kAlef && word[at + 2] == kLam) {
        stem = at + 3;                                                            // (و)بال (و)كال
    } else if (word.size() > at + 1 && word[at] == kLam && word[at + 1] == kLam) {
        stem = at + 2;                                                            // (و)لل
    }
    return stem != 0 && word.size() >= stem + 2 ? stem : 0;
}

// The article is taken off as long as one is left: "الالتزام" and "التزام" fold alike, and so
// folding a folded text changes nothing (taking one off only, a keyword and the same word with one
// more article differed; fuzz_text_normalizer found it).
void appendWord(std::string& out, const std::vector<utf8proc_int32_t>& word) {
    std::size_t stem = 0;
    while (const std::size_t next = articleLength(word, stem)) stem = next;
    for (std::size_t i = stem; i < word.size(); ++i) appendUtf8(out, word[i]);
}

}  // namespace

std::string foldForMatching(const std::string& text) {
    // NFKD splits a precomposed letter into base + marks; STRIPMARK drops the marks, which removes
    // Latin accents and the Arabic short vowels, shadda and sukun alike.
    utf8proc_uint8_t* folded = nullptr;
    const auto options = static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK |
                                                        UTF8PROC_CASEFOLD | UTF8PROC_IGNORE | UTF8PROC_STRIPCC);
    const auto length = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                     static_cast<utf8proc_ssize_t>(text.size()), &folded, options);
    std::string out = " ";
    if (length < 0) {
        // Not valid UTF-8: fold the ASCII that is there rather than give up on the message.
        for (unsigned char c : text) {
            if (c < 0x80 && std::isalnum(c)) out += static_cast<char>(std::tolower(c));
            else if (out.back() != ' ') out += ' ';
        }
    } else {
        std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(folded, &std::free);
        std::vector<utf8proc_int32_t> word;
        utf8proc_ssize_t at = 0;
        while (at < length) {
            utf8proc_int32_t c = 0;
            const auto used = utf8proc_iterate(folded + at, length - at, &c);
            if (used <= 0) break;
            at += used;
            if (c == 0x0640) continue;  // tatweel only stretches a word
            const auto category = utf8proc_category(c);
            const bool wordChar = (category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO) ||
                                  (category >= UTF8PROC_CATEGORY_ND && category <= UTF8PROC_CATEGORY_NO);
            if (wordChar) {
                word.push_back(unifyArabic(c));
            } else if (!word.empty()) {
                appendWord(out, word);
                word.clear();
                out += ' ';
            }
        }
        appendWord(out, word);
    }
    if (out.back() != ' ') out += ' ';
    return out;
}

}  // namespace tawasul::plugins::inbound_router
