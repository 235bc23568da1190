#pragma once
// Translations: one catalog per plugin (plugins/<name>/lang/{en,fr,ar}.yaml) and one for the host
// (host/lang/). A catalog file is a YAML map nested to any depth whose leaves are strings; a string
// is known by its dotted path ("inbox.filters.open"). Key segments use a-z, 0-9 and '_'.
// Dates and numbers follow the conventions of Algeria for each language (see docs/plugin-guide.md).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <kainjow/mustache.hpp>

#include "tawasul/sdk/Pages.hpp"

namespace tawasul::host {

class Catalog final : public sdk::Translator {
public:
    // Reads dir/{en,fr,ar}.yaml (a missing folder is an empty catalog). Throws sdk::ConfigError
    // "FILE:LINE:COL: message" for a file that is not a catalog.
    static Catalog load(const std::filesystem::path& dir, const std::string& owner);
    Catalog() = default;

    std::string text(const std::string& locale, const std::string& key,
                     const std::map<std::string, std::string>& args = {}) const override;
    bool rightToLeft(const std::string& locale) const override { return locale == "ar"; }
    std::string dateTime(const std::string& locale, std::int64_t epochSeconds) const override;
    std::string number(const std::string& locale, std::int64_t value) const override;

    // The catalog as Mustache data, nested as in the file: {{t.inbox.title}}.
    const kainjow::mustache::data& mustacheData(const std::string& locale) const;
    // Keys present in one language and missing in another: "fr.yaml: missing 'inbox.title'".
    std::vector<std::string> problems() const;
    const std::map<std::string, std::map<std::string, std::string>>& strings() const { return strings_; }
    const std::filesystem::path& directory() const { return dir_; }

private:
    std::string owner_;
    std::filesystem::path dir_;
    std::map<std::string, std::map<std::string, std::string>> strings_;  // locale → key → text
    std::map<std::string, kainjow::mustache::data> data_;                // locale → nested data
};

// `{name}` placeholders replaced from args; unknown ones stay as written.
std::string fillPlaceholders(const std::string& text, const std::map<std::string, std::string>& args);

}  // namespace tawasul::host
