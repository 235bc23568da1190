#include "tawasul/whatsapp/Templates.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace tawasul::sdk {
namespace {

struct Token {
    std::size_t begin = 0, end = 0;  // of "{{...}}"
    std::string name;
};

bool isNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool isNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool isNumber(const std::string& name) { return !name.empty() && std::isdigit(static_cast<unsigned char>(name[0])); }

// Splits a text into its {{variable}} tokens; an error for anything malformed.
std::vector<Token> scan(const std::string& text, std::string& error) {
    std::vector<Token> tokens;
    std::size_t at = 0;
    while (true) {
        const std::size_t open = text.find("{{", at);
        const std::size_t stray = text.find("}}", at);
        if (stray != std::string::npos && (open == std::string::npos || stray < open)) {
            error = "'}}' without '{{' at character " + std::to_string(stray + 1);
            return {};
        }
        if (open == std::string::npos) break;
        const std::size_t close = text.find("}}", open + 2);
        if (close == std::string::npos) {
            error = "'{{' without '}}' at character " + std::to_string(open + 1);
            return {};
        }
        std::string name = text.substr(open + 2, close - open - 2);
        // Trim spaces: "{{ name }}" is common in hand-written text.
        name.erase(0, name.find_first_not_of(' '));
        name.erase(name.find_last_not_of(' ') + 1);
        const bool number = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        const bool word = !name.empty() && isNameStart(name[0]) && std::all_of(name.begin(), name.end(), isNameChar);
        if (!number && !word) {
            error = "'{{" + text.substr(open + 2, close - open - 2) + "}}' is not a variable: use {{1}}, {{2}}... or {{name}}";
            return {};
        }
        if (number && (name[0] == '0')) {
            error = "variable {{" + name + "}}: numbered variables start at {{1}}";
            return {};
        }
        tokens.push_back({open, close + 2, name});
        at = close + 2;
    }
    return tokens;
}

std::string trimmed(const std::string& value) {
    const auto first = value.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return "";
    return value.substr(first, value.find_last_not_of(" \t\r\n") - first + 1);
}

// The values of one component, by variable: positional parameters count from 1 in order, named
// ones say their name.
std::map<std::string, std::string> valuesOf(const TemplateComponent& component) {
    std::map<std::string, std::string> values;
    int position = 0;
    for (const auto& parameter : component.parameters)
        values[parameter.name.empty() ? std::to_string(++position) : parameter.name] = parameter.value;
    return values;
}

}  // namespace

std::optional<std::string> TemplateText::check(const std::string& text) {
    std::string error;
    const std::vector<Token> tokens = scan(text, error);
    if (!error.empty()) return error;
    bool numbered = false, named = false;
    std::vector<int> numbers;
    for (const Token& token : tokens) {
        if (isNumber(token.name)) {
            numbered = true;
            if (token.name.size() > 3) return "variable {{" + token.name + "}} is out of range";
            numbers.push_back(std::stoi(token.name));
        } else {
            named = true;
        }
    }
    if (numbered && named) return std::string("a body uses either numbered variables ({{1}}) or named ones ({{name}}), not both");
    std::sort(numbers.begin(), numbers.end());
    numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
    for (std::size_t i = 0; i < numbers.size(); ++i)
        if (numbers[i] != static_cast<int>(i + 1))
            return "numbered variables run {{1}}, {{2}}... without gaps: {{" + std::to_string(i + 1) + "}} is missing";
    return std::nullopt;
}

std::vector<std::string> TemplateText::variables(const std::string& text) {
    std::string error;
    std::vector<std::string> names;
    for (const Token& token : scan(text, error))
        if (std::find(names.begin(), names.end(), token.name) == names.end()) names.push_back(token.name);
    return names;
}

std::optional<std::string> TemplateText::render(const std::string& text, const std::map<std::string, std::string>& values,
                                                std::string& error) {
    const std::vector<Token> tokens = scan(text, error);
    if (!error.empty()) return std::nullopt;
    std::vector<std::string> missing;
    for (const Token& token : tokens)
        if (!values.count(token.name) && std::find(missing.begin(), missing.end(), token.name) == missing.end())
            missing.push_back(token.name);
    if (!missing.empty()) {
        error = "missing value for";
        for (std::size_t i = 0; i < missing.size(); ++i) error += (i ? ", {{" : " {{") + missing[i] + "}}";
        return std::nullopt;
    }
    std::string out;
    std::size_t at = 0;
    for (const Token& token : tokens) {
        out += text.substr(at, token.begin - at);
        out += values.at(token.name);
        at = token.end;
    }
    out += text.substr(at);
    return out;
}

std::vector<TemplateButton> TemplateDefinition::buttonsFromJson(const std::string& json) {
    std::vector<TemplateButton> buttons;
    if (trimmed(json).empty()) return buttons;
    Poco::JSON::Array::Ptr array;
    try {
        array = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Array::Ptr>();
    } catch (const std::exception&) {
        return buttons;
    }
    if (!array) return buttons;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const Poco::JSON::Object::Ptr item = array->getObject(i);
        if (!item) continue;
        TemplateButton button;
        button.type = item->optValue<std::string>("type", "");
        button.text = item->optValue<std::string>("text", "");
        button.url = item->optValue<std::string>("url", "");
        if (button.type == "url" || button.type == "quick_reply") buttons.push_back(std::move(button));
    }
    return buttons;
}

std::string TemplateDefinition::buttonsToJson(const std::vector<TemplateButton>& buttons) {
    Poco::JSON::Array array;
    for (const auto& button : buttons) {
        Poco::JSON::Object item;
        item.set("type", button.type);
        item.set("text", button.text);
        if (button.type == "url") item.set("url", button.url);
        array.add(item);
    }
    std::ostringstream out;
    array.stringify(out);
    return out.str();
}

bool TemplateDefinition::named() const {
    for (const auto& text : {header, body})
        for (const auto& variable : TemplateText::variables(text))
            if (!isNumber(variable)) return true;
    return false;
}

std::optional<std::string> TemplateDefinition::check() const {
    if (auto problem = TemplateText::check(header)) return "header: " + *problem;
    if (auto problem = TemplateText::check(body)) return *problem;
    const auto headerVariables = TemplateText::variables(header);
    if (headerVariables.size() > 1) return std::string("a header has at most one variable");
    const auto bodyVariables = TemplateText::variables(body);
    if (!headerVariables.empty() && !bodyVariables.empty() && isNumber(headerVariables.front()) != isNumber(bodyVariables.front()))
        return std::string("a template uses either numbered variables ({{1}}) or named ones ({{name}}), not both");
    for (std::size_t i = 0; i < buttons.size(); ++i) {
        if (buttons[i].type != "url") continue;
        if (auto problem = TemplateText::check(buttons[i].url)) return "button " + std::to_string(i + 1) + ": " + *problem;
        const auto variables = TemplateText::variables(buttons[i].url);
        if (variables.size() > 1 || (variables.size() == 1 && variables.front() != "1"))
            return "button " + std::to_string(i + 1) + ": a link takes one variable, {{1}}, at its end";
    }
    return std::nullopt;
}

std::string TemplateField::key() const {
    return (component == "button" ? "button" + std::to_string(index) : component) + ":" + variable;
}

std::vector<TemplateField> templateFields(const TemplateDefinition& definition) {
    std::vector<TemplateField> fields;
    // Positional variables in number order (the order Meta reads the parameters), named ones in
    // order of first appearance.
    auto add = [&fields](const std::string& component, int index, const std::string& text) {
        std::vector<std::string> variables = TemplateText::variables(text);
        if (std::all_of(variables.begin(), variables.end(), isNumber))
            std::sort(variables.begin(), variables.end(), [](const std::string& a, const std::string& b) { return std::stoi(a) < std::stoi(b); });
        for (const auto& variable : variables) fields.push_back({component, index, variable, !isNumber(variable)});
    };
    add("header", 0, definition.header);
    add("body", 0, definition.body);
    for (std::size_t i = 0; i < definition.buttons.size(); ++i)
        if (definition.buttons[i].type == "url") add("button", static_cast<int>(i), definition.buttons[i].url);
    return fields;
}

std::vector<TemplateComponent> templateComponents(const TemplateDefinition& definition, const std::map<std::string, std::string>& values,
                                                  std::vector<std::string>& missing) {
    std::vector<TemplateComponent> components;
    missing.clear();
    for (const TemplateField& field : templateFields(definition)) {
        const auto found = values.find(field.key());
        const std::string value = found == values.end() ? "" : trimmed(found->second);
        if (value.empty()) {
            missing.push_back(field.key());
            continue;
        }
        // One component per part; fields of a part come together, in the order Meta reads them.
        if (components.empty() || components.back().type != field.component || components.back().index != field.index) {
            TemplateComponent fresh;
            fresh.type = field.component;
            fresh.index = field.index;
            if (field.component == "button") fresh.subType = "url";
            components.push_back(fresh);
        }
        // A button's parameter never carries a name: it fills the link's one variable.
        components.back().parameters.push_back({field.named && field.component != "button" ? field.variable : "", value});
    }
    if (!missing.empty()) components.clear();
    return components;
}

std::optional<std::string> renderTemplate(const TemplateDefinition& definition, const std::vector<TemplateComponent>& components,
                                          std::string& error) {
    std::map<std::string, std::string> header, body;
    std::map<int, std::map<std::string, std::string>> buttons;
    for (const auto& component : components) {
        if (component.type == "header") header = valuesOf(component);
        else if (component.type == "body") body = valuesOf(component);
        else if (component.type == "button") {
            // A link button's one parameter fills {{1}} whatever it is called.
            std::map<std::string, std::string> values;
            if (!component.parameters.empty()) values["1"] = component.parameters.front().value;
            buttons[component.index] = values;
        }
    }
    std::string out;
    if (!trimmed(definition.header).empty()) {
        const auto text = TemplateText::render(definition.header, header, error);
        if (!text) {
            error = "header: " + error;
            return std::nullopt;
        }
        out += *text + "\n\n";
    }
    const auto text = TemplateText::render(definition.body, body, error);
    if (!text) return std::nullopt;
    out += *text;
    for (std::size_t i = 0; i < definition.buttons.size(); ++i) {
        const TemplateButton& button = definition.buttons[i];
        if (button.type != "url") continue;
        const auto url = TemplateText::render(button.url, buttons[static_cast<int>(i)], error);
        if (!url) {
            error = "button " + std::to_string(i + 1) + ": " + error;
            return std::nullopt;
        }
        out += "\n" + button.text + ": " + *url;
    }
    return out;
}

}  // namespace tawasul::sdk
