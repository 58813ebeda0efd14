#pragma once
// Vocab: the WordPiece vocabulary of a BERT checkpoint (vocab.txt: one token per line, the
// line number is the id).
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rgrid/core/error.hpp"

namespace rgrid {

/// A token id (index into the vocabulary).
using TokenId = std::int32_t;

namespace detail {
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
}  // namespace detail

/// Token <-> id table read from vocab.txt (bert-base-uncased: 30,522 tokens).
/// Special tokens are looked up by their BERT names: [UNK] [CLS] [SEP] [PAD] [MASK].
/// Example:
///   Vocab v = Vocab::from_file("examples/assets/bert-base-uncased-vocab.txt");
///   v.id("hello") == 7592; v.token(101) == "[CLS]"; v.find("##ing") -> 2075
class Vocab {
public:
    Vocab() = default;

    /// Tokens in id order. Duplicates: the later id wins for lookup (as in HF).
    explicit Vocab(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
        index_.reserve(tokens_.size());
        for (std::size_t i = 0; i < tokens_.size(); ++i) index_[tokens_[i]] = static_cast<TokenId>(i);
    }

    /// Reads vocab.txt: one token per line (trailing whitespace and CR trimmed, as HF's
    /// Rust loader does); a final empty line is ignored.
    static Vocab from_file(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        RGRID_CHECK(in.good(), "Vocab::from_file: cannot open '", path, "'");
        std::vector<std::string> tokens;
        std::string line;
        while (std::getline(in, line)) {
            while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
                line.pop_back();
            tokens.push_back(line);
        }
        RGRID_CHECK(!tokens.empty(), "Vocab::from_file: '", path, "' is empty");
        return Vocab(std::move(tokens));
    }

    /// Number of tokens (ids are 0..size()-1).
    std::size_t size() const { return tokens_.size(); }

    /// The id of `token`, or nothing.
    std::optional<TokenId> find(std::string_view token) const {
        const auto it = index_.find(token);
        if (it == index_.end()) return std::nullopt;
        return it->second;
    }

    /// The id of `token`; throws naming the token when it is missing.
    TokenId id(std::string_view token) const {
        const auto it = index_.find(token);
        RGRID_CHECK(it != index_.end(), "Vocab: token '", token, "' is not in the vocabulary (", size(), " tokens)");
        return it->second;
    }

    /// The token string of `id`; throws when out of range.
    const std::string& token(TokenId id) const {
        RGRID_CHECK(id >= 0 && static_cast<std::size_t>(id) < tokens_.size(), "Vocab: id ", id,
                    " out of range [0, ", tokens_.size(), ")");
        return tokens_[static_cast<std::size_t>(id)];
    }

    /// All tokens in id order.
    const std::vector<std::string>& tokens() const { return tokens_; }

    TokenId unk_id() const { return id("[UNK]"); }
    TokenId cls_id() const { return id("[CLS]"); }
    TokenId sep_id() const { return id("[SEP]"); }
    TokenId pad_id() const { return id("[PAD]"); }
    TokenId mask_id() const { return id("[MASK]"); }

private:
    std::vector<std::string> tokens_;
    std::unordered_map<std::string, TokenId, detail::StringHash, std::equal_to<>> index_;
};

}  // namespace rgrid
