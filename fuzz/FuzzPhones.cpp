// Phone normalisation (libphonenumber, default region DZ): numbers come from webhooks, the
// platform API and admin forms. The answer is E.164 or nothing, and E.164 is stable.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tawasul/whatsapp/Phones.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const tawasul::sdk::PhoneNormalizer normalizer("DZ");
    const std::string raw(reinterpret_cast<const char*>(data), size);
    const auto e164 = normalizer.toE164(raw);
    if (!e164) return 0;
    if (e164->size() < 2 || e164->size() > 16 || (*e164)[0] != '+') __builtin_trap();
    for (std::size_t i = 1; i < e164->size(); ++i)
        if ((*e164)[i] < '0' || (*e164)[i] > '9') __builtin_trap();
    const auto again = normalizer.toE164(*e164);
    if (!again || *again != *e164) __builtin_trap();
    return 0;
}
