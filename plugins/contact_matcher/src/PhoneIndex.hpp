#pragma once
// The ContactMatcher: a table of normalised phones → platform records (contact_phone_index),
// rebuilt by reindex() and kept current by refresh(), so that match() is one indexed lookup.
#include <atomic>
#include <map>
#include <memory>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>
#include <Poco/Logger.h>

#include "Sources.hpp"
#include "tawasul/sdk/Clock.hpp"
#include "tawasul/whatsapp/Contacts.hpp"
#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/PreparedSession.hpp"
#include "tawasul/whatsapp/Phones.hpp"

namespace tawasul::plugins::contact_matcher {

class PhoneIndex final : public sdk::ContactMatcher {
public:
    PhoneIndex(sdk::Database& database, const sdk::Clock& clock, Poco::Logger& logger, MatcherConfig config);

    std::vector<sdk::MatchCandidate> match(const std::string& phoneOrWaId) override;
    // One read of the index for every phone of the list (an IN list per few hundred phones).
    std::map<std::string, std::vector<sdk::MatchCandidate>> matchAll(const std::vector<std::string>& phonesOrWaIds) override;
    std::size_t reindex(const std::function<void(std::size_t done, std::size_t total)>& progress) override;

    // One round of the incremental refresh: for each source, the rows past its id watermark and,
    // with an updated_column, the rows edited past its time watermark. Returns the records
    // indexed; does nothing while a reindex runs in this process. A failing source is logged and
    // the others still run. Stops between batches once `stopping` is set.
    std::size_t refresh(const std::atomic<bool>& stopping);

    const MatcherConfig& config() const { return config_; }

private:
    struct Record;
    struct Watermark {
        std::optional<std::int64_t> lastId;
        std::optional<std::int64_t> lastUpdated;
    };
    struct BatchResult {
        std::size_t records = 0;
        std::size_t phones = 0;
        std::optional<std::int64_t> maxId;
    };
    struct Skipped {
        std::size_t count = 0;
        std::vector<std::int64_t> examples;
    };

    std::string selectColumns(const Source& source) const;
    std::vector<Record> readRecords(Poco::Data::Session& session, const Source& source, const std::string& where,
                                    const std::vector<std::int64_t>& values, const std::string& orderBy) const;
    // Takes the source's watermark row for this transaction (FOR UPDATE on PostgreSQL; SQLite's
    // BEGIN IMMEDIATE already serialises writers), so that two hosts never interleave a batch.
    Watermark lockWatermark(Poco::Data::Session& session, const Source& source) const;
    // `lock`: sql().forUpdate() to hold the row until commit, or "".
    Watermark readWatermark(Poco::Data::Session& session, const Source& source, const std::string& lock = "") const;
    void saveWatermark(Poco::Data::Session& session, const Source& source, const Watermark& mark) const;
    std::int64_t updatedSnapshot(Poco::Data::Session& session, const Source& source) const;
    // The highest edit stamp that may be taken as settled: edits stamped within the last
    // kEditSettleMillis may still be committing (or share a stamp with one just read).
    std::int64_t settledStamp(std::int64_t stamp) const;
    std::size_t writeRecords(Poco::Data::Session& session, const Source& source, const std::vector<Record>& records,
                             Skipped& skipped) const;

    // The id pass: one transaction for the records with id in (after, next `batchSize` ids], which
    // replaces the index rows of that id range at once; the last batch's range is open-ended.
    BatchResult indexIdBatch(const Source& source, std::optional<std::int64_t> after, bool followWatermark, Skipped& skipped);
    std::size_t refreshSource(const Source& source, const std::atomic<bool>& stopping);
    void reportSkipped(const Source& source, const Skipped& skipped) const;

    sdk::Database& database_;
    const sdk::Clock& clock_;
    Poco::Logger& logger_;
    MatcherConfig config_;
    sdk::PhoneNormalizer normalizer_;
    std::mutex writing_;  // one writer (reindex or refresh) at a time in this process
    std::map<std::string, std::string> lastErrors_;  // by kind, under writing_
    // Connections with matchAll's statement prepared, kept between calls (a few: each holds a
    // session out of the pool until this index is destroyed).
    std::mutex preparedMutex_;
    std::vector<std::unique_ptr<sdk::PreparedSession>> prepared_;
};

}  // namespace tawasul::plugins::contact_matcher
