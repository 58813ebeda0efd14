#pragma once
// The Trainer's events, as optional std::function hooks: the training loop calls them and
// never prints or writes reports itself. The console output (train/report/console_reporter.hpp),
// metrics.jsonl and curves.svg (train/report/run_files.hpp) are all TrainerCallbacks, and so is
// a gradient all-reduce between processes (on_gradients).
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "rgrid/autograd/var.hpp"
#include "rgrid/train/evaluate.hpp"
#include "rgrid/train/report/epoch_table.hpp"
#include "rgrid/train/report/metrics_log.hpp"

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
    double best_f1 = -1;              // best validation score, weighted F1 (-1 without evaluation)
    std::size_t best_epoch = 0;
};

/// Counts shown when training starts ("windows vs documents").
struct TrainBegin {
    std::size_t train_documents = 0, train_windows = 0, train_long_docs = 0, train_capped_docs = 0;
    std::size_t val_documents = 0, val_windows = 0;
    std::size_t steps_per_epoch = 0, total_steps = 0, num_parameters = 0, start_step = 0;
    std::vector<double> class_weights;  // empty when off
};

/// Optional hooks; every member may be left empty. Callbacks run in the order they were added.
/// Example: `TrainerCallback cb; cb.on_evaluate = [](const EpochRow& r, const EvalReport&) { ... };`
struct TrainerCallback {
    std::function<void(const TrainBegin&)> on_train_begin;
    std::function<void(std::size_t epoch, std::size_t steps_in_epoch)> on_epoch_begin;  // epoch is 1-based
    /// Before the backward of each micro-batch; `last_micro_batch` says whether the optimizer
    /// step follows it (gradient accumulation: an all-reduce waits for the last, like DDP's no_sync).
    std::function<void(bool last_micro_batch)> on_backward_begin;
    /// After backward, before gradient clipping and the optimizer step: the place for an
    /// all-reduce of the gradients between processes (data parallelism). May change the grads.
    std::function<void(const std::vector<Var<float>*>& parameters)> on_gradients;
    std::function<void(std::size_t step_in_epoch, std::size_t steps_in_epoch, double running_loss)> on_step_end;
    std::function<void(const LogRecord&)> on_log;  // the same records as metrics.jsonl
    std::function<void(const EpochRow&, const EvalReport&)> on_evaluate;
    std::function<void(const std::string& dir, bool best)> on_save;
    std::function<void(const TrainOutput&)> on_train_end;
};

}  // namespace rgrid
