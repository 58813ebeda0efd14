#pragma once
// Encoding: what BertTokenizer::encode returns for one text (HF tokenizers' Encoding).
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "rgrid/text/vocab.hpp"

namespace rgrid {

/// One encoded text; all vectors have the same length (T tokens).
/// `offsets[i]` is the byte range [begin, end) of token i in the original UTF-8 text
/// ((0, 0) for the added [CLS]/[SEP]). A piece of a decomposed character (e.g. a Hangul jamo)
/// maps to the whole original character.
/// Example:
///   Encoding e = tok.encode("Hello!");
///   e.ids == {101, 7592, 999, 102}; e.tokens == {"[CLS]", "hello", "!", "[SEP]"};
///   e.offsets == {{0,0}, {0,5}, {5,6}, {0,0}}; e.special_tokens_mask == {1, 0, 0, 1}
struct Encoding {
    std::vector<TokenId> ids;                                  // (T)
    std::vector<TokenId> type_ids;                             // (T) segment ids, 0 for a single text
    std::vector<TokenId> attention_mask;                       // (T) 1 for real tokens
    std::vector<TokenId> special_tokens_mask;                  // (T) 1 for added [CLS]/[SEP]
    std::vector<std::string> tokens;                           // (T) vocabulary strings
    std::vector<std::pair<std::size_t, std::size_t>> offsets;  // (T) byte ranges in the input

    std::size_t size() const { return ids.size(); }

    /// Appends one token.
    void push_back(TokenId id, std::string token, std::size_t begin, std::size_t end, bool special) {
        ids.push_back(id);
        type_ids.push_back(0);
        attention_mask.push_back(1);
        special_tokens_mask.push_back(special ? 1 : 0);
        tokens.push_back(std::move(token));
        offsets.emplace_back(begin, end);
    }
};

}  // namespace rgrid
