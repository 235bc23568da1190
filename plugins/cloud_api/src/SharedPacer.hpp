#pragma once
// Pacing per business number shared by every host on one PostgreSQL database. Each send reserves
// the number's next slot in one autocommitted statement, on the database's clock:
//   INSERT ... ON CONFLICT DO UPDATE SET next_slot_us = greatest(next_slot_us, now) + interval RETURNING ...
// and sleeps until it comes, so N hosts together keep one rate, as the workers of one host do with
// TokenBucket. The hosts' clocks need not agree with the database's: each host keeps the offset
// between the two (ClockOffset) from its recent reservations.
//
// Measured on a 2-core machine with three hosts at 1,000 sends a second (bench/outbound.sh), what
// this design keeps out of the way:
// - The table is UNLOGGED (migration 0015): a reservation writes no WAL and its commit waits for
//   no disk. On a logged table the number's row stayed locked through each commit's fsync, and
//   reservations queued behind each other: 4 ms each with 12 workers, 28 % of the rate reached Meta.
// - The statement is prepared once per connection and kept (Reservation): prepared afresh, Poco's
//   connector makes it four round trips (prepare, describe, execute, deallocate).
// - A slow answer costs nothing: where the slot lies on this host's clock comes from the best
//   round trips of the last seconds, not from this one's. Letting a slot go whenever its own
//   answer was slow (over 2 ms) lost a fifth of the slots on a busy machine.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "TokenBucket.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Metrics.hpp"

namespace tawasul::plugins::cloud_api {

// The offset between the database's clock and this host's (database µs − host µs), as far as the
// recent round trips tell: a statement that read the database's clock at dbNow, sent at `asked`
// and answered at `answered` on this host's clock, says the offset lies in
// [dbNow − answered, dbNow − asked]. Every sample of the last kWindow (at most kSamples) must hold,
// so the bounds are as narrow as the quickest round trip among them. Samples that contradict a
// newer one (a clock was set, or the two drift apart) are forgotten, oldest first.
class ClockOffset {
public:
    struct Bounds {
        std::int64_t low = 0, high = 0;
    };
    Bounds add(std::int64_t dbNowMicros, std::int64_t askedMicros, std::int64_t answeredMicros);

    static constexpr std::int64_t kWindowMicros = 2'000'000;  // short enough that drift between two clocks stays far below a slot
    static constexpr std::size_t kSamples = 64;

private:
    struct Sample {
        std::int64_t at, low, high;
    };
    std::deque<Sample> samples_;
};

class SharedPacer {
public:
    // `ratePerSecond` as configured; slots are spaced kMargin wider (see there). The counter, if
    // given, counts the slots let go because their sender came too late for them, and the
    // histogram how late after its slot each sender was (seconds), so that an operator sees what
    // the pacing loses and why.
    SharedPacer(sdk::Database& database, double ratePerSecond, sdk::Counter* lateSlots = nullptr, sdk::Histogram* lateness = nullptr);
    ~SharedPacer();

    // Blocks until the caller may send to `phoneNumberId`. Throws when the database cannot be
    // asked: the send is then retried later rather than sent unpaced.
    void wait(const std::string& phoneNumberId);

    // 1.5 % below the configured rate: any rate + 1 slots then span 1.015 s, and those 15 ms
    // absorb what happens between a slot and its request reaching Meta, so that no one-second
    // window there holds more than the rate: where the slot lies on this host's clock (within the
    // quickest recent round trip), a sender woken or answered late (up to kLateTolerance after the
    // earliest the slot can have been; later, the slot is let go for a new one), and about 10 ms
    // for the request on the wire, which a busy machine needs (measured at the fake Graph API on
    // two cores at load 6: arrivals 12 ms after their slots at the 99.9th percentile, tolerance
    // included; with 1 % here, a window of 81 at 80/s was seen). The measured rate keeps within
    // 2 % of the configured one with 0.5 % to spare for the slots let go.
    static constexpr double kMargin = 0.985;
    static constexpr std::chrono::microseconds kLateTolerance{TokenBucket::kLateToleranceMicros};

    std::int64_t intervalMicros() const { return intervalMicros_; }

    // Prepared reservations kept between sends, each with a connection of the pool: the job
    // workers' share; a burst of mark-read calls from request threads does not keep more.
    static constexpr std::size_t kKeptConnections = 8;

private:
    struct Reservation;
    // The reserved slot and the database's "now", both on the database's clock (µs), and this
    // host's steady clock (µs) just before and just after the statement ran.
    struct Reserved {
        std::int64_t slotMicros = 0, dbNowMicros = 0, askedMicros = 0, answeredMicros = 0;
    };
    Reserved reserve(const std::string& phoneNumberId);

    sdk::Database& database_;
    const std::int64_t intervalMicros_;
    sdk::Counter* lateSlots_;
    sdk::Histogram* lateness_;
    std::mutex mutex_;
    ClockOffset offset_;
    // Prepared reservations not in use (at most kKeptConnections), each holding a connection.
    std::vector<std::unique_ptr<Reservation>> idle_;
};

}  // namespace tawasul::plugins::cloud_api
