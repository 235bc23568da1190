// sdk::ConfigNode, sdk::expandEnvironment and host::HostConfig: values, defaults, and errors that
// point at FILE:LINE:COL (1-based) of the offending value.
#include <cppunit/extensions/HelperMacros.h>

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/HostConfig.hpp"
#include "Assertions.hpp"
#include "TestSupport.hpp"
#include "tawasul/sdk/Config.hpp"


using tawasul::host::HostConfig;
using tawasul::sdk::ConfigError;
using tawasul::sdk::ConfigNode;
using tawasul::sdk::expandEnvironment;
using tawasul::test::TempDir;
using tawasul::test::writeFile;

namespace {

// The message of the ConfigError that `action` throws; fails the test when it throws nothing.
template <typename Action>
std::string configError(Action action) {
    try {
        action();
    } catch (const ConfigError& error) {
        return error.what();
    }
    CPPUNIT_FAIL("expected a ConfigError");
    return "";
}

template <typename Action>
std::string invalidArgument(Action action) {
    try {
        action();
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    CPPUNIT_FAIL("expected std::invalid_argument");
    return "";
}

// Sets (or unsets, with nullopt) an environment variable for the life of the object.
class ScopedEnv {
public:
    ScopedEnv(std::string name, const std::optional<std::string>& value) : name_(std::move(name)) {
        if (const char* old = std::getenv(name_.c_str())) old_ = old;
        if (value)
            ::setenv(name_.c_str(), value->c_str(), 1);
        else
            ::unsetenv(name_.c_str());
    }
    ~ScopedEnv() {
        if (old_)
            ::setenv(name_.c_str(), old_->c_str(), 1);
        else
            ::unsetenv(name_.c_str());
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string name_;
    std::optional<std::string> old_;
};

ConfigNode load(const std::string& text) { return ConfigNode::loadString(text, "cfg.yaml"); }

}  // namespace

class ConfigTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ConfigTest);
    CPPUNIT_TEST(testExpandsVariables);
    CPPUNIT_TEST(testExpandsDefaults);
    CPPUNIT_TEST(testUnsetVariableWithoutDefaultIsAnError);
    CPPUNIT_TEST(testMalformedReferences);
    CPPUNIT_TEST(testLoadExpandsEveryScalar);
    CPPUNIT_TEST(testUnsetVariableInFileNamesItsLocation);
    CPPUNIT_TEST(testMalformedReferenceInFileNamesItsLocation);
    CPPUNIT_TEST(testExpandedValueKeepsItsLocation);
    CPPUNIT_TEST(testIntegers);
    CPPUNIT_TEST(testWrongIntegerPointsAtValue);
    CPPUNIT_TEST(testIntegerRange);
    CPPUNIT_TEST(testBooleans);
    CPPUNIT_TEST(testWrongBooleanPointsAtValue);
    CPPUNIT_TEST(testDoubles);
    CPPUNIT_TEST(testStrings);
    CPPUNIT_TEST(testStringLists);
    CPPUNIT_TEST(testAbsentKeysGiveDefaults);
    CPPUNIT_TEST(testMissingRequiredKeyPointsAtParent);
    CPPUNIT_TEST(testChildOfScalarIsAnError);
    CPPUNIT_TEST(testAllowOnlyNamesUnknownKeyAtItsLine);
    CPPUNIT_TEST(testDuplicateKeyIsAnError);
    CPPUNIT_TEST(testEntriesAndItemsKeepOrderAndPaths);
    CPPUNIT_TEST(testMissingFile);
    CPPUNIT_TEST(testLoadFile);
    CPPUNIT_TEST(testYamlSyntaxError);
    CPPUNIT_TEST(testRootMustBeAMapping);
    CPPUNIT_TEST(testEmptyDocumentIsAnEmptyMapping);
    CPPUNIT_TEST(testHostDefaults);
    CPPUNIT_TEST(testHostFullConfig);
    CPPUNIT_TEST(testHostPublicUrlFollowsListenWhenEmpty);
    CPPUNIT_TEST(testHostUnknownTopLevelKey);
    CPPUNIT_TEST(testHostUnknownNestedKey);
    CPPUNIT_TEST(testHostWrongType);
    CPPUNIT_TEST(testHostOutOfRange);
    CPPUNIT_TEST(testHostBadListen);
    CPPUNIT_TEST(testHostListenIpv6);
    CPPUNIT_TEST(testHostPluginListedTwice);
    CPPUNIT_TEST(testHostBadPluginEntries);
    CPPUNIT_TEST(testHostDispatchNamesUnloadedPlugin);
    CPPUNIT_TEST(testHostBareAndMappedPluginEntries);
    CPPUNIT_TEST(testHostBadLogLevel);
    CPPUNIT_TEST(testHostLoadFromFile);
    CPPUNIT_TEST_SUITE_END();

public:
    void testExpandsVariables() {
        ScopedEnv a("TAWASUL_TEST_A", std::string("alpha"));
        ScopedEnv b("TAWASUL_TEST_B", std::string("beta"));
        CPPUNIT_ASSERT_EQUAL(std::string("alpha"), expandEnvironment("${TAWASUL_TEST_A}"));
        CPPUNIT_ASSERT_EQUAL(std::string("x-alpha-beta-y"), expandEnvironment("x-${TAWASUL_TEST_A}-${TAWASUL_TEST_B}-y"));
        // Only ${...} is a reference: a bare $, $NAME and a trailing $ stay as they are.
        CPPUNIT_ASSERT_EQUAL(std::string("cost $5, $TAWASUL_TEST_A, end$"),
                             expandEnvironment("cost $5, $TAWASUL_TEST_A, end$"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), expandEnvironment(""));
    }

    void testExpandsDefaults() {
        ScopedEnv unset("TAWASUL_TEST_UNSET", std::nullopt);
        ScopedEnv set("TAWASUL_TEST_A", std::string("alpha"));
        ScopedEnv empty("TAWASUL_TEST_EMPTY", std::string(""));
        CPPUNIT_ASSERT_EQUAL(std::string("build/plugins"), expandEnvironment("${TAWASUL_TEST_UNSET:-build/plugins}"));
        CPPUNIT_ASSERT_EQUAL(std::string("alpha"), expandEnvironment("${TAWASUL_TEST_A:-ignored}"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), expandEnvironment("${TAWASUL_TEST_UNSET:-}"));
        // Like the shell's :-, an empty variable takes the default.
        CPPUNIT_ASSERT_EQUAL(std::string("fallback"), expandEnvironment("${TAWASUL_TEST_EMPTY:-fallback}"));
        // The default may itself contain ':' and '-'.
        CPPUNIT_ASSERT_EQUAL(std::string("postgresql://u:p@127.0.0.1:5432/t-db"),
                             expandEnvironment("${TAWASUL_TEST_UNSET:-postgresql://u:p@127.0.0.1:5432/t-db}"));
    }

    void testUnsetVariableWithoutDefaultIsAnError() {
        ScopedEnv unset("TAWASUL_TEST_UNSET", std::nullopt);
        ScopedEnv empty("TAWASUL_TEST_EMPTY", std::string(""));
        CPPUNIT_ASSERT_EQUAL(std::string("environment variable TAWASUL_TEST_UNSET is not set and has no default"),
                             invalidArgument([] { expandEnvironment("a ${TAWASUL_TEST_UNSET} b"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("environment variable TAWASUL_TEST_EMPTY is not set and has no default"),
                             invalidArgument([] { expandEnvironment("${TAWASUL_TEST_EMPTY}"); }));
    }

    void testMalformedReferences() {
        CPPUNIT_ASSERT_EQUAL(std::string("unterminated ${ in 'x ${TAWASUL_TEST_A'"),
                             invalidArgument([] { expandEnvironment("x ${TAWASUL_TEST_A"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("unterminated ${ in '${'"), invalidArgument([] { expandEnvironment("${"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("empty variable name in '${}'"), invalidArgument([] { expandEnvironment("${}"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("empty variable name in '${:-x}'"),
                             invalidArgument([] { expandEnvironment("${:-x}"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("invalid variable name 'A B'"), invalidArgument([] { expandEnvironment("${A B}"); }));
        // ${VAR-default} (without the colon) is not supported: it is an invalid name, not a silent default.
        CPPUNIT_ASSERT_EQUAL(std::string("invalid variable name 'A-x'"), invalidArgument([] { expandEnvironment("${A-x}"); }));
    }

    void testLoadExpandsEveryScalar() {
        ScopedEnv a("TAWASUL_TEST_A", std::string("alpha"));
        ScopedEnv unset("TAWASUL_TEST_UNSET", std::nullopt);
        const ConfigNode root = load(
            "top: ${TAWASUL_TEST_A}\n"
            "nested:\n"
            "  deep:\n"
            "    value: \"pre-${TAWASUL_TEST_A}\"\n"
            "list: [\"${TAWASUL_TEST_UNSET:-d1}\", plain, \"${TAWASUL_TEST_A}\"]\n"
            "port: ${TAWASUL_TEST_UNSET:-8080}\n");
        CPPUNIT_ASSERT_EQUAL(std::string("alpha"), root.getString("top"));
        CPPUNIT_ASSERT_EQUAL(std::string("pre-alpha"), root.child("nested").child("deep").getString("value"));
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"d1", "plain", "alpha"}), root.getStringList("list"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(8080), root.getInt("port"));
    }

    void testUnsetVariableInFileNamesItsLocation() {
        ScopedEnv unset("TAWASUL_TEST_UNSET", std::nullopt);
        CPPUNIT_ASSERT_EQUAL(
            std::string("cfg.yaml:3:11: environment variable TAWASUL_TEST_UNSET is not set and has no default"),
            configError([] { load("server:\n  threads: 4\n  listen: \"${TAWASUL_TEST_UNSET}\"\n"); }));
        CPPUNIT_ASSERT_EQUAL(
            std::string("cfg.yaml:3:5: environment variable TAWASUL_TEST_UNSET is not set and has no default"),
            configError([] { load("list:\n  - a\n  - x ${TAWASUL_TEST_UNSET}\n"); }));
    }

    void testMalformedReferenceInFileNamesItsLocation() {
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:6: unterminated ${ in 'a ${OOPS'"),
                             configError([] { load("one: 1\ntwo: a ${OOPS\n"); }));
    }

    void testExpandedValueKeepsItsLocation() {
        ScopedEnv a("TAWASUL_TEST_A", std::string("lots"));
        const ConfigNode root = load("server:\n  threads: ${TAWASUL_TEST_A}\n");
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:12: server.threads: expected an integer, got 'lots'"),
                             configError([&] { root.child("server").getInt("threads", 4); }));
    }

    void testIntegers() {
        const ConfigNode root = load("a: 42\nb: -7\nc: +3\nd: 9223372036854775807\n");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(42), root.getInt("a"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(-7), root.getInt("b", 0));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3), root.getInt("c", 0));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(9223372036854775807LL), root.getInt("d"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(42), root.child("a").asInt());
    }

    void testWrongIntegerPointsAtValue() {
        const ConfigNode root = load(
            "server:\n"
            "  threads: many\n"
            "  max: 1.5\n"
            "  big: 9223372036854775808\n"
            "  list: [1, 2]\n"
            "  empty: \"\"\n");
        const ConfigNode server = root.child("server");
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:12: server.threads: expected an integer, got 'many'"),
                             configError([&] { server.getInt("threads", 4); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:3:8: server.max: expected an integer, got '1.5'"),
                             configError([&] { server.getInt("max"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:4:8: server.big: expected an integer, got '9223372036854775808'"),
                             configError([&] { server.getInt("big", 0, 0, 10); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:5:9: server.list: expected an integer, got a list"),
                             configError([&] { server.getInt("list", 0); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:6:10: server.empty: expected an integer, got ''"),
                             configError([&] { server.getInt("empty", 0); }));
    }

    void testIntegerRange() {
        const ConfigNode root = load("workers:\n  low: 0\n  min: 1\n  max: 1024\n  high: 1025\n");
        const ConfigNode workers = root.child("workers");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), workers.getInt("min", 5, 1, 1024));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1024), workers.getInt("max", 5, 1, 1024));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(5), workers.getInt("absent", 5, 1, 1024));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:8: workers.low: must be between 1 and 1024, got 0"),
                             configError([&] { workers.getInt("low", 5, 1, 1024); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:5:9: workers.high: must be between 1 and 1024, got 1025"),
                             configError([&] { workers.getInt("high", 5, 1, 1024); }));
    }

    void testBooleans() {
        const ConfigNode root = load("a: true\nb: false\nc: yes\nd: no\ne: on\nf: off\n");
        CPPUNIT_ASSERT_EQUAL(true, root.getBool("a", false));
        CPPUNIT_ASSERT_EQUAL(false, root.getBool("b", true));
        CPPUNIT_ASSERT_EQUAL(true, root.getBool("c", false));
        CPPUNIT_ASSERT_EQUAL(false, root.getBool("d", true));
        CPPUNIT_ASSERT_EQUAL(true, root.getBool("e", false));
        CPPUNIT_ASSERT_EQUAL(false, root.getBool("f", true));
    }

    void testWrongBooleanPointsAtValue() {
        const ConfigNode root = load("feature:\n  enabled: maybe\n  flags: {x: 1}\n");
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:12: feature.enabled: expected true or false, got 'maybe'"),
                             configError([&] { root.child("feature").getBool("enabled", false); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:3:10: feature.flags: expected true or false, got a mapping"),
                             configError([&] { root.child("feature").getBool("flags", false); }));
    }

    void testDoubles() {
        const ConfigNode root = load("rate: 2.5\nwhole: 80\nneg: -0.25\nbad: fast\nlist: [1]\n");
        CPPUNIT_ASSERT_EQUAL(2.5, root.getDouble("rate", 0));
        CPPUNIT_ASSERT_EQUAL(80.0, root.getDouble("whole", 0));
        CPPUNIT_ASSERT_EQUAL(-0.25, root.getDouble("neg", 0));
        CPPUNIT_ASSERT_EQUAL(7.5, root.getDouble("absent", 7.5));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:4:6: bad: expected a number, got 'fast'"),
                             configError([&] { root.getDouble("bad", 0); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:5:7: list: expected a number, got a list"),
                             configError([&] { root.getDouble("list", 0); }));
    }

    void testStrings() {
        const ConfigNode root = load("name: \"مرحبا\"\nnumber: 12\nmap:\n  k: v\nseq: [a]\n");
        CPPUNIT_ASSERT_EQUAL(std::string("مرحبا"), root.getString("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("12"), root.getString("number"));  // a scalar is a string
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:4:3: map: expected a string, got a mapping"),
                             configError([&] { root.getString("map"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:5:6: seq: expected a string, got a list"),
                             configError([&] { root.getString("seq", "x"); }));
    }

    void testStringLists() {
        const ConfigNode root = load(
            "chain: [cloud_api, outbox]\n"
            "block:\n"
            "  - one\n"
            "  - two\n"
            "scalar: cloud_api\n"
            "nested: [a, [b]]\n"
            "empty: []\n");
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"cloud_api", "outbox"}), root.getStringList("chain"));
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"one", "two"}), root.getStringList("block"));
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>(), root.getStringList("empty"));
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>(), root.getStringList("absent"));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:5:9: scalar: expected a list, got 'cloud_api'"),
                             configError([&] { root.getStringList("scalar"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:6:13: nested[1]: expected a string, got a list"),
                             configError([&] { root.getStringList("nested"); }));
    }

    void testAbsentKeysGiveDefaults() {
        const ConfigNode root = load("server:\n  listen: x\n  empty:\n");
        const ConfigNode server = root.child("server");
        CPPUNIT_ASSERT_EQUAL(std::string("dflt"), server.getString("absent", "dflt"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), server.getInt("absent", 7));
        CPPUNIT_ASSERT_EQUAL(1.5, server.getDouble("absent", 1.5));
        CPPUNIT_ASSERT_EQUAL(true, server.getBool("absent", true));
        // A key written with no value counts as absent.
        CPPUNIT_ASSERT_EQUAL(std::string("dflt"), server.getString("empty", "dflt"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(9), server.getInt("empty", 9, 1, 10));
        CPPUNIT_ASSERT(!server.has("empty"));
        CPPUNIT_ASSERT(!server.has("absent"));
        CPPUNIT_ASSERT(server.has("listen"));
        // An absent section behaves as an empty mapping.
        const ConfigNode missing = root.child("workers");
        CPPUNIT_ASSERT(!missing.isDefined());
        CPPUNIT_ASSERT_EQUAL(std::string("workers"), missing.path());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(4), missing.getInt("threads", 4));
        CPPUNIT_ASSERT_EQUAL(std::string("workers.deeper.x"), missing.child("deeper").child("x").path());
        missing.allowOnly({"threads"});
        missing.requireMap();
        CPPUNIT_ASSERT(missing.items().empty());
        CPPUNIT_ASSERT(missing.entries().empty());
    }

    void testMissingRequiredKeyPointsAtParent() {
        const ConfigNode root = load("a: 1\nserver:\n  threads: 4\n");
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:3:3: server: missing required key 'listen'"),
                             configError([&] { root.child("server").getString("listen"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:3:3: server: missing required key 'port'"),
                             configError([&] { root.child("server").getInt("port"); }));
        // An absent section points at its parent: the root, which starts at 1:1.
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:1:1: database: missing required key 'url'"),
                             configError([&] { root.child("database").getString("url"); }));
    }

    void testChildOfScalarIsAnError() {
        const ConfigNode root = load("first: 1\nserver: 5\n");
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:9: server: expected a mapping"),
                             configError([&] { root.child("server").getInt("threads", 1); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:9: server: expected a mapping, got '5'"),
                             configError([&] { root.child("server").allowOnly({"threads"}); }));
    }

    void testAllowOnlyNamesUnknownKeyAtItsLine() {
        const ConfigNode root = load(
            "server:\n"
            "  listen: \"127.0.0.1:8080\"\n"
            "  threads: 4\n"
            "  treads: 8\n");
        root.allowOnly({"server"});
        CPPUNIT_ASSERT_EQUAL(
            std::string("cfg.yaml:4:3: unknown key 'server.treads' (expected one of: listen, threads)"),
            configError([&] { root.child("server").allowOnly({"listen", "threads"}); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:1:1: unknown key 'server' (expected one of: database)"),
                             configError([&] { root.allowOnly({"database"}); }));
    }

    void testDuplicateKeyIsAnError() {
        // YAML requires unique keys; a repeated key must not be silently ignored.
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:4:3: duplicate key 'threads'"),
                             configError([] { load("server:\n  threads: 4\n  listen: x\n  threads: 8\n"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:3:1: duplicate key 'server'"),
                             configError([] { load("server: {}\nworkers: {}\nserver: {threads: 2}\n"); }));
        // The same key in different mappings is fine.
        const ConfigNode root = load("a:\n  x: 1\nb:\n  x: 2\n");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(2), root.child("b").getInt("x"));
    }

    void testEntriesAndItemsKeepOrderAndPaths() {
        const ConfigNode root = load("map:\n  zeta: 1\n  alpha: 2\nseq:\n  - x\n  - y\n");
        const auto entries = root.child("map").entries();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), entries.size());
        CPPUNIT_ASSERT_EQUAL(std::string("zeta"), entries[0].first);
        CPPUNIT_ASSERT_EQUAL(std::string("map.zeta"), entries[0].second.path());
        CPPUNIT_ASSERT_EQUAL(std::string("alpha"), entries[1].first);
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:3:10"), entries[1].second.where());
        const auto items = root.child("seq").items();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), items.size());
        CPPUNIT_ASSERT_EQUAL(std::string("seq[1]"), items[1].path());
        CPPUNIT_ASSERT_EQUAL(std::string("y"), items[1].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:6:5"), items[1].where());
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:3: map: expected a list, got a mapping"),
                             configError([&] { root.child("map").items(); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:5:3: seq: expected a mapping, got a list"),
                             configError([&] { root.child("seq").entries(); }));
    }

    void testMissingFile() {
        TempDir dir;
        const std::string file = dir.file("missing.yaml");
        CPPUNIT_ASSERT_EQUAL(file + ":1:1: cannot read configuration file: No such file or directory",
                             configError([&] { ConfigNode::loadFile(file); }));
    }

    void testLoadFile() {
        TempDir dir;
        const std::string file = dir.file("tawasul.yaml");
        writeFile(file, "server:\n  threads: 3\n  max: lots\n");
        const ConfigNode root = ConfigNode::loadFile(file);
        CPPUNIT_ASSERT_EQUAL(file, root.file());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3), root.child("server").getInt("threads"));
        CPPUNIT_ASSERT_EQUAL(file + ":3:8: server.max: expected an integer, got 'lots'",
                             configError([&] { root.child("server").getInt("max"); }));
    }

    void testYamlSyntaxError() {
        // yaml-cpp finds the unclosed flow sequence at the start of line 3.
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:3:1: end of sequence flow not found"),
                             configError([] { load("server:\n  listen: [a, b\n"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:1:5: illegal map value"), configError([] { load("a: b: c\n"); }));
        TempDir dir;
        const std::string file = dir.file("broken.yaml");
        writeFile(file, "ok: 1\nplugins:\n  load: {a: 1\n");
        CPPUNIT_ASSERT_EQUAL(file + ":4:1: end of map flow not found", configError([&] { ConfigNode::loadFile(file); }));
    }

    void testRootMustBeAMapping() {
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:1:1: the configuration must be a mapping"),
                             configError([] { load("- a\n- b\n"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:1:1: the configuration must be a mapping"),
                             configError([] { load("just text\n"); }));
    }

    void testEmptyDocumentIsAnEmptyMapping() {
        for (const std::string text : {"", "# only a comment\n"}) {
            const ConfigNode root = load(text);
            CPPUNIT_ASSERT(root.isMap());
            root.allowOnly({"server"});
            CPPUNIT_ASSERT_EQUAL(std::int64_t(4), root.child("server").getInt("threads", 4));
        }
    }

    // ---- host::HostConfig ------------------------------------------------------------------

    void testHostDefaults() {
        const HostConfig config = HostConfig::parse(load(""));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml"), config.file);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), config.server.host);
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(8080), config.server.port);
        CPPUNIT_ASSERT_EQUAL(128, config.server.threads);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3 * 1024 * 1024), config.server.maxBodyBytes);
        CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:8080"), config.server.publicUrl);
        CPPUNIT_ASSERT_EQUAL(std::string("sqlite:var/tawasul.db"), config.database.url);
        CPPUNIT_ASSERT_EQUAL(std::string("var/master.key"), config.secrets.keyFile);
        CPPUNIT_ASSERT_EQUAL(4, config.workers.threads);
        CPPUNIT_ASSERT_EQUAL(std::string("information"), config.logging.level);
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"127.0.0.1", "::1"}), config.metrics.allow);
        CPPUNIT_ASSERT(config.plugins.empty());
        CPPUNIT_ASSERT(config.dispatchChain.empty());
    }

    void testHostFullConfig() {
        ScopedEnv unset("TAWASUL_TEST_UNSET", std::nullopt);
        ScopedEnv db("TAWASUL_TEST_DB", std::string("postgresql://u:p@127.0.0.1:5432/tawasul"));
        const HostConfig config = HostConfig::parse(load(
            "server: { listen: \"0.0.0.0:9090\", threads: 8, max_body_bytes: 4096, public_url: \"https://t.example\" }\n"
            "database: { url: \"${TAWASUL_TEST_DB}\", max_sessions: 5 }\n"
            "secrets:  { key_file: \"/etc/tawasul/master.key\" }\n"
            "workers:  { threads: 0, lease_seconds: 60, max_attempts: 3 }\n"
            "logging:  { level: debug }\n"
            "metrics:  { allow: [10.0.0.1] }\n"
            "plugins:\n"
            "  dir: \"${TAWASUL_TEST_UNSET:-build/plugins}\"\n"
            "  load:\n"
            "    - webhook_receiver: { path: /webhooks/whatsapp }\n"
            "    - cloud_api: { messages_per_second: 80 }\n"
            "    - outbox: {}\n"
            "dispatch: { chain: [cloud_api, outbox] }\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("0.0.0.0"), config.server.host);
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(9090), config.server.port);
        CPPUNIT_ASSERT_EQUAL(8, config.server.threads);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(4096), config.server.maxBodyBytes);
        CPPUNIT_ASSERT_EQUAL(std::string("https://t.example"), config.server.publicUrl);
        CPPUNIT_ASSERT_EQUAL(std::string("postgresql://u:p@127.0.0.1:5432/tawasul"), config.database.url);
        CPPUNIT_ASSERT_EQUAL(5, config.database.maxSessions);
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/tawasul/master.key"), config.secrets.keyFile);
        CPPUNIT_ASSERT_EQUAL(0, config.workers.threads);
        CPPUNIT_ASSERT_EQUAL(60, config.workers.leaseSeconds);
        CPPUNIT_ASSERT_EQUAL(3, config.workers.maxAttempts);
        CPPUNIT_ASSERT_EQUAL(std::string("debug"), config.logging.level);
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"10.0.0.1"}), config.metrics.allow);
        CPPUNIT_ASSERT_EQUAL(std::string("build/plugins"), config.pluginDir);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), config.plugins.size());
        CPPUNIT_ASSERT_EQUAL(std::string("webhook_receiver"), config.plugins[0].name);
        CPPUNIT_ASSERT_EQUAL(std::string("/webhooks/whatsapp"), config.plugins[0].config.getString("path"));
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api"), config.plugins[1].name);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(80), config.plugins[1].config.getInt("messages_per_second"));
        CPPUNIT_ASSERT_EQUAL(std::string("outbox"), config.plugins[2].name);
        CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"cloud_api", "outbox"}), config.dispatchChain);
        // The default public URL follows the listen address.
        CPPUNIT_ASSERT_EQUAL(std::string("http://0.0.0.0:7000"),
                             HostConfig::parse(load("server: { listen: \"0.0.0.0:7000\" }\n")).server.publicUrl);
    }

    void testHostPublicUrlFollowsListenWhenEmpty() {
        // The shipped config says public_url: "${TAWASUL_PUBLIC_URL:-}": with only TAWASUL_LISTEN set,
        // the URL to paste into Meta must be the address that answers.
        CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:9321"),
                             HostConfig::parse(load("server: { listen: \"127.0.0.1:9321\", public_url: \"\" }\n")).server.publicUrl);
        // ... and says it was derived (the doctor tells the operator Meta cannot reach it); a set one was not.
        CPPUNIT_ASSERT(HostConfig::parse(load("server: { listen: \"127.0.0.1:9321\", public_url: \"\" }\n")).server.publicUrlDerived);
        CPPUNIT_ASSERT(HostConfig::parse(load("")).server.publicUrlDerived);
        CPPUNIT_ASSERT(!HostConfig::parse(load("server: { public_url: \"https://wa.example.dz\" }\n")).server.publicUrlDerived);
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:1:49: server.public_url: expected an http:// or https:// URL"),
                             configError([] { HostConfig::parse(load("server: { listen: \"127.0.0.1:9321\", public_url: \"wa.example.dz\" }\n")); }));
    }

    void testHostUnknownTopLevelKey() {
        CPPUNIT_ASSERT_EQUAL(
            std::string("cfg.yaml:3:1: unknown key 'servers' (expected one of: server, database, secrets, workers, "
                        "logging, metrics, plugins, dispatch, auth)"),
            configError([] { HostConfig::parse(load("server: {}\ndatabase: {}\nservers: {}\n")); }));
    }

    void testHostUnknownNestedKey() {
        CPPUNIT_ASSERT_EQUAL(
            std::string("cfg.yaml:3:3: unknown key 'workers.thread' (expected one of: threads, lease_seconds, max_attempts)"),
            configError([] { HostConfig::parse(load("workers:\n  lease_seconds: 30\n  thread: 2\n")); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:11: database: expected a mapping, got 'sqlite:x.db'"),
                             configError([] { HostConfig::parse(load("server: {}\ndatabase: sqlite:x.db\n")); }));
    }

    void testHostWrongType() {
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:3:12: server.threads: expected an integer, got 'many'"),
                             configError([] {
                                 HostConfig::parse(load("server:\n  listen: \"127.0.0.1:8080\"\n  threads: many\n"));
                             }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:1:26: workers.max_attempts: expected an integer, got 'eight'"),
                             configError([] { HostConfig::parse(load("workers: { max_attempts: eight }\n")); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:1:19: metrics.allow: expected a list, got '127.0.0.1'"),
                             configError([] { HostConfig::parse(load("metrics: { allow: 127.0.0.1 }\n")); }));
    }

    void testHostOutOfRange() {
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:12: server.threads: must be between 1 and 1024, got 0"),
                             configError([] { HostConfig::parse(load("server:\n  threads: 0\n")); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:19: server.max_body_bytes: must be between 1024 and 1073741824, got 10"),
                             configError([] { HostConfig::parse(load("server:\n  max_body_bytes: 10\n")); }));
    }

    void testHostBadListen() {
        auto listenError = [](const std::string& listen) {
            return configError([&] { HostConfig::parse(load("server:\n  listen: \"" + listen + "\"\n")); });
        };
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:11: server.listen: expected HOST:PORT, got 'localhost'"),
                             listenError("localhost"));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:11: server.listen: expected HOST:PORT, got ':8080'"),
                             listenError(":8080"));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:11: server.listen: expected HOST:PORT, got '127.0.0.1:'"),
                             listenError("127.0.0.1:"));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:11: server.listen: port must be a number, got '80x'"),
                             listenError("127.0.0.1:80x"));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:11: server.listen: port must be a number, got '-1'"),
                             listenError("127.0.0.1:-1"));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:11: server.listen: port must be 0-65535, got 65536"),
                             listenError("127.0.0.1:65536"));
        // A port too long for `long` is the same configuration error, not a stray std::out_of_range.
        CPPUNIT_ASSERT_EQUAL(
            std::string("cfg.yaml:2:11: server.listen: port must be 0-65535, got 99999999999999999999"),
            listenError("127.0.0.1:99999999999999999999"));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:11: server.listen: expected a string, got a list"),
                             configError([] { HostConfig::parse(load("server:\n  listen: [a, b]\n")); }));
    }

    void testHostListenIpv6() {
        const HostConfig config = HostConfig::parse(load("server: { listen: \"[::1]:9000\" }\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("::1"), config.server.host);
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(9000), config.server.port);
        const HostConfig zero = HostConfig::parse(load("server: { listen: \"127.0.0.1:0\" }\n"));
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), zero.server.port);
    }

    void testHostPluginListedTwice() {
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:6:7: plugins.load[2]: plugin 'outbox' is listed twice"),
                             configError([] {
                                 HostConfig::parse(load(
                                     "plugins:\n"
                                     "  dir: build/plugins\n"
                                     "  load:\n"
                                     "    - outbox: {}\n"
                                     "    - cloud_api\n"
                                     "    - outbox\n"));
                             }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:4:7: plugins.load[1]: plugin 'cloud_api' is listed twice"),
                             configError([] {
                                 HostConfig::parse(load(
                                     "plugins:\n"
                                     "  load:\n"
                                     "    - cloud_api\n"
                                     "    - cloud_api: { messages_per_second: 10 }\n"));
                             }));
    }

    void testHostBadPluginEntries() {
        CPPUNIT_ASSERT_EQUAL(
            std::string("cfg.yaml:3:7: plugins.load[0]: each plugin entry is one 'name: {config}' pair"),
            configError([] { HostConfig::parse(load("plugins:\n  load:\n    - { outbox: {}, cloud_api: {} }\n")); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:3:15: plugins.load[0].outbox: expected a mapping, got '5'"),
                             configError([] { HostConfig::parse(load("plugins:\n  load:\n    - outbox: 5\n")); }));
        CPPUNIT_ASSERT_EQUAL(
            std::string("cfg.yaml:4:7: plugins.load[1]: plugin names use letters, digits and '_', got 'cloud-api'"),
            configError([] { HostConfig::parse(load("plugins:\n  load:\n    - outbox\n    - cloud-api\n")); }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:2:9: plugins.load: expected a list, got 'outbox'"),
                             configError([] { HostConfig::parse(load("plugins:\n  load: outbox\n")); }));
    }

    void testHostDispatchNamesUnloadedPlugin() {
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:6:22: dispatch.chain[1]: 'outbox' is not a loaded plugin"),
                             configError([] {
                                 HostConfig::parse(load(
                                     "plugins:\n"
                                     "  load:\n"
                                     "    - cloud_api: {}\n"
                                     "    - admin_inbox\n"
                                     "dispatch:\n"
                                     "  chain: [cloud_api, outbox]\n"));
                             }));
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:3:5: dispatch.chain[0]: 'cloud_api' is not a loaded plugin"),
                             configError([] { HostConfig::parse(load("dispatch:\n  chain:\n  - cloud_api\n")); }));
    }

    void testHostBareAndMappedPluginEntries() {
        const HostConfig config = HostConfig::parse(load(
            "plugins:\n"
            "  load:\n"
            "    - outbox\n"
            "    - cloud_api: { graph_url: \"https://graph.facebook.com\" }\n"
            "    - admin_inbox:\n"
            "    - inbound_router: {}\n"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), config.plugins.size());
        CPPUNIT_ASSERT_EQUAL(std::string("outbox"), config.plugins[0].name);
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api"), config.plugins[1].name);
        CPPUNIT_ASSERT_EQUAL(std::string("admin_inbox"), config.plugins[2].name);
        CPPUNIT_ASSERT_EQUAL(std::string("inbound_router"), config.plugins[3].name);
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:3:7"), config.plugins[0].where.where());
        CPPUNIT_ASSERT_EQUAL(std::string("cfg.yaml:4:7"), config.plugins[1].where.where());
        CPPUNIT_ASSERT_EQUAL(std::string("https://graph.facebook.com"), config.plugins[1].config.getString("graph_url"));
        CPPUNIT_ASSERT_EQUAL(std::string("plugins.load[1].cloud_api"), config.plugins[1].config.path());
        // A bare `- name` has no configuration: the plugin sees an empty one, exactly as for `- name:`
        // and `- name: {}`, so its getters give their defaults and allowOnly() accepts it.
        for (std::size_t i : {std::size_t(0), std::size_t(2), std::size_t(3)}) {
            const ConfigNode& pluginConfig = config.plugins[i].config;
            CPPUNIT_ASSERT(pluginConfig.entries().empty());
            CPPUNIT_ASSERT(!pluginConfig.has("anything"));
            pluginConfig.allowOnly({"templates_dir"});
            CPPUNIT_ASSERT_EQUAL(std::string("templates"), pluginConfig.getString("templates_dir", "templates"));
            CPPUNIT_ASSERT_EQUAL(std::int64_t(80), pluginConfig.getInt("messages_per_second", 80, 1, 1000));
        }
        CPPUNIT_ASSERT_EQUAL(std::string("plugins.load[0].outbox"), config.plugins[0].config.path());
    }

    void testHostBadLogLevel() {
        CPPUNIT_ASSERT_EQUAL(
            std::string("cfg.yaml:2:10: logging.level: expected one of fatal, critical, error, warning, notice, "
                        "information, debug, trace"),
            configError([] { HostConfig::parse(load("logging:\n  level: verbose\n")); }));
    }

    void testHostLoadFromFile() {
        TempDir dir;
        const std::string file = dir.file("tawasul.yaml");
        writeFile(file, "server:\n  listen: \"127.0.0.1:8181\"\n");
        const HostConfig config = HostConfig::load(file);
        CPPUNIT_ASSERT_EQUAL(file, config.file);
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(8181), config.server.port);
        writeFile(file, "server:\n  listen: \"127.0.0.1:8181\"\n  threads: many\n");
        CPPUNIT_ASSERT_EQUAL(file + ":3:12: server.threads: expected an integer, got 'many'",
                             configError([&] { HostConfig::load(file); }));
        const std::string missing = dir.file("nope.yaml");
        CPPUNIT_ASSERT_EQUAL(missing + ":1:1: cannot read configuration file: No such file or directory",
                             configError([&] { HostConfig::load(missing); }));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConfigTest);
