#pragma once
// The only file in rgrid that calls BLAS. Row-major cblas_{s,d}gemm, with
// transposes, leading dimensions and strided batches (attention heads). fp32 products go to
// rgrid's AVX-512 kernel instead where OpenBLAS runs only 256-bit kernels (core/sgemm_avx512.hpp).
// OpenBLAS runs single-threaded; a large GEMM is cut into one block of C per thread of
// rgrid's pool (core/parallel.hpp), each block one sgemm call, so GEMMs and rgrid's own
// loops share one set of threads. The blocks are fixed by (M, N, threads), so results are
// deterministic for a given thread count.
#include <cblas.h>

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "rgrid/core/error.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/core/sgemm_avx512.hpp"
#include "rgrid/core/tensor.hpp"

namespace rgrid {

/// Transpose flag for gemm.
enum class Trans { No, Yes };

namespace detail {
inline CBLAS_TRANSPOSE to_cblas(Trans t) { return t == Trans::Yes ? CblasTrans : CblasNoTrans; }
inline void gemm_raw(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha,
                     const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
    if (sgemm_kernel() == SgemmKernel::Avx512) {  // where OpenBLAS lacks AVX-512 kernels (sgemm_avx512.hpp)
        sgemm_avx512(ta == CblasTrans, tb == CblasTrans, static_cast<std::size_t>(m), static_cast<std::size_t>(n),
                     static_cast<std::size_t>(k), alpha, a, static_cast<std::size_t>(lda), b,
                     static_cast<std::size_t>(ldb), beta, c, static_cast<std::size_t>(ldc));
        return;
    }
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline void gemm_raw(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double alpha,
                     const double* a, int lda, const double* b, int ldb, double beta, double* c, int ldc) {
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
// Below this many multiply-adds a GEMM runs as one call on the calling thread.
inline constexpr std::size_t kGemmSplitMin = std::size_t(1) << 19;
// Blocks of C are multiples of this many rows or columns (whole micro-kernel tiles).
inline constexpr std::size_t kGemmSplitAlign = 32;
// Cuts C (M×N) into one block per pool thread, as gemm() documents, and calls
// block(m0, m1, n0, n1) for each (once for the whole of C when it is small, on one thread, or
// already inside a parallel region). The longer side is cut, in runs of whole
// kGemmSplitAlign-wide tiles; the last tile takes the remainder.
template <class Block>
void split_c(std::size_t m, std::size_t n, std::size_t k, Block&& block) {
    const bool split_n = n >= m;
    const std::size_t side = split_n ? n : m, align = kGemmSplitAlign;
    if (num_threads() <= 1 || side < 2 * align || m * n * k < kGemmSplitMin || ThreadPool::in_region()) {
        block(0, m, 0, n);
        return;
    }
    parallel_for((side + align - 1) / align, 1, [&](std::size_t t0, std::size_t t1) {
        const std::size_t s0 = t0 * align, s1 = std::min(side, t1 * align);
        if (split_n) block(0, m, s0, s1);
        else block(s0, s1, 0, n);
    });
}
}  // namespace detail

/// C (M×N) = alpha · op(A) · op(B) + beta · C, row-major with leading dimensions.
/// op(A) is M×K, op(B) is K×N. Semantics: BLAS xGEMM.
/// Example: gemm(Trans::No, Trans::Yes, M, N, K, 1.f, x, K, w, K, 0.f, y, N);  // y = x·Wᵀ
template <class T>
void gemm(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    if (m == 0 || n == 0) return;
    if (k == 0) {  // BLAS would still scale C by beta; keep that contract explicit
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
        return;
    }
    auto call = [&](std::size_t m0, std::size_t m1, std::size_t n0, std::size_t n1) {
        // Rows m0..m1 of op(A) and columns n0..n1 of op(B): offsets depend on the storage.
        const T* ab = a + (ta == Trans::No ? m0 * lda : m0);
        const T* bb = b + (tb == Trans::No ? n0 : n0 * ldb);
        detail::gemm_raw(detail::to_cblas(ta), detail::to_cblas(tb), static_cast<int>(m1 - m0),
                         static_cast<int>(n1 - n0), static_cast<int>(k), alpha, ab, static_cast<int>(lda), bb,
                         static_cast<int>(ldb), beta, c + m0 * ldc + n0, static_cast<int>(ldc));
    };
    detail::split_c(m, n, k, call);
}

/// C (M×N) = alpha · A · op(B) + beta · C with op(B) packed once (pack_sgemm_b; rgrid's
/// AVX-512 kernel only), split across the pool as gemm() splits: bit-identical to gemm() with
/// that kernel on the unpacked B. `bias` (N floats, or null; with beta = 0): a Linear's bias,
/// added to every row as the tiles are stored (see gemm_linear). Example: a Linear's weight W
/// (out, in) packed at load, `gemm_prepacked(rows, out, in, 1.f, x, in, pw, 0.f, y, out, b);`
inline void gemm_prepacked(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
                           const PackedSgemmB& b, float beta, float* c, std::size_t ldc,
                           const float* bias = nullptr) {
    RGRID_CHECK(b.k == k && b.n == n, "gemm_prepacked: packed B is (", b.k, " x ", b.n, "), the product needs (", k,
                " x ", n, ")");
    RGRID_CHECK(!bias || beta == 0.f, "gemm_prepacked: a bias needs beta = 0");
    if (m == 0 || n == 0) return;
    static_assert(detail::kGemmSplitAlign % detail::sgemm::kNR == 0, "column blocks must start on whole panels");
    detail::split_c(m, n, k, [&](std::size_t m0, std::size_t m1, std::size_t n0, std::size_t n1) {
        sgemm_avx512_packed(false, m1 - m0, n0, n1 - n0, alpha, a + m0 * lda, lda, b, beta, c + m0 * ldc + n0, ldc,
                            bias ? bias + n0 : nullptr);
    });
}

/// A Linear's forward: C (M×N) = A (M×K) · Wᵀ + bias, W (N×K) stored as PyTorch stores a
/// weight (out, in), bias (N) broadcast over the rows or null, all leading dimensions dense.
/// rgrid's AVX-512 kernel adds the bias as it stores each tile (no pass that fills C first,
/// C not read in the first K slice); otherwise C is filled with the bias and the GEMM adds
/// the product (beta = 1). Both give the bits of that fill followed by gemm(beta = 1).
/// Example: `gemm_linear(rows, out, in, x, w, b, y);  // y = x·Wᵀ + b`
template <class T>
void gemm_linear(std::size_t m, std::size_t n, std::size_t k, const T* a, const T* w, const T* bias, T* c) {
    if (m == 0 || n == 0) return;
    if constexpr (std::is_same_v<T, float>) {
        if (bias && k > 0 && sgemm_kernel() == SgemmKernel::Avx512) {
            detail::split_c(m, n, k, [&](std::size_t m0, std::size_t m1, std::size_t n0, std::size_t n1) {
                sgemm_avx512(false, true, m1 - m0, n1 - n0, k, 1.f, a + m0 * k, k, w + n0 * k, k, 0.f,
                             c + m0 * n + n0, n, bias + n0);
            });
            return;
        }
    }
    if (bias) {
        const std::size_t grain = std::max<std::size_t>(1, (std::size_t(1) << 15) / n);  // ~32 K floats per task
        parallel_for(m, grain, [&](std::size_t r0, std::size_t r1) {
            for (std::size_t r = r0; r < r1; ++r) std::copy(bias, bias + n, c + r * n);
        });
    }
    gemm(Trans::No, Trans::Yes, m, n, k, T(1), a, k, w, k, bias ? T(1) : T(0), c, n);
}

/// `batch` independent GEMMs at fixed strides (elements) between consecutive A, B and C.
/// Used for per-(batch, head) attention products on strided views of (B, T, NH, HS) buffers.
/// Small products run in parallel across the batch, large ones one after another, each split.
template <class T>
void gemm_strided_batched(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, T alpha,
                          const T* a, std::size_t lda, std::size_t stride_a, const T* b, std::size_t ldb,
                          std::size_t stride_b, T beta, T* c, std::size_t ldc, std::size_t stride_c,
                          std::size_t batch) {
    auto one = [&](std::size_t i) {
        gemm(ta, tb, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta, c + i * stride_c, ldc);
    };
    if (batch > 1 && m * n * k < detail::kGemmSplitMin * num_threads()) {
        parallel_for(batch, 1, [&](std::size_t b0, std::size_t b1) {
            for (std::size_t i = b0; i < b1; ++i) one(i);
        });
    } else {
        for (std::size_t i = 0; i < batch; ++i) one(i);
    }
}

/// 2-D matrix product of tensors: (M, K) · (K, N) → (M, N), with optional transposes.
template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b, Trans ta = Trans::No, Trans tb = Trans::No) {
    RGRID_CHECK(a.dimension() == 2 && b.dimension() == 2, "matmul: expected 2-D tensors, got ", shape_str(a),
                " and ", shape_str(b));
    const std::size_t m = ta == Trans::No ? a.shape()[0] : a.shape()[1];
    const std::size_t ka = ta == Trans::No ? a.shape()[1] : a.shape()[0];
    const std::size_t kb = tb == Trans::No ? b.shape()[0] : b.shape()[1];
    const std::size_t n = tb == Trans::No ? b.shape()[1] : b.shape()[0];
    RGRID_CHECK(ka == kb, "matmul: inner dimensions differ: ", shape_str(a), (ta == Trans::Yes ? "ᵀ" : ""), " · ",
                shape_str(b), (tb == Trans::Yes ? "ᵀ" : ""));
    Tensor<T> c = Tensor<T>::from_shape({m, n});
    gemm(ta, tb, m, n, ka, T(1), a.data(), a.shape()[1], b.data(), b.shape()[1], T(0), c.data(), n);
    return c;
}

/// Threads OpenBLAS itself uses for one call: 1 once rgrid's pool exists (see the top of
/// this file); rgrid's parallelism is set with set_num_threads.
inline int blas_threads() { return openblas_get_num_threads(); }

}  // namespace rgrid
