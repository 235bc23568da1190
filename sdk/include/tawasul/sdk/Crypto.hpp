#pragma once
// The cryptographic helpers everyone shares (host, plugins, tests), over libsodium: hashes of bearer
// secrets (session cookies, API tokens, migration checksums), HMAC signatures (Meta's webhook
// signature), constant-time comparison of secrets, and fresh random tokens. libsodium stays
// behind these functions: no plugin needs its headers.
#include <cstddef>
#include <string>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

// Lower-case hex SHA-256 of `bytes`.
TAWASUL_SDK_API std::string sha256Hex(const std::string& bytes);

// Lower-case hex HMAC-SHA256 of `message` under `key` (RFC 2104; a key of any length).
TAWASUL_SDK_API std::string hmacSha256Hex(const std::string& message, const std::string& key);

// Whether two secrets are equal, in time that depends only on their lengths (the lengths of the
// secrets compared here are public). An empty string never equals anything, not even another empty
// one: a missing cookie, form field or configured token must not match another missing one.
TAWASUL_SDK_API bool constantTimeEquals(const std::string& a, const std::string& b);

// `bytes` random bytes from libsodium's CSPRNG, as unpadded base64url (URL- and cookie-safe).
TAWASUL_SDK_API std::string randomToken(std::size_t bytes = 32);

// `bytes` random bytes from libsodium's CSPRNG, as lower-case hex.
TAWASUL_SDK_API std::string randomHex(std::size_t bytes);

}  // namespace tawasul::sdk
