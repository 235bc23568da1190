#pragma once
#include <cstdint>
#include <string>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

// Wall-clock time, behind an interface so that tests can move it.
class TAWASUL_SDK_API Clock {
public:
    virtual ~Clock();
    virtual std::int64_t nowMillis() const = 0;  // milliseconds since the Unix epoch, UTC
};

// Milliseconds since the epoch as ISO 8601 UTC with milliseconds: "2026-11-25T10:00:00.000Z" (the
// platform API's timestamps, the CLI's tables).
TAWASUL_SDK_API std::string isoTime(std::int64_t millis);

}  // namespace tawasul::sdk
