#include <stdexcept>

#include "tawasul/sdk/Config.hpp"
#include "tawasul/whatsapp/Phones.hpp"

namespace tawasul::sdk {

std::string defaultRegionOf(const ConfigNode& config) {
    const std::string region = config.getString("default_region", "DZ");
    try {
        PhoneNormalizer check(region);  // the constructor is what knows the regions
    } catch (const std::invalid_argument& error) {
        config.child("default_region").fail(error.what());
    }
    return region;
}

}  // namespace tawasul::sdk
