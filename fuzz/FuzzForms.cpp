// Form bodies (application/x-www-form-urlencoded) and ids from route segments, query values and
// form fields, as every admin page reads them.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tawasul/sdk/Forms.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(reinterpret_cast<const char*>(data), size);
    const tawasul::sdk::FormData form(body);
    for (const auto& [name, value] : form.fields()) {
        if (!form.get(name)) __builtin_trap();  // every parsed field can be found again
        (void)form.all(name);
        const std::int64_t id = tawasul::sdk::positiveId(value);
        if (id < 0) __builtin_trap();
    }
    // Decoding never grows the text.
    if (tawasul::sdk::FormData::decode(body).size() > body.size()) __builtin_trap();
    (void)tawasul::sdk::positiveId(body);
    return 0;
}
