#include "TemplateSync.hpp"

#include <map>
#include <set>
#include <stdexcept>

#include <Poco/Data/Session.h>
#include <Poco/Logger.h>
#include <Poco/Nullable.h>

#include "tawasul/sdk/Database.hpp"
#include "tawasul/sdk/Errors.hpp"

namespace tawasul::plugins::outbox {
namespace {

using namespace Poco::Data::Keywords;
using Text = Poco::Nullable<std::string>;

Text orNull(const std::string& text) { return text.empty() ? Text() : Text(text); }

// The outbox's categories are Meta's, in lower case (the column's CHECK); another keeps what it had.
std::optional<std::string> localCategory(const std::string& meta) {
    if (meta == "MARKETING") return std::string("marketing");
    if (meta == "UTILITY") return std::string("utility");
    if (meta == "AUTHENTICATION") return std::string("authentication");
    return std::nullopt;
}

}  // namespace

sdk::TemplateSyncReport OutboxTemplateSync::sync() {
    sdk::ServiceRegistry& services = context_.services();
    std::shared_ptr<sdk::TemplateSource> source;
    for (const std::string& name : services.names<sdk::TemplateSource>())
        if ((source = services.find<sdk::TemplateSource>(name))) break;
    if (!source) throw std::runtime_error("no provider reads Meta's templates: load cloud_api");
    const std::vector<sdk::MetaTemplate> fetched = source->metaTemplates();  // before the transaction: the network is slow

    sdk::TemplateSyncReport report;
    report.fromMeta = fetched.size();
    sdk::Database& database = context_.database();
    Poco::Data::Session session = database.session();
    sdk::Transaction transaction(database, session, sdk::Durability::Full);
    Poco::Int64 nowMillis = context_.clock().nowMillis(), nowSeconds = nowMillis / 1000;
    std::set<std::pair<std::string, std::string>> seen;
    for (const sdk::MetaTemplate& meta : fetched) {
        seen.emplace(meta.name, meta.language);
        std::string name = meta.name, language = meta.language;
        Text metaId = orNull(meta.id), status = orNull(meta.status), reason = orNull(meta.rejectedReason), quality = orNull(meta.quality),
             category = orNull(meta.category);
        std::vector<Poco::Int64> ids;
        session << "SELECT id FROM whatsapp_templates WHERE name = $1 AND language = $2", use(name), use(language), into(ids), now;
        if (meta.unsupported) {
            // Its review still lands on a local copy; its parts are not taken.
            if (!ids.empty()) {
                session << "UPDATE whatsapp_templates SET meta_id = $1, meta_status = $2, meta_reason = $3, meta_quality = $4, "
                           "meta_category = $5, meta_reviewed_at = $6, updated_at = $7 WHERE id = $8",
                    use(metaId), use(status), use(reason), use(quality), use(category), use(nowSeconds), use(nowMillis), use(ids.front()), now;
                ++report.updated;
            }
            report.skipped.push_back(meta.name + " (" + meta.language + "): " + *meta.unsupported);
            continue;
        }
        if (const auto problem = meta.definition.check()) {
            report.skipped.push_back(meta.name + " (" + meta.language + "): " + *problem);
            continue;
        }
        std::string body = meta.definition.body;
        Text header = orNull(meta.definition.header);
        Text buttons = meta.definition.buttons.empty() ? Text() : Text(sdk::TemplateDefinition::buttonsToJson(meta.definition.buttons));
        const auto local = localCategory(meta.category);
        if (ids.empty()) {
            std::string categoryText = local.value_or("utility");
            session << "INSERT INTO whatsapp_templates (name, language, category, body, status, header, buttons, created_at, updated_at, "
                       "meta_id, meta_status, meta_reason, meta_quality, meta_category, meta_reviewed_at) "
                       "VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $7, $8, $9, $10, $11, $12, $13)",
                use(name), use(language), use(categoryText), use(body), use(header), use(buttons), use(nowMillis), use(metaId), use(status),
                use(reason), use(quality), use(category), use(nowSeconds), now;
            ++report.added;
        } else {
            Text categoryText = local ? Text(*local) : Text();
            session << "UPDATE whatsapp_templates SET body = $1, header = $2, buttons = $3, category = COALESCE($4, category), "
                       "meta_id = $5, meta_status = $6, meta_reason = $7, meta_quality = $8, meta_category = $9, meta_reviewed_at = $10, "
                       "updated_at = $11 WHERE id = $12",
                use(body), use(header), use(buttons), use(categoryText), use(metaId), use(status), use(reason), use(quality), use(category),
                use(nowSeconds), use(nowMillis), use(ids.front()), now;
            ++report.updated;
        }
    }
    // Held by Meta once, no longer listed: deleted there.
    std::vector<Poco::Int64> ids;
    std::vector<std::string> names, languages;
    session << "SELECT id, name, language FROM whatsapp_templates WHERE meta_id IS NOT NULL AND COALESCE(meta_status, '') <> 'DELETED'",
        into(ids), into(names), into(languages), now;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (seen.count({names[i], languages[i]})) continue;
        session << "UPDATE whatsapp_templates SET meta_status = 'DELETED', meta_reason = NULL, meta_reviewed_at = $1, updated_at = $2 "
                   "WHERE id = $3",
            use(nowSeconds), use(nowMillis), use(ids[i]), now;
        ++report.deleted;
    }
    transaction.commit();
    context_.logger().information("templates sync: " + std::to_string(report.fromMeta) + " from Meta, " + std::to_string(report.added) +
                                  " added, " + std::to_string(report.updated) + " updated, " + std::to_string(report.deleted) +
                                  " deleted at Meta, " + std::to_string(report.skipped.size()) + " skipped");
    return report;
}

}  // namespace tawasul::plugins::outbox
