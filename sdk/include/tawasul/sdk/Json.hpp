#pragma once
// Reading JSON documents that others wrote (Meta's webhooks, job payloads, platform events), where a
// member may be missing, null, a string or a number. Header-only: nothing added to the SDK's ABI.
#include <sstream>
#include <string>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>

namespace tawasul::sdk {

// The member `key` as text: "" when absent or null; a number or a boolean in its JSON spelling.
inline std::string jsonText(const Poco::JSON::Object& object, const std::string& key) {
    if (!object.has(key) || object.isNull(key)) return "";
    try {
        return object.getValue<std::string>(key);
    } catch (const Poco::Exception&) {
        return object.get(key).toString();
    }
}

// A JSON object as compact text, for a job payload, an event or a response body.
inline std::string jsonString(const Poco::JSON::Object& object) {
    std::ostringstream out;
    object.stringify(out);
    return out.str();
}

}  // namespace tawasul::sdk
