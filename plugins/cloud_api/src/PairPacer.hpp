#pragma once
// Meta's pair rate (error 131056): a business number may send one message every 6 seconds to one
// WhatsApp user on average, in bursts of up to 45 borrowed from the future (Meta's documented
// figures, `cloud_api.pair_interval_ms` and `pair_burst`). Kept per business number and recipient,
// so that a message Meta would refuse waits here instead: in this process on SQLite (one host), in
// `whatsapp_pair_slots` on PostgreSQL, since any host's worker may send to any recipient (an
// agent's reply claimed on one host, an auto-reply on another), as SharedPacer shares the number's
// throughput.
//
// The rule, for one recipient: a burst of up to `burst` messages may start when everything sent
// before is paid for at one per interval, and runs for one interval; then the next message waits
// until the burst is paid for. It is the stricter of the two readings of "45 in a 6-second burst,
// borrowed from the future" (a token bucket would let the borrowing continue while the debt is
// below 45 intervals): what it lets through, Meta lets through either way.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tawasul/sdk/Database.hpp"

namespace tawasul::plugins::cloud_api {

struct PairRule {
    std::int64_t intervalMicros = 6'000'000;
    int burst = 45;
};

// One recipient's account, in µs on one clock.
struct PairState {
    std::int64_t paidUntil = 0;   // when what was sent is paid for, at one message per interval
    std::int64_t burstUntil = 0;  // the open burst ends
    int burstLeft = 0;            // messages the open burst still allows
};

// The rule applied at nowMicros: 0 when a message may go now (the state counts it), otherwise the
// µs until the next may (the state is unchanged).
std::int64_t admitPair(PairState& state, const PairRule& rule, std::int64_t nowMicros);

class PairPacer {
public:
    // `shared`: the PostgreSQL database every host shares; nullptr keeps the accounts in this
    // process (SQLite: one host).
    PairPacer(sdk::Database* shared, PairRule rule);
    ~PairPacer();

    // How long a message from `phoneNumberId` to `recipient` must wait: 0 when it may go now, and
    // it is then counted. Throws when the shared accounts cannot be read (the send is retried).
    std::chrono::microseconds admit(const std::string& phoneNumberId, const std::string& recipient);

    const PairRule& rule() const { return rule_; }

    // Prepared statements kept between sends, each with a connection of the pool (as SharedPacer's).
    static constexpr std::size_t kKeptConnections = 8;

    // Accounts whose debt is paid say nothing: they are dropped this often.
    static constexpr std::chrono::seconds kPruneEvery{60};

private:
    struct Statement;
    std::chrono::microseconds admitShared(const std::string& phoneNumberId, const std::string& recipient);
    void prune(std::int64_t nowMicros);

    sdk::Database* shared_;
    const PairRule rule_;
    std::mutex mutex_;
    std::chrono::steady_clock::time_point prunedAt_ = std::chrono::steady_clock::now();
    std::map<std::pair<std::string, std::string>, PairState> accounts_;  // in this process
    std::vector<std::unique_ptr<Statement>> idle_;                        // shared: prepared, not in use
};

}  // namespace tawasul::plugins::cloud_api
