#pragma once
// Admin pages: translations from the plugin's own catalogs and Mustache templates rendered inside
// the host's shared layout. Each plugin gets its own Translator and PageRenderer from HostContext,
// reading its lang/<locale>.yaml and templates/<name>.mustache.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "tawasul/sdk/Api.hpp"
#include "tawasul/sdk/Http.hpp"

namespace tawasul::sdk {

inline const std::vector<std::string>& supportedLocales() {
    static const std::vector<std::string> locales{"en", "fr", "ar"};
    return locales;
}

class TAWASUL_SDK_API Translator {
public:
    virtual ~Translator();
    // The plugin's string for `key` in `locale`, with `{name}` placeholders replaced from `args`.
    // A key missing in the locale falls back to English, then to the key itself (and is logged).
    virtual std::string text(const std::string& locale, const std::string& key,
                             const std::map<std::string, std::string>& args = {}) const = 0;
    virtual bool rightToLeft(const std::string& locale) const = 0;
    // Dates and numbers as the locale writes them (the host's timezone).
    virtual std::string dateTime(const std::string& locale, std::int64_t epochSeconds) const = 0;
    virtual std::string number(const std::string& locale, std::int64_t value) const = 0;
};

class TAWASUL_SDK_API PageRenderer {
public:
    virtual ~PageRenderer();
    // Renders the plugin's templates/<templateName>.mustache with `model` inside the shared layout
    // and writes a 200 (or `status`) HTML response. Every {{value}} is HTML-escaped. The host adds
    // to the model: `t` (the plugin's catalog in the request's locale), `user`, `csrf_token`,
    // `lang`, `dir` ("ltr"/"rtl") and the navigation.
    virtual void render(const HttpRequest& request, HttpResponse& response, const std::string& templateName,
                        const std::string& title, const Poco::JSON::Object& model, int status = 200) = 0;
};

}  // namespace tawasul::sdk
