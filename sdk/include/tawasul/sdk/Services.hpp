#pragma once
// Typed service registry: a plugin publishes an implementation of an SDK interface under a name,
// another finds it by interface and name. Interfaces live in the SDK, so both sides agree on them.
#include <memory>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "tawasul/sdk/Api.hpp"

namespace tawasul::sdk {

class TAWASUL_SDK_API ServiceRegistry {
public:
    virtual ~ServiceRegistry();

    template <class Interface>
    void publish(const std::string& name, std::shared_ptr<Interface> service) {
        publishErased(typeid(Interface).name(), name, std::static_pointer_cast<void>(std::move(service)));
    }

    // nullptr when no service of this interface has this name.
    template <class Interface>
    std::shared_ptr<Interface> find(const std::string& name) const {
        return std::static_pointer_cast<Interface>(findErased(typeid(Interface).name(), name));
    }

    // The names published for this interface, in publication order.
    template <class Interface>
    std::vector<std::string> names() const {
        return namesErased(typeid(Interface).name());
    }

protected:
    // Keyed by the type's mangled name: type_info objects may differ between libraries loaded
    // with RTLD_LOCAL, their names do not.
    virtual void publishErased(const char* type, const std::string& name, std::shared_ptr<void> service) = 0;
    virtual std::shared_ptr<void> findErased(const char* type, const std::string& name) const = 0;
    virtual std::vector<std::string> namesErased(const char* type) const = 0;
};

}  // namespace tawasul::sdk
