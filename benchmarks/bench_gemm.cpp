// GEMM at BERT shapes: the naive triple loop, gemm() (rgrid's AVX-512 kernel where it is the
// default, else cblas_sgemm) and gemm() forced onto cblas_sgemm, side by side.
// Reports GFLOP/s (counter) and items = multiply-adds. Run: build/bin/bench_gemm
#include <benchmark/benchmark.h>

#include "rgrid/core/blas.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/core/rng.hpp"

using namespace rgrid;

namespace {
Tensor<float> random(Shape s, std::uint64_t seed) {
    Rng rng(seed);
    Tensor<float> t = empty<float>(s);
    for (auto& v : t) v = rng.normal<float>();
    return t;
}

void set_flops(benchmark::State& st, double flops_per_iter) {
    st.counters["GFLOP/s"] = benchmark::Counter(flops_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// y (M, N) = x (M, K) · Wᵀ (W stored (N, K), as nn.Linear) — the projection shape of BERT.
void BM_Gemm_Linear(benchmark::State& st) {
    const auto M = static_cast<std::size_t>(st.range(0)), K = static_cast<std::size_t>(st.range(1)),
               N = static_cast<std::size_t>(st.range(2));
    set_num_threads(static_cast<std::size_t>(st.range(3)));
    auto x = random({M, K}, 1), w = random({N, K}, 2);
    Tensor<float> y = empty<float>({M, N});
    for (auto _ : st) {
        gemm(Trans::No, Trans::Yes, M, N, K, 1.f, x.data(), K, w.data(), K, 0.f, y.data(), N);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_flops(st, 2.0 * M * N * K);
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * M));  // tokens
    st.counters["kernel"] = static_cast<double>(sgemm_kernel() == SgemmKernel::Avx512);  // 1: rgrid's, 0: OpenBLAS
}
// Rows = B·T tokens: 8×128 = 1024. base: 768→768 (QKV/out), 768→3072, 3072→768; mini: 256→1024.
BENCHMARK(BM_Gemm_Linear)
    ->ArgNames({"M", "K", "N", "threads"})
    ->Args({1024, 768, 768, 1})->Args({1024, 768, 3072, 1})->Args({1024, 3072, 768, 1})
    ->Args({1024, 768, 768, 2})->Args({1024, 768, 3072, 2})->Args({1024, 3072, 768, 2})
    ->Args({1024, 256, 1024, 2})->Args({128, 768, 768, 2})
    ->UseRealTime()->Unit(benchmark::kMillisecond);

// The same products forced onto cblas_sgemm (OpenBLAS), for the ratio to rgrid's AVX-512 kernel
// in one run (core/sgemm_avx512.hpp; where gemm() already uses OpenBLAS the two rows agree).
void BM_Gemm_Linear_Blas(benchmark::State& st) {
    const SgemmKernel saved = sgemm_kernel();
    set_sgemm_kernel(SgemmKernel::Blas);
    BM_Gemm_Linear(st);
    set_sgemm_kernel(saved);
}
BENCHMARK(BM_Gemm_Linear_Blas)
    ->ArgNames({"M", "K", "N", "threads"})
    ->Args({1024, 768, 768, 1})->Args({1024, 768, 768, 2})->Args({1024, 768, 3072, 2})->Args({1024, 3072, 768, 2})
    ->Args({128, 768, 768, 2})
    ->UseRealTime()->Unit(benchmark::kMillisecond);

// The naive reference the optimized call replaces (kept small: it is slow).
void BM_Gemm_Naive(benchmark::State& st) {
    const auto M = static_cast<std::size_t>(st.range(0)), K = static_cast<std::size_t>(st.range(1)),
               N = static_cast<std::size_t>(st.range(2));
    auto x = random({M, K}, 1), w = random({N, K}, 2);
    Tensor<float> y = empty<float>({M, N});
    for (auto _ : st) {
        for (std::size_t i = 0; i < M; ++i)
            for (std::size_t j = 0; j < N; ++j) {
                float s = 0;
                for (std::size_t p = 0; p < K; ++p) s += x.data()[i * K + p] * w.data()[j * K + p];
                y.data()[i * N + j] = s;
            }
        benchmark::DoNotOptimize(y.data());
    }
    set_flops(st, 2.0 * M * N * K);
}
BENCHMARK(BM_Gemm_Naive)->ArgNames({"M", "K", "N"})->Args({128, 768, 768})->Unit(benchmark::kMillisecond);
}  // namespace
