#pragma once
// Issue #17: the webhook fields besides "messages" (template reviews, account events, fields no
// plugin takes), checked the same way on either engine. Each starts hosts with `options` (its
// database and environment; outboundHost() wiring, pointed at `fake`).
#include "FakeGraphApi.hpp"
#include "HostProcess.hpp"

namespace tawasul::test {

// A template Meta rejects cannot be sent (the send is refused at once, with Meta's reason, and the
// inbox picker no longer offers it); approved again later it is sent; a rejection delivered late
// (older than the approval) changes nothing, and a review delivered twice changes nothing more.
void checkTemplateReviews(HostOptions options, FakeGraphApi& fake);

// A restriction of customer-initiated messaging, raised by an account_update that reaches `hosts`
// hosts' first one, stops the Cloud API on every host (sends go to the Outbox, no call to Meta, the
// chain says why) until a later update lifts it; one of business-initiated messaging stops
// templates only; a restriction whose end has passed stops nothing. A field no plugin takes is
// kept in its event, counted, and its job succeeds.
void checkAccountEvents(HostOptions options, FakeGraphApi& fake, int hosts);

// `tawasul templates sync` pages through Meta's list (two pages at the fake): Meta's copy lands
// (added, updated, the local one left local), a template with a media header is skipped with the
// reason, a rejected one cannot be sent while an approved one is; a template Meta no longer lists
// is marked deleted at the next sync; a token Meta refuses exits 1 and writes nothing; the
// templates page's button does the same for an admin and refuses a viewer.
void checkTemplateSync(HostOptions options, FakeGraphApi& fake);

// The template page submits a template to Meta with an example per variable (named header, body and
// link variables as Meta asks for them); it is then in review (refused until Meta's webhook
// approves it); a missing example is 422 and asks Meta nothing; Meta's refusal is a 502 page with
// the reason and changes nothing; a viewer cannot submit.
void checkTemplateSubmission(HostOptions options, FakeGraphApi& fake);

// Every body of tests/fixtures/fields/, posted in order as Meta sent it: each leaves its mark
// (the template's status, quality and category; Meta's alert; the limit lowered; the account
// disabled, which stops the Cloud API, then reinstated, which lets it go again).
void checkFieldFixtures(HostOptions options);

}  // namespace tawasul::test
