#pragma once
// Meta signs every webhook POST: X-Hub-Signature-256: sha256=<hex HMAC-SHA256(raw body, app secret)>.
#include <string>

namespace tawasul::plugins::webhook_receiver {

enum class SignatureCheck { Valid, Missing, Malformed, Mismatch };

// Hashes the body exactly as received (Meta's escaping included) and compares in constant time.
SignatureCheck checkSignature(const std::string& body, const std::string* header, const std::string& appSecret);

// "sha256=<hex>" for a body: what Meta would send (used by tests and the simulator).
std::string signatureHeader(const std::string& body, const std::string& appSecret);

// Constant-time equality of two strings (length is not secret).
bool constantTimeEquals(const std::string& a, const std::string& b);

}  // namespace tawasul::plugins::webhook_receiver
