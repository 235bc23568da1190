#pragma once
// Users, passwords, sessions and sign-in throttling: the host's side of "who is this browser".
// Passwords are argon2id strings (libsodium crypto_pwhash_str). A session is a random token in a
// cookie; the database keeps only its SHA-256, so a copy of the database opens no session.
#include <cstdint>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tawasul/sdk/Clock.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Http.hpp"

namespace tawasul::host {

struct AuthOptions {
    int idleMinutes = 120;          // a session unused this long ends
    int absoluteHours = 12;         // a session ends this long after sign-in, used or not
    int maxFailures = 5;            // failed sign-ins per account, and per address, within the window
    int failureWindowMinutes = 15;  // ... before further attempts get 429
    bool secureCookie = false;      // server.public_url is https
    // argon2id cost: "moderate" (libsodium's MODERATE: 3 passes, 256 MiB) or "interactive"
    // (2 passes, 64 MiB). Applies to new hashes; a stored hash keeps the cost it was made with.
    std::string passwordCost = "moderate";
};

constexpr const char* kSessionCookie = "tawasul_session";
constexpr const char* kLocaleCookie = "tawasul_lang";
constexpr const char* kLoginCsrfCookie = "tawasul_login_csrf";

// The value of cookie `name` in the request's Cookie header(s), or empty.
std::string cookieValue(const sdk::HttpRequest& request, const std::string& name);
// "en", "fr" or "ar" from an Accept-Language header (first supported by q-order), else "en".
std::string localeFromAcceptLanguage(const std::string& header);
bool supportedLocale(const std::string& locale);

struct UserRecord {
    std::int64_t id = 0;
    std::string email;
    std::string name;
    std::string locale;
    bool active = true;
    std::vector<std::string> roles;
};

struct SignInResult {
    enum Outcome { Ok, Invalid, Throttled } outcome = Invalid;
    std::string sessionToken;  // Ok: the cookie value
    int retryMinutes = 0;      // Throttled: when the oldest counted failure leaves the window
};

class Auth {
public:
    Auth(sdk::Database& database, const sdk::Clock& clock, AuthOptions options);
    const AuthOptions& options() const { return options_; }

    // Users (the CLI). Throw std::invalid_argument with a one-line message on bad input (unknown
    // role, duplicate e-mail, short password), with nothing written.
    std::int64_t addUser(const std::string& email, const std::string& name, const std::string& role, const std::string& password);
    void setPassword(const std::string& email, const std::string& password);
    void grantRole(const std::string& email, const std::string& role);
    void grantPermission(const std::string& role, const std::string& permission);
    void revokePermission(const std::string& role, const std::string& permission);
    std::vector<UserRecord> listUsers();
    void setLocale(std::int64_t userId, const std::string& locale);

    static std::string normalizeEmail(const std::string& email);  // trimmed, ASCII lower-case; throws when not an address
    static void checkPassword(const std::string& password);      // throws when too short or too long
    std::string hashPassword(const std::string& password) const;
    static bool verifyPassword(const std::string& hash, const std::string& password);

    // Checks the throttle, then the password; on success opens a session.
    SignInResult signIn(const std::string& email, const std::string& password, const std::string& address,
                        const std::string& userAgent);
    void signOut(const std::string& sessionToken);

    // The principal of a live session (and marks it used), or null when the token is unknown,
    // idle too long, past its absolute end, or its user is disabled. Expired sessions are deleted.
    std::shared_ptr<sdk::Principal> principalFor(const std::string& sessionToken);

    // The Set-Cookie value that stores / clears the session cookie.
    std::string sessionCookie(const std::string& token) const;
    std::string clearedSessionCookie() const;

private:
    std::int64_t roleId(Poco::Data::Session& session, const std::string& role);
    std::int64_t permissionId(Poco::Data::Session& session, const std::string& permission);
    std::int64_t userId(Poco::Data::Session& session, const std::string& email);

    sdk::Database& database_;
    const sdk::Clock& clock_;
    AuthOptions options_;
    // Password checks at a time: each takes 256 MiB at the moderate cost, so a burst of sign-ins
    // queues here instead of taking the machine's memory.
    std::mutex hashingMutex_;
    std::condition_variable hashingFree_;
    unsigned hashing_ = 0;
    unsigned maxHashing_ = 2;
    bool verifyLimited(const std::string& hash, const std::string& password);
    std::once_flag dummyOnce_;
    std::string dummyHash_;  // verified against for unknown accounts, so they take as long as known ones
};

}  // namespace tawasul::host
