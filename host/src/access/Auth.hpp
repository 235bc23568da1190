#pragma once
// Users, passwords, sessions and sign-in throttling: the host's side of "who is this browser".
// Passwords are argon2id strings (libsodium crypto_pwhash_str). A session is a random token in a
// cookie; the database keeps only its SHA-256, so a copy of the database opens no session.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tawasul/sdk/Clock.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Http.hpp"
#include "access/AuthOptions.hpp"
#include "tawasul/sdk/Metrics.hpp"

namespace tawasul::host {

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
    std::int64_t sessions = 0;  // open (not yet expired) sessions
    std::int64_t createdAt = 0;
};

// A change of users refused, with a code the users page answers by (status and words) and a
// one-line message the CLI prints: invalid_email, empty_name, short_password, long_password,
// unknown_role, duplicate_email, not_found, last_admin.
class UserError : public std::invalid_argument {
public:
    UserError(std::string code, const std::string& message) : std::invalid_argument(message), code_(std::move(code)) {}
    const std::string& code() const { return code_; }

private:
    std::string code_;
};

struct SignInResult {
    // Busy: every password-hashing slot is taken and the queue for them is full; nothing was counted.
    enum Outcome { Ok, Invalid, Throttled, Busy } outcome = Invalid;
    std::string sessionToken;  // Ok: the cookie value
    int retryMinutes = 0;      // Throttled: when the window of the counted attempts ends (rounded up)
    int retryAfterSeconds = 0; // Throttled and Busy: the Retry-After value
};

class Auth {
public:
    // `metrics` (optional) receives tawasul_auth_password_checks_total and
    // tawasul_auth_sign_ins_total{outcome=...}.
    Auth(sdk::Database& database, const sdk::Clock& clock, AuthOptions options, sdk::Metrics* metrics = nullptr);
    const AuthOptions& options() const { return options_; }

    // Users (the CLI). Throw std::invalid_argument with a one-line message on bad input (unknown
    // role, duplicate e-mail, short password), with nothing written.
    std::int64_t addUser(const std::string& email, const std::string& name, const std::string& role, const std::string& password);
    void setPassword(const std::string& email, const std::string& password);
    void grantRole(const std::string& email, const std::string& role);
    void grantPermission(const std::string& role, const std::string& permission);
    void revokePermission(const std::string& role, const std::string& permission);
    std::vector<UserRecord> listUsers();
    std::vector<std::string> roleNames();
    void setLocale(std::int64_t userId, const std::string& locale);

    // The users page (users.manage). Each throws UserError with nothing written. A change that
    // would leave no active user with the admin role is refused (last_admin), whoever makes it.
    // setRole: `role` becomes the user's only role. setActive(false) ends the user's sessions too.
    void setRole(std::int64_t userId, const std::string& role);
    void setActive(std::int64_t userId, bool active);
    void setPasswordOf(std::int64_t userId, const std::string& password);  // ends their sessions
    std::int64_t endSessions(std::int64_t userId);                          // how many were open

    static std::string normalizeEmail(const std::string& email);  // trimmed, ASCII lower-case; throws when not an address
    static void checkPassword(const std::string& password);      // throws when too short or too long
    std::string hashPassword(const std::string& password) const;
    static bool verifyPassword(const std::string& hash, const std::string& password);

    // Reserve, hash, settle: the attempt is counted in the database, for the account and for the
    // address, by one conditional upsert each that refuses past the limit (so concurrent attempts,
    // on any host, cannot all pass); only then is the password checked, holding no database session
    // while it waits for a hashing slot; a success gives the address its attempt back, clears the
    // account's count and opens a session.
    SignInResult signIn(const std::string& email, const std::string& password, const std::string& address,
                        const std::string& userAgent);
    void signOut(const std::string& sessionToken);

    // The principal of a live session (and marks it used), or null when the token is unknown,
    // idle too long, past its absolute end, or its user is disabled. Expired sessions are deleted.
    std::shared_ptr<sdk::Principal> principalFor(const std::string& sessionToken);

    // Passwords checked by this object so far (unknown accounts included): what the throttle bounds.
    std::uint64_t passwordChecks() const { return passwordChecks_.load(); }

    // The Set-Cookie value that stores / clears the session cookie.
    std::string sessionCookie(const std::string& token) const;
    std::string clearedSessionCookie() const;

private:
    std::int64_t roleId(Poco::Data::Session& session, const std::string& role);
    std::int64_t permissionId(Poco::Data::Session& session, const std::string& permission);
    std::int64_t userId(Poco::Data::Session& session, const std::string& email);
    void requireUser(Poco::Data::Session& session, std::int64_t id);
    // Throws last_admin when no active user holds the admin role any more (inside the change's transaction).
    void requireAnAdmin(Poco::Data::Session& session);

    struct Reservation {
        bool granted = false;
        std::int64_t retryAfterMs = 0;  // refused: until the fuller window ends
    };
    Reservation reserveAttempt(const std::string& account, const std::string& address, std::int64_t at);
    void returnAttempt(const std::string& account, const std::string& address);

    // The hashing queue: admit() takes a place (false when slots and queue are full), then
    // acquireSlot() waits for one of the slots, a bounded time.
    bool admit();
    void leave();
    bool acquireSlot();
    void releaseSlot();
    bool verifyCounted(const std::string& hash, const std::string& password);
    void countOutcome(const char* outcome);

    sdk::Database& database_;
    const sdk::Clock& clock_;
    AuthOptions options_;
    sdk::Metrics* metrics_ = nullptr;
    sdk::Counter* checks_ = nullptr;
    std::map<std::string, sdk::Counter*> outcomes_;  // tawasul_auth_sign_ins_total by outcome
    std::atomic<std::uint64_t> passwordChecks_{0};
    // Password checks at a time: each takes 256 MiB at the moderate cost, so a burst of sign-ins
    // queues here instead of taking the machine's memory, and the queue itself is bounded.
    std::mutex hashingMutex_;
    std::condition_variable hashingFree_;
    unsigned hashing_ = 0;   // checks running
    unsigned admitted_ = 0;  // checks running or waiting
    unsigned maxHashing_ = 2;
    std::once_flag dummyOnce_;
    std::string dummyHash_;  // verified against for unknown accounts, so they take as long as known ones
};

}  // namespace tawasul::host
