#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tawasul/sdk/Metrics.hpp"

namespace tawasul::host {

// Counters, histograms and gauge families, rendered in the Prometheus text exposition format.
class MetricsRegistry final : public sdk::Metrics {
public:
    MetricsRegistry();
    ~MetricsRegistry() override;
    sdk::Counter& counter(const std::string& name, const std::string& help) override;
    sdk::Histogram& histogram(const std::string& name, const std::string& help,
                              const std::vector<double>& upperBounds) override;
    std::uint64_t addGauges(const std::string& name, const std::string& help, sdk::GaugeReader read) override;
    void removeGauges(std::uint64_t id) override;
    // The exposition text. Gauge readers run outside the registry's lock (they may read the
    // database), so a slow one never holds a counter's increment.
    std::string render() const;
    // The current value of a counter, 0 when it does not exist (for tests and status lines).
    std::uint64_t counterValue(const std::string& name) const;

private:
    class CounterImpl;
    class HistogramImpl;
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<CounterImpl>> counters_;
    std::map<std::string, std::unique_ptr<HistogramImpl>> histograms_;
    struct GaugeFamily {
        std::string name, help;
        sdk::GaugeReader read;
    };
    std::map<std::uint64_t, GaugeFamily> gauges_;
    std::uint64_t nextGauges_ = 1;
    std::map<std::string, std::string> help_;  // by base name
};

}  // namespace tawasul::host
