#include "Signature.hpp"

#include <algorithm>
#include <cctype>

#include <Poco/String.h>

#include "tawasul/sdk/Crypto.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

namespace tawasul::plugins::webhook_receiver {
namespace {

constexpr const char* kPrefix = "sha256=";
constexpr std::size_t kPrefixLength = 7;
constexpr std::size_t kHexDigits = 64;  // 32 bytes of HMAC-SHA256

}  // namespace

SignatureCheck checkSignature(const std::string& body, const std::string* header, const std::string& appSecret) {
    if (header == nullptr || header->empty()) return SignatureCheck::Missing;
    if (header->size() != kPrefixLength + kHexDigits || header->compare(0, kPrefixLength, kPrefix) != 0 ||
        !std::all_of(header->begin() + kPrefixLength, header->end(), [](unsigned char c) { return std::isxdigit(c) != 0; }))
        return SignatureCheck::Malformed;
    return sdk::constantTimeEquals(Poco::toLower(*header), sdk::webhookSignature(body, appSecret)) ? SignatureCheck::Valid
                                                                                                   : SignatureCheck::Mismatch;
}

}  // namespace tawasul::plugins::webhook_receiver
