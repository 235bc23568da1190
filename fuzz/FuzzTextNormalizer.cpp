// The Arabic/French keyword folding of inbound texts: any bytes a sender types, valid UTF-8 or not.
// The result is words between single spaces, and folding it again changes nothing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "TextNormalizer.hpp"

using tawasul::plugins::inbound_router::foldForMatching;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::string folded = foldForMatching(text);
    if (folded.find("  ") != std::string::npos) __builtin_trap();
    if (foldForMatching(folded) != folded) __builtin_trap();
    return 0;
}
