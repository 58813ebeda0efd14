#pragma once
// Texts -> fixed-size training blocks for masked-LM pretraining (run_mlm.py's data path).
// Documents are tokenized once (in parallel), a held-out share of whole documents is set
// aside for the evaluation loss and perplexity, and each part is cut into blocks:
//
//   BlockMode::Concatenate (default, run_mlm's group_texts): the documents' content ids are
//     joined into one stream with a [SEP] after every document (the boundary stays visible),
//     cut into chunks of M = max_length - 2 ids, and each chunk is wrapped as
//     [CLS] chunk [SEP]. Every block has exactly max_length ids (no padding); the stream's
//     last partial chunk is dropped, as group_texts drops its remainder.
//   BlockMode::SlidingWindow: each document on its own, in windows of at most max_length ids
//     that overlap by `stride` content tokens (text/sliding_window.hpp, HF overflow
//     semantics); short documents give short blocks (padded per batch by the Batcher).
//     Documents without any token are skipped.
//
// Example (max_length 8, so M = 6): documents [a b c] and [d e f g h i j] give the stream
//   a b c [SEP] d e f g h i j [SEP]  (12 ids) -> blocks [CLS] a b c [SEP] d e [SEP] and
//   [CLS] f g h i j [SEP] [SEP]; nothing is dropped (12 = 2·6).
// The blocks are Windows (batcher.hpp) with doc_id = the document the block starts in and
// label -1, ready for Batcher and MaskedLmCollator (which never chooses [CLS]/[SEP]).
// https://github.com/huggingface/transformers/blob/main/examples/pytorch/language-modeling/run_mlm.py (group_texts)
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/data/batcher.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/text/sliding_window.hpp"

namespace rgrid {

/// How documents become blocks (see the header comment).
enum class BlockMode { Concatenate, SlidingWindow };

/// Options of make_text_blocks().
/// Example: `TextBlockOptions{.max_length = 128, .eval_share = 0.05, .seed = 42}`
struct TextBlockOptions {
    std::size_t max_length = 128;          // ids per block, [CLS] and [SEP] included; in [3, 512]
    BlockMode mode = BlockMode::Concatenate;
    std::size_t stride = 0;                // SlidingWindow only: content tokens shared by consecutive windows
    double eval_share = 0.05;              // share of documents held out for evaluation, in [0, 1)
    std::uint64_t seed = 42;               // which documents are held out

    void validate() const {
        RGRID_CHECK(max_length >= 3 && max_length <= 512, "TextBlockOptions: max_length ", max_length,
                    " must be in [3, 512] (BERT has 512 positions; 2 go to [CLS]/[SEP])");
        RGRID_CHECK(mode == BlockMode::Concatenate || stride < max_length - 2, "TextBlockOptions: stride ", stride,
                    " must be < max_length - 2 = ", max_length - 2, " (windows must advance)");
        RGRID_CHECK(eval_share >= 0.0 && eval_share < 1.0, "TextBlockOptions: eval_share ", eval_share,
                    " must be in [0, 1)");
    }
};

/// Training and held-out blocks, and the counts a user wants to see.
struct TextBlocks {
    std::vector<Window> train, eval;
    std::vector<std::size_t> train_docs, eval_docs;  // document indices of each part (ascending)
    std::size_t content_tokens = 0;  // WordPiece tokens over all documents
    std::size_t dropped_tokens = 0;  // Concatenate: ids of the two streams' last partial chunks
};

/// Each text's WordPiece ids without [CLS]/[SEP], tokenized once, in parallel.
/// Example: `auto docs = tokenize_documents(tok, texts);  // docs[i] = ids of texts[i]`
inline std::vector<std::vector<TokenId>> tokenize_documents(const BertTokenizer& tok,
                                                            const std::vector<std::string>& texts) {
    std::vector<std::vector<TokenId>> docs(texts.size());
    parallel_for(texts.size(), 4, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) docs[i] = tok.encode_ids(texts[i], /*add_special_tokens=*/false);
    });
    return docs;
}

/// group_texts: the documents `which` of `docs`, joined with a [SEP] after each, cut into
/// [CLS] + (max_length - 2 ids) + [SEP] blocks; the last partial chunk is dropped (its size
/// is added to *dropped when given).
/// Example: `auto blocks = group_texts(docs, {0, 1}, 8, cls, sep);  // see the header comment`
inline std::vector<Window> group_texts(const std::vector<std::vector<TokenId>>& docs,
                                       const std::vector<std::size_t>& which, std::size_t max_length, TokenId cls,
                                       TokenId sep, std::size_t* dropped = nullptr) {
    RGRID_CHECK(max_length >= 3, "group_texts: max_length ", max_length, " must be ≥ 3");
    const std::size_t m = max_length - 2;
    std::vector<Window> blocks;
    Window cur;
    std::size_t filled = 0;  // content ids in cur
    auto push = [&](std::size_t doc, TokenId id) {
        if (filled == 0) {
            cur.doc_id = doc;
            cur.label = -1;
            cur.ids.assign(1, cls);
        }
        cur.ids.push_back(id);
        if (++filled == m) {
            cur.ids.push_back(sep);
            blocks.push_back(std::move(cur));
            cur = Window{};
            filled = 0;
        }
    };
    for (std::size_t d : which) {
        RGRID_CHECK(d < docs.size(), "group_texts: document ", d, " out of range (", docs.size(), " documents)");
        if (docs[d].empty()) continue;
        for (TokenId id : docs[d]) push(d, id);
        push(d, sep);
    }
    if (dropped) *dropped += filled;
    return blocks;
}

/// Sliding windows per document: the documents `which` of `docs` (empty ones skipped).
inline std::vector<Window> document_windows(const std::vector<std::vector<TokenId>>& docs,
                                            const std::vector<std::size_t>& which, const SlidingWindow& sw,
                                            TokenId cls, TokenId sep) {
    sw.validate();
    std::vector<Window> out;
    for (std::size_t d : which) {
        RGRID_CHECK(d < docs.size(), "document_windows: document ", d, " out of range (", docs.size(), " documents)");
        if (docs[d].empty()) continue;
        for (auto& w : sw.windows(docs[d], cls, sep)) out.push_back(Window{d, -1, std::move(w)});
    }
    return out;
}

/// Which documents are held out: round(eval_share · n) of the n documents (at least 1 and
/// at most n - 1 when eval_share > 0), drawn by a seeded shuffle; both lists ascending.
inline std::pair<std::vector<std::size_t>, std::vector<std::size_t>> holdout_documents(std::size_t n, double eval_share,
                                                                                      std::uint64_t seed) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t(0));
    if (eval_share <= 0.0) return {order, {}};
    RGRID_CHECK(n >= 2, "holdout_documents: a held-out share (eval_share ", eval_share, ") needs at least 2 documents, got ",
                n);
    const auto k = std::clamp<std::size_t>(static_cast<std::size_t>(std::llround(eval_share * static_cast<double>(n))),
                                           1, n - 1);
    Rng rng(seed);
    Batcher::shuffle(order, rng);
    std::vector<std::size_t> eval(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
    std::vector<std::size_t> train(order.begin() + static_cast<std::ptrdiff_t>(k), order.end());
    std::sort(eval.begin(), eval.end());
    std::sort(train.begin(), train.end());
    return {train, eval};
}

/// Tokenizes `texts` once, holds out a share of documents and cuts both parts into blocks.
/// An empty corpus, or a part too small for one block, is an error giving the counts.
/// Example:
///   auto tb = make_text_blocks(tok, texts, {.max_length = 128, .eval_share = 0.05});
///   Batcher train(tb.train, {.batch_size = 8, .seed = 42});
inline TextBlocks make_text_blocks(const BertTokenizer& tok, const std::vector<std::string>& texts,
                                   const TextBlockOptions& opt = {}) {
    opt.validate();
    const auto docs = tokenize_documents(tok, texts);
    TextBlocks out;
    std::size_t non_empty = 0;
    for (const auto& d : docs) {
        out.content_tokens += d.size();
        non_empty += !d.empty();
    }
    RGRID_CHECK(non_empty > 0, "make_text_blocks: empty corpus (", texts.size(), " texts, none with a token)");
    std::tie(out.train_docs, out.eval_docs) = holdout_documents(docs.size(), opt.eval_share, opt.seed);
    const TokenId cls = tok.cls_id(), sep = tok.sep_id();
    auto cut = [&](const std::vector<std::size_t>& which) {
        if (opt.mode == BlockMode::Concatenate) return group_texts(docs, which, opt.max_length, cls, sep, &out.dropped_tokens);
        return document_windows(docs, which, SlidingWindow{.max_length = opt.max_length, .stride = opt.stride}, cls, sep);
    };
    out.train = cut(out.train_docs);
    out.eval = cut(out.eval_docs);
    auto tokens_of = [&](const std::vector<std::size_t>& which) {
        std::size_t s = 0;
        for (std::size_t d : which) s += docs[d].size();
        return s;
    };
    RGRID_CHECK(!out.train.empty(), "make_text_blocks: the training part (", out.train_docs.size(), " documents, ",
                tokens_of(out.train_docs), " tokens) is too small for one block of max_length ", opt.max_length,
                " (a block holds ", opt.max_length - 2, " tokens plus [CLS]/[SEP]; lower max_length or add text)");
    RGRID_CHECK(opt.eval_share == 0.0 || !out.eval.empty(), "make_text_blocks: the held-out part (", out.eval_docs.size(),
                " documents, ", tokens_of(out.eval_docs), " tokens) is too small for one block of max_length ",
                opt.max_length, " (raise eval_share or lower max_length)");
    return out;
}

}  // namespace rgrid
