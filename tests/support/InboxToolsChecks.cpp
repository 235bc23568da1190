#include "InboxToolsChecks.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include "Assertions.hpp"
#include "CannedReplies.hpp"
#include "WebhookSupport.hpp"

namespace tawasul::test {

using plugins::admin_inbox::CannedContact;
using plugins::admin_inbox::CannedProblems;
using plugins::admin_inbox::CannedReply;
using plugins::admin_inbox::CannedReplyStore;

namespace {
std::string repeat(const std::string& piece, std::size_t times) {
    std::string out;
    for (std::size_t i = 0; i < times; ++i) out += piece;
    return out;
}
}  // namespace

void checkConversationNotes(InboxFixture& f) {
    f.seedUsers();
    f.conversation(1, "Amina", "213555123456", "open", 3000);
    f.sql("INSERT INTO whatsapp_messages (id, conversation_id, direction, wa_message_id, type, body, payload, status, created_at) VALUES"
          " (1, 1, 'in', 'wamid.N1', 'text', 'Bonjour', '{}', 'received', 1000),"
          " (2, 1, 'in', 'wamid.N2', 'text', 'Vous êtes là ?', '{}', 'received', 3000)");
    const std::int64_t jobsBefore = f.count("SELECT COUNT(*) FROM jobs");

    // Stored trimmed, with who and when; between the two messages it was written between.
    auto result = f.store().addNote(1, 2, "Agent Bilal", "  Elle a déjà payé, voir le reçu.\r\nRappeler demain.\n ", 2000);
    CPPUNIT_ASSERT_MESSAGE(result.error, result.ok);
    CPPUNIT_ASSERT_EQUAL(std::string("1|2|Agent Bilal|Elle a déjà payé, voir le reçu.\nRappeler demain.|2000"),
                         queryRows(f.database(), "SELECT conversation_id, author_user_id, author_name, body, created_at FROM whatsapp_conversation_notes"));
    CPPUNIT_ASSERT(f.store().addNote(1, 1, "Admin Amel", "Vu.", 4000).ok);

    const auto view = f.store().conversation(1);
    CPPUNIT_ASSERT(view);
    std::vector<std::string> lines;
    for (const auto& item : view->timeline)
        lines.push_back(item.note ? "note:" + item.note->authorName : item.message ? "msg:" + std::to_string(item.message->id) : "sys:" + item.system->kind);
    CPPUNIT_ASSERT_EQUAL(std::vector<std::string>({"msg:1", "note:Agent Bilal", "msg:2", "note:Admin Amel"}), lines);
    CPPUNIT_ASSERT_EQUAL(std::string("Elle a déjà payé, voir le reçu.\nRappeler demain."), view->timeline[1].note->body);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(2000), view->timeline[1].note->at);

    // Refused with nothing written: empty, over the cap (counted in characters, not bytes), no conversation.
    CPPUNIT_ASSERT_EQUAL(std::string("empty_note"), f.store().addNote(1, 2, "Agent Bilal", " \r\n\t ", 5000).error);
    CPPUNIT_ASSERT_EQUAL(std::string("empty_note"), f.store().addNote(1, 2, "Agent Bilal", "", 5000).error);
    CPPUNIT_ASSERT_EQUAL(std::string("note_too_long"), f.store().addNote(1, 2, "Agent Bilal", repeat("é", 4001), 5000).error);
    CPPUNIT_ASSERT_EQUAL(std::string("not_found"), f.store().addNote(99, 2, "Agent Bilal", "Perdu", 5000).error);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(2), f.count("SELECT COUNT(*) FROM whatsapp_conversation_notes"));
    CPPUNIT_ASSERT(f.store().addNote(1, 2, "Agent Bilal", repeat("é", 4000), 5000).ok);  // 8,000 bytes, 4,000 characters
    CPPUNIT_ASSERT_EQUAL(std::int64_t(3), f.count("SELECT COUNT(*) FROM whatsapp_conversation_notes"));

    // A note is not a message and makes no work: nothing for a provider, the outbox or a job.
    CPPUNIT_ASSERT_EQUAL(std::int64_t(2), f.count("SELECT COUNT(*) FROM whatsapp_messages"));
    CPPUNIT_ASSERT_EQUAL(std::int64_t(0), f.count("SELECT COUNT(*) FROM whatsapp_outbox_messages"));
    CPPUNIT_ASSERT_EQUAL(jobsBefore, f.count("SELECT COUNT(*) FROM jobs"));
    // Nor does it move the conversation in the list.
    CPPUNIT_ASSERT_EQUAL(std::int64_t(3000), f.count("SELECT last_message_at FROM whatsapp_conversations WHERE id = 1"));
}

void checkCannedReplies(InboxFixture& f) {
    using plugins::admin_inbox::checkCannedFields;
    using plugins::admin_inbox::checkCannedReply;
    using plugins::admin_inbox::fillCannedReply;
    f.seedUsers();

    // The shortcut: one word, made lower case, a leading "/" dropped.
    auto shortcutProblem = [](const std::string& shortcut) {
        CannedReply reply{0, "Horaires", shortcut, {{"fr", "Nous sommes ouverts de 8 h à 17 h."}}, 0};
        const CannedProblems problems = checkCannedReply(reply);
        return problems.shortcut.empty() ? "ok:" + reply.shortcut : problems.shortcut;
    };
    CPPUNIT_ASSERT_EQUAL(std::string("ok:horaires"), shortcutProblem(" /Horaires "));
    CPPUNIT_ASSERT_EQUAL(std::string("ok:prix-2026_b"), shortcutProblem("prix-2026_b"));
    CPPUNIT_ASSERT_EQUAL(std::string("invalid"), shortcutProblem("deux mots"));
    CPPUNIT_ASSERT_EQUAL(std::string("invalid"), shortcutProblem("café"));
    CPPUNIT_ASSERT_EQUAL(std::string("invalid"), shortcutProblem("-x"));
    CPPUNIT_ASSERT_EQUAL(std::string("invalid"), shortcutProblem("a/b"));
    CPPUNIT_ASSERT_EQUAL(std::string("empty"), shortcutProblem(" / "));
    CPPUNIT_ASSERT_EQUAL(std::string("too_long"), shortcutProblem(repeat("a", 31)));
    CPPUNIT_ASSERT_EQUAL(std::string("ok:" + repeat("a", 30)), shortcutProblem(repeat("a", 30)));

    // The fields: the contact's, written {{name}} (spaces allowed inside), nothing else.
    std::string field;
    CPPUNIT_ASSERT_EQUAL(std::string(""), checkCannedFields("Bonjour {{name}}, {{ first_name }} au {{phone}}.", field));
    CPPUNIT_ASSERT_EQUAL(std::string("unknown_field"), checkCannedFields("Bonjour {{name}} ({{email}})", field));
    CPPUNIT_ASSERT_EQUAL(std::string("email"), field);
    for (const std::string bad : {"Bonjour {{name", "Bonjour name}}", "{{}}", "{{Name}}", "{{ na me }}", "{{1}}", "}} {{name}}"}) {
        std::string ignored;
        CPPUNIT_ASSERT_EQUAL_MESSAGE(bad, std::string("malformed"), checkCannedFields(bad, ignored));
    }
    CannedReply unknown{0, "Suivi", "suivi", {{"fr", "Bonjour {{name}}"}, {"ar", "مرحبا {{ville}}"}}, 0};
    CannedProblems problems = checkCannedReply(unknown);
    CPPUNIT_ASSERT_EQUAL(std::string("unknown_field"), problems.texts.at("ar"));
    CPPUNIT_ASSERT_EQUAL(std::string("ville"), problems.unknownField);
    CPPUNIT_ASSERT(problems.texts.find("fr") == problems.texts.end());
    CannedReply empty{0, "  ", "vide", {{"en", " \n "}, {"fr", ""}}, 0};
    problems = checkCannedReply(empty);
    CPPUNIT_ASSERT_EQUAL(std::string("empty"), problems.title);
    CPPUNIT_ASSERT_EQUAL(std::string("no_text"), problems.noText);
    CannedReply longText{0, "Long", "long", {{"en", repeat("é", 4097)}}, 0};
    CPPUNIT_ASSERT_EQUAL(std::string("too_long"), checkCannedReply(longText).texts.at("en"));

    // The store: saved, listed by shortcut, found; only the languages written are kept.
    CannedReplyStore store(f.database());
    CannedReply horaires{0, "Horaires d'ouverture", "/Horaires",
                         {{"fr", "Bonjour {{first_name}}, nous sommes ouverts de 8 h à 17 h."}, {"ar", "مرحبًا {{name}}، نحن نعمل من 8 إلى 17."}, {"en", ""}}, 0};
    CPPUNIT_ASSERT(!checkCannedReply(horaires).any());
    CannedProblems saved;
    CPPUNIT_ASSERT(store.save(horaires, 2, 1000, saved));
    CPPUNIT_ASSERT(horaires.id > 0);
    CPPUNIT_ASSERT_EQUAL(std::string("horaires|1|0|0|2|1000"),
                         queryRows(f.database(), "SELECT shortcut, CASE WHEN body_en IS NULL THEN 1 ELSE 0 END, CASE WHEN body_fr IS NULL THEN 1 ELSE 0 END, "
                                                 "CASE WHEN body_ar IS NULL THEN 1 ELSE 0 END, created_by_user_id, updated_at FROM whatsapp_canned_replies"));
    CannedReply adresse{0, "Adresse", "adresse", {{"en", "We are at 12 rue Didouche Mourad, Algiers."}}, 0};
    checkCannedReply(adresse);
    CPPUNIT_ASSERT(store.save(adresse, 1, 1100, saved));
    const auto all = store.list();
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), all.size());
    CPPUNIT_ASSERT_EQUAL(std::string("adresse"), all[0].shortcut);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), all[1].texts.size());
    const auto found = store.find(horaires.id);
    CPPUNIT_ASSERT(found);
    CPPUNIT_ASSERT_EQUAL(std::string("Horaires d'ouverture"), found->title);
    CPPUNIT_ASSERT(!store.find(999999));

    // The shortcut is unique: a second one is refused with nothing written, a change of another
    // reply to it too; saving a reply with its own shortcut is fine.
    CannedReply twin{0, "Autres horaires", "HORAIRES", {{"fr", "Autre texte"}}, 0};
    checkCannedReply(twin);
    CannedProblems duplicate;
    CPPUNIT_ASSERT(!store.save(twin, 2, 1200, duplicate));
    CPPUNIT_ASSERT_EQUAL(std::string("duplicate"), duplicate.shortcut);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(2), f.count("SELECT COUNT(*) FROM whatsapp_canned_replies"));
    CannedReply moved = adresse;
    moved.shortcut = "horaires";
    CannedProblems movedProblems;
    CPPUNIT_ASSERT(!store.save(moved, 2, 1300, movedProblems));
    CPPUNIT_ASSERT_EQUAL(std::string("duplicate"), movedProblems.shortcut);
    CPPUNIT_ASSERT_EQUAL(std::string("adresse"), queryText(f.database(), "SELECT shortcut FROM whatsapp_canned_replies WHERE id = " + std::to_string(adresse.id)));
    CannedReply retitled = *found;
    retitled.title = "Nos horaires";
    CannedProblems retitledProblems;
    CPPUNIT_ASSERT(store.save(retitled, 2, 1400, retitledProblems));
    CPPUNIT_ASSERT_EQUAL(std::string("Nos horaires|1400"),
                         queryRows(f.database(), "SELECT title, updated_at FROM whatsapp_canned_replies WHERE id = " + std::to_string(horaires.id)));
    CannedReply gone{424242, "Perdue", "perdue", {{"fr", "x"}}, 0};
    CannedProblems goneProblems;
    CPPUNIT_ASSERT(!store.save(gone, 2, 1500, goneProblems));
    CPPUNIT_ASSERT(!goneProblems.any());

    // Filled for a contact: the contact's language, else the page's, else the first written (en, fr, ar).
    const CannedContact amina{"Amina Benali", "+213555123456", ""};
    std::string language;
    CPPUNIT_ASSERT_EQUAL(std::string("مرحبًا Amina Benali، نحن نعمل من 8 إلى 17."), fillCannedReply(*found, amina, "ar", &language));
    CPPUNIT_ASSERT_EQUAL(std::string("ar"), language);
    CPPUNIT_ASSERT_EQUAL(std::string("Bonjour Amina, nous sommes ouverts de 8 h à 17 h."), fillCannedReply(*found, amina, "en", &language));
    CPPUNIT_ASSERT_EQUAL(std::string("fr"), language);  // no English text: the first there is
    const CannedContact french{"Karim", "+213661234567", "fr"};
    CPPUNIT_ASSERT_EQUAL(std::string("Bonjour Karim, nous sommes ouverts de 8 h à 17 h."), fillCannedReply(*found, french, "ar", &language));
    CannedReply phone{0, "Rappel", "rappel", {{"en", "We will call you on {{phone}}, {{ name }}."}}, 0};
    CPPUNIT_ASSERT_EQUAL(std::string("We will call you on +213555123456, Amina Benali."), fillCannedReply(phone, amina, "fr"));
    CPPUNIT_ASSERT_EQUAL(std::string("We will call you on , ."), fillCannedReply(phone, CannedContact{}, "fr"));  // nothing known: empty

    // Deleted once.
    CPPUNIT_ASSERT(store.remove(adresse.id));
    CPPUNIT_ASSERT(!store.remove(adresse.id));
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1), f.count("SELECT COUNT(*) FROM whatsapp_canned_replies"));
}

}  // namespace tawasul::test
