// BERT building blocks one at a time, so a slow training step can be pinned on a layer:
//
//   BM_Layer_Embeddings/{preset}/{B}/{T}         BertEmbeddings forward (word + position +
//                                                token type, LayerNorm, dropout) + backward
//   BM_Layer_EmbeddingLookup/{preset}/{B}/{T}    ops::embedding alone (gather + scatter-add)
//   BM_Layer_Encoder/{preset}/{B}/{T}            one BertLayer forward + backward (train mode)
//   BM_Layer_EncoderForward/{preset}/{B}/{T}     one BertLayer forward, eval, NoGradGuard
//
// The ops inside (attention, layer_norm, gelu, softmax) have their own benchmarks in
// bench_ops.cpp. Counters: items = tokens, GFLOP/s (bert_flops.hpp; embeddings do no
// matrix products, so they report bytes/s of the (B, T, H) output instead).
// Threads: RGRID_BENCH_THREADS (default 2).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "bert_flops.hpp"
#include "rgrid/autograd/ops.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/nn/bert.hpp"

using namespace rgrid;

namespace {

std::size_t bench_threads() {
    const char* s = std::getenv("RGRID_BENCH_THREADS");
    return s ? static_cast<std::size_t>(std::strtoul(s, nullptr, 10)) : 2;
}

Tensor<float> random_normal(const Shape& s, Rng& rng) {
    Tensor<float> t = Tensor<float>::from_shape(s);
    for (auto& v : t) v = rng.normal<float>();
    return t;
}

IndexTensor random_ids(std::size_t B, std::size_t T, std::size_t vocab, Rng& rng) {
    IndexTensor ids = IndexTensor::from_shape({B, T});
    for (auto& v : ids) v = static_cast<std::int64_t>(rng.below(vocab));
    return ids;
}

void set_tokens(benchmark::State& st, std::size_t tokens) {
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * tokens));
}
void set_gflops(benchmark::State& st, double flops_per_iter) {
    st.counters["GFLOP/s"] = benchmark::Counter(flops_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// The timed loop of the forward+backward benchmarks: drop old gradients, run forward,
// backpropagate `seed` (an upstream gradient of the output's shape), keep `observed` alive.
template <class Zero, class Forward, class Observed>
void fwd_bwd_loop(benchmark::State& st, const Tensor<float>& seed, Zero zero_grads, Forward forward, Observed observed) {
    for (auto _ : st) {
        zero_grads();
        Var<float> out = forward();
        backward(out, &seed);
        benchmark::DoNotOptimize(observed());
    }
}

void set_embedding_counters(benchmark::State& st, std::size_t tokens, std::size_t hidden) {
    set_tokens(st, tokens);
    st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * tokens * hidden * sizeof(float)));
}

void BM_Layer_Embeddings(benchmark::State& st, std::string preset, std::size_t B, std::size_t T) {
    set_num_threads(bench_threads());
    const BertConfig cfg = BertConfig::preset(preset);
    Rng rng(0);
    BertEmbeddings<float> emb(cfg, rng);
    emb.train();
    const IndexTensor ids = random_ids(B, T, cfg.vocab_size, rng);
    IndexTensor types = IndexTensor::from_shape({B, T});
    types.fill(0);
    const Tensor<float> seed = random_normal({B, T, cfg.hidden_size}, rng);  // upstream gradient
    fwd_bwd_loop(
        st, seed, [&] { emb.zero_grad(); },
        [&] { return emb.forward(ids, types, rng); },  // (B, T, H)
        [&] { return emb.word_embeddings.weight.grad().data(); });
    set_embedding_counters(st, B * T, cfg.hidden_size);
}

void BM_Layer_EmbeddingLookup(benchmark::State& st, std::string preset, std::size_t B, std::size_t T) {
    set_num_threads(bench_threads());
    const BertConfig cfg = BertConfig::preset(preset);
    Rng rng(0);
    Var<float> weight(random_normal({cfg.vocab_size, cfg.hidden_size}, rng), true);  // (V, H)
    const IndexTensor ids = random_ids(B, T, cfg.vocab_size, rng);
    const Tensor<float> seed = random_normal({B, T, cfg.hidden_size}, rng);
    fwd_bwd_loop(
        st, seed, [&] { weight.zero_grad(); }, [&] { return ops::embedding(weight, ids); },  // (B, T, H)
        [&] { return weight.grad().data(); });
    set_embedding_counters(st, B * T, cfg.hidden_size);
}

void BM_Layer_Encoder(benchmark::State& st, std::string preset, std::size_t B, std::size_t T) {
    set_num_threads(bench_threads());
    const BertConfig cfg = BertConfig::preset(preset);
    Rng rng(0);
    BertLayer<float> layer(cfg, rng);
    layer.train();
    Var<float> hidden(random_normal({B, T, cfg.hidden_size}, rng), true);  // (B, T, H), as from the layer below
    Tensor<float> mask = zeros<float>({B, T});                              // additive, no padding
    const Tensor<float> seed = random_normal({B, T, cfg.hidden_size}, rng);
    fwd_bwd_loop(
        st, seed,
        [&] {
            layer.zero_grad();
            hidden.zero_grad();
        },
        [&] { return layer.forward(hidden, mask, rng); },  // (B, T, H)
        [&] { return hidden.grad().data(); });
    set_tokens(st, B * T);
    set_gflops(st, 3.0 * bench::encoder_layer_flops({1, cfg.hidden_size, cfg.intermediate_size}, B, T));
}

void BM_Layer_EncoderForward(benchmark::State& st, std::string preset, std::size_t B, std::size_t T) {
    set_num_threads(bench_threads());
    const BertConfig cfg = BertConfig::preset(preset);
    Rng rng(0);
    BertLayer<float> layer(cfg, rng);
    layer.eval();
    Var<float> hidden(random_normal({B, T, cfg.hidden_size}, rng));  // (B, T, H)
    Tensor<float> mask = zeros<float>({B, T});
    NoGradGuard no_grad;
    for (auto _ : st) {
        Var<float> out = layer.forward(hidden, mask, rng);  // (B, T, H)
        benchmark::DoNotOptimize(out.data());
    }
    set_tokens(st, B * T);
    set_gflops(st, bench::encoder_layer_flops({1, cfg.hidden_size, cfg.intermediate_size}, B, T));
}

const bool registered = [] {
    using Fn = void (*)(benchmark::State&, std::string, std::size_t, std::size_t);
    struct Case {
        const char* preset;
        std::size_t B, T;
    };
    const Case cases[] = {{"mini", 8, 128}, {"base", 8, 128}, {"base", 8, 512}, {"base", 1, 128}};
    for (auto [name, fn] : {std::pair<const char*, Fn>{"BM_Layer_Embeddings", BM_Layer_Embeddings},
                            {"BM_Layer_EmbeddingLookup", BM_Layer_EmbeddingLookup},
                            {"BM_Layer_Encoder", BM_Layer_Encoder},
                            {"BM_Layer_EncoderForward", BM_Layer_EncoderForward}})
        for (Case c : cases)
            benchmark::RegisterBenchmark(
                (std::string(name) + "/" + c.preset + "/" + std::to_string(c.B) + "/" + std::to_string(c.T)).c_str(),
                fn, std::string(c.preset), c.B, c.T)
                ->Unit(benchmark::kMillisecond)->UseRealTime();
    return true;
}();

}  // namespace
