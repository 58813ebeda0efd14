#pragma once
// Shared by the test executables (tests/CMakeLists.txt puts tests/ on their include path).
#include <string>

#include "rgrid/core/error.hpp"

namespace rgrid::test {

/// The message of the rgrid::Error that `fn` throws, or "<no error>" when it returns normally
/// (so `EXPECT_NE(error_of(...).find("..."), npos) << msg` prints what happened).
/// Example: `EXPECT_NE(error_of([] { read_csv("missing.csv"); }).find("missing.csv"), std::string::npos);`
template <class F>
std::string error_of(F&& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "<no error>";
}

}  // namespace rgrid::test
