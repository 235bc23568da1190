#pragma once
// AES-256-GCM sealing of secrets at rest, under the host's master key.
#include <stdexcept>
#include <string>

namespace tawasul::host {

class SecretError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class SecretBox {
public:
    static constexpr std::size_t kKeyBytes = 32;

    explicit SecretBox(std::string key);  // 32 raw bytes
    ~SecretBox();

    // "v1:" + base64(nonce | ciphertext | tag). A fresh random nonce each call. `context` (the
    // setting's key) is authenticated, so a sealed value cannot be moved to another key.
    std::string seal(const std::string& plaintext, const std::string& context) const;
    // Throws SecretError when the key is wrong or the value was altered; never returns garbage.
    std::string open(const std::string& sealed, const std::string& context) const;

    // The master key from TAWASUL_MASTER_KEY (base64) or else `keyFile` (base64 text).
    // `createIfMissing`: write a new random key to keyFile with mode 0600.
    static SecretBox fromEnvironmentOrFile(const std::string& keyFile, bool createIfMissing);
    // The same, from the file alone (creating it, 0600, when asked): for a new key while rotating.
    static SecretBox fromFile(const std::string& keyFile, bool createIfMissing);
    static std::string generateKeyBase64();

private:
    std::string key_;
};

}  // namespace tawasul::host
