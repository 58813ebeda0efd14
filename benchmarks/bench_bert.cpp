// Whole-model BERT benchmarks: a fine-tuning step and inference per preset, the work the
// peers in benchmarks/peers/ (torch_bert.py, ort_bert.js) do, compared by compare.sh.
//
//   BM_Bert_TrainStep/{preset}/{B}/{T}  zero_grad + forward (train mode: dropout 0.1 as
//                                       configured) + cross-entropy + backward + AdamW step
//                                       (HF decay groups, weight decay 0.01)
//   BM_Bert_Inference/{preset}/{B}/{T}  forward in eval mode under NoGradGuard
//   BM_Bert_MlmStep/{shape}/{B}/{T}     masked-LM pretraining step of BertForMaskedLM (shape
//                                       mini or minilm: 6 layers/384 hidden/12 heads, MiniLM's):
//                                       zero_grad + forward (train mode) with labels at the
//                                       fixed positions t % 20 in {3, 10, 17} (14.8% at T = 128,
//                                       as benchmarks/peers/torch_mlm.py), [MASK] there; the head
//                                       decodes only those rows + backward + AdamW step
//
// Counters: items = tokens (tokens/s), GFLOP/s from bert_flops.hpp (matrix-product work;
// ×3 for a step), peak_rss_MB = the process's ru_maxrss after the benchmark (run one case
// per process to read a case's peak, as compare.sh does), cpu_s/iter (all threads) and
// minflt/iter (minor page faults) over the timed iterations. One untimed step/forward runs
// first, so AdamW's moments exist and the timed iterations are the steady state.
// Threads: RGRID_BENCH_THREADS (default 2), for rgrid's loops and OpenBLAS alike.
//
//   build-perf/bin/bench_bert --benchmark_filter='TrainStep/base/8/128$'
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "bert_flops.hpp"
#include "rgrid/autograd/ops.hpp"
#include "rgrid/core/allocator.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/nn/quantize.hpp"
#include "rgrid/optim/adamw.hpp"

using namespace rgrid;

namespace {

std::size_t bench_threads() {
    const char* s = std::getenv("RGRID_BENCH_THREADS");
    return s ? static_cast<std::size_t>(std::strtoul(s, nullptr, 10)) : 2;
}

bench::BertShape shape_of(const BertConfig& c) {
    return {c.num_hidden_layers, c.hidden_size, c.intermediate_size, c.num_labels()};
}

// A full-length batch (no padding), as the peers use: ids uniform over the vocabulary,
// token types 0, mask 1, labels uniform over the classes.
struct Batch {
    IndexTensor input_ids, token_type_ids, attention_mask, labels;
};
Batch make_batch(const BertConfig& c, std::size_t B, std::size_t T, Rng& rng) {
    Batch b{IndexTensor::from_shape({B, T}), IndexTensor::from_shape({B, T}), IndexTensor::from_shape({B, T}),
            IndexTensor::from_shape({B})};
    for (auto& v : b.input_ids) v = static_cast<std::int64_t>(rng.below(c.vocab_size));
    b.token_type_ids.fill(0);
    b.attention_mask.fill(1);
    for (auto& v : b.labels) v = static_cast<std::int64_t>(rng.below(c.num_labels()));
    return b;
}

// BertConfig::preset's sizes, plus "minilm": all-MiniLM-L6-v2's (6 layers, hidden 384, 12
// heads of 32, intermediate 1536, the BERT vocabulary), the model the fine-tuning job starts from.
BertConfig bench_config(const std::string& preset) {
    if (preset != "minilm") return BertConfig::preset(preset);
    BertConfig c = BertConfig::preset("base");
    c.num_hidden_layers = 6;
    c.hidden_size = 384;
    c.num_attention_heads = 12;
    c.intermediate_size = 1536;
    return c;
}

// Google Benchmark calls a benchmark function several times (to pick the iteration
// count); building BERT-base (110M normal draws) each time would dominate the run, so each
// function keeps one model per preset. Its weights drift with AdamW steps: speed does not care.
BertForSequenceClassification<float>& cached_model(const std::string& preset, bool training) {
    static std::map<std::pair<std::string, bool>, std::unique_ptr<BertForSequenceClassification<float>>> cache;
    auto& m = cache[{preset, training}];
    if (!m) {
        Rng rng(0);
        m = std::make_unique<BertForSequenceClassification<float>>(bench_config(preset), rng);
    }
    m->train(training);
    return *m;
}

// Process-wide CPU time and minor page faults: per iteration they show threads burning CPU
// while others wait (cpu_s/iter above the wall time x 1 thread) and buffers being allocated
// afresh each step (minflt/iter: every new large block is mapped and zero-filled by the kernel).
struct Usage {
    double cpu_s;
    double minflt;
};
Usage usage_now() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto sec = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
    return {sec(ru.ru_utime) + sec(ru.ru_stime), double(ru.ru_minflt)};
}

void set_counters(benchmark::State& st, double flops_per_iter, std::size_t tokens_per_iter, const Usage& before) {
    st.counters["GFLOP/s"] = benchmark::Counter(flops_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * tokens_per_iter));
    const Usage after = usage_now();
    const double n = double(std::max<benchmark::IterationCount>(st.iterations(), 1));
    st.counters["cpu_s/iter"] = (after.cpu_s - before.cpu_s) / n;
    st.counters["minflt/iter"] = (after.minflt - before.minflt) / n;
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    st.counters["peak_rss_MB"] = double(ru.ru_maxrss) / 1024.0;  // ru_maxrss is KiB on Linux
}

void BM_Bert_TrainStep(benchmark::State& st, std::string preset, std::size_t B, std::size_t T) {
    set_num_threads(bench_threads());
    BertForSequenceClassification<float>& model = cached_model(preset, true);
    const BertConfig& cfg = model.config();
    Rng rng(1);
    AdamW<float> opt(decay_groups(model.named_parameters(), 0.01), {.lr = 2e-5});
    Batch b = make_batch(cfg, B, T, rng);
    auto step = [&] {
        model.zero_grad();
        Var<float> logits = model.forward(b.input_ids, b.token_type_ids, b.attention_mask);  // (B, K)
        Var<float> loss = ops::cross_entropy(logits, b.labels);
        backward(loss);
        opt.step();
        return loss;
    };
    step();  // warm-up: AdamW state, first-touch allocations
    const Usage before = usage_now();
    for (auto _ : st) {
        Var<float> loss = step();
        benchmark::DoNotOptimize(loss.data());
    }
    set_counters(st, bench::bert_train_step_flops(shape_of(cfg), B, T), B * T, before);
}

void BM_Bert_Inference(benchmark::State& st, std::string preset, std::size_t B, std::size_t T) {
    set_num_threads(bench_threads());
    BertForSequenceClassification<float>& model = cached_model(preset, false);
    const BertConfig& cfg = model.config();
    Rng rng(1);
    Batch b = make_batch(cfg, B, T, rng);
    // As Predictor (rgrid-predict, rgrid-serve) runs it: weights packed once for the GEMM where
    // rgrid's AVX-512 kernel is in use; RGRID_BENCH_UNPACKED=1 measures the unpacked forward.
    const char* unpacked = std::getenv("RGRID_BENCH_UNPACKED");
    const std::size_t packed = unpacked && std::string(unpacked) == "1" ? 0 : pack_for_inference(model);
    NoGradGuard no_grad;
    auto forward = [&] { return model.forward(b.input_ids, b.token_type_ids, b.attention_mask); };  // (B, K)
    forward();  // warm-up
    const Usage before = usage_now();
    for (auto _ : st) {
        Var<float> logits = forward();
        benchmark::DoNotOptimize(logits.data());
    }
    set_counters(st, bench::bert_forward_flops(shape_of(cfg), B, T), B * T, before);
    st.counters["packed_linears"] = static_cast<double>(packed);
    unpack_for_inference(model);
}

// ---- masked-LM pretraining step (issue 15) --------------------------------------------

// mini (BertConfig::preset) or minilm (all-MiniLM-L6-v2's sizes); vocab 30522.
BertConfig mlm_shape(const std::string& shape) {
    if (shape != "minilm") return BertConfig::preset(shape);
    BertConfig c;
    c.num_hidden_layers = 6;
    c.hidden_size = 384;
    c.num_attention_heads = 12;
    c.intermediate_size = 1536;
    return c;
}
BertForMaskedLM<float>& cached_mlm(const std::string& shape) {
    static std::map<std::string, std::unique_ptr<BertForMaskedLM<float>>> cache;
    auto& m = cache[shape];
    if (!m) {
        Rng rng(0);
        m = std::make_unique<BertForMaskedLM<float>>(mlm_shape(shape), rng);
    }
    m->train();
    return *m;
}

void BM_Bert_MlmStep(benchmark::State& st, std::string shape, std::size_t B, std::size_t T) {
    set_num_threads(bench_threads());
    BertForMaskedLM<float>& model = cached_mlm(shape);
    const BertConfig& cfg = model.config();
    Rng rng(1);
    AdamW<float> opt(decay_groups(model.named_parameters(), 0.01), {.lr = 5e-5});
    Batch b = make_batch(cfg, B, T, rng);
    IndexTensor labels = IndexTensor::from_shape({B, T});
    std::size_t chosen = 0;
    for (std::size_t i = 0; i < B * T; ++i) {
        const std::size_t t = i % T;
        const bool pick = t % 20 == 3 || t % 20 == 10 || t % 20 == 17;
        labels.data()[i] = pick ? b.input_ids.data()[i] : -100;
        if (pick) b.input_ids.data()[i] = 103, ++chosen;  // [MASK] of the bert-base-uncased vocabulary
    }
    auto step = [&] {
        model.zero_grad();
        MaskedLmOutput<float> out = model.forward(b.input_ids, b.token_type_ids, b.attention_mask, labels);  // (N, V)
        backward(out.loss);
        opt.step();
        return out.loss;
    };
    step();  // warm-up
    const Usage before = usage_now();
    for (auto _ : st) {
        Var<float> loss = step();
        benchmark::DoNotOptimize(loss.data());
    }
    set_counters(st, bench::mlm_train_step_flops(shape_of(cfg), B, T, chosen, cfg.vocab_size), B * T, before);
    st.counters["chosen"] = double(chosen);
}

// The cases issue 9 names (and a few more for the scaling table in docs/performance.md).
const bool registered = [] {
    rgrid::tune_allocator();  // as rgrid's programs do: keep freed buffers for the next step
    struct Case {
        const char* preset;
        std::size_t B, T;
    };
    for (Case c : {Case{"mini", 8, 128}, Case{"base", 8, 128}, Case{"base", 8, 512}, Case{"mini", 8, 64},
                   Case{"mini", 8, 256}, Case{"mini", 8, 512}, Case{"mini", 16, 128}, Case{"mini", 32, 128},
                   Case{"minilm", 8, 128}, Case{"minilm", 16, 256}})
        benchmark::RegisterBenchmark(
            ("BM_Bert_TrainStep/" + std::string(c.preset) + "/" + std::to_string(c.B) + "/" + std::to_string(c.T)).c_str(),
            BM_Bert_TrainStep, std::string(c.preset), c.B, c.T)
            ->Unit(benchmark::kMillisecond)->UseRealTime();
    for (Case c : {Case{"mini", 8, 128}, Case{"minilm", 8, 128}})
        benchmark::RegisterBenchmark(
            ("BM_Bert_MlmStep/" + std::string(c.preset) + "/" + std::to_string(c.B) + "/" + std::to_string(c.T)).c_str(),
            BM_Bert_MlmStep, std::string(c.preset), c.B, c.T)
            ->Unit(benchmark::kMillisecond)->UseRealTime();
    for (Case c : {Case{"mini", 1, 128}, Case{"mini", 1, 512}, Case{"base", 1, 128}, Case{"base", 1, 512},
                   Case{"base", 32, 128}, Case{"mini", 32, 128}, Case{"mini", 1, 32}, Case{"mini", 1, 256},
                   Case{"base", 1, 32}, Case{"base", 1, 256}, Case{"minilm", 1, 128}, Case{"minilm", 1, 512},
                   Case{"minilm", 32, 128}})
        benchmark::RegisterBenchmark(
            ("BM_Bert_Inference/" + std::string(c.preset) + "/" + std::to_string(c.B) + "/" + std::to_string(c.T)).c_str(),
            BM_Bert_Inference, std::string(c.preset), c.B, c.T)
            ->Unit(benchmark::kMillisecond)->UseRealTime();
    return true;
}();

}  // namespace
