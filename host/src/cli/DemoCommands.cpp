// `tawasul demo seed`: the platform records a new user needs to see the inbox at work (an
// organization, registrations, an enrollment, a B2B lead whose phones match the demo senders) and
// the webhook secrets that `tawasul simulate` signs with. Only on a fresh database: a database
// with any user, contact or platform record is left alone, so running it again changes nothing.
// The admin account (`tawasul user add`) and the conversations (`tawasul simulate inbound`,
// through the real webhook path) are added by scripts/dev run, which calls this first.
#include <iostream>

#include <Poco/Data/Session.h>

#include "cli/Cli.hpp"
#include "app/Runtime.hpp"
#include "tawasul/sdk/Crypto.hpp"

namespace tawasul::host {
namespace {

using namespace Poco::Data::Keywords;

constexpr const char* kUsage = "tawasul demo seed";

std::int64_t count(Poco::Data::Session& session, const std::string& table) {
    Poco::Int64 n = 0;
    session << "SELECT COUNT(*) FROM " + table, into(n), now;  // table names from this file only
    return n;
}

int seed(const HostConfig& config) {
    Runtime runtime(config);
    runtime.openSecrets(true);
    sdk::Database& database = runtime.database();
    Poco::Data::Session session = database.session();
    for (const char* table : {"users", "whatsapp_contacts", "organizations", "registrations", "b2b_leads"}) {
        if (count(session, table) > 0) {
            std::cout << "demo: the database already has data (" << table << "); nothing seeded\n";
            return kExitOk;
        }
    }
    const std::int64_t at = runtime.clock().nowMillis();
    {
        sdk::Transaction tx(database, session, sdk::Durability::Full);
        Poco::Int64 when = at;
        session << "INSERT INTO organizations (name, phone, email, city, created_at) VALUES "
                   "('Cevital Formation', '021 23 45 67', 'formation@cevital.example', 'Alger', $1), "
                   "('Sonelgaz Académie', '+213 23 45 67 89', 'academie@sonelgaz.example', 'Blida', $1)",
            use(when), now;
        session << "INSERT INTO registrations (full_name, phone, email, programme, status, created_at) VALUES "
                   "('Amina Benali', '0555 12 34 56', 'amina@example.dz', 'Analyse de données', 'pending', $1), "
                   "('Yacine Mansouri', '+213 770 11 22 33', 'yacine@example.dz', 'Développement web', 'confirmed', $1)",
            use(when), now;
        session << "INSERT INTO enrollments (registration_id, full_name, phone, programme, status, created_at) "
                   "SELECT id, full_name, phone, programme, 'active', $1 FROM registrations WHERE full_name = 'Yacine Mansouri'",
            use(when), now;
        session << "INSERT INTO b2b_leads (organization_id, contact_name, phone, email, source, status, notes, created_at, updated_at) "
                   "SELECT id, 'Karim Brahimi', '0661 23 45 67', 'k.brahimi@cevital.example', 'website', 'new', "
                   "'Formation Excel avancé pour 12 employés', $1, $1 FROM organizations WHERE name = 'Cevital Formation'",
            use(when), now;
        tx.commit();
    }
    // What `tawasul simulate` signs and verifies with; random, never printed.
    SettingsStore& settings = runtime.settings();
    if (!settings.get("whatsapp.cloud.app_secret")) settings.set("whatsapp.cloud.app_secret", sdk::randomHex(24));
    if (!settings.get("whatsapp.webhook.verify_token")) settings.set("whatsapp.webhook.verify_token", sdk::randomHex(24));
    if (!settings.get("whatsapp.cloud.phone_number_id")) settings.set("whatsapp.cloud.phone_number_id", "100000000000001");
    std::cout << "demo: seeded 2 organizations, 2 registrations, 1 enrollment, 1 B2B lead and webhook secrets\n";
    return kExitOk;
}

}  // namespace

Command demoCommand() {
    Command command;
    command.name = "demo";
    command.summary = "demo seed: sample platform records for a first look (fresh database only)";
    command.help = std::string("usage: ") + kUsage +
                   "\n\nOn a fresh database (no user, contact, organization, registration or lead), adds sample platform\n"
                   "records whose phones match the senders that scripts/dev run simulates, and random webhook\n"
                   "secrets for `tawasul simulate`. On any other database it prints why and changes nothing.\n";
    command.validate = [](const std::vector<std::string>& args) {
        const Arguments parsed("demo", args, {}, {});
        parsed.expectPositional(1, 1, kUsage);
        if (parsed.positional()[0] != "seed") throw UsageError("demo: unknown action '" + parsed.positional()[0] + "' (usage: " + kUsage + ")");
    };
    command.run = [](const HostConfig& config, const std::vector<std::string>&) { return seed(config); };
    return command;
}

}  // namespace tawasul::host
