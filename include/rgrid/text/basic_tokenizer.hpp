#pragma once
// BasicTokenizer: Hugging Face's BertNormalizer + BertPreTokenizer (the fast, Rust
// tokenizer), plus its handling of special-token literals in raw text. Text -> words.
//
//   1. Special-token literals ([PAD] [UNK] [CLS] [SEP] [MASK]) are found first, by exact,
//      case-sensitive, leftmost search of the raw text; each is a word of its own and the
//      text between them is processed separately (a[MASK]b -> a, [MASK], b).
//   2. Normalizer, per code point: clean_text (drop U+0000, U+FFFD, controls per HF's tables;
//      22 whitespace code points -> ' '), handle_chinese_chars (pad HF's CJK ranges with
//      spaces), then, uncased only, NFD + drop Mn + lowercase (one generated table).
//   3. Pre-tokenizer: split on whitespace, every punctuation character is its own word.
// Invalid UTF-8 decodes to U+FFFD per maximal subpart, which clean_text then removes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "rgrid/text/unicode.hpp"

namespace rgrid {

/// One word produced by BasicTokenizer::for_each_word.
struct BasicWord {
    std::string_view text;     ///< normalized UTF-8; for a special token, the literal itself
    std::size_t num_chars;     ///< code points in `text`
    int special;               ///< index into never_split(), or -1 for an ordinary word
    std::size_t begin, end;    ///< byte range of the word in the original text
    /// Only with offset tracking: for each byte of `text`, the byte range [char_begin[i],
    /// char_end[i]) of the original character it came from. Null otherwise (and for specials).
    const std::size_t* char_begin = nullptr;
    const std::size_t* char_end = nullptr;
};

/// BERT normalizer + pre-tokenizer with HF (Rust) semantics.
/// Example:
///   BasicTokenizer basic;                             // uncased
///   basic.tokenize("Héllo, WORLD!") == {"hello", ",", "world", "!"}
///   basic.tokenize("a[MASK]b") == {"a", "[MASK]", "b"}
///   BasicTokenizer(false).tokenize("Héllo") == {"Héllo"}   // cased: no lowercasing, no accent stripping
class BasicTokenizer {
public:
    /// do_lower_case: lowercase and strip accents (HF uncased). never_split: literals matched
    /// on the raw text before normalization (HF's added special tokens).
    explicit BasicTokenizer(bool do_lower_case = true,
                            std::vector<std::string> never_split = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
        : lower_(do_lower_case), never_split_(std::move(never_split)) {
        for (const std::string& s : never_split_) RGRID_CHECK(!s.empty(), "BasicTokenizer: empty never_split literal");
        const std::uint8_t* flags = detail::bert_char_tables().flags.data();
        constexpr std::uint8_t kSpecial = bert_char::kRemoveControl | bert_char::kToSpace | bert_char::kCjk |
                                          bert_char::kWhitespace | bert_char::kPunct | bert_char::kRemoveMark;
        for (char32_t c = 0; c < 128; ++c) {
            ascii_out_[c] = 0;
            if (flags[c] & kSpecial) continue;
            char32_t m[3];
            const int n = lower_ ? bert_uncased_map(c, m) : (m[0] = c, 1);
            if (n == 1 && m[0] < 128 && !(flags[m[0]] & kSpecial)) ascii_out_[c] = static_cast<char>(m[0]);
        }
    }

    bool do_lower_case() const { return lower_; }
    const std::vector<std::string>& never_split() const { return never_split_; }

    /// The normalizer alone, per code point: calls out(char32_t) for each output code point
    /// (U' ' for whitespace and CJK padding). `cp` must be a scalar value or U+FFFD.
    template <class Out>
    void normalize_char(char32_t cp, Out&& out) const {
        const std::uint8_t f = bert_char_flags(cp);
        if (f & bert_char::kRemoveControl) return;
        if (lower_ && (f & bert_char::kRemoveMark)) return;
        if (f & bert_char::kToSpace) {
            out(U' ');
            return;
        }
        if (f & bert_char::kCjk) out(U' ');
        if (lower_ && (f & bert_char::kMapped)) {
            char32_t m[3];
            const int n = bert_uncased_map(cp, m);
            for (int k = 0; k < n; ++k) out(m[k]);
        } else {
            out(cp);
        }
        if (f & bert_char::kCjk) out(U' ');
    }

    /// HF's normalized string of `text` (BertNormalizer only; no special-token handling).
    /// Example: normalize("Ça\u00A0va\u200B 豈") == "ca va  \u8C48 "
    std::string normalize(std::string_view text) const {
        std::string out;
        out.reserve(text.size());
        const char* p = text.data();
        const char* end = p + text.size();
        while (p < end) {
            const DecodedChar d = decode_utf8(p, end);
            normalize_char(d.cp, [&](char32_t c) { append_utf8(out, c); });
            p += d.len;
        }
        return out;
    }

    /// Calls on_word(const BasicWord&) for every word of `text`, in order. With
    /// kOffsets = true each word also carries, per byte, the original character's byte range.
    /// The BasicWord's views are valid only during the call.
    template <bool kOffsets = false, class OnWord>
    void for_each_word(std::string_view text, OnWord&& on_word) const {
        Builder<kOffsets> word;
        word.text.reserve(64);
        std::size_t pos = 0;
        while (pos < text.size()) {
            std::size_t match = text.size(), match_len = 0;
            const int special = find_special(text, pos, match, match_len);
            segment(text, pos, match, word, on_word);
            word.flush(on_word);  // words never merge across a special token
            if (special < 0) break;
            const std::string& lit = never_split_[static_cast<std::size_t>(special)];
            on_word(BasicWord{lit, count_chars(lit), special, match, match + match_len});
            pos = match + match_len;
        }
    }

    /// The words of `text` as strings (normalized; special literals as written).
    std::vector<std::string> tokenize(std::string_view text) const {
        std::vector<std::string> out;
        for_each_word(text, [&](const BasicWord& w) { out.emplace_back(w.text); });
        return out;
    }

private:
    template <bool kOffsets>
    struct Builder {
        std::string text;
        std::vector<std::size_t> char_begin, char_end;
        std::size_t num_chars = 0, begin = 0, end = 0;

        void start_char(std::size_t src_begin, std::size_t src_end) {
            if (text.empty()) begin = src_begin;
            end = src_end;
            ++num_chars;
        }
        void mark_bytes(std::size_t from, std::size_t src_begin, std::size_t src_end) {
            if constexpr (kOffsets) {
                char_begin.resize(text.size(), src_begin);
                char_end.resize(text.size(), src_end);
                (void)from;
            } else {
                (void)from, (void)src_begin, (void)src_end;
            }
        }
        template <class OnWord>
        void flush(OnWord& on_word) {
            if (text.empty()) return;
            if constexpr (kOffsets)
                on_word(BasicWord{text, num_chars, -1, begin, end, char_begin.data(), char_end.data()});
            else
                on_word(BasicWord{text, num_chars, -1, begin, end});
            text.clear();
            num_chars = 0;
            if constexpr (kOffsets) {
                char_begin.clear();
                char_end.clear();
            }
        }
    };

    static std::size_t count_chars(std::string_view s) {
        std::size_t n = 0;
        for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        return n;
    }

    // Leftmost special literal at or after `pos` (longest on ties); -1 when none.
    int find_special(std::string_view text, std::size_t pos, std::size_t& at, std::size_t& len) const {
        if (never_split_.empty()) return -1;
        const char first = never_split_.front()[0];
        bool same_first = true;
        for (const std::string& s : never_split_) same_first = same_first && s[0] == first;
        for (std::size_t i = pos; i < text.size(); ++i) {
            if (same_first) {
                const void* hit = std::memchr(text.data() + i, first, text.size() - i);
                if (!hit) return -1;
                i = static_cast<std::size_t>(static_cast<const char*>(hit) - text.data());
            }
            int best = -1;
            for (std::size_t k = 0; k < never_split_.size(); ++k) {
                const std::string& s = never_split_[k];
                if (text.compare(i, s.size(), s) == 0 && (best < 0 || s.size() > len)) {
                    best = static_cast<int>(k);
                    len = s.size();
                }
            }
            if (best >= 0) {
                at = i;
                return best;
            }
        }
        return -1;
    }

    // Normalizes and pre-tokenizes text[begin, end) (no special literals inside).
    template <bool kOffsets, class OnWord>
    void segment(std::string_view text, std::size_t begin, std::size_t end, Builder<kOffsets>& word,
                 OnWord& on_word) const {
        const std::uint8_t* flags = detail::bert_char_tables().flags.data();
        // The pre-tokenizer on one normalized code point that came from text[sb, se).
        auto pretokenize = [&](char32_t c, std::size_t sb, std::size_t se) {
            const std::uint8_t f = flags[c];
            if (f & bert_char::kWhitespace) {
                word.flush(on_word);
                return;
            }
            if (f & bert_char::kPunct) word.flush(on_word);
            word.start_char(sb, se);
            const std::size_t before = word.text.size();
            append_utf8(word.text, c);
            word.mark_bytes(before, sb, se);
            if (f & bert_char::kPunct) word.flush(on_word);
        };
        const char* base = text.data();
        std::size_t i = begin;
        while (i < end) {
            const auto b = static_cast<unsigned char>(base[i]);
            if (b < 0x80) {
                const char fast = ascii_out_[b];
                if (fast != 0) {  // ASCII letter/digit/etc.: append its (lowercased) byte
                    word.start_char(i, i + 1);
                    word.text.push_back(fast);
                    word.mark_bytes(word.text.size() - 1, i, i + 1);
                    ++i;
                    continue;
                }
            }
            const DecodedChar d = decode_utf8(base + i, base + end);
            const std::size_t sb = i, se = i + d.len;
            normalize_char(d.cp, [&](char32_t c) { pretokenize(c, sb, se); });
            i = se;
        }
    }

    bool lower_;
    std::vector<std::string> never_split_;
    char ascii_out_[128];
};

}  // namespace rgrid
