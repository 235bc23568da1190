#pragma once
// Platform API tokens: bearer secrets the training platform sends to /api/v1. Only a SHA-256 of
// each secret is stored (the secret is shown once, at creation); a token carries scopes and can
// be revoked. The secrets are 256-bit random values, so a plain hash (not a password KDF) is the
// right tool: nobody can guess one to test against the hash.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tawasul/sdk/Clock.hpp"
#include "tawasul/sdk/Database.hpp"

namespace tawasul::host {

struct ApiToken {
    std::int64_t id = 0;
    std::string name;
    std::vector<std::string> scopes;
    std::int64_t createdAt = 0;
    std::optional<std::int64_t> lastUsedAt;
    std::optional<std::int64_t> revokedAt;
};

class ApiTokens {
public:
    ApiTokens(sdk::Database& database, const sdk::Clock& clock);

    // The scopes a token may carry, each guarding routes of the platform API.
    static const std::vector<std::string>& knownScopes();
    static constexpr const char* kSecretPrefix = "tws_";

    struct Created {
        ApiToken token;
        std::string secret;  // shown once; only its hash is stored
    };
    // Throws std::invalid_argument for an empty or overlong name, no scope or an unknown scope.
    Created create(const std::string& name, const std::vector<std::string>& scopes);
    // The active token whose secret this is; records its use (at most once a minute, to keep
    // API requests from each writing a row).
    std::optional<ApiToken> authenticate(const std::string& secret);
    // False when there is no active token with this id.
    bool revoke(std::int64_t id);
    std::vector<ApiToken> list();

private:
    sdk::Database& database_;
    const sdk::Clock& clock_;
};

}  // namespace tawasul::host
