// `tawasul token create|list|revoke`: platform API tokens. The secret is printed once, at creation.
#include <iomanip>
#include <iostream>
#include <sstream>

#include "access/ApiTokens.hpp"
#include "cli/Cli.hpp"
#include "app/Runtime.hpp"
#include "tawasul/sdk/Clock.hpp"

namespace tawasul::host {
namespace {

constexpr const char* kUsage = "tawasul token create --name NAME --scopes SCOPE[,SCOPE...] | list | revoke ID";

struct TokenRequest {
    std::string action;
    std::string name;
    std::vector<std::string> scopes;
    std::int64_t id = 0;
};

std::string knownScopesText() {
    std::string text;
    for (const auto& scope : ApiTokens::knownScopes()) text += (text.empty() ? "" : ", ") + scope;
    return text;
}

TokenRequest parseToken(const std::vector<std::string>& args) {
    if (args.empty()) throw UsageError("usage: " + std::string(kUsage));
    TokenRequest request;
    request.action = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    const std::string where = "token " + request.action;
    if (request.action == "create") {
        Arguments parsed(where, rest, {"--name", "--scopes"}, {});
        parsed.expectPositional(0, 0, "tawasul token create --name NAME --scopes SCOPE[,SCOPE...]");
        const auto name = parsed.value("--name");
        const auto scopes = parsed.value("--scopes");
        if (!name || name->empty()) throw UsageError("token create: --name NAME is required");
        if (name->size() > 100) throw UsageError("token create: --name is at most 100 characters");
        if (!scopes || scopes->empty()) throw UsageError("token create: --scopes is required (known: " + knownScopesText() + ")");
        request.name = *name;
        std::istringstream list(*scopes);
        for (std::string scope; std::getline(list, scope, ',');) {
            const auto& known = ApiTokens::knownScopes();
            if (std::find(known.begin(), known.end(), scope) == known.end())
                throw UsageError("token create: unknown scope '" + scope + "' (known: " + knownScopesText() + ")");
            request.scopes.push_back(scope);
        }
    } else if (request.action == "list") {
        Arguments(where, rest, {}, {}).expectPositional(0, 0, "tawasul token list");
    } else if (request.action == "revoke") {
        Arguments parsed(where, rest, {}, {});
        parsed.expectPositional(1, 1, "tawasul token revoke ID");
        const std::string& text = parsed.positional()[0];
        if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
            throw UsageError("token revoke: ID must be a token id from `tawasul token list`, got '" + text + "'");
        request.id = std::stoll(text);
    } else {
        throw UsageError("usage: " + std::string(kUsage));
    }
    return request;
}

int runToken(const HostConfig& config, const std::vector<std::string>& args) {
    const TokenRequest request = parseToken(args);
    Runtime runtime(config);
    ApiTokens tokens(runtime.database(), runtime.clock());
    if (request.action == "create") {
        const auto created = tokens.create(request.name, request.scopes);
        std::cout << "created token " << created.token.id << " '" << created.token.name << "' with scopes";
        for (const auto& scope : created.token.scopes) std::cout << " " << scope;
        std::cout << "\n" << created.secret << "\n"
                  << "This is the only time the token is shown: store it in the platform's secrets now.\n";
        return kExitOk;
    }
    if (request.action == "list") {
        const auto all = tokens.list();
        if (all.empty()) {
            std::cout << "no API tokens (create one: " << kUsage << ")\n";
            return kExitOk;
        }
        std::cout << std::left << std::setw(6) << "ID" << std::setw(24) << "NAME" << std::setw(10) << "STATE" << std::setw(26)
                  << "CREATED" << std::setw(26) << "LAST_USED" << "SCOPES\n";
        for (const auto& token : all) {
            std::string scopes;
            for (const auto& scope : token.scopes) scopes += (scopes.empty() ? "" : " ") + scope;
            std::cout << std::left << std::setw(6) << token.id << std::setw(24) << token.name << std::setw(10)
                      << (token.revokedAt ? "revoked" : "active") << std::setw(26) << sdk::isoTime(token.createdAt) << std::setw(26)
                      << (token.lastUsedAt ? sdk::isoTime(*token.lastUsedAt) : "never") << scopes << "\n";
        }
        return kExitOk;
    }
    if (!tokens.revoke(request.id)) throw std::runtime_error("no active API token with id " + std::to_string(request.id));
    std::cout << "revoked token " << request.id << ": requests with it now answer 401\n";
    return kExitOk;
}

}  // namespace

Command tokenCommand() {
    std::string scopes;
    for (const auto& scope : ApiTokens::knownScopes()) scopes += "  " + scope + "\n";
    return {"token", "create, list and revoke platform API tokens (token create|list|revoke)",
            "usage: tawasul [--config FILE] token create --name NAME --scopes SCOPE[,SCOPE...]\n"
            "       tawasul [--config FILE] token list\n"
            "       tawasul [--config FILE] token revoke ID\n\n"
            "Tokens authenticate the training platform on /api/v1 (Authorization: Bearer TOKEN).\n"
            "create  prints the new token once; only its SHA-256 is stored.\n"
            "list    every token with its state, creation and last use (never the token itself).\n"
            "revoke  the token stops working at once, on every host.\n\nscopes:\n" +
                scopes,
            [](const std::vector<std::string>& args) { (void)parseToken(args); }, runToken};
}

}  // namespace tawasul::host
