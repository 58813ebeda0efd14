// int8 dynamic quantization benchmarks (docs/int8.md; benchmarks/compare.sh's int8 block):
//
//   BM_Int8_Bert/{model}/{dtype}/{B}/{T}   BERT forward (eval, NoGradGuard), dtype fp32 or int8
//                                          (quantize_dynamic: the encoder's Linears in int8; fp32 with
//                                          its weights packed, as Predictor serves it),
//                                          model minilm (all-MiniLM-L6-v2's shape: 6 layers, 384
//                                          hidden, 12 heads, 1536 intermediate) or base (12, 768, 12, 3072)
//   BM_Int8_Gemm/{kernel}/{M}/{N}/{K}      one quantized Linear's product (activation quantization
//                                          + int8 GEMM + dequantize), kernel avx512vnni | avx2 | scalar
//   BM_Int8_Sgemm/{M}/{N}/{K}              the fp32 product it replaces (ops::linear's gemm)
//   BM_Int8_Onednn/{M}/{N}/{K}             oneDNN's dnnl_gemm_u8s8s32 on the same shape (built only
//                                          when libdnnl is found): the library rgrid's kernels were
//                                          measured against (docs/int8.md)
// Threads: RGRID_BENCH_THREADS (default 2). Weights are random (speed does not depend on them).
//
//   build-perf/bin/bench_int8 --benchmark_filter='Int8_Bert/minilm/.*/1/128$'
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rgrid/autograd/ops.hpp"
#include "rgrid/core/allocator.hpp"
#include "rgrid/core/blas.hpp"
#include "rgrid/core/int8_gemm.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/nn/init.hpp"
#include "rgrid/nn/quantize.hpp"
#include "rgrid/nn/quantized_linear.hpp"
#ifdef RGRID_BENCH_HAVE_DNNL
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#endif

using namespace rgrid;

namespace {

std::size_t bench_threads() {
    const char* s = std::getenv("RGRID_BENCH_THREADS");
    return s ? static_cast<std::size_t>(std::strtoul(s, nullptr, 10)) : 2;
}

BertConfig model_config(const std::string& name) {
    if (name != "minilm") return BertConfig::preset(name);
    BertConfig c;  // all-MiniLM-L6-v2
    c.num_hidden_layers = 6, c.hidden_size = 384, c.num_attention_heads = 12, c.intermediate_size = 1536;
    return c;
}

// One model per (name, dtype): building BERT-base's weights each time would dominate the run.
BertForSequenceClassification<float>& cached_model(const std::string& name, bool int8) {
    static std::map<std::pair<std::string, bool>, std::unique_ptr<BertForSequenceClassification<float>>> cache;
    auto& m = cache[{name, int8}];
    if (!m) {
        Rng rng(0);
        m = std::make_unique<BertForSequenceClassification<float>>(model_config(name), rng);
        m->eval();
        // fp32 as Predictor serves it (rgrid-predict, rgrid-serve): weights packed once for the GEMM
        // where rgrid's AVX-512 kernel is in use, so int8 is compared with the fastest fp32.
        if (int8) quantize_dynamic(*m);
        else pack_for_inference(*m);
    }
    return *m;
}

void BM_Int8_Bert(benchmark::State& st, std::string name, bool int8, std::size_t B, std::size_t T) {
    set_num_threads(bench_threads());
    auto& model = cached_model(name, int8);
    Rng rng(1);
    IndexTensor ids = IndexTensor::from_shape({B, T}), types = IndexTensor::from_shape({B, T}),
                mask = IndexTensor::from_shape({B, T});
    for (auto& v : ids) v = static_cast<std::int64_t>(rng.below(model.config().vocab_size));
    types.fill(0);
    mask.fill(1);
    NoGradGuard no_grad;
    auto forward = [&] { return model.forward(ids, types, mask); };  // (B, K)
    forward();                                                      // warm-up
    for (auto _ : st) {
        Var<float> logits = forward();
        benchmark::DoNotOptimize(logits.data());
    }
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * B * T));
    st.counters["kernel"] = int8 ? double(static_cast<int>(int8_kernel())) : -1.0;
}

Tensor<float> random_tensor(Shape s, float std, std::uint64_t seed) {
    Rng rng(seed);
    return init::normal<float>(s, std, rng);
}

void BM_Int8_Gemm(benchmark::State& st, Int8Kernel kernel, std::size_t M, std::size_t N, std::size_t K) {
    if (!int8_kernel_supported(kernel)) {
        st.SkipWithError("kernel not supported on this CPU");
        return;
    }
    set_num_threads(bench_threads());
    const Int8Kernel saved = int8_kernel();
    set_int8_kernel(kernel);
    Tensor<float> w = random_tensor({N, K}, 0.02f, 1), b = random_tensor({N}, 0.02f, 2), x = random_tensor({M, K}, 1.f, 3);
    QuantizedLinear q = QuantizedLinear::quantize(w, &b);
    for (auto _ : st) {
        Tensor<float> y = q.forward(x);
        benchmark::DoNotOptimize(y.data());
    }
    set_int8_kernel(saved);
    st.counters["GOP/s"] = benchmark::Counter(2.0 * M * N * K * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Int8_Sgemm(benchmark::State& st, std::size_t M, std::size_t N, std::size_t K) {
    set_num_threads(bench_threads());
    Var<float> w(random_tensor({N, K}, 0.02f, 1)), b(random_tensor({N}, 0.02f, 2)), x(random_tensor({M, K}, 1.f, 3));
    NoGradGuard no_grad;
    for (auto _ : st) {
        Var<float> y = ops::linear(x, w, b);
        benchmark::DoNotOptimize(y.data());
    }
    st.counters["GOP/s"] = benchmark::Counter(2.0 * M * N * K * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

#ifdef RGRID_BENCH_HAVE_DNNL
// oneDNN's BLAS-like u8s8 GEMM, called as rgrid calls its own kernels: one call per block of
// columns on each of rgrid's pool threads (oneDNN's OpenMP runtime single-threaded there), so
// both use the same threads. Weights are packed by oneDNN on every call (its BLAS-like API has
// no pack-once form); activation quantization is not included (the int8 product alone).
void BM_Int8_Onednn(benchmark::State& st, std::size_t M, std::size_t N, std::size_t K) {
    set_num_threads(bench_threads());
    std::vector<std::uint8_t> a(M * K, 3);
    std::vector<std::int8_t> bq(N * K, -2);
    std::vector<std::int32_t> c(M * N);
    const std::int32_t co = 0;
    const std::size_t parts = std::min(num_threads(), N / 64), cols = (N + parts - 1) / parts;
    for (auto _ : st) {
        parallel_for(parts, 1, [&](std::size_t p0, std::size_t p1) {
            thread_local bool single = (omp_set_num_threads(1), true);  // oneDNN: no team of its own here
            (void)single;
            for (std::size_t p = p0; p < p1; ++p) {
                const std::size_t n0 = p * cols, n = std::min(N, n0 + cols) - n0;
                dnnl_gemm_u8s8s32('N', 'T', 'F', M, n, K, 1.f, a.data(), K, 0, bq.data() + n0 * K, K, 0, 0.f,
                                  c.data() + n0, N, &co);
            }
        });
        benchmark::DoNotOptimize(c.data());
    }
    st.counters["GOP/s"] = benchmark::Counter(2.0 * M * N * K * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
#endif

const bool registered = [] {
    rgrid::tune_allocator();
    for (const char* name : {"minilm", "base"})
        for (bool int8 : {false, true})
            for (auto [B, T] : {std::pair<std::size_t, std::size_t>{1, 128}, {1, 512}, {32, 128}})
                benchmark::RegisterBenchmark(("BM_Int8_Bert/" + std::string(name) + (int8 ? "/int8/" : "/fp32/") +
                                              std::to_string(B) + "/" + std::to_string(T))
                                                 .c_str(),
                                             BM_Int8_Bert, std::string(name), int8, B, T)
                    ->Unit(benchmark::kMillisecond)->UseRealTime();
    struct Shape3 {
        std::size_t M, N, K;
    };
    for (Shape3 s : {Shape3{128, 384, 384}, {128, 1536, 384}, {128, 384, 1536}, {512, 768, 768}, {4096, 384, 384}}) {
        const std::string dims = std::to_string(s.M) + "/" + std::to_string(s.N) + "/" + std::to_string(s.K);
        for (Int8Kernel k : {Int8Kernel::Avx512Vnni, Int8Kernel::Avx2, Int8Kernel::Scalar}) {
            if (k == Int8Kernel::Scalar && s.M > 128) continue;
            benchmark::RegisterBenchmark(("BM_Int8_Gemm/" + std::string(int8_kernel_name(k)) + "/" + dims).c_str(),
                                         BM_Int8_Gemm, k, s.M, s.N, s.K)
                ->Unit(benchmark::kMicrosecond)->UseRealTime();
        }
        benchmark::RegisterBenchmark(("BM_Int8_Sgemm/" + dims).c_str(), BM_Int8_Sgemm, s.M, s.N, s.K)
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
#ifdef RGRID_BENCH_HAVE_DNNL
        benchmark::RegisterBenchmark(("BM_Int8_Onednn/" + dims).c_str(), BM_Int8_Onednn, s.M, s.N, s.K)
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
#endif
    }
    return true;
}();

}  // namespace
