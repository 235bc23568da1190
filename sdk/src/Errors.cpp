#include "tawasul/sdk/Errors.hpp"

#include <Poco/Exception.h>

namespace tawasul::sdk {

std::string errorText(const std::exception& error) {
    if (const auto* poco = dynamic_cast<const Poco::Exception*>(&error)) return poco->displayText();
    return error.what();
}

}  // namespace tawasul::sdk
