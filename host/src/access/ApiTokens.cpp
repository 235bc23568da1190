#include "access/ApiTokens.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>

#include "tawasul/sdk/Crypto.hpp"

using namespace Poco::Data::Keywords;

namespace tawasul::host {
namespace {

constexpr std::int64_t kLastUsedResolutionMs = 60'000;

std::vector<std::string> splitScopes(const std::string& text) {
    std::vector<std::string> scopes;
    std::istringstream words(text);
    for (std::string word; words >> word;) scopes.push_back(word);
    return scopes;
}

std::string joinScopes(const std::vector<std::string>& scopes) {
    std::string text;
    for (const auto& scope : scopes) text += (text.empty() ? "" : " ") + scope;
    return text;
}

std::optional<std::int64_t> optional(const Poco::Nullable<Poco::Int64>& value) {
    if (value.isNull()) return std::nullopt;
    return value.value();
}

}  // namespace

ApiTokens::ApiTokens(sdk::Database& database, const sdk::Clock& clock) : database_(database), clock_(clock) {}

const std::vector<std::string>& ApiTokens::knownScopes() {
    static const std::vector<std::string> scopes{"messages.send", "messages.read", "events.write"};
    return scopes;
}

ApiTokens::Created ApiTokens::create(const std::string& name, const std::vector<std::string>& scopes) {
    if (name.empty() || name.size() > 100) throw std::invalid_argument("a token name is 1 to 100 characters");
    if (scopes.empty()) throw std::invalid_argument("a token needs at least one scope");
    std::vector<std::string> unique;
    for (const auto& scope : scopes) {
        const auto& known = knownScopes();
        if (std::find(known.begin(), known.end(), scope) == known.end())
            throw std::invalid_argument("unknown scope '" + scope + "' (known: " + joinScopes(known) + ")");
        if (std::find(unique.begin(), unique.end(), scope) == unique.end()) unique.push_back(scope);
    }
    Created created;
    created.secret = kSecretPrefix + sdk::randomToken(32);
    created.token.name = name;
    created.token.scopes = unique;
    created.token.createdAt = clock_.nowMillis();
    std::string hash = sdk::sha256Hex(created.secret);
    std::string scopeText = joinScopes(unique);
    std::string tokenName = name;
    Poco::Int64 createdAt = created.token.createdAt, id = 0;
    Poco::Data::Session session = database_.session();
    sdk::Transaction transaction(database_, session);
    session << "INSERT INTO api_tokens (name, token_hash, scopes, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        use(tokenName), use(hash), use(scopeText), use(createdAt), into(id), now;
    transaction.commit();
    created.token.id = id;
    return created;
}

std::optional<ApiToken> ApiTokens::authenticate(const std::string& secret) {
    if (secret.rfind(kSecretPrefix, 0) != 0) return std::nullopt;
    std::string hash = sdk::sha256Hex(secret);
    Poco::Data::Session session = database_.session();
    std::vector<Poco::Int64> ids, created;
    std::vector<std::string> names, scopes;
    std::vector<Poco::Nullable<Poco::Int64>> lastUsed;
    // The lookup is by the hash of a 256-bit secret: an index probe leaks nothing an attacker can use.
    session << "SELECT id, name, scopes, created_at, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        use(hash), into(ids), into(names), into(scopes), into(created), into(lastUsed), now;
    if (ids.empty()) return std::nullopt;
    ApiToken token;
    token.id = ids[0];
    token.name = names[0];
    token.scopes = splitScopes(scopes[0]);
    token.createdAt = created[0];
    token.lastUsedAt = optional(lastUsed[0]);
    const std::int64_t nowMs = clock_.nowMillis();
    if (!token.lastUsedAt || *token.lastUsedAt + kLastUsedResolutionMs <= nowMs) {
        Poco::Int64 stamp = nowMs, id = token.id;
        sdk::Transaction transaction(database_, session, sdk::Durability::Relaxed);
        session << "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", use(stamp), use(id), now;
        transaction.commit();
        token.lastUsedAt = nowMs;
    }
    return token;
}

bool ApiTokens::revoke(std::int64_t id) {
    Poco::Int64 stamp = clock_.nowMillis(), tokenId = id;
    Poco::Data::Session session = database_.session();
    sdk::Transaction transaction(database_, session);
    Poco::Data::Statement update(session);
    update << "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", use(stamp), use(tokenId);
    const std::size_t changed = update.execute();
    transaction.commit();
    return changed == 1;
}

std::vector<ApiToken> ApiTokens::list() {
    Poco::Data::Session session = database_.session();
    std::vector<Poco::Int64> ids, created;
    std::vector<std::string> names, scopes;
    std::vector<Poco::Nullable<Poco::Int64>> lastUsed, revoked;
    session << "SELECT id, name, scopes, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id", into(ids), into(names),
        into(scopes), into(created), into(lastUsed), into(revoked), now;
    std::vector<ApiToken> tokens;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        ApiToken token;
        token.id = ids[i];
        token.name = names[i];
        token.scopes = splitScopes(scopes[i]);
        token.createdAt = created[i];
        token.lastUsedAt = optional(lastUsed[i]);
        token.revokedAt = optional(revoked[i]);
        tokens.push_back(std::move(token));
    }
    return tokens;
}

}  // namespace tawasul::host
