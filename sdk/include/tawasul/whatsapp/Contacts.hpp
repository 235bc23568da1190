#pragma once
// Who is writing: the platform's records (enrollments, registrations, B2B leads, organizations)
// whose phone matches a WhatsApp sender. Published by the contact_matcher plugin under
// ContactMatcher::kServiceName.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

// One platform record whose phone matches, with the evidence: where the phone was found and
// what was written there.
struct MatchCandidate {
    std::string kind;       // enrollment, registration, b2b_lead, organization
    std::int64_t id = 0;    // the record's id in its table
    std::string name;       // its display name (may be empty)
    std::string source;     // the table the record lives in
    std::string column;     // the phone column that matched
    std::string rawValue;   // the value stored in that column, as written
    std::string adminLink;  // where an admin sees the record, e.g. "/admin/registrations/42"
    int priority = 0;       // lower is a better match
};

class TAWASUL_SDK_API ContactMatcher {
public:
    // The name it is published under: services().find<ContactMatcher>(ContactMatcher::kServiceName).
    static constexpr const char* kServiceName = "contact_matcher";
    virtual ~ContactMatcher();
    // Normalises `phoneOrWaId` (a wa_id or any phone form) and returns the matching records by
    // priority (lower first), then kind, then id. Not a phone number: empty.
    virtual std::vector<MatchCandidate> match(const std::string& phoneOrWaId) = 0;
    // match() for many senders at once, keyed by each given value: what match() returns for it
    // (senders that match nothing map to an empty list or are absent). The inbound router looks up
    // a whole batch with it, outside its write transaction; the default asks match() one by one.
    virtual std::map<std::string, std::vector<MatchCandidate>> matchAll(const std::vector<std::string>& phonesOrWaIds);
    // Rebuilds the whole index from every source; `progress(done, total)` counts platform
    // records. Returns the number of phone numbers indexed.
    virtual std::size_t reindex(const std::function<void(std::size_t done, std::size_t total)>& progress) = 0;
};

}  // namespace tawasul::sdk
