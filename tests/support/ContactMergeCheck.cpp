#include "ContactMergeCheck.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <Poco/Data/Session.h>

#include "WebhookSupport.hpp"
#include "whatsapp/MetaPayloads.hpp"

namespace tawasul::test {
namespace {

// The phone number of case `n` as Meta writes a wa_id, and its BSUID.
std::string phoneOf(int n) { return "2135550001" + std::to_string(10 + n); }
std::string bsuidOf(int n) { return "DZ.134912086553027419" + std::to_string(10 + n); }
std::string numberOf(int n) { return std::to_string(n) + std::to_string(n) + std::to_string(n); }

// Several bodies' entries in one POST, as Meta batches them.
std::string oneBody(const std::vector<std::string>& bodies) {
    const std::string head = "{\"object\":\"whatsapp_business_account\",\"entry\":[";
    std::string entries;
    for (const std::string& body : bodies) {
        if (body.compare(0, head.size(), head) != 0) throw std::logic_error("not a body of host::inboundTextBody");
        entries += (entries.empty() ? "" : ",") + body.substr(head.size(), body.size() - head.size() - 2);
    }
    return head + entries + "]}";
}

}  // namespace

void checkContactMerges(HostOptions options) {
    HostProcess host(withWebhookSecrets(options));
    host.start();
    auto db = openDatabase(host.databaseUrl());
    std::vector<std::string> posted;
    std::int64_t clock = 1764065000;
    // A text from case n's person: by phone, by BSUID (with the username Meta sends with it), or both.
    const auto text = [&](int n, const std::string& wamid, bool phone, bool bsuid) {
        host::InboundText message;
        message.business.phoneNumberId = numberOf(n);
        if (phone) message.from = phoneOf(n);
        if (bsuid) {
            message.userId = bsuidOf(n);
            message.username = "amina.dz" + std::to_string(n);
        }
        message.name = "Amina";
        message.wamid = wamid;
        message.timestamp = ++clock;
        message.text = "Bonjour " + wamid;
        return host::inboundTextBody(message);
    };
    const auto status = [&](int n, const std::string& wamid, bool phone) {
        host::StatusUpdate update;
        update.business.phoneNumberId = numberOf(n);
        update.wamid = wamid;
        update.status = "delivered";
        if (phone) update.recipientId = phoneOf(n);
        update.recipientUserId = bsuidOf(n);
        update.timestamp = ++clock;
        return host::statusBody(update);
    };
    const auto post = [&](const std::string& body) {
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, body).status);
        posted.push_back(body);
        waitForProcessing(*db);
    };
    const auto contactOf = [&](int n) {
        return queryText(*db, "SELECT id FROM whatsapp_contacts WHERE phone_number_id = '" + numberOf(n) + "'");
    };

    // 1: phone, then BSUID (two contacts, each an open conversation), then both: the phone's kept.
    post(text(1, "wamid.M1.1", true, false));
    const std::string phoneFirst = contactOf(1);
    post(text(1, "wamid.M1.2", false, true));
    post(text(1, "wamid.M1.3", true, true));
    // 3: the reverse: the BSUID's contact is older, kept, and gains the phone.
    post(text(3, "wamid.M3.1", false, true));
    const std::string bsuidFirst = contactOf(3);
    post(text(3, "wamid.M3.2", true, false));
    post(text(3, "wamid.M3.3", true, true));
    // 2: the three in one POST.
    post(oneBody({text(2, "wamid.M2.1", true, false), text(2, "wamid.M2.2", false, true), text(2, "wamid.M2.3", true, true)}));
    // 4: a status of a message sent by phone names the BSUID too: a later BSUID-only message is the same person.
    post(text(4, "wamid.M4.1", true, false));
    post(status(4, "wamid.OUT4", true));
    post(text(4, "wamid.M4.2", false, true));
    // 5: a phone contact and a BSUID contact, then a status naming both.
    post(text(5, "wamid.M5.1", true, false));
    post(text(5, "wamid.M5.2", false, true));
    post(status(5, "wamid.OUT5", true));
    // 6: the kept (BSUID) contact's conversation was resolved; the phone's open one moves to it.
    post(text(6, "wamid.M6.1", false, true));
    const std::string resolvedFirst = contactOf(6);
    {
        Poco::Data::Session session = db->session();
        using Poco::Data::Keywords::now;
        session << "UPDATE whatsapp_conversations SET status = 'resolved', resolved_at = 1 WHERE contact_id = " + resolvedFirst, now;
    }
    post(text(6, "wamid.M6.2", true, false));
    post(text(6, "wamid.M6.3", true, true));
    // 7: a status with only the BSUID of a contact known by phone teaches nothing (no phone to join on).
    post(text(7, "wamid.M7.1", true, false));
    post(status(7, "wamid.OUT7", false));

    CPPUNIT_ASSERT_EQUAL(std::string(""), queryRows(*db, "SELECT id, status, last_error FROM whatsapp_webhook_events WHERE status <> 'processed'"));
    const auto contacts = [&] {
        return queryRows(*db, "SELECT phone_number_id, wa_id, user_id, phone_e164, profile_name, username FROM whatsapp_contacts "
                              "ORDER BY phone_number_id, id");
    };
    CPPUNIT_ASSERT_EQUAL("111|" + phoneOf(1) + "|" + bsuidOf(1) + "|+" + phoneOf(1) + "|Amina|amina.dz1\n"
                         "222|" + phoneOf(2) + "|" + bsuidOf(2) + "|+" + phoneOf(2) + "|Amina|amina.dz2\n"
                         "333|" + phoneOf(3) + "|" + bsuidOf(3) + "|+" + phoneOf(3) + "|Amina|amina.dz3\n"
                         "444|" + phoneOf(4) + "|" + bsuidOf(4) + "|+" + phoneOf(4) + "|Amina|amina.dz4\n"
                         "555|" + phoneOf(5) + "|" + bsuidOf(5) + "|+" + phoneOf(5) + "|Amina|amina.dz5\n"
                         "666|" + phoneOf(6) + "|" + bsuidOf(6) + "|+" + phoneOf(6) + "|Amina|amina.dz6\n"
                         "777|" + phoneOf(7) + "||+" + phoneOf(7) + "|Amina|",
                         contacts());
    // The older contact is the one kept.
    CPPUNIT_ASSERT_EQUAL(phoneFirst, contactOf(1));
    CPPUNIT_ASSERT_EQUAL(bsuidFirst, contactOf(3));
    CPPUNIT_ASSERT_EQUAL(resolvedFirst, contactOf(6));
    // One open conversation per person with every message, unread counted once each.
    const auto conversations = [&] {
        return queryRows(*db, "SELECT k.phone_number_id, v.status, v.unread_count, v.last_inbound_at, "
                              "(SELECT COUNT(*) FROM whatsapp_messages m WHERE m.conversation_id = v.id), "
                              "(SELECT MAX(m.created_at) FROM whatsapp_messages m WHERE m.conversation_id = v.id) "
                              "FROM whatsapp_conversations v JOIN whatsapp_contacts k ON k.id = v.contact_id ORDER BY k.phone_number_id, v.status");
    };
    const std::string before = conversations();
    std::string expected;
    for (const char* line : {"111|open|3|3", "222|open|3|3", "333|open|3|3", "444|open|2|2", "555|open|2|2", "666|open|2|2",
                             "666|resolved|1|1", "777|open|1|1"})
        expected += std::string(expected.empty() ? "" : "\n") + line;
    CPPUNIT_ASSERT_EQUAL(expected, queryRows(*db, "SELECT k.phone_number_id, v.status, v.unread_count, "
                                                  "(SELECT COUNT(*) FROM whatsapp_messages m WHERE m.conversation_id = v.id) "
                                                  "FROM whatsapp_conversations v JOIN whatsapp_contacts k ON k.id = v.contact_id "
                                                  "ORDER BY k.phone_number_id, v.status"));
    // The 24-hour window runs from the latest message of either contact.
    CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_conversations v WHERE v.last_inbound_at <> "
                                                          "(SELECT MAX(m.created_at) FROM whatsapp_messages m WHERE m.conversation_id = v.id)"));
    CPPUNIT_ASSERT_EQUAL(std::string("17"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_messages"));
    // Statuses keep their recipient as Meta named it.
    CPPUNIT_ASSERT_EQUAL("wamid.OUT4|" + phoneOf(4) + "|" + bsuidOf(4) + "\nwamid.OUT5|" + phoneOf(5) + "|" + bsuidOf(5) +
                             "\nwamid.OUT7||" + bsuidOf(7),
                         queryRows(*db, "SELECT wa_message_id, recipient_id, recipient_user_id FROM whatsapp_message_statuses ORDER BY wa_message_id"));

    // Meta delivers everything again: nothing changes.
    for (const std::string& body : posted) CPPUNIT_ASSERT_EQUAL(200, postSigned(host, body).status);
    waitForProcessing(*db);
    CPPUNIT_ASSERT_EQUAL(std::string(""), queryRows(*db, "SELECT id, status, last_error FROM whatsapp_webhook_events WHERE status <> 'processed'"));
    CPPUNIT_ASSERT_EQUAL(before, conversations());
    CPPUNIT_ASSERT_EQUAL(std::string("7"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_contacts"));
    CPPUNIT_ASSERT_EQUAL(std::string("17"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_messages"));
    CPPUNIT_ASSERT_EQUAL(std::string("3"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_message_statuses"));
}

}  // namespace tawasul::test
