#include "Signature.hpp"

#include <sodium.h>

namespace tawasul::plugins::webhook_receiver {
namespace {

constexpr const char* kPrefix = "sha256=";
constexpr std::size_t kPrefixLength = 7;

void hmacSha256(const std::string& body, const std::string& key, unsigned char out[crypto_auth_hmacsha256_BYTES]) {
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()), body.size());
    crypto_auth_hmacsha256_final(&state, out);
    sodium_memzero(&state, sizeof state);
}

}  // namespace

SignatureCheck checkSignature(const std::string& body, const std::string* header, const std::string& appSecret) {
    if (header == nullptr || header->empty()) return SignatureCheck::Missing;
    if (header->size() != kPrefixLength + 2 * crypto_auth_hmacsha256_BYTES || header->compare(0, kPrefixLength, kPrefix) != 0)
        return SignatureCheck::Malformed;
    unsigned char claimed[crypto_auth_hmacsha256_BYTES];
    std::size_t decoded = 0;
    const char* hex = header->data() + kPrefixLength;
    if (sodium_hex2bin(claimed, sizeof claimed, hex, 2 * crypto_auth_hmacsha256_BYTES, nullptr, &decoded, nullptr) != 0 ||
        decoded != sizeof claimed)
        return SignatureCheck::Malformed;
    unsigned char expected[crypto_auth_hmacsha256_BYTES];
    hmacSha256(body, appSecret, expected);
    return sodium_memcmp(claimed, expected, sizeof expected) == 0 ? SignatureCheck::Valid : SignatureCheck::Mismatch;
}

std::string signatureHeader(const std::string& body, const std::string& appSecret) {
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    hmacSha256(body, appSecret, mac);
    char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    return std::string(kPrefix) + hex;
}

bool constantTimeEquals(const std::string& a, const std::string& b) {
    return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tawasul::plugins::webhook_receiver
