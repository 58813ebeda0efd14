#pragma once
// Trainer: Hugging Face Trainer semantics for BERT sequence classification on CPU, with
// sliding windows. Training: every window of a training document is a sample carrying the
// document's label. Evaluation: window logits are aggregated per document (Predictor's code
// path) and metrics are computed on documents. Each epoch: evaluate, append to
// metrics.jsonl, redraw curves.svg, save DIR/last (model + training_state.safetensors) and,
// when validation weighted F1 improves, DIR/best. Early stopping by patience.
// The library never prints: progress goes to TrainerCallback functions (ConsoleReporter
// in train/console_reporter.hpp writes HF-style output to a stream the program supplies).
// https://huggingface.co/docs/transformers/main_classes/trainer
// Legend: B batch (windows), T tokens, K labels.
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rgrid/autograd/ops.hpp"
#include "rgrid/autograd/var.hpp"
#include "rgrid/core/error.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/data/batcher.hpp"
#include "rgrid/data/dataset.hpp"
#include "rgrid/io/pretrained.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/optim/adamw.hpp"
#include "rgrid/optim/clip_grad.hpp"
#include "rgrid/optim/schedule.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/train/curve_svg.hpp"
#include "rgrid/train/epoch_table.hpp"
#include "rgrid/train/evaluate.hpp"
#include "rgrid/train/metrics.hpp"
#include "rgrid/train/metrics_log.hpp"
#include "rgrid/train/predictor.hpp"
#include "rgrid/train/training_arguments.hpp"
#include "rgrid/train/training_state.hpp"

namespace rgrid {

/// What train() returns (HF's TrainOutput + metrics).
struct TrainOutput {
    std::size_t global_step = 0;
    double training_loss = 0;        // mean loss over all optimizer steps
    double train_runtime = 0;        // seconds
    double train_samples_per_second = 0;  // windows per second
    double train_steps_per_second = 0;
    std::size_t epochs_run = 0;
    bool early_stopped = false;
    double best_f1 = -1;              // best validation weighted F1 (-1 without evaluation)
    std::size_t best_epoch = 0;
};

/// Counts shown when training starts ("windows vs documents").
struct TrainBegin {
    std::size_t train_documents = 0, train_windows = 0, train_long_docs = 0, train_capped_docs = 0;
    std::size_t val_documents = 0, val_windows = 0;
    std::size_t steps_per_epoch = 0, total_steps = 0, num_parameters = 0, start_step = 0;
    std::vector<double> class_weights;  // empty when off
};

/// Optional hooks; every member may be left empty.
struct TrainerCallback {
    std::function<void(const TrainBegin&)> on_train_begin;
    std::function<void(std::size_t epoch, std::size_t steps_in_epoch)> on_epoch_begin;  // epoch is 1-based
    std::function<void(std::size_t step_in_epoch, std::size_t steps_in_epoch, double running_loss)> on_step_end;
    std::function<void(const LogRecord&)> on_log;  // the same records as metrics.jsonl
    std::function<void(const EpochRow&, const EvalReport&)> on_evaluate;
    std::function<void(const std::string& dir, bool best)> on_save;
    std::function<void(const TrainOutput&)> on_train_end;
};

/// Fine-tunes a BertForSequenceClassification on a labelled Dataset.
/// Example:
///   auto model = std::make_shared<BertForSequenceClassification<float>>(cfg, rng);
///   Trainer trainer(model, tokenizer, "vocab.txt", args, train_ds, val_ds);
///   trainer.add_callback(console_reporter(std::cout));
///   TrainOutput out = trainer.train();
///   EvalReport test = trainer.evaluate(test_ds);
class Trainer {
public:
    using Model = BertForSequenceClassification<float>;

    /// `val` may be empty when `args.evaluate_each_epoch` is false. Labels of both sets must be
    /// among the model's id2label (checked here, naming the label).
    /// `vocab_path` is the tokenizer's vocab.txt, copied into every checkpoint.
    Trainer(std::shared_ptr<Model> model, std::shared_ptr<const BertTokenizer> tokenizer, std::string vocab_path,
            TrainingArguments args, const Dataset& train, const Dataset& val)
        : model_(std::move(model)), tokenizer_(std::move(tokenizer)), vocab_path_(std::move(vocab_path)),
          args_(std::move(args)),
          predictor_(model_, tokenizer_,
                     PredictorOptions{args_.eval_window(), args_.aggregation, args_.per_device_eval_batch_size}),
          dropout_rng_(Rng(args_.seed).fork(0xD0)) {
        args_.validate();
        RGRID_CHECK(!train.examples.empty(), "Trainer: the training set is empty (no rows to learn from)");
        RGRID_CHECK(!args_.evaluate_each_epoch || !val.examples.empty(),
                    "Trainer: the validation set is empty but evaluate_each_epoch is on");
        RGRID_CHECK(args_.max_length <= model_->config().max_position_embeddings, "Trainer: max_length ",
                    args_.max_length, " exceeds the model's max_position_embeddings ",
                    model_->config().max_position_embeddings);
        if (args_.threads > 0) set_num_threads(args_.threads);
        const auto& names = model_->config().id2label;
        train_labels_ = label_ids_for(train, names, "training");
        val_labels_ = label_ids_for(val, names, "validation");
        train_docs_ = make_windows(*tokenizer_, texts_of(train), train_labels_, args_.train_window());
        val_docs_ = make_windows(*tokenizer_, texts_of(val), val_labels_, args_.eval_window());
        if (args_.class_weights) {
            std::vector<std::size_t> counts(names.size(), 0);
            for (auto l : train_labels_) ++counts[l];
            class_weights_ = Tensor<float>::from_shape({names.size()});
            for (std::size_t k = 0; k < names.size(); ++k)  // sklearn "balanced": n / (K · n_k)
                class_weights_(k) = counts[k] ? float(double(train_labels_.size()) / double(names.size() * counts[k])) : 0.f;
        }
    }

    void add_callback(TrainerCallback cb) { callbacks_.push_back(std::move(cb)); }

    /// Runs the whole training (or continues it after resume_from()).
    TrainOutput train() {
        namespace fs = std::filesystem;
        fs::create_directories(args_.output_dir);
        Batcher batcher(train_docs_.windows,
                        BatcherOptions{.batch_size = args_.per_device_train_batch_size, .shuffle = true,
                                       .seed = args_.seed, .bucket_batches = args_.bucket_batches,
                                       .pad_id = tokenizer_->vocab().pad_id()});
        const std::size_t steps_per_epoch = batcher.num_batches();
        const std::size_t total_steps = steps_per_epoch * args_.num_train_epochs;
        const auto warmup = static_cast<std::size_t>(std::ceil(args_.warmup_ratio * double(total_steps)));
        LinearSchedule schedule(std::min(warmup, total_steps), total_steps);
        if (!optimizer_)
            optimizer_ = std::make_unique<AdamW<float>>(
                decay_groups(model_->named_parameters(), args_.weight_decay),
                AdamWOptions{.lr = args_.learning_rate, .weight_decay = args_.weight_decay});
        MetricsLog log(args_.output_dir + "/metrics.jsonl", /*truncate=*/state_.global_step == 0);

        TrainBegin begin{train_docs_.num_docs, train_docs_.windows.size(), train_docs_.long_docs,
                         train_docs_.capped_docs, val_docs_.num_docs, val_docs_.windows.size(), steps_per_epoch,
                         total_steps, model_->num_parameters(), state_.global_step, {}};
        if (args_.class_weights) begin.class_weights.assign(class_weights_.begin(), class_weights_.end());
        emit([&](auto& cb) { if (cb.on_train_begin) cb.on_train_begin(begin); });

        const auto params = model_->parameters();
        const Tensor<float>* cw = args_.class_weights ? &class_weights_ : nullptr;
        const auto t0 = std::chrono::steady_clock::now();
        const std::size_t start_step = state_.global_step;
        TrainOutput out;
        model_->train();
        for (std::size_t epoch = state_.epoch; epoch < args_.num_train_epochs && !state_.stop; ++epoch) {
            const auto plan = batcher.plan(epoch);
            emit([&](auto& cb) { if (cb.on_epoch_begin) cb.on_epoch_begin(epoch + 1, plan.size()); });
            for (std::size_t b = state_.batch_in_epoch; b < plan.size(); ++b) {
                Batch batch = batcher.make_batch(plan[b]);
                Var<float> logits = model_->forward(batch.input_ids, batch.token_type_ids, batch.attention_mask,
                                                    dropout_rng_);  // (B, K)
                Var<float> loss = ops::cross_entropy(logits, batch.labels, cw);
                const double lv = loss.value()();
                RGRID_CHECK(std::isfinite(lv), "Trainer: non-finite loss ", lv, " at step ", state_.global_step + 1,
                            " (epoch ", epoch + 1, ", batch ", b + 1, "); lower the learning rate");
                backward(loss);
                double grad_norm = NAN;
                if (args_.max_grad_norm > 0) grad_norm = clip_grad_norm(params, args_.max_grad_norm);
                RGRID_CHECK(args_.max_grad_norm <= 0 || std::isfinite(grad_norm), "Trainer: non-finite gradient norm ",
                            grad_norm, " at step ", state_.global_step + 1, " (epoch ", epoch + 1, ", batch ", b + 1,
                            "); lower the learning rate");
                const double lr_mult = schedule(state_.global_step);
                optimizer_->set_lr_multiplier(lr_mult);
                optimizer_->step();
                model_->zero_grad();
                ++state_.global_step;
                state_.batch_in_epoch = b + 1;
                state_.loss_sum += lv;
                state_.epoch_loss_sum += lv;
                state_.epoch_steps += 1;
                log_loss_sum_ += lv;
                ++log_steps_;
                emit([&](auto& cb) {
                    if (cb.on_step_end) cb.on_step_end(b + 1, plan.size(), state_.epoch_loss_sum / double(state_.epoch_steps));
                });
                if (state_.global_step % args_.logging_steps == 0) {
                    LogRecord rec{{"type", std::string("log")},
                                  {"step", std::int64_t(state_.global_step)},
                                  {"epoch", double(epoch) + double(b + 1) / double(plan.size())},
                                  {"loss", log_loss_sum_ / double(log_steps_)},
                                  {"learning_rate", args_.learning_rate * lr_mult},
                                  {"grad_norm", grad_norm}};
                    log.write(rec);
                    loss_curve_x_.push_back(double(state_.global_step));
                    loss_curve_y_.push_back(log_loss_sum_ / double(log_steps_));
                    log_loss_sum_ = 0;
                    log_steps_ = 0;
                    emit([&](auto& cb) { if (cb.on_log) cb.on_log(rec); });
                }
            }
            // ---- end of epoch: evaluate, log, save, early stopping
            const double train_loss = state_.epoch_steps ? state_.epoch_loss_sum / double(state_.epoch_steps) : NAN;
            state_.epoch = epoch + 1;
            state_.batch_in_epoch = 0;
            state_.epoch_loss_sum = 0;
            state_.epoch_steps = 0;
            out.epochs_run = epoch + 1;
            bool improved = false;
            EpochRow row{epoch + 1, train_loss, NAN, NAN, NAN, NAN, NAN};
            if (args_.evaluate_each_epoch) {
                EvalReport ev = evaluate_windows(predictor_, val_docs_, val_labels_);
                model_->train();
                row = {epoch + 1, train_loss, ev.loss, ev.accuracy, ev.weighted.precision, ev.weighted.recall,
                       ev.weighted.f1};
                LogRecord rec{{"type", std::string("eval")},     {"step", std::int64_t(state_.global_step)},
                              {"epoch", double(epoch + 1)},       {"train_loss", train_loss},
                              {"eval_loss", ev.loss},             {"eval_accuracy", ev.accuracy},
                              {"eval_precision", ev.weighted.precision}, {"eval_recall", ev.weighted.recall},
                              {"eval_f1", ev.weighted.f1},        {"eval_macro_f1", ev.macro.f1},
                              {"eval_runtime", ev.runtime}};
                log.write(rec);
                epochs_.push_back(row);
                emit([&](auto& cb) { if (cb.on_log) cb.on_log(rec); });
                emit([&](auto& cb) { if (cb.on_evaluate) cb.on_evaluate(row, ev); });
                if (ev.weighted.f1 > state_.best_f1) {
                    state_.best_f1 = ev.weighted.f1;
                    state_.best_epoch = epoch + 1;
                    state_.epochs_without_improvement = 0;
                    improved = true;
                } else {
                    ++state_.epochs_without_improvement;
                }
                if (args_.early_stopping_patience && state_.epochs_without_improvement >= args_.early_stopping_patience)
                    state_.stop = true;
                write_curves();
            }
            if (args_.save_each_epoch) {
                save_checkpoint(args_.output_dir + "/last", /*with_state=*/true);
                emit([&](auto& cb) { if (cb.on_save) cb.on_save(args_.output_dir + "/last", false); });
                if (improved || !args_.evaluate_each_epoch) {
                    save_checkpoint(args_.output_dir + "/best", /*with_state=*/false);
                    emit([&](auto& cb) { if (cb.on_save) cb.on_save(args_.output_dir + "/best", true); });
                }
            }
        }
        const double runtime = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const std::size_t steps_done = state_.global_step - start_step;
        out.global_step = state_.global_step;
        out.training_loss = state_.global_step ? state_.loss_sum / double(state_.global_step) : 0.0;
        out.train_runtime = runtime;
        out.train_steps_per_second = runtime > 0 ? double(steps_done) / runtime : 0;
        out.train_samples_per_second =
            runtime > 0 ? double(steps_done) * double(train_docs_.windows.size()) / double(std::max<std::size_t>(steps_per_epoch, 1)) / runtime
                        : 0;
        out.early_stopped = state_.stop;
        out.best_f1 = state_.best_f1;
        out.best_epoch = state_.best_epoch;
        log.write({{"type", std::string("train_summary")},
                   {"global_step", std::int64_t(out.global_step)},
                   {"training_loss", out.training_loss},
                   {"train_runtime", out.train_runtime},
                   {"train_samples_per_second", out.train_samples_per_second},
                   {"train_steps_per_second", out.train_steps_per_second},
                   {"best_eval_f1", out.best_f1},
                   {"best_epoch", std::int64_t(out.best_epoch)}});
        emit([&](auto& cb) { if (cb.on_train_end) cb.on_train_end(out); });
        return out;
    }

    /// Document-level evaluation of a labelled data set with the current weights.
    EvalReport evaluate(const Dataset& ds) { return rgrid::evaluate(predictor_, ds); }

    /// Writes `dir` as an HF-layout checkpoint (config.json, model.safetensors, vocab.txt,
    /// tokenizer_config.json) and, with `with_state`, training_state.safetensors.
    /// Writes the whole checkpoint into a sibling staging folder, then swaps it into place
    /// atomically: a kill at any moment leaves `dir` holding one complete save (weights,
    /// options and training state from the same step), never a mix of two.
    void save_checkpoint(const std::string& dir, bool with_state) const {
        const std::string staging = dir + ".saving";
        std::filesystem::remove_all(staging);  // leftovers of a save that was killed
        save_pretrained(*model_, staging, vocab_path_, tokenizer_->do_lower_case());
        save_predictor_options(staging, predictor_.options());
        if (with_state && optimizer_) save_training_state(staging + "/training_state.safetensors", *model_,
                                                          *optimizer_, state_, dropout_rng_, &args_);
        replace_directory_atomic(staging, dir);
    }

    /// Continues from DIR/last's training_state.safetensors (weights must already be loaded
    /// from the same directory): optimizer moments, step, epoch, position, RNG and best F1.
    void resume_from(const std::string& dir) {
        if (!optimizer_)
            optimizer_ = std::make_unique<AdamW<float>>(
                decay_groups(model_->named_parameters(), args_.weight_decay),
                AdamWOptions{.lr = args_.learning_rate, .weight_decay = args_.weight_decay});
        state_ = load_training_state(dir + "/training_state.safetensors", *model_, *optimizer_, dropout_rng_);
    }

    const TrainingArguments& args() const { return args_; }
    const TrainerState& state() const { return state_; }
    const WindowedDocs& train_windows() const { return train_docs_; }
    const WindowedDocs& val_windows() const { return val_docs_; }
    Predictor& predictor() { return predictor_; }
    const std::vector<EpochRow>& history() const { return epochs_; }

private:
    void write_curves() const {
        std::vector<double> ex, vl, tl, acc, f1;
        for (const auto& e : epochs_) {
            ex.push_back(double(e.epoch));
            tl.push_back(e.training_loss);
            vl.push_back(e.validation_loss);
            acc.push_back(e.accuracy);
            f1.push_back(e.f1);
        }
        write_curves_svg(args_.output_dir + "/curves.svg",
                         {{"Training loss (every " + std::to_string(args_.logging_steps) + " steps)", "step",
                           {{"train loss", loss_curve_x_, loss_curve_y_}}},
                          {"Loss per epoch", "epoch", {{"train loss", ex, tl}, {"validation loss", ex, vl}}},
                          {"Validation metrics (documents)", "epoch", {{"accuracy", ex, acc}, {"weighted F1", ex, f1}}}});
    }

    template <class F>
    void emit(F&& f) {
        for (auto& cb : callbacks_) f(cb);
    }

    std::shared_ptr<Model> model_;
    std::shared_ptr<const BertTokenizer> tokenizer_;
    std::string vocab_path_;
    TrainingArguments args_;
    Predictor predictor_;
    Rng dropout_rng_;
    std::vector<std::int64_t> train_labels_, val_labels_;
    WindowedDocs train_docs_, val_docs_;
    Tensor<float> class_weights_;
    std::unique_ptr<AdamW<float>> optimizer_;
    TrainerState state_;
    std::vector<TrainerCallback> callbacks_;
    std::vector<EpochRow> epochs_;
    std::vector<double> loss_curve_x_, loss_curve_y_;
    double log_loss_sum_ = 0;
    std::size_t log_steps_ = 0;
};

}  // namespace rgrid
