#pragma once
// Paces sends to Meta's throughput limit (messages per second per business number). A generic cell
// rate algorithm with reservations: each caller takes the next free slot and waits until it comes,
// so N workers together never exceed the rate, and a backlog drains at exactly the rate (a worker
// that wakes late does not push the slots after it: they are fixed when reserved).
#include <algorithm>
#include <cstdint>
#include <mutex>

namespace tawasul::plugins::cloud_api {

class TokenBucket {
public:
    // `burst` tokens may be taken at once after an idle time; 1 spaces every send by 1/rate.
    explicit TokenBucket(double ratePerSecond, double burst = 1.0);

    // Reserves the next token for a caller whose clock reads nowMicros; returns the time on that
    // clock when the token may be used (nowMicros or later). The clock is the caller's, so tests
    // drive it by hand.
    std::int64_t reserve(std::int64_t nowMicros);

    // Whether a caller that woke at nowMicros for the token of `slot` may still use it. A caller
    // that woke late (a starved thread) would bunch its send with the next ones; past
    // kLateToleranceMicros it takes a new token instead. With tokens spaced as SharedPacer spaces
    // its slots (1.5 % under the rate: any rate + 1 span 15 ms more than a second), a send at most
    // that late leaves the rest of those 15 ms to its way to Meta, whatever the rate.
    static constexpr std::int64_t kLateToleranceMicros = 5000;
    bool usable(std::int64_t slot, std::int64_t nowMicros) const { return nowMicros - slot < kLateToleranceMicros; }

    double ratePerSecond() const { return rate_; }

private:
    std::mutex mutex_;
    double rate_;
    double interval_;   // µs between tokens
    double tolerance_;  // µs of burst allowed: (burst - 1) intervals
    double tat_ = 0;    // theoretical arrival time of the next token
    bool started_ = false;
};

}  // namespace tawasul::plugins::cloud_api
