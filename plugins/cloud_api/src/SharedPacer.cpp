#include "SharedPacer.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <thread>

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

namespace tawasul::plugins::cloud_api {

using namespace Poco::Data::Keywords;

ClockOffset::Bounds ClockOffset::add(std::int64_t dbNowMicros, std::int64_t askedMicros, std::int64_t answeredMicros) {
    samples_.push_back({answeredMicros, dbNowMicros - answeredMicros, dbNowMicros - askedMicros});
    while (samples_.size() > kSamples || samples_.front().at < answeredMicros - kWindowMicros) samples_.pop_front();
    for (;;) {
        Bounds bounds{samples_.back().low, samples_.back().high};
        for (const Sample& sample : samples_) {
            bounds.low = std::max(bounds.low, sample.low);
            bounds.high = std::min(bounds.high, sample.high);
        }
        if (bounds.low <= bounds.high) return bounds;
        samples_.pop_front();  // the newest sample alone always agrees with itself
    }
}

namespace {
std::int64_t steadyMicros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

// One connection with the reservation prepared on it; the statement reads its parameters from
// the members it was bound to, so each run only sets them.
struct SharedPacer::Reservation {
    Reservation(sdk::Database& database, std::int64_t intervalMicros) : session(database.session()), statement(session), interval(intervalMicros) {
        // One statement whether or not the number has a row yet: an unlogged table is emptied by
        // a crash of the database server, and a row that is gone must not mean "no pacing".
        statement << "WITH clock AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now_us) "
                     "INSERT INTO whatsapp_send_slots AS s (phone_number_id, next_slot_us) SELECT $2, now_us + $1 FROM clock "
                     "ON CONFLICT (phone_number_id) DO UPDATE SET next_slot_us = greatest(s.next_slot_us, EXCLUDED.next_slot_us - $1) + $1 "
                     "RETURNING s.next_slot_us - $1, (SELECT now_us FROM clock)",
            use(interval), use(number), into(slot), into(dbNow);
    }
    Poco::Data::Session session;
    Poco::Data::Statement statement;
    Poco::Int64 interval;
    std::string number;
    Poco::Int64 slot = 0, dbNow = 0;
};

SharedPacer::SharedPacer(sdk::Database& database, double ratePerSecond, sdk::Counter* lateSlots, sdk::Histogram* lateness)
    : database_(database), intervalMicros_(static_cast<std::int64_t>(std::ceil(1e6 / (ratePerSecond * kMargin)))),
      lateSlots_(lateSlots), lateness_(lateness) {}

SharedPacer::~SharedPacer() = default;

SharedPacer::Reserved SharedPacer::reserve(const std::string& phoneNumberId) {
    std::unique_ptr<Reservation> reservation;
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            reservation = std::move(idle_.back());
            idle_.pop_back();
        }
    }
    if (!reservation) reservation = std::make_unique<Reservation>(database_, intervalMicros_);
    reservation->number = phoneNumberId;
    Reserved reserved;
    // A reservation that throws is dropped with its connection (the pool discards a broken one).
    // Its first run also prepares it: a slower round trip, which only widens this one sample.
    reserved.askedMicros = steadyMicros();
    const std::size_t rows = reservation->statement.execute();
    reserved.answeredMicros = steadyMicros();
    if (rows != 1) throw std::runtime_error("the send slot of " + phoneNumberId + " was not reserved");
    reserved.slotMicros = reservation->slot;
    reserved.dbNowMicros = reservation->dbNow;
    std::lock_guard lock(mutex_);
    if (idle_.size() < kKeptConnections) idle_.push_back(std::move(reservation));  // else its connection goes back to the pool
    return reserved;
}

void SharedPacer::wait(const std::string& phoneNumberId) {
    for (;;) {
        const Reserved reserved = reserve(phoneNumberId);
        ClockOffset::Bounds offset;
        {
            std::lock_guard lock(mutex_);
            offset = offset_.add(reserved.dbNowMicros, reserved.askedMicros, reserved.answeredMicros);
        }
        // On this host's clock the slot lies between these two: waiting for the later is never
        // early, and a send later than kLateTolerance after the earlier would bunch with the
        // slots after its own (a thread woken late, an answer that came after its slot), so it
        // takes a new one.
        const std::int64_t latest = reserved.slotMicros - offset.low, earliest = reserved.slotMicros - offset.high;
        std::this_thread::sleep_until(std::chrono::steady_clock::time_point(std::chrono::microseconds(latest)));
        const std::int64_t late = steadyMicros() - earliest;
        if (lateness_) lateness_->observe(static_cast<double>(late) / 1e6);
        if (late < kLateTolerance.count()) return;
        if (lateSlots_) lateSlots_->increment();
    }
}

}  // namespace tawasul::plugins::cloud_api
