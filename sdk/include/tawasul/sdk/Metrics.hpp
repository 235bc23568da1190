#pragma once
// Counters and histograms exposed at /metrics in Prometheus text format.
#include <cstdint>
#include <string>
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

class TAWASUL_SDK_API Metrics {
public:
    virtual ~Metrics();
    // `name` may carry labels: `tawasul_webhook_rejected_total{reason="signature"}`. The same name
    // returns the same counter; the reference lives as long as the host.
    virtual Counter& counter(const std::string& name, const std::string& help) = 0;
    virtual Histogram& histogram(const std::string& name, const std::string& help,
                                 const std::vector<double>& upperBounds) = 0;
};

}  // namespace tawasul::sdk
