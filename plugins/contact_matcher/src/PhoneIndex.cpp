#include "PhoneIndex.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Statement.h>

#include "tawasul/sdk/PreparedSession.hpp"

namespace tawasul::plugins::contact_matcher {

using namespace Poco::Data::Keywords;
using Poco::Data::Session;
using Poco::Data::Statement;

namespace {

// Rows per multi-row INSERT and ids per IN list: 7 values a row stays far below the parameter
// limits of both engines (SQLite 32766, PostgreSQL 65535).
constexpr std::size_t kRowsPerStatement = 200;
constexpr std::size_t kSkippedExamples = 5;
// Prepared connections kept for matchAll between calls (each holds a session out of the pool).
constexpr std::size_t kPreparedKept = 4;
// The index can always be rebuilt from the platform's tables, and a lost batch takes its
// watermark with it (same transaction), so the refresh simply does it again.
constexpr sdk::Durability kIndexDurability = sdk::Durability::Relaxed;
// How long an edit stamp may trail its commit. A watermark at the largest stamp read would miss a
// row stamped the same millisecond, or stamped earlier by a transaction that commits later; so
// the time watermark never passes now - this, and the edits of the last half minute are read
// again each round (idempotent, and few).
constexpr std::int64_t kEditSettleMillis = 30000;

std::optional<std::int64_t> optionalInt(const Poco::Dynamic::Var& value) {
    if (value.isEmpty()) return std::nullopt;
    return value.convert<std::int64_t>();
}

std::string text(const Poco::Dynamic::Var& value) { return value.isEmpty() ? std::string() : value.convert<std::string>(); }

std::string trimmed(const std::string& value) {
    const auto first = value.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return "";
    return value.substr(first, value.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

struct PhoneIndex::Record {
    std::int64_t id = 0;
    std::string name;
    std::vector<std::string> phones;  // one per phone column, "" when NULL
    std::optional<std::int64_t> updated;
};

PhoneIndex::PhoneIndex(sdk::Database& database, const sdk::Clock& clock, Poco::Logger& logger, MatcherConfig config)
    : database_(database), clock_(clock), logger_(logger), config_(std::move(config)), normalizer_(config_.defaultRegion) {}

// ---- lookup ----------------------------------------------------------------------------------

std::vector<sdk::MatchCandidate> PhoneIndex::match(const std::string& phoneOrWaId) {
    auto matches = matchAll({phoneOrWaId});
    return std::move(matches[phoneOrWaId]);
}

std::map<std::string, std::vector<sdk::MatchCandidate>> PhoneIndex::matchAll(const std::vector<std::string>& phonesOrWaIds) {
    std::map<std::string, std::vector<sdk::MatchCandidate>> matches;
    std::map<std::string, std::vector<std::string>> askedAs;  // E.164 → the values given for it
    for (const std::string& value : phonesOrWaIds) {
        matches[value];
        if (auto phone = normalizer_.toE164(value)) askedAs[*phone].push_back(value);
    }
    if (askedAs.empty()) return matches;
    sdk::JsonRows phones;
    for (const auto& [phone, values] : askedAs) phones.row().add(phone);
    // A connection with this statement prepared, kept for the next batch (dropped after an error).
    std::unique_ptr<sdk::PreparedSession> db;
    {
        std::lock_guard lock(preparedMutex_);
        if (!prepared_.empty()) {
            db = std::move(prepared_.back());
            prepared_.pop_back();
        }
    }
    if (!db) db = std::make_unique<sdk::PreparedSession>(database_.session(), database_.sql());
    db->run("SELECT phone_e164, kind, record_id, COALESCE(name, ''), source_column, COALESCE(raw_value, '') FROM contact_phone_index "
            "WHERE phone_e164" + database_.sql().inSubquery("SELECT CAST(r.value ->> 0 AS TEXT) FROM " + database_.sql().jsonRows("$1", "r")),
            {phones.text()}, [&](const sdk::SqlRow& row) {
                // Priority, table and link come from the configuration in force, not from the time the
                // row was indexed; a kind no longer configured is left out until the next reindex drops it.
                const std::string kind = row.text(1);
                auto source = std::find_if(config_.sources.begin(), config_.sources.end(), [&](const Source& s) { return s.kind == kind; });
                if (source == config_.sources.end()) return;
                const Poco::Int64 id = row.integer(2);
                const std::string name = row.text(3), column = row.text(4), raw = row.text(5);
                for (const std::string& value : askedAs[row.text(0)])
                    matches[value].push_back({kind, id, name, source->table, column, raw, source->linkFor(id), source->priority});
            });
    {
        // A few kept: a burst of admin pages asking at once must not hold sessions for good.
        std::lock_guard lock(preparedMutex_);
        if (prepared_.size() < kPreparedKept) prepared_.push_back(std::move(db));
    }
    for (auto& [value, candidates] : matches) {
        std::sort(candidates.begin(), candidates.end(), [](const sdk::MatchCandidate& a, const sdk::MatchCandidate& b) {
            return std::tie(a.priority, a.kind, a.id, a.column) < std::tie(b.priority, b.kind, b.id, b.column);
        });
        // One candidate per record: a record whose two phone columns hold the same number is one match.
        candidates.erase(std::unique(candidates.begin(), candidates.end(),
                                     [](const sdk::MatchCandidate& a, const sdk::MatchCandidate& b) { return a.kind == b.kind && a.id == b.id; }),
                         candidates.end());
    }
    return matches;
}

// ---- reading the platform's tables ------------------------------------------------------------

std::string PhoneIndex::selectColumns(const Source& source) const {
    std::string columns = source.idColumn + ", " + source.nameColumn;
    for (const auto& column : source.phoneColumns) columns += ", " + column;
    if (!source.updatedColumn.empty()) columns += ", " + source.updatedColumn;
    return columns;
}

std::vector<PhoneIndex::Record> PhoneIndex::readRecords(Session& session, const Source& source, const std::string& where,
                                                        const std::vector<std::int64_t>& values, const std::string& orderBy) const {
    // Identifiers come from the validated configuration; every value is bound.
    Statement select(session);
    select << "SELECT " + selectColumns(source) + " FROM " + source.table + (where.empty() ? "" : " WHERE " + where) +
                  " ORDER BY " + orderBy + " LIMIT $" + std::to_string(values.size() + 1);
    for (const std::int64_t value : values) select.addBind(bind(value));
    select.addBind(bind(static_cast<Poco::Int64>(config_.batchSize)));
    select.execute();
    Poco::Data::RecordSet rows(select);
    std::vector<Record> records;
    records.reserve(rows.rowCount());
    const std::size_t phones = source.phoneColumns.size();
    for (std::size_t row = 0; row < rows.rowCount(); ++row) {
        Record record;
        record.id = rows.value(0, row).convert<std::int64_t>();
        record.name = text(rows.value(1, row));
        for (std::size_t p = 0; p < phones; ++p) record.phones.push_back(text(rows.value(2 + p, row)));
        if (!source.updatedColumn.empty()) record.updated = optionalInt(rows.value(2 + phones, row));
        records.push_back(std::move(record));
    }
    return records;
}

std::int64_t PhoneIndex::updatedSnapshot(Session& session, const Source& source) const {
    Statement select(session);
    select << "SELECT MAX(" + source.updatedColumn + ") FROM " + source.table;
    select.execute();
    Poco::Data::RecordSet rows(select);
    return settledStamp(rows.rowCount() == 0 ? 0 : optionalInt(rows.value(0, 0)).value_or(0));
}

std::int64_t PhoneIndex::settledStamp(std::int64_t stamp) const { return std::min(stamp, clock_.nowMillis() - kEditSettleMillis); }

// ---- watermarks -------------------------------------------------------------------------------

PhoneIndex::Watermark PhoneIndex::readWatermark(Session& session, const Source& source, const std::string& lock) const {
    Statement select(session);
    select << "SELECT last_id, last_updated FROM contact_index_watermarks WHERE kind = $1" + lock;
    select.addBind(bind(source.kind));
    select.execute();
    Poco::Data::RecordSet rows(select);
    if (rows.rowCount() == 0) return {};
    return {optionalInt(rows.value(0, 0)), optionalInt(rows.value(1, 0))};
}

PhoneIndex::Watermark PhoneIndex::lockWatermark(Session& session, const Source& source) const {
    std::string kind = source.kind;
    session << "INSERT INTO contact_index_watermarks (kind) VALUES ($1) ON CONFLICT (kind) DO NOTHING", use(kind), now;
    // The row exists now; reading it FOR UPDATE holds it until commit (on SQLite the transaction
    // already holds the only write turn).
    return readWatermark(session, source, database_.sql().forUpdate());
}

void PhoneIndex::saveWatermark(Session& session, const Source& source, const Watermark& mark) const {
    std::string kind = source.kind;
    if (mark.lastId) {
        Poco::Int64 id = *mark.lastId;
        session << "UPDATE contact_index_watermarks SET last_id = $1 WHERE kind = $2", use(id), use(kind), now;
    }
    if (mark.lastUpdated) {
        Poco::Int64 updated = *mark.lastUpdated;
        session << "UPDATE contact_index_watermarks SET last_updated = $1 WHERE kind = $2", use(updated), use(kind), now;
    }
}

// ---- writing the index ------------------------------------------------------------------------

std::size_t PhoneIndex::writeRecords(Session& session, const Source& source, const std::vector<Record>& records,
                                     Skipped& skipped) const {
    struct Row {
        std::string phone, name, column, raw;
        std::int64_t id;
    };
    std::vector<Row> rows;
    for (const Record& record : records) {
        for (std::size_t p = 0; p < source.phoneColumns.size(); ++p) {
            const std::string raw = trimmed(record.phones[p]);
            if (raw.empty()) continue;
            auto phone = normalizer_.toE164(raw);
            if (!phone) {
                ++skipped.count;
                if (skipped.examples.size() < kSkippedExamples) skipped.examples.push_back(record.id);
                continue;
            }
            rows.push_back({std::move(*phone), record.name, source.phoneColumns[p], record.phones[p], record.id});
        }
    }
    const int priority = source.priority;
    for (std::size_t start = 0; start < rows.size(); start += kRowsPerStatement) {
        const std::size_t count = std::min(kRowsPerStatement, rows.size() - start);
        std::string sql =
            "INSERT INTO contact_phone_index (phone_e164, kind, record_id, name, source_column, raw_value, priority) VALUES ";
        for (std::size_t i = 0; i < count; ++i) sql += (i ? ", (" : "(") + database_.sql().placeholders(i * 7 + 1, 7) + ")";
        sql += " ON CONFLICT (kind, record_id, source_column) DO UPDATE SET phone_e164 = excluded.phone_e164, "
               "name = excluded.name, raw_value = excluded.raw_value, priority = excluded.priority";
        Statement insert(session);
        insert << sql;
        for (std::size_t i = start; i < start + count; ++i) {
            const Row& row = rows[i];
            insert.addBind(bind(row.phone));
            insert.addBind(bind(source.kind));
            insert.addBind(bind(static_cast<Poco::Int64>(row.id)));
            insert.addBind(bind(row.name));
            insert.addBind(bind(row.column));
            insert.addBind(bind(row.raw));
            insert.addBind(bind(priority));
        }
        insert.execute();
    }
    return rows.size();
}

PhoneIndex::BatchResult PhoneIndex::indexIdBatch(const Source& source, std::optional<std::int64_t> after, bool followWatermark,
                                                 Skipped& skipped) {
    Session session = database_.session();
    sdk::Transaction transaction(database_, session, kIndexDurability);
    Watermark mark = lockWatermark(session, source);
    // Another host may have indexed further since this one looked: start where it stopped.
    if (followWatermark && mark.lastId && (!after || *mark.lastId > *after)) after = mark.lastId;
    // The first pass over a source fixes the time from which edits count, before reading any row:
    // a row edited later has a larger stamp and the edit pass takes it again.
    if (!source.updatedColumn.empty() && !mark.lastUpdated) mark.lastUpdated = updatedSnapshot(session, source);

    std::vector<std::int64_t> values;
    if (after) values.push_back(*after);
    const std::vector<Record> records =
        readRecords(session, source, after ? source.idColumn + " > $1" : "", values, source.idColumn);
    const bool full = records.size() == config_.batchSize;

    // The rows of this id range are replaced inside the transaction: a reader sees the range
    // before or after, never without its records. The last range is open-ended, so that rows of
    // records deleted at the end of the table go too.
    Statement remove(session);
    std::string sql = "DELETE FROM contact_phone_index WHERE kind = $1";
    remove.addBind(bind(source.kind));
    std::size_t next = 2;
    if (after) {
        sql += " AND record_id > $" + std::to_string(next++);
        remove.addBind(bind(static_cast<Poco::Int64>(*after)));
    }
    if (full) {
        sql += " AND record_id <= $" + std::to_string(next++);
        remove.addBind(bind(static_cast<Poco::Int64>(records.back().id)));
    }
    remove << sql;
    remove.execute();

    BatchResult result;
    result.records = records.size();
    result.phones = writeRecords(session, source, records, skipped);
    if (!records.empty()) {
        result.maxId = records.back().id;
        mark.lastId = std::max(mark.lastId.value_or(records.back().id), records.back().id);
    }
    saveWatermark(session, source, mark);
    transaction.commit();
    return result;
}

void PhoneIndex::reportSkipped(const Source& source, const Skipped& skipped) const {
    if (skipped.count == 0) return;
    std::string ids;
    for (const std::int64_t id : skipped.examples) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    // Ids, not the values: the log is no place for people's phone numbers.
    logger_.warning(source.table + ": skipped " + std::to_string(skipped.count) +
                    " phone value(s) that are not valid numbers (ids " + ids + (skipped.count > skipped.examples.size() ? ", ..." : "") + ")");
}

// ---- full rebuild -----------------------------------------------------------------------------

std::size_t PhoneIndex::reindex(const std::function<void(std::size_t done, std::size_t total)>& progress) {
    std::lock_guard lock(writing_);
    std::size_t total = 0;
    {
        Session session = database_.session();
        for (const Source& source : config_.sources) {
            Poco::Int64 count = 0;
            session << "SELECT COUNT(*) FROM " + source.table, into(count), now;
            total += static_cast<std::size_t>(count);
        }
    }
    std::size_t done = 0, phones = 0;
    if (progress) progress(done, total);
    for (const Source& source : config_.sources) {
        Skipped skipped;
        std::size_t records = 0, indexed = 0;
        std::optional<std::int64_t> after;
        for (;;) {
            const BatchResult batch = indexIdBatch(source, after, false, skipped);
            records += batch.records;
            indexed += batch.phones;
            done += batch.records;
            if (progress) progress(done, std::max(total, done));
            if (batch.records < config_.batchSize) break;
            after = batch.maxId;
        }
        phones += indexed;
        reportSkipped(source, skipped);
        logger_.information("indexed " + source.table + ": " + std::to_string(records) + " records, " + std::to_string(indexed) +
                            " phone numbers, " + std::to_string(skipped.count) + " skipped");
    }
    // Kinds no longer configured leave the index with the rebuild.
    {
        Session session = database_.session();
        sdk::Transaction transaction(database_, session, kIndexDurability);
        for (const char* table : {"contact_phone_index", "contact_index_watermarks"}) {
            Statement remove(session);
            remove << std::string("DELETE FROM ") + table + " WHERE kind NOT IN (" + database_.sql().placeholders(1, config_.sources.size()) + ")";
            for (const Source& source : config_.sources) remove.addBind(bind(source.kind));
            remove.execute();
        }
        transaction.commit();
    }
    if (progress) progress(done, std::max(total, done));
    return phones;
}

// ---- incremental refresh ----------------------------------------------------------------------

std::size_t PhoneIndex::refresh(const std::atomic<bool>& stopping) {
    std::unique_lock lock(writing_, std::try_to_lock);
    if (!lock.owns_lock()) return 0;  // a reindex is rebuilding everything anyway
    std::size_t indexed = 0;
    for (const Source& source : config_.sources) {
        if (stopping) break;
        try {
            indexed += refreshSource(source, stopping);
            if (auto it = lastErrors_.find(source.kind); it != lastErrors_.end()) {
                logger_.information("refresh of " + source.table + " works again");
                lastErrors_.erase(it);
            }
        } catch (const std::exception& error) {
            // Logged once per distinct error, not every few seconds while the cause lasts.
            std::string& last = lastErrors_[source.kind];
            if (last != error.what()) logger_.error("refresh of " + source.table + " failed (will retry): " + error.what());
            last = error.what();
        }
    }
    return indexed;
}

std::size_t PhoneIndex::refreshSource(const Source& source, const std::atomic<bool>& stopping) {
    std::size_t indexed = 0;
    Skipped skipped;
    Session session = database_.session();

    // New records: past the id watermark. Looked for without a transaction, so that an idle
    // refresh never takes the write lock.
    Watermark mark = readWatermark(session, source);
    auto exists = [&](const std::string& where, std::optional<std::int64_t> value) {
        Statement probe(session);
        probe << "SELECT " + source.idColumn + " FROM " + source.table + (where.empty() ? "" : " WHERE " + where) + " LIMIT 1";
        if (value) probe.addBind(bind(*value));
        probe.execute();
        return Poco::Data::RecordSet(probe).rowCount() > 0;
    };
    // A source without a time watermark yet gets one in its first id batch, rows or not.
    const bool needsSnapshot = !source.updatedColumn.empty() && !mark.lastUpdated;
    if (needsSnapshot || (mark.lastId ? exists(source.idColumn + " > $1", mark.lastId) : exists("", std::nullopt))) {
        std::optional<std::int64_t> after = mark.lastId;
        while (!stopping) {
            const BatchResult batch = indexIdBatch(source, after, true, skipped);
            indexed += batch.records;
            if (batch.records < config_.batchSize) break;
            after = batch.maxId;
        }
    }

    // Edited records: past the time watermark, paged by (stamp, id) so that many rows with one
    // stamp (a bulk UPDATE) are all taken.
    if (!source.updatedColumn.empty() && !stopping) {
        mark = readWatermark(session, source);
        if (mark.lastUpdated && exists(source.updatedColumn + " > $1", mark.lastUpdated)) {
            std::optional<std::pair<std::int64_t, std::int64_t>> cursor;  // (stamp, id) of the last row taken
            const std::string& stamp = source.updatedColumn;
            while (!stopping) {
                Session writer = database_.session();
                sdk::Transaction transaction(database_, writer, kIndexDurability);
                Watermark locked = lockWatermark(writer, source);
                const std::int64_t since = locked.lastUpdated.value_or(0);
                std::vector<Record> records;
                if (!cursor || since >= cursor->first) {
                    records = readRecords(writer, source, stamp + " > $1", {since}, stamp + ", " + source.idColumn);
                } else {
                    records = readRecords(writer, source, "(" + stamp + " > $1 OR (" + stamp + " = $1 AND " + source.idColumn + " > $2))",
                                          {cursor->first, cursor->second}, stamp + ", " + source.idColumn);
                }
                for (std::size_t start = 0; start < records.size(); start += kRowsPerStatement) {
                    const std::size_t count = std::min(kRowsPerStatement, records.size() - start);
                    Statement remove(writer);
                    remove << "DELETE FROM contact_phone_index WHERE kind = " + database_.sql().placeholders(1, 1) +
                              " AND record_id IN (" + database_.sql().placeholders(2, count) + ")";
                    remove.addBind(bind(source.kind));
                    for (std::size_t i = start; i < start + count; ++i) remove.addBind(bind(static_cast<Poco::Int64>(records[i].id)));
                    remove.execute();
                }
                writeRecords(writer, source, records, skipped);
                indexed += records.size();
                const bool full = records.size() == config_.batchSize;
                Watermark next;
                if (!records.empty()) {
                    const std::int64_t last = records.back().updated.value_or(since);
                    // Mid-way only the stamps strictly before the last one are known to be complete.
                    next.lastUpdated = std::max(since, settledStamp(full ? last - 1 : last));
                    cursor = std::make_pair(last, records.back().id);
                }
                saveWatermark(writer, source, next);
                transaction.commit();
                if (!full) break;
            }
        }
    }
    reportSkipped(source, skipped);
    if (indexed > 0) logger_.debug("refreshed " + source.table + ": " + std::to_string(indexed) + " records");
    return indexed;
}

}  // namespace tawasul::plugins::contact_matcher
