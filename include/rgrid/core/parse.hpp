#pragma once
// Numbers typed by a user (command-line options, fields): anything that is not wholly a
// number is an Error naming where it came from, never a bare "stoull" from the library.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "rgrid/core/error.hpp"

namespace rgrid {

/// A whole number ≥ 0: digits only (no sign, no spaces), within 64 bits.
/// Example: `std::size_t epochs = rgrid::parse_count("--epochs", "3");`
inline std::uint64_t parse_count(std::string_view what, const std::string& text) {
    std::size_t used = 0;
    unsigned long long v = 0;
    if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) {
        try { v = std::stoull(text, &used); } catch (const std::exception&) { used = 0; }
    }
    RGRID_CHECK(used > 0 && used == text.size(), what, ": '", text, "' is not a whole number >= 0");
    return v;
}

/// A floating-point number, written wholly as one (std::stod's syntax, e.g. `5e-5`).
/// Example: `double lr = rgrid::parse_real("--lr", "5e-5");`
inline double parse_real(std::string_view what, const std::string& text) {
    std::size_t used = 0;
    double v = 0;
    try { v = std::stod(text, &used); } catch (const std::exception&) { used = 0; }
    RGRID_CHECK(used > 0 && used == text.size(), what, ": '", text, "' is not a number");
    return v;
}

}  // namespace rgrid
