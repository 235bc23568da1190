#include "SharedPacer.hpp"

#include <cmath>
#include <thread>

#include <Poco/Data/Session.h>

namespace tawasul::plugins::cloud_api {

using namespace Poco::Data::Keywords;

SharedPacer::SharedPacer(sdk::Database& database, double ratePerSecond)
    : database_(database), intervalMicros_(static_cast<std::int64_t>(std::ceil(1e6 / (ratePerSecond * kMargin)))) {}

std::int64_t SharedPacer::reserve(const std::string& phoneNumberId) {
    Poco::Data::Session session = database_.session();
    std::string number = phoneNumberId;
    bool known = false;
    {
        std::lock_guard lock(mutex_);
        known = known_.count(phoneNumberId) > 0;
    }
    if (!known) {
        session << "INSERT INTO whatsapp_send_slots (phone_number_id, next_slot_us) VALUES ($1, 0) ON CONFLICT (phone_number_id) DO NOTHING",
            use(number), now;
        std::lock_guard lock(mutex_);
        known_.insert(phoneNumberId);
    }
    Poco::Int64 interval = intervalMicros_, waitMicros = 0;
    // An autocommitted statement: the row is locked only while it runs.
    session << "WITH clock AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now_us) "
               "UPDATE whatsapp_send_slots SET next_slot_us = greatest(next_slot_us, clock.now_us) + $1 FROM clock "
               "WHERE phone_number_id = $2 RETURNING next_slot_us - $1 - clock.now_us",
        use(interval), use(number), into(waitMicros), now;
    return waitMicros > 0 ? waitMicros : 0;
}

void SharedPacer::wait(const std::string& phoneNumberId) {
    using Clock = std::chrono::steady_clock;
    for (int unsure = 0;;) {
        const auto asked = Clock::now();
        const std::int64_t waitMicros = reserve(phoneNumberId);
        const auto answered = Clock::now();
        // The database's "now" lies between asked and answered: a slow answer leaves the slot's
        // place on this host's clock unsure by that much, so the slot is let go for a new one
        // (a few times: a database that always answers slowly must not stop the sends).
        if (answered - asked >= kLateTolerance && ++unsure <= kUnsureRetries) continue;
        const auto slot = answered + std::chrono::microseconds(waitMicros);
        std::this_thread::sleep_until(slot);
        // A caller that woke late would bunch with the slots after its own: it takes a new one.
        if (Clock::now() - slot < kLateTolerance) return;
    }
}

}  // namespace tawasul::plugins::cloud_api
