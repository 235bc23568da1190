#pragma once
// Pacing per business number shared by every host on one PostgreSQL database. Each send reserves
// the number's next slot under the row's lock, on the database's clock:
//   UPDATE whatsapp_send_slots SET next_slot_us = greatest(next_slot_us, now) + interval RETURNING ...
// and sleeps until it comes, so N hosts together keep one rate, as the workers of one host do with
// TokenBucket. The wait is returned relative to the database's clock, so the hosts' clocks need
// not agree. One statement and one round trip per send; the row is locked for that statement only.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "tawasul/sdk/Database.hpp"

namespace tawasul::plugins::cloud_api {

class SharedPacer {
public:
    // `ratePerSecond` as configured; slots are spaced kMargin wider (see there).
    SharedPacer(sdk::Database& database, double ratePerSecond);

    // Blocks until the caller may send to `phoneNumberId`. Throws when the database cannot be
    // asked: the send is then retried later rather than sent unpaced.
    void wait(const std::string& phoneNumberId);

    // 1 % below the configured rate: a send leaves up to kLateTolerance after its slot (a late
    // thread, the database's answer on its way), and twenty slots of a 20/s number must still
    // span more than a second with that lateness (1 % of a second = 10 ms > 5 ms).
    static constexpr double kMargin = 0.99;
    static constexpr std::chrono::microseconds kLateTolerance{5000};

    std::int64_t intervalMicros() const { return intervalMicros_; }

private:
    // The wait in µs before this caller's slot, as the database reckons it.
    std::int64_t reserve(const std::string& phoneNumberId);

    sdk::Database& database_;
    const std::int64_t intervalMicros_;
    std::mutex mutex_;
    std::set<std::string> known_;  // numbers whose row exists
};

}  // namespace tawasul::plugins::cloud_api
