#pragma once
// TrainingArguments: the knobs of a fine-tuning run, named as in Hugging Face's
// TrainingArguments where one exists, plus the sliding-window settings.
// https://huggingface.co/docs/transformers/main_classes/trainer#transformers.TrainingArguments
#include <cstddef>
#include <cstdint>
#include <string>

#include "rgrid/core/error.hpp"
#include "rgrid/text/sliding_window.hpp"
#include "rgrid/train/aggregation.hpp"

namespace rgrid {

/// Everything Trainer needs to know about a run. Evaluation and saving happen every epoch
/// (HF `eval_strategy="epoch"`, `save_strategy="epoch"`); the best checkpoint by validation
/// weighted F1 goes to output_dir/best, the last to output_dir/last.
/// Example:
///   TrainingArguments args{.output_dir = "runs/x", .num_train_epochs = 3, .learning_rate = 1e-4,
///                          .max_length = 256, .stride = 64};
struct TrainingArguments {
    std::string output_dir;                       // best/, last/, metrics.jsonl, curves.svg
    std::size_t num_train_epochs = 3;
    std::size_t max_steps = 0;                    // > 0: this many optimizer steps, overriding num_train_epochs (HF)
    std::size_t per_device_train_batch_size = 16;
    std::size_t per_device_eval_batch_size = 32;
    std::size_t gradient_accumulation_steps = 1;  // micro-batches per optimizer step (HF; loss scaled by 1/N)
    double learning_rate = 5e-5;
    double warmup_ratio = 0.0;                    // share of all steps with linear warmup
    double weight_decay = 0.01;                   // not on biases and LayerNorm weights
    double max_grad_norm = 1.0;                   // global-norm clipping; 0 disables
    std::size_t max_length = 512;                 // window length incl. [CLS] and [SEP]
    std::size_t stride = 128;                     // overlap of consecutive windows
    std::size_t max_windows = 0;                  // per training document; 0 = all
    std::size_t eval_max_windows = 0;             // per evaluated document; 0 = all
    Aggregation aggregation = Aggregation::Mean;  // window logits → document logits
    std::uint64_t seed = 42;
    std::size_t threads = 0;                      // 0 = keep the current setting
    bool evaluate_each_epoch = true;
    bool save_each_epoch = true;
    std::size_t early_stopping_patience = 0;      // epochs without F1 gain before stopping; 0 = off
    bool class_weights = false;                   // weight the loss by n / (K · count_k), from training documents
    std::size_t logging_steps = 50;               // a metrics.jsonl line every N optimizer steps
    std::size_t bucket_batches = 50;              // length-bucket size in batches (1 = no bucketing)
    bool should_save = true;                      // HF: false on ranks > 0 of a distributed run (no
                                                  // checkpoints, metrics.jsonl or curves.svg there)

    /// Throws rgrid::Error naming the first invalid field.
    void validate() const {
        RGRID_CHECK(!output_dir.empty(), "TrainingArguments: output_dir is empty");
        RGRID_CHECK(num_train_epochs > 0, "TrainingArguments: num_train_epochs must be > 0");
        RGRID_CHECK(per_device_train_batch_size > 0, "TrainingArguments: per_device_train_batch_size must be > 0");
        RGRID_CHECK(gradient_accumulation_steps > 0, "TrainingArguments: gradient_accumulation_steps must be > 0");
        RGRID_CHECK(per_device_eval_batch_size > 0, "TrainingArguments: per_device_eval_batch_size must be > 0");
        RGRID_CHECK(learning_rate > 0, "TrainingArguments: learning_rate must be > 0, got ", learning_rate);
        RGRID_CHECK(warmup_ratio >= 0 && warmup_ratio <= 1, "TrainingArguments: warmup_ratio must be in [0, 1], got ",
                    warmup_ratio);
        RGRID_CHECK(weight_decay >= 0, "TrainingArguments: weight_decay must be >= 0, got ", weight_decay);
        RGRID_CHECK(max_grad_norm >= 0, "TrainingArguments: max_grad_norm must be >= 0, got ", max_grad_norm);
        train_window().validate();  // max_length, stride
        RGRID_CHECK(logging_steps > 0, "TrainingArguments: logging_steps must be > 0");
    }
    /// The window settings for training.
    SlidingWindow train_window() const { return SlidingWindow{max_length, stride, max_windows}; }
    /// The window settings for evaluation and prediction.
    SlidingWindow eval_window() const { return SlidingWindow{max_length, stride, eval_max_windows}; }
};

}  // namespace rgrid
