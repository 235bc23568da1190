#pragma once
// Issue #15: a sender who already is a B2B lead's contact (the contact matcher names the lead)
// asks for a quote. Run on either engine, the same check.
#include "HostProcess.hpp"

namespace tawasul::test {

// Starts a host with `options` (its database and environment; the plugins are chosen here), seeds
// an organization and two leads, indexes them, deletes one, and has both their contacts ask for a
// quote (one twice, and the first message delivered again). Asserts that the known lead gets no
// twin: the conversation is linked to it, its notes gain the first request once, and the inbox
// panel shows that lead; and that the contact of the deleted lead is given a new one.
void checkAKnownLeadAsksAgain(HostOptions options);

}  // namespace tawasul::test
