#include "tawasul/whatsapp/Phones.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

namespace tawasul::sdk {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// libphonenumber reads "1-800-FLOWERS" as a vanity number; in the platform's records a letter
// means a note or a typo, so any ASCII letter makes the value "not a phone" rather than a guess.
bool hasLetter(const std::string& text) {
    return std::any_of(text.begin(), text.end(), [](unsigned char c) { return std::isalpha(c) != 0; });
}

std::optional<std::string> parseValid(const PhoneNumberUtil& util, const std::string& text, const std::string& region) {
    PhoneNumber number;
    if (util.Parse(text, region, &number) != PhoneNumberUtil::NO_PARSING_ERROR) return std::nullopt;
    if (!util.IsValidNumber(number)) return std::nullopt;
    std::string e164;
    util.Format(number, PhoneNumberUtil::E164, &e164);
    return e164;
}

}  // namespace

PhoneNormalizer::PhoneNormalizer(std::string defaultRegion) : defaultRegion_(std::move(defaultRegion)) {
    const std::set<std::string> regions = [] {
        std::set<std::string> supported;
        PhoneNumberUtil::GetInstance()->GetSupportedRegions(&supported);
        return supported;
    }();
    if (regions.count(defaultRegion_) == 0)
        throw std::invalid_argument("'" + defaultRegion_ + "' is not a region libphonenumber knows (use a code such as DZ or FR)");
}

std::optional<std::string> PhoneNormalizer::toE164(const std::string& raw) const {
    try {
        if (raw.empty() || raw.size() > 64 || hasLetter(raw)) return std::nullopt;
        const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
        // As written, in the default region: national forms, "+..." and "00..." international ones,
        // and the default country's own code without '+' (libphonenumber strips it when what follows
        // is a valid national number).
        if (auto e164 = parseValid(util, raw, defaultRegion_)) return e164;
        // A wa_id of another country: digits that start with their country code, without the '+'.
        const auto first = raw.find_first_not_of(" \t");
        if (first != std::string::npos && raw[first] != '+') return parseValid(util, "+" + raw.substr(first), defaultRegion_);
        return std::nullopt;
    } catch (...) {
        return std::nullopt;  // "not a phone" is an answer, not an error
    }
}

}  // namespace tawasul::sdk
