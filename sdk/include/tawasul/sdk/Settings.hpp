#pragma once
// Runtime settings stored in `site_settings`. Secret keys are encrypted at rest; get() decrypts.
#include <optional>
#include <string>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

class TAWASUL_SDK_API Settings {
public:
    virtual ~Settings();
    virtual std::optional<std::string> get(const std::string& key) = 0;
    virtual void set(const std::string& key, const std::string& value) = 0;
    virtual bool isSecret(const std::string& key) const = 0;
};

}  // namespace tawasul::sdk
