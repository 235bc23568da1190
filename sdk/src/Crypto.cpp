#include "tawasul/sdk/Crypto.hpp"

#include <stdexcept>
#include <vector>

#include <sodium.h>

namespace tawasul::sdk {
namespace {

// libsodium wants sodium_init() before any other call; once per process (a static's initialiser
// runs once, thread-safe), not once per call: sodium_init() takes a lock every time.
void initSodium() {
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw std::runtime_error("libsodium could not be initialised");
}

std::string hex(const unsigned char* bytes, std::size_t size) {
    std::string text(size * 2 + 1, '\0');
    sodium_bin2hex(text.data(), text.size(), bytes, size);
    text.pop_back();
    return text;
}

std::vector<unsigned char> randomBytes(std::size_t size) {
    initSodium();
    std::vector<unsigned char> raw(size);
    randombytes_buf(raw.data(), raw.size());
    return raw;
}

}  // namespace

std::string sha256Hex(const std::string& bytes) {
    initSodium();
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    return hex(digest, sizeof digest);
}

std::string hmacSha256Hex(const std::string& message, const std::string& key) {
    initSodium();
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()), message.size());
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_memzero(&state, sizeof state);  // the state holds the key, padded
    return hex(mac, sizeof mac);
}

bool constantTimeEquals(const std::string& a, const std::string& b) {
    if (a.size() != b.size() || a.empty()) return false;
    initSodium();
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string randomToken(std::size_t bytes) {
    const std::vector<unsigned char> raw = randomBytes(bytes);
    std::string text(sodium_base64_encoded_len(raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(text.data(), text.size(), raw.data(), raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    text.resize(text.find('\0'));
    return text;
}

std::string randomHex(std::size_t bytes) {
    const std::vector<unsigned char> raw = randomBytes(bytes);
    return hex(raw.data(), raw.size());
}

}  // namespace tawasul::sdk
