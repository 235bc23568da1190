// Cookie headers and Accept-Language, read on every admin request before anyone is signed in.
// Input: header values separated by newlines; the last line is the cookie name looked up.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "access/Auth.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    tawasul::sdk::HttpRequest request;
    std::istringstream lines(input);
    std::string line, name = tawasul::host::kSessionCookie;
    while (std::getline(lines, line)) {
        request.headers.emplace_back("Cookie", line);
        name = line.substr(0, 32);
    }
    for (const std::string& wanted : {std::string(tawasul::host::kSessionCookie), std::string(tawasul::host::kLoginCsrfCookie), name}) {
        const std::string value = tawasul::host::cookieValue(request, wanted);
        if (value.size() > input.size()) __builtin_trap();
    }
    const std::string locale = tawasul::host::localeFromAcceptLanguage(input);
    if (!tawasul::host::supportedLocale(locale)) __builtin_trap();
    return 0;
}
