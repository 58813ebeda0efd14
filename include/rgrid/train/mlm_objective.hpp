#pragma once
// The masked-LM objective, independent of the training loop: the loss of one masked batch
// (with the count of chosen positions, so callers can weight batches) and the evaluation of
// a held-out set of blocks: loss = mean cross-entropy over every chosen position of the set,
// perplexity = exp(loss), as run_mlm.py reports it.
// The evaluation masks come from a fixed seed, so every epoch scores the same positions and
// eval losses are comparable across epochs (HF's Trainer instead re-draws masks at each
// evaluation; its eval_loss is the mean of per-batch means, here every chosen token weighs
// the same).
// https://github.com/huggingface/transformers/blob/main/examples/pytorch/language-modeling/run_mlm.py (perplexity)
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "rgrid/autograd/var.hpp"
#include "rgrid/core/error.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/data/batcher.hpp"
#include "rgrid/data/mlm_collator.hpp"
#include "rgrid/nn/bert.hpp"

namespace rgrid {

/// The loss of one masked batch and how many positions it averages over.
template <class T>
struct MlmLoss {
    Var<T> loss;                 // scalar mean cross-entropy; undefined when num_masked == 0
    std::size_t num_masked = 0;  // chosen positions (0: nothing to learn from this batch, skip it)
};

/// Forward of a masked batch through the model (dropout from `rng` in training mode). A batch
/// without any chosen position (possible for very short blocks) gives num_masked 0 and an
/// undefined loss instead of the undefined mean.
/// Example: `auto l = mlm_loss(model, collate(batch, mask_rng), model.dropout_rng); if (l.num_masked) backward(l.loss);`
template <class T>
MlmLoss<T> mlm_loss(const BertForMaskedLM<T>& model, const MaskedLmBatch& batch, Rng& rng) {
    MlmLoss<T> out;
    out.num_masked = batch.num_masked;
    if (batch.num_masked == 0) return out;
    out.loss = model.forward(batch.input_ids, batch.token_type_ids, batch.attention_mask, batch.labels, rng).loss;
    return out;
}

/// Held-out masked-LM scores.
struct MlmEvalReport {
    double loss = 0;            // mean cross-entropy over all chosen positions (nats)
    double perplexity = 0;      // exp(loss)
    std::size_t num_masked = 0;  // chosen positions scored
    std::size_t blocks = 0;      // blocks evaluated
};

/// Options of evaluate_mlm().
struct MlmEvalOptions {
    std::size_t batch_size = 32;
    std::uint64_t mask_seed = 1234;  // the masks of the held-out set (fixed: the same positions every epoch)
    TokenId pad_id = 0;
};

/// Scores `blocks` in eval mode without gradients (the model's training mode is restored
/// afterwards). Batches go in the blocks' order, so the masks depend only on mask_seed and the
/// blocks. An empty set, or one where no position is chosen, is an error.
/// Example: `MlmEvalReport r = evaluate_mlm(model, tb.eval, collate); // r.loss, r.perplexity`
template <class T>
MlmEvalReport evaluate_mlm(BertForMaskedLM<T>& model, const std::vector<Window>& blocks, const MaskedLmCollator& collator,
                           const MlmEvalOptions& opt = {}) {
    RGRID_CHECK(!blocks.empty(), "evaluate_mlm: no held-out blocks to evaluate");
    RGRID_CHECK(opt.batch_size > 0, "evaluate_mlm: batch_size must be > 0");
    struct RestoreMode {  // back to training mode on every exit, errors included
        BertForMaskedLM<T>& m;
        bool was_training;
        ~RestoreMode() { m.train(was_training); }
    } restore{model, model.is_training()};
    model.eval();
    NoGradGuard no_grad;
    Batcher batcher(blocks, {.batch_size = opt.batch_size, .shuffle = false, .pad_id = opt.pad_id});
    Rng mask_rng(opt.mask_seed);
    Rng unused_dropout(0);  // eval mode: no dropout draws
    double total = 0;
    MlmEvalReport r;
    r.blocks = blocks.size();
    for (std::size_t s = 0; s < blocks.size(); s += opt.batch_size) {
        std::vector<std::size_t> idx(std::min(opt.batch_size, blocks.size() - s));
        std::iota(idx.begin(), idx.end(), s);
        const MaskedLmBatch mb = collator(batcher.make_batch(idx), mask_rng);
        const MlmLoss<T> l = mlm_loss(model, mb, unused_dropout);
        if (l.num_masked == 0) continue;
        total += static_cast<double>(l.loss.value()()) * static_cast<double>(l.num_masked);
        r.num_masked += l.num_masked;
    }
    RGRID_CHECK(r.num_masked > 0, "evaluate_mlm: no position of the ", blocks.size(),
                " held-out blocks was chosen for masking (blocks too short?)");
    r.loss = total / static_cast<double>(r.num_masked);
    r.perplexity = std::exp(r.loss);
    return r;
}

}  // namespace rgrid
