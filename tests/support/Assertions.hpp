#pragma once
// CppUnit can compare and print these in CPPUNIT_ASSERT_EQUAL once it is told how.
#include <string>
#include <vector>

#include <cppunit/TestAssert.h>

namespace CppUnit {
template <>
struct assertion_traits<std::vector<std::string>> {
    static bool equal(const std::vector<std::string>& a, const std::vector<std::string>& b) { return a == b; }
    static std::string toString(const std::vector<std::string>& v) {
        std::string out = "[";
        for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", \"" : "\"") + v[i] + "\"";
        return out + "]";
    }
};
}  // namespace CppUnit

namespace tawasul::test {

inline void assertContains(const std::string& text, const std::string& part) {
    CPPUNIT_ASSERT_MESSAGE("expected '" + part + "' in:\n" + text, text.find(part) != std::string::npos);
}

inline void assertLacks(const std::string& text, const std::string& part) {
    CPPUNIT_ASSERT_MESSAGE("did not expect '" + part + "' in:\n" + text, text.find(part) == std::string::npos);
}

}  // namespace tawasul::test
