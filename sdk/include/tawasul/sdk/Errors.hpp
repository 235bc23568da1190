#pragma once
// The text of an exception for a log line or an error message. Poco's exceptions answer what()
// with their class name only ("PostgreSQL"); their displayText() says what went wrong.
#include <exception>
#include <string>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

TAWASUL_SDK_API std::string errorText(const std::exception& error);

}  // namespace tawasul::sdk
