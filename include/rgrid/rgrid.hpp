#pragma once
// The umbrella header: everything in rgrid except serve/ (which needs cpp-httplib:
// include "rgrid/serve/app.hpp" and link pkg-config cpp-httplib for the web app).
#include "rgrid/version.hpp"

// core/
#include "rgrid/core/allocator.hpp"
#include "rgrid/core/blas.hpp"
#include "rgrid/core/error.hpp"
#include "rgrid/core/int8_gemm.hpp"
#include "rgrid/core/json.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/core/tensor.hpp"

// autograd/
#include "rgrid/autograd/grad_check.hpp"
#include "rgrid/autograd/ops.hpp"
#include "rgrid/autograd/ops/attention.hpp"
#include "rgrid/autograd/ops/common.hpp"
#include "rgrid/autograd/ops/elementwise.hpp"
#include "rgrid/autograd/ops/fast_math.hpp"
#include "rgrid/autograd/ops/fused.hpp"
#include "rgrid/autograd/ops/linear.hpp"
#include "rgrid/autograd/ops/reduce.hpp"
#include "rgrid/autograd/ops/shape.hpp"
#include "rgrid/autograd/var.hpp"

// nn/
#include "rgrid/nn/bert.hpp"
#include "rgrid/nn/bert_config.hpp"
#include "rgrid/nn/dropout.hpp"
#include "rgrid/nn/embedding.hpp"
#include "rgrid/nn/init.hpp"
#include "rgrid/nn/layer_norm.hpp"
#include "rgrid/nn/linear.hpp"
#include "rgrid/nn/module.hpp"
#include "rgrid/nn/quantize.hpp"
#include "rgrid/nn/quantized_linear.hpp"

// optim/
#include "rgrid/optim/adamw.hpp"
#include "rgrid/optim/clip_grad.hpp"
#include "rgrid/optim/schedule.hpp"

// text/
#include "rgrid/text/basic_tokenizer.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/text/chartable.hpp"
#include "rgrid/text/encoding.hpp"
#include "rgrid/text/sliding_window.hpp"
#include "rgrid/text/unicode.hpp"
#include "rgrid/text/vocab.hpp"
#include "rgrid/text/wordpiece.hpp"

// data/
#include "rgrid/data/batcher.hpp"
#include "rgrid/data/clean.hpp"
#include "rgrid/data/csv.hpp"
#include "rgrid/data/dataset.hpp"
#include "rgrid/data/eda.hpp"
#include "rgrid/data/eda_html.hpp"
#include "rgrid/data/mlm_collator.hpp"
#include "rgrid/data/split.hpp"
#include "rgrid/data/text_corpus.hpp"
#include "rgrid/data/text_blocks.hpp"
#include "rgrid/data/utf8.hpp"

// io/
#include "rgrid/io/atomic_file.hpp"
#include "rgrid/io/pretrained.hpp"
#include "rgrid/io/quantized.hpp"
#include "rgrid/io/safetensors.hpp"

// train/
#include "rgrid/train/aggregation.hpp"
#include "rgrid/train/callback.hpp"
#include "rgrid/train/classification_objective.hpp"
#include "rgrid/train/evaluate.hpp"
#include "rgrid/train/metrics.hpp"
#include "rgrid/train/mlm_objective.hpp"
#include "rgrid/train/predictor.hpp"
#include "rgrid/train/trainer.hpp"
#include "rgrid/train/training_arguments.hpp"
#include "rgrid/train/training_state.hpp"

// train/report/ (presentation: callbacks attached to a Trainer)
#include "rgrid/train/report/console_reporter.hpp"
#include "rgrid/train/report/curve_svg.hpp"
#include "rgrid/train/report/epoch_table.hpp"
#include "rgrid/train/report/metrics_log.hpp"
#include "rgrid/train/report/progress_bar.hpp"
#include "rgrid/train/report/run_files.hpp"
