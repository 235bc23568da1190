#pragma once
// Where the platform keeps phone numbers: one Source per kind of record, read from the plugin's
// YAML so that the matcher fits the platform's real schema.
#include <cstdint>
#include <string>
#include <vector>

#include "tawasul/sdk/Config.hpp"

namespace tawasul::plugins::contact_matcher {

struct Source {
    std::string kind;                       // enrollment, registration, b2b_lead, organization
    std::string table;                      // identifiers below are checked against [A-Za-z_][A-Za-z0-9_]*
    std::string idColumn = "id";
    std::vector<std::string> phoneColumns;  // at least one
    std::string nameColumn;
    std::string adminLink;                  // "/admin/registrations/{id}"; empty: no link
    int priority = 0;
    std::string updatedColumn;              // integer column raised on every edit; empty: new rows only
    std::vector<std::string> displayColumns;  // shown on the record's summary page besides name and phones


    std::string linkFor(std::int64_t id) const;
};

struct MatcherConfig {
    std::vector<Source> sources;  // kinds are unique
    int refreshSeconds = 5;       // 0: no background refresh
    std::string defaultRegion = "DZ";
    std::size_t batchSize = 5000;
};

// Validates the plugin's node (unknown keys, kinds, identifiers, duplicates) and throws
// sdk::ConfigError at FILE:LINE:COL. Without `sources`, the platform tables of migration 0003.
MatcherConfig parseMatcherConfig(const sdk::ConfigNode& node);

std::vector<Source> defaultSources();
bool isIdentifier(const std::string& text);

}  // namespace tawasul::plugins::contact_matcher
