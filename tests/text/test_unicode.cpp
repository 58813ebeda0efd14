// UTF-8 decoding (maximal subparts, never skipping valid bytes) and the generated HF tables.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rgrid/text/basic_tokenizer.hpp"
#include "rgrid/text/unicode.hpp"

namespace {

using rgrid::decode_utf8;
using rgrid::encode_utf8;
namespace bc = rgrid::bert_char;

constexpr char32_t R = rgrid::kReplacementChar;

TEST(Utf8Decode, ValidRoundTrip) {
    const std::u32string cps = {U'a', 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF};
    const std::string s = encode_utf8(cps);
    EXPECT_TRUE(rgrid::is_valid_utf8(s));
    EXPECT_EQ(decode_utf8(s), cps);
}

TEST(Utf8Decode, MaximalSubpartsNeverSkipValidBytes) {
    struct Case {
        std::string in;
        std::u32string out;
        const char* what;
    };
    const std::vector<Case> cases = {
        {"a\xFF" "b", {U'a', R, U'b'}, "invalid byte FF"},
        {"\x80x", {R, U'x'}, "stray continuation byte"},
        {"\x80\xBF" "x", {R, R, U'x'}, "two stray continuation bytes"},
        {"\xE2\x82x", {R, U'x'}, "truncated 3-byte sequence (one U+FFFD for the subpart)"},
        {"\xE2\x82", {R}, "truncated at end of input"},
        {"\xF0\x9F\x98" "a", {R, U'a'}, "truncated 4-byte sequence"},
        {"\xC3" "\xC3\xA9", {R, 0xE9}, "lead byte followed by a valid character"},
        {"\xC0\xAF" "z", {R, R, U'z'}, "overlong '/' (C0 is never valid)"},
        {"\xE0\x80\xAF", {R, R, R}, "overlong 3-byte"},
        {"\xF0\x80\x80\xAF", {R, R, R, R}, "overlong 4-byte"},
        {"\xED\xA0\x80" "x", {R, R, R, U'x'}, "UTF-16 surrogate D800"},
        {"\xED\xBF\xBF", {R, R, R}, "surrogate DFFF"},
        {"\xF4\x90\x80\x80", {R, R, R, R}, "above U+10FFFF"},
        {"\xF5\x80", {R, R}, "F5 lead byte"},
        {"\xE2\x28\xA1", {R, U'(', R}, "bad second byte is kept as '('"},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(decode_utf8(c.in), c.out) << c.what;
        EXPECT_FALSE(rgrid::is_valid_utf8(c.in)) << c.what;
    }
}

TEST(Utf8Decode, InvalidBytesVanishFromTokens) {
    const rgrid::BasicTokenizer basic;
    EXPECT_EQ(basic.tokenize("a\xFF" "b"), (std::vector<std::string>{"ab"}));
    EXPECT_EQ(basic.tokenize("\xE2\x82" "b c"), (std::vector<std::string>{"b", "c"}));
    EXPECT_EQ(basic.tokenize("x\xED\xA0\x80y"), (std::vector<std::string>{"xy"}));
    EXPECT_EQ(basic.tokenize("\xC0\xAF!"), (std::vector<std::string>{"!"}));
    EXPECT_EQ(basic.tokenize("\x80\x80\x80"), (std::vector<std::string>{}));
}

TEST(BertCharTable, HfQuirks) {
    EXPECT_TRUE(rgrid::bert_char_flags(0x2B920) & bc::kCjk);   // HF's Rust range starts at 2B920 ...
    EXPECT_FALSE(rgrid::bert_char_flags(0x2B820) & bc::kCjk);  // ... not Python BERT's 2B820
    EXPECT_FALSE(rgrid::bert_char_flags(0x2B91F) & bc::kCjk);
    EXPECT_TRUE(rgrid::bert_char_flags(0x4E00) & bc::kCjk);
    EXPECT_FALSE(rgrid::bert_char_flags(0x3042) & bc::kCjk);  // hiragana
    EXPECT_FALSE(rgrid::bert_char_flags(0xAC00) & bc::kCjk);  // hangul
    EXPECT_TRUE(rgrid::bert_char_flags(0x200B) & bc::kRemoveControl);  // ZWSP is Cf: removed, not a space
    EXPECT_TRUE(rgrid::bert_char_flags(0x0B) & bc::kRemoveControl);    // VT: control test before whitespace
    EXPECT_TRUE(rgrid::bert_char_flags(0x85) & bc::kRemoveControl);
    EXPECT_TRUE(rgrid::bert_char_flags(0xFFFD) & bc::kRemoveControl);
    EXPECT_TRUE(rgrid::bert_char_flags(0) & bc::kRemoveControl);
    EXPECT_TRUE(rgrid::bert_char_flags(0xA0) & bc::kToSpace);
    EXPECT_TRUE(rgrid::bert_char_flags(0x2028) & bc::kToSpace);
    EXPECT_TRUE(rgrid::bert_char_flags(0x3000) & bc::kToSpace);
    EXPECT_EQ(rgrid::bert_char_flags(0x0378), 0);  // unassigned: kept
    EXPECT_TRUE(rgrid::bert_char_flags(0x0301) & bc::kRemoveMark);
    EXPECT_FALSE(rgrid::bert_char_flags(0x0301) & bc::kRemoveControl);
    EXPECT_TRUE(rgrid::bert_char_flags(0xFE0F) & bc::kRemoveMark);  // VS16 is Mn
    for (char c : std::string("$+<=>^`|~!\"#%&'()*,-./:;?@[\\]_{}")) EXPECT_TRUE(rgrid::bert_char_flags(c) & bc::kPunct) << c;
    for (char32_t c : {0x20AC, 0xA3, 0xB0, 0xA9, 0x1F600}) EXPECT_FALSE(rgrid::bert_char_flags(c) & bc::kPunct) << static_cast<unsigned>(c);
}

TEST(BertCharTable, UncasedMapping) {
    auto map = [](char32_t cp) {
        char32_t out[3];
        const int n = rgrid::bert_uncased_map(cp, out);
        return std::u32string(out, out + n);
    };
    EXPECT_EQ(map(U'A'), U"a");
    EXPECT_EQ(map(0xC9), U"e");        // É: accents stripped
    EXPECT_EQ(map(0x130), U"i");       // İ: NFD first, then lowercase
    EXPECT_EQ(map(0x3A3), U"\u03C3");  // Σ -> σ, never ς
    EXPECT_EQ(map(0x212B), U"a");      // Å (angstrom) -> A -> a
    EXPECT_EQ(map(0xF900), U"\u8C48");  // compatibility ideograph: canonical singleton
    EXPECT_EQ(map(0xAC01), (std::u32string{0x1100, 0x1161, 0x11A8}));  // 각 -> jamo
    EXPECT_EQ(map(0xAC00), (std::u32string{0x1100, 0x1161}));
    EXPECT_EQ(map(0x304C), U"\u304B");  // が -> か
    EXPECT_EQ(map(0xFB01), U"\uFB01");  // no NFKD: ﬁ stays
    EXPECT_EQ(map(0xFF21), U"\uFF41");  // fullwidth A -> fullwidth a
}

// The HF table agrees with utf8proc's NFD + drop Mn + simple lowercase on Latin, Greek and
// Cyrillic letters (README §5.5): a cross-check of the generator's output.
TEST(BertCharTable, AgreesWithUtf8procOnCommonScripts) {
    const rgrid::BasicTokenizer basic;
    std::size_t checked = 0;
    for (char32_t cp = 0x41; cp < 0x530; ++cp) {
        const std::string cat = rgrid::unicode_category(cp);
        if (cat != "Lu" && cat != "Ll") continue;
        std::string expected;
        for (char32_t c : decode_utf8(rgrid::nfd(encode_utf8(std::u32string(1, cp)))))
            if (rgrid::unicode_category(c) != "Mn") rgrid::append_utf8(expected, rgrid::unicode_tolower(c));
        EXPECT_EQ(basic.normalize(encode_utf8(std::u32string(1, cp))), expected) << "U+" << std::hex << static_cast<unsigned>(cp);
        ++checked;
    }
    EXPECT_GT(checked, 500u);
}

TEST(BasicTokenizer, NormalizerOrderAndWhitespace) {
    const rgrid::BasicTokenizer basic;
    EXPECT_EQ(basic.normalize("Ca\xC3\xA7" "a\xC2\xA0va\xE2\x80\x8B!"), "caca va!");
    EXPECT_EQ(basic.normalize("a\xE8\xB1\x88" "b"), "a \xE8\xB1\x88 b");  // CJK padded (豈 U+8C48)
    EXPECT_EQ(basic.normalize("\xEF\xA4\x80"), " \xE8\xB1\x88 ");          // U+F900 padded, then decomposed
    EXPECT_EQ(basic.tokenize("vertical\vtab"), (std::vector<std::string>{"verticaltab"}));
    EXPECT_EQ(basic.tokenize("foo\xE2\x80\x8B" "bar"), (std::vector<std::string>{"foobar"}));
    EXPECT_EQ(basic.tokenize("5\xE2\x82\xAC x$y"), (std::vector<std::string>{"5\xE2\x82\xAC", "x", "$", "y"}));
    EXPECT_EQ(basic.tokenize("\xCC\x81 leading"), (std::vector<std::string>{"leading"}));
    EXPECT_EQ(basic.tokenize("a[MASK]b[mask]"), (std::vector<std::string>{"a", "[MASK]", "b", "[", "mask", "]"}));
    EXPECT_EQ(basic.tokenize("[CLS][SEP]"), (std::vector<std::string>{"[CLS]", "[SEP]"}));
    EXPECT_EQ(basic.tokenize("\xE3\x81\x8B\xE3\x81\xAA"), (std::vector<std::string>{"\xE3\x81\x8B\xE3\x81\xAA"}));  // kana run stays whole
}

}  // namespace
