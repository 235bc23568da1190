#include "TextNormalizer.hpp"

#include <cstdlib>
#include <memory>

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
                appendUtf8(out, unifyArabic(c));
            } else if (out.back() != ' ') {
                out += ' ';
            }
        }
    }
    if (out.back() != ' ') out += ' ';
    return out;
}

}  // namespace tawasul::plugins::inbound_router
