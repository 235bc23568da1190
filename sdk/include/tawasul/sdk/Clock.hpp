#pragma once
#include <cstdint>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

// Wall-clock time, behind an interface so that tests can move it.
class TAWASUL_SDK_API Clock {
public:
    virtual ~Clock();
    virtual std::int64_t nowMillis() const = 0;  // milliseconds since the Unix epoch, UTC
};

}  // namespace tawasul::sdk
