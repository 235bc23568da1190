#include "PairPacer.hpp"

#include <stdexcept>

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

namespace tawasul::plugins::cloud_api {

using namespace Poco::Data::Keywords;

std::int64_t admitPair(PairState& state, const PairRule& rule, std::int64_t nowMicros) {
    if (state.paidUntil <= nowMicros) {
        // Paid up: a new burst opens with this message.
        state.burstUntil = nowMicros + rule.intervalMicros;
        state.burstLeft = rule.burst - 1;
        state.paidUntil = nowMicros + rule.intervalMicros;
        return 0;
    }
    if (nowMicros < state.burstUntil && state.burstLeft > 0) {
        --state.burstLeft;
        state.paidUntil += rule.intervalMicros;
        return 0;
    }
    return state.paidUntil - nowMicros;
}

// The rule as one statement on the database's clock, prepared once on a connection kept for it:
// the upsert counts the message when the rule allows it (the same branches as admitPair); the
// outer query reads the account as it was before, so a refused message learns how long to wait.
struct PairPacer::Statement {
    Statement(sdk::Database& database, const PairRule& rule)
        : session(database.session()), statement(session), interval(rule.intervalMicros), burst(rule.burst) {
        statement << "WITH clock AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now_us), "
                     "counted AS (INSERT INTO whatsapp_pair_slots AS p (phone_number_id, recipient, paid_until_us, burst_until_us, burst_left) "
                     "SELECT $1, $2, now_us + $3, now_us + $3, $4 - 1 FROM clock "
                     "ON CONFLICT (phone_number_id, recipient) DO UPDATE SET "
                     "paid_until_us = greatest(p.paid_until_us, (SELECT now_us FROM clock)) + $3, "
                     "burst_until_us = CASE WHEN p.paid_until_us <= (SELECT now_us FROM clock) THEN EXCLUDED.burst_until_us ELSE p.burst_until_us END, "
                     "burst_left = CASE WHEN p.paid_until_us <= (SELECT now_us FROM clock) THEN EXCLUDED.burst_left ELSE p.burst_left - 1 END "
                     "WHERE p.paid_until_us <= (SELECT now_us FROM clock) "
                     "OR ((SELECT now_us FROM clock) < p.burst_until_us AND p.burst_left > 0) RETURNING 1) "
                     "SELECT (SELECT COUNT(*) FROM counted), COALESCE((SELECT paid_until_us FROM whatsapp_pair_slots "
                     "WHERE phone_number_id = $1 AND recipient = $2), 0) - now_us FROM clock",
            use(number), use(recipient), use(interval), use(burst), into(counted), into(waitMicros);
    }
    Poco::Data::Session session;
    Poco::Data::Statement statement;
    std::string number, recipient;
    Poco::Int64 interval;
    int burst;
    Poco::Int64 counted = 0, waitMicros = 0;
};

PairPacer::PairPacer(sdk::Database* shared, PairRule rule) : shared_(shared), rule_(rule) {
    if (rule_.intervalMicros <= 0 || rule_.burst < 1) throw std::invalid_argument("the pair rule needs an interval and a burst of at least 1");
}

PairPacer::~PairPacer() = default;

std::chrono::microseconds PairPacer::admit(const std::string& phoneNumberId, const std::string& recipient) {
    if (shared_) return admitShared(phoneNumberId, recipient);
    const std::int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    std::lock_guard lock(mutex_);
    prune(now);
    return std::chrono::microseconds(admitPair(accounts_[{phoneNumberId, recipient}], rule_, now));
}

std::chrono::microseconds PairPacer::admitShared(const std::string& phoneNumberId, const std::string& recipient) {
    std::unique_ptr<Statement> statement;
    bool pruneNow = false;
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            statement = std::move(idle_.back());
            idle_.pop_back();
        }
        if (std::chrono::steady_clock::now() - prunedAt_ >= kPruneEvery) {
            prunedAt_ = std::chrono::steady_clock::now();
            pruneNow = true;
        }
    }
    if (!statement) statement = std::make_unique<Statement>(*shared_, rule_);
    if (pruneNow) {
        // Any host may do it; a row deleted as another host counts a message is written back.
        statement->session << "DELETE FROM whatsapp_pair_slots WHERE paid_until_us < (extract(epoch FROM clock_timestamp()) * 1000000)::bigint",
            now;
    }
    // A statement that throws is dropped with its connection (the pool discards a broken one).
    statement->number = phoneNumberId;
    statement->recipient = recipient;
    if (statement->statement.execute() != 1) throw std::runtime_error("the pair account of " + recipient + " was not read");
    const std::chrono::microseconds wait(statement->counted == 1 ? 0 : std::max<Poco::Int64>(statement->waitMicros, 1));
    std::lock_guard lock(mutex_);
    if (idle_.size() < kKeptConnections) idle_.push_back(std::move(statement));  // else its connection goes back to the pool
    return wait;
}

void PairPacer::prune(std::int64_t nowMicros) {
    const auto current = std::chrono::steady_clock::now();
    if (current - prunedAt_ < kPruneEvery) return;
    prunedAt_ = current;
    for (auto it = accounts_.begin(); it != accounts_.end();) it = it->second.paidUntil < nowMicros ? accounts_.erase(it) : std::next(it);
}

}  // namespace tawasul::plugins::cloud_api
