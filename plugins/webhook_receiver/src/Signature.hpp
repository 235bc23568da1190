#pragma once
// Meta signs every webhook POST: X-Hub-Signature-256: sha256=<hex HMAC-SHA256(raw body, app secret)>
// (sdk::webhookSignature in tawasul/whatsapp/Webhooks.hpp makes the value; this checks one).
#include <string>

namespace tawasul::plugins::webhook_receiver {

enum class SignatureCheck { Valid, Missing, Malformed, Mismatch };

// Hashes the body exactly as received (Meta's escaping included) and compares in constant time.
// The hex digits may be in either case.
SignatureCheck checkSignature(const std::string& body, const std::string* header, const std::string& appSecret);

}  // namespace tawasul::plugins::webhook_receiver
