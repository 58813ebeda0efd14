#pragma once
// Repair of invalid UTF-8 in data files: each maximal invalid subpart becomes one U+FFFD
// (WHATWG / Unicode 3.9, the count a browser or Python's errors="replace" gives). Built on
// the decoder in text/unicode.hpp.
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "rgrid/text/unicode.hpp"

namespace rgrid {

namespace detail {
/// Whether the decoded character at `p` is an ill-formed sequence (U+FFFD decoded from bytes
/// other than U+FFFD's own encoding EF BF BD).
inline bool is_invalid_sequence(const char* p, const DecodedChar& d) {
    return d.cp == kReplacementChar && !(d.len == 3 && std::memcmp(p, "\xEF\xBF\xBD", 3) == 0);
}
}  // namespace detail

/// Byte offset of the first ill-formed UTF-8 sequence in `s`, or nullopt when `s` is valid.
/// Example: `first_invalid_utf8("ab\xff")` → 2; `first_invalid_utf8("\uFFFD")` → nullopt.
inline std::optional<std::size_t> first_invalid_utf8(std::string_view s) {
    const char* p = s.data();
    const char* end = p + s.size();
    while (p < end) {
        const DecodedChar d = decode_utf8(p, end);
        if (detail::is_invalid_sequence(p, d)) return static_cast<std::size_t>(p - s.data());
        p += d.len;
    }
    return std::nullopt;
}

/// Replaces each maximal invalid UTF-8 subsequence in `s` with U+FFFD and returns how many
/// replacements were made (0 leaves `s` untouched). A U+FFFD already in `s` is not counted.
/// Example: `std::string t = "a\xff\xfe" "b"; repair_utf8(t)` → 2, t == "a\uFFFD\uFFFDb".
inline std::size_t repair_utf8(std::string& s) {
    const std::optional<std::size_t> first = first_invalid_utf8(s);
    if (!first) return 0;
    std::string out(s, 0, *first);  // the valid prefix as is
    out.reserve(s.size() + 8);
    std::size_t repairs = 0;
    const char* p = s.data() + *first;
    const char* end = s.data() + s.size();
    while (p < end) {
        const DecodedChar d = decode_utf8(p, end);
        if (detail::is_invalid_sequence(p, d)) {
            out += "\xEF\xBF\xBD";
            ++repairs;
        } else {
            out.append(p, d.len);
        }
        p += d.len;
    }
    s.swap(out);
    return repairs;
}

}  // namespace rgrid
