// cloud_api without the network: the token bucket against a clock the test moves by hand, the
// shared pacer's reading of the database's clock, the pair rate per recipient, the request bodies
// Meta expects, and the reading of Meta's answers into retry / refused / unhealthy.
#include <cppunit/extensions/HelperMacros.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "AccountEvents.hpp"
#include "GraphApi.hpp"
#include "PairPacer.hpp"
#include "SharedPacer.hpp"
#include "TemplateCatalog.hpp"
#include "TokenBucket.hpp"

using namespace tawasul;
using plugins::cloud_api::ClockOffset;
using plugins::cloud_api::PairPacer;
using plugins::cloud_api::PairRule;
using plugins::cloud_api::PairState;
using plugins::cloud_api::admitPair;
using plugins::cloud_api::SharedPacer;
using plugins::cloud_api::TokenBucket;
using plugins::cloud_api::tierLimit;

namespace {

Poco::JSON::Object::Ptr parse(const std::string& json) { return Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>(); }

std::string metaError(int code) {
    return "{\"error\":{\"message\":\"(#" + std::to_string(code) + ") Something\",\"type\":\"OAuthException\",\"code\":" +
           std::to_string(code) + ",\"error_data\":{\"messaging_product\":\"whatsapp\",\"details\":\"the details\"},"
           "\"fbtrace_id\":\"TRACE1\"}}";
}

}  // namespace

class CloudApiTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CloudApiTest);
    CPPUNIT_TEST(bucketSpacesABacklogAtTheRate);
    CPPUNIT_TEST(bucketNeverBurstsAfterIdleTime);
    CPPUNIT_TEST(bucketSharedByThreadsHandsOutDistinctSlots);
    CPPUNIT_TEST(bucketWithBurstAllowsThatManyAtOnce);
    CPPUNIT_TEST(aTokenWokenTooLateIsNotUsed);
    CPPUNIT_TEST(slotsWithTheMarginKeepEveryWindowWithinTheRate);
    CPPUNIT_TEST(clockOffsetTakesTheQuickestRoundTrip);
    CPPUNIT_TEST(clockOffsetForgetsWhatANewerSampleContradicts);
    CPPUNIT_TEST(pairRuleLetsABurstThroughThenWaitsUntilItIsPaidFor);
    CPPUNIT_TEST(pairRuleWithABurstOfOneSpacesEveryMessage);
    CPPUNIT_TEST(pairPacerInThisProcessKeepsOneAccountPerRecipient);
    CPPUNIT_TEST(textBodyCarriesRecipientTextAndContext);
    CPPUNIT_TEST(templateBodyHasLanguageComponentsAndNamedParameters);
    CPPUNIT_TEST(markReadBody);
    CPPUNIT_TEST(typingBodyIsTheReadCallWithTheIndicator);
    CPPUNIT_TEST(successReadsTheWamid);
    CPPUNIT_TEST(errorClasses);
    CPPUNIT_TEST(unreadableSuccessIsNotRetried);
    CPPUNIT_TEST(aTemplatePageReadsMetasParts);
    CPPUNIT_TEST(aTemplatePageThatIsNotOneIsRefused);
    CPPUNIT_TEST(mediaLookupReadsTheUrlAndWhatMetaSaysOfTheFile);
    CPPUNIT_TEST(mediaLookupErrorClasses);
    CPPUNIT_TEST(aPositionalTemplateIsSubmittedWithItsExamples);
    CPPUNIT_TEST(tierWordsAreCounts);
    CPPUNIT_TEST_SUITE_END();

public:
    void bucketSpacesABacklogAtTheRate() {
        TokenBucket bucket(80);
        // 10,000 callers at once: the slots are 12.5 ms apart, 80 in every second, never 81.
        std::vector<std::int64_t> slots;
        for (int i = 0; i < 10000; ++i) slots.push_back(bucket.reserve(0));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), slots.front());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(12500), slots[1]);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(9999LL * 12500), slots.back());
        std::size_t first = 0, most = 0;
        for (std::size_t last = 0; last < slots.size(); ++last) {
            while (slots[last] - slots[first] >= 1000000) ++first;
            most = std::max(most, last - first + 1);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(80), most);

        TokenBucket fast(1000);
        std::int64_t last = 0;
        for (int i = 0; i < 10000; ++i) last = fast.reserve(0);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(9999LL * 1000), last);
    }

    void bucketNeverBurstsAfterIdleTime() {
        TokenBucket bucket(80);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), bucket.reserve(0));
        // Ten idle seconds store nothing up: three callers at 10 s get 10 s, +12.5 ms, +25 ms.
        CPPUNIT_ASSERT_EQUAL(std::int64_t(10000000), bucket.reserve(10000000));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(10012500), bucket.reserve(10000000));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(10025000), bucket.reserve(10000000));
        // A caller after its slot time gets its own time, not an earlier one.
        CPPUNIT_ASSERT_EQUAL(std::int64_t(20000000), bucket.reserve(20000000));
    }

    void bucketSharedByThreadsHandsOutDistinctSlots() {
        TokenBucket bucket(1000);
        std::vector<std::vector<std::int64_t>> taken(8);
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < 500; ++i) taken[static_cast<std::size_t>(t)].push_back(bucket.reserve(0));
            });
        for (auto& thread : threads) thread.join();
        std::vector<std::int64_t> all;
        for (const auto& slots : taken) all.insert(all.end(), slots.begin(), slots.end());
        std::sort(all.begin(), all.end());
        for (std::size_t i = 0; i < all.size(); ++i) CPPUNIT_ASSERT_EQUAL(static_cast<std::int64_t>(i) * 1000, all[i]);
    }

    void bucketWithBurstAllowsThatManyAtOnce() {
        TokenBucket bucket(10, 3);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), bucket.reserve(0));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), bucket.reserve(0));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), bucket.reserve(0));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(100000), bucket.reserve(0));
    }

    void aTokenWokenTooLateIsNotUsed() {
        TokenBucket bucket(80);  // 12.5 ms
        const std::int64_t slot = bucket.reserve(0);
        CPPUNIT_ASSERT(bucket.usable(slot, 0));
        CPPUNIT_ASSERT(bucket.usable(slot, 4999));
        CPPUNIT_ASSERT(!bucket.usable(slot, 5000));
        // The late caller takes the next free token, after those already handed out.
        CPPUNIT_ASSERT_EQUAL(std::int64_t(12500), bucket.reserve(0));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(25000), bucket.reserve(12500));
        // The same 5 ms at any rate: it is what the margin leaves in any second, not a share of a slot.
        TokenBucket fast(1000);
        CPPUNIT_ASSERT(fast.usable(fast.reserve(0), 4999));
        CPPUNIT_ASSERT(!fast.usable(0, 5000));
        TokenBucket slow(1);
        CPPUNIT_ASSERT(!slow.usable(slow.reserve(0), 5000));
    }

    // Slots spaced 1.5 % under the rate, each sent at most the late tolerance after it: however
    // the lateness falls, no one-second window holds more than the rate, with 10 ms left over for
    // the request's way; the measured rate loses 1.5 %.
    void slotsWithTheMarginKeepEveryWindowWithinTheRate() {
        for (const double rate : {1.0, 20.0, 80.0, 1000.0}) {
            TokenBucket bucket(rate * SharedPacer::kMargin);
            std::vector<std::int64_t> sent;
            const int count = static_cast<int>(rate) * 5 + 1;
            for (int i = 0; i < count; ++i) {
                // Every other send as late as allowed, and the busiest windows start at one.
                const std::int64_t slot = bucket.reserve(0);
                sent.push_back(slot + (i % 2 == 0 ? TokenBucket::kLateToleranceMicros - 1 : 0));
            }
            std::sort(sent.begin(), sent.end());
            std::size_t first = 0, most = 0;
            for (std::size_t last = 0; last < sent.size(); ++last) {
                // A window of one second and the 10 ms of way to Meta.
                while (sent[last] - sent[first] >= 1000000 - 10000) ++first;
                most = std::max(most, last - first + 1);
            }
            CPPUNIT_ASSERT_MESSAGE(std::to_string(rate) + "/s: " + std::to_string(most) + " in one second", most <= static_cast<std::size_t>(rate));
            const double measured = (count - 1) / ((sent.back() - sent.front()) / 1e6);
            CPPUNIT_ASSERT_MESSAGE(std::to_string(measured), measured > rate * 0.984 && measured < rate);
        }
    }

    void clockOffsetTakesTheQuickestRoundTrip() {
        // The database's clock runs 5 s ahead of this host's. A round trip of 4 ms gives bounds
        // 4 ms wide; a later one of 0.2 ms narrows them, and they stay narrow while it is recent.
        ClockOffset offset;
        const std::int64_t ahead = 5000000;
        auto bounds = offset.add(1000000 + 2000 + ahead, 1000000, 1004000);
        CPPUNIT_ASSERT_EQUAL(ahead - 2000, bounds.low);
        CPPUNIT_ASSERT_EQUAL(ahead + 2000, bounds.high);
        bounds = offset.add(1100000 + 100 + ahead, 1100000, 1100200);
        CPPUNIT_ASSERT_EQUAL(ahead - 100, bounds.low);
        CPPUNIT_ASSERT_EQUAL(ahead + 100, bounds.high);
        bounds = offset.add(1200000 + 9000 + ahead, 1200000, 1210000);  // slow, but the quick one still holds
        CPPUNIT_ASSERT_EQUAL(ahead - 100, bounds.low);
        CPPUNIT_ASSERT_EQUAL(ahead + 100, bounds.high);
        // Past the window the quick sample is forgotten: the bounds are those of what is recent.
        bounds = offset.add(1100000 + ClockOffset::kWindowMicros + 500 + ahead, 1100000 + ClockOffset::kWindowMicros,
                            1100000 + ClockOffset::kWindowMicros + 1000);
        CPPUNIT_ASSERT_EQUAL(ahead - 500, bounds.low);
        CPPUNIT_ASSERT_EQUAL(ahead + 500, bounds.high);
    }

    void clockOffsetForgetsWhatANewerSampleContradicts() {
        // The database's clock is set back by a second: the samples from before disagree with the
        // new one and are let go, rather than leaving no offset that fits them all.
        ClockOffset offset;
        offset.add(1000000 + 100, 1000000, 1000200);
        offset.add(1010000 + 100, 1010000, 1010200);
        const auto bounds = offset.add(1020000 + 100 - 1000000, 1020000, 1020200);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(-1000100), bounds.low);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(-999900), bounds.high);
        // At most kSamples are kept.
        ClockOffset many;
        many.add(0 + 50, 0, 100);  // a quick one, soon pushed out by slower ones
        ClockOffset::Bounds last;
        for (std::size_t i = 1; i <= ClockOffset::kSamples; ++i) {
            const auto at = static_cast<std::int64_t>(i) * 1000;
            last = many.add(at + 500, at, at + 1000);
        }
        CPPUNIT_ASSERT_EQUAL(std::int64_t(-500), last.low);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(500), last.high);
    }

    void pairRuleLetsABurstThroughThenWaitsUntilItIsPaidFor() {
        const PairRule rule{6000000, 3};  // 6 s, bursts of 3
        PairState state;
        // Three at once from a paid-up account; the fourth waits until the three are paid for.
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), admitPair(state, rule, 1000000));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), admitPair(state, rule, 1000000));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), admitPair(state, rule, 2000000));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(18000000), admitPair(state, rule, 1000000));
        // A refusal changes nothing: later the wait is shorter by as much.
        CPPUNIT_ASSERT_EQUAL(std::int64_t(9000000), admitPair(state, rule, 10000000));
        // Paid for: a new burst.
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), admitPair(state, rule, 19000000));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), admitPair(state, rule, 20000000));
        // The burst lasts one interval: past it, the next waits for what the burst borrowed.
        CPPUNIT_ASSERT_EQUAL(std::int64_t(31000000 - 25000000), admitPair(state, rule, 25000000));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), admitPair(state, rule, 31000000));
    }

    void pairRuleWithABurstOfOneSpacesEveryMessage() {
        const PairRule rule{6000000, 1};
        PairState state;
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), admitPair(state, rule, 0));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(6000000), admitPair(state, rule, 0));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), admitPair(state, rule, 5999999));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), admitPair(state, rule, 6000000));
        // An idle minute stores nothing up: one message, then six seconds again.
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), admitPair(state, rule, 66000000));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(6000000), admitPair(state, rule, 66000000));
    }

    void pairPacerInThisProcessKeepsOneAccountPerRecipient() {
        PairPacer pacer(nullptr, PairRule{3600000000LL, 2});  // an hour: nothing is paid for during the test
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), pacer.admit("100", "+213555000001").count());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), pacer.admit("100", "+213555000001").count());
        const auto wait = pacer.admit("100", "+213555000001");
        CPPUNIT_ASSERT_MESSAGE(std::to_string(wait.count()), wait > std::chrono::minutes(119) && wait <= std::chrono::hours(2));
        // Another recipient, or the same from another business number, has its own account.
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), pacer.admit("100", "+213555000002").count());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), pacer.admit("200", "+213555000001").count());
        CPPUNIT_ASSERT_THROW(PairPacer(nullptr, PairRule{0, 1}), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(PairPacer(nullptr, PairRule{1000, 0}), std::invalid_argument);
    }

    void textBodyCarriesRecipientTextAndContext() {
        sdk::OutboundMessage message;
        message.toE164 = "+213555123456";
        message.text = "Bonjour, مرحبا";
        message.replyToWamid = "wamid.IN1";
        const auto body = parse(plugins::cloud_api::textBody(message));
        CPPUNIT_ASSERT_EQUAL(std::string("whatsapp"), body->getValue<std::string>("messaging_product"));
        CPPUNIT_ASSERT_EQUAL(std::string("+213555123456"), body->getValue<std::string>("to"));
        CPPUNIT_ASSERT_EQUAL(std::string("text"), body->getValue<std::string>("type"));
        CPPUNIT_ASSERT_EQUAL(message.text, body->getObject("text")->getValue<std::string>("body"));
        CPPUNIT_ASSERT_EQUAL(std::string("wamid.IN1"), body->getObject("context")->getValue<std::string>("message_id"));
        message.replyToWamid.clear();
        CPPUNIT_ASSERT(!parse(plugins::cloud_api::textBody(message))->has("context"));
        // A phone wins over a BSUID; a contact known only by BSUID is sent to with `recipient`, never `to`.
        message.userId = "DZ.13491208655302741918";
        CPPUNIT_ASSERT(!parse(plugins::cloud_api::textBody(message))->has("recipient"));
        message.toE164.clear();
        const auto byBsuid = parse(plugins::cloud_api::textBody(message));
        CPPUNIT_ASSERT_EQUAL(message.userId, byBsuid->getValue<std::string>("recipient"));
        CPPUNIT_ASSERT(!byBsuid->has("to"));
        message.kind = sdk::ContentKind::Template;
        message.templ.name = "welcome";
        message.templ.language = "fr";
        CPPUNIT_ASSERT_EQUAL(message.userId, parse(plugins::cloud_api::templateBody(message))->getValue<std::string>("recipient"));
        // The pair rate is counted per whom the body names.
        CPPUNIT_ASSERT_EQUAL(message.userId, plugins::cloud_api::pairRecipient(message));
        message.waId = "213555123456";
        CPPUNIT_ASSERT_EQUAL(message.userId, plugins::cloud_api::pairRecipient(message));
        message.toE164 = "+213555123456";
        CPPUNIT_ASSERT_EQUAL(std::string("+213555123456"), plugins::cloud_api::pairRecipient(message));
        message.toE164.clear();
        message.userId.clear();
        CPPUNIT_ASSERT_EQUAL(std::string("213555123456"), plugins::cloud_api::pairRecipient(message));
    }

    void templateBodyHasLanguageComponentsAndNamedParameters() {
        sdk::OutboundMessage message;
        message.kind = sdk::ContentKind::Template;
        message.toE164 = "+213555123456";
        message.templ.name = "welcome";
        message.templ.language = "fr";
        message.templ.components.push_back({"header", "", 0, {{"", "Tawasul"}}});
        message.templ.components.push_back({"body", "", 0, {{"first_name", "Amina"}, {"programme", "Data"}}});
        message.templ.components.push_back({"button", "quick_reply", 1, {{"", "YES"}}});
        const auto body = parse(plugins::cloud_api::templateBody(message));
        CPPUNIT_ASSERT_EQUAL(std::string("template"), body->getValue<std::string>("type"));
        const auto templ = body->getObject("template");
        CPPUNIT_ASSERT_EQUAL(std::string("welcome"), templ->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("fr"), templ->getObject("language")->getValue<std::string>("code"));
        const auto components = templ->getArray("components");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), components->size());
        const auto header = components->getObject(0);
        CPPUNIT_ASSERT_EQUAL(std::string("header"), header->getValue<std::string>("type"));
        CPPUNIT_ASSERT(!header->getArray("parameters")->getObject(0)->has("parameter_name"));
        const auto named = components->getObject(1)->getArray("parameters")->getObject(0);
        CPPUNIT_ASSERT_EQUAL(std::string("first_name"), named->getValue<std::string>("parameter_name"));
        CPPUNIT_ASSERT_EQUAL(std::string("text"), named->getValue<std::string>("type"));
        CPPUNIT_ASSERT_EQUAL(std::string("Amina"), named->getValue<std::string>("text"));
        const auto button = components->getObject(2);
        CPPUNIT_ASSERT_EQUAL(std::string("quick_reply"), button->getValue<std::string>("sub_type"));
        CPPUNIT_ASSERT_EQUAL(std::string("1"), button->getValue<std::string>("index"));
        CPPUNIT_ASSERT_EQUAL(std::string("YES"), button->getArray("parameters")->getObject(0)->getValue<std::string>("payload"));
    }

    void markReadBody() {
        const auto body = parse(plugins::cloud_api::markReadBody("wamid.X"));
        CPPUNIT_ASSERT_EQUAL(std::string("read"), body->getValue<std::string>("status"));
        CPPUNIT_ASSERT_EQUAL(std::string("wamid.X"), body->getValue<std::string>("message_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("whatsapp"), body->getValue<std::string>("messaging_product"));
    }

    void typingBodyIsTheReadCallWithTheIndicator() {
        // Byte for byte what Meta documents (keys in Poco's order: sorted).
        CPPUNIT_ASSERT_EQUAL(std::string("{\"message_id\":\"wamid.X\",\"messaging_product\":\"whatsapp\",\"status\":\"read\","
                                         "\"typing_indicator\":{\"type\":\"text\"}}"),
                             plugins::cloud_api::typingBody("wamid.X"));
    }

    void successReadsTheWamid() {
        const auto classified = plugins::cloud_api::classifyAnswer(
            200, "{\"messaging_product\":\"whatsapp\",\"contacts\":[{\"input\":\"+1\",\"wa_id\":\"1\"}],\"messages\":[{\"id\":\"wamid.OK\"}]}");
        CPPUNIT_ASSERT(classified.result.outcome == sdk::SendOutcome::Sent);
        CPPUNIT_ASSERT_EQUAL(std::string("wamid.OK"), classified.result.providerMessageId);
        CPPUNIT_ASSERT(!classified.unhealthy);
    }

    void errorClasses() {
        using sdk::SendOutcome;
        struct Case {
            int http, code;
            SendOutcome outcome;
            bool unhealthy;
        };
        const Case cases[] = {
            {400, 130429, SendOutcome::RetryLater, false}, {400, 131056, SendOutcome::RetryLater, false},
            {400, 131057, SendOutcome::RetryLater, false}, {500, 131000, SendOutcome::RetryLater, false},
            {400, 131047, SendOutcome::Refused, false},    {400, 131026, SendOutcome::Refused, false},
            {400, 132000, SendOutcome::Refused, false},    {400, 132001, SendOutcome::Refused, false},
            {400, 132012, SendOutcome::Refused, false},    {401, 190, SendOutcome::Unavailable, true},
            {403, 368, SendOutcome::Unavailable, true},    {403, 131031, SendOutcome::Unavailable, true},
            {400, 100, SendOutcome::Refused, false},
        };
        for (const Case& c : cases) {
            const auto classified = plugins::cloud_api::classifyAnswer(c.http, metaError(c.code));
            const std::string label = std::to_string(c.code);
            CPPUNIT_ASSERT_MESSAGE(label, classified.result.outcome == c.outcome);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(label, c.unhealthy, classified.unhealthy);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(label, c.code, classified.result.errorCode);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(label, c.http, classified.result.httpStatus);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(label, "(#" + label + ") Something", classified.result.errorTitle);
            CPPUNIT_ASSERT_MESSAGE(label, classified.result.errorDetails.find("the details") != std::string::npos);
            CPPUNIT_ASSERT_MESSAGE(label, classified.result.errorDetails.find("TRACE1") != std::string::npos);
        }
        CPPUNIT_ASSERT_EQUAL(std::int64_t(6000), static_cast<std::int64_t>(plugins::cloud_api::classifyAnswer(400, metaError(131056)).result.retryAfter.count()));
        // Without Meta's body: 5xx and 429 retry, another 4xx is the request's fault.
        CPPUNIT_ASSERT(plugins::cloud_api::classifyAnswer(502, "<html>bad gateway</html>").result.outcome == SendOutcome::RetryLater);
        CPPUNIT_ASSERT(plugins::cloud_api::classifyAnswer(429, "").result.outcome == SendOutcome::RetryLater);
        CPPUNIT_ASSERT(plugins::cloud_api::classifyAnswer(404, "").result.outcome == SendOutcome::Refused);
        CPPUNIT_ASSERT(plugins::cloud_api::networkFailure("Timeout").outcome == SendOutcome::RetryLater);
    }

    void unreadableSuccessIsNotRetried() {
        const auto classified = plugins::cloud_api::classifyAnswer(200, "{\"unexpected\":true}");
        CPPUNIT_ASSERT(classified.result.outcome == sdk::SendOutcome::Refused);
        CPPUNIT_ASSERT(classified.result.providerMessageId.empty());
    }

    void aTemplatePageReadsMetasParts() {
        using plugins::cloud_api::readTemplatePage;
        const auto page = readTemplatePage(
            "{\"data\":[{\"name\":\"rappel\",\"language\":\"fr\",\"status\":\"APPROVED\",\"category\":\"UTILITY\",\"id\":\"1\","
            "\"quality_score\":{\"score\":\"YELLOW\"},\"rejected_reason\":\"NONE\",\"components\":[{\"type\":\"HEADER\",\"format\":\"TEXT\","
            "\"text\":\"Rappel {{1}}\"},{\"type\":\"BODY\",\"text\":\"Bonjour {{1}}\"},{\"type\":\"BUTTONS\",\"buttons\":[{\"type\":"
            "\"QUICK_REPLY\",\"text\":\"Oui\"},{\"type\":\"URL\",\"text\":\"Suivi\",\"url\":\"https://x.dz/{{1}}\"}]}]},"
            "{\"name\":\"code\",\"language\":\"en\",\"status\":\"APPROVED\",\"components\":[{\"type\":\"BODY\",\"text\":\"{{1}} is your code\"},"
            "{\"type\":\"BUTTONS\",\"buttons\":[{\"type\":\"OTP\",\"otp_type\":\"COPY_CODE\"}]}]},"
            "{\"name\":\"\",\"language\":\"en\"},{\"language\":\"en\",\"name\":\"nobody\",\"components\":[]},7],"
            "\"paging\":{\"cursors\":{\"before\":\"QVFI\",\"after\":\"QVFIUjZA\"},\"next\":\"https://graph.facebook.com/x?after=QVFIUjZA\"}}");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), page.templates.size());  // the nameless entry and the number are no templates
        const sdk::MetaTemplate& rappel = page.templates[0];
        CPPUNIT_ASSERT_EQUAL(std::string("rappel|fr|APPROVED|UTILITY|YELLOW|"),
                             rappel.name + "|" + rappel.language + "|" + rappel.status + "|" + rappel.category + "|" + rappel.quality + "|" +
                                 rappel.rejectedReason);
        CPPUNIT_ASSERT_EQUAL(std::string("Rappel {{1}}|Bonjour {{1}}"), rappel.definition.header + "|" + rappel.definition.body);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), rappel.definition.buttons.size());
        CPPUNIT_ASSERT_EQUAL(std::string("quick_reply"), rappel.definition.buttons[0].type);
        CPPUNIT_ASSERT_EQUAL(std::string("https://x.dz/{{1}}"), rappel.definition.buttons[1].url);
        CPPUNIT_ASSERT(!rappel.unsupported);
        CPPUNIT_ASSERT_EQUAL(std::string("a button of type OTP (Tawasul sends link and quick-reply buttons only)"),
                             page.templates[1].unsupported.value_or(""));
        CPPUNIT_ASSERT_EQUAL(std::string("no body"), page.templates[2].unsupported.value_or(""));
        CPPUNIT_ASSERT_EQUAL(std::string("QVFIUjZA"), page.after.value_or(""));
        // The last page has a cursor but no "next".
        CPPUNIT_ASSERT(!readTemplatePage("{\"data\":[],\"paging\":{\"cursors\":{\"after\":\"QVFI\"}}}").after);
        CPPUNIT_ASSERT(!readTemplatePage("{\"data\":[]}").after);
        // The cursor goes into the next request encoded.
        CPPUNIT_ASSERT_EQUAL(std::string("/123/message_templates?fields=id,name,language,status,category,quality_score,rejected_reason,"
                                         "components&limit=100&after=a%26b%3D"),
                             plugins::cloud_api::templatePagePath("123", 100, std::string("a&b=")));
    }

    void aTemplatePageThatIsNotOneIsRefused() {
        using plugins::cloud_api::readTemplatePage;
        for (const char* body : {"", "not json", "[1,2]", "{}", "{\"data\":{}}", "\"text\"", "null"}) {
            try {
                readTemplatePage(body);
                CPPUNIT_FAIL(std::string("read as a page: ") + body);
            } catch (const std::runtime_error& error) {
                CPPUNIT_ASSERT_MESSAGE(error.what(), std::string(error.what()).find("Meta's template list") == 0);
            }
        }
    }

    void mediaLookupReadsTheUrlAndWhatMetaSaysOfTheFile() {
        using plugins::cloud_api::readMediaLookup;
        const auto lookup = readMediaLookup(200, "{\"messaging_product\":\"whatsapp\",\"url\":\"https://lookaside.fbsbx.com/whatsapp_business/"
                                                 "attachments/?mid=1&ext=2&hash=3\",\"mime_type\":\"image/jpeg\",\"sha256\":\"ab12\","
                                                 "\"file_size\":30603,\"id\":\"1037543291543636\"}");
        CPPUNIT_ASSERT(lookup.ok);
        CPPUNIT_ASSERT_EQUAL(std::string("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&ext=2&hash=3"), lookup.url);
        CPPUNIT_ASSERT_EQUAL(std::string("image/jpeg"), lookup.failure.mimeType);
        CPPUNIT_ASSERT_EQUAL(std::string("ab12"), lookup.failure.sha256);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(30603), lookup.failure.declaredSize);
        // A size given as a string of digits counts; one that is not a number does not.
        CPPUNIT_ASSERT_EQUAL(std::int64_t(12), readMediaLookup(200, "{\"url\":\"https://x/y\",\"file_size\":\"12\"}").failure.declaredSize);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(-1), readMediaLookup(200, "{\"url\":\"https://x/y\",\"file_size\":\"big\"}").failure.declaredSize);
        // Only http(s) is ever fetched: a file: or an absent URL is refused, not retried.
        for (const char* body : {"{\"url\":\"file:///etc/passwd\"}", "{\"mime_type\":\"image/png\"}"}) {
            const auto refused = readMediaLookup(200, body);
            CPPUNIT_ASSERT_MESSAGE(body, !refused.ok);
            CPPUNIT_ASSERT_MESSAGE(body, refused.failure.outcome == sdk::MediaOutcome::Refused);
        }
        // A size that is no size (huge, negative, of another type) is no declaration, not a failure.
        for (const char* size : {"1e300", "-5", "\"99999999999999999999999\"", "[1]", "null"}) {
            const auto odd = readMediaLookup(200, std::string("{\"url\":\"https://x/y\",\"file_size\":") + size + "}");
            CPPUNIT_ASSERT_MESSAGE(size, odd.ok);
            CPPUNIT_ASSERT_MESSAGE(size, odd.failure.declaredSize < 0);
        }
        // A 200 that is not JSON may be a proxy's page: tried again.
        CPPUNIT_ASSERT(readMediaLookup(200, "<html>").failure.outcome == sdk::MediaOutcome::RetryLater);
    }

    void mediaLookupErrorClasses() {
        using plugins::cloud_api::downloadFailure;
        using plugins::cloud_api::readMediaLookup;
        const std::string gone = "{\"error\":{\"message\":\"Unsupported get request. Object with ID '1' does not exist\","
                                 "\"type\":\"GraphMethodException\",\"code\":100,\"error_subcode\":33,\"fbtrace_id\":\"T\"}}";
        CPPUNIT_ASSERT(readMediaLookup(400, gone).failure.outcome == sdk::MediaOutcome::NotFound);
        CPPUNIT_ASSERT(readMediaLookup(400, gone).failure.detail.find("error 100 subcode 33") != std::string::npos);
        CPPUNIT_ASSERT(readMediaLookup(404, "").failure.outcome == sdk::MediaOutcome::NotFound);
        CPPUNIT_ASSERT(readMediaLookup(500, "").failure.outcome == sdk::MediaOutcome::RetryLater);
        CPPUNIT_ASSERT(readMediaLookup(400, metaError(130429)).failure.outcome == sdk::MediaOutcome::RetryLater);
        CPPUNIT_ASSERT(readMediaLookup(400, metaError(4)).failure.outcome == sdk::MediaOutcome::RetryLater);
        CPPUNIT_ASSERT(readMediaLookup(401, metaError(190)).failure.outcome == sdk::MediaOutcome::Unavailable);
        CPPUNIT_ASSERT(readMediaLookup(400, metaError(100)).failure.outcome == sdk::MediaOutcome::Refused);
        CPPUNIT_ASSERT(downloadFailure(404).outcome == sdk::MediaOutcome::NotFound);
        CPPUNIT_ASSERT(downloadFailure(410).outcome == sdk::MediaOutcome::NotFound);
        CPPUNIT_ASSERT(downloadFailure(503).outcome == sdk::MediaOutcome::RetryLater);
        CPPUNIT_ASSERT(downloadFailure(429).outcome == sdk::MediaOutcome::RetryLater);
        CPPUNIT_ASSERT(downloadFailure(401).outcome == sdk::MediaOutcome::Unavailable);
        CPPUNIT_ASSERT(downloadFailure(302).outcome == sdk::MediaOutcome::Refused);
    }

    void aPositionalTemplateIsSubmittedWithItsExamples() {
        sdk::TemplateSubmission submission;
        submission.name = "rappel";
        submission.language = "ar";
        submission.category = "marketing";
        submission.definition.header = "موعد {{1}}";
        submission.definition.body = "مرحبا {{1}}، الموعد {{2}}";
        submission.examples = {{"header:1", "الاثنين"}, {"body:1", "أمينة"}, {"body:2", "الاثنين 7"}};
        const auto body = parse(plugins::cloud_api::templateCreationBody(submission));
        CPPUNIT_ASSERT_EQUAL(std::string("POSITIONAL"), body->getValue<std::string>("parameter_format"));
        CPPUNIT_ASSERT_EQUAL(std::string("MARKETING"), body->getValue<std::string>("category"));
        const auto components = body->getArray("components");
        CPPUNIT_ASSERT_EQUAL(std::string("الاثنين"), components->getObject(0)->getObject("example")->getArray("header_text")->getElement<std::string>(0));
        const auto rows = components->getObject(1)->getObject("example")->getArray("body_text");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), rows->size());
        CPPUNIT_ASSERT_EQUAL(std::string("الاثنين 7"), rows->getArray(0)->getElement<std::string>(1));
        // A blank or missing example is no example: the variable is named.
        submission.examples["body:2"] = "  ";
        try {
            plugins::cloud_api::templateCreationBody(submission);
            CPPUNIT_FAIL("submitted without an example");
        } catch (const std::invalid_argument& missing) {
            CPPUNIT_ASSERT_EQUAL(std::string("body:2"), std::string(missing.what()));
        }
        // Meta's answer.
        const sdk::SubmittedTemplate submitted = plugins::cloud_api::readSubmittedTemplate("{\"id\":\"572279198452421\",\"status\":\"PENDING\",\"category\":\"MARKETING\"}");
        CPPUNIT_ASSERT_EQUAL(std::string("572279198452421|PENDING|MARKETING"), submitted.id + "|" + submitted.status + "|" + submitted.category);
        for (const char* bad : {"{}", "nope", "{\"status\":\"PENDING\"}"})
            CPPUNIT_ASSERT_THROW(plugins::cloud_api::readSubmittedTemplate(bad), std::runtime_error);
    }

    void tierWordsAreCounts() {
        // Meta's tier words as the number of business-initiated conversations a day they allow; a
        // word that is no count stays NaN (the gauge shows it as such, its tier label says which).
        CPPUNIT_ASSERT_EQUAL(50.0, tierLimit("TIER_50"));
        CPPUNIT_ASSERT_EQUAL(250.0, tierLimit("TIER_250"));
        CPPUNIT_ASSERT_EQUAL(1000.0, tierLimit("TIER_1K"));
        CPPUNIT_ASSERT_EQUAL(2000.0, tierLimit("TIER_2K"));
        CPPUNIT_ASSERT_EQUAL(100000.0, tierLimit("TIER_100K"));
        CPPUNIT_ASSERT(std::isinf(tierLimit("TIER_UNLIMITED")));
        for (const char* word : {"TIER_NOT_SET", "TIER_", "TIER_5X", "tier_1k", "", "TIER_K", "TIER_99999999999"})
            CPPUNIT_ASSERT_MESSAGE(word, std::isnan(tierLimit(word)));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CloudApiTest);
