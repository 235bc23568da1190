#include "tawasul/whatsapp/Phones.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <set>
#include <stdexcept>
#include <unordered_map>

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

std::optional<std::string> formatValid(const PhoneNumberUtil& util, const std::string& text, const std::string& region) {
    PhoneNumber number;
    if (util.Parse(text, region, &number) != PhoneNumberUtil::NO_PARSING_ERROR) return std::nullopt;
    if (!util.IsValidNumber(number)) return std::nullopt;
    std::string e164;
    util.Format(number, PhoneNumberUtil::E164, &e164);
    // E.164 has at most 15 digits, and so has every wa_id. libphonenumber calls some longer German
    // numbers valid ("+4926 213284926 213" gave 16 digits, found by fuzz_phones): not a phone here.
    if (e164.size() > 16) return std::nullopt;
    return e164;
}

bool sameDigits(const std::string& text, const std::string& e164) {
    std::string digits;
    for (const char c : text)
        if (c >= '0' && c <= '9') digits += c;
    return digits == e164.substr(1);
}

// libphonenumber's E.164 is not always its own answer: "52 0215552134357" gives +5215552134357,
// which it reads again as +525552134357 (Mexico's former mobile 1; found by fuzz_phones in CI). The
// answer is read again until it stays, so that a stored E.164 normalises to itself. A wa_id, whose
// digits are already the answer, costs no second parse.
std::optional<std::string> parseValid(const PhoneNumberUtil& util, const std::string& text, const std::string& region) {
    std::optional<std::string> e164 = formatValid(util, text, region);
    for (int again = 0; e164 && !sameDigits(text, *e164) && again < 3; ++again) {
        const std::optional<std::string> next = formatValid(util, *e164, region);
        if (!next || *next == *e164) break;
        e164 = next;
    }
    return e164;
}

// libphonenumber's parse is the costliest step of reading an inbound message (its patterns run on
// ICU's regular expressions), and each sender is normalised twice per batch: by the inbound router
// (the contact's phone) and by the contact matcher (the index key). The answer depends on nothing
// but the region and the text, so the latest answers are kept for any normaliser of the process.
// Cleared whole when full: the senders of a flood come back within a batch, not hours later.
class Answers {
public:
    template <typename Compute>
    std::optional<std::string> get(const std::string& region, const std::string& raw, Compute&& compute) {
        std::string key;
        key.reserve(region.size() + 1 + raw.size());
        key.append(region).append(1, '\n').append(raw);
        {
            std::lock_guard lock(mutex_);
            if (const auto it = answers_.find(key); it != answers_.end()) return it->second;
        }
        std::optional<std::string> answer = compute();  // outside the lock: other threads keep normalising
        std::lock_guard lock(mutex_);
        if (answers_.size() >= kEntries) answers_.clear();
        answers_.emplace(std::move(key), answer);
        return answer;
    }

private:
    static constexpr std::size_t kEntries = 16384;
    std::mutex mutex_;
    std::unordered_map<std::string, std::optional<std::string>> answers_;
};

Answers& answers() {
    static Answers* const instance = new Answers;  // never destroyed: a thread may normalise while the process exits
    return *instance;
}

std::optional<std::string> normalise(const std::string& raw, const std::string& region) {
    try {
        if (raw.empty() || raw.size() > 64 || hasLetter(raw)) return std::nullopt;
        const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
        // As written, in the default region: national forms, "+..." and "00..." international ones,
        // and the default country's own code without '+' (libphonenumber strips it when what follows
        // is a valid national number).
        if (auto e164 = parseValid(util, raw, region)) return e164;
        // A wa_id of another country: digits that start with their country code, without the '+'.
        const auto first = raw.find_first_not_of(" \t");
        if (first != std::string::npos && raw[first] != '+') return parseValid(util, "+" + raw.substr(first), region);
        return std::nullopt;
    } catch (...) {
        return std::nullopt;  // "not a phone" is an answer, not an error
    }
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
    if (raw.empty() || raw.size() > 64) return std::nullopt;  // not worth keeping
    return answers().get(defaultRegion_, raw, [&] { return normalise(raw, defaultRegion_); });
}

}  // namespace tawasul::sdk
