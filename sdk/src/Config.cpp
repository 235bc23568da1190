#include "tawasul/sdk/Config.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace tawasul::sdk {
namespace {

std::string locate(const std::string& file, const YAML::Mark& mark) {
    // yaml-cpp counts from zero; editors and humans count from one.
    const int line = mark.line < 0 ? 1 : mark.line + 1;
    const int column = mark.column < 0 ? 1 : mark.column + 1;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

void expandTree(YAML::Node node, const std::string& file) {
    if (node.IsScalar()) {
        try {
            const std::string expanded = expandEnvironment(node.Scalar());
            if (expanded != node.Scalar()) node = expanded;
        } catch (const std::invalid_argument& error) {
            throw ConfigError(locate(file, node.Mark()) + ": " + error.what());
        }
    } else if (node.IsSequence()) {
        for (std::size_t i = 0; i < node.size(); ++i) expandTree(node[i], file);
    } else if (node.IsMap()) {
        // yaml-cpp keeps a repeated key and lookups see only the first: refuse it instead.
        std::set<std::string> keys;
        for (auto it = node.begin(); it != node.end(); ++it) {
            if (it->first.IsScalar() && !keys.insert(it->first.Scalar()).second)
                throw ConfigError(locate(file, it->first.Mark()) + ": duplicate key '" + it->first.Scalar() + "'");
            expandTree(it->second, file);
        }
    }
}

bool parseInt(const std::string& text, std::int64_t& out) {
    if (text.empty()) return false;
    char* end = nullptr;
    errno = 0;
    const long long value = std::strtoll(text.c_str(), &end, 10);
    if (errno != 0 || end == text.c_str() || *end != '\0') return false;
    out = value;
    return true;
}

}  // namespace

std::string expandEnvironment(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '$' || i + 1 >= text.size() || text[i + 1] != '{') {
            out += text[i];
            continue;
        }
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string::npos) throw std::invalid_argument("unterminated ${ in '" + text + "'");
        const std::string reference = text.substr(i + 2, close - i - 2);
        const std::size_t dash = reference.find(":-");
        const std::string name = reference.substr(0, dash);
        if (name.empty()) throw std::invalid_argument("empty variable name in '" + text + "'");
        for (char c : name) {
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
                throw std::invalid_argument("invalid variable name '" + name + "'");
        }
        const char* value = std::getenv(name.c_str());
        if (value != nullptr && *value != '\0') {
            out += value;
        } else if (dash != std::string::npos) {
            out += reference.substr(dash + 2);
        } else {
            throw std::invalid_argument("environment variable " + name + " is not set and has no default");
        }
        i = close;
    }
    return out;
}

ConfigNode ConfigNode::loadFile(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ConfigError(file + ":1:1: cannot read configuration file: " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    return loadString(text.str(), file);
}

ConfigNode ConfigNode::loadString(const std::string& text, const std::string& file) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& error) {
        throw ConfigError(locate(file, error.mark) + ": " + error.msg);
    }
    if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    if (!root.IsMap()) throw ConfigError(locate(file, root.Mark()) + ": the configuration must be a mapping");
    expandTree(root, file);
    return ConfigNode(root, std::make_shared<const std::string>(file), "");
}

ConfigNode::ConfigNode(YAML::Node node, std::shared_ptr<const std::string> file, std::string path)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)),
      mark_(node_.IsDefined() ? node_.Mark() : YAML::Mark::null_mark()) {}

std::string ConfigNode::where() const { return locate(*file_, mark_); }

void ConfigNode::fail(const std::string& message) const {
    throw ConfigError(where() + ": " + (path_.empty() ? "" : path_ + ": ") + message);
}

bool ConfigNode::isDefined() const { return node_.IsDefined() && !node_.IsNull(); }
bool ConfigNode::isMap() const { return node_.IsMap(); }
bool ConfigNode::isSequence() const { return node_.IsSequence(); }

bool ConfigNode::has(const std::string& key) const {
    if (!node_.IsMap()) return false;
    const YAML::Node value = node_[key];
    return value.IsDefined() && !value.IsNull();
}

std::string ConfigNode::childPath(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

ConfigNode ConfigNode::child(const std::string& key) const {
    if (node_.IsMap()) {
        const YAML::Node value = node_[key];
        if (value.IsDefined()) return ConfigNode(value, file_, childPath(key));
    } else if (isDefined()) {
        fail("expected a mapping");
    }
    // An absent child reports errors at its parent's location, the nearest place in the file.
    ConfigNode result(YAML::Node(YAML::NodeType::Undefined), file_, childPath(key));
    result.mark_ = mark_;
    return result;
}

std::string ConfigNode::describe() const {
    if (node_.IsScalar()) return "'" + node_.Scalar() + "'";
    if (node_.IsSequence()) return "a list";
    if (node_.IsMap()) return "a mapping";
    return "nothing";
}

std::string ConfigNode::asString() const {
    if (!node_.IsScalar()) fail("expected a string, got " + describe());
    return node_.Scalar();
}

std::int64_t ConfigNode::asInt() const {
    std::int64_t value = 0;
    if (!node_.IsScalar() || !parseInt(node_.Scalar(), value)) fail("expected an integer, got " + describe());
    return value;
}

bool ConfigNode::asBool() const {
    if (node_.IsScalar()) {
        const std::string& s = node_.Scalar();
        if (s == "true" || s == "yes" || s == "on") return true;
        if (s == "false" || s == "no" || s == "off") return false;
    }
    fail("expected true or false, got " + describe());
}

std::string ConfigNode::getString(const std::string& key) const {
    const ConfigNode value = child(key);
    if (!value.isDefined()) fail("missing required key '" + key + "'");
    return value.asString();
}

std::string ConfigNode::getString(const std::string& key, const std::string& fallback) const {
    const ConfigNode value = child(key);
    return value.isDefined() ? value.asString() : fallback;
}

std::int64_t ConfigNode::getInt(const std::string& key) const {
    const ConfigNode value = child(key);
    if (!value.isDefined()) fail("missing required key '" + key + "'");
    return value.asInt();
}

std::int64_t ConfigNode::getInt(const std::string& key, std::int64_t fallback) const {
    const ConfigNode value = child(key);
    return value.isDefined() ? value.asInt() : fallback;
}

std::int64_t ConfigNode::getInt(const std::string& key, std::int64_t fallback, std::int64_t min,
                                std::int64_t max) const {
    const ConfigNode value = child(key);
    if (!value.isDefined()) return fallback;
    const std::int64_t result = value.asInt();
    if (result < min || result > max)
        value.fail("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                   std::to_string(result));
    return result;
}

double ConfigNode::getDouble(const std::string& key, double fallback) const {
    const ConfigNode value = child(key);
    if (!value.isDefined()) return fallback;
    if (value.node_.IsScalar()) {
        const std::string& s = value.node_.Scalar();
        char* end = nullptr;
        const double parsed = std::strtod(s.c_str(), &end);
        if (!s.empty() && end != s.c_str() && *end == '\0') return parsed;
    }
    value.fail("expected a number, got " + value.describe());
}

bool ConfigNode::getBool(const std::string& key, bool fallback) const {
    const ConfigNode value = child(key);
    return value.isDefined() ? value.asBool() : fallback;
}

std::vector<std::string> ConfigNode::getStringList(const std::string& key) const {
    const ConfigNode value = child(key);
    std::vector<std::string> result;
    if (!value.isDefined()) return result;
    for (const ConfigNode& item : value.items()) result.push_back(item.asString());
    return result;
}

std::vector<ConfigNode> ConfigNode::items() const {
    std::vector<ConfigNode> result;
    if (!isDefined()) return result;
    if (!node_.IsSequence()) fail("expected a list, got " + describe());
    for (std::size_t i = 0; i < node_.size(); ++i)
        result.emplace_back(node_[i], file_, path_ + "[" + std::to_string(i) + "]");
    return result;
}

std::vector<std::pair<std::string, ConfigNode>> ConfigNode::entries() const {
    std::vector<std::pair<std::string, ConfigNode>> result;
    if (!isDefined()) return result;
    requireMap();
    for (auto it = node_.begin(); it != node_.end(); ++it) {
        const std::string key = it->first.Scalar();
        result.emplace_back(key, ConfigNode(it->second, file_, childPath(key)));
    }
    return result;
}

void ConfigNode::requireMap() const {
    if (isDefined() && !node_.IsMap()) fail("expected a mapping, got " + describe());
}

void ConfigNode::allowOnly(std::initializer_list<const char*> allowed) const {
    requireMap();
    if (!isDefined()) return;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
        const std::string key = it->first.Scalar();
        bool known = false;
        for (const char* name : allowed) known = known || key == name;
        if (!known) {
            std::string list;
            for (const char* name : allowed) list += (list.empty() ? "" : ", ") + std::string(name);
            throw ConfigError(locate(*file_, it->first.Mark()) + ": unknown key '" + childPath(key) +
                              "' (expected one of: " + list + ")");
        }
    }
}

}  // namespace tawasul::sdk
