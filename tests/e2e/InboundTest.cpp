// Inbound processing end to end: Meta's fixtures become exactly the timeline rows a person would
// expect; redelivery in any order changes nothing; concurrent senders never duplicate anything; a
// database of the previous release, upgraded by `migrate`, makes the same timeline.
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include <Poco/Data/Session.h>

#include "AdminSession.hpp"
#include "ContactMergeCheck.hpp"
#include "HostProcess.hpp"
#include "KnownLeadCheck.hpp"
#include "PreviousRelease.hpp"
#include "whatsapp/MetaPayloads.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;
using namespace Poco::Data::Keywords;

namespace {

// The platform's own records, in the phone forms people type.
void seedPlatform(sdk::Database& db) {
    Poco::Data::Session session = db.session();
    session << "INSERT INTO organizations (name, phone, created_at) VALUES ('SARL Atlas Formation', '0550 99 88 77', 1)", now;
    session << "INSERT INTO registrations (full_name, phone, programme, created_at) VALUES ('Amine Benali', '+213 555 12 34 56', 'Comptabilité', 1)", now;
    session << "INSERT INTO enrollments (full_name, phone, programme, created_at) VALUES ('Amine Benali', '00213555123456', 'Comptabilité', 1)", now;
}

// The timeline without ids and clock times: what a person reading it would compare.
std::string timeline(sdk::Database& db) {
    return "contacts:\n" +
           queryRows(db, "SELECT wa_id, phone_e164, profile_name, matched_type FROM whatsapp_contacts ORDER BY wa_id") +
           "\nconversations:\n" +
           queryRows(db, "SELECT c.wa_id, v.status, v.intent, v.b2b_lead_id IS NOT NULL, v.unread_count, v.last_inbound_at, v.last_message_at "
                         "FROM whatsapp_conversations v JOIN whatsapp_contacts c ON c.id = v.contact_id ORDER BY c.wa_id") +
           "\nmessages:\n" +
           queryRows(db, "SELECT m.wa_message_id, c.wa_id, m.direction, m.type, m.body, m.status, m.context_wa_message_id, m.media_id, m.created_at "
                         "FROM whatsapp_messages m JOIN whatsapp_conversations v ON v.id = m.conversation_id "
                         "JOIN whatsapp_contacts c ON c.id = v.contact_id ORDER BY m.wa_message_id") +
           "\nstatuses:\n" +
           queryRows(db, "SELECT wa_message_id, status, recipient_id, error_code, error_title, occurred_at FROM whatsapp_message_statuses "
                         "ORDER BY wa_message_id, occurred_at, status") +
           "\nerrors:\n" +
           queryRows(db, "SELECT source, wa_message_id, code, title, details FROM whatsapp_errors ORDER BY source, wa_message_id") +
           "\nleads:\n" +
           queryRows(db, "SELECT l.contact_name, l.phone, l.source, l.status, o.name, l.notes FROM b2b_leads l "
                         "LEFT JOIN organizations o ON o.id = l.organization_id ORDER BY l.phone");
}

void postAllFixtures(const HostProcess& host, std::vector<std::string> names, std::mt19937* shuffle = nullptr) {
    if (shuffle) std::shuffle(names.begin(), names.end(), *shuffle);
    for (const std::string& name : names) {
        const auto response = postWebhook(host, fixture(name), fixtureSignature(name));
        if (response.status != 200) throw std::runtime_error(name + " answered " + std::to_string(response.status));
    }
}

}  // namespace

class InboundTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(InboundTest);
    CPPUNIT_TEST(fixturesBecomeTheExpectedTimeline);
    CPPUNIT_TEST(redeliveryInAnyOrderChangesNothing);
    CPPUNIT_TEST(aSecondDevisInTheSameConversationMakesNoSecondLead);
    CPPUNIT_TEST(aKnownLeadAskingAgainIsLinkedNotDuplicated);
    CPPUNIT_TEST(aStoredMessageFromANewSenderCountsNothing);
    CPPUNIT_TEST(concurrentSendersAreNeverDuplicated);
    CPPUNIT_TEST(aPhoneAndABsuidSeenApartBecomeOneContact);
    CPPUNIT_TEST(contactsSeenByPhoneAndByBsuidAreMerged);
    CPPUNIT_TEST(usernameFixturesBecomeOneContact);
    CPPUNIT_TEST(aDatabaseOfThePreviousReleaseKeepsWorking);
    CPPUNIT_TEST_SUITE_END();

public:
    void fixturesBecomeTheExpectedTimeline() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        seedPlatform(*db);
        auto [status, output] = host.cli({"contacts", "reindex"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
        postAllFixtures(host, fixtureNames());
        waitForProcessing(*db);

        CPPUNIT_ASSERT_EQUAL(std::string("11"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status = 'processed'"));
        // Four senders; each named by their profile, normalised, and matched to the platform.
        CPPUNIT_ASSERT_EQUAL(std::string(
                                 "213550998877|+213550998877|SARL Atlas|organization\n"
                                 "213555123456|+213555123456|Amine Benali|enrollment\n"
                                 "213661234567|+213661234567|شركة النور|\n"
                                 "213770112233|+213770112233|Yacine|"),
                             queryRows(*db, "SELECT wa_id, phone_e164, profile_name, matched_type FROM whatsapp_contacts ORDER BY wa_id"));
        // One open conversation each; intents from keywords; leads for the two companies.
        CPPUNIT_ASSERT_EQUAL(std::string(
                                 "213550998877|open|institution|1|1\n"
                                 "213555123456|open|registration|0|5\n"
                                 "213661234567|open|institution|1|1\n"
                                 "213770112233|open||0|2"),
                             queryRows(*db, "SELECT c.wa_id, v.status, v.intent, v.b2b_lead_id IS NOT NULL, v.unread_count FROM whatsapp_conversations v "
                                            "JOIN whatsapp_contacts c ON c.id = v.contact_id ORDER BY c.wa_id"));
        // The 24-hour window starts at the newest inbound message (Meta's timestamp, in ms).
        CPPUNIT_ASSERT_EQUAL(std::string("1764065001000"),
                             queryText(*db, "SELECT v.last_inbound_at FROM whatsapp_conversations v JOIN whatsapp_contacts c ON c.id = v.contact_id "
                                            "WHERE c.wa_id = '213770112233'"));
        CPPUNIT_ASSERT_EQUAL(std::string(
                                 "wamid.BATCH0001|text|Salut|\n"
                                 "wamid.BATCH0002|text|Je cherche les horaires|\n"
                                 "wamid.BATCH0003|text|devis|\n"
                                 "wamid.HBgMMjEzNTU1MTIzNDU2FQIAEhggQTFBMkEzQTQ1|text|Bonjour, je voudrais m'inscrire à la formation en comptabilité|\n"
                                 "wamid.HBgMMjEzNjYxMjM0NTY3FQIAEhggQjFCMkIzQjQ1|text|السلام عليكم، نحن شركة ونريد تكوين لموظفينا|\n"
                                 "wamid.IMAGE0001|image|Ma pièce d'identité|\n"
                                 "wamid.INTER0001|interactive|Oui|wamid.OUT0001\n"
                                 "wamid.REACT0001|reaction|reacted 👍 to wamid.OUT0001|wamid.OUT0001\n"
                                 "wamid.UNSUP0001|unsupported|unsupported message: Message type unknown|"),
                             queryRows(*db, "SELECT wa_message_id, type, body, context_wa_message_id FROM whatsapp_messages "
                                            "WHERE direction = 'in' AND status = 'received' ORDER BY wa_message_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("1234567890123456|image/jpeg"),
                             queryRows(*db, "SELECT media_id, media_mime_type FROM whatsapp_messages WHERE wa_message_id = 'wamid.IMAGE0001'"));
        CPPUNIT_ASSERT(queryText(*db, "SELECT payload FROM whatsapp_messages WHERE wa_message_id = 'wamid.UNSUP0001'").find("\"edit\"") !=
                       std::string::npos);
        // Statuses for a message this host never sent are kept for when it appears.
        CPPUNIT_ASSERT_EQUAL(std::string(
                                 "wamid.OUT0001|sent|\n"
                                 "wamid.OUT0001|delivered|\n"
                                 "wamid.OUT0001|read|\n"
                                 "wamid.OUT0002|failed|131047"),
                             queryRows(*db, "SELECT wa_message_id, status, error_code FROM whatsapp_message_statuses ORDER BY wa_message_id, occurred_at"));
        CPPUNIT_ASSERT_EQUAL(std::string(
                                 "message|wamid.UNSUP0001|131051|Message type unknown\n"
                                 "status|wamid.OUT0002|131047|Re-engagement message"),
                             queryRows(*db, "SELECT source, wa_message_id, code, title FROM whatsapp_errors ORDER BY source"));
        CPPUNIT_ASSERT_EQUAL(std::string(
                                 "SARL Atlas|+213550998877|whatsapp|new|SARL Atlas Formation|devis\n"
                                 "شركة النور|+213661234567|whatsapp|new||السلام عليكم، نحن شركة ونريد تكوين لموظفينا"),
                             queryRows(*db, "SELECT l.contact_name, l.phone, l.source, l.status, o.name, l.notes FROM b2b_leads l "
                                            "LEFT JOIN organizations o ON o.id = l.organization_id ORDER BY l.phone"));
    }

    void redeliveryInAnyOrderChangesNothing() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        postAllFixtures(host, fixtureNames());
        waitForProcessing(*db);
        const std::string once = timeline(*db);
        std::mt19937 random(20261125);
        for (int round = 0; round < 3; ++round) postAllFixtures(host, fixtureNames(), &random);
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(std::string("44"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status = 'processed'"));
        CPPUNIT_ASSERT_EQUAL(once, timeline(*db));
        // Replaying the stored events changes nothing either.
        auto [status, output] = host.cli({"events", "replay", "--since", "2000-01-01T00:00:00Z"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a replay from the CLI is seen at the next poll
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(once, timeline(*db));
    }

    void aSecondDevisInTheSameConversationMakesNoSecondLead() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        for (int i = 0; i < 3; ++i) {
            host::InboundText message;
            message.from = "213550112233";
            message.name = "Société Kahina";
            message.wamid = "wamid.DEVIS" + std::to_string(i);
            message.timestamp = 1764065000 + i;
            message.text = i == 1 ? "Un autre devis svp" : "Bonjour, un devis pour nos employés";
            CPPUNIT_ASSERT_EQUAL(200, postSigned(host, host::inboundTextBody(message)).status);
        }
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT COUNT(*) FROM b2b_leads"));
        CPPUNIT_ASSERT_EQUAL(std::string("1|institution"),
                             queryRows(*db, "SELECT COUNT(*), MAX(intent) FROM whatsapp_conversations WHERE b2b_lead_id IS NOT NULL"));
    }

    void aKnownLeadAskingAgainIsLinkedNotDuplicated() { checkAKnownLeadAsksAgain({}); }

    // A new conversation is inserted with the counts of its messages; one whose only message was
    // stored before (the same wamid from another sender) is left as if nothing was new: no unread,
    // no inbound time, its last message time that of the message. Posted together, then apart.
    void aStoredMessageFromANewSenderCountsNothing() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const auto body = [](const std::string& from, const std::string& wamid, long long timestamp) {
            host::InboundText message;
            message.from = from;
            message.name = "Sender " + from;
            message.wamid = wamid;
            message.timestamp = timestamp;
            message.text = "Bonjour";
            return host::inboundTextBody(message);
        };
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, body("213550110001", "wamid.SAME1", 1764065000)).status);
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, body("213550110002", "wamid.SAME1", 1764065001)).status);
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, body("213550110003", "wamid.SAME1", 1764065002)).status);
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, body("213550110003", "wamid.OTHER1", 1764065003)).status);
        waitForProcessing(*db);
        // The first two were posted together: whichever of them a worker writes first owns the
        // message (the host's workers may take them in either order); the other counts nothing.
        const std::string rows =
            queryRows(*db, "SELECT c.wa_id, v.unread_count, v.last_inbound_at, v.last_message_at, "
                           "(SELECT COUNT(*) FROM whatsapp_messages m WHERE m.conversation_id = v.id) "
                           "FROM whatsapp_conversations v JOIN whatsapp_contacts c ON c.id = v.contact_id ORDER BY c.wa_id");
        const std::string third = "213550110003|1|1764065003000|1764065003000|1";
        const std::string firstOwns = "213550110001|1|1764065000000|1764065000000|1\n213550110002|0||1764065001000|0\n" + third;
        const std::string secondOwns = "213550110001|0||1764065000000|0\n213550110002|1|1764065001000|1764065001000|1\n" + third;
        CPPUNIT_ASSERT_MESSAGE(rows, rows == firstOwns || rows == secondOwns);
    }

    void concurrentSendersAreNeverDuplicated() {
        HostOptions options;
        options.workerThreads = 4;
        HostProcess host(withWebhookSecrets(options));
        host.start();
        auto db = openDatabase(host.databaseUrl());
        CPPUNIT_ASSERT_EQUAL(0, postConcurrentSenders({&host}, 200, 5, "wamid.LOAD"));
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(std::string("200"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_contacts"));
        CPPUNIT_ASSERT_EQUAL(std::string("200"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_conversations WHERE status = 'open'"));
        CPPUNIT_ASSERT_EQUAL(std::string("1000"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_messages"));
        CPPUNIT_ASSERT_EQUAL(std::string("1000"), queryText(*db, "SELECT SUM(unread_count) FROM whatsapp_conversations"));
        // A lead per conversation that asked for a quote, never two.
        CPPUNIT_ASSERT_EQUAL(queryText(*db, "SELECT COUNT(DISTINCT conversation_id) FROM whatsapp_messages WHERE body = 'un devis svp'"),
                             queryText(*db, "SELECT COUNT(*) FROM b2b_leads"));
    }

    // A sender known by phone and another known only by a business-scoped user id (BSUID), then a
    // message carrying both: it once gave the phone's contact the BSUID the other holds, which broke
    // the unique key, so the event failed after every retry (in one batch it never ended); then
    // they stayed two contacts. They are one person: one contact (the older), one conversation,
    // every message.
    void aPhoneAndABsuidSeenApartBecomeOneContact() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const auto message = [](const std::string& wamid, const std::string& from, const std::string& userId) {
            std::string ids = from.empty() ? "" : "\"from\":\"" + from + "\",";
            if (!userId.empty()) ids += "\"from_user_id\":\"" + userId + "\",";
            return "{" + ids + "\"id\":\"" + wamid + "\",\"timestamp\":\"1764065000\",\"type\":\"text\",\"text\":{\"body\":\"Bonjour\"}}";
        };
        const auto body = [](const std::string& phoneNumberId, const std::string& messages) {
            return R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{)"
                   R"("messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":")" +
                   phoneNumberId + R"("},"messages":[)" + messages + "]}}]}]}";
        };
        // Across batches, on one business number.
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, body("111", message("wamid.APART.1", "213555000101", ""))).status);
        waitForProcessing(*db);
        const std::string phoneContact = queryText(*db, "SELECT id FROM whatsapp_contacts");
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, body("111", message("wamid.APART.2", "", "DZ.0001"))).status);
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(std::string("2"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_contacts"));
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, body("111", message("wamid.APART.3", "213555000101", "DZ.0001"))).status);
        // In one batch, on another.
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, body("222", message("wamid.ONCE.1", "213555000101", "") + "," +
                                                                 message("wamid.ONCE.2", "", "DZ.0001") + "," +
                                                                 message("wamid.ONCE.3", "213555000101", "DZ.0001"))).status);
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(std::string("4"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status = 'processed'"));
        CPPUNIT_ASSERT_EQUAL(std::string("111|213555000101|DZ.0001|+213555000101\n222|213555000101|DZ.0001|+213555000101"),
                             queryRows(*db, "SELECT phone_number_id, wa_id, user_id, phone_e164 FROM whatsapp_contacts ORDER BY phone_number_id"));
        CPPUNIT_ASSERT_EQUAL(phoneContact, queryText(*db, "SELECT id FROM whatsapp_contacts WHERE phone_number_id = '111'"));
        CPPUNIT_ASSERT_EQUAL(std::string("111|open|3|3\n222|open|3|3"),
                             queryRows(*db, "SELECT k.phone_number_id, v.status, v.unread_count, "
                                            "(SELECT COUNT(*) FROM whatsapp_messages m WHERE m.conversation_id = v.id) "
                                            "FROM whatsapp_conversations v JOIN whatsapp_contacts k ON k.id = v.contact_id ORDER BY k.phone_number_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("6"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_messages"));
    }

    // tests/fixtures/meta-usernames, posted as Meta sends them: a phone-only sender, the same person
    // by BSUID with a username (a second contact), both ids (one contact), a status naming only
    // recipient_user_id. The conversation's header shows the username, escaped.
    void usernameFixturesBecomeOneContact() {
        HostProcess host(withWebhookSecrets());
        host.start();
        auto db = openDatabase(host.databaseUrl());
        const std::string dir = std::string(TAWASUL_SOURCE_DIR) + "/tests/fixtures/meta-usernames/";
        std::vector<std::string> names;
        for (const auto& entry : std::filesystem::directory_iterator(dir))
            if (entry.path().extension() == ".json") names.push_back(entry.path().filename().string());
        std::sort(names.begin(), names.end());
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), names.size());
        for (const std::string& name : names) {
            std::string signature = readFile(dir + name + ".sig");
            while (!signature.empty() && signature.back() == '\n') signature.pop_back();
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, 200, postWebhook(host, readFile(dir + name), signature).status);
            waitForProcessing(*db);
            if (name.rfind("2-", 0) == 0) CPPUNIT_ASSERT_EQUAL(std::string("2"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_contacts"));
        }
        CPPUNIT_ASSERT_EQUAL(std::string("213770998877|DZ.20938475610293847561|+213770998877|Lina|lina.oran<b>"),
                             queryRows(*db, "SELECT wa_id, user_id, phone_e164, profile_name, username FROM whatsapp_contacts"));
        CPPUNIT_ASSERT_EQUAL(std::string("open|3|3"), queryRows(*db, "SELECT v.status, v.unread_count, (SELECT COUNT(*) FROM whatsapp_messages m "
                                                                     "WHERE m.conversation_id = v.id) FROM whatsapp_conversations v"));
        CPPUNIT_ASSERT_EQUAL(std::string("delivered||DZ.20938475610293847561"),
                             queryRows(*db, "SELECT status, recipient_id, recipient_user_id FROM whatsapp_message_statuses"));
        const std::string conversation = queryText(*db, "SELECT id FROM whatsapp_conversations");
        const auto agent = signInAs(host, "agent@tawasul.test", "agent");
        const auto page = agent.get("/admin/messaging/whatsapp/conversations/" + conversation);
        CPPUNIT_ASSERT_EQUAL(200, page.status);
        CPPUNIT_ASSERT_MESSAGE(page.body, page.body.find("<bdi class=\"username\" dir=\"ltr\">@lina.oran&lt;b&gt;</bdi>") != std::string::npos);
        CPPUNIT_ASSERT(page.body.find("lina.oran<b>") == std::string::npos);
        // Without a profile name nor a phone, the inbox names the contact by its username.
        {
            Poco::Data::Session session = db->session();
            session << "UPDATE whatsapp_contacts SET profile_name = NULL, phone_e164 = NULL", now;
        }
        const auto inbox = agent.get("/admin/messaging/whatsapp/inbox");
        CPPUNIT_ASSERT_EQUAL(200, inbox.status);
        CPPUNIT_ASSERT_MESSAGE(inbox.body, inbox.body.find("@lina.oran&lt;b&gt;") != std::string::npos);
        CPPUNIT_ASSERT(inbox.body.find("lina.oran<b>") == std::string::npos);
    }

    // Both orders, in one batch or apart, by message or by status, a resolved conversation, redelivery.
    void contactsSeenByPhoneAndByBsuidAreMerged() { checkContactMerges({}); }

    void aDatabaseOfThePreviousReleaseKeepsWorking() {
        // The schema of the previous release's twin files, as an installation of it has.
        TempDir dir;
        HostOptions options = withWebhookSecrets();
        options.databaseUrl = "sqlite:" + dir.file("previous.db");
        host::Migrator(*openDatabase(options.databaseUrl), previousReleaseMigrations()).migrate();

        auto run = [](HostOptions hostOptions) {
            HostProcess host(std::move(hostOptions));
            host.start();  // migrate (records the current checksums), then serve
            const auto [status, output] = host.cli({"migrate", "--status"});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
            CPPUNIT_ASSERT_MESSAGE(output, output.find("EDITED") == std::string::npos && output.find(" pending ") == std::string::npos &&  // the state column, not a name like pending_events
                                               output.find("missing") == std::string::npos);
            auto db = openDatabase(host.databaseUrl());
            seedPlatform(*db);
            const auto reindex = host.cli({"contacts", "reindex"});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(reindex.second, 0, reindex.first);
            postAllFixtures(host, fixtureNames());
            waitForProcessing(*db);
            CPPUNIT_ASSERT_EQUAL(std::string("11"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status = 'processed'"));
            return timeline(*db);
        };
        CPPUNIT_ASSERT_EQUAL(run(withWebhookSecrets()), run(options));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(InboundTest);
