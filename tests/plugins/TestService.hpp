#pragma once
// A service interface shared by a test plugin and the tests that look it up.
#include <string>

namespace tawasul::test {

class __attribute__((visibility("default"))) TestService {
public:
    static constexpr const char* kServiceName = "greeter";  // as the good plugin publishes it
    virtual ~TestService() = default;
    virtual std::string greet(const std::string& name) const = 0;
};

}  // namespace tawasul::test
