#pragma once
// rgrid's own single-precision GEMM for AVX-512 CPUs whose BLAS runs 256-bit kernels.
//
// Why it exists (measured, docs/performance.md "The fp32 GEMM kernel"): Debian's OpenBLAS
// 0.3.21 does not know AMD Zen 4/5 and runs its Haswell (AVX2) kernels there. On this
// project's machine (AMD EPYC, family 26, two 512-bit FMA pipes per core) that kernel
// reaches 117 GFLOP/s per core, the same library's SkylakeX kernel 220, so half the CPU's
// fp32 throughput went unused in every GEMM of training and inference.
//
// Which kernel runs (sgemm_kernel(); RGRID_SGEMM=blas|avx512 or set_sgemm_kernel() override):
//   Avx512  this file: chosen when the CPU has AVX-512F and OpenBLAS reports a core without
//           AVX-512 kernels (openblas_get_corename() not SkylakeX/Cooperlake/SapphireRapids)
//   Blas    cblas_sgemm (core/blas.hpp): every other machine, and always for double
//
// The algorithm is the classic Goto/BLIS one, single-threaded (rgrid's pool splits C into
// one block per thread before it gets here, core/blas.hpp):
//   for each NC-column block of op(B), each KC-deep slice: pack op(B) into panels of NR = 32
//   columns (row k of a panel = 32 contiguous floats, zero-padded past N);
//     for each MC-row block of op(A): pack op(A) into slivers of MR = 12 rows (column k of a
//     sliver = 12 contiguous floats, zero-padded past M);
//       for each panel, each sliver: the micro-kernel, a 12×32 tile of C in 24 zmm
//       accumulators, per k one 32-float row of B (2 loads) × 12 broadcasts of A (24 FMAs).
// Each C element is summed over k in order within a slice and the slices are added in order,
// so a result depends on K only — not on M, N, where its tile lies or how many threads cut
// C: the same bits for every thread count. It differs from OpenBLAS's by rounding only.
// Legend: M rows of C, N columns, K the inner dimension; op(X) = X or Xᵀ.
#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "rgrid/core/error.hpp"

namespace rgrid {

/// Which fp32 GEMM runs (see the top of core/sgemm_avx512.hpp).
enum class SgemmKernel { Blas, Avx512 };

inline const char* sgemm_kernel_name(SgemmKernel k) { return k == SgemmKernel::Blas ? "blas" : "avx512"; }

/// Whether this CPU can run kernel `k`.
inline bool sgemm_kernel_supported(SgemmKernel k) {
    return k == SgemmKernel::Blas || __builtin_cpu_supports("avx512f");
}

namespace detail {
/// Whether the loaded OpenBLAS runs AVX-512 sgemm kernels itself (then it is used).
inline bool blas_has_avx512_sgemm() {
    std::string core = openblas_get_corename();
    for (char& ch : core) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    for (const char* c : {"skylakex", "cooperlake", "sapphirerapids"})
        if (core == c) return true;
    return false;
}
inline SgemmKernel best_sgemm_kernel() {
    return sgemm_kernel_supported(SgemmKernel::Avx512) && !blas_has_avx512_sgemm() ? SgemmKernel::Avx512
                                                                                    : SgemmKernel::Blas;
}
inline SgemmKernel& sgemm_kernel_slot() {
    static SgemmKernel k = [] {
        const char* env = std::getenv("RGRID_SGEMM");
        if (!env || !*env) return best_sgemm_kernel();
        const std::string s = env;
        RGRID_CHECK(s == "blas" || s == "avx512", "RGRID_SGEMM=", s, ": expected blas or avx512");
        const SgemmKernel want = s == "blas" ? SgemmKernel::Blas : SgemmKernel::Avx512;
        RGRID_CHECK(sgemm_kernel_supported(want), "RGRID_SGEMM=", s, ": this CPU lacks AVX-512F");
        return want;
    }();
    return k;
}
}  // namespace detail

/// The kernel fp32 GEMMs use: the choice above, or RGRID_SGEMM when set.
inline SgemmKernel sgemm_kernel() { return detail::sgemm_kernel_slot(); }
/// Forces a kernel (tests, benchmarks); throws when the CPU cannot run it. Not thread-safe
/// against concurrent GEMMs. Example: `set_sgemm_kernel(SgemmKernel::Blas);`
inline void set_sgemm_kernel(SgemmKernel k) {
    RGRID_CHECK(sgemm_kernel_supported(k), "set_sgemm_kernel: this CPU cannot run the ", sgemm_kernel_name(k),
                " kernel");
    detail::sgemm_kernel_slot() = k;
}

namespace detail::sgemm {

inline constexpr std::size_t kMR = 12, kNR = 32;               // micro-tile of C
inline constexpr std::size_t kKC = 256, kMC = 144, kNC = 512;  // packed A 144 KB, packed B 512 KB

// One thread's packing buffers, 64-byte aligned, grown on demand and kept for the thread.
struct Buffers {
    float* a = nullptr;
    float* b = nullptr;
    Buffers() {
        a = static_cast<float*>(::operator new(kMC * kKC * sizeof(float), std::align_val_t(64)));
        b = static_cast<float*>(::operator new(kNC * kKC * sizeof(float), std::align_val_t(64)));
    }
    ~Buffers() {
        ::operator delete(a, std::align_val_t(64));
        ::operator delete(b, std::align_val_t(64));
    }
    Buffers(const Buffers&) = delete;
    Buffers& operator=(const Buffers&) = delete;
};
inline Buffers& buffers() {
    thread_local Buffers buf;
    return buf;
}

// Rows 0..rows-1 (≤ 16; the rest read as zero) × 16 columns of src (leading dimension ld),
// transposed: column t goes to dst + t·ldd, its lanes chosen by `keep` (row i = lane i).
// Unpack within 128-bit lanes (4×4 blocks), then two rounds of 128-bit lane shuffles.
__attribute__((target("avx512f"))) inline void transpose16_store(const float* src, std::size_t ld, std::size_t rows,
                                                                 float* dst, std::size_t ldd, __mmask16 keep) {
    __m512 r[16], u[16];
#pragma GCC unroll 16
    for (std::size_t i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_loadu_ps(src + i * ld) : _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {  // u[4g + c], lane L = rows 4g..4g+3 at column 4L + c
        const __m512 t0 = _mm512_unpacklo_ps(r[4 * g], r[4 * g + 1]), t1 = _mm512_unpackhi_ps(r[4 * g], r[4 * g + 1]);
        const __m512 t2 = _mm512_unpacklo_ps(r[4 * g + 2], r[4 * g + 3]),
                     t3 = _mm512_unpackhi_ps(r[4 * g + 2], r[4 * g + 3]);
        u[4 * g + 0] = _mm512_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * g + 1] = _mm512_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
        u[4 * g + 2] = _mm512_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * g + 3] = _mm512_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {  // the four u[4g + c] hold columns c, 4 + c, 8 + c, 12 + c
        const __m512 x0 = _mm512_shuffle_f32x4(u[c], u[4 + c], _MM_SHUFFLE(2, 0, 2, 0));
        const __m512 x1 = _mm512_shuffle_f32x4(u[c], u[4 + c], _MM_SHUFFLE(3, 1, 3, 1));
        const __m512 x2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], _MM_SHUFFLE(2, 0, 2, 0));
        const __m512 x3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], _MM_SHUFFLE(3, 1, 3, 1));
        _mm512_mask_storeu_ps(dst + (c + 0) * ldd, keep, _mm512_shuffle_f32x4(x0, x2, _MM_SHUFFLE(2, 0, 2, 0)));
        _mm512_mask_storeu_ps(dst + (c + 8) * ldd, keep, _mm512_shuffle_f32x4(x0, x2, _MM_SHUFFLE(3, 1, 3, 1)));
        _mm512_mask_storeu_ps(dst + (c + 4) * ldd, keep, _mm512_shuffle_f32x4(x1, x3, _MM_SHUFFLE(2, 0, 2, 0)));
        _mm512_mask_storeu_ps(dst + (c + 12) * ldd, keep, _mm512_shuffle_f32x4(x1, x3, _MM_SHUFFLE(3, 1, 3, 1)));
    }
}

// op(B) rows [k0, k0+kc) × columns [j0, j0+nc) into panels of kNR columns (see the top).
__attribute__((target("avx512f"))) inline void pack_b(bool tb, const float* b, std::size_t ldb, std::size_t k0, std::size_t kc, std::size_t j0,
                   std::size_t nc, float* dst) {
    for (std::size_t p = 0; p * kNR < nc; ++p) {
        const std::size_t jb = j0 + p * kNR, jw = std::min(kNR, nc - p * kNR);
        float* d = dst + p * kc * kNR;
        if (!tb) {  // op(B)[k][j] = b[k·ldb + j]: rows are contiguous
            for (std::size_t k = 0; k < kc; ++k) {
                std::memcpy(d + k * kNR, b + (k0 + k) * ldb + jb, jw * sizeof(float));
                if (jw < kNR) std::memset(d + k * kNR + jw, 0, (kNR - jw) * sizeof(float));
            }
        } else {  // op(B)[k][j] = b[j·ldb + k]: B's rows become the panel's columns
            if (jw < kNR) std::memset(d, 0, kc * kNR * sizeof(float));
            const std::size_t kv = kc / 16 * 16;  // 16×16 blocks transposed in registers
            for (std::size_t h = 0; h < kNR / 16 && 16 * h < jw; ++h)
                for (std::size_t k = 0; k < kv; k += 16)
                    transpose16_store(b + (jb + 16 * h) * ldb + k0 + k, ldb, std::min<std::size_t>(16, jw - 16 * h),
                                      d + k * kNR + 16 * h, kNR, 0xFFFF);
            for (std::size_t j = 0; j < jw; ++j) {
                const float* s = b + (jb + j) * ldb + k0;
                for (std::size_t k = kv; k < kc; ++k) d[k * kNR + j] = s[k];
            }
        }
    }
}

// op(A) rows [i0, i0+mc) × columns [k0, k0+kc) into slivers of kMR rows (see the top).
__attribute__((target("avx512f"))) inline void pack_a(bool ta, const float* a, std::size_t lda, std::size_t i0, std::size_t mc, std::size_t k0,
                   std::size_t kc, float* dst) {
    for (std::size_t s = 0; s * kMR < mc; ++s) {
        const std::size_t ib = i0 + s * kMR, iw = std::min(kMR, mc - s * kMR);
        float* d = dst + s * kc * kMR;
        if (!ta) {  // op(A)[i][k] = a[i·lda + k]
            if (iw < kMR) std::memset(d, 0, kc * kMR * sizeof(float));
            const std::size_t kv = kc / 16 * 16;  // 16×16 blocks (rows past iw zero), 12 lanes kept
            for (std::size_t k = 0; k < kv; k += 16)
                transpose16_store(a + ib * lda + k0 + k, lda, iw, d + k * kMR, kMR, __mmask16((1u << kMR) - 1));
            for (std::size_t i = 0; i < iw; ++i) {
                const float* src = a + (ib + i) * lda + k0;
                for (std::size_t k = kv; k < kc; ++k) d[k * kMR + i] = src[k];
            }
        } else {  // op(A)[i][k] = a[k·lda + i]: columns of the sliver are contiguous
            for (std::size_t k = 0; k < kc; ++k) {
                std::memcpy(d + k * kMR, a + (k0 + k) * lda + ib, iw * sizeof(float));
                if (iw < kMR) std::memset(d + k * kMR + iw, 0, (kMR - iw) * sizeof(float));
            }
        }
    }
}

// C tile (mr ≤ 12 rows, nr ≤ 32 columns) = alpha · Ap·Bp + (first ? beta · C : C), plus in the
// first slice a column bias (or null) — with beta 0 the same two roundings as adding the product
// to a C filled with the bias. With first and beta == 0, C is not read (it may hold anything,
// as BLAS allows).
__attribute__((target("avx512f"))) inline void micro_kernel(std::size_t kc, const float* ap, const float* bp,
                                                            float* c, std::size_t ldc, std::size_t mr,
                                                            std::size_t nr, float alpha, float beta, bool first,
                                                            const float* bias = nullptr) {
    const bool read_c = !first || beta != 0.f;
    if (read_c)  // the tile of C is read at the end: ask for it now (it is usually in L3, not L1)
        for (std::size_t i = 0; i < mr; ++i) {
            _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + nr - 1), _MM_HINT_T0);
        }
    __m512 acc[kMR][2];
#pragma GCC unroll 12
    for (std::size_t i = 0; i < kMR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (std::size_t k = 0; k < kc; ++k) {
        const __m512 b0 = _mm512_load_ps(bp + k * kNR), b1 = _mm512_load_ps(bp + k * kNR + 16);
        const float* ak = ap + k * kMR;
#pragma GCC unroll 12
        for (std::size_t i = 0; i < kMR; ++i) {
            const __m512 av = _mm512_set1_ps(ak[i]);
            acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
        }
    }
    const __mmask16 m0 = nr >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? __mmask16(0xFFFF) : nr > 16 ? __mmask16((1u << (nr - 16)) - 1) : __mmask16(0);
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    const bool add_bias = first && bias;
    const __m512 bias0 = add_bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
    const __m512 bias1 = add_bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
#pragma GCC unroll 12
    for (std::size_t i = 0; i < kMR; ++i) {
        if (i >= mr) break;
        float* cr = c + i * ldc;
        __m512 r0 = _mm512_mul_ps(va, acc[i][0]), r1 = _mm512_mul_ps(va, acc[i][1]);
        if (read_c) {
            const __m512 c0 = _mm512_maskz_loadu_ps(m0, cr), c1 = _mm512_maskz_loadu_ps(m1, cr + 16);
            r0 = first ? _mm512_fmadd_ps(vb, c0, r0) : _mm512_add_ps(c0, r0);
            r1 = first ? _mm512_fmadd_ps(vb, c1, r1) : _mm512_add_ps(c1, r1);
        }
        if (add_bias) {
            r0 = _mm512_add_ps(bias0, r0);
            r1 = _mm512_add_ps(bias1, r1);
        }
        _mm512_mask_storeu_ps(cr, m0, r0);
        if (m1) _mm512_mask_storeu_ps(cr + 16, m1, r1);
    }
}

// The blocked loops of the top of this file. `b_block(jc, nc, pc, kc, buffer)` returns the
// packed panels of op(B) rows [pc, pc+kc) × columns [jc, jc+nc): packed now into `buffer`
// (the thread's B buffer), or already packed elsewhere. `bias` (n floats or null): added to
// every row of C in the first slice, C = alpha · op(A)·op(B) + beta · C + bias.
template <class BBlock>
__attribute__((target("avx512f"))) void drive(bool ta, std::size_t m, std::size_t n, std::size_t k, float alpha,
                                              const float* a, std::size_t lda, BBlock&& b_block, float beta, float* c,
                                              std::size_t ldc, const float* bias = nullptr) {
    if (m == 0 || n == 0) return;
    if (k == 0 || alpha == 0.f) {
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < n; ++j)
                c[i * ldc + j] = (beta == 0.f ? 0.f : beta * c[i * ldc + j]) + (bias ? bias[j] : 0.f);
        return;
    }
    Buffers& buf = buffers();
    for (std::size_t jc = 0; jc < n; jc += kNC) {
        const std::size_t nc = std::min(kNC, n - jc);
        for (std::size_t pc = 0; pc < k; pc += kKC) {
            const std::size_t kc = std::min(kKC, k - pc);
            const bool first = pc == 0;
            const float* bp = b_block(jc, nc, pc, kc, buf.b);
            for (std::size_t ic = 0; ic < m; ic += kMC) {
                const std::size_t mc = std::min(kMC, m - ic);
                pack_a(ta, a, lda, ic, mc, pc, kc, buf.a);
                for (std::size_t jr = 0; jr < nc; jr += kNR)
                    for (std::size_t ir = 0; ir < mc; ir += kMR)
                        micro_kernel(kc, buf.a + (ir / kMR) * kc * kMR, bp + (jr / kNR) * kc * kNR,
                                     c + (ic + ir) * ldc + jc + jr, ldc, std::min(kMR, mc - ir), std::min(kNR, nc - jr),
                                     alpha, beta, first, bias ? bias + jc + jr : nullptr);
            }
        }
    }
}
}  // namespace detail::sgemm

/// C (M×N) = alpha · op(A) · op(B) + beta · C, row-major, one thread, on the AVX-512 kernel.
/// Same contract as cblas_sgemm (C is not read when beta == 0; alpha == 0 only scales C).
/// Callers: core/blas.hpp's gemm(), which splits C across rgrid's pool first.
/// `bias` (n floats, or null): adds bias[j] to every row of C (a Linear's bias), as a C filled
/// with it and beta = 1 would, without that pass over C.
__attribute__((target("avx512f"))) inline void sgemm_avx512(bool ta, bool tb, std::size_t m, std::size_t n,
                                                            std::size_t k, float alpha, const float* a,
                                                            std::size_t lda, const float* b, std::size_t ldb,
                                                            float beta, float* c, std::size_t ldc,
                                                            const float* bias = nullptr) {
    detail::sgemm::drive(
        ta, m, n, k, alpha, a, lda,
        [&](std::size_t jc, std::size_t nc, std::size_t pc, std::size_t kc, float* buf) {
            detail::sgemm::pack_b(tb, b, ldb, pc, kc, jc, nc, buf);
            return static_cast<const float*>(buf);
        },
        beta, c, ldc, bias);
}

/// op(B) (K×N) packed once for sgemm_avx512_packed: for each KC-deep slice, every 32-column
/// panel of the slice in turn (the layout the kernel packs into per call, for all N at once).
/// For a weight that many products share (inference: a Linear's W, op(B) = Wᵀ), so that its
/// packing — at batch 1 a quarter of the GEMM time — is paid once. A snapshot: pack again after
/// the weight changes.
struct PackedSgemmB {
    std::size_t k = 0, n = 0, np = 0;  // np: N rounded up to whole panels of 32
    std::shared_ptr<float> data;       // k · np floats, 64-byte aligned
    /// The panels of slice rows [pc, pc+kc) starting at column j (a multiple of 32).
    const float* block(std::size_t j, std::size_t pc, std::size_t kc) const {
        return data.get() + pc * np + (j / detail::sgemm::kNR) * kc * detail::sgemm::kNR;
    }
};

/// Packs op(B) (K×N; tb: B is stored N×K, as a Linear's weight). Example, W (out, in):
/// `PackedSgemmB pw = pack_sgemm_b(true, w.data(), in, in, out);`
__attribute__((target("avx512f"))) inline PackedSgemmB pack_sgemm_b(bool tb, const float* b, std::size_t ldb,
                                                                    std::size_t k, std::size_t n) {
    namespace s = detail::sgemm;
    RGRID_CHECK(k > 0 && n > 0, "pack_sgemm_b: empty matrix (", k, " x ", n, ")");
    PackedSgemmB p;
    p.k = k, p.n = n, p.np = (n + s::kNR - 1) / s::kNR * s::kNR;
    float* raw = static_cast<float*>(::operator new(k * p.np * sizeof(float), std::align_val_t(64)));
    p.data = std::shared_ptr<float>(raw, [](float* q) { ::operator delete(q, std::align_val_t(64)); });
    for (std::size_t pc = 0; pc < k; pc += s::kKC) {
        const std::size_t kc = std::min(s::kKC, k - pc);
        s::pack_b(tb, b, ldb, pc, kc, 0, n, raw + pc * p.np);  // zero-pads the last panel to 32 columns
    }
    return p;
}

/// C (M × [j0, j0+n)) = alpha · op(A) · op(B)[:, j0:j0+n) + beta · C with op(B) packed by
/// pack_sgemm_b; j0 a multiple of 32. Bit-identical to sgemm_avx512 on the unpacked B.
/// `bias`: columns [j0, j0+n) of a Linear's bias (or null), as in sgemm_avx512.
__attribute__((target("avx512f"))) inline void sgemm_avx512_packed(bool ta, std::size_t m, std::size_t j0,
                                                                   std::size_t n, float alpha, const float* a,
                                                                   std::size_t lda, const PackedSgemmB& b,
                                                                   float beta, float* c, std::size_t ldc,
                                                                   const float* bias = nullptr) {
    RGRID_CHECK(j0 % detail::sgemm::kNR == 0 && j0 + n <= b.n, "sgemm_avx512_packed: columns [", j0, ", ", j0 + n,
                ") of a packed B with ", b.n);
    detail::sgemm::drive(
        ta, m, n, b.k, alpha, a, lda,
        [&](std::size_t jc, std::size_t, std::size_t pc, std::size_t kc, float*) { return b.block(j0 + jc, pc, kc); },
        beta, c, ldc, bias);
}

}  // namespace rgrid
