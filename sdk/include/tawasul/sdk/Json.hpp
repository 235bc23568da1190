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

// The member `key` when it is an identifier as Meta writes them (a wamid, a wa_id, a user or phone
// number id): 1 to 256 bytes of printable ASCII without spaces; "" otherwise, as if absent. A key
// must read back as it was written to be found again: a NUL, for one, ends a text that SQLite
// returns, so a sender id holding one would never meet its own contact row.
inline std::string jsonIdentifier(const Poco::JSON::Object& object, const std::string& key) {
    std::string text = jsonText(object, key);
    if (text.size() > 256) return "";
    for (const char c : text)
        if (c < 0x21 || c > 0x7E) return "";
    return text;
}

// A JSON object as compact text, for a job payload, an event or a response body.
inline std::string jsonString(const Poco::JSON::Object& object) {
    std::ostringstream out;
    object.stringify(out);
    return out.str();
}

}  // namespace tawasul::sdk
