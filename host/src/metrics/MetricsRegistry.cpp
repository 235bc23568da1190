#include "metrics/MetricsRegistry.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace tawasul::host {
namespace {

std::string baseName(const std::string& name) { return name.substr(0, name.find('{')); }
std::string labels(const std::string& name) {
    const auto brace = name.find('{');
    return brace == std::string::npos ? "" : name.substr(brace + 1, name.size() - brace - 2);
}
std::string withLabel(const std::string& base, const std::string& existing, const std::string& extra) {
    std::string all = existing;
    if (!extra.empty()) all += (all.empty() ? "" : ",") + extra;
    return all.empty() ? base : base + "{" + all + "}";
}
std::string number(double value) {
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    if (std::isnan(value)) return "NaN";
    // %g as before, with as many digits as it takes to read back the same double (a large
    // histogram sum must not be rounded to 6 significant digits).
    char buffer[32];
    for (int precision = 6; precision <= 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
        if (std::strtod(buffer, nullptr) == value) break;
    }
    return buffer;
}

// A label value as the exposition format takes it: backslash, double quote and newline escaped.
std::string escapedLabel(const std::string& value) {
    std::string out;
    for (const char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

// A metric or label name: [a-zA-Z_:][a-zA-Z0-9_:]* (labels without ':', checked by the caller).
bool plainName(const std::string& name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    for (const char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':')) return false;
    return true;
}

}  // namespace

class MetricsRegistry::CounterImpl final : public sdk::Counter {
public:
    void increment(std::uint64_t by) override { value.fetch_add(by, std::memory_order_relaxed); }
    std::atomic<std::uint64_t> value{0};
};

class MetricsRegistry::HistogramImpl final : public sdk::Histogram {
public:
    explicit HistogramImpl(std::vector<double> bounds) : bounds(std::move(bounds)), buckets(this->bounds.size()) {}
    void observe(double v) override {
        std::lock_guard lock(mutex);
        for (std::size_t i = 0; i < bounds.size(); ++i)
            if (v <= bounds[i]) ++buckets[i];
        ++count;
        sum += v;
    }
    std::vector<double> bounds;
    std::vector<std::uint64_t> buckets;
    std::uint64_t count = 0;
    double sum = 0;
    mutable std::mutex mutex;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

sdk::Counter& MetricsRegistry::counter(const std::string& name, const std::string& help) {
    std::lock_guard lock(mutex_);
    auto& slot = counters_[name];
    if (!slot) slot = std::make_unique<CounterImpl>();
    help_.emplace(baseName(name), help);
    return *slot;
}

sdk::Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                           const std::vector<double>& upperBounds) {
    std::lock_guard lock(mutex_);
    auto& slot = histograms_[name];
    if (!slot) slot = std::make_unique<HistogramImpl>(upperBounds);
    help_.emplace(baseName(name), help);
    return *slot;
}

std::uint64_t MetricsRegistry::addGauges(const std::string& name, const std::string& help, sdk::GaugeReader read) {
    if (!plainName(name)) throw std::invalid_argument("a gauge family's name is a plain metric name: " + name);
    std::lock_guard lock(mutex_);
    const std::uint64_t id = nextGauges_++;
    gauges_.emplace(id, GaugeFamily{name, help, std::move(read)});
    return id;
}

void MetricsRegistry::removeGauges(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    gauges_.erase(id);
}

std::uint64_t MetricsRegistry::counterValue(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = counters_.find(name);
    return it == counters_.end() ? 0 : it->second->value.load();
}

std::string MetricsRegistry::render() const {
    std::vector<GaugeFamily> gauges;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, family] : gauges_) gauges.push_back(family);
    }
    // Read first, outside the lock; one name's readers make one family, under one HELP and TYPE.
    std::map<std::string, std::pair<std::string, std::vector<sdk::GaugeSample>>> gaugeFamilies;
    for (const GaugeFamily& family : gauges) {
        std::vector<sdk::GaugeSample> samples;
        try {
            samples = family.read();
        } catch (const std::exception&) {
            continue;  // the reader's own log line says why; the rest of the scrape stands
        }
        auto& [help, all] = gaugeFamilies[family.name];
        if (help.empty()) help = family.help;
        all.insert(all.end(), samples.begin(), samples.end());
    }
    std::ostringstream out;
    for (const auto& [name, family] : gaugeFamilies) {
        if (family.second.empty()) continue;  // nothing to say yet (no number known, say)
        out << "# HELP " << name << " " << family.first << "\n# TYPE " << name << " gauge\n";
        for (const sdk::GaugeSample& sample : family.second) {
            std::string labelText;
            for (const auto& [label, value] : sample.labels) {
                if (!plainName(label) || label.find(':') != std::string::npos) continue;
                labelText += (labelText.empty() ? "" : ",") + label + "=\"" + escapedLabel(value) + "\"";
            }
            out << withLabel(name, labelText, "") << " " << number(sample.value) << "\n";
        }
    }
    std::lock_guard lock(mutex_);
    // Group the series by base name: in name order, `x`, `x_more` and `x{...}` would interleave,
    // and a family must be written once, together, under one HELP and TYPE.
    std::map<std::string, std::vector<std::pair<std::string, const CounterImpl*>>> counterFamilies;
    for (const auto& [name, c] : counters_) counterFamilies[baseName(name)].emplace_back(name, c.get());
    std::map<std::string, std::vector<std::pair<std::string, HistogramImpl*>>> histogramFamilies;
    for (const auto& [name, h] : histograms_) histogramFamilies[baseName(name)].emplace_back(name, h.get());
    for (const auto& [base, series] : counterFamilies) {
        out << "# HELP " << base << " " << help_.at(base) << "\n# TYPE " << base << " counter\n";
        for (const auto& [name, c] : series) out << name << " " << c->value.load() << "\n";
    }
    for (const auto& [base, series] : histogramFamilies) {
        out << "# HELP " << base << " " << help_.at(base) << "\n# TYPE " << base << " histogram\n";
        for (const auto& [name, h] : series) {
            std::lock_guard histogramLock(h->mutex);
            const std::string existing = labels(name);
            for (std::size_t i = 0; i < h->bounds.size(); ++i)
                out << withLabel(base + "_bucket", existing, "le=\"" + number(h->bounds[i]) + "\"") << " " << h->buckets[i] << "\n";
            out << withLabel(base + "_bucket", existing, "le=\"+Inf\"") << " " << h->count << "\n";
            out << withLabel(base + "_sum", existing, "") << " " << number(h->sum) << "\n";
            out << withLabel(base + "_count", existing, "") << " " << h->count << "\n";
        }
    }
    return out.str();
}

}  // namespace tawasul::host
