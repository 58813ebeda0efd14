// BertTokenizer / WordPiece / Vocab beyond the goldens: empty input, cased mode, offsets,
// decode (expected strings measured with HF tokenizers 0.22.2), long words, a 10 MB text.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rgrid/text/bert_tokenizer.hpp"

namespace {

using rgrid::BertTokenizer;
using rgrid::TokenId;
using Ids = std::vector<TokenId>;
using Strs = std::vector<std::string>;

const BertTokenizer& uncased() {
    static const BertTokenizer tok =
        BertTokenizer::from_file(std::string(RGRID_SOURCE_DIR) + "/examples/assets/bert-base-uncased-vocab.txt");
    return tok;
}

TEST(Vocab, LookupAndErrors) {
    const rgrid::Vocab& v = uncased().vocab();
    EXPECT_EQ(v.size(), 30522u);
    EXPECT_EQ(v.id("hello"), 7592);
    EXPECT_EQ(v.token(101), "[CLS]");
    EXPECT_EQ(v.unk_id(), 100);
    EXPECT_EQ(v.pad_id(), 0);
    EXPECT_EQ(v.mask_id(), 103);
    EXPECT_FALSE(v.find("notaword").has_value());
    EXPECT_THROW(v.id("notaword"), rgrid::Error);
    EXPECT_THROW(v.token(30522), rgrid::Error);
    EXPECT_THROW(rgrid::Vocab::from_file("/nonexistent/vocab.txt"), rgrid::Error);
}

TEST(BertTokenizer, EmptyAndWhitespaceOnly) {
    for (const std::string& s : std::vector<std::string>{"", " ", "\n\t\r ", "\xC2\xA0\xE3\x80\x80", "\x01\x02\xE2\x80\x8B", std::string(3, '\0')})
        EXPECT_EQ(uncased().encode_ids(s), (Ids{101, 102})) << "input of " << s.size() << " bytes";
    EXPECT_EQ(uncased().encode_ids("", false), Ids{});
    const rgrid::Encoding e = uncased().encode("  ");
    EXPECT_EQ(e.ids, (Ids{101, 102}));
    EXPECT_EQ(e.special_tokens_mask, (Ids{1, 1}));
}

TEST(BertTokenizer, SpecialLiteralsAndWordPiece) {
    EXPECT_EQ(uncased().encode_ids("Hello, world!"), (Ids{101, 7592, 1010, 2088, 999, 102}));
    EXPECT_EQ(uncased().encode_ids("a[MASK]b"), (Ids{101, 1037, 103, 1038, 102}));
    EXPECT_EQ(uncased().tokenize("unaffable"), (Strs{"una", "##ffa", "##ble"}));
    EXPECT_EQ(uncased().tokenize("hi\xF0\x9F\x98\x80there"), (Strs{"[UNK]"}));  // one word, no partial output
    EXPECT_EQ(uncased().wordpiece().max_piece_bytes(), 18u);                      // "telecommunications"
}

TEST(BertTokenizer, HundredCharacterLimitCountsNormalizedChars) {
    std::string e101, e100, decomposed60;
    for (int i = 0; i < 101; ++i) e101 += "\xC3\xA9";  // é x 101 -> 101 chars -> [UNK]
    for (int i = 0; i < 100; ++i) e100 += "e";
    for (int i = 0; i < 60; ++i) decomposed60 += "e\xCC\x81";  // e + U+0301: 120 chars raw, 60 normalized
    EXPECT_EQ(uncased().tokenize(e101), Strs{"[UNK]"});
    EXPECT_NE(uncased().tokenize(e100), Strs{"[UNK]"});
    EXPECT_EQ(uncased().tokenize(e100 + "e"), Strs{"[UNK]"}) << "101 ASCII chars is over the limit";
    EXPECT_NE(uncased().tokenize(decomposed60), Strs{"[UNK]"});
}

TEST(BertTokenizer, CasedModeHandMadeVocab) {
    const rgrid::Vocab v(Strs{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Hello", "hello", "Caf", "##\xC3\xA9", "cafe",
                              "e", "##\xCC\x81", "\xE4\xB8\xAD", "!", "\xCF\x83", "\xCE\xA3", "ABC", "abc"});
    const BertTokenizer cased(v, /*do_lower_case=*/false), lower(v, true);
    EXPECT_FALSE(cased.do_lower_case());
    // No lowercasing, no accent stripping.
    EXPECT_EQ(cased.tokenize("Hello Caf\xC3\xA9!"), (Strs{"Hello", "Caf", "##\xC3\xA9", "!"}));
    EXPECT_EQ(lower.tokenize("Hello Caf\xC3\xA9!"), (Strs{"hello", "cafe", "!"}));
    // Combining marks are kept (no NFD, no Mn removal) ...
    EXPECT_EQ(cased.tokenize("e\xCC\x81"), (Strs{"e", "##\xCC\x81"}));
    EXPECT_EQ(lower.tokenize("e\xCC\x81"), (Strs{"e"}));
    // ... but clean_text and CJK splitting still apply, and case is preserved.
    EXPECT_EQ(cased.tokenize("ABC\xE2\x80\x8B\xE4\xB8\xAD\x01" "abc"), (Strs{"ABC", "\xE4\xB8\xAD", "abc"}));
    EXPECT_EQ(cased.tokenize("\xCE\xA3"), (Strs{"\xCE\xA3"}));
    EXPECT_EQ(lower.tokenize("\xCE\xA3"), (Strs{"\xCF\x83"}));
    EXPECT_EQ(cased.encode_ids("[MASK]Hello"), (Ids{2, 4, 5, 3}));
    EXPECT_EQ(cased.tokenize("HELLO"), Strs{"[UNK]"});
}

TEST(BertTokenizer, OffsetsIndexTheOriginalBytes) {
    const std::string text = "Hello, w\xC3\xB6rld! \xEA\xB0\x81 a[MASK]b";  // ö 2 bytes, 각 3 bytes
    const rgrid::Encoding e = uncased().encode(text);
    EXPECT_EQ(e.tokens, (Strs{"[CLS]", "hello", ",", "world", "!", "\xE1\x84\x80", "##\xE1\x85\xA1", "##\xE1\x86\xA8", "a",
                              "[MASK]", "b", "[SEP]"}));
    using Off = std::vector<std::pair<std::size_t, std::size_t>>;
    EXPECT_EQ(e.offsets, (Off{{0, 0}, {0, 5}, {5, 6}, {7, 13}, {13, 14}, {15, 18}, {15, 18}, {15, 18}, {19, 20}, {20, 26},
                              {26, 27}, {0, 0}}));
    EXPECT_EQ(e.special_tokens_mask, (Ids{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
    EXPECT_EQ(e.type_ids, Ids(12, 0));
    EXPECT_EQ(e.attention_mask, Ids(12, 1));
    EXPECT_EQ(e.ids, uncased().encode_ids(text));
    // Pieces of one word: offsets split the word; an [UNK] word covers the whole word.
    const rgrid::Encoding u = uncased().encode("x unaffable hi\xF0\x9F\x98\x80there");
    EXPECT_EQ(u.offsets[2], (std::pair<std::size_t, std::size_t>{2, 5}));
    EXPECT_EQ(u.offsets[3], (std::pair<std::size_t, std::size_t>{5, 8}));
    EXPECT_EQ(u.offsets[4], (std::pair<std::size_t, std::size_t>{8, 11}));
    EXPECT_EQ(u.tokens[5], "[UNK]");
    EXPECT_EQ(u.offsets[5], (std::pair<std::size_t, std::size_t>{12, 23}));
    // Removed characters at the edge of a word are not part of its range.
    const rgrid::Encoding z = uncased().encode("\xE2\x80\x8Bhello\x01");
    EXPECT_EQ(z.offsets[1], (std::pair<std::size_t, std::size_t>{3, 8}));
}

// The worked example of docs/tokenizer.md (ids measured with HF tokenizers 0.22.2).
TEST(BertTokenizer, DocsWorkedExample) {
    const std::string text =
        "H\xC3\xA9llo, WORLD!\xE2\x80\x8B Un\xC2\xAD" "affable a[MASK]b \xE6\x97\xA5\xE6\x9C\xAC 5\xE2\x82\xAC \xE2\x9D\xA4\xEF\xB8\x8F";
    EXPECT_EQ(uncased().encode_ids(text),
              (Ids{101, 7592, 1010, 2088, 999, 14477, 20961, 3468, 1037, 103, 1038, 1864, 1876, 1019, 30102, 100, 102}));
    EXPECT_EQ(uncased().basic_tokenizer().tokenize(text),
              (Strs{"hello", ",", "world", "!", "unaffable", "a", "[MASK]", "b", "\xE6\x97\xA5", "\xE6\x9C\xAC",
                    "5\xE2\x82\xAC", "\xE2\x9D\xA4"}));
}

// Expected strings are HF tokenizers' decode(ids, skip_special_tokens=true) of the same texts.
TEST(BertTokenizer, DecodeLikeHf) {
    auto roundtrip = [](const std::string& text) { return uncased().decode(uncased().encode_ids(text)); };
    EXPECT_EQ(roundtrip("Hello, world! I can't do that. He's there ... a[MASK]b"),
              "hello, world! i can ' t do that. he ' s there... a b");
    EXPECT_EQ(roundtrip("unaffable do not ? x ! y , z ' w"), "unaffable do not? x! y, z ' w");
    EXPECT_EQ(roundtrip("##abc ##def [CLS] x [SEP] [PAD] [UNK] \xEA\xB0\x81 \xE8\xB1\x88"),
              "# # abc # # def x \xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8");
    EXPECT_EQ(uncased().decode({101, 7592, 102}, /*skip_special_tokens=*/false), "[CLS] hello [SEP]");
    EXPECT_EQ(uncased().decode({}), "");
    EXPECT_THROW(uncased().decode({40000}), rgrid::Error);
}

// 10 MB in one call: linear time (a quadratic matcher would take minutes), ids equal to the
// concatenation of the parts, and a 1 MB base64-like line that is a single [UNK].
TEST(BertTokenizer, TenMegabyteText) {
    const std::string para =
        "Received: from mail.example.com (mail [192.168.0.1]) by host; Mon, 30 Sep 2002 13:37:10 +0100\n"
        "Dear friend, CLICK HERE to claim your $1,000,000 prize!!! Caf\xC3\xA9 na\xC3\xAFve \xE4\xB8\xAD\xE6\x96\x87 "
        "unaffable telecommunications R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7\n";
    const Ids para_ids = uncased().encode_ids(para, false);
    std::string text;
    std::size_t copies = 0;
    while (text.size() < 10'000'000) text += para, ++copies;
    const auto t0 = std::chrono::steady_clock::now();
    const Ids ids = uncased().encode_ids(text);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(ids.size(), copies * para_ids.size() + 2);
    for (std::size_t k = 0; k < copies; k += copies / 7)
        ASSERT_TRUE(std::equal(para_ids.begin(), para_ids.end(), ids.begin() + 1 + k * para_ids.size())) << k;
#ifdef NDEBUG
    EXPECT_LT(seconds, 20.0) << "10 MB should take well under a second or two";
#endif
    std::string b64(1'000'000, 'A');
    for (std::size_t i = 0; i < b64.size(); i += 7) b64[i] = 'z';
    EXPECT_EQ(uncased().encode_ids(b64), (Ids{101, 100, 102}));
}

}  // namespace
