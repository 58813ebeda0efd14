#pragma once
// int8 matrix products for dynamically quantized inference: C (M, N) int32 = A (M, K) u8 ·
// Bᵀ, B (N, K) s8 (a Linear's weight, packed once), exact integer arithmetic, and the per-row
// activation quantizer that feeds it. The only file in rgrid with x86 SIMD intrinsics.
//
// Kernels, chosen at run time (int8_kernel(); RGRID_INT8_KERNEL=scalar|avx2|avx512vnni or
// set_int8_kernel() overrides, e.g. to test the AVX2 path on an AVX-512 machine):
//   Avx512Vnni  vpdpbusd: four u8×s8 products added into each int32 lane, no intermediate rounding
//   Avx2        both operands widened to int16, vpmaddwd (pairs of int16 products into int32)
//   Scalar      plain loops (the reference; any CPU)
// The usual AVX2 route, vpmaddubsw (u8×s8 pairs summed into a *saturating* int16), would
// clip full-range codes: 255·127·2 = 64770 > 32767. Libraries avoid it by shrinking a range
// (PyTorch's dynamic Linear quantizes activations to 7 bits, reduce_range=True; ORT offers
// 7-bit weights) or accept it (oneDNN's u8s8 GEMM saturates on AVX2 and AVX-512 without
// VNNI: measured, docs/int8.md). rgrid keeps full-range u8 activations and s8 weights and
// widens to int16 on AVX2 instead (half the multiplies per instruction, exact), so every
// kernel returns the exact integer product: the same int32 on every CPU.
//
// Packed B: N padded to a multiple of 16 and K to a multiple of 4; panels of up to 64 columns;
// inside a panel of w columns, for each group of 4 k: w/16 blocks of 16 columns × 4 bytes
// (64 bytes = one zmm, lane j = column j's 4 consecutive k). Zero padding adds nothing.
// Legend: M rows (tokens), K inputs, N outputs.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/parallel.hpp"

namespace rgrid {

/// Which int8 GEMM kernel runs (see the top of core/int8_gemm.hpp).
enum class Int8Kernel { Scalar, Avx2, Avx512Vnni };

inline const char* int8_kernel_name(Int8Kernel k) {
    switch (k) {
        case Int8Kernel::Scalar: return "scalar";
        case Int8Kernel::Avx2: return "avx2";
        case Int8Kernel::Avx512Vnni: return "avx512vnni";
    }
    return "?";
}

/// Whether this CPU can run kernel `k`.
inline bool int8_kernel_supported(Int8Kernel k) {
    switch (k) {
        case Int8Kernel::Scalar: return true;
        case Int8Kernel::Avx2: return __builtin_cpu_supports("avx2");
        case Int8Kernel::Avx512Vnni:
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vnni");
    }
    return false;
}

namespace detail {
inline Int8Kernel best_int8_kernel() {
    for (Int8Kernel k : {Int8Kernel::Avx512Vnni, Int8Kernel::Avx2})
        if (int8_kernel_supported(k)) return k;
    return Int8Kernel::Scalar;
}
inline Int8Kernel parse_int8_kernel(const std::string& s) {
    for (Int8Kernel k : {Int8Kernel::Scalar, Int8Kernel::Avx2, Int8Kernel::Avx512Vnni})
        if (s == int8_kernel_name(k)) return k;
    throw Error("int8 kernel '" + s + "' is not one of scalar, avx2, avx512vnni");
}
inline Int8Kernel& int8_kernel_slot() {
    static Int8Kernel k = [] {
        const char* env = std::getenv("RGRID_INT8_KERNEL");
        if (!env || !*env) return best_int8_kernel();
        const Int8Kernel want = parse_int8_kernel(env);
        RGRID_CHECK(int8_kernel_supported(want), "RGRID_INT8_KERNEL=", env, ": this CPU lacks the instructions");
        return want;
    }();
    return k;
}
}  // namespace detail

/// The kernel int8 GEMMs use: the best this CPU supports, or RGRID_INT8_KERNEL when set.
inline Int8Kernel int8_kernel() { return detail::int8_kernel_slot(); }
/// Forces a kernel (tests, benchmarks); throws when the CPU cannot run it. Not thread-safe
/// against concurrent GEMMs. Example: `set_int8_kernel(Int8Kernel::Avx2);`
inline void set_int8_kernel(Int8Kernel k) {
    RGRID_CHECK(int8_kernel_supported(k), "set_int8_kernel: this CPU cannot run the ", int8_kernel_name(k), " kernel");
    detail::int8_kernel_slot() = k;
}

/// Largest activation code: full-range u8 (see the top of this file).
inline constexpr int kInt8ActivationMax = 255;

/// A weight (N, K) s8, packed for the kernels, with its column sums (for zero points).
struct PackedInt8 {
    std::size_t n = 0, k = 0;    // logical shape (out, in)
    std::size_t np = 0, kp = 0;  // padded: np multiple of 16, kp multiple of 4
    std::vector<std::int8_t> data;
    std::vector<std::int32_t> row_sum;  // (N): Σ_k B[n, k], for the activation zero point

    static constexpr std::size_t kPanel = 64;  // columns per panel
    std::size_t num_panels() const { return (np + kPanel - 1) / kPanel; }
    std::size_t panel_width(std::size_t p) const { return std::min(kPanel, np - p * kPanel); }
    const std::int8_t* panel(std::size_t p) const { return data.data() + p * kPanel * kp; }
};

/// Packs B (N, K) row-major s8. Example: `PackedInt8 pw = pack_int8(w_q.data(), out, in);`
inline PackedInt8 pack_int8(const std::int8_t* b, std::size_t n, std::size_t k) {
    RGRID_CHECK(n > 0 && k > 0, "pack_int8: empty weight (", n, ", ", k, ")");
    PackedInt8 p;
    p.n = n, p.k = k, p.np = (n + 15) / 16 * 16, p.kp = (k + 3) / 4 * 4;
    p.data.assign(p.np * p.kp, 0);
    p.row_sum.assign(n, 0);
    for (std::size_t pi = 0; pi < p.num_panels(); ++pi) {
        const std::size_t w = p.panel_width(pi), blocks = w / 16;
        std::int8_t* dst = p.data.data() + pi * PackedInt8::kPanel * p.kp;
        for (std::size_t g = 0; g < p.kp / 4; ++g)
            for (std::size_t bl = 0; bl < blocks; ++bl)
                for (std::size_t j = 0; j < 16; ++j) {
                    const std::size_t col = pi * PackedInt8::kPanel + bl * 16 + j;
                    for (std::size_t q = 0; q < 4; ++q) {
                        const std::size_t kk = 4 * g + q;
                        dst[((g * blocks + bl) * 16 + j) * 4 + q] = (col < n && kk < k) ? b[col * k + kk] : 0;
                    }
                }
    }
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t kk = 0; kk < k; ++kk) p.row_sum[i] += b[i * k + kk];
    return p;
}

namespace detail {

// ---- scalar ------------------------------------------------------------------------------
// Rows [0, m) × panel `pi` of B into C (ldc), columns from the panel's first.
inline void int8_panel_scalar(const std::uint8_t* a, std::size_t m, std::size_t lda, const PackedInt8& b,
                              std::size_t pi, std::int32_t* c, std::size_t ldc) {
    const std::size_t w = b.panel_width(pi), blocks = w / 16;
    const std::int8_t* bp = b.panel(pi);
    for (std::size_t r = 0; r < m; ++r)
        for (std::size_t j = 0; j < w; ++j) {
            const std::size_t bl = j / 16, jj = j % 16;
            std::int32_t s = 0;
            for (std::size_t g = 0; g < b.kp / 4; ++g) {
                const std::int8_t* bv = bp + ((g * blocks + bl) * 16 + jj) * 4;
                const std::uint8_t* av = a + r * lda + 4 * g;
                s += av[0] * bv[0] + av[1] * bv[1] + av[2] * bv[2] + av[3] * bv[3];
            }
            c[r * ldc + j] = s;
        }
}

// ---- AVX-512 VNNI: R rows × NB blocks of 16 columns, R·NB zmm accumulators ---------------
template <int R, int NB>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void int8_tile_vnni(const std::uint8_t* a, std::size_t lda,
                                                                            const std::int8_t* bp, std::size_t kp,
                                                                            std::int32_t* c, std::size_t ldc) {
    __m512i acc[R][NB];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_setzero_si512();
    const std::size_t groups = kp / 4;
    for (std::size_t g = 0; g < groups; ++g) {
        __m512i bv[NB];
#pragma GCC unroll 4
        for (int j = 0; j < NB; ++j) bv[j] = _mm512_loadu_si512(bp + (g * NB + j) * 64);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            std::int32_t four;
            std::memcpy(&four, a + r * lda + 4 * g, 4);
            const __m512i av = _mm512_set1_epi32(four);
#pragma GCC unroll 4
            for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], av, bv[j]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int j = 0; j < NB; ++j) _mm512_storeu_si512(c + r * ldc + 16 * j, acc[r][j]);
}

template <int NB>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void int8_panel_vnni_nb(const std::uint8_t* a, std::size_t m,
                                                                                std::size_t lda, const std::int8_t* bp,
                                                                                std::size_t kp, std::int32_t* c,
                                                                                std::size_t ldc) {
    constexpr int R = NB >= 3 ? 6 : 8;  // R·NB + NB + 1 registers of 32
    std::size_t r = 0;
    for (; r + R <= m; r += R) int8_tile_vnni<R, NB>(a + r * lda, lda, bp, kp, c + r * ldc, ldc);
    switch (m - r) {
        case 7: int8_tile_vnni<7 < R ? 7 : 1, NB>(a + r * lda, lda, bp, kp, c + r * ldc, ldc); break;
        case 6: int8_tile_vnni<6, NB>(a + r * lda, lda, bp, kp, c + r * ldc, ldc); break;
        case 5: int8_tile_vnni<5, NB>(a + r * lda, lda, bp, kp, c + r * ldc, ldc); break;
        case 4: int8_tile_vnni<4, NB>(a + r * lda, lda, bp, kp, c + r * ldc, ldc); break;
        case 3: int8_tile_vnni<3, NB>(a + r * lda, lda, bp, kp, c + r * ldc, ldc); break;
        case 2: int8_tile_vnni<2, NB>(a + r * lda, lda, bp, kp, c + r * ldc, ldc); break;
        case 1: int8_tile_vnni<1, NB>(a + r * lda, lda, bp, kp, c + r * ldc, ldc); break;
        default: break;
    }
}

inline void int8_panel_vnni(const std::uint8_t* a, std::size_t m, std::size_t lda, const PackedInt8& b, std::size_t pi,
                            std::int32_t* c, std::size_t ldc) {
    const std::int8_t* bp = b.panel(pi);
    switch (b.panel_width(pi) / 16) {
        case 4: int8_panel_vnni_nb<4>(a, m, lda, bp, b.kp, c, ldc); break;
        case 3: int8_panel_vnni_nb<3>(a, m, lda, bp, b.kp, c, ldc); break;
        case 2: int8_panel_vnni_nb<2>(a, m, lda, bp, b.kp, c, ldc); break;
        default: int8_panel_vnni_nb<1>(a, m, lda, bp, b.kp, c, ldc); break;
    }
}

// ---- AVX2: R rows × one block of 16 columns, widened to int16 ---------------------------
// vpmaddubsw (u8×s8 pairs into int16) would saturate for full-range u8 (255·127·2 > 32767),
// so both operands are widened to int16 and multiplied with vpmaddwd (pairs into int32:
// exact). One ymm of B = 4 columns × 4 k as int16; lanes 2c, 2c+1 of an accumulator hold
// column c's two pair sums, added at the end.
template <int R>
__attribute__((target("avx2"))) void int8_tile_avx2(const std::uint8_t* a, std::size_t lda, const std::int8_t* bp,
                                                    std::size_t blocks, std::size_t kp, std::int32_t* c,
                                                    std::size_t ldc) {
    __m256i acc[R][4];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
        for (int q = 0; q < 4; ++q) acc[r][q] = _mm256_setzero_si256();
    const std::size_t groups = kp / 4;
    for (std::size_t g = 0; g < groups; ++g) {
        const std::int8_t* p = bp + g * blocks * 64;
        __m256i bv[4];
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q)
            bv[q] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * q)));
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            std::int32_t four;
            std::memcpy(&four, a + r * lda + 4 * g, 4);
            const __m256i av = _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128(four)));
#pragma GCC unroll 4
            for (int q = 0; q < 4; ++q) acc[r][q] = _mm256_add_epi32(acc[r][q], _mm256_madd_epi16(av, bv[q]));
        }
    }
    for (int r = 0; r < R; ++r) {
        alignas(32) std::int32_t lanes[32];
        for (int q = 0; q < 4; ++q) _mm256_store_si256(reinterpret_cast<__m256i*>(lanes + 8 * q), acc[r][q]);
        for (int j = 0; j < 16; ++j) c[r * ldc + j] = lanes[2 * j] + lanes[2 * j + 1];
    }
}

inline void int8_panel_avx2(const std::uint8_t* a, std::size_t m, std::size_t lda, const PackedInt8& b, std::size_t pi,
                            std::int32_t* c, std::size_t ldc) {
    const std::size_t blocks = b.panel_width(pi) / 16;
    for (std::size_t bl = 0; bl < blocks; ++bl) {
        const std::int8_t* bp = b.panel(pi) + bl * 64;
        std::int32_t* cb = c + bl * 16;
        std::size_t r = 0;
        for (; r + 2 <= m; r += 2) int8_tile_avx2<2>(a + r * lda, lda, bp, blocks, b.kp, cb + r * ldc, ldc);
        if (r < m) int8_tile_avx2<1>(a + r * lda, lda, bp, blocks, b.kp, cb + r * ldc, ldc);
    }
}

/// Panel `pi` for rows [0, m): C (m, panel width) at c with leading dimension ldc.
inline void int8_panel(Int8Kernel k, const std::uint8_t* a, std::size_t m, std::size_t lda, const PackedInt8& b,
                       std::size_t pi, std::int32_t* c, std::size_t ldc) {
    switch (k) {
        case Int8Kernel::Avx512Vnni: int8_panel_vnni(a, m, lda, b, pi, c, ldc); return;
        case Int8Kernel::Avx2: int8_panel_avx2(a, m, lda, b, pi, c, ldc); return;
        case Int8Kernel::Scalar: int8_panel_scalar(a, m, lda, b, pi, c, ldc); return;
    }
}

// Rows per block when a panel's C is computed and consumed piecewise (fits L2 with the panel).
inline constexpr std::size_t kInt8RowBlock = 256;
}  // namespace detail

/// The int8 product A (M, K) · Bᵀ in exact int32, handed over in tiles: for each panel of B
/// and block of up to 256 rows, `consume(r0, rows, c0, w, tile, ldt)` receives C[r0 : r0+rows,
/// c0 : c0+w] (tile, leading dimension ldt), to dequantize while it is in cache. A is u8,
/// row-major, leading dimension lda ≥ b.kp (columns k ≥ K are multiplied by B's zero
/// padding). Panels run in parallel on rgrid's pool (consume is called concurrently, on
/// disjoint tiles).
template <class F>
void gemm_u8s8s32_tiles(const std::uint8_t* a, std::size_t m, std::size_t lda, const PackedInt8& b, F&& consume) {
    RGRID_CHECK(lda >= b.kp, "gemm_u8s8s32: lda ", lda, " < padded K ", b.kp);
    if (m == 0) return;
    const Int8Kernel kernel = int8_kernel();
    parallel_for(b.num_panels(), 1, [&](std::size_t p0, std::size_t p1) {
        thread_local std::vector<std::int32_t> tile;
        tile.resize(detail::kInt8RowBlock * PackedInt8::kPanel);
        for (std::size_t pi = p0; pi < p1; ++pi) {
            const std::size_t c0 = pi * PackedInt8::kPanel, w = std::min(b.panel_width(pi), b.n - c0);
            for (std::size_t r0 = 0; r0 < m; r0 += detail::kInt8RowBlock) {
                const std::size_t rows = std::min(detail::kInt8RowBlock, m - r0);
                detail::int8_panel(kernel, a + r0 * lda, rows, lda, b, pi, tile.data(), PackedInt8::kPanel);
                consume(r0, rows, c0, w, static_cast<const std::int32_t*>(tile.data()), PackedInt8::kPanel);
            }
        }
    });
}

/// C (M, N) = A (M, K) · Bᵀ in exact int32 (see gemm_u8s8s32_tiles), C row-major with ldc ≥ N.
/// Example: `gemm_u8s8s32(a, M, pw.kp, pw, c.data(), pw.n);`
inline void gemm_u8s8s32(const std::uint8_t* a, std::size_t m, std::size_t lda, const PackedInt8& b, std::int32_t* c,
                         std::size_t ldc) {
    RGRID_CHECK(ldc >= b.n, "gemm_u8s8s32: ldc ", ldc, " < N ", b.n);
    gemm_u8s8s32_tiles(a, m, lda, b,
                       [&](std::size_t r0, std::size_t rows, std::size_t c0, std::size_t w, const std::int32_t* t,
                           std::size_t ldt) {
                           for (std::size_t r = 0; r < rows; ++r)
                               std::copy(t + r * ldt, t + r * ldt + w, c + (r0 + r) * ldc + c0);
                       });
}

namespace detail {
// ---- the activation quantizer's two passes: a row's range, then its codes ---------------
// Every variant gives the same bytes: min/max are exact, x·inv is one IEEE multiply, and the
// conversion rounds to nearest, ties to even (cvtps2dq in the default MXCSR mode, nearbyint).
inline std::uint8_t code_u8(float x, float inv, std::int32_t z) {
    const std::int32_t v = static_cast<std::int32_t>(std::nearbyint(x * inv)) + z;
    return static_cast<std::uint8_t>(std::clamp(v, 0, kInt8ActivationMax));
}
// lo = min(0, min x), hi = max(0, max x); false when a value is NaN or ±Inf.
inline bool row_range_scalar(const float* x, std::size_t k, float& lo, float& hi) {
    float nan = 0.f;  // stays 0 unless an element is NaN or ±Inf
    for (std::size_t i = 0; i < k; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
        nan += x[i] * 0.f;
    }
    return nan == 0.f;
}
inline void row_codes_scalar(const float* x, std::size_t k, float inv, std::int32_t z, std::uint8_t* q) {
    for (std::size_t i = 0; i < k; ++i) q[i] = code_u8(x[i], inv, z);
}
__attribute__((target("avx512f,avx512bw"))) inline bool row_range_avx512(const float* x, std::size_t k, float& lo,
                                                                          float& hi) {
    __m512 vlo = _mm512_setzero_ps(), vhi = vlo, vnan = vlo;
    const __m512 zero = _mm512_setzero_ps();
    std::size_t i = 0;
    for (; i + 16 <= k; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        vlo = _mm512_min_ps(vlo, v);
        vhi = _mm512_max_ps(vhi, v);
        vnan = _mm512_add_ps(vnan, _mm512_mul_ps(v, zero));
    }
    lo = std::min(lo, _mm512_reduce_min_ps(vlo));
    hi = std::max(hi, _mm512_reduce_max_ps(vhi));
    const bool finite = _mm512_reduce_add_ps(vnan) == 0.f;
    return row_range_scalar(x + i, k - i, lo, hi) && finite;
}
__attribute__((target("avx512f,avx512bw"))) inline void row_codes_avx512(const float* x, std::size_t k, float inv,
                                                                          std::int32_t z, std::uint8_t* q) {
    const __m512 vinv = _mm512_set1_ps(inv);
    const __m512i vz = _mm512_set1_epi32(z), v0 = _mm512_setzero_si512(), v255 = _mm512_set1_epi32(kInt8ActivationMax);
    std::size_t i = 0;
    for (; i + 16 <= k; i += 16) {
        __m512i t = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + i), vinv)), vz);
        t = _mm512_min_epi32(_mm512_max_epi32(t, v0), v255);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm512_cvtepi32_epi8(t));
    }
    row_codes_scalar(x + i, k - i, inv, z, q + i);
}
__attribute__((target("avx2"))) inline bool row_range_avx2(const float* x, std::size_t k, float& lo, float& hi) {
    __m256 vlo = _mm256_setzero_ps(), vhi = vlo, vnan = vlo;
    const __m256 zero = _mm256_setzero_ps();
    std::size_t i = 0;
    for (; i + 8 <= k; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        vlo = _mm256_min_ps(vlo, v);
        vhi = _mm256_max_ps(vhi, v);
        vnan = _mm256_add_ps(vnan, _mm256_mul_ps(v, zero));
    }
    alignas(32) float l[8], h[8], n[8];
    _mm256_store_ps(l, vlo), _mm256_store_ps(h, vhi), _mm256_store_ps(n, vnan);
    float nan = 0.f;
    for (int j = 0; j < 8; ++j) lo = std::min(lo, l[j]), hi = std::max(hi, h[j]), nan += n[j];
    return row_range_scalar(x + i, k - i, lo, hi) && nan == 0.f;
}
__attribute__((target("avx2"))) inline __m256i codes8_avx2(const float* p, __m256 vinv, __m256i vz) {
    const __m256i t = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(p), vinv)), vz);
    return _mm256_min_epi32(_mm256_max_epi32(t, _mm256_setzero_si256()), _mm256_set1_epi32(kInt8ActivationMax));
}
__attribute__((target("avx2"))) inline void row_codes_avx2(const float* x, std::size_t k, float inv, std::int32_t z,
                                                           std::uint8_t* q) {
    const __m256 vinv = _mm256_set1_ps(inv);
    const __m256i vz = _mm256_set1_epi32(z);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    std::size_t i = 0;
    for (; i + 32 <= k; i += 32) {  // 4×8 int32 in [0, 255] -> 32 bytes (packs work per 128-bit lane)
        const __m256i ab = _mm256_packs_epi32(codes8_avx2(x + i, vinv, vz), codes8_avx2(x + i + 8, vinv, vz));
        const __m256i cd = _mm256_packs_epi32(codes8_avx2(x + i + 16, vinv, vz), codes8_avx2(x + i + 24, vinv, vz));
        const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(ab, cd), order);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), bytes);
    }
    row_codes_scalar(x + i, k - i, inv, z, q + i);
}
inline bool row_range(Int8Kernel k, const float* x, std::size_t n, float& lo, float& hi) {
    switch (k) {
        case Int8Kernel::Avx512Vnni: return row_range_avx512(x, n, lo, hi);
        case Int8Kernel::Avx2: return row_range_avx2(x, n, lo, hi);
        default: return row_range_scalar(x, n, lo, hi);
    }
}
inline void row_codes(Int8Kernel k, const float* x, std::size_t n, float inv, std::int32_t z, std::uint8_t* q) {
    switch (k) {
        case Int8Kernel::Avx512Vnni: row_codes_avx512(x, n, inv, z, q); return;
        case Int8Kernel::Avx2: row_codes_avx2(x, n, inv, z, q); return;
        default: row_codes_scalar(x, n, inv, z, q); return;
    }
}
}  // namespace detail

/// Per-row asymmetric 8-bit quantization of X (M, K) float: for each row, scale s = (max −
/// min) / 255 over the row's range widened to include 0 (so 0 is exact), zero point z =
/// round(−min / s), code q = clamp(round(x / s) + z, 0, 255), x ≈ s · (q − z). Writes q (M,
/// ldq ≥ K, columns ≥ K set to 0), scale (M), zero_point (M). A row of zeros gets s = 1, z = 0.
/// Rounding is to nearest, ties to even (as ORT's and PyTorch's quantizers).
inline void quantize_rows_u8(const float* x, std::size_t m, std::size_t k, std::uint8_t* q, std::size_t ldq,
                             float* scale, std::int32_t* zero_point) {
    RGRID_CHECK(ldq >= k, "quantize_rows_u8: ldq ", ldq, " < K ", k);
    const Int8Kernel kernel = int8_kernel();
    std::vector<unsigned char> bad(m, 0);  // rows with NaN/Inf (checked after the parallel loop)
    parallel_for(m, std::max<std::size_t>(1, 16384 / std::max<std::size_t>(k, 1)), [&](std::size_t r0, std::size_t r1) {
        for (std::size_t r = r0; r < r1; ++r) {
            const float* xr = x + r * k;
            std::uint8_t* qr = q + r * ldq;
            float lo = 0.f, hi = 0.f;
            if (!detail::row_range(kernel, xr, k, lo, hi)) {
                bad[r] = 1;
                continue;
            }
            const float s = hi > lo ? (hi - lo) / float(kInt8ActivationMax) : 1.f;
            const float inv = 1.f / s;
            const std::int32_t z = static_cast<std::int32_t>(std::nearbyint(-lo * inv));
            detail::row_codes(kernel, xr, k, inv, z, qr);
            std::fill(qr + k, qr + ldq, std::uint8_t(0));
            scale[r] = s;
            zero_point[r] = z;
        }
    });
    for (std::size_t r = 0; r < m; ++r)
        RGRID_CHECK(!bad[r], "quantize_rows_u8: row ", r, " of (", m, ", ", k, ") holds NaN or Inf; cannot quantize");
}

}  // namespace rgrid
