#pragma once
// Folds text for keyword matching in French, Arabic and English: "Inscription", "inscription" and
// "INSCRÍPTION" meet, and so do "التَّسْجِيل", "التسجيل" and "إلتسجيل".
#include <string>

namespace tawasul::plugins::inbound_router {

// Unicode-aware folding through utf8proc: NFKD, combining marks stripped (accents, Arabic harakat),
// case folded; then the Arabic letter variants that people type interchangeably are unified
// (alef forms → ا, ة → ه, ى → ي), tatweel dropped, the definite article taken off an Arabic word
// (ال, also behind the attached و ف and ب ك ل: "والشركة", "بالشركة", "للشركة" all fold to "شركه"),
// and everything that is not a letter or a digit becomes a single space. The result has one space between words and one at each end, so that
// " word " finds whole words and phrases. Invalid UTF-8 folds to what can be read of it.
std::string foldForMatching(const std::string& text);

}  // namespace tawasul::plugins::inbound_router
