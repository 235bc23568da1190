// The loader against real shared libraries: one good plugin and one for each way to be refused.
#include <cppunit/extensions/HelperMacros.h>

#include "plugin/PluginLoader.hpp"
#include "tawasul/sdk/Config.hpp"

using tawasul::host::PluginLibrary;
using tawasul::host::PluginLoadError;

namespace {

std::string loadError(const std::string& name) {
    try {
        tawasul::host::loadPluginLibrary(TAWASUL_TEST_PLUGIN_DIR, name);
    } catch (const PluginLoadError& error) {
        return error.what();
    }
    return "loaded without error";
}

std::unique_ptr<PluginLibrary> fakePlugin(const std::string& name, std::vector<std::string> dependencies) {
    auto plugin = std::make_unique<PluginLibrary>();
    plugin->name = name;
    plugin->dependencies = std::move(dependencies);
    return plugin;
}

std::string orderOf(const std::vector<std::unique_ptr<PluginLibrary>>& plugins) {
    std::string order;
    for (std::size_t index : tawasul::host::startOrder(plugins)) order += plugins[index]->name + " ";
    return order;
}

}  // namespace

class PluginLoaderTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PluginLoaderTest);
    CPPUNIT_TEST(loadsGoodPluginAndReadsItsDescriptor);
    CPPUNIT_TEST(loadsAPluginOfAnOlderMinorWithoutItsConfigReader);
    CPPUNIT_TEST(refusesWrongAbi);
    CPPUNIT_TEST(refusesWrongBuildSignature);
    CPPUNIT_TEST(refusesLibraryWithoutEntryPoint);
    CPPUNIT_TEST(refusesMissingLibrary);
    CPPUNIT_TEST(refusesDependencyCycleNamingItsMembers);
    CPPUNIT_TEST(refusesMissingDependency);
    CPPUNIT_TEST(ordersDependenciesFirstAndKeepsConfiguredOrderOtherwise);
    CPPUNIT_TEST_SUITE_END();

public:
    void loadsGoodPluginAndReadsItsDescriptor() {
        auto plugin = tawasul::host::loadPluginLibrary(TAWASUL_TEST_PLUGIN_DIR, "good");
        CPPUNIT_ASSERT_EQUAL(std::string("good"), std::string(plugin->descriptor->name));
        CPPUNIT_ASSERT_EQUAL(std::string("1.2.3"), std::string(plugin->descriptor->version));
        CPPUNIT_ASSERT_EQUAL(std::string(TAWASUL_BUILD_SIGNATURE), std::string(plugin->descriptor->build_signature));
        CPPUNIT_ASSERT(plugin->dependencies.empty());
        CPPUNIT_ASSERT_EQUAL(std::string(TAWASUL_TEST_PLUGIN_DIR "/good"), plugin->directory.string());
        // Its configuration reader, callable with no plugin object made: what `config check` runs.
        CPPUNIT_ASSERT(plugin->checkConfig != nullptr);
        plugin->checkConfig(tawasul::sdk::ConfigNode::loadString("greeting: salam\n", "good.yaml"));
        try {
            plugin->checkConfig(tawasul::sdk::ConfigNode::loadString("greeting: salam\ncolour: red\n", "good.yaml"));
            CPPUNIT_FAIL("an unknown key passed the reader");
        } catch (const tawasul::sdk::ConfigError& error) {
            CPPUNIT_ASSERT_EQUAL(std::string("good.yaml:2:1: unknown key 'colour' (expected one of: greeting)"), std::string(error.what()));
        }
    }

    // SDK ABI 2.0's descriptor ends before check_config: loaded, and the field is never read.
    void loadsAPluginOfAnOlderMinorWithoutItsConfigReader() {
        auto plugin = tawasul::host::loadPluginLibrary(TAWASUL_TEST_PLUGIN_DIR, "older_minor");
        CPPUNIT_ASSERT_EQUAL(0u, static_cast<unsigned>(plugin->descriptor->abi_minor));
        CPPUNIT_ASSERT(plugin->checkConfig == nullptr);
    }

    void refusesWrongAbi() {
        CPPUNIT_ASSERT_EQUAL("plugin 'wrong_abi': built for SDK ABI 99.0, this host provides " + std::to_string(TAWASUL_SDK_ABI_MAJOR) + "." +
                                 std::to_string(TAWASUL_SDK_ABI_MINOR),
                             loadError("wrong_abi"));
    }

    void refusesWrongBuildSignature() {
        const std::string error = loadError("wrong_signature");
        // Each field that differs is named with both values; the whole signatures follow.
        CPPUNIT_ASSERT_MESSAGE(error, error.rfind("plugin 'wrong_signature': build signature differs from the host's in boost (plugin 100000, host ", 0) == 0);
        CPPUNIT_ASSERT_MESSAGE(error, error.find(", compiler (plugin gcc-4, host ") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(error, error.find(", cxx11abi (plugin 0, host 1)") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(error, error.find(", poco (plugin 0x01000000, host ") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(error, error.find("sdk (plugin") == std::string::npos);  // the same on both sides
        CPPUNIT_ASSERT_MESSAGE(error, error.find("('gcc-4;cxx11abi=0;poco=0x01000000;boost=100000;ndebug=1;sdk=2' against '") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(error, error.find("rebuild the plugin against this host's SDK") != std::string::npos);
    }

    void refusesLibraryWithoutEntryPoint() {
        const std::string error = loadError("no_entry_point");
        CPPUNIT_ASSERT_MESSAGE(error, error.rfind("plugin 'no_entry_point': ", 0) == 0);
        CPPUNIT_ASSERT_MESSAGE(error, error.find("has no tawasul_plugin_v1 entry point") != std::string::npos);
    }

    void refusesMissingLibrary() {
        CPPUNIT_ASSERT_EQUAL(std::string("plugin 'absent': no library at " TAWASUL_TEST_PLUGIN_DIR "/absent/absent.so"),
                             loadError("absent"));
    }

    void refusesDependencyCycleNamingItsMembers() {
        std::vector<std::unique_ptr<PluginLibrary>> plugins;
        plugins.push_back(tawasul::host::loadPluginLibrary(TAWASUL_TEST_PLUGIN_DIR, "cycle_a"));
        plugins.push_back(tawasul::host::loadPluginLibrary(TAWASUL_TEST_PLUGIN_DIR, "cycle_b"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), plugins[0]->dependencies.size());
        CPPUNIT_ASSERT_EQUAL(std::string("cycle_b"), plugins[0]->dependencies[0]);
        try {
            tawasul::host::startOrder(plugins);
            CPPUNIT_FAIL("a cycle was accepted");
        } catch (const PluginLoadError& error) {
            CPPUNIT_ASSERT_EQUAL(std::string("plugins form a dependency cycle: cycle_a -> cycle_b -> cycle_a"), std::string(error.what()));
        }
    }

    void refusesMissingDependency() {
        std::vector<std::unique_ptr<PluginLibrary>> plugins;
        plugins.push_back(tawasul::host::loadPluginLibrary(TAWASUL_TEST_PLUGIN_DIR, "cycle_a"));
        try {
            tawasul::host::startOrder(plugins);
            CPPUNIT_FAIL("a missing dependency was accepted");
        } catch (const PluginLoadError& error) {
            CPPUNIT_ASSERT_EQUAL(std::string("plugin 'cycle_a' requires 'cycle_b', which is not in plugins.load"), std::string(error.what()));
        }
    }

    void ordersDependenciesFirstAndKeepsConfiguredOrderOtherwise() {
        std::vector<std::unique_ptr<PluginLibrary>> plugins;
        plugins.push_back(fakePlugin("admin_inbox", {"inbound_router"}));
        plugins.push_back(fakePlugin("webhook_receiver", {}));
        plugins.push_back(fakePlugin("inbound_router", {"contact_matcher"}));
        plugins.push_back(fakePlugin("contact_matcher", {}));
        plugins.push_back(fakePlugin("outbox", {}));
        CPPUNIT_ASSERT_EQUAL(std::string("webhook_receiver contact_matcher inbound_router admin_inbox outbox "), orderOf(plugins));
        // A longer cycle is reported from where it closes.
        std::vector<std::unique_ptr<PluginLibrary>> cyclic;
        cyclic.push_back(fakePlugin("a", {"b"}));
        cyclic.push_back(fakePlugin("b", {"c"}));
        cyclic.push_back(fakePlugin("c", {"b"}));
        try {
            orderOf(cyclic);
            CPPUNIT_FAIL("a cycle was accepted");
        } catch (const PluginLoadError& error) {
            CPPUNIT_ASSERT_EQUAL(std::string("plugins form a dependency cycle: b -> c -> b"), std::string(error.what()));
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PluginLoaderTest);
