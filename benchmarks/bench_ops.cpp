// Autograd ops at BERT shapes (B=8, T=128; H=768 base / 256 mini): the fused op next to a
// naive reference composed of smaller ops where that is cheap to write. Items = tokens.
// Run: build/bin/bench_ops [--benchmark_filter=Attention]
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "rgrid/autograd/ops.hpp"

using namespace rgrid;

namespace {
Tensor<float> random(Shape s, std::uint64_t seed, float std = 1.f) {
    Rng rng(seed);
    Tensor<float> t = empty<float>(s);
    for (auto& v : t) v = rng.normal<float>(0.f, std);
    return t;
}
Tensor<float> ones_like_shape(const Var<float>& y) { return full<float>(shape_of(y.value()), 1.f); }
// Threads for rgrid loops and OpenBLAS: RGRID_THREADS (default: all cores).
void use_threads() {
    static const char* env = std::getenv("RGRID_THREADS");
    if (env) set_num_threads(static_cast<std::size_t>(std::atoi(env)));
}
std::size_t arg(benchmark::State& st, int i) {
    if (i == 0) use_threads();
    return static_cast<std::size_t>(st.range(i));
}
void tokens(benchmark::State& st, std::size_t n) { st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * n)); }

// Attention padding mask: the last quarter of batch rows' keys masked (typical padding).
Tensor<float> pad_mask(std::size_t B, std::size_t T) {
    Tensor<float> m = zeros<float>({B, T});
    for (std::size_t b = 0; b < B; b += 2)
        for (std::size_t j = 3 * T / 4; j < T; ++j) m(b, j) = -10000.f;
    return m;
}

// Fused attention, forward + backward, with attention-probs dropout 0.1 like BERT training.
void BM_Attention_FusedFwdBwd(benchmark::State& st) {
    const std::size_t B = arg(st, 0), T = arg(st, 1), H = arg(st, 2), NH = arg(st, 3);
    Var<float> q(random({B, T, H}, 1, .3f), true), k(random({B, T, H}, 2, .3f), true), v(random({B, T, H}, 3), true);
    auto mask = pad_mask(B, T);
    Rng rng(1);
    for (auto _ : st) {
        auto y = ops::attention(q, k, v, mask, NH, 0.1f, &rng);
        auto seed = ones_like_shape(y);
        backward(y, &seed);
        benchmark::DoNotOptimize(q.grad().data());
    }
    tokens(st, B * T);
}
// The same computation composed from reshape/permute/matmul/add/softmax/dropout ops.
void BM_Attention_ComposedFwdBwd(benchmark::State& st) {
    const std::size_t B = arg(st, 0), T = arg(st, 1), H = arg(st, 2), NH = arg(st, 3), HS = H / NH;
    Var<float> q(random({B, T, H}, 1, .3f), true), k(random({B, T, H}, 2, .3f), true), v(random({B, T, H}, 3), true);
    Var<float> mask(reshaped(pad_mask(B, T), {B, 1, 1, T}));
    Rng rng(1);
    for (auto _ : st) {
        auto heads = [&](const Var<float>& x) { return ops::permute(ops::reshape(x, {B, T, NH, HS}), {0, 2, 1, 3}); };
        auto kt = ops::permute(ops::reshape(k, {B, T, NH, HS}), {0, 2, 3, 1});                  // (B,NH,HS,T)
        auto s = ops::add(ops::scale(ops::matmul(heads(q), kt), 1.f / std::sqrt(float(HS))), mask);  // (B,NH,T,T)
        auto p = ops::dropout(ops::softmax(s), 0.1f, rng);
        auto ctx = ops::reshape(ops::permute(ops::matmul(p, heads(v)), {0, 2, 1, 3}), {B, T, H});
        auto seed = ones_like_shape(ctx);
        backward(ctx, &seed);
        benchmark::DoNotOptimize(q.grad().data());
    }
    tokens(st, B * T);
}
BENCHMARK(BM_Attention_FusedFwdBwd)->ArgNames({"B", "T", "H", "NH"})->Args({8, 128, 768, 12})->Args({8, 128, 256, 4})
    ->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Attention_ComposedFwdBwd)->ArgNames({"B", "T", "H", "NH"})->Args({8, 128, 768, 12})->Args({8, 128, 256, 4})
    ->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_LayerNorm_FusedFwdBwd(benchmark::State& st) {
    const std::size_t B = arg(st, 0), T = arg(st, 1), H = arg(st, 2);
    Var<float> x(random({B, T, H}, 1), true), w(random({H}, 2), true), b(random({H}, 3), true);
    for (auto _ : st) {
        auto y = ops::layer_norm(x, w, b, 1e-12f);
        auto seed = ones_like_shape(y);
        backward(y, &seed);
        benchmark::DoNotOptimize(x.grad().data());
    }
    tokens(st, B * T);
}
// LayerNorm composed from elementwise ops with explicit per-row statistics (forward only:
// the naive one-op-per-step version; the fused op also does the backward above).
void BM_LayerNorm_NaiveFwd(benchmark::State& st) {
    const std::size_t B = arg(st, 0), T = arg(st, 1), H = arg(st, 2);
    auto x = random({B, T, H}, 1), w = random({H}, 2), b = random({H}, 3);
    for (auto _ : st) {
        Tensor<float> mean = xt::mean(x, {2}, xt::keep_dims);
        Tensor<float> c = x - mean;
        Tensor<float> var = xt::mean(c * c, {2}, xt::keep_dims);
        Tensor<float> y = c / xt::sqrt(var + 1e-12f) * w + b;
        benchmark::DoNotOptimize(y.data());
    }
    tokens(st, B * T);
}
BENCHMARK(BM_LayerNorm_FusedFwdBwd)->ArgNames({"B", "T", "H"})->Args({8, 128, 768})->Args({8, 128, 256})
    ->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LayerNorm_NaiveFwd)->ArgNames({"B", "T", "H"})->Args({8, 128, 768})->Args({8, 128, 256})
    ->UseRealTime()->Unit(benchmark::kMicrosecond);

// GELU on the intermediate activations (B, T, 4H).
void BM_Gelu_FwdBwd(benchmark::State& st) {
    const std::size_t B = arg(st, 0), T = arg(st, 1), I = arg(st, 2);
    Var<float> x(random({B, T, I}, 1), true);
    for (auto _ : st) {
        auto y = ops::gelu(x);
        auto seed = ones_like_shape(y);
        backward(y, &seed);
        benchmark::DoNotOptimize(x.grad().data());
    }
    tokens(st, B * T);
}
void BM_Gelu_XtensorFwd(benchmark::State& st) {
    const std::size_t B = arg(st, 0), T = arg(st, 1), I = arg(st, 2);
    auto x = random({B, T, I}, 1);
    for (auto _ : st) {
        Tensor<float> y = 0.5f * x * (1.f + xt::erf(x * 0.70710678f));
        benchmark::DoNotOptimize(y.data());
    }
    tokens(st, B * T);
}
BENCHMARK(BM_Gelu_FwdBwd)->ArgNames({"B", "T", "I"})->Args({8, 128, 3072})->Args({8, 128, 1024})
    ->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Gelu_XtensorFwd)->ArgNames({"B", "T", "I"})->Args({8, 128, 3072})->Args({8, 128, 1024})
    ->UseRealTime()->Unit(benchmark::kMicrosecond);

// Softmax over attention-score rows (B, NH, T, T).
void BM_Softmax_FwdBwd(benchmark::State& st) {
    const std::size_t B = arg(st, 0), NH = arg(st, 1), T = arg(st, 2);
    Var<float> x(random({B, NH, T, T}, 1), true);
    for (auto _ : st) {
        auto y = ops::softmax(x);
        auto seed = ones_like_shape(y);
        backward(y, &seed);
        benchmark::DoNotOptimize(x.grad().data());
    }
    tokens(st, B * T);
}
void BM_Softmax_XtensorFwd(benchmark::State& st) {
    const std::size_t B = arg(st, 0), NH = arg(st, 1), T = arg(st, 2);
    auto x = random({B, NH, T, T}, 1);
    for (auto _ : st) {
        Tensor<float> e = xt::exp(x - xt::amax(x, {3}, xt::keep_dims));
        Tensor<float> y = e / xt::sum(e, {3}, xt::keep_dims);
        benchmark::DoNotOptimize(y.data());
    }
    tokens(st, B * T);
}
BENCHMARK(BM_Softmax_FwdBwd)->ArgNames({"B", "NH", "T"})->Args({8, 12, 128})->Args({8, 4, 128})
    ->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Softmax_XtensorFwd)->ArgNames({"B", "NH", "T"})->Args({8, 12, 128})->Args({8, 4, 128})
    ->UseRealTime()->Unit(benchmark::kMicrosecond);

// linear at the BERT FFN shape, forward + backward (three GEMMs and a bias reduction).
void BM_Linear_FwdBwd(benchmark::State& st) {
    const std::size_t N = arg(st, 0), in = arg(st, 1), out = arg(st, 2);
    Var<float> x(random({N, in}, 1), true), w(random({out, in}, 2, .02f), true), b(random({out}, 3), true);
    for (auto _ : st) {
        auto y = ops::linear(x, w, b);
        auto seed = ones_like_shape(y);
        backward(y, &seed);
        benchmark::DoNotOptimize(w.grad().data());
    }
    tokens(st, N);
}
BENCHMARK(BM_Linear_FwdBwd)->ArgNames({"N", "in", "out"})->Args({1024, 768, 3072})->Args({1024, 256, 1024})
    ->UseRealTime()->Unit(benchmark::kMillisecond);
}  // namespace
