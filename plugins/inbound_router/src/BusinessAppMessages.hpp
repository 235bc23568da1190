#pragma once
// Coexistence: a business number used in the WhatsApp Business app and the Cloud API at once. Meta
// then sends, besides `messages`:
//   smb_message_echoes   what the business sent from the app: outbound messages in the customer's
//                        conversation (provider "business_app", status sent), as if sent from here;
//   history              past chats, once, on onboarding: imported without waking the inbox (no
//                        unread count, no conversation reopened, no keyword routing, no lead);
//   smb_app_state_sync   the app's address book: a contact's name.
// Every message is idempotent on its wamid (a redelivered echo, a history chunk sent twice, an echo
// of a message this host sent itself are stored once). These are rare beside `messages`, so they
// are written a row at a time, in the router's transaction.
#include <string>
#include <vector>

#include "tawasul/sdk/Clock.hpp"
#include "tawasul/whatsapp/Phones.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

namespace tawasul::plugins::inbound_router {

class BusinessAppMessages final : public sdk::WebhookFieldHandler {
public:
    static constexpr const char* kProvider = "business_app";

    BusinessAppMessages(const sdk::PhoneNormalizer& phones, const sdk::Clock& clock) : phones_(phones), clock_(clock) {}
    std::vector<std::string> fields() const override { return {"smb_message_echoes", "history", "smb_app_state_sync"}; }
    void write(sdk::PreparedSession& db, const std::vector<sdk::WebhookChange>& changes) override;

private:
    const sdk::PhoneNormalizer& phones_;
    const sdk::Clock& clock_;
};

}  // namespace tawasul::plugins::inbound_router
