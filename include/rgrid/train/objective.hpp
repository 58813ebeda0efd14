#pragma once
// Objective: what the Trainer's loop trains, as the one thing that changes between tasks.
// The loop (train/trainer.hpp) owns the optimizer, the schedule, clipping, the dropout RNG,
// checkpoints, logging and early stopping; an objective owns the model, its data and its loss:
//   batch(epoch, b)      the b-th batch of an epoch (a function of (seed, epoch, b) only, so a
//                        resumed run sees the same batches)
//   loss(batch, rng)     forward in training mode + the scalar loss to minimize
//   evaluate()           the validation report (the loop switches the model back to training)
//   save(dir)            the model files of a checkpoint (the loop adds the training state)
// Sequence classification is ClassificationObjective (train/classification_objective.hpp);
// masked-LM pretraining is another implementation of the same interface.
#include <cstddef>
#include <string>

#include "rgrid/autograd/var.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/data/batcher.hpp"
#include "rgrid/nn/module.hpp"
#include "rgrid/train/callback.hpp"
#include "rgrid/train/evaluate.hpp"
#include "rgrid/train/report/metrics_log.hpp"

namespace rgrid {

/// A training task for Trainer. Example (the outline of an MLM objective):
///   class MaskedLm : public Objective {
///       Module<float>& model() override { return *mlm_; }
///       std::size_t batches_per_epoch() const override { return batcher_.num_batches(); }
///       Batch batch(std::size_t epoch, std::size_t b) override { return collator_(plan(epoch)[b], epoch, b); }
///       Var<float> loss(const Batch& x, Rng& rng) override {   // cross-entropy over masked positions
///           return ops::cross_entropy(mlm_->forward(x.input_ids, x.token_type_ids, x.attention_mask, rng), x.labels);
///       }
///       ...
///   };
class Objective {
public:
    virtual ~Objective() = default;

    /// The module whose parameters the optimizer trains and the checkpoint saves.
    virtual Module<float>& model() = 0;
    /// Optimizer steps per epoch (the same for every epoch).
    virtual std::size_t batches_per_epoch() const = 0;
    /// Batch `b` (0-based) of epoch `epoch` (0-based); must depend on (seed, epoch, b) only.
    virtual Batch batch(std::size_t epoch, std::size_t b) = 0;
    /// Forward in training mode (dropout from `dropout_rng`) and the scalar loss to minimize.
    virtual Var<float> loss(const Batch& batch, Rng& dropout_rng) = 0;
    /// Evaluation on the validation data (may switch the model to eval mode).
    virtual EvalReport evaluate() = 0;
    /// Higher is better: chooses DIR/best and drives early stopping (HF metric_for_best_model).
    virtual double score(const EvalReport& r) const { return r.weighted.f1; }
    /// The eval_* fields of the "eval" line of metrics.jsonl.
    virtual LogRecord eval_fields(const EvalReport& ev) const {
        return {{"eval_loss", ev.loss},          {"eval_accuracy", ev.accuracy},
                {"eval_precision", ev.weighted.precision}, {"eval_recall", ev.weighted.recall},
                {"eval_f1", ev.weighted.f1},     {"eval_macro_f1", ev.macro.f1},
                {"eval_runtime", ev.runtime}};
    }
    /// Writes the model files of a checkpoint (config, weights, tokenizer) into `dir`.
    virtual void save(const std::string& dir) const = 0;
    /// The data counts of TrainBegin (the loop fills in steps, parameters and the start step).
    virtual TrainBegin describe() const = 0;
};

}  // namespace rgrid
