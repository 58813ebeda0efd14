#pragma once
// UTF-8 validation and repair for data files: every maximal invalid subsequence becomes
// one U+FFFD (the WHATWG / Unicode "substitution of maximal subparts" practice, the same
// count a browser or Python's errors="replace" gives). Kept in data/ because it needs no
// Unicode tables; text/unicode.hpp (utf8proc) is for tokenization.
#include <cstddef>
#include <string>
#include <string_view>

namespace rgrid {

namespace detail {
// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid there;
// `consumed` = bytes of the maximal invalid subpart (≥ 1) when invalid.
inline std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t& consumed) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    consumed = 1;
    if (c < 0x80) return 1;
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0;
    for (std::size_t k = 1; k < len; ++k) {
        if (i + k >= s.size()) { consumed = k; return 0; }
        const unsigned char t = b(i + k);
        const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (t < l || t > h) { consumed = k; return 0; }
    }
    return len;
}
}  // namespace detail

/// True when `s` is well-formed UTF-8.
/// Example: `is_valid_utf8("caf\xc3\xa9")` → true; `is_valid_utf8("\xff")` → false.
inline bool is_valid_utf8(std::string_view s) {
    std::size_t i = 0, consumed = 0;
    while (i < s.size()) {
        if (static_cast<unsigned char>(s[i]) < 0x80) { ++i; continue; }
        const std::size_t n = detail::utf8_sequence(s, i, consumed);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

/// Replaces each maximal invalid UTF-8 subsequence in `s` with U+FFFD; returns how many
/// replacements were made (0 leaves `s` untouched).
/// Example: `std::string t = "a\xff\xfe" "b"; repair_utf8(t)` → 2, t == "a\uFFFD\uFFFDb".
inline std::size_t repair_utf8(std::string& s) {
    if (is_valid_utf8(s)) return 0;
    std::string out;
    out.reserve(s.size() + 8);
    std::size_t i = 0, consumed = 0, repairs = 0;
    while (i < s.size()) {
        const std::size_t n = detail::utf8_sequence(s, i, consumed);
        if (n > 0) {
            out.append(s, i, n);
            i += n;
        } else {
            out += "\xEF\xBF\xBD";
            ++repairs;
            i += consumed;
        }
    }
    s.swap(out);
    return repairs;
}

}  // namespace rgrid
