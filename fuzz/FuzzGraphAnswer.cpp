// Answers of the Graph API's send endpoint and media lookup: whatever a proxy, an outage page or
// Meta sends back. Input: two bytes of HTTP status (big-endian; folded into 100-599), then the body.
// Every answer is classified; none throws.
#include <cstddef>
#include <cstdint>
#include <string>

#include "GraphApi.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const int raw = data[0] << 8 | data[1];
    const int status = raw >= 100 && raw < 600 ? raw : 100 + raw % 500;
    const std::string body(reinterpret_cast<const char*>(data + 2), size - 2);
    (void)tawasul::plugins::cloud_api::classifyAnswer(status, body);
    (void)tawasul::plugins::cloud_api::readMediaLookup(status, body);
    return 0;
}
