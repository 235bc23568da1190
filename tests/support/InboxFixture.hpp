#pragma once
// The admin inbox's queries against a real, migrated database (SQLite or PostgreSQL): the same
// checks run on both engines, so the inbox SQL cannot drift between dialects.
#include <memory>
#include <string>

#include "InboxStore.hpp"
#include "app/Runtime.hpp"
#include "TestSupport.hpp"
#include "tawasul/whatsapp/Phones.hpp"

namespace tawasul::test {

class InboxFixture {
public:
    // databaseUrl empty: SQLite in `dir`.
    InboxFixture(const TempDir& dir, const std::string& databaseUrl = "");
    ~InboxFixture();

    void sql(const std::string& statement);
    std::int64_t count(const std::string& query);
    plugins::admin_inbox::InboxStore& store() { return *store_; }
    sdk::Database& database() { return runtime_->database(); }

    // Users 1 (admin, Admin Amel), 2 (agent, Agent Bilal), 3 (viewer, Viewer Chafia), 4 (no role).
    void seedUsers();
    // A contact and its conversation; returns the conversation id.
    std::int64_t conversation(std::int64_t id, const std::string& name, const std::string& waId, const std::string& status,
                              std::int64_t lastMessageAt, std::int64_t assignedUserId = 0, const std::string& intent = "");

private:
    std::unique_ptr<host::Runtime> runtime_;
    sdk::PhoneNormalizer phones_;
    std::unique_ptr<plugins::admin_inbox::InboxStore> store_;
};

// Every check of the suite, on the fixture's engine.
void checkInboxFilters(InboxFixture& f);
void checkInboxSearch(InboxFixture& f);
void checkKeysetPages(InboxFixture& f);
void checkTimelineAndChanges(InboxFixture& f);
// The lead page's queries: the list (status, search, keyset pages), one lead with its
// conversations, a status change, a note, an unlink with its system line.
void checkLeads(InboxFixture& f);
void checkTemplateOptions(InboxFixture& f);

}  // namespace tawasul::test
