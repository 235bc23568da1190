#pragma once
// site_settings behind a small cache. Secret keys are sealed with the master key before they
// reach the database and opened only on get().
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "secrets/SecretBox.hpp"
#include "tawasul/sdk/Clock.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Settings.hpp"

namespace tawasul::host {

struct SettingRow {
    std::string key;
    std::string value;  // sealed when encrypted
    bool encrypted = false;
    std::int64_t updatedAt = 0;
};

class SettingsStore final : public sdk::Settings {
public:
    SettingsStore(sdk::Database& database, const SecretBox& box, const sdk::Clock& clock);

    std::optional<std::string> get(const std::string& key) override;
    void set(const std::string& key, const std::string& value) override;
    bool isSecret(const std::string& key) const override;
    // Removes a setting; false when it did not exist.
    bool remove(const std::string& key);
    // All rows, values still sealed for secrets (for `settings list`).
    std::map<std::string, SettingRow> rows();

    // Checks that the master key opens what it sealed before (a wrong key is refused here, at
    // start-up, rather than when a secret is first needed). Records a check value on first use.
    void verifyMasterKey();
    // Re-seals every secret (and the key check) under `newBox` in one transaction. Returns how many
    // rows were re-sealed. The store keeps using the old key: restart with the new one after.
    std::size_t rekey(const SecretBox& newBox);

    static const std::set<std::string>& secretKeys();
    static constexpr const char* kKeyCheck = "secrets.key_check";

private:
    void refreshIfStale();  // other hosts' writes become visible within kRefreshInterval
    static constexpr std::chrono::milliseconds kRefreshInterval{1000};

    sdk::Database& database_;
    const SecretBox& box_;
    const sdk::Clock& clock_;
    std::mutex mutex_;
    std::map<std::string, SettingRow> cache_;
    // Secrets already opened, by key: (sealed text, plaintext). Reading the app secret on every
    // webhook POST and the token on every send must not decrypt each time; a changed sealed text
    // (set, rekey, another host's write) is opened again.
    std::map<std::string, std::pair<std::string, std::string>> opened_;
    std::chrono::steady_clock::time_point checkedAt_{};
    std::pair<std::int64_t, std::int64_t> stamp_{-1, -1};  // (row count, newest updated_at)
};

}  // namespace tawasul::host
