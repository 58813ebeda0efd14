#pragma once
// Code-point level Unicode for the BERT tokenizer: UTF-8 decoding (U+FFFD per maximal
// subpart), UTF-8 encoding, and what Hugging Face's BertNormalizer + BertPreTokenizer do with
// each code point (from the generated chartable.hpp). The only file in rgrid that includes
// utf8proc; utf8proc serves the general-purpose helpers (category, NFD, simple lowercase) that
// tests use to cross-check the HF tables.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <utf8proc.h>

#include "rgrid/core/error.hpp"
#include "rgrid/text/chartable.hpp"

namespace rgrid {

/// One code point decoded from UTF-8 and the number of bytes it took (1-4).
struct DecodedChar {
    char32_t cp;
    std::uint8_t len;
};

/// The replacement character that invalid UTF-8 decodes to.
inline constexpr char32_t kReplacementChar = 0xFFFD;

/// Decodes the code point at `p` (requires p < end). Invalid input gives U+FFFD for the
/// maximal subpart (WHATWG / Unicode 3.9, like Python's errors="replace"): a bad lead byte or
/// a truncated sequence is replaced, and the byte that broke the sequence is NOT consumed, so
/// a valid character right after a bad byte is never skipped. Overlong forms, surrogates
/// (ED A0..BF) and values above U+10FFFF are invalid.
/// Example: decode_utf8("\xE2\x82\xACx", end) -> {0x20AC, 3}; decode_utf8("\xE2\x82x") -> {0xFFFD, 2}.
inline DecodedChar decode_utf8(const char* p, const char* end) noexcept {
    const auto b0 = static_cast<unsigned char>(p[0]);
    if (b0 < 0x80) return {b0, 1};
    auto cont = [&](std::ptrdiff_t i, unsigned char lo, unsigned char hi) {
        if (p + i >= end) return false;
        const auto b = static_cast<unsigned char>(p[i]);
        return b >= lo && b <= hi;
    };
    auto bits = [&](std::ptrdiff_t i) { return static_cast<char32_t>(static_cast<unsigned char>(p[i]) & 0x3F); };
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        if (!cont(1, 0x80, 0xBF)) return {kReplacementChar, 1};
        return {(static_cast<char32_t>(b0 & 0x1F) << 6) | bits(1), 2};
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
        if (!cont(1, lo, hi)) return {kReplacementChar, 1};
        if (!cont(2, 0x80, 0xBF)) return {kReplacementChar, 2};
        return {(static_cast<char32_t>(b0 & 0x0F) << 12) | (bits(1) << 6) | bits(2), 3};
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
        if (!cont(1, lo, hi)) return {kReplacementChar, 1};
        if (!cont(2, 0x80, 0xBF)) return {kReplacementChar, 2};
        if (!cont(3, 0x80, 0xBF)) return {kReplacementChar, 3};
        return {(static_cast<char32_t>(b0 & 0x07) << 18) | (bits(1) << 12) | (bits(2) << 6) | bits(3), 4};
    }
    return {kReplacementChar, 1};  // stray continuation byte, C0/C1, F5..FF
}

/// All code points of `s`, invalid bytes decoded as U+FFFD (maximal subparts).
/// Example: decode_utf8("a\xFFb") == U"a\uFFFDb".
inline std::u32string decode_utf8(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    const char* p = s.data();
    const char* end = p + s.size();
    while (p < end) {
        const DecodedChar d = decode_utf8(p, end);
        out.push_back(d.cp);
        p += d.len;
    }
    return out;
}

/// Appends the UTF-8 encoding of `cp` (must be a scalar value) to `out`.
inline void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

/// UTF-8 encoding of a sequence of code points. Example: encode_utf8(U"é") == "\xC3\xA9".
inline std::string encode_utf8(std::u32string_view cps) {
    std::string out;
    out.reserve(cps.size());
    for (char32_t cp : cps) append_utf8(out, cp);
    return out;
}

/// True when `s` is well-formed UTF-8 (utf8proc's validator).
inline bool is_valid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
    utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
    while (left > 0) {
        utf8proc_int32_t cp = 0;
        const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) return false;
        p += n;
        left -= n;
    }
    return true;
}

/// Two-letter Unicode general category per utf8proc (Unicode 15), e.g. "Lu", "Mn", "Cn".
inline std::string unicode_category(char32_t cp) {
    return utf8proc_category_string(static_cast<utf8proc_int32_t>(cp));
}

/// Simple (one-to-one) lowercase per utf8proc. Example: unicode_tolower(U'Σ') == U'σ'.
inline char32_t unicode_tolower(char32_t cp) {
    return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

/// Canonical decomposition (NFD) of a UTF-8 string per utf8proc. Throws on invalid UTF-8.
inline std::string nfd(std::string_view s) {
    utf8proc_uint8_t* out = nullptr;
    const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                            static_cast<utf8proc_ssize_t>(s.size()), &out,
                                            static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_STABLE));
    RGRID_CHECK(n >= 0, "nfd: ", utf8proc_errmsg(n));
    std::string r(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
    std::free(out);
    return r;
}

/// What HF's BERT normalizer and pre-tokenizer do with one code point (bit flags).
/// Generated from hf_bert_chartable.json by scripts/gen_chartable.py.
namespace bert_char {
inline constexpr std::uint8_t kRemoveControl = detail::chartable::kRemoveControl;  ///< clean_text drops it
inline constexpr std::uint8_t kRemoveMark = detail::chartable::kRemoveMark;        ///< accent stripping drops it (uncased)
inline constexpr std::uint8_t kToSpace = detail::chartable::kToSpace;              ///< clean_text makes it a space
inline constexpr std::uint8_t kCjk = detail::chartable::kCjk;                      ///< padded with spaces
inline constexpr std::uint8_t kWhitespace = detail::chartable::kWhitespace;        ///< pre-tokenizer splits on it
inline constexpr std::uint8_t kPunct = detail::chartable::kPunct;                  ///< pre-tokenizer isolates it
inline constexpr std::uint8_t kMapped = 64;  ///< uncased mapping (NFD + drop Mn + lowercase) is not the identity
}  // namespace bert_char

namespace detail {

struct UncasedMap {
    char32_t from;
    std::array<char32_t, 3> to;  // zero-padded
};

// Built once from the generated tables: a flag byte per code point (1.1 MB, O(1) lookup)
// and the sorted non-Hangul uncased mappings (about 3,200 entries).
struct BertCharTables {
    std::vector<std::uint8_t> flags;
    std::vector<UncasedMap> maps;

    BertCharTables() : flags(0x110000, 0) {
        using namespace chartable;
        for (const FlagRange& r : kFlagRanges)
            std::fill(flags.begin() + r.first, flags.begin() + r.last + 1, r.flags);
        for (const MapRun& run : kMapRuns)
            for (std::uint32_t i = 0; i < run.count; ++i) {
                const char32_t cp = run.first + i * run.step;
                maps.push_back({cp, {static_cast<char32_t>(static_cast<std::int64_t>(cp) + run.delta), 0, 0}});
            }
        for (const MapMulti& m : kMapMulti) maps.push_back({m.from, {m.to[0], m.to[1], m.to[2]}});
        std::sort(maps.begin(), maps.end(), [](const UncasedMap& a, const UncasedMap& b) { return a.from < b.from; });
        for (const UncasedMap& m : maps) flags[m.from] |= bert_char::kMapped;
        for (char32_t cp = kHangulFirst; cp <= kHangulLast; ++cp) flags[cp] |= bert_char::kMapped;
    }
};

inline const BertCharTables& bert_char_tables() {
    static const BertCharTables tables;
    return tables;
}

}  // namespace detail

/// The bert_char flags of a code point (0 for an ordinary character). cp must be <= 0x10FFFF.
/// Example: bert_char_flags(U'!') & bert_char::kPunct; bert_char_flags(0x200B) & bert_char::kRemoveControl.
inline std::uint8_t bert_char_flags(char32_t cp) { return detail::bert_char_tables().flags[cp]; }

/// HF's uncased per-code-point normalization (NFD, drop Mn, full lowercase) of a code point
/// that is not removed: writes 1-3 code points to `out` and returns how many.
/// Example: 'É' -> "e"; U+AC01 (각) -> 3 conjoining jamo; U+0130 'İ' -> "i".
inline int bert_uncased_map(char32_t cp, char32_t out[3]) {
    if (!(bert_char_flags(cp) & bert_char::kMapped)) {
        out[0] = cp;
        return 1;
    }
    using detail::chartable::kHangulFirst;
    if (cp >= kHangulFirst && cp <= detail::chartable::kHangulLast) {
        const char32_t i = cp - kHangulFirst;
        out[0] = 0x1100 + i / 588;
        out[1] = 0x1161 + (i % 588) / 28;
        const char32_t tail = i % 28;
        if (tail == 0) return 2;
        out[2] = 0x11A7 + tail;
        return 3;
    }
    const auto& maps = detail::bert_char_tables().maps;
    const auto it = std::lower_bound(maps.begin(), maps.end(), cp,
                                     [](const detail::UncasedMap& m, char32_t c) { return m.from < c; });
    int n = 0;
    for (char32_t c : it->to)
        if (c != 0) out[n++] = c;
    return n;
}

}  // namespace rgrid
