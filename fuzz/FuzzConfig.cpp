// The configuration loader: YAML with ${VAR} and ${VAR:-default} expanded from the environment.
// Bad text must end in sdk::ConfigError (FILE:LINE:COL: message), never another exception or a
// crash; every node is then read with each accessor, as the host and plugins do.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tawasul/sdk/Config.hpp"

namespace {

void walk(const tawasul::sdk::ConfigNode& node, int depth) {
    if (depth > 64) return;
    if (node.isMap()) {
        for (const auto& [key, child] : node.entries()) {
            (void)node.has(key);
            walk(child, depth + 1);
        }
        return;
    }
    if (node.isSequence()) {
        for (const auto& item : node.items()) walk(item, depth + 1);
        return;
    }
    // Each accessor either answers or refuses with a ConfigError at the node's place.
    for (int accessor = 0; accessor < 3; ++accessor) {
        try {
            if (accessor == 0) (void)node.asString();
            if (accessor == 1) (void)node.asInt();
            if (accessor == 2) (void)node.asBool();
        } catch (const tawasul::sdk::ConfigError&) {
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    ::setenv("FUZZ_SET", "value", 1);
    ::setenv("FUZZ_EMPTY", "", 1);
    ::unsetenv("FUZZ_UNSET");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        (void)tawasul::sdk::expandEnvironment(text);
    } catch (const std::invalid_argument&) {
    }
    try {
        const auto root = tawasul::sdk::ConfigNode::loadString(text, "fuzz.yaml");
        walk(root, 0);
        (void)root.getString("missing", "fallback");
        try {
            root.allowOnly({"server", "database"});
        } catch (const tawasul::sdk::ConfigError&) {
        }
    } catch (const tawasul::sdk::ConfigError&) {
    }
    return 0;
}
