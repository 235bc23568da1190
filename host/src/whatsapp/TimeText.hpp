#pragma once
#include <cstdint>
#include <string>

namespace tawasul::host {

// Milliseconds since the epoch as ISO 8601 UTC with milliseconds: "2026-11-25T10:00:00.000Z".
std::string isoTime(std::int64_t millis);

}  // namespace tawasul::host
