#include "Notification.hpp"

#include <Poco/JSON/Parser.h>

#include "tawasul/sdk/Jobs.hpp"

namespace tawasul::plugins::inbound_router {

Poco::JSON::Object::Ptr readNotification(const std::string& body) {
    Poco::JSON::Object::Ptr root;
    try {
        root = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception& error) {
        throw sdk::PermanentJobFailure("the stored body is not a JSON object: " + error.displayText());
    }
    if (!root) throw sdk::PermanentJobFailure("the stored body is not a JSON object");
    const std::string object = root->optValue<std::string>("object", "");
    if (object != "whatsapp_business_account")
        throw sdk::PermanentJobFailure("the body's object is '" + object + "', not whatsapp_business_account");
    return root;
}

}  // namespace tawasul::plugins::inbound_router
