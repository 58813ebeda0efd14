#pragma once
// Sliding windows over long token sequences (HF overflow semantics): SlidingWindow cuts one
// document's ids, Window is one cut piece (with its document id and label), make_windows()
// tokenizes a collection and cuts it. The window bounds are validated here and only here
// (SlidingWindow::validate). Aggregating window logits per document: train/aggregation.hpp.
// Legend: W windows, L max_length, M = L - 2 content tokens per window, S stride.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/text/vocab.hpp"

namespace rgrid {

/// Splits the content ids of one document (no [CLS]/[SEP]) into windows of at most
/// M = max_length - 2 content tokens, each wrapped as [CLS] ... [SEP]; consecutive windows
/// overlap by exactly `stride` content tokens. Identical to HF tokenizers'
/// truncation(max_length, stride) + overflowing encodings (BertTokenizerFast with
/// return_overflowing_tokens=True):
///   starts s_k = k * (M - S); a window covers c[s_k, min(s_k + M, n)); generation stops at
///   the first window that reaches the end; n <= M gives one window; n = 0 gives [CLS][SEP].
/// `max_windows` > 0 keeps only the first max_windows windows.
/// Example (L = 512, S = 128): 892 content tokens -> windows of 510 and 382 content tokens
/// (starts 0, 382); 894 -> 3 windows.
///   SlidingWindow sw{.max_length = 512, .stride = 128};
///   auto ws = sw.windows(tok.encode_ids(text, false), tok.cls_id(), tok.sep_id());
struct SlidingWindow {
    std::size_t max_length = 512;
    std::size_t stride = 128;
    std::size_t max_windows = 0;  // 0 = no cap

    /// Throws unless 3 <= max_length <= 512 and stride < max_length - 2. The one check of the
    /// window bounds: TrainingArguments, Predictor and make_windows() all call it.
    void validate() const {
        RGRID_CHECK(max_length >= 3 && max_length <= 512, "SlidingWindow: max_length must be in [3, 512], got ",
                    max_length, " (BERT has 512 positions, 2 of them for [CLS]/[SEP]; longer texts are split into "
                    "windows)");
        RGRID_CHECK(stride < max_length - 2, "SlidingWindow: stride (", stride, ") must be smaller than max_length - 2 (",
                    max_length - 2, "), or windows would not advance");
    }

    /// Content tokens per window (M = max_length - 2).
    std::size_t content_length() const { return max_length - 2; }

    /// Start offsets (into the content) of the windows for n content tokens.
    std::vector<std::size_t> window_starts(std::size_t n) const {
        validate();
        const std::size_t m = content_length(), step = m - stride;
        std::vector<std::size_t> starts;
        for (std::size_t s = 0;; s += step) {
            starts.push_back(s);
            if (s + m >= n) break;
            if (max_windows > 0 && starts.size() == max_windows) break;
        }
        return starts;
    }

    /// The windows, each [cls] + content slice + [sep]; at most max_length ids.
    std::vector<std::vector<TokenId>> windows(const std::vector<TokenId>& content_ids_without_specials, TokenId cls,
                                              TokenId sep) const {
        const std::vector<TokenId>& c = content_ids_without_specials;
        std::vector<std::vector<TokenId>> out;
        for (std::size_t s : window_starts(c.size())) {
            const std::size_t e = std::min(s + content_length(), c.size());
            std::vector<TokenId> w;
            w.reserve(e - s + 2);
            w.push_back(cls);
            w.insert(w.end(), c.begin() + static_cast<std::ptrdiff_t>(s), c.begin() + static_cast<std::ptrdiff_t>(e));
            w.push_back(sep);
            out.push_back(std::move(w));
        }
        return out;
    }
};

/// One window of one document: [CLS] content… [SEP] ids, the document index and its label
/// (-1 when unlabeled).
struct Window {
    std::size_t doc_id = 0;
    std::int64_t label = -1;
    std::vector<TokenId> ids;
};

/// The windows of a document collection plus the counts a user wants to see
/// ("12,105 windows for 5,915 documents").
struct WindowedDocs {
    std::vector<Window> windows;   // document order, then window order
    std::size_t num_docs = 0;
    std::size_t long_docs = 0;     // documents needing more than one window
    std::size_t capped_docs = 0;   // documents cut by SlidingWindow::max_windows
    std::size_t content_tokens = 0;  // WordPiece tokens over all documents (before capping)
};

/// Tokenizes `texts` (in parallel, each text once) and cuts them into windows.
/// `labels` is empty (unlabeled) or one class index per text.
/// Example: `auto wd = make_windows(tok, texts, labels, SlidingWindow{.max_length = 256, .stride = 64});`
inline WindowedDocs make_windows(const BertTokenizer& tok, const std::vector<std::string>& texts,
                                 const std::vector<std::int64_t>& labels, const SlidingWindow& sw) {
    RGRID_CHECK(labels.empty() || labels.size() == texts.size(), "make_windows: ", texts.size(), " texts but ",
                labels.size(), " labels");
    sw.validate();
    SlidingWindow uncapped = sw;
    uncapped.max_windows = 0;
    const std::size_t n = texts.size();
    std::vector<std::vector<std::vector<TokenId>>> per_doc(n);
    std::vector<std::size_t> tokens(n), needed(n);
    const TokenId cls = tok.vocab().cls_id(), sep = tok.vocab().sep_id();
    parallel_for(n, 4, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) {
            auto ids = tok.encode_ids(texts[i], /*add_special_tokens=*/false);
            tokens[i] = ids.size();
            needed[i] = uncapped.window_starts(ids.size()).size();
            per_doc[i] = sw.windows(ids, cls, sep);
        }
    });
    WindowedDocs out;
    out.num_docs = n;
    std::size_t total = 0;
    for (auto& d : per_doc) total += d.size();
    out.windows.reserve(total);
    for (std::size_t i = 0; i < n; ++i) {
        out.content_tokens += tokens[i];
        out.long_docs += needed[i] > 1;
        out.capped_docs += per_doc[i].size() < needed[i];
        for (auto& w : per_doc[i])
            out.windows.push_back(Window{i, labels.empty() ? std::int64_t(-1) : labels[i], std::move(w)});
    }
    return out;
}

}  // namespace rgrid
