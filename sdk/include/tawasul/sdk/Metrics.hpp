#pragma once
// Counters, histograms and gauges exposed at /metrics in Prometheus text format.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

class TAWASUL_SDK_API Counter {
public:
    virtual ~Counter();
    virtual void increment(std::uint64_t by = 1) = 0;
};

class TAWASUL_SDK_API Histogram {
public:
    virtual ~Histogram();
    virtual void observe(double value) = 0;
};

// One series of a gauge family: its labels (name, value; the host escapes the values) and value.
struct GaugeSample {
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};
// Reads a gauge family's current series when /metrics is scraped, on the scraping request's thread.
// A value kept in the database (and so the same on every host) is read there, not held per process.
using GaugeReader = std::function<std::vector<GaugeSample>()>;

class TAWASUL_SDK_API Metrics {
public:
    virtual ~Metrics();
    // `name` may carry labels: `tawasul_webhook_rejected_total{reason="signature"}`. The same name
    // returns the same counter; the reference lives as long as the host.
    virtual Counter& counter(const std::string& name, const std::string& help) = 0;
    virtual Histogram& histogram(const std::string& name, const std::string& help,
                                 const std::vector<double>& upperBounds) = 0;
    // A gauge family (a plain name, no labels) whose series `read` returns at each scrape; an
    // exception from it leaves the family out of that scrape. Remove it before the code behind
    // `read` goes away (a plugin's stop). Several readers of one name make one family. Since 2.7.
    virtual std::uint64_t addGauges(const std::string& name, const std::string& help, GaugeReader read) = 0;
    virtual void removeGauges(std::uint64_t id) = 0;
};

}  // namespace tawasul::sdk
