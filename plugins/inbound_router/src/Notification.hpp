#pragma once
// A stored webhook body read as a WhatsApp notification: a JSON object whose "object" is
// whatsapp_business_account. Anything else throws sdk::PermanentJobFailure with the reason (the
// body will never read better, so its job fails for good, visibly).
#include <string>

#include <Poco/JSON/Object.h>

namespace tawasul::plugins::inbound_router {

Poco::JSON::Object::Ptr readNotification(const std::string& body);

}  // namespace tawasul::plugins::inbound_router
