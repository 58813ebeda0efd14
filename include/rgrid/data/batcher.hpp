#pragma once
// Documents → sliding windows → padded batches.
// Every window keeps its document id and label (training: each window is a sample with its
// document's label; evaluation/prediction: window logits are aggregated per document).
// Batches are padded only to their longest member; with shuffling, windows are grouped by
// length inside buckets (shuffle → cut into buckets of `bucket_batches` batches → sort each
// bucket by length → cut into batches → shuffle the batches), so little padding is wasted while
// every epoch still sees a new order. An epoch's order depends only on (seed, epoch): a
// resumed run can rebuild it and skip the batches already done.
// Legend: B batch (windows), T tokens (longest window in the batch).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/core/tensor.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/text/sliding_window.hpp"  // Window, WindowedDocs, make_windows

namespace rgrid {

/// A padded batch. input_ids/token_type_ids/attention_mask are (B, T) with T = longest window;
/// labels (B); doc_ids[b] is the document of row b.
struct Batch {
    IndexTensor input_ids, token_type_ids, attention_mask;  // (B, T)
    IndexTensor labels;                                     // (B)
    std::vector<std::size_t> doc_ids;                       // B
    std::vector<std::size_t> window_index;                  // B: index into the window list
    std::size_t real_tokens = 0;                            // non-pad tokens
    std::size_t size() const { return doc_ids.size(); }
};

/// Options of a Batcher. `bucket_batches` ≤ 1 disables length bucketing when shuffling.
struct BatcherOptions {
    std::size_t batch_size = 16;
    bool shuffle = true;
    std::uint64_t seed = 42;
    std::size_t bucket_batches = 50;
    TokenId pad_id = 0;
};

/// Windows → batches, per epoch.
/// Example:
///   Batcher b(wd.windows, {.batch_size = 16, .seed = 42});
///   for (auto& idx : b.plan(epoch)) { Batch batch = b.make_batch(idx); ... }
class Batcher {
public:
    Batcher(std::vector<Window> windows, BatcherOptions opt) : windows_(std::move(windows)), opt_(opt) {
        RGRID_CHECK(opt_.batch_size > 0, "Batcher: batch_size must be > 0");
        for (std::size_t i = 0; i < windows_.size(); ++i)
            RGRID_CHECK(!windows_[i].ids.empty(), "Batcher: window ", i, " (document ", windows_[i].doc_id,
                        ") is empty");
    }

    std::size_t size() const { return windows_.size(); }
    std::size_t num_batches() const { return (windows_.size() + opt_.batch_size - 1) / opt_.batch_size; }
    const std::vector<Window>& windows() const { return windows_; }
    const BatcherOptions& options() const { return opt_; }

    /// The batches of `epoch` as lists of window indices. Shuffled: a function of (seed, epoch)
    /// only. Not shuffled: sorted by length (longest first) so padding is minimal (evaluation).
    std::vector<std::vector<std::size_t>> plan(std::size_t epoch) const {
        const std::size_t n = windows_.size(), bs = opt_.batch_size;
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t(0));
        auto longer = [&](std::size_t a, std::size_t b) { return windows_[a].ids.size() > windows_[b].ids.size(); };
        std::vector<std::vector<std::size_t>> batches;
        if (!opt_.shuffle) {
            std::stable_sort(order.begin(), order.end(), longer);
            for (std::size_t s = 0; s < n; s += bs)
                batches.emplace_back(order.begin() + s, order.begin() + std::min(n, s + bs));
            return batches;
        }
        Rng rng = Rng(opt_.seed).fork(epoch);
        shuffle(order, rng);
        const std::size_t bucket = opt_.bucket_batches > 1 ? bs * opt_.bucket_batches : bs;
        for (std::size_t s = 0; s < n; s += bucket) {
            auto first = order.begin() + s, last = order.begin() + std::min(n, s + bucket);
            if (opt_.bucket_batches > 1) std::stable_sort(first, last, longer);
            for (auto it = first; it < last; it += std::min<std::ptrdiff_t>(bs, last - it))
                batches.emplace_back(it, it + std::min<std::ptrdiff_t>(bs, last - it));
        }
        shuffle(batches, rng);
        return batches;
    }

    /// Pads the given windows to the longest one. Pad positions: pad_id, type 0, mask 0.
    Batch make_batch(const std::vector<std::size_t>& idx) const {
        RGRID_CHECK(!idx.empty(), "Batcher::make_batch: empty index list");
        std::size_t t = 0;
        for (auto i : idx) {
            RGRID_CHECK(i < windows_.size(), "Batcher::make_batch: window ", i, " out of range (", windows_.size(),
                        " windows)");
            t = std::max(t, windows_[i].ids.size());
        }
        const std::size_t b = idx.size();
        Batch out;
        out.input_ids = IndexTensor::from_shape({b, t});       // (B, T)
        out.input_ids.fill(opt_.pad_id);
        out.token_type_ids = IndexTensor::from_shape({b, t});  // (B, T)
        out.token_type_ids.fill(0);
        out.attention_mask = IndexTensor::from_shape({b, t});  // (B, T)
        out.attention_mask.fill(0);
        out.labels = IndexTensor::from_shape({b});             // (B)
        for (std::size_t r = 0; r < b; ++r) {
            const Window& w = windows_[idx[r]];
            std::int64_t* ids = out.input_ids.data() + r * t;
            std::int64_t* mask = out.attention_mask.data() + r * t;
            for (std::size_t j = 0; j < w.ids.size(); ++j) ids[j] = w.ids[j], mask[j] = 1;
            out.labels(r) = w.label;
            out.doc_ids.push_back(w.doc_id);
            out.window_index.push_back(idx[r]);
            out.real_tokens += w.ids.size();
        }
        return out;
    }

    /// Fisher–Yates with the given stream (deterministic for a seed).
    template <class V>
    static void shuffle(V& v, Rng& rng) {
        for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
    }

private:
    std::vector<Window> windows_;
    BatcherOptions opt_;
};

}  // namespace rgrid
