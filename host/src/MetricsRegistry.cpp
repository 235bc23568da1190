#include "MetricsRegistry.hpp"

#include <cmath>
#include <sstream>

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
    if (std::isinf(value)) return "+Inf";
    std::ostringstream out;
    out << value;
    return out.str();
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

std::uint64_t MetricsRegistry::counterValue(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = counters_.find(name);
    return it == counters_.end() ? 0 : it->second->value.load();
}

std::string MetricsRegistry::render() const {
    std::lock_guard lock(mutex_);
    std::ostringstream out;
    std::string lastBase;
    for (const auto& [name, c] : counters_) {
        const std::string base = baseName(name);
        if (base != lastBase) {
            out << "# HELP " << base << " " << help_.at(base) << "\n# TYPE " << base << " counter\n";
            lastBase = base;
        }
        out << name << " " << c->value.load() << "\n";
    }
    lastBase.clear();
    for (const auto& [name, h] : histograms_) {
        const std::string base = baseName(name);
        if (base != lastBase) {
            out << "# HELP " << base << " " << help_.at(base) << "\n# TYPE " << base << " histogram\n";
            lastBase = base;
        }
        std::lock_guard histogramLock(h->mutex);
        const std::string existing = labels(name);
        for (std::size_t i = 0; i < h->bounds.size(); ++i)
            out << withLabel(base + "_bucket", existing, "le=\"" + number(h->bounds[i]) + "\"") << " " << h->buckets[i] << "\n";
        out << withLabel(base + "_bucket", existing, "le=\"+Inf\"") << " " << h->count << "\n";
        out << withLabel(base + "_sum", existing, "") << " " << number(h->sum) << "\n";
        out << withLabel(base + "_count", existing, "") << " " << h->count << "\n";
    }
    return out.str();
}

}  // namespace tawasul::host
