#include "KnownLeadCheck.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <Poco/Data/Session.h>

#include "AdminSession.hpp"
#include "WebhookSupport.hpp"
#include "whatsapp/MetaPayloads.hpp"

namespace tawasul::test {

void checkAKnownLeadAsksAgain(HostOptions options) {
    using Poco::Data::Keywords::now;
    // The phone index holds what `contacts reindex` put in and nothing later: it still names the
    // lead deleted below, as it would until its next refresh.
    options.pluginsYaml = "    - webhook_receiver: {}\n    - contact_matcher: { refresh_seconds: 0 }\n    - inbound_router: {}\n"
                          "    - cloud_api: {}\n    - outbox: {}\n    - admin_inbox: {}\n";
    HostProcess host(withWebhookSecrets(options));
    host.start();
    auto db = openDatabase(host.databaseUrl());
    {
        Poco::Data::Session session = db->session();
        session << "INSERT INTO organizations (name, phone, created_at) VALUES ('Cevital Formation', '021 23 45 67', 1)", now;
        session << "INSERT INTO b2b_leads (organization_id, contact_name, phone, source, status, notes, created_at, updated_at) "
                   "SELECT id, 'Karim Brahimi', '0661 23 45 67', 'website', 'new', 'Formation Excel avancé pour 12 employés', 1, 1 "
                   "FROM organizations",
            now;
        session << "INSERT INTO b2b_leads (contact_name, phone, source, status, created_at, updated_at) "
                   "VALUES ('Nadia Kaci', '0770 55 66 77', 'website', 'new', 1, 1)",
            now;
    }
    const auto [status, output] = host.cli({"contacts", "reindex"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
    const std::string karim = queryText(*db, "SELECT id FROM b2b_leads WHERE contact_name = 'Karim Brahimi'");
    {
        Poco::Data::Session session = db->session();
        session << "DELETE FROM b2b_leads WHERE contact_name = 'Nadia Kaci'", now;
    }

    auto writes = [&](const std::string& from, const std::string& name, const std::string& wamid, std::int64_t at, const std::string& text) {
        host::InboundText message;
        message.from = from;
        message.name = name;
        message.wamid = wamid;
        message.timestamp = at;
        message.text = text;
        CPPUNIT_ASSERT_EQUAL(200, postSigned(host, host::inboundTextBody(message)).status);
    };
    writes("213661234567", "Karim", "wamid.KARIM1", 1764065000, "Bonjour, je voudrais un devis pour 12 employés");
    waitForProcessing(*db);
    writes("213661234567", "Karim", "wamid.KARIM2", 1764065060, "Et un devis pour Word aussi");
    writes("213661234567", "Karim", "wamid.KARIM1", 1764065000, "Bonjour, je voudrais un devis pour 12 employés");  // Meta again
    writes("213770556677", "Nadia", "wamid.NADIA1", 1764065100, "Un devis svp");
    waitForProcessing(*db);
    CPPUNIT_ASSERT_EQUAL(std::string("4"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status = 'processed'"));

    // Karim's conversation is his lead's, which is noted once; no second lead for him.
    CPPUNIT_ASSERT_EQUAL(std::string("b2b_lead|" + karim),
                         queryRows(*db, "SELECT matched_type, matched_id FROM whatsapp_contacts WHERE wa_id = '213661234567'"));
    CPPUNIT_ASSERT_EQUAL(std::string("institution|" + karim),
                         queryRows(*db, "SELECT c.intent, c.b2b_lead_id FROM whatsapp_conversations c JOIN whatsapp_contacts ct "
                                        "ON ct.id = c.contact_id WHERE ct.wa_id = '213661234567'"));
    CPPUNIT_ASSERT_EQUAL(std::string("Karim Brahimi|0661 23 45 67|website|Cevital Formation"),
                         queryRows(*db, "SELECT l.contact_name, l.phone, l.source, o.name FROM b2b_leads l "
                                        "JOIN organizations o ON o.id = l.organization_id WHERE l.id = " + karim));
    CPPUNIT_ASSERT_EQUAL(std::string("Formation Excel avancé pour 12 employés\n\n"
                                     "WhatsApp 2025-11-25T10:03:20.000Z: Bonjour, je voudrais un devis pour 12 employés"),
                         queryText(*db, "SELECT notes FROM b2b_leads WHERE id = " + karim));
    CPPUNIT_ASSERT(queryText(*db, "SELECT updated_at FROM b2b_leads WHERE id = " + karim) != "1");
    // Nadia's lead is gone though the index still named it: she is given a new one.
    CPPUNIT_ASSERT_EQUAL(std::string("Nadia|+213770556677|whatsapp|Un devis svp"),
                         queryRows(*db, "SELECT contact_name, phone, source, notes FROM b2b_leads WHERE id <> " + karim));
    CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_conversations c JOIN b2b_leads l ON l.id = c.b2b_lead_id "
                                                          "WHERE l.contact_name = 'Nadia'"));

    // The inbox panel shows the one lead, with its page.
    const AdminBrowser admin = signInAs(host, "admin@example.test", "admin");
    const std::string conversation = queryText(*db, "SELECT c.id FROM whatsapp_conversations c JOIN whatsapp_contacts ct "
                                                    "ON ct.id = c.contact_id WHERE ct.wa_id = '213661234567'");
    const HttpResult page = admin.get("/admin/messaging/whatsapp/conversations/" + conversation);
    CPPUNIT_ASSERT_EQUAL(200, page.status);
    CPPUNIT_ASSERT_MESSAGE(page.body, page.body.find("<p class=\"lead\"><a href=\"/admin/b2b-leads/" + karim + "\">#" + karim +
                                                     " <bdi>Karim Brahimi</bdi></a>") != std::string::npos);
}

}  // namespace tawasul::test
