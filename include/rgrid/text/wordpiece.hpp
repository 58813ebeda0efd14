#pragma once
// WordPiece: greedy longest-match-first segmentation of one normalized word into vocabulary
// pieces, "##" on non-initial pieces, the whole word -> [UNK] when any position cannot be
// matched or the word is longer than max_input_chars_per_word. Same results as HF's
// tokenizers::models::wordpiece::WordPiece.
//
// Speed: the vocabulary is a byte trie whose transitions live in one open-addressing hash
// table (root and "##" level direct-indexed). The longest match from a position is found in
// one walk, so a piece costs at most (longest vocab entry) steps: O(18 n) per word instead of
// HF's O(n^2) retries. No allocation per word.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/text/vocab.hpp"

namespace rgrid {

/// Greedy longest-match WordPiece over a vocabulary (HF semantics).
/// Example:
///   WordPiece wp(vocab);
///   wp.tokenize("unaffable") == {"una", "##ffa", "##ble"};  // "xyz😀" -> {"[UNK]"}
class WordPiece {
public:
    /// Upper bound on pieces per word (each piece has >= 1 char).
    static constexpr std::size_t kMaxPieces = 256;

    WordPiece() = default;
    /// Builds the trie from `vocab`; keeps no reference to it.
    explicit WordPiece(const Vocab& vocab, std::string unk_token = "[UNK]",
                       std::string continuing_subword_prefix = "##",
                       std::size_t max_input_chars_per_word = 100)
        : unk_token_(std::move(unk_token)),
          prefix_(std::move(continuing_subword_prefix)),
          max_chars_(max_input_chars_per_word) {
        RGRID_CHECK(max_chars_ > 0 && max_chars_ <= kMaxPieces, "WordPiece: max_input_chars_per_word ",
                    max_chars_, " must be in [1, ", kMaxPieces, "]");
        unk_id_ = vocab.id(unk_token_);
        build(vocab);
    }

    /// Calls emit(TokenId id, size_t byte_begin, size_t byte_end) for each piece of `word`
    /// (UTF-8, already normalized, `num_chars` code points long); byte ranges index `word`.
    /// A word that cannot be segmented, or is longer than max_input_chars_per_word code
    /// points, gives one [UNK] covering the whole word.
    template <class Emit>
    void tokenize(std::string_view word, std::size_t num_chars, Emit&& emit) const {
        const std::size_t n = word.size();
        if (n == 0) return;
        if (num_chars > max_chars_) {
            emit(unk_id_, std::size_t{0}, n);
            return;
        }
        std::array<Piece, kMaxPieces> pieces;
        std::size_t count = 0;
        std::size_t start = 0;
        const auto* bytes = reinterpret_cast<const unsigned char*>(word.data());
        while (start < n) {
            TokenId best = -1;
            std::size_t best_end = 0;
            std::uint32_t node;
            std::size_t i = start;
            if (start == 0) {
                node = root_next_[bytes[i++]];
            } else {
                node = cont_next_[bytes[i++]];
            }
            while (node != kNone) {
                const TokenId t = terminal_[node];
                if (t >= 0) {
                    best = t;
                    best_end = i;
                }
                if (i == n) break;
                node = child(node, bytes[i++]);
            }
            if (best < 0) {
                emit(unk_id_, std::size_t{0}, n);
                return;
            }
            pieces[count++] = Piece{best, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(best_end)};
            start = best_end;
        }
        for (std::size_t k = 0; k < count; ++k)
            emit(pieces[k].id, static_cast<std::size_t>(pieces[k].begin), static_cast<std::size_t>(pieces[k].end));
    }

    /// The pieces of one word as strings ("##" on continuations). Counts code points itself.
    std::vector<std::string> tokenize(std::string_view word) const {
        std::size_t chars = 0;
        for (char c : word) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        std::vector<std::string> out;
        tokenize(word, chars, [&](TokenId id, std::size_t b, std::size_t e) {
            if (id == unk_id_) out.push_back(unk_token_);
            else out.push_back((b == 0 ? std::string() : prefix_) + std::string(word.substr(b, e - b)));
        });
        return out;
    }

    TokenId unk_id() const { return unk_id_; }
    const std::string& unk_token() const { return unk_token_; }
    const std::string& continuing_subword_prefix() const { return prefix_; }
    std::size_t max_input_chars_per_word() const { return max_chars_; }
    /// Longest vocabulary entry in bytes (a match never walks further).
    std::size_t max_piece_bytes() const { return max_depth_; }

private:
    static constexpr std::uint32_t kNone = 0xFFFFFFFFu;
    struct Piece {
        TokenId id;
        std::uint32_t begin, end;
    };
    struct Slot {
        std::uint32_t key = kNone;  // (node << 8) | byte
        std::uint32_t next = kNone;
    };

    static std::uint32_t hash(std::uint32_t key) { return key * 0x9E3779B1u; }

    std::uint32_t child(std::uint32_t node, unsigned char byte) const {
        const std::uint32_t key = (node << 8) | byte;
        for (std::uint32_t h = hash(key) >> shift_;; h = (h + 1) & mask_) {
            const Slot& s = slots_[h];
            if (s.key == key) return s.next;
            if (s.key == kNone) return kNone;
        }
    }

    // Trie over every vocab string; returns the node of `s` (creating it).
    std::uint32_t insert(std::vector<std::vector<std::pair<unsigned char, std::uint32_t>>>& edges, std::string_view s) {
        std::uint32_t node = 0;
        for (char c : s) {
            const auto b = static_cast<unsigned char>(c);
            std::uint32_t next = kNone;
            for (const auto& [eb, en] : edges[node])
                if (eb == b) next = en;
            if (next == kNone) {
                next = static_cast<std::uint32_t>(edges.size());
                edges[node].push_back({b, next});
                edges.emplace_back();
                terminal_.push_back(-1);
            }
            node = next;
        }
        return node;
    }

    void build(const Vocab& vocab) {
        std::vector<std::vector<std::pair<unsigned char, std::uint32_t>>> edges(1);
        terminal_.assign(1, -1);
        max_depth_ = 0;
        for (std::size_t id = 0; id < vocab.size(); ++id) {
            const std::string& tok = vocab.token(static_cast<TokenId>(id));
            if (tok.empty()) continue;
            const std::uint32_t node = insert(edges, tok);
            terminal_[node] = vocab.find(tok).value();  // a duplicated token maps to the id Vocab::find gives
            max_depth_ = std::max(max_depth_, tok.size());
        }
        RGRID_CHECK(edges.size() < (1u << 24), "WordPiece: vocabulary trie too large (", edges.size(), " nodes)");
        std::size_t num_edges = 0;
        for (const auto& e : edges) num_edges += e.size();
        std::size_t cap = 1024;
        shift_ = 22;
        while (cap < 2 * num_edges) {
            cap *= 2;
            --shift_;
        }
        mask_ = static_cast<std::uint32_t>(cap - 1);
        slots_.assign(cap, Slot{});
        for (std::uint32_t node = 0; node < edges.size(); ++node)
            for (const auto& [b, next] : edges[node]) {
                const std::uint32_t key = (node << 8) | b;
                std::uint32_t h = hash(key) >> shift_;
                while (slots_[h].key != kNone) h = (h + 1) & mask_;
                slots_[h] = Slot{key, next};
            }
        // Direct tables for the first byte of a word and of a continuation (after "##").
        root_next_.fill(kNone);
        cont_next_.fill(kNone);
        for (const auto& [b, next] : edges[0]) root_next_[b] = next;
        std::uint32_t cont = 0;
        for (char c : prefix_) cont = cont == kNone ? kNone : child(cont, static_cast<unsigned char>(c));
        if (cont != kNone)
            for (const auto& [b, next] : edges[cont]) cont_next_[b] = next;
    }

    std::string unk_token_ = "[UNK]";
    std::string prefix_ = "##";
    std::size_t max_chars_ = 100;
    TokenId unk_id_ = 0;
    std::size_t max_depth_ = 0;
    std::vector<TokenId> terminal_;  // per node: the token id ending here, or -1
    std::vector<Slot> slots_;        // (node, byte) -> child
    std::uint32_t mask_ = 0;
    int shift_ = 22;
    std::array<std::uint32_t, 256> root_next_{};
    std::array<std::uint32_t, 256> cont_next_{};
};

}  // namespace rgrid
