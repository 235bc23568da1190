#pragma once
// One fixed corpus of webhook bodies that exercises every rule of the inbound timeline (new and
// repeat senders, redeliveries of the same wamid in one POST and across POSTs, BSUID-only senders,
// statuses in every order for stored outbound messages, statuses before their message, Meta's
// errors, bodies that are not WhatsApp notifications), and a dump of the resulting timeline by
// natural keys (no surrogate ids, no times the host took from its clock), so that two engines or
// two versions of the code can be compared line by line.
#include <string>
#include <vector>

#include "HostProcess.hpp"
#include "tawasul/sdk/Database.hpp"

namespace tawasul::test {

// The bodies in posting order: the fixtures of ../shared/fixtures/meta, then the generated mix.
// Generated deterministically: the same list on every call.
std::vector<std::string> timelineCorpus();

// What the corpus refers to and must exist before it is processed: platform records to match
// (registrations, enrollments, organizations) and outbound messages whose statuses it carries, plus
// a contact whose conversation was resolved. Run on a migrated database, then `contacts reindex`.
void seedTimelineCorpus(sdk::Database& db);

// The timeline as sorted text, one section per table (contacts, conversations, messages,
// statuses, errors, leads, webhook events).
std::string timelineDump(sdk::Database& db);

// Starts a host with `options` but no worker, seeds, indexes the platform records, posts the whole
// corpus one body at a time (each must be answered 200, every event must still wait), restarts the
// host on the same database with one worker, which claims full batches in posting order, waits
// until every event is processed or failed, and returns timelineDump().
std::string processTimelineCorpus(HostOptions options);

// Where the committed dump lives: what the per-event code before issue #13 produced, on SQLite.
std::string timelineCorpusExpectedPath();
// Compare only, or (the SQLite test alone) honour TAWASUL_WRITE_TIMELINE_EXPECTED=1: write the
// dump to the expected file, then fail, so that the new oracle is reviewed before it is committed.
enum class ExpectedFile { CompareOnly, MayRewrite };
// Compares a dump with the committed one; throws with the first line that differs.
void checkTimelineCorpus(const std::string& dump, ExpectedFile mode);

}  // namespace tawasul::test
