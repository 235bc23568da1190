// `tawasul user` and `tawasul role` through the real binary: accounts, passwords from stdin or
// generated once, grants, and every kind of misuse answered in one line with exit status 2 and
// nothing written.
#include <cppunit/extensions/HelperMacros.h>

#include "access/Auth.hpp"
#include "db/SqlDatabase.hpp"
#include "TestSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;
using namespace Poco::Data::Keywords;

namespace {

class Installation {
public:
    Installation() {
        writeFile(file_, testConfigYaml(dir_, TAWASUL_PLUGIN_DIR, "    - outbox: {}\n"));
        CPPUNIT_ASSERT_EQUAL(0, run({"migrate"}).first);
    }
    std::pair<int, std::string> run(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{TAWASUL_BINARY, "--config", file_};
        argv.insert(argv.end(), args.begin(), args.end());
        return runCommand(argv);
    }
    // The same, with `input` on stdin.
    std::pair<int, std::string> runWithInput(const std::string& input, const std::string& args) const {
        writeFile(dir_.file("stdin.txt"), input);
        return runCommand({"/bin/sh", "-c", std::string(TAWASUL_BINARY) + " --config '" + file_ + "' " + args + " < '" + dir_.file("stdin.txt") + "'"});
    }
    int count(const std::string& sql) const {
        host::DatabaseOptions options;
        options.url = "sqlite:" + dir_.file("tawasul.db");
        host::SqlDatabase database(options);
        Poco::Data::Session session = database.session();
        int n = 0;
        session << sql, into(n), now;
        return n;
    }
    std::string passwordHash(const std::string& email) const {
        host::DatabaseOptions options;
        options.url = "sqlite:" + dir_.file("tawasul.db");
        host::SqlDatabase database(options);
        Poco::Data::Session session = database.session();
        std::string hash, address = email;
        session << "SELECT password_hash FROM users WHERE email = $1", use(address), into(hash), now;
        return hash;
    }

private:
    TempDir dir_;
    std::string file_ = dir_.file("t.yaml");
};

void assertMisuse(const std::pair<int, std::string>& result, const std::string& expected) {
    CPPUNIT_ASSERT_EQUAL_MESSAGE(result.second, 2, result.first);
    CPPUNIT_ASSERT_EQUAL(expected + "\n", result.second);
}

}  // namespace

class UserCliTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(UserCliTest);
    CPPUNIT_TEST(addWithGeneratedAndStdinPasswordsListGrantPasswd);
    CPPUNIT_TEST(misuseIsOneLineExitTwoAndWritesNothing);
    CPPUNIT_TEST(roleGrantAndRevoke);
    CPPUNIT_TEST_SUITE_END();

public:
    void addWithGeneratedAndStdinPasswordsListGrantPasswd() {
        Installation install;
        auto [status, output] = install.run({"user", "add", "--email", "Amina@Example.DZ", "--name", "Amina", "--role", "admin"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
        const auto at = output.find("password: ");
        CPPUNIT_ASSERT_MESSAGE(output, at != std::string::npos);
        const std::string generated = output.substr(at + 10, output.find('\n', at) - at - 10);
        CPPUNIT_ASSERT_EQUAL(std::size_t(24), generated.size());
        const std::string hash = install.passwordHash("amina@example.dz");
        CPPUNIT_ASSERT_MESSAGE(hash, hash.rfind("$argon2id$", 0) == 0);
        CPPUNIT_ASSERT(host::Auth::verifyPassword(hash, generated));
        CPPUNIT_ASSERT(!host::Auth::verifyPassword(hash, generated + "x"));

        auto added = install.runWithInput("a long stdin password\n",
                                          "user add --email karim@example.dz --name 'Karim B' --role agent --password-stdin");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(added.second, 0, added.first);
        CPPUNIT_ASSERT_MESSAGE("a password from stdin is not printed", added.second.find("password") == std::string::npos);
        CPPUNIT_ASSERT(host::Auth::verifyPassword(install.passwordHash("karim@example.dz"), "a long stdin password"));

        CPPUNIT_ASSERT_EQUAL(0, install.run({"user", "grant", "--email", "karim@example.dz", "--role", "viewer"}).first);
        CPPUNIT_ASSERT_EQUAL(0, install.run({"user", "grant", "--email", "karim@example.dz", "--role", "viewer"}).first);  // twice: no-op
        auto [listed, list] = install.run({"user", "list"});
        CPPUNIT_ASSERT_EQUAL(0, listed);
        CPPUNIT_ASSERT_MESSAGE(list, list.find("karim@example.dz") != std::string::npos && list.find("agent,viewer") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE("no hash is listed", list.find("argon2") == std::string::npos);

        auto changed = install.runWithInput("the new password 123\n", "user passwd --email KARIM@example.dz");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(changed.second, 0, changed.first);
        CPPUNIT_ASSERT(host::Auth::verifyPassword(install.passwordHash("karim@example.dz"), "the new password 123"));
    }

    void misuseIsOneLineExitTwoAndWritesNothing() {
        Installation install;
        assertMisuse(install.run({"user"}), "tawasul: usage: " + std::string("tawasul user add --email E --name N --role R [--password-stdin] | "
                                                                            "user passwd --email E | user grant --email E --role R | user list") +
                                               " (see tawasul --help)");
        assertMisuse(install.run({"user", "add", "--email", "a@b.dz", "--role", "admin"}),
                     "tawasul: user add: --name is required (see tawasul --help)");
        assertMisuse(install.run({"user", "add", "--email", "a@b.dz", "--name", "A", "--role", "boss"}),
                     "tawasul: user add: no role 'boss' (roles: admin, agent, viewer) (see tawasul --help)");
        assertMisuse(install.run({"user", "add", "--email", "not-an-address", "--name", "A", "--role", "admin"}),
                     "tawasul: user add: 'not-an-address' is not an e-mail address (see tawasul --help)");
        assertMisuse(install.runWithInput("short\n", "user add --email a@b.dz --name A --role admin --password-stdin"),
                     "tawasul: user add: the password must have at least 10 characters (see tawasul --help)");
        assertMisuse(install.runWithInput("", "user add --email a@b.dz --name A --role admin --password-stdin"),
                     "tawasul: no password on standard input (see tawasul --help)");
        assertMisuse(install.run({"user", "frobnicate"}),
                     "tawasul: user: unknown action 'frobnicate' (usage: tawasul user add --email E --name N --role R [--password-stdin] | "
                     "user passwd --email E | user grant --email E --role R | user list) (see tawasul --help)");
        assertMisuse(install.run({"user", "list", "--role", "admin"}), "tawasul: user list: --role does not apply here (see tawasul --help)");
        CPPUNIT_ASSERT_EQUAL(0, install.count("SELECT COUNT(*) FROM users"));

        CPPUNIT_ASSERT_EQUAL(0, install.runWithInput("long enough password\n", "user add --email a@b.dz --name A --role admin --password-stdin").first);
        assertMisuse(install.runWithInput("long enough password\n", "user add --email A@B.dz --name A --role admin --password-stdin"),
                     "tawasul: user add: a user with e-mail 'a@b.dz' already exists (see tawasul --help)");
        assertMisuse(install.run({"user", "grant", "--email", "nobody@b.dz", "--role", "admin"}),
                     "tawasul: user grant: no user with e-mail 'nobody@b.dz' (see tawasul --help)");
        CPPUNIT_ASSERT_EQUAL(1, install.count("SELECT COUNT(*) FROM users"));
        CPPUNIT_ASSERT_EQUAL(1, install.count("SELECT COUNT(*) FROM user_roles"));
    }

    void roleGrantAndRevoke() {
        Installation install;
        const std::string viewerHasSettings =
            "SELECT COUNT(*) FROM role_permissions rp JOIN roles r ON r.id = rp.role_id JOIN permissions p ON p.id = rp.permission_id "
            "WHERE r.name = 'viewer' AND p.name = 'whatsapp.settings.manage'";
        CPPUNIT_ASSERT_EQUAL(0, install.count(viewerHasSettings));
        CPPUNIT_ASSERT_EQUAL(0, install.run({"role", "grant", "--role", "viewer", "--permission", "whatsapp.settings.manage"}).first);
        CPPUNIT_ASSERT_EQUAL(1, install.count(viewerHasSettings));
        auto [listed, list] = install.run({"role", "list"});
        CPPUNIT_ASSERT_MESSAGE(list, list.find("viewer          whatsapp.settings.manage") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(0, install.run({"role", "revoke", "--role", "viewer", "--permission", "whatsapp.settings.manage"}).first);
        CPPUNIT_ASSERT_EQUAL(0, install.count(viewerHasSettings));
        assertMisuse(install.run({"role", "grant", "--role", "viewer", "--permission", "no.such"}),
                     "tawasul: role grant: no permission 'no.such' (plugins declare theirs in their migrations) (see tawasul --help)");
        assertMisuse(install.run({"role", "grant", "--role", "viewer"}), "tawasul: role grant: --permission is required (see tawasul --help)");
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(UserCliTest);
