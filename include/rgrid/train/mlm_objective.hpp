#pragma once
// The masked-LM objective, independent of the training loop: the loss of one masked batch
// (with the count of chosen positions, so callers can weight batches) and the evaluation of
// a held-out set of blocks: loss = mean cross-entropy over every chosen position of the set,
// perplexity = exp(loss), as run_mlm.py reports it.
// The evaluation masks come from a fixed seed, so every epoch scores the same positions and
// eval losses are comparable across epochs (HF's Trainer instead re-draws masks at each
// evaluation; its eval_loss is the mean of per-batch means, here every chosen token weighs
// the same).
// MaskedLmObjective (at the end) is the same as an Objective for Trainer: rgrid-pretrain's task.
// https://github.com/huggingface/transformers/blob/main/examples/pytorch/language-modeling/run_mlm.py (perplexity)
#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
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
#include "rgrid/data/text_blocks.hpp"
#include "rgrid/io/pretrained.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/train/objective.hpp"
#include "rgrid/train/training_arguments.hpp"

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

/// Masked-LM pretraining as a Trainer Objective (run_mlm.py's task): the training blocks are
/// shuffled per epoch (Batcher, length-bucketed for sliding-window blocks), each batch is masked
/// by MaskedLmCollator with an Rng that is a function of (seed, epoch, batch) only — so a resumed
/// run draws the same masks — and the loss is the mean cross-entropy over the chosen positions
/// (BertForMaskedLM decodes only those rows). A batch in which no position is chosen (possible for
/// very short blocks) contributes a zero loss and no gradient: the optimizer step skips every
/// parameter (torch semantics) instead of HF's NaN. Evaluation: evaluate_mlm on the held-out
/// blocks with fixed masks; score = exp(−eval loss) = 1/perplexity (DIR/best has the lowest loss). Checkpoints
/// are BertForMaskedLM directories (architectures ["BertForMaskedLM"]).
/// Batches: input_ids are the masked ids and labels are (B, T): the original id at the chosen
/// positions, −100 elsewhere (unlike classification's (B) labels).
/// Example:
///   auto blocks = make_text_blocks(*tok, texts, {.max_length = 128, .eval_share = 0.05});
///   auto obj = std::make_shared<MaskedLmObjective>(model, tok, std::move(blocks), args, MaskedLmOptions{});
///   Trainer trainer(obj, args);  trainer.train();
class MaskedLmObjective : public Objective {
public:
    using Model = BertForMaskedLM<float>;

    /// `blocks.eval` may be empty when `args.evaluate_each_epoch` is false. Uses from `args`:
    /// the batch sizes, the seed and bucket_batches.
    MaskedLmObjective(std::shared_ptr<Model> model, std::shared_ptr<const BertTokenizer> tokenizer, TextBlocks blocks,
                      const TrainingArguments& args, MaskedLmOptions masking = {})
        : model_(std::move(model)), tokenizer_(std::move(tokenizer)), blocks_(std::move(blocks)),
          collator_(tokenizer_->vocab(), masking), seed_(args.seed), eval_batch_size_(args.per_device_eval_batch_size) {
        args.validate();
        RGRID_CHECK(model_ && tokenizer_, "MaskedLmObjective: no model or tokenizer");
        RGRID_CHECK(!blocks_.train.empty(), "MaskedLmObjective: no training blocks (the corpus is too small for one)");
        RGRID_CHECK(!args.evaluate_each_epoch || !blocks_.eval.empty(),
                    "MaskedLmObjective: no held-out blocks but evaluate_each_epoch is on (set an eval share > 0)");
        RGRID_CHECK(tokenizer_->vocab().size() == model_->vocab_size(), "MaskedLmObjective: the tokenizer has ",
                    tokenizer_->vocab().size(), " tokens but the model's vocab_size is ", model_->vocab_size());
        std::size_t longest = 0;
        for (const auto& w : blocks_.train) longest = std::max(longest, w.ids.size());
        for (const auto& w : blocks_.eval) longest = std::max(longest, w.ids.size());
        RGRID_CHECK(longest <= model_->config().max_position_embeddings, "MaskedLmObjective: blocks of ", longest,
                    " tokens exceed the model's max_position_embeddings ", model_->config().max_position_embeddings);
        batcher_ = std::make_unique<Batcher>(
            blocks_.train, BatcherOptions{.batch_size = args.per_device_train_batch_size, .shuffle = true,
                                          .seed = args.seed, .bucket_batches = args.bucket_batches,
                                          .pad_id = tokenizer_->vocab().pad_id()});
    }

    Module<float>& model() override { return *model_; }
    std::size_t batches_per_epoch() const override { return batcher_->num_batches(); }

    /// The masks of batch b of epoch `epoch`: a stream of (seed, epoch, b) only.
    Rng mask_rng(std::size_t epoch, std::size_t b) const {
        return Rng(seed_).fork(0x4D4C4D).fork(epoch).fork(b);
    }

    Batch batch(std::size_t epoch, std::size_t b) override {
        if (!plan_epoch_ || *plan_epoch_ != epoch) {
            plan_ = batcher_->plan(epoch);
            plan_epoch_ = epoch;
        }
        RGRID_CHECK(b < plan_.size(), "MaskedLmObjective: batch ", b, " of epoch ", epoch, " out of range (",
                    plan_.size(), " batches)");
        Batch out = batcher_->make_batch(plan_[b]);
        Rng rng = mask_rng(epoch, b);
        MaskedLmBatch mb = collator_(out, rng);
        out.input_ids = std::move(mb.input_ids);
        out.labels = std::move(mb.labels);  // (B, T)
        return out;
    }

    Var<float> loss(const Batch& batch, Rng& dropout_rng) override {
        const auto* l = batch.labels.data();
        if (std::none_of(l, l + batch.labels.size(), [](std::int64_t v) { return v != MaskedLmCollator::ignore_index; }))
            return Var<float>(zeros<float>({}), true);  // nothing chosen: zero loss, no parameter gradient
        return model_->forward(batch.input_ids, batch.token_type_ids, batch.attention_mask, batch.labels, dropout_rng)
            .loss;
    }

    EvalReport evaluate() override {
        const auto t0 = std::chrono::steady_clock::now();
        last_eval_ = evaluate_mlm(*model_, blocks_.eval, collator_,
                                  {.batch_size = eval_batch_size_, .mask_seed = Rng(seed_).fork(0xE7A1).key(),
                                   .pad_id = tokenizer_->vocab().pad_id()});
        EvalReport r;
        r.loss = last_eval_.loss;
        r.accuracy = NAN;  // no classification metrics
        r.weighted = r.macro = metrics::Scores{NAN, NAN, NAN};
        r.documents = blocks_.eval_docs.size();
        r.windows = blocks_.eval.size();
        r.runtime = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return r;
    }
    /// Lower held-out loss is better: the score is 1 / perplexity = exp(−loss), in (0, 1] like the
    /// classification scores the Trainer compares (its "best" starts at −1).
    double score(const EvalReport& r) const override { return std::exp(-r.loss); }
    LogRecord eval_fields(const EvalReport& ev) const override {
        return {{"eval_loss", ev.loss},
                {"perplexity", std::exp(ev.loss)},
                {"eval_masked_tokens", std::int64_t(last_eval_.num_masked)},
                {"eval_runtime", ev.runtime}};
    }
    void save(const std::string& dir) const override { save_pretrained(*model_, dir, *tokenizer_); }
    TrainBegin describe() const override {
        TrainBegin b;
        b.train_documents = blocks_.train_docs.size();
        b.train_windows = blocks_.train.size();
        b.val_documents = blocks_.eval_docs.size();
        b.val_windows = blocks_.eval.size();
        return b;
    }

    const TextBlocks& blocks() const { return blocks_; }
    const MaskedLmCollator& collator() const { return collator_; }
    /// The latest evaluation (after evaluate()).
    const MlmEvalReport& last_evaluation() const { return last_eval_; }

private:
    std::shared_ptr<Model> model_;
    std::shared_ptr<const BertTokenizer> tokenizer_;
    TextBlocks blocks_;
    MaskedLmCollator collator_;
    std::uint64_t seed_;
    std::size_t eval_batch_size_;
    std::unique_ptr<Batcher> batcher_;
    std::vector<std::vector<std::size_t>> plan_;
    std::optional<std::size_t> plan_epoch_;
    MlmEvalReport last_eval_;
};

}  // namespace rgrid
