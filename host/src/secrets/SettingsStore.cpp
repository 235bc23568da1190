#include "secrets/SettingsStore.hpp"

#include <Poco/Data/RecordSet.h>
#include <Poco/Nullable.h>

namespace tawasul::host {

using namespace Poco::Data::Keywords;

const std::set<std::string>& SettingsStore::secretKeys() {
    static const std::set<std::string> keys{"whatsapp.cloud.access_token", "whatsapp.cloud.app_secret",
                                            "whatsapp.webhook.verify_token"};
    return keys;
}

SettingsStore::SettingsStore(sdk::Database& database, const SecretBox& box, const sdk::Clock& clock)
    : database_(database), box_(box), clock_(clock) {}

bool SettingsStore::isSecret(const std::string& key) const { return secretKeys().count(key) > 0 || key == kKeyCheck; }

void SettingsStore::refreshIfStale() {
    const auto checkTime = std::chrono::steady_clock::now();
    if (stamp_.first >= 0 && checkTime - checkedAt_ < kRefreshInterval) return;
    Poco::Data::Session session = database_.session();
    Poco::Int64 count = 0;
    Poco::Nullable<Poco::Int64> newest;
    session << "SELECT COUNT(*), MAX(updated_at) FROM site_settings", into(count), into(newest), now;
    const std::pair<std::int64_t, std::int64_t> stamp{count, newest.isNull() ? 0 : newest.value()};
    checkedAt_ = checkTime;
    if (stamp == stamp_) return;
    Poco::Data::Statement select(session);
    select << "SELECT key, value, encrypted, updated_at FROM site_settings";
    select.execute();
    Poco::Data::RecordSet rs(select);
    cache_.clear();
    for (std::size_t i = 0; i < rs.rowCount(); ++i) {
        SettingRow row;
        row.key = rs.value(0, i).convert<std::string>();
        row.value = rs.value(1, i).isEmpty() ? "" : rs.value(1, i).convert<std::string>();
        row.encrypted = rs.value(2, i).convert<int>() != 0;
        row.updatedAt = rs.value(3, i).convert<std::int64_t>();
        cache_[row.key] = row;
    }
    stamp_ = stamp;
}

std::optional<std::string> SettingsStore::get(const std::string& key) {
    std::lock_guard lock(mutex_);
    refreshIfStale();
    auto it = cache_.find(key);
    if (it == cache_.end()) return std::nullopt;
    if (!it->second.encrypted) return it->second.value;
    const std::string& sealed = it->second.value;
    auto& [openedFrom, plaintext] = opened_[key];
    if (openedFrom != sealed || sealed.empty()) {
        try {
            plaintext = box_.open(sealed, key);
        } catch (const SecretError& error) {
            opened_.erase(key);
            throw SecretError("setting " + key + ": " + error.what());
        }
        openedFrom = sealed;
    }
    return plaintext;
}

void SettingsStore::set(const std::string& key, const std::string& value) {
    if (key.empty()) throw std::invalid_argument("a setting needs a key");
    const bool secret = isSecret(key);
    std::string stored = secret ? box_.seal(value, key) : value;
    int encrypted = secret ? 1 : 0;
    std::lock_guard lock(mutex_);
    // Strictly increasing per write, so that other hosts notice a change made in the same millisecond.
    std::int64_t at = clock_.nowMillis();
    Poco::Data::Session session = database_.session();
    sdk::Transaction transaction(database_, session);
    Poco::Nullable<Poco::Int64> newest;
    session << "SELECT MAX(updated_at) FROM site_settings", into(newest), now;
    if (!newest.isNull() && newest.value() >= at) at = newest.value() + 1;
    std::string k = key;
    session << "INSERT INTO site_settings (key, value, encrypted, updated_at) VALUES ($1, $2, $3, $4) "
               "ON CONFLICT (key) DO UPDATE SET value = excluded.value, encrypted = excluded.encrypted, updated_at = excluded.updated_at",
        use(k), use(stored), use(encrypted), use(at), now;
    transaction.commit();
    stamp_ = {-1, -1};  // reload on next read
}

bool SettingsStore::remove(const std::string& key) {
    std::lock_guard lock(mutex_);
    Poco::Data::Session session = database_.session();
    std::string k = key;
    Poco::Data::Statement del(session);
    del << "DELETE FROM site_settings WHERE key = $1", use(k);
    const std::size_t removed = del.execute();
    stamp_ = {-1, -1};
    return removed > 0;
}

std::map<std::string, SettingRow> SettingsStore::rows() {
    std::lock_guard lock(mutex_);
    stamp_ = {-1, -1};
    refreshIfStale();
    return cache_;
}

void SettingsStore::verifyMasterKey() {
    static const std::string kCheckText = "tawasul master key check";
    std::optional<std::string> stored;
    {
        std::lock_guard lock(mutex_);
        refreshIfStale();
        auto it = cache_.find(kKeyCheck);
        if (it != cache_.end()) stored = it->second.value;
    }
    if (!stored) {
        set(kKeyCheck, kCheckText);
        return;
    }
    try {
        if (box_.open(*stored, kKeyCheck) == kCheckText) return;
    } catch (const SecretError&) {
    }
    throw SecretError("the master key does not match the key that sealed the stored secrets "
                      "(check TAWASUL_MASTER_KEY or secrets.key_file)");
}

}  // namespace tawasul::host

namespace tawasul::host {

std::size_t SettingsStore::rekey(const SecretBox& newBox) {
    std::lock_guard lock(mutex_);
    Poco::Data::Session session = database_.session();
    sdk::Transaction transaction(database_, session);
    std::vector<std::string> keys, values;
    session << "SELECT key, value FROM site_settings WHERE encrypted = 1", into(keys), into(values), now;
    Poco::Int64 at = clock_.nowMillis();
    for (std::size_t i = 0; i < keys.size(); ++i) {
        std::string plain;
        try {
            plain = box_.open(values[i], keys[i]);
        } catch (const SecretError& error) {
            throw SecretError("setting " + keys[i] + ": " + error.what());
        }
        std::string sealed = newBox.seal(plain, keys[i]);
        std::fill(plain.begin(), plain.end(), '\0');
        session << "UPDATE site_settings SET value = $1, updated_at = $2 WHERE key = $3", use(sealed), use(at), use(keys[i]), now;
    }
    transaction.commit();
    stamp_ = {-1, -1};
    return keys.size();
}

}  // namespace tawasul::host
