#include "Sources.hpp"

#include <algorithm>

#include "tawasul/whatsapp/Phones.hpp"

namespace tawasul::plugins::contact_matcher {
namespace {

struct KindDefaults {
    const char* kind;
    int priority;
};
// The order of trust when one phone matches several records: someone enrolled is more certainly
// who they say than a registration, a lead or a company switchboard.
constexpr KindDefaults kKinds[] = {{"enrollment", 10}, {"registration", 20}, {"b2b_lead", 30}, {"organization", 40}};

const KindDefaults* findKind(const std::string& kind) {
    for (const auto& k : kKinds)
        if (kind == k.kind) return &k;
    return nullptr;
}

// Table and column names are spliced into SQL as identifiers (they cannot be bound), so they are
// held to a plain identifier shape here, before anything runs.
std::string identifier(const sdk::ConfigNode& node) {
    const std::string text = node.asString();
    if (!isIdentifier(text)) node.fail("'" + text + "' is not a plain SQL identifier (letters, digits and _, not starting with a digit)");
    return text;
}

Source parseSource(const sdk::ConfigNode& node) {
    if (!node.isMap()) node.fail("expected a mapping with kind, table, phone_columns, name_column, admin_link, priority");
    node.allowOnly({"kind", "table", "id_column", "phone_columns", "name_column", "admin_link", "priority", "updated_column",
                    "display_columns"});
    Source source;
    const sdk::ConfigNode kind = node.child("kind");
    if (!kind.isDefined()) node.fail("missing required key 'kind'");
    source.kind = kind.asString();
    const KindDefaults* defaults = findKind(source.kind);
    if (!defaults) kind.fail("unknown kind '" + source.kind + "' (expected one of: enrollment, registration, b2b_lead, organization)");

    if (!node.has("table")) node.fail("missing required key 'table'");
    source.table = identifier(node.child("table"));
    if (node.has("id_column")) source.idColumn = identifier(node.child("id_column"));
    const sdk::ConfigNode phones = node.child("phone_columns");
    if (!phones.isDefined()) node.fail("missing required key 'phone_columns'");
    if (phones.isSequence()) {
        for (const sdk::ConfigNode& column : phones.items()) {
            std::string name = identifier(column);
            if (std::find(source.phoneColumns.begin(), source.phoneColumns.end(), name) != source.phoneColumns.end())
                column.fail("phone column '" + name + "' is listed twice");
            source.phoneColumns.push_back(std::move(name));
        }
    } else {
        source.phoneColumns.push_back(identifier(phones));  // a single column written as a scalar
    }
    if (source.phoneColumns.empty()) phones.fail("needs at least one phone column");
    if (!node.has("name_column")) node.fail("missing required key 'name_column'");
    source.nameColumn = identifier(node.child("name_column"));
    source.adminLink = node.getString("admin_link", "");
    if (!source.adminLink.empty() && source.adminLink.find("{id}") == std::string::npos)
        node.child("admin_link").fail("must contain {id}, e.g. /admin/registrations/{id}");
    source.priority = static_cast<int>(node.getInt("priority", defaults->priority, -1000000, 1000000));
    if (node.has("updated_column")) source.updatedColumn = identifier(node.child("updated_column"));
    if (node.has("display_columns")) {
        const sdk::ConfigNode display = node.child("display_columns");
        if (!display.isSequence()) display.fail("expected a list of columns, e.g. [email, city]");
        for (const sdk::ConfigNode& column : display.items()) source.displayColumns.push_back(identifier(column));
    }
    return source;
}

}  // namespace

bool isIdentifier(const std::string& text) {
    if (text.empty() || text.size() > 63) return false;
    auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
    if (!letter(text[0])) return false;
    return std::all_of(text.begin(), text.end(), [&](char c) { return letter(c) || (c >= '0' && c <= '9'); });
}

std::string Source::linkFor(std::int64_t id) const {
    std::string link = adminLink;
    const std::string value = std::to_string(id);
    for (auto at = link.find("{id}"); at != std::string::npos; at = link.find("{id}", at + value.size()))
        link.replace(at, 4, value);
    return link;
}

std::vector<Source> defaultSources() {
    // The platform tables of migrations/0003_platform; only b2b_leads records its edits.
    return {
        {"enrollment", "enrollments", "id", {"phone"}, "full_name", "/admin/enrollments/{id}", 10, "", {"programme", "status", "created_at"}},
        {"registration", "registrations", "id", {"phone"}, "full_name", "/admin/registrations/{id}", 20, "",
         {"email", "programme", "status", "created_at"}},
        {"b2b_lead", "b2b_leads", "id", {"phone"}, "contact_name", "/admin/b2b-leads/{id}", 30, "updated_at", {"email", "status", "created_at"}},
        {"organization", "organizations", "id", {"phone"}, "name", "/admin/organizations/{id}", 40, "", {"email", "city", "created_at"}},
    };
}

MatcherConfig parseMatcherConfig(const sdk::ConfigNode& node) {
    node.allowOnly({"sources", "refresh_seconds", "default_region", "batch_size"});
    MatcherConfig config;
    config.refreshSeconds = static_cast<int>(node.getInt("refresh_seconds", 5, 0, 86400));
    config.batchSize = static_cast<std::size_t>(node.getInt("batch_size", 5000, 1, 100000));
    config.defaultRegion = sdk::defaultRegionOf(node);
    const sdk::ConfigNode sources = node.child("sources");
    if (!sources.isDefined()) {
        config.sources = defaultSources();
        return config;
    }
    if (!sources.isSequence()) sources.fail("expected a list of sources");
    for (const sdk::ConfigNode& item : sources.items()) {
        Source source = parseSource(item);
        // The index is keyed by kind: two sources of one kind would overwrite each other's rows.
        for (const Source& other : config.sources)
            if (other.kind == source.kind) item.child("kind").fail("kind '" + source.kind + "' is already used by another source");
        config.sources.push_back(std::move(source));
    }
    if (config.sources.empty()) sources.fail("needs at least one source (leave it out for the platform defaults)");
    return config;
}

}  // namespace tawasul::plugins::contact_matcher
