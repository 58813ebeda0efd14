#pragma once
// Repair of invalid UTF-8 in data files: each maximal invalid subpart becomes one U+FFFD
// (WHATWG / Unicode 3.9, the count a browser or Python's errors="replace" gives). Built on
// the decoder in text/unicode.hpp.
#include <cstddef>
#include <cstring>
#include <string>

#include "rgrid/text/unicode.hpp"

namespace rgrid {

/// Replaces each maximal invalid UTF-8 subsequence in `s` with U+FFFD and returns how many
/// replacements were made (0 leaves `s` untouched). A U+FFFD already in `s` is not counted.
/// Example: `std::string t = "a\xff\xfe" "b"; repair_utf8(t)` → 2, t == "a\uFFFD\uFFFDb".
inline std::size_t repair_utf8(std::string& s) {
    if (is_valid_utf8(s)) return 0;
    std::string out;
    out.reserve(s.size() + 8);
    std::size_t repairs = 0;
    const char* p = s.data();
    const char* end = p + s.size();
    while (p < end) {
        const DecodedChar d = decode_utf8(p, end);
        const bool invalid = d.cp == kReplacementChar && !(d.len == 3 && std::memcmp(p, "\xEF\xBF\xBD", 3) == 0);
        if (invalid) {
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
