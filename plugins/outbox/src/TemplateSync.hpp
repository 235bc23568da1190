#pragma once
// `tawasul templates sync` and the templates page's button: Meta's templates (from the provider that
// publishes sdk::TemplateSource, cloud_api) into the outbox's, in one transaction. Meta's copy wins
// for what Meta holds (header, body, buttons, category, review); the local status (active, draft,
// disabled) is the admin's. A local template Meta does not hold stays local; one Meta held and no
// longer lists is marked DELETED (and so refused).
#include "tawasul/sdk/HostContext.hpp"
#include "tawasul/whatsapp/Templates.hpp"

namespace tawasul::plugins::outbox {

class OutboxTemplateSync final : public sdk::TemplateSync {
public:
    explicit OutboxTemplateSync(sdk::HostContext& context) : context_(context) {}
    sdk::TemplateSyncReport sync() override;

private:
    sdk::HostContext& context_;
};

}  // namespace tawasul::plugins::outbox
