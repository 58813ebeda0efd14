#pragma once
// The only file in rgrid that calls BLAS. Row-major cblas_{s,d}gemm, with
// transposes, leading dimensions and strided batches (attention heads).
#include <cblas.h>

#include <cstddef>

#include "rgrid/core/error.hpp"
#include "rgrid/core/tensor.hpp"

extern "C" {
// OpenBLAS extensions (declared here so we do not depend on which cblas.h is found).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace rgrid {

/// Transpose flag for gemm.
enum class Trans { No, Yes };

namespace detail {
inline CBLAS_TRANSPOSE to_cblas(Trans t) { return t == Trans::Yes ? CblasTrans : CblasNoTrans; }
inline void gemm_raw(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha,
                     const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline void gemm_raw(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double alpha,
                     const double* a, int lda, const double* b, int ldb, double beta, double* c, int ldc) {
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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
    detail::gemm_raw(detail::to_cblas(ta), detail::to_cblas(tb), static_cast<int>(m), static_cast<int>(n),
                     static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c,
                     static_cast<int>(ldc));
}

/// `batch` independent GEMMs at fixed strides (elements) between consecutive A, B and C.
/// Used for per-(batch, head) attention products on strided views of (B, T, NH, HS) buffers.
template <class T>
void gemm_strided_batched(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, T alpha,
                          const T* a, std::size_t lda, std::size_t stride_a, const T* b, std::size_t ldb,
                          std::size_t stride_b, T beta, T* c, std::size_t ldc, std::size_t stride_c,
                          std::size_t batch) {
    for (std::size_t i = 0; i < batch; ++i)
        gemm(ta, tb, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta, c + i * stride_c, ldc);
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

/// Threads OpenBLAS uses for one GEMM.
inline void set_blas_threads(int n) { openblas_set_num_threads(n); }
inline int blas_threads() { return openblas_get_num_threads(); }

}  // namespace rgrid
