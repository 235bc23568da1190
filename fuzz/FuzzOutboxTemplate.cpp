// Outbox template bodies, typed by admins and rendered with values from contacts: validate, list
// the variables, render (with every value, then with one missing), and the wa.me link.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "OutboxTemplates.hpp"

using tawasul::plugins::outbox::OutboxTemplate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(reinterpret_cast<const char*>(data), size);
    (void)tawasul::plugins::outbox::waMeLink("+213555123456", body);
    if (OutboxTemplate::validate(body)) return 0;  // refused, with a reason
    const auto variables = OutboxTemplate::variables(body);
    std::map<std::string, std::string> values;
    for (const auto& name : variables) values[name] = "{{" + name + "}} \xD8\xB3";
    std::string error;
    if (!OutboxTemplate::render(body, values, error)) __builtin_trap();  // every value given: renders
    if (!variables.empty()) {
        values.erase(variables.front());
        error.clear();
        if (OutboxTemplate::render(body, values, error) || error.empty()) __builtin_trap();  // one missing: named
    }
    return 0;
}
