#pragma once
// rgrid::Error and RGRID_CHECK: every failure rgrid reports is an rgrid::Error whose
// message names the offending shape, value, file, line or field.
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace rgrid {

/// The one exception type rgrid throws for bad input or misuse.
/// Example: `try { ... } catch (const rgrid::Error& e) { std::cerr << e.what(); }`
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Args>
std::string concat(Args&&... args) {
    std::ostringstream os;
    (os << ... << std::forward<Args>(args));
    return os.str();
}
}  // namespace detail

}  // namespace rgrid

/// Throw rgrid::Error with the streamed message when `cond` is false.
/// Example: RGRID_CHECK(a.size() == b.size(), "shape mismatch: ", shape_str(a), " vs ", shape_str(b));
#define RGRID_CHECK(cond, ...)                                              \
    do {                                                                    \
        if (!(cond)) throw ::rgrid::Error(::rgrid::detail::concat(__VA_ARGS__)); \
    } while (0)
