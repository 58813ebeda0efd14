#pragma once
// BertTokenizer: the whole BERT tokenization pipeline, identical ids to Hugging Face's
// BertTokenizerFast: special-token literals -> BertNormalizer -> BertPreTokenizer ->
// WordPiece -> post-processor ([CLS] ... [SEP], type ids, attention mask). Plus decode.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/text/basic_tokenizer.hpp"
#include "rgrid/text/encoding.hpp"
#include "rgrid/text/vocab.hpp"
#include "rgrid/text/wordpiece.hpp"

namespace rgrid {

/// BERT WordPiece tokenizer with HF (Rust, fast tokenizer) semantics, uncased or cased.
/// Immutable after construction: the const member functions may be called from several
/// threads at once (e.g. one text per thread in parallel_for).
/// Example:
///   auto tok = BertTokenizer::from_file("examples/assets/bert-base-uncased-vocab.txt");
///   tok.encode_ids("Hello, world!") == {101, 7592, 1010, 2088, 999, 102}
///   tok.decode({101, 7592, 1010, 2088, 999, 102}) == "hello, world!"
class BertTokenizer {
public:
    /// The BERT special tokens, matched as literals in raw text when present in the vocab.
    static std::vector<std::string> default_special_tokens() { return {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}; }

    /// do_lower_case = true: bert-base-uncased behaviour (lowercase + strip accents);
    /// false: cased (no lowercasing, no accent stripping). The vocab needs [UNK], [CLS], [SEP].
    explicit BertTokenizer(Vocab vocab, bool do_lower_case = true)
        : vocab_(std::move(vocab)),
          basic_(do_lower_case, present_specials(vocab_)),
          wordpiece_(vocab_),
          cls_(vocab_.cls_id()),
          sep_(vocab_.sep_id()) {
        for (const std::string& s : basic_.never_split()) special_ids_.push_back(vocab_.id(s));
    }

    /// Reads vocab.txt. Example: BertTokenizer::from_file("vocab.txt", /*do_lower_case=*/false)
    static BertTokenizer from_file(const std::string& vocab_txt, bool do_lower_case = true) {
        return BertTokenizer(Vocab::from_file(vocab_txt), do_lower_case);
    }

    /// Ids of `text` ([CLS] ... [SEP] when add_special_tokens). The fast path: no strings,
    /// no offsets. Empty or whitespace-only text gives {[CLS], [SEP]}.
    std::vector<TokenId> encode_ids(std::string_view text, bool add_special_tokens = true) const {
        std::vector<TokenId> ids;
        ids.reserve(text.size() / 3 + 2);
        append_ids(text, ids, add_special_tokens);
        return ids;
    }

    /// Appends the ids of `text` to `out` (reuse `out` to avoid allocation across calls).
    void append_ids(std::string_view text, std::vector<TokenId>& out, bool add_special_tokens = true) const {
        if (add_special_tokens) out.push_back(cls_);
        basic_.for_each_word<false>(text, [&](const BasicWord& w) {
            if (w.special >= 0) {
                out.push_back(special_ids_[static_cast<std::size_t>(w.special)]);
                return;
            }
            wordpiece_.tokenize(w.text, w.num_chars, [&](TokenId id, std::size_t, std::size_t) { out.push_back(id); });
        });
        if (add_special_tokens) out.push_back(sep_);
    }

    /// Full encoding: ids, tokens, byte offsets into `text`, type ids, masks.
    Encoding encode(std::string_view text, bool add_special_tokens = true) const {
        Encoding e;
        if (add_special_tokens) e.push_back(cls_, vocab_.token(cls_), 0, 0, true);
        basic_.for_each_word<true>(text, [&](const BasicWord& w) {
            if (w.special >= 0) {
                const TokenId id = special_ids_[static_cast<std::size_t>(w.special)];
                e.push_back(id, vocab_.token(id), w.begin, w.end, false);
                return;
            }
            wordpiece_.tokenize(w.text, w.num_chars, [&](TokenId id, std::size_t b, std::size_t end) {
                if (id == wordpiece_.unk_id() && b == 0 && end == w.text.size())
                    e.push_back(id, vocab_.token(id), w.begin, w.end, false);
                else
                    e.push_back(id, vocab_.token(id), w.char_begin[b], w.char_end[end - 1], false);
            });
        });
        if (add_special_tokens) e.push_back(sep_, vocab_.token(sep_), 0, 0, true);
        return e;
    }

    /// Token strings of `text` without [CLS]/[SEP]. Example: tokenize("unaffable") == {"una", "##ffa", "##ble"}
    std::vector<std::string> tokenize(std::string_view text) const {
        std::vector<std::string> out;
        for (TokenId id : encode_ids(text, false)) out.push_back(vocab_.token(id));
        return out;
    }

    /// Text of `ids` as HF's WordPiece decoder gives it: "##" pieces are glued to the previous
    /// token, others are joined with a space, then HF's cleanup (" ." -> ".", " n't" -> "n't", ...).
    /// skip_special_tokens drops [PAD] [UNK] [CLS] [SEP] [MASK]. Throws on an out-of-range id.
    std::string decode(const std::vector<TokenId>& ids, bool skip_special_tokens = true) const {
        std::string out;
        bool first = true;
        const std::string& prefix = wordpiece_.continuing_subword_prefix();
        for (TokenId id : ids) {
            const std::string& tok = vocab_.token(id);
            if (skip_special_tokens && is_special(id)) continue;
            std::string piece;
            if (!first && tok.compare(0, prefix.size(), prefix) == 0 && !prefix.empty())
                piece = tok.substr(prefix.size());
            else
                piece = first ? tok : " " + tok;
            first = false;
            out += cleanup(std::move(piece));
        }
        return out;
    }

    const Vocab& vocab() const { return vocab_; }
    bool do_lower_case() const { return basic_.do_lower_case(); }
    const BasicTokenizer& basic_tokenizer() const { return basic_; }
    const WordPiece& wordpiece() const { return wordpiece_; }
    TokenId cls_id() const { return cls_; }
    TokenId sep_id() const { return sep_; }
    TokenId unk_id() const { return wordpiece_.unk_id(); }
    /// True for the ids of the special tokens ([PAD] [UNK] [CLS] [SEP] [MASK] in the vocab).
    bool is_special(TokenId id) const {
        for (TokenId s : special_ids_)
            if (s == id) return true;
        return false;
    }

private:
    static std::vector<std::string> present_specials(const Vocab& v) {
        std::vector<std::string> out;
        for (std::string& s : default_special_tokens())
            if (v.find(s)) out.push_back(std::move(s));
        return out;
    }

    // HF tokenizers' decoders::wordpiece::cleanup, applied to each decoded piece.
    static std::string cleanup(std::string s) {
        static const std::pair<std::string_view, std::string_view> kRules[] = {
            {" .", "."},   {" ?", "?"},   {" !", "!"},   {" ,", ","},   {" ' ", "'"},        {" n't", "n't"},
            {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
        for (const auto& [from, to] : kRules) {
            std::size_t pos = 0;
            while ((pos = s.find(from, pos)) != std::string::npos) {
                s.replace(pos, from.size(), to);
                pos += to.size();
            }
        }
        return s;
    }

    Vocab vocab_;
    BasicTokenizer basic_;
    WordPiece wordpiece_;
    TokenId cls_, sep_;
    std::vector<TokenId> special_ids_;  // aligned with basic_.never_split()
};

}  // namespace rgrid
