#include "ui/I18n.hpp"

#include <ctime>
#include <set>

#include <Poco/Logger.h>
#include <yaml-cpp/yaml.h>

#include "tawasul/sdk/Config.hpp"

namespace tawasul::host {
namespace {

using kainjow::mustache::data;

bool validSegment(const std::string& key) {
    if (key.empty()) return false;
    for (char c : key)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

// Walks one file: leaves into `flat` under their dotted path, and into `nested` as Mustache data.
void readNode(const sdk::ConfigNode& node, const std::string& prefix, std::map<std::string, std::string>& flat, data& nested) {
    if (!node.isMap()) node.fail("a catalog is a map of keys to strings or to further maps");
    for (const auto& [key, value] : node.entries()) {
        if (!validSegment(key)) value.fail("catalog keys use a-z, 0-9 and '_', got '" + key + "'");
        const std::string path = prefix.empty() ? key : prefix + "." + key;
        if (value.isMap()) {
            data child{data::type::object};
            readNode(value, path, flat, child);
            nested.set(key, child);
        } else if (value.yaml().IsScalar()) {
            flat[path] = value.yaml().as<std::string>();
            nested.set(key, flat[path]);
        } else {
            value.fail("'" + path + "' must be a string or a map");
        }
    }
}

const char* const kMonthsEn[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
const char* const kMonthsFr[] = {"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."};
// The month names used in Algeria (as in ICU's ar_DZ), not the Levantine or Egyptian ones.
const char* const kMonthsAr[] = {"جانفي", "فيفري", "مارس", "أفريل", "ماي", "جوان", "جويلية", "أوت", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"};

std::string twoDigits(int value) { return (value < 10 ? "0" : "") + std::to_string(value); }

}  // namespace

std::string fillPlaceholders(const std::string& text, const std::map<std::string, std::string>& args) {
    if (args.empty()) return text;
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] == '{') {
            const auto close = text.find('}', i + 1);
            if (close != std::string::npos) {
                auto it = args.find(text.substr(i + 1, close - i - 1));
                if (it != args.end()) {
                    out += it->second;
                    i = close + 1;
                    continue;
                }
            }
        }
        out += text[i++];
    }
    return out;
}

Catalog Catalog::load(const std::filesystem::path& dir, const std::string& owner) {
    Catalog catalog;
    catalog.owner_ = owner;
    catalog.dir_ = dir;
    for (const std::string& locale : sdk::supportedLocales()) {
        data nested{data::type::object};
        auto& flat = catalog.strings_[locale];
        const auto file = dir / (locale + ".yaml");
        if (std::filesystem::exists(file)) {
            YAML::Node root;
            try {
                root = YAML::LoadFile(file.string());
            } catch (const YAML::Exception& error) {
                throw sdk::ConfigError(file.string() + ":" + std::to_string(error.mark.line + 1) + ":" +
                                       std::to_string(error.mark.column + 1) + ": " + error.msg);
            }
            // Read as YAML, not through ConfigNode::loadFile: a translation may contain "${".
            if (root.IsDefined() && !root.IsNull())
                readNode(sdk::ConfigNode(root, std::make_shared<const std::string>(file.string()), ""), "", flat, nested);
        }
        catalog.data_.emplace(locale, std::move(nested));
    }
    return catalog;
}

std::vector<std::string> Catalog::problems() const {
    std::set<std::string> all;
    for (const auto& [locale, strings] : strings_)
        for (const auto& [key, text] : strings) all.insert(key);
    std::vector<std::string> out;
    for (const auto& [locale, strings] : strings_)
        for (const auto& key : all)
            if (!strings.count(key)) out.push_back((dir_ / (locale + ".yaml")).string() + ": missing '" + key + "'");
    return out;
}

std::string Catalog::text(const std::string& locale, const std::string& key, const std::map<std::string, std::string>& args) const {
    for (const std::string& candidate : {locale, std::string("en")}) {
        auto strings = strings_.find(candidate);
        if (strings == strings_.end()) continue;
        auto it = strings->second.find(key);
        if (it != strings->second.end()) return fillPlaceholders(it->second, args);
    }
    Poco::Logger::get(owner_ == "host" ? "host" : "plugin." + owner_).warning("no translation for '" + key + "' in " + locale);
    return key;
}

const kainjow::mustache::data& Catalog::mustacheData(const std::string& locale) const {
    auto it = data_.find(locale);
    if (it == data_.end()) it = data_.find("en");
    static const data empty{data::type::object};
    return it == data_.end() ? empty : it->second;
}

std::string Catalog::dateTime(const std::string& locale, std::int64_t epochSeconds) const {
    std::time_t seconds = static_cast<std::time_t>(epochSeconds);
    std::tm tm{};
    localtime_r(&seconds, &tm);
    const std::string day = std::to_string(tm.tm_mday), year = std::to_string(tm.tm_year + 1900);
    const std::string time = twoDigits(tm.tm_hour) + ":" + twoDigits(tm.tm_min);
    // Western digits in all three languages: Algeria writes Arabic text with 0-9 (ICU ar_DZ agrees).
    if (locale == "fr") return day + " " + kMonthsFr[tm.tm_mon] + " " + year + ", " + time;
    if (locale == "ar") return day + " " + kMonthsAr[tm.tm_mon] + " " + year + "، " + time;
    return day + " " + kMonthsEn[tm.tm_mon] + " " + year + ", " + time;
}

std::string Catalog::number(const std::string& locale, std::int64_t value) const {
    // Grouping: en "1,234,567"; fr "1 234 567" (narrow no-break space); ar (Algeria) "1.234.567".
    const std::string separator = locale == "fr" ? "\u202F" : locale == "ar" ? "." : ",";
    const bool negative = value < 0;
    std::string digits = std::to_string(value);
    if (negative) digits.erase(0, 1);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += separator;
        out += digits[i];
    }
    return (negative ? "-" : "") + out;
}

}  // namespace tawasul::host
