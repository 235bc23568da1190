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

    // 2 % below the configured rate (the most the issue allows the measured rate to lose): any
    // rate+1 slots then span 1.02 s, and those 20 ms absorb what happens between a slot and its
    // request reaching Meta: the reservation's answer on its way back (a round trip longer than
    // kLateTolerance leaves the slot's place on our clock unsure, so a new slot is taken), a thread
    // woken late (up to kLateTolerance, or a new slot), the request on the wire.
    static constexpr double kMargin = 0.98;
    static constexpr std::chrono::microseconds kLateTolerance{5000};
    static constexpr int kUnsureRetries = 3;

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
