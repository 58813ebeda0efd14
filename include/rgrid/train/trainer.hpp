#pragma once
// Trainer: Hugging Face Trainer semantics on CPU. The loop is generic over an Objective
// (train/objective.hpp: the model, its batches, its loss, its evaluation); the default one is
// BERT sequence classification with sliding windows (train/classification_objective.hpp).
// train() = for each epoch: train_step() per optimizer step (gradient_accumulation_steps
// micro-batches of the objective each), then end_epoch(): evaluate, early stopping,
// save DIR/last (model + training_state.safetensors) and, when the validation score (weighted
// F1) improves, DIR/best. The optimizer (make_optimizer) is built once, in the constructor.
// The library never prints: progress goes to TrainerCallback functions (train/callback.hpp).
// DIR/metrics.jsonl and DIR/curves.svg are written by the callbacks of train/report/run_files.hpp,
// console output by train/report/console_reporter.hpp, on a stream the program supplies.
// https://huggingface.co/docs/transformers/main_classes/trainer
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "rgrid/autograd/var.hpp"
#include "rgrid/core/error.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/data/dataset.hpp"
#include "rgrid/io/pretrained.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/optim/adamw.hpp"
#include "rgrid/optim/clip_grad.hpp"
#include "rgrid/optim/schedule.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/train/callback.hpp"
#include "rgrid/train/classification_objective.hpp"
#include "rgrid/train/evaluate.hpp"
#include "rgrid/train/metrics.hpp"
#include "rgrid/train/objective.hpp"
#include "rgrid/train/predictor.hpp"
#include "rgrid/train/report/run_files.hpp"
#include "rgrid/train/training_arguments.hpp"
#include "rgrid/train/training_state.hpp"

namespace rgrid {

/// Trains an Objective (by default: fine-tunes a BertForSequenceClassification on a labelled Dataset).
/// Example:
///   auto model = std::make_shared<BertForSequenceClassification<float>>(cfg, rng);
///   Trainer trainer(model, tokenizer, "vocab.txt", args, train_ds, val_ds);
///   trainer.add_callback(console_reporter(std::cout));
///   TrainOutput out = trainer.train();
///   EvalReport test = trainer.evaluate(test_ds);
class Trainer {
public:
    using Model = BertForSequenceClassification<float>;

    /// Sequence classification (ClassificationObjective): `val` may be empty when
    /// `args.evaluate_each_epoch` is false; labels of both sets must be among the model's
    /// id2label; `vocab_path` is no longer read (checkpoints take vocab.txt from the tokenizer in memory).
    Trainer(std::shared_ptr<Model> model, std::shared_ptr<const BertTokenizer> tokenizer, std::string vocab_path,
            TrainingArguments args, const Dataset& train, const Dataset& val)
        : Trainer(std::make_shared<ClassificationObjective>(std::move(model), std::move(tokenizer),
                                                            std::move(vocab_path), args, train, val),
                  args) {}

    /// Any objective (e.g. masked-LM pretraining) with the same loop, checkpoints and callbacks.
    Trainer(std::shared_ptr<Objective> objective, TrainingArguments args)
        : objective_(std::move(objective)), args_(std::move(args)), dropout_rng_(Rng(args_.seed).fork(0xD0)) {
        RGRID_CHECK(objective_, "Trainer: no objective");
        args_.validate();
        if (args_.threads > 0) set_num_threads(args_.threads);
        classification_ = std::dynamic_pointer_cast<ClassificationObjective>(objective_);
        params_ = objective_->model().parameters();
        optimizer_ = make_optimizer();
        if (!args_.should_save) return;  // a distributed run's ranks > 0: rank 0 writes the files
        add_callback(metrics_log_reporter(args_.output_dir + "/metrics.jsonl"));
        add_callback(curves_reporter(args_.output_dir + "/curves.svg", args_.logging_steps));
        add_callback(confusion_reporter(args_.output_dir + "/confusion_val.svg"));
    }

    void add_callback(TrainerCallback cb) { callbacks_.push_back(std::move(cb)); }

    /// Runs the whole training (or continues it after resume_from()).
    TrainOutput train() {
        if (args_.should_save) std::filesystem::create_directories(args_.output_dir);
        const std::size_t steps_per_epoch = optimizer_steps_per_epoch();
        // max_steps (HF): that many optimizer steps over as many epochs as it takes, the last one cut short
        const std::size_t total_steps = args_.max_steps ? args_.max_steps : steps_per_epoch * args_.num_train_epochs;
        const std::size_t num_epochs = args_.max_steps ? (total_steps + steps_per_epoch - 1) / steps_per_epoch
                                                       : args_.num_train_epochs;
        const auto warmup = static_cast<std::size_t>(std::ceil(args_.warmup_ratio * double(total_steps)));
        const LinearSchedule schedule(std::min(warmup, total_steps), total_steps);

        TrainBegin begin = objective_->describe();
        begin.steps_per_epoch = steps_per_epoch;
        begin.total_steps = total_steps;
        begin.num_parameters = objective_->model().num_parameters();
        begin.start_step = state_.global_step;
        emit([&](auto& cb) { if (cb.on_train_begin) cb.on_train_begin(begin); });

        const auto t0 = std::chrono::steady_clock::now();
        const std::size_t start_step = state_.global_step;
        TrainOutput out;
        objective_->model().train();
        for (std::size_t epoch = state_.epoch; epoch < num_epochs && !state_.stop; ++epoch) {
            const std::size_t steps = std::min(steps_per_epoch, total_steps - epoch * steps_per_epoch);
            emit([&](auto& cb) { if (cb.on_epoch_begin) cb.on_epoch_begin(epoch + 1, steps); });
            for (std::size_t b = state_.batch_in_epoch; b < steps; ++b)
                train_step(epoch, b, steps_per_epoch, schedule);
            end_epoch(epoch);
            out.epochs_run = epoch + 1;
        }
        const double runtime = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const std::size_t steps_done = state_.global_step - start_step;
        out.global_step = state_.global_step;
        out.training_loss = state_.global_step ? state_.loss_sum / double(state_.global_step) : 0.0;
        out.train_runtime = runtime;
        out.train_steps_per_second = runtime > 0 ? double(steps_done) / runtime : 0;
        out.train_samples_per_second = runtime > 0 ? double(steps_done) * double(begin.train_windows) /
                                                         double(std::max<std::size_t>(steps_per_epoch, 1)) / runtime
                                                   : 0;
        out.early_stopped = state_.stop;
        out.best_f1 = state_.best_f1;
        out.best_epoch = state_.best_epoch;
        emit([&](auto& cb) { if (cb.on_train_end) cb.on_train_end(out); });
        return out;
    }

    /// Document-level evaluation of a labelled data set with the current weights (classification).
    EvalReport evaluate(const Dataset& ds) { return rgrid::evaluate(classification().predictor(), ds); }

    /// Writes `dir` as a checkpoint (the objective's model files: for classification
    /// config.json, model.safetensors, vocab.txt, tokenizer_config.json, inference_config.json)
    /// and, with `with_state`, training_state.safetensors.
    /// Writes the whole checkpoint into a sibling staging folder, then swaps it into place
    /// atomically: a kill at any moment leaves `dir` holding one complete save (weights,
    /// options and training state from the same step), never a mix of two.
    void save_checkpoint(const std::string& dir, bool with_state) const {
        const std::string staging = dir + ".saving";
        std::filesystem::remove_all(staging);  // leftovers of a save that was killed
        objective_->save(staging);
        if (with_state) save_training_state(staging + "/training_state.safetensors", objective_->model(),
                                            *optimizer_, state_, dropout_rng_, &args_);
        replace_directory_atomic(staging, dir);
    }

    /// Continues from DIR/last's training_state.safetensors (weights must already be loaded
    /// from the same directory): optimizer moments, step, epoch, position, RNG and best F1.
    void resume_from(const std::string& dir) {
        state_ = load_training_state(dir + "/training_state.safetensors", objective_->model(), *optimizer_,
                                     dropout_rng_);
    }

    const TrainingArguments& args() const { return args_; }
    const TrainerState& state() const { return state_; }
    Objective& objective() { return *objective_; }
    const WindowedDocs& train_windows() const { return classification().train_windows(); }
    const WindowedDocs& val_windows() const { return classification().val_windows(); }
    Predictor& predictor() { return classification().predictor(); }
    const std::vector<EpochRow>& history() const { return epochs_; }

private:
    /// AdamW over the objective's parameters; no weight decay on biases and LayerNorm weights (HF).
    std::unique_ptr<AdamW<float>> make_optimizer() const {
        return std::make_unique<AdamW<float>>(
            decay_groups(objective_->model().named_parameters(), args_.weight_decay),
            AdamWOptions{.lr = args_.learning_rate, .weight_decay = args_.weight_decay});
    }

    /// Optimizer steps per epoch: the objective's batches in groups of gradient_accumulation_steps
    /// (the last group may be shorter).
    std::size_t optimizer_steps_per_epoch() const {
        const std::size_t n = args_.gradient_accumulation_steps;
        return (objective_->batches_per_epoch() + n - 1) / n;
    }

    /// One optimizer step `b` of `epoch`: for each of its micro-batches (gradient_accumulation_steps
    /// of the objective's batches, HF semantics) forward + loss → backward of loss / micro-batches,
    /// the gradients accumulating; then on_gradients (e.g. an all-reduce) → clip → learning rate →
    /// AdamW step → zero_grad, then the log line (its loss is the mean over the micro-batches).
    void train_step(std::size_t epoch, std::size_t b, std::size_t steps_in_epoch, const LinearSchedule& schedule) {
        const std::size_t first = b * args_.gradient_accumulation_steps;
        const std::size_t last = std::min(first + args_.gradient_accumulation_steps, objective_->batches_per_epoch());
        const std::size_t micro = last - first;
        double lv = 0;
        std::vector<Tensor<float>> accumulated(micro > 1 ? params_.size() : 0, Tensor<float>::from_shape({0}));
        for (std::size_t k = first; k < last; ++k) {
            Batch batch = objective_->batch(epoch, k);
            Var<float> loss = objective_->loss(batch, dropout_rng_);
            const double v = loss.value()();
            RGRID_CHECK(std::isfinite(v), "Trainer: non-finite loss ", v, " at step ", state_.global_step + 1,
                        " (epoch ", epoch + 1, ", batch ", k + 1, "); lower the learning rate");
            lv += v / double(micro);
            emit([&](auto& cb) { if (cb.on_backward_begin) cb.on_backward_begin(k + 1 == last); });
            backward(micro == 1 ? loss : loss * (1.f / float(micro)));  // HF: loss / gradient_accumulation_steps
            if (micro > 1) stash_gradients(accumulated);
        }
        if (micro > 1) restore_gradients(accumulated);
        emit([&](auto& cb) { if (cb.on_gradients) cb.on_gradients(params_); });
        double grad_norm = NAN;
        if (args_.max_grad_norm > 0) grad_norm = clip_grad_norm(params_, args_.max_grad_norm);
        RGRID_CHECK(args_.max_grad_norm <= 0 || std::isfinite(grad_norm), "Trainer: non-finite gradient norm ",
                    grad_norm, " at step ", state_.global_step + 1, " (epoch ", epoch + 1, ", step ", b + 1,
                    "); lower the learning rate");
        const double lr_mult = schedule(state_.global_step);
        optimizer_->set_lr_multiplier(lr_mult);
        optimizer_->step();
        objective_->model().zero_grad();
        ++state_.global_step;
        state_.batch_in_epoch = b + 1;
        state_.loss_sum += lv;
        state_.epoch_loss_sum += lv;
        state_.epoch_steps += 1;
        log_loss_sum_ += lv;
        ++log_steps_;
        emit([&](auto& cb) {
            if (cb.on_step_end) cb.on_step_end(b + 1, steps_in_epoch, state_.epoch_loss_sum / double(state_.epoch_steps));
        });
        if (state_.global_step % args_.logging_steps == 0) {
            LogRecord rec{{"type", std::string("log")},
                          {"step", std::int64_t(state_.global_step)},
                          {"epoch", double(epoch) + double(b + 1) / double(steps_in_epoch)},
                          {"loss", log_loss_sum_ / double(log_steps_)},
                          {"learning_rate", args_.learning_rate * lr_mult},
                          {"grad_norm", grad_norm}};
            log_loss_sum_ = 0;
            log_steps_ = 0;
            emit([&](auto& cb) { if (cb.on_log) cb.on_log(rec); });
        }
    }

    /// Gradient accumulation as PyTorch's AccumulateGrad does it: each micro-batch's gradient is
    /// computed on its own (the parameter's gradient released after every backward, so kernels
    /// never add into it) and then added to the sum: sum = ((g1 + g2) + g3) … in fp32. The
    /// data-parallel reducer (distributed/gradient_reducer.hpp) sums in the same way, which makes
    /// 2 ranks bit-identical to 2 accumulated micro-batches.
    void stash_gradients(std::vector<Tensor<float>>& sum) const {
        for (std::size_t i = 0; i < params_.size(); ++i) {
            Var<float>& p = *params_[i];
            if (!p.has_grad()) continue;
            if (sum[i].size() != p.numel()) {
                sum[i] = std::move(p.grad());
            } else {
                float* d = sum[i].data();
                const float* g = p.grad().data();
                for (std::size_t j = 0, n = p.numel(); j < n; ++j) d[j] += g[j];
            }
            p.zero_grad();
        }
    }
    void restore_gradients(std::vector<Tensor<float>>& sum) const {
        for (std::size_t i = 0; i < params_.size(); ++i)
            if (sum[i].size() == params_[i]->numel() && sum[i].dimension() == params_[i]->dim())
                params_[i]->grad() = std::move(sum[i]);
    }

    /// End of an epoch: evaluate (and decide early stopping), then save last/ and best/.
    void end_epoch(std::size_t epoch) {
        const double train_loss = state_.epoch_steps ? state_.epoch_loss_sum / double(state_.epoch_steps) : NAN;
        state_.epoch = epoch + 1;
        state_.batch_in_epoch = 0;
        state_.epoch_loss_sum = 0;
        state_.epoch_steps = 0;
        const bool improved = args_.evaluate_each_epoch && evaluate_epoch(epoch, train_loss);
        if (!args_.save_each_epoch || !args_.should_save) return;
        save_checkpoint(args_.output_dir + "/last", /*with_state=*/true);
        emit([&](auto& cb) { if (cb.on_save) cb.on_save(args_.output_dir + "/last", false); });
        if (improved || !args_.evaluate_each_epoch) {
            save_checkpoint(args_.output_dir + "/best", /*with_state=*/false);
            emit([&](auto& cb) { if (cb.on_save) cb.on_save(args_.output_dir + "/best", true); });
        }
    }

    /// Validation after `epoch`: the eval log line, on_evaluate, best score and patience.
    /// Returns whether the score improved.
    bool evaluate_epoch(std::size_t epoch, double train_loss) {
        EvalReport ev = objective_->evaluate();
        objective_->model().train();
        const EpochRow row{epoch + 1, train_loss, ev.loss, ev.accuracy, ev.weighted.precision, ev.weighted.recall,
                           ev.weighted.f1, ev.macro.f1};
        LogRecord rec{{"type", std::string("eval")},
                      {"step", std::int64_t(state_.global_step)},
                      {"epoch", double(epoch + 1)},
                      {"train_loss", train_loss}};
        for (auto& field : objective_->eval_fields(ev)) rec.push_back(std::move(field));
        epochs_.push_back(row);
        emit([&](auto& cb) { if (cb.on_log) cb.on_log(rec); });
        emit([&](auto& cb) { if (cb.on_evaluate) cb.on_evaluate(row, ev); });
        const double score = objective_->score(ev);
        const bool improved = score > state_.best_f1;
        if (improved) {
            state_.best_f1 = score;
            state_.best_epoch = epoch + 1;
            state_.epochs_without_improvement = 0;
        } else {
            ++state_.epochs_without_improvement;
        }
        if (args_.early_stopping_patience && state_.epochs_without_improvement >= args_.early_stopping_patience)
            state_.stop = true;
        return improved;
    }

    ClassificationObjective& classification() const {
        RGRID_CHECK(classification_, "Trainer: this needs a ClassificationObjective (train windows, predictor, "
                                     "evaluate(Dataset)); the objective is another task");
        return *classification_;
    }

    template <class F>
    void emit(F&& f) {
        for (auto& cb : callbacks_) f(cb);
    }

    std::shared_ptr<Objective> objective_;
    std::shared_ptr<ClassificationObjective> classification_;  // set when the objective is classification
    TrainingArguments args_;
    Rng dropout_rng_;
    std::vector<Var<float>*> params_;
    std::unique_ptr<AdamW<float>> optimizer_;
    TrainerState state_;
    std::vector<TrainerCallback> callbacks_;
    std::vector<EpochRow> epochs_;
    double log_loss_sum_ = 0;
    std::size_t log_steps_ = 0;
};

}  // namespace rgrid
