#include "TokenBucket.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tawasul::plugins::cloud_api {

TokenBucket::TokenBucket(double ratePerSecond, double burst) : rate_(ratePerSecond) {
    if (!(ratePerSecond > 0)) throw std::invalid_argument("the rate must be positive");
    if (!(burst >= 1)) throw std::invalid_argument("the burst must be at least 1");
    interval_ = 1e6 / ratePerSecond;
    tolerance_ = (burst - 1) * interval_;
}

std::int64_t TokenBucket::reserve(std::int64_t nowMicros) {
    std::lock_guard lock(mutex_);
    const double nowValue = static_cast<double>(nowMicros);
    if (!started_) {
        tat_ = nowValue;
        started_ = true;
    }
    const double slot = std::max(nowValue, tat_ - tolerance_);
    tat_ = std::max(tat_, nowValue) + interval_;
    // Rounded up: a token is never handed out before its time.
    return static_cast<std::int64_t>(std::ceil(slot));
}

}  // namespace tawasul::plugins::cloud_api
