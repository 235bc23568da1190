#pragma once
// Small cryptographic helpers the host uses in several places: hashes of bearer secrets (session
// cookies, API tokens, migration checksums) and fresh random tokens.
#include <cstddef>
#include <string>

namespace tawasul::host {

// Lower-case hex SHA-256 of `bytes`.
std::string sha256Hex(const std::string& bytes);

// `bytes` random bytes from libsodium's CSPRNG, as unpadded base64url (URL- and cookie-safe).
std::string randomToken(std::size_t bytes = 32);

// `bytes` random bytes from libsodium's CSPRNG, as lower-case hex.
std::string randomHex(std::size_t bytes);

// Compares two secrets in time that depends only on their lengths; empty never equals.
bool constantTimeEquals(const std::string& a, const std::string& b);

}  // namespace tawasul::host
