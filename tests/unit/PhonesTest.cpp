// sdk::PhoneNormalizer: every form in which Algerian and foreign numbers reach the platform (and
// WhatsApp wa_ids) gives one E.164; everything else is "not a phone", never a guess or a throw.
#include <cppunit/extensions/HelperMacros.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tawasul/whatsapp/Phones.hpp"

using tawasul::sdk::PhoneNormalizer;

namespace {

constexpr const char* kNotAPhone = "not a phone";

struct Row {
    const char* input;
    const char* expected;  // E.164, or kNotAPhone
    const char* why;
};

const Row kRows[] = {
    // Algerian mobiles, in every form people and systems write them.
    {"0555 12 34 56", "+213555123456", "national with trunk 0, spaced"},
    {"0555123456", "+213555123456", "national with trunk 0"},
    {"+213 555 12 34 56", "+213555123456", "international with +"},
    {"+213555123456", "+213555123456", "already E.164"},
    {"00213555123456", "+213555123456", "international with 00"},
    {"00 213 555 12 34 56", "+213555123456", "00, spaced"},
    {"213555123456", "+213555123456", "country code without + (a wa_id)"},
    {"555123456", "+213555123456", "national without trunk 0"},
    {"213661234567", "+213661234567", "Mobilis wa_id"},
    {"0661 23 45 67", "+213661234567", "Mobilis national"},
    {"0770 12 34 56", "+213770123456", "Djezzy national"},
    {"+213-555-12-34-56", "+213555123456", "dashes"},
    {"(0555) 12.34.56", "+213555123456", "brackets and dots"},
    {"  0555 12 34 56  ", "+213555123456", "surrounding spaces"},
    {"\xD9\xA0\xD9\xA5\xD9\xA5\xD9\xA5\xD9\xA1\xD9\xA2\xD9\xA3\xD9\xA4\xD9\xA5\xD9\xA6", "+213555123456",
     "Arabic-Indic digits"},
    // Algerian landlines.
    {"021 23 45 67", "+21321234567", "Algiers landline"},
    {"+213 21 23 45 67", "+21321234567", "Algiers landline, international"},
    {"21321234567", "+21321234567", "landline as digits with country code"},
    {"041 23 45 67", "+21341234567", "Oran landline"},
    // Foreign numbers.
    {"+33 6 12 34 56 78", "+33612345678", "French mobile"},
    {"0033612345678", "+33612345678", "French mobile, 00 from Algeria"},
    {"33612345678", "+33612345678", "French wa_id"},
    {"+1 650 253 0000", "+16502530000", "US number"},
    {"16502530000", "+16502530000", "US wa_id"},
    {"+44 7911 123456", "+447911123456", "UK mobile"},
    {"+216 20 123 456", "+21620123456", "Tunisian mobile"},
    {"212612345678", "+212612345678", "Moroccan wa_id"},
    // Not phone numbers.
    {"", kNotAPhone, "empty"},
    {"   ", kNotAPhone, "blank"},
    {"abc", kNotAPhone, "letters"},
    {"0555 CALL ME", kNotAPhone, "letters after digits (no vanity guessing)"},
    {"0555123456 poste 12", kNotAPhone, "a note in the value"},
    {"+", kNotAPhone, "a lone plus"},
    {"12", kNotAPhone, "too short"},
    {"0555 12 34", kNotAPhone, "mobile missing two digits"},
    {"555 12 34 5", kNotAPhone, "eight digits starting with 5"},
    {"0555 12 34 56 78 90", kNotAPhone, "too long"},
    {"12345678901234567890", kNotAPhone, "twenty digits"},
    {"+213 155 12 34 56", kNotAPhone, "+213 with a prefix no operator uses"},
    {"+213 999 99 99 99", kNotAPhone, "+213 with another unused prefix"},
    {"0999 99 99 99", kNotAPhone, "unused national prefix"},
    {"+999 123456789", kNotAPhone, "unknown country code"},
    {"000", kNotAPhone, "zeros"},
    {"+213 555 12 34 56 7", kNotAPhone, "+213 mobile with a digit too many"},
    {"+4926 213284926 213", kNotAPhone, "sixteen digits that libphonenumber calls a German number"},
    {"52 0215552134357", "+525552134357", "a Mexican mobile in the former 1 form: the E.164 that reads back as itself"},
    {"+5215552134357", "+525552134357", "the same, written with +"},
};

std::string show(const std::optional<std::string>& value) { return value ? *value : kNotAPhone; }

}  // namespace

class PhonesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PhonesTest);
    CPPUNIT_TEST(everyFormNormalisesOrIsNotAPhone);
    CPPUNIT_TEST(sameAnswerFromManyThreads);
    CPPUNIT_TEST(defaultRegionDecidesNationalNumbers);
    CPPUNIT_TEST(unknownRegionIsRefused);
    CPPUNIT_TEST_SUITE_END();

public:
    void everyFormNormalisesOrIsNotAPhone() {
        const PhoneNormalizer phones;
        std::string failures;
        for (const Row& row : kRows) {
            const std::string got = show(phones.toE164(row.input));
            if (got != row.expected)
                failures += std::string("\n  '") + row.input + "' (" + row.why + "): expected " + row.expected + ", got " + got;
        }
        CPPUNIT_ASSERT(sizeof kRows / sizeof kRows[0] >= 30);
        CPPUNIT_ASSERT_MESSAGE(failures, failures.empty());
    }

    void sameAnswerFromManyThreads() {
        const PhoneNormalizer phones;
        std::vector<std::thread> threads;
        std::vector<int> wrong(8, 0);
        for (std::size_t t = 0; t < wrong.size(); ++t) {
            threads.emplace_back([&, t] {
                for (int round = 0; round < 50; ++round)
                    for (const Row& row : kRows)
                        if (show(phones.toE164(row.input)) != row.expected) ++wrong[t];
            });
        }
        for (auto& thread : threads) thread.join();
        for (int count : wrong) CPPUNIT_ASSERT_EQUAL(0, count);
    }

    void defaultRegionDecidesNationalNumbers() {
        const PhoneNormalizer france("FR");
        CPPUNIT_ASSERT_EQUAL(std::string("+33612345678"), show(france.toE164("06 12 34 56 78")));
        // International forms do not depend on the region.
        CPPUNIT_ASSERT_EQUAL(std::string("+213555123456"), show(france.toE164("+213 555 12 34 56")));
        CPPUNIT_ASSERT_EQUAL(std::string("+213555123456"), show(france.toE164("213555123456")));
    }

    void unknownRegionIsRefused() {
        CPPUNIT_ASSERT_THROW(PhoneNormalizer("XX"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(PhoneNormalizer(""), std::invalid_argument);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PhonesTest);
