#include "access/Auth.hpp"

#include "tawasul/sdk/Crypto.hpp"
#include "tawasul/sdk/Pages.hpp"

#include <algorithm>
#include <chrono>
#include <cctype>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <Poco/Data/Session.h>
#include <Poco/URI.h>
#include <sodium.h>

namespace tawasul::host {

using namespace Poco::Data::Keywords;

namespace {

constexpr std::size_t kTokenBytes = 32;
constexpr const char* kOutcomes[] = {"ok", "invalid", "throttled", "busy"};

// Gives one counted attempt of `subject` back (a success from that address, or an attempt that
// never reached the password check).
void giveAttemptBack(Poco::Data::Session& session, const std::string& scope, const std::string& subject) {
    std::string s = scope, who = subject;
    session << "UPDATE sign_in_attempts SET attempts = attempts - 1 WHERE scope = $1 AND subject = $2 AND attempts > 0",
        Poco::Data::Keywords::use(s), Poco::Data::Keywords::use(who), Poco::Data::Keywords::now;
}
constexpr std::size_t kMinPassword = 10;
constexpr std::size_t kMaxPassword = 1024;
// A session's last use is written at most this often: a page view is not a database write.
constexpr std::int64_t kTouchEveryMs = 60 * 1000;

void ensureSodium() {
    static const int ready = sodium_init();
    if (ready < 0) throw std::runtime_error("libsodium failed to initialise");
}


}  // namespace

std::string cookieValue(const sdk::HttpRequest& request, const std::string& name) {
    for (const auto& [header, value] : request.headers) {
        if (Poco::icompare(header, "Cookie") != 0) continue;
        std::istringstream parts(value);
        std::string part;
        while (std::getline(parts, part, ';')) {
            part = Poco::trim(part);
            const auto eq = part.find('=');
            if (eq != std::string::npos && part.compare(0, eq, name) == 0 && eq == name.size()) return part.substr(eq + 1);
        }
    }
    return "";
}

bool supportedLocale(const std::string& locale) {
    const auto& locales = sdk::supportedLocales();
    return std::find(locales.begin(), locales.end(), locale) != locales.end();
}

std::string localeFromAcceptLanguage(const std::string& header) {
    // "fr-DZ,fr;q=0.9,ar;q=0.8,en;q=0.5": the supported language with the highest q, first on ties.
    std::string best = "en";
    double bestQ = -1;
    std::istringstream parts(header);
    std::string part;
    while (std::getline(parts, part, ',')) {
        part = Poco::trim(part);
        double q = 1.0;
        if (const auto semi = part.find(';'); semi != std::string::npos) {
            const std::string params = part.substr(semi + 1);
            part = Poco::trim(part.substr(0, semi));
            if (const auto qpos = params.find("q="); qpos != std::string::npos) {
                try {
                    q = std::stod(params.substr(qpos + 2));
                } catch (const std::exception&) {
                    q = 0;
                }
            }
        }
        std::string language = part.substr(0, part.find('-'));
        std::transform(language.begin(), language.end(), language.begin(), [](unsigned char c) { return std::tolower(c); });
        if (supportedLocale(language) && q > 0 && q > bestQ) {
            best = language;
            bestQ = q;
        }
    }
    return best;
}

Auth::Auth(sdk::Database& database, const sdk::Clock& clock, AuthOptions options, sdk::Metrics* metrics)
    : database_(database), clock_(clock), options_(std::move(options)), metrics_(metrics) {
    ensureSodium();
    if (metrics_) {
        checks_ = &metrics_->counter("tawasul_auth_password_checks_total", "Passwords checked at sign-in (unknown accounts included)");
        // Looked up once: a flood of refused sign-ins must not take the registry's lock per attempt.
        for (const char* outcome : kOutcomes)
            outcomes_[outcome] = &metrics_->counter(std::string("tawasul_auth_sign_ins_total{outcome=\"") + outcome + "\"}",
                                                    "Sign-in attempts, by outcome");
    }
    maxHashing_ = std::max(1u, std::thread::hardware_concurrency());
}

std::string Auth::normalizeEmail(const std::string& email) {
    std::string out = Poco::trim(email);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    const auto at = out.find('@');
    if (out.empty() || out.size() > 254 || at == std::string::npos || at == 0 || at + 1 == out.size() ||
        out.find('@', at + 1) != std::string::npos)
        throw UserError("invalid_email", "'" + email + "' is not an e-mail address");
    for (unsigned char c : out)
        if (c <= ' ' || c == 0x7f) throw UserError("invalid_email", "an e-mail address has no spaces or control characters");
    return out;
}

void Auth::checkPassword(const std::string& password) {
    if (password.size() < kMinPassword)
        throw UserError("short_password", "the password must have at least " + std::to_string(kMinPassword) + " characters");
    if (password.size() > kMaxPassword)
        throw UserError("long_password", "the password must have at most " + std::to_string(kMaxPassword) + " characters");
}

std::string Auth::hashPassword(const std::string& password) const {
    const bool interactive = options_.passwordCost == "interactive";
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password.data(), password.size(),
                          interactive ? crypto_pwhash_OPSLIMIT_INTERACTIVE : crypto_pwhash_OPSLIMIT_MODERATE,
                          interactive ? crypto_pwhash_MEMLIMIT_INTERACTIVE : crypto_pwhash_MEMLIMIT_MODERATE) != 0)
        throw std::runtime_error("password hashing ran out of memory");
    return hash;
}

bool Auth::verifyPassword(const std::string& hash, const std::string& password) {
    ensureSodium();
    return !hash.empty() && crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::int64_t Auth::permissionId(Poco::Data::Session& session, const std::string& permission) {
    std::vector<std::int64_t> ids;
    std::string name = permission;
    session << "SELECT id FROM permissions WHERE name = $1", use(name), into(ids), now;
    if (ids.empty()) throw std::invalid_argument("no permission '" + permission + "' (plugins declare theirs in their migrations)");
    return ids.front();
}

std::int64_t Auth::roleId(Poco::Data::Session& session, const std::string& role) {
    std::vector<std::int64_t> ids;
    std::string name = role;
    session << "SELECT id FROM roles WHERE name = $1", use(name), into(ids), now;
    if (ids.empty()) {
        std::vector<std::string> names;
        session << "SELECT name FROM roles ORDER BY name", into(names), now;
        std::string known;
        for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
        throw UserError("unknown_role", "no role '" + role + "' (roles: " + known + ")");
    }
    return ids.front();
}

std::int64_t Auth::userId(Poco::Data::Session& session, const std::string& email) {
    std::vector<std::int64_t> ids;
    std::string normalized = normalizeEmail(email);
    session << "SELECT id FROM users WHERE email = $1", use(normalized), into(ids), now;
    if (ids.empty()) throw UserError("not_found", "no user with e-mail '" + normalized + "'");
    return ids.front();
}

std::int64_t Auth::addUser(const std::string& email, const std::string& name, const std::string& role, const std::string& password) {
    std::string normalized = normalizeEmail(email);
    std::string displayName = Poco::trim(name);
    if (displayName.empty()) throw UserError("empty_name", "the name is empty");
    checkPassword(password);
    std::string hash = hashPassword(password);  // before the transaction: it takes a while
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session);
    std::int64_t role_id = roleId(session, role);
    std::vector<std::int64_t> existing;
    session << "SELECT id FROM users WHERE email = $1", use(normalized), into(existing), now;
    if (!existing.empty()) throw UserError("duplicate_email", "a user with e-mail '" + normalized + "' already exists");
    std::int64_t at = clock_.nowMillis();
    session << "INSERT INTO users (email, name, password_hash, locale, is_active, created_at, updated_at) "
               "VALUES ($1, $2, $3, 'en', 1, $4, $4)",
        use(normalized), use(displayName), use(hash), use(at), now;
    std::int64_t id = 0;
    session << "SELECT id FROM users WHERE email = $1", use(normalized), into(id), now;
    session << "INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)", use(id), use(role_id), now;
    tx.commit();
    return id;
}

void Auth::setPassword(const std::string& email, const std::string& password) {
    checkPassword(password);
    std::string hash = hashPassword(password);
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session);
    std::int64_t id = userId(session, email);
    std::int64_t at = clock_.nowMillis();
    session << "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3", use(hash), use(at), use(id), now;
    // A new password ends every open session of the account (a stolen cookie stops working).
    session << "DELETE FROM sessions WHERE user_id = $1", use(id), now;
    tx.commit();
}

void Auth::grantRole(const std::string& email, const std::string& role) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session);
    std::int64_t user = userId(session, email);
    std::int64_t role_id = roleId(session, role);
    std::int64_t count = 0;
    session << "SELECT COUNT(*) FROM user_roles WHERE user_id = $1 AND role_id = $2", use(user), use(role_id), into(count), now;
    if (count == 0) session << "INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)", use(user), use(role_id), now;
    tx.commit();
}

void Auth::grantPermission(const std::string& role, const std::string& permission) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session);
    std::int64_t role_id = roleId(session, role);
    std::int64_t permission_id = permissionId(session, permission);
    std::int64_t count = 0;
    session << "SELECT COUNT(*) FROM role_permissions WHERE role_id = $1 AND permission_id = $2", use(role_id), use(permission_id),
        into(count), now;
    if (count == 0)
        session << "INSERT INTO role_permissions (role_id, permission_id) VALUES ($1, $2)", use(role_id), use(permission_id), now;
    tx.commit();
}

void Auth::revokePermission(const std::string& role, const std::string& permission) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session);
    std::int64_t role_id = roleId(session, role);
    std::int64_t permission_id = permissionId(session, permission);
    session << "DELETE FROM role_permissions WHERE role_id = $1 AND permission_id = $2", use(role_id), use(permission_id), now;
    tx.commit();
}

std::vector<UserRecord> Auth::listUsers() {
    Poco::Data::Session session = database_.session();
    std::vector<std::int64_t> ids;
    std::vector<std::string> emails, names, locales;
    std::vector<int> active;
    std::vector<std::int64_t> created;
    session << "SELECT id, email, name, locale, is_active, created_at FROM users ORDER BY email", into(ids), into(emails), into(names),
        into(locales), into(active), into(created), now;
    std::vector<std::int64_t> sessionUsers, sessionCounts;
    Poco::Int64 at = clock_.nowMillis();
    session << "SELECT user_id, COUNT(*) FROM sessions WHERE expires_at > $1 GROUP BY user_id", use(at), into(sessionUsers),
        into(sessionCounts), now;
    std::vector<std::int64_t> roleUsers;
    std::vector<std::string> roleNames;
    session << "SELECT ur.user_id, r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id ORDER BY r.name", into(roleUsers),
        into(roleNames), now;
    std::vector<UserRecord> users;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        UserRecord user{ids[i], emails[i], names[i], locales[i], active[i] != 0, {}, 0, created[i]};
        for (std::size_t j = 0; j < roleUsers.size(); ++j)
            if (roleUsers[j] == ids[i]) user.roles.push_back(roleNames[j]);
        for (std::size_t j = 0; j < sessionUsers.size(); ++j)
            if (sessionUsers[j] == ids[i]) user.sessions = sessionCounts[j];
        users.push_back(std::move(user));
    }
    return users;
}

std::vector<std::string> Auth::roleNames() {
    Poco::Data::Session session = database_.session();
    std::vector<std::string> names;
    session << "SELECT name FROM roles ORDER BY id", into(names), now;
    return names;
}

void Auth::requireUser(Poco::Data::Session& session, std::int64_t id) {
    std::vector<std::int64_t> found;
    Poco::Int64 user = id;
    session << "SELECT id FROM users WHERE id = $1", use(user), into(found), now;
    if (found.empty()) throw UserError("not_found", "no user #" + std::to_string(id));
}

void Auth::requireAnAdmin(Poco::Data::Session& session) {
    std::int64_t admins = 0;
    session << "SELECT COUNT(*) FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id "
               "WHERE r.name = 'admin' AND u.is_active = 1",
        into(admins), now;
    if (admins == 0) throw UserError("last_admin", "this would leave no active admin: make another user admin first");
}

void Auth::setRole(std::int64_t id, const std::string& role) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session);
    requireUser(session, id);
    std::int64_t role_id = roleId(session, role);
    Poco::Int64 user = id, at = clock_.nowMillis();
    session << "DELETE FROM user_roles WHERE user_id = $1", use(user), now;
    session << "INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)", use(user), use(role_id), now;
    session << "UPDATE users SET updated_at = $1 WHERE id = $2", use(at), use(user), now;
    requireAnAdmin(session);  // throws before the commit: the transaction rolls back
    tx.commit();
}

void Auth::setActive(std::int64_t id, bool active) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session);
    requireUser(session, id);
    Poco::Int64 user = id, at = clock_.nowMillis();
    int value = active ? 1 : 0;
    session << "UPDATE users SET is_active = $1, updated_at = $2 WHERE id = $3", use(value), use(at), use(user), now;
    if (!active) {
        requireAnAdmin(session);
        session << "DELETE FROM sessions WHERE user_id = $1", use(user), now;
    }
    tx.commit();
}

void Auth::setPasswordOf(std::int64_t id, const std::string& password) {
    checkPassword(password);
    std::string hash = hashPassword(password);  // before the transaction: it takes a while
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session);
    requireUser(session, id);
    Poco::Int64 user = id, at = clock_.nowMillis();
    session << "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3", use(hash), use(at), use(user), now;
    session << "DELETE FROM sessions WHERE user_id = $1", use(user), now;
    tx.commit();
}

std::int64_t Auth::endSessions(std::int64_t id) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session);
    requireUser(session, id);
    Poco::Int64 user = id;
    Poco::Data::Statement remove(session);
    remove << "DELETE FROM sessions WHERE user_id = $1", use(user);
    const std::size_t ended = remove.execute();
    tx.commit();
    return static_cast<std::int64_t>(ended);
}

void Auth::setLocale(std::int64_t id, const std::string& locale) {
    if (!supportedLocale(locale)) throw std::invalid_argument("unsupported language '" + locale + "'");
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session);
    std::string value = locale;
    session << "UPDATE users SET locale = $1 WHERE id = $2", use(value), use(id), now;
    tx.commit();
}

Auth::Reservation Auth::reserveAttempt(const std::string& account, const std::string& address, std::int64_t at) {
    // One statement per subject, atomic on both engines: a new subject starts a window with one
    // attempt; a window that has passed starts again; a full one is left alone and returns no row.
    // PostgreSQL locks the row for the upsert and re-checks the WHERE after a concurrent one
    // commits; SQLite has one writer at a time. Account before address in every transaction, so
    // two sign-ins never wait on each other's rows in opposite orders.
    static const std::string upsert =
        "INSERT INTO sign_in_attempts (scope, subject, window_started_at, attempts) VALUES ($1, $2, $3, 1) "
        "ON CONFLICT (scope, subject) DO UPDATE SET "
        "attempts = CASE WHEN sign_in_attempts.window_started_at <= $4 THEN 1 ELSE sign_in_attempts.attempts + 1 END, "
        "window_started_at = CASE WHEN sign_in_attempts.window_started_at <= $4 THEN $3 ELSE sign_in_attempts.window_started_at END "
        "WHERE sign_in_attempts.window_started_at <= $4 OR sign_in_attempts.attempts < $5 "
        "RETURNING attempts";
    const std::int64_t windowMs = static_cast<std::int64_t>(options_.failureWindowMinutes) * 60000;
    Reservation reservation;
    Poco::Data::Session session = database_.session();
    // Relaxed: a machine crash may forget the last attempts, never a webhook's durability.
    sdk::Transaction tx(database_, session, sdk::Durability::Relaxed);
    for (const auto& [scopeName, subjectValue] : {std::pair<const char*, const std::string&>{"account", account}, {"address", address}}) {
        std::string scope = scopeName, subject = subjectValue;
        std::int64_t attemptAt = at, since = at - windowMs;
        int limit = options_.maxFailures;
        std::vector<int> counted;
        session << upsert, use(scope), use(subject), use(attemptAt), use(since), use(limit), into(counted), now;
        if (counted.empty()) {
            std::int64_t started = at;
            session << "SELECT window_started_at FROM sign_in_attempts WHERE scope = $1 AND subject = $2", use(scope), use(subject),
                into(started), now;
            reservation.retryAfterMs = std::max<std::int64_t>(1000, started + windowMs - at);
            return reservation;  // the transaction rolls back: nothing was counted for the other subject
        }
    }
    tx.commit();
    reservation.granted = true;
    return reservation;
}

void Auth::returnAttempt(const std::string& account, const std::string& address) {
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session, sdk::Durability::Relaxed);
    giveAttemptBack(session, "account", account);
    giveAttemptBack(session, "address", address);
    tx.commit();
}

bool Auth::admit() {
    std::lock_guard lock(hashingMutex_);
    if (admitted_ >= maxHashing_ + static_cast<unsigned>(std::max(0, options_.maxWaitingChecks))) return false;
    ++admitted_;
    return true;
}

void Auth::leave() {
    std::lock_guard lock(hashingMutex_);
    --admitted_;
}

bool Auth::acquireSlot() {
    // The queue is bounded, so the wait is too; the deadline only guards against a stuck hash.
    std::unique_lock lock(hashingMutex_);
    if (!hashingFree_.wait_for(lock, std::chrono::seconds(30), [this] { return hashing_ < maxHashing_; })) return false;
    ++hashing_;
    return true;
}

void Auth::releaseSlot() {
    {
        std::lock_guard lock(hashingMutex_);
        --hashing_;
    }
    hashingFree_.notify_one();
}

bool Auth::verifyCounted(const std::string& hash, const std::string& password) {
    ++passwordChecks_;
    if (checks_) checks_->increment();
    try {
        return verifyPassword(hash, password);
    } catch (...) {
        return false;
    }
}

void Auth::countOutcome(const char* outcome) {
    if (const auto it = outcomes_.find(outcome); it != outcomes_.end()) it->second->increment();
}

SignInResult Auth::signIn(const std::string& email, const std::string& password, const std::string& address,
                          const std::string& userAgent) {
    SignInResult result;
    std::string account = Poco::trim(email);
    std::transform(account.begin(), account.end(), account.begin(), [](unsigned char c) { return std::tolower(c); });
    account = account.substr(0, 254);
    std::string client = address.substr(0, 128);
    const std::int64_t at = clock_.nowMillis();

    // A place in the hashing queue first, before any database work: a flood is turned away here.
    if (!admit()) {
        result.outcome = SignInResult::Busy;
        result.retryAfterSeconds = 1;
        countOutcome("busy");
        return result;
    }
    struct Leave {
        Auth& auth;
        ~Leave() { auth.leave(); }
    } leaveQueue{*this};

    // Reserve: the attempt counts before the password is checked.
    const Reservation reservation = reserveAttempt(account, client, at);
    if (!reservation.granted) {
        result.outcome = SignInResult::Throttled;
        result.retryAfterSeconds = static_cast<int>((reservation.retryAfterMs + 999) / 1000);
        result.retryMinutes = static_cast<int>(std::max<std::int64_t>(1, (reservation.retryAfterMs + 59999) / 60000));
        countOutcome("throttled");
        return result;
    }

    std::vector<std::int64_t> ids;
    std::vector<Poco::Nullable<std::string>> hashes;
    std::vector<int> active;
    {
        Poco::Data::Session session = database_.session();
        session << "SELECT id, password_hash, is_active FROM users WHERE email = $1", use(account), into(ids), into(hashes),
            into(active), now;
    }  // no session is held while waiting for a hashing slot

    // Hash.
    if (!acquireSlot()) {
        returnAttempt(account, client);  // no password was checked: the attempt is not counted
        result.outcome = SignInResult::Busy;
        result.retryAfterSeconds = 1;
        countOutcome("busy");
        return result;
    }
    bool ok = false;
    if (ids.empty() || hashes.front().isNull() || active.front() == 0) {
        // Unknown or disabled accounts cost the same hash as known ones: timing does not tell them apart.
        std::call_once(dummyOnce_, [this] { dummyHash_ = hashPassword(sdk::randomHex(16)); });
        (void)verifyCounted(dummyHash_, password);
    } else {
        ok = verifyCounted(hashes.front().value(), password);
    }
    releaseSlot();

    // Settle: a failure stays counted; a success gives the address its attempt back and clears the account.
    if (!ok) {
        result.outcome = SignInResult::Invalid;
        countOutcome("invalid");
        return result;
    }
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session);
    std::string accountScope = "account", addressScope = "address";
    session << "DELETE FROM sign_in_attempts WHERE scope = $1 AND subject = $2", use(accountScope), use(account), now;
    giveAttemptBack(session, addressScope, client);
    // Windows that have passed, and sessions that ended without being presented again, leave
    // here, one sign-in at a time.
    std::int64_t since = at - static_cast<std::int64_t>(options_.failureWindowMinutes) * 60000;
    session << "DELETE FROM sign_in_attempts WHERE window_started_at <= $1", use(since), now;
    std::int64_t ended = at;
    session << "DELETE FROM sessions WHERE expires_at <= $1", use(ended), now;
    result.sessionToken = sdk::randomHex(kTokenBytes);
    std::string id = sdk::sha256Hex(result.sessionToken);
    std::string csrf = sdk::randomHex(kTokenBytes);
    std::int64_t user = ids.front();
    std::int64_t created = at;
    std::int64_t expires = at + static_cast<std::int64_t>(options_.absoluteHours) * 3600000;
    std::string agent = userAgent.substr(0, 512);
    session << "INSERT INTO sessions (id, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent) "
               "VALUES ($1, $2, $3, $4, $4, $5, $6, $7)",
        use(id), use(user), use(csrf), use(created), use(expires), use(client), use(agent), now;
    tx.commit();
    result.outcome = SignInResult::Ok;
    countOutcome("ok");
    return result;
}

void Auth::signOut(const std::string& sessionToken) {
    if (sessionToken.empty()) return;
    std::string id = sdk::sha256Hex(sessionToken);
    Poco::Data::Session session = database_.session();
    sdk::Transaction tx(database_, session);
    session << "DELETE FROM sessions WHERE id = $1", use(id), now;
    tx.commit();
}

std::shared_ptr<sdk::Principal> Auth::principalFor(const std::string& sessionToken) {
    if (sessionToken.size() != kTokenBytes * 2) return nullptr;
    std::string id = sdk::sha256Hex(sessionToken);
    Poco::Data::Session session = database_.session();
    std::vector<std::int64_t> users, lastSeen, expires;
    std::vector<std::string> csrf, emails, names, locales;
    std::vector<int> active;
    session << "SELECT s.user_id, s.csrf_token, s.last_seen_at, s.expires_at, u.email, u.name, u.locale, u.is_active "
               "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
        use(id), into(users), into(csrf), into(lastSeen), into(expires), into(emails), into(names), into(locales), into(active), now;
    if (users.empty()) return nullptr;
    const std::int64_t at = clock_.nowMillis();
    const bool idle = at - lastSeen.front() > static_cast<std::int64_t>(options_.idleMinutes) * 60000;
    if (idle || at >= expires.front() || active.front() == 0) {
        sdk::Transaction tx(database_, session, sdk::Durability::Relaxed);
        session << "DELETE FROM sessions WHERE id = $1", use(id), now;
        tx.commit();
        return nullptr;
    }
    if (at - lastSeen.front() > kTouchEveryMs) {
        sdk::Transaction tx(database_, session, sdk::Durability::Relaxed);
        std::int64_t seen = at;
        session << "UPDATE sessions SET last_seen_at = $1 WHERE id = $2", use(seen), use(id), now;
        tx.commit();
    }
    auto principal = std::make_shared<sdk::Principal>();
    principal->kind = "user";
    principal->id = users.front();
    principal->name = names.front();
    principal->email = emails.front();
    principal->locale = supportedLocale(locales.front()) ? locales.front() : "en";
    principal->csrfToken = csrf.front();
    std::int64_t user = users.front();
    session << "SELECT DISTINCT p.name FROM user_roles ur JOIN role_permissions rp ON rp.role_id = ur.role_id "
               "JOIN permissions p ON p.id = rp.permission_id WHERE ur.user_id = $1 ORDER BY p.name",
        use(user), into(principal->permissions), now;
    return principal;
}

std::string Auth::sessionCookie(const std::string& token) const {
    return std::string(kSessionCookie) + "=" + token + "; Path=/; Max-Age=" + std::to_string(options_.absoluteHours * 3600) +
           "; HttpOnly; SameSite=Lax" + (options_.secureCookie ? "; Secure" : "");
}

std::string Auth::clearedSessionCookie() const {
    return std::string(kSessionCookie) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" + (options_.secureCookie ? "; Secure" : "");
}

}  // namespace tawasul::host
