// The out-of-line destructor that anchors the interface's type information in the SDK.
#include "tawasul/sdk/EveryHostEvents.hpp"

namespace tawasul::sdk {
EveryHostEvents::~EveryHostEvents() = default;
}  // namespace tawasul::sdk
