#pragma once
// The agent's tools of admin_inbox against a real, migrated database (SQLite or PostgreSQL): the
// internal notes of a conversation (stored with author and time, in the timeline in order, never
// anything sent) and the canned replies (the rules of a shortcut and of the fields, the store's
// uniqueness, the language chosen and the fields filled for a contact).
#include "InboxFixture.hpp"

namespace tawasul::test {

void checkConversationNotes(InboxFixture& f);
void checkCannedReplies(InboxFixture& f);

}  // namespace tawasul::test
