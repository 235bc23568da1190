#include "tawasul/sdk/Clock.hpp"

#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>

namespace tawasul::sdk {

std::string isoTime(std::int64_t millis) {
    return Poco::DateTimeFormatter::format(Poco::Timestamp(static_cast<Poco::Timestamp::TimeVal>(millis) * 1000),
                                           "%Y-%m-%dT%H:%M:%S.%iZ");
}

}  // namespace tawasul::sdk
