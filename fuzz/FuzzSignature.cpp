// The webhook signature check: the X-Hub-Signature-256 header and the raw body come from anyone on
// the internet. Input: the header up to the first newline, then the body.
#include <cstddef>
#include <cstdint>
#include <string>

#include "Signature.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

using tawasul::plugins::webhook_receiver::checkSignature;
using tawasul::plugins::webhook_receiver::SignatureCheck;
using tawasul::sdk::webhookSignature;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const std::string header = input.substr(0, newline);
    const std::string body = newline == std::string::npos ? std::string() : input.substr(newline + 1);
    const std::string secret = "fixture-app-secret";
    const SignatureCheck check = checkSignature(body, &header, secret);
    (void)checkSignature(body, nullptr, secret);
    // A header only matches when it is what Meta would send for this body, hex digits in either
    // case (the first run found upper-case digits accepted: the same MAC, so not a weakness; kept
    // in regressions/signature/upper-case-hex).
    if (check == SignatureCheck::Valid) {
        std::string lower = header;
        for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
        if (lower != webhookSignature(body, secret)) __builtin_trap();
    }
    const std::string expected = webhookSignature(body, secret);
    if (checkSignature(body, &expected, secret) != SignatureCheck::Valid) __builtin_trap();
    return 0;
}
