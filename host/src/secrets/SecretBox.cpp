#include "secrets/SecretBox.hpp"

#include "files/PrivateFiles.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/String.h>

namespace tawasul::host {
namespace {

constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;

std::string base64Encode(const std::string& bytes) {
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder << bytes;
    encoder.close();
    return out.str();
}

std::string base64Decode(const std::string& text) {
    std::istringstream in(text);
    Poco::Base64Decoder decoder(in);
    std::string out;
    char c;
    while (decoder.get(c)) out += c;
    if (!decoder.eof()) throw SecretError("not valid base64");
    return out;
}

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::string decodeKey(const std::string& base64, const std::string& source) {
    std::string key;
    try {
        key = base64Decode(Poco::trim(base64));
    } catch (const std::exception&) {
        throw SecretError(source + ": the master key is not valid base64");
    }
    if (key.size() != SecretBox::kKeyBytes)
        throw SecretError(source + ": the master key must be 32 bytes (base64 of 32 random bytes), got " + std::to_string(key.size()));
    return key;
}

}  // namespace

SecretBox::SecretBox(std::string key) : key_(std::move(key)) {
    if (key_.size() != kKeyBytes) throw SecretError("the master key must be 32 bytes");
}

SecretBox::~SecretBox() { OPENSSL_cleanse(key_.data(), key_.size()); }

std::string SecretBox::seal(const std::string& plaintext, const std::string& context) const {
    unsigned char nonce[kNonceBytes];
    if (RAND_bytes(nonce, sizeof nonce) != 1) throw SecretError("no random bytes for a nonce");
    CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    std::string out(reinterpret_cast<const char*>(nonce), kNonceBytes);
    out.resize(kNonceBytes + plaintext.size() + kTagBytes);
    auto* cipher = reinterpret_cast<unsigned char*>(out.data()) + kNonceBytes;
    int length = 0;
    int total = 0;
    const auto* key = reinterpret_cast<const unsigned char*>(key_.data());
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key, nonce) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(context.data()),
                          static_cast<int>(context.size())) != 1 ||
        EVP_EncryptUpdate(ctx.get(), cipher, &length, reinterpret_cast<const unsigned char*>(plaintext.data()),
                          static_cast<int>(plaintext.size())) != 1)
        throw SecretError("encryption failed");
    total = length;
    if (EVP_EncryptFinal_ex(ctx.get(), cipher + total, &length) != 1) throw SecretError("encryption failed");
    total += length;
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, cipher + total) != 1)
        throw SecretError("encryption failed");
    return "v1:" + base64Encode(out);
}

std::string SecretBox::open(const std::string& sealed, const std::string& context) const {
    if (sealed.rfind("v1:", 0) != 0) throw SecretError("the stored secret has an unknown format");
    std::string bytes;
    try {
        bytes = base64Decode(sealed.substr(3));
    } catch (const SecretError&) {
        throw SecretError("the stored secret is damaged");
    }
    if (bytes.size() < kNonceBytes + kTagBytes) throw SecretError("the stored secret is damaged");
    const auto* nonce = reinterpret_cast<const unsigned char*>(bytes.data());
    const auto* cipher = nonce + kNonceBytes;
    const std::size_t cipherLength = bytes.size() - kNonceBytes - kTagBytes;
    std::string plain(cipherLength, '\0');
    CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    int length = 0;
    const auto* key = reinterpret_cast<const unsigned char*>(key_.data());
    auto* tag = const_cast<unsigned char*>(cipher + cipherLength);
    bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
              EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key, nonce) == 1 &&
              EVP_DecryptUpdate(ctx.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(context.data()),
                                static_cast<int>(context.size())) == 1 &&
              EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &length, cipher,
                                static_cast<int>(cipherLength)) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) == 1;
    int finalLength = 0;
    ok = ok && EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + length, &finalLength) == 1;
    if (!ok) {
        OPENSSL_cleanse(plain.data(), plain.size());
        throw SecretError("cannot decrypt: the master key is wrong or the stored value was altered");
    }
    return plain;
}

std::string SecretBox::generateKeyBase64() {
    std::string key(kKeyBytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1)
        throw SecretError("no random bytes for a master key");
    const std::string encoded = base64Encode(key);
    OPENSSL_cleanse(key.data(), key.size());
    return encoded;
}

SecretBox SecretBox::fromEnvironmentOrFile(const std::string& keyFile, bool createIfMissing) {
    if (const char* env = std::getenv("TAWASUL_MASTER_KEY"); env != nullptr && *env != '\0')
        return SecretBox(decodeKey(env, "TAWASUL_MASTER_KEY"));
    return fromFile(keyFile, createIfMissing);
}

SecretBox SecretBox::fromFile(const std::string& keyFile, bool createIfMissing) {
    if (!std::filesystem::exists(keyFile)) {
        if (!createIfMissing)
            throw SecretError(keyFile + ": no master key (set TAWASUL_MASTER_KEY, or run `tawasul migrate` to create this file)");
        createPrivateDirectories(std::filesystem::path(keyFile).parent_path());
        // O_EXCL: two hosts starting at once never overwrite each other's fresh key.
        const int fd = ::open(keyFile.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd >= 0) {
            const std::string line = generateKeyBase64() + "\n";
            const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
            ::close(fd);
            if (!written) throw SecretError(keyFile + ": cannot write the new master key");
        } else if (errno != EEXIST) {
            throw SecretError(keyFile + ": cannot create the master key file: " + std::strerror(errno));
        }
    }
    struct stat info {};
    if (::stat(keyFile.c_str(), &info) == 0 && (info.st_mode & 077) != 0)
        throw SecretError(keyFile + ": the master key file must not be readable by others (chmod 600)");
    std::ifstream in(keyFile);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) throw SecretError(keyFile + ": cannot read the master key file");
    return SecretBox(decodeKey(text, keyFile));
}

}  // namespace tawasul::host
