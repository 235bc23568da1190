#pragma once
// A person known by phone and by business-scoped user id (BSUID): whatever order Meta reveals the
// two ids in, and whether a message or a status names them together, they end as one contact.
// Run on either engine, the same check.
#include "HostProcess.hpp"

namespace tawasul::test {

// Starts a host with `options` (its database and environment) and, one business number per case:
// phone first then BSUID then both (the phone's contact kept), BSUID first (the BSUID's contact
// kept, gaining the phone), the three in one POST, a status teaching a phone contact its BSUID, a
// status naming a phone contact and a BSUID contact, and a kept contact whose only conversation was
// resolved (the other's open one moves to it). Asserts one contact per person, the conversations
// and all the messages with their counts, and that posting everything again changes nothing.
void checkContactMerges(HostOptions options);

}  // namespace tawasul::test
