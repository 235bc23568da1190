#pragma once
// Phone numbers in the one form the index and WhatsApp agree on: E.164 ("+213555123456").
#include <optional>
#include <string>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

class ConfigNode;

// Normalises what people and systems write for a phone number, over libphonenumber (so the
// numbering plans of every country come from its metadata, never from tables of our own).
// Accepts national forms of the default region ("0555 12 34 56", "555123456", "021 23 45 67"),
// international ones ("+213 555 12 34 56", "00213555123456", "0033612345678") and WhatsApp wa_ids
// (the number in digits with its country code and no '+', "213661234567", "33612345678").
// Immutable after construction and safe to share between threads.
class TAWASUL_SDK_API PhoneNormalizer {
public:
    explicit PhoneNormalizer(std::string defaultRegion = "DZ");

    // The E.164 form, or nullopt when `raw` is not a valid phone number: empty, letters, too short
    // or too long, a prefix no operator uses. Never throws for any input and never guesses.
    std::optional<std::string> toE164(const std::string& raw) const;

    const std::string& defaultRegion() const { return defaultRegion_; }

private:
    std::string defaultRegion_;
};

// A plugin configuration's `default_region` (DZ when absent), refused at its FILE:LINE:COL when
// libphonenumber does not know it: the key every plugin that normalises phones takes.
TAWASUL_SDK_API std::string defaultRegionOf(const ConfigNode& config);

}  // namespace tawasul::sdk
