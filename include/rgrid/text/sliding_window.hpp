#pragma once
// Sliding windows over long token sequences (HF overflow semantics) and the aggregation of
// per-window logits into one per-document prediction.
// Legend: W windows, K labels, L max_length, M = L - 2 content tokens per window, S stride.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/tensor.hpp"
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

    /// Throws unless 3 <= max_length <= 512 and stride < max_length - 2.
    void validate() const {
        RGRID_CHECK(max_length >= 3 && max_length <= 512, "SlidingWindow: max_length ", max_length,
                    " must be in [3, 512] (BERT has 512 positions; 2 go to [CLS]/[SEP])");
        RGRID_CHECK(stride < max_length - 2, "SlidingWindow: stride ", stride, " must be < max_length - 2 = ",
                    max_length - 2, " (windows must advance)");
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

/// How per-window logits become one document score vector.
enum class Aggregation {
    Mean,  ///< mean of the window logits (the default)
    Max,   ///< per-label maximum of the window logits
    Vote,  ///< fraction of windows whose argmax is the label (argmax ties -> lowest label index)
};

/// Aggregates window logits (W, K) into document scores (K). The result does not depend on
/// the order of the windows, bit for bit (Mean sums each column in sorted order, in double).
/// Take the document label with aggregate_argmax (ties -> lowest label index).
/// Example: aggregate(Tensor<float>{{1, 3}, {3, 1}, {0, 2}}, Aggregation::Vote) == {1/3, 2/3}
template <class T>
Tensor<T> aggregate(const Tensor<T>& window_logits, Aggregation how) {
    RGRID_CHECK(window_logits.dimension() == 2 && window_logits.shape()[0] > 0 && window_logits.shape()[1] > 0,
                "aggregate: window_logits must be (W, K) with W, K >= 1, got ", shape_str(window_logits));
    const std::size_t w = window_logits.shape()[0], k = window_logits.shape()[1];
    const T* x = window_logits.data();  // (W, K) row-major
    Tensor<T> out = zeros<T>({k});      // (K)
    if (how == Aggregation::Vote) {
        std::vector<std::size_t> votes(k, 0);
        for (std::size_t i = 0; i < w; ++i) {
            std::size_t best = 0;
            for (std::size_t j = 1; j < k; ++j)
                if (x[i * k + j] > x[i * k + best]) best = j;
            ++votes[best];
        }
        for (std::size_t j = 0; j < k; ++j) out(j) = static_cast<T>(static_cast<double>(votes[j]) / static_cast<double>(w));
        return out;
    }
    std::vector<T> col(w);
    for (std::size_t j = 0; j < k; ++j) {
        for (std::size_t i = 0; i < w; ++i) col[i] = x[i * k + j];
        if (how == Aggregation::Max) {
            out(j) = *std::max_element(col.begin(), col.end());
        } else {
            std::sort(col.begin(), col.end());
            double sum = 0.0;
            for (T v : col) sum += static_cast<double>(v);
            out(j) = static_cast<T>(sum / static_cast<double>(w));
        }
    }
    return out;
}

/// Index of the highest score; ties go to the lowest index. Example: aggregate_argmax({0.5, 0.5}) == 0
template <class T>
std::size_t aggregate_argmax(const Tensor<T>& scores) {
    RGRID_CHECK(scores.dimension() == 1 && scores.size() > 0, "aggregate_argmax: scores must be (K) with K >= 1, got ",
                shape_str(scores));
    std::size_t best = 0;
    for (std::size_t j = 1; j < scores.size(); ++j)
        if (scores(j) > scores(best)) best = j;
    return best;
}

}  // namespace rgrid
