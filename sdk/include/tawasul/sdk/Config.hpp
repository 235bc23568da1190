#pragma once
// A node of the YAML configuration that remembers where it came from, so that every error a host
// or plugin reports about its configuration reads `FILE:LINE:COL: message`.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

class TAWASUL_SDK_API ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
    ~ConfigError() override;
};

class TAWASUL_SDK_API ConfigNode {
public:
    // Reads FILE, expands ${VAR} and ${VAR:-default} from the environment in every scalar.
    static ConfigNode loadFile(const std::string& file);
    // Same, from text; `file` only names the source in error messages.
    static ConfigNode loadString(const std::string& text, const std::string& file);

    ConfigNode(YAML::Node node, std::shared_ptr<const std::string> file, std::string path);

    const std::string& path() const { return path_; }  // dotted path, e.g. "server.listen"
    const std::string& file() const { return *file_; }
    std::string where() const;                          // FILE:LINE:COL of this node
    [[noreturn]] void fail(const std::string& message) const;

    bool isDefined() const;  // present and not null
    bool isMap() const;
    bool isSequence() const;
    bool has(const std::string& key) const;
    ConfigNode child(const std::string& key) const;  // an undefined node when absent

    // Typed accessors: absent keys give the default (or an error when there is none),
    // a value of the wrong type is an error at the value's location.
    std::string getString(const std::string& key) const;
    std::string getString(const std::string& key, const std::string& fallback) const;
    std::int64_t getInt(const std::string& key) const;
    std::int64_t getInt(const std::string& key, std::int64_t fallback) const;
    std::int64_t getInt(const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
    double getDouble(const std::string& key, double fallback) const;
    bool getBool(const std::string& key, bool fallback) const;
    std::vector<std::string> getStringList(const std::string& key) const;

    std::string asString() const;
    std::int64_t asInt() const;
    bool asBool() const;
    std::vector<ConfigNode> items() const;                                // a sequence's elements
    std::vector<std::pair<std::string, ConfigNode>> entries() const;      // a map's entries, in order

    // Refuses any key not in `allowed`, naming it at its own location.
    void allowOnly(std::initializer_list<const char*> allowed) const;
    // Refuses a node that is not a map (an absent node counts as an empty map).
    void requireMap() const;

    const YAML::Node& yaml() const { return node_; }

private:
    std::string childPath(const std::string& key) const;
    std::string describe() const;

    YAML::Node node_;
    std::shared_ptr<const std::string> file_;
    std::string path_;
    YAML::Mark mark_;  // where errors about this node point; the parent's for an absent key
};

// Expands ${VAR} and ${VAR:-default}. Throws std::invalid_argument naming the variable when it is
// unset and has no default, or when the reference is malformed.
TAWASUL_SDK_API std::string expandEnvironment(const std::string& text);

}  // namespace tawasul::sdk
