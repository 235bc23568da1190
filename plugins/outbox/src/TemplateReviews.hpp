#pragma once
// Meta's review of the outbox's templates. Meta approves, rejects, pauses and re-categorises a
// template and says so in three webhook fields; their changes land on the template's row (by name and
// language, as Meta names them), newest last, so that the dispatcher can refuse at once a template
// Meta would refuse (sdk::TemplateApproval) and the templates page shows where each one stands.
// A template Meta never reviewed (no status) is local: it is sent by hand through the Outbox.
#include <optional>
#include <string>
#include <vector>

#include <Poco/Nullable.h>

#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/whatsapp/Templates.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

namespace tawasul::plugins::outbox {

// Why a template Meta reviewed as `status` (with `reason`) cannot be sent, or nullopt when it can:
// Meta let it be sent, or never reviewed it (NULL: a local template, sent by hand).
std::optional<std::string> reviewRefusal(const Poco::Nullable<std::string>& status, const Poco::Nullable<std::string>& reason);

class TemplateReviews final : public sdk::WebhookFieldHandler, public sdk::TemplateApproval {
public:
    static constexpr const char* kStatusField = "message_template_status_update";
    static constexpr const char* kQualityField = "message_template_quality_update";
    static constexpr const char* kCategoryField = "template_category_update";

    explicit TemplateReviews(sdk::HostContext& context) : context_(context) {}

    std::vector<std::string> fields() const override { return {kStatusField, kQualityField, kCategoryField}; }
    void write(sdk::PreparedSession& db, const std::vector<sdk::WebhookChange>& changes) override;

    std::optional<std::string> refusal(const std::string& name, const std::string& language) override;

private:
    sdk::HostContext& context_;
};

}  // namespace tawasul::plugins::outbox
