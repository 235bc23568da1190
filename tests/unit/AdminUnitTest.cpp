// The admin foundation's pieces on their own: catalogs (complete in every language, for every
// catalog in the tree), formatting, templates (escaping, FILE:LINE:COL errors), cookies and forms,
// and the router's rule that pages under /admin/ are Session routes.
#include <cppunit/extensions/HelperMacros.h>

#include <filesystem>

#include <Poco/JSON/Object.h>

#include "ui/AdminPages.hpp"
#include "access/Auth.hpp"
#include "ui/I18n.hpp"
#include "http/Router.hpp"
#include "TestSupport.hpp"
#include "tawasul/sdk/Config.hpp"

using namespace tawasul;
using tawasul::test::TempDir;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Every lang/ folder in the source tree: the host's, each plugin's, and the test plugins'.
std::vector<std::filesystem::path> catalogFolders() {
    std::vector<std::filesystem::path> folders;
    const std::filesystem::path root = TAWASUL_SOURCE_DIR;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        const auto path = entry.path();
        const std::string text = path.string();
        if (contains(text, "/build/") || contains(text, "/.git/") || contains(text, "/node_modules/")) continue;
        if (entry.is_directory() && path.filename() == "lang") folders.push_back(path);
    }
    return folders;
}

}  // namespace

class AdminUnitTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(AdminUnitTest);
    CPPUNIT_TEST(everyCatalogHasEveryKeyInEveryLanguage);
    CPPUNIT_TEST(missingKeyIsReportedAndFallsBackToEnglish);
    CPPUNIT_TEST(catalogErrorsPointAtTheLine);
    CPPUNIT_TEST(placeholdersAndFormats);
    CPPUNIT_TEST(templateEscapesAndReportsParseErrorsWithTheLine);
    CPPUNIT_TEST(cookiesFormsAndLanguages);
    CPPUNIT_TEST(titlesLoseBidiControlsAndControlCharacters);
    CPPUNIT_TEST(routesUnderAdminMustBeSessionRoutes);
    CPPUNIT_TEST_SUITE_END();

public:
    void everyCatalogHasEveryKeyInEveryLanguage() {
        const auto folders = catalogFolders();
        CPPUNIT_ASSERT_MESSAGE("the host catalog is found", std::any_of(folders.begin(), folders.end(), [](const auto& f) {
                                   return f.parent_path().filename() == "host";
                               }));
        std::string problems;
        for (const auto& folder : folders) {
            const auto catalog = host::Catalog::load(folder, folder.parent_path().filename().string());
            for (const auto& locale : sdk::supportedLocales())
                if (!std::filesystem::exists(folder / (locale + ".yaml"))) problems += (folder / (locale + ".yaml")).string() + ": missing file\n";
            for (const auto& problem : catalog.problems()) problems += problem + "\n";
        }
        CPPUNIT_ASSERT_EQUAL(std::string(), problems);
    }

    void missingKeyIsReportedAndFallsBackToEnglish() {
        TempDir dir;
        test::writeFile(dir.file("en.yaml"), "a:\n  b: Hello {name}\nonly_en: x\n");
        test::writeFile(dir.file("fr.yaml"), "a:\n  b: Bonjour {name}\n");
        test::writeFile(dir.file("ar.yaml"), "a:\n  b: مرحبا {name}\nonly_en: س\n");
        const auto catalog = host::Catalog::load(dir.path(), "test");
        const auto problems = catalog.problems();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), problems.size());
        CPPUNIT_ASSERT_EQUAL(dir.file("fr.yaml") + ": missing 'only_en'", problems.front());
        CPPUNIT_ASSERT_EQUAL(std::string("x"), catalog.text("fr", "only_en"));
        CPPUNIT_ASSERT_EQUAL(std::string("Bonjour Amina"), catalog.text("fr", "a.b", {{"name", "Amina"}}));
        CPPUNIT_ASSERT_EQUAL(std::string("no.such.key"), catalog.text("ar", "no.such.key"));
    }

    void catalogErrorsPointAtTheLine() {
        TempDir dir;
        test::writeFile(dir.file("en.yaml"), "ok: yes\nBad-Key: no\n");
        try {
            host::Catalog::load(dir.path(), "test");
            CPPUNIT_FAIL("a key with capitals and '-' is refused");
        } catch (const sdk::ConfigError& error) {
            CPPUNIT_ASSERT_MESSAGE(error.what(), contains(error.what(), dir.file("en.yaml") + ":2:"));
            CPPUNIT_ASSERT_MESSAGE(error.what(), contains(error.what(), "'Bad-Key'"));
        }
        test::writeFile(dir.file("en.yaml"), "list:\n  - a\n");
        try {
            host::Catalog::load(dir.path(), "test");
            CPPUNIT_FAIL("a list is not a catalog entry");
        } catch (const sdk::ConfigError& error) {
            CPPUNIT_ASSERT_MESSAGE(error.what(), contains(error.what(), dir.file("en.yaml") + ":2:"));
        }
    }

    void placeholdersAndFormats() {
        CPPUNIT_ASSERT_EQUAL(std::string("5 min, {other}"), host::fillPlaceholders("{n} min, {other}", {{"n", "5"}}));
        host::Catalog catalog;
        CPPUNIT_ASSERT_EQUAL(std::string("1,234,567"), catalog.number("en", 1234567));
        CPPUNIT_ASSERT_EQUAL(std::string("1\u202F234\u202F567"), catalog.number("fr", 1234567));
        CPPUNIT_ASSERT_EQUAL(std::string("1.234.567"), catalog.number("ar", 1234567));
        CPPUNIT_ASSERT_EQUAL(std::string("-999"), catalog.number("en", -999));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), catalog.number("ar", 0));
        CPPUNIT_ASSERT(catalog.rightToLeft("ar"));
        CPPUNIT_ASSERT(!catalog.rightToLeft("fr"));
        // 2026-03-05 12:00 UTC: the date part does not depend on the host's zone by more than a day.
        const std::string ar = catalog.dateTime("ar", 1772712000);
        CPPUNIT_ASSERT_MESSAGE(ar, contains(ar, "مارس 2026"));
        CPPUNIT_ASSERT_MESSAGE("Western digits in Arabic", ar.find_first_of("0123456789") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(catalog.dateTime("fr", 1772712000), contains(catalog.dateTime("fr", 1772712000), "mars 2026"));
        CPPUNIT_ASSERT_MESSAGE(catalog.dateTime("en", 1772712000), contains(catalog.dateTime("en", 1772712000), "Mar 2026"));
    }

    void templateEscapesAndReportsParseErrorsWithTheLine() {
        TempDir dir;
        std::filesystem::create_directories(dir.path() / "templates");
        test::writeFile(dir.file("templates/ok.mustache"), "<p>{{name}}</p><a title='{{quote}}'>{{#items}}[{{.}}]{{/items}}</a>");
        test::writeFile(dir.file("templates/broken.mustache"), "<p>\n  {{#open}}\n</p>\n");
        try {
            host::TemplateSet::load(dir.path() / "templates");
            CPPUNIT_FAIL("an unclosed section is refused at load");
        } catch (const sdk::ConfigError& error) {
            CPPUNIT_ASSERT_MESSAGE(error.what(), contains(error.what(), dir.file("templates/broken.mustache") + ":2:3: "));
            CPPUNIT_ASSERT_MESSAGE(error.what(), contains(error.what(), "open"));
        }
        std::filesystem::remove(dir.file("templates/broken.mustache"));
        const auto set = host::TemplateSet::load(dir.path() / "templates");
        Poco::JSON::Object model;
        model.set("name", "<script>alert('x')</script>");
        model.set("quote", "' onmouseover='x");
        Poco::JSON::Array items;
        items.add("a&b");
        items.add(42);
        model.set("items", items);
        kainjow::mustache::mustache copy = *set.find("ok");
        const std::string html = copy.render(host::toMustache(model));
        CPPUNIT_ASSERT_MESSAGE(html, !contains(html, "<script>"));
        CPPUNIT_ASSERT_MESSAGE(html, contains(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        CPPUNIT_ASSERT_MESSAGE(html, contains(html, "title='&#39; onmouseover=&#39;x'"));
        CPPUNIT_ASSERT_MESSAGE(html, contains(html, "[a&amp;b][42]"));
    }

    void titlesLoseBidiControlsAndControlCharacters() {
        // RLO, LRO, RLE, LRE, PDF, LRI, RLI, FSI, PDI, LRM, RLM, ALM, and C0 controls go; letters of
        // either direction, digits and ordinary punctuation stay.
        CPPUNIT_ASSERT_EQUAL(std::string("gnp.exe"), host::withoutBidiControls("\xE2\x80\xAEgnp.exe"));
        CPPUNIT_ASSERT_EQUAL(std::string("abc"), host::withoutBidiControls("\xE2\x80\xAD" "a\xE2\x80\xAB" "b\xE2\x80\xAA\xE2\x80\xAC" "c"));
        CPPUNIT_ASSERT_EQUAL(std::string("xy"), host::withoutBidiControls("\xE2\x81\xA6x\xE2\x81\xA7\xE2\x81\xA8\xE2\x81\xA9y"));
        CPPUNIT_ASSERT_EQUAL(std::string("ab"), host::withoutBidiControls("a\xE2\x80\x8E\xE2\x80\x8F\xD8\x9C\x1b\n\tb"));
        const std::string arabic = "\xD8\xA3\xD9\x85\xD9\x8A\xD9\x86\xD8\xA9 Benali 2026 \xC2\xB7 Tawasul";
        CPPUNIT_ASSERT_EQUAL(arabic, host::withoutBidiControls(arabic));
        CPPUNIT_ASSERT_EQUAL(std::string("a\xEF\xBF\xBD" "b"), host::withoutBidiControls("a\xFF" "b"));
        CPPUNIT_ASSERT_EQUAL(std::string(), host::withoutBidiControls(""));
    }

    void cookiesFormsAndLanguages() {
        sdk::HttpRequest request;
        request.headers = {{"cookie", "a=1; tawasul_session=abc; tawasul_session_x=no"}};
        CPPUNIT_ASSERT_EQUAL(std::string("abc"), host::cookieValue(request, "tawasul_session"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), host::cookieValue(request, "tawasul"));
        CPPUNIT_ASSERT_EQUAL(std::string("fr"), host::localeFromAcceptLanguage("de-DE,fr-DZ;q=0.9,ar;q=0.8"));
        CPPUNIT_ASSERT_EQUAL(std::string("ar"), host::localeFromAcceptLanguage("fr;q=0.5, ar-DZ"));
        CPPUNIT_ASSERT_EQUAL(std::string("en"), host::localeFromAcceptLanguage("de, es;q=0.5"));
        CPPUNIT_ASSERT_EQUAL(std::string("en"), host::localeFromAcceptLanguage(""));
        CPPUNIT_ASSERT_EQUAL(std::string("amina@example.dz"), host::Auth::normalizeEmail("  Amina@Example.DZ "));
        CPPUNIT_ASSERT_THROW(host::Auth::normalizeEmail("no-at-sign"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(host::Auth::normalizeEmail("a@b@c"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(host::Auth::checkPassword("short"), std::invalid_argument);
    }

    void routesUnderAdminMustBeSessionRoutes() {
        host::Router router;
        auto handler = [](const sdk::HttpRequest&, sdk::HttpResponse&) {};
        const auto open = sdk::RouteOptions::open(sdk::RouteStyle::Page);
        try {
            router.add("p", "GET", "/admin/secret", handler, open);
            CPPUNIT_FAIL("a public route under /admin/ is refused");
        } catch (const std::invalid_argument& error) {
            CPPUNIT_ASSERT_EQUAL(std::string("route GET /admin/secret is under /admin/ and must be a Session route with a permission "
                                             "(RouteOptions::session)"),
                                 std::string(error.what()));
        }
        CPPUNIT_ASSERT_THROW(router.add("p", "GET", "/admin", handler, open), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(router.add("p", "GET", "/admin/x", handler, sdk::RouteOptions::token("x.y")), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(router.add("p", "GET", "/admin/x", handler, sdk::RouteOptions::session(sdk::RouteStyle::Page, "")),
                             std::invalid_argument);
        CPPUNIT_ASSERT_THROW(router.addStream("p", "/admin/s", [](const sdk::HttpRequest&, std::shared_ptr<sdk::EventStream>) {}, {}),
                             std::invalid_argument);
        // The exceptions: the sign-in page, static files, legacy redirects; and anything outside /admin/.
        router.add("p", "GET", "/admin/login", handler, open);
        router.add("p", "GET", "/admin/static/{path...}", handler, open);
        router.add("p", "GET", "/admin/whatsapp/{rest...}", handler, open);
        router.add("p", "GET", "/administration", handler, open);
        router.add("p", "GET", "/admin/x", handler, sdk::RouteOptions::session(sdk::RouteStyle::Page, "x.view"));
        router.addStream("p", "/admin/s", [](const sdk::HttpRequest&, std::shared_ptr<sdk::EventStream>) {},
                         sdk::RouteOptions::session(sdk::RouteStyle::Api, "x.view"));
        host::RouteMatch match;
        CPPUNIT_ASSERT(router.match("GET", "/admin/s", match) == host::Router::Outcome::Found);
        CPPUNIT_ASSERT(match.route->stream);
        CPPUNIT_ASSERT(!match.route->handler);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AdminUnitTest);
