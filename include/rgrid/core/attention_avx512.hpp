#pragma once
// Fused single-head attention for inference on AVX-512 CPUs: softmax(sc·Q·Kᵀ + mask)·V for
// one (batch, head), a tile of 12 queries at a time with its scores in L1 (ops::attention's no-graph, no-dropout
// path uses it for float where the CPU has AVX-512F and the head size is a multiple of 16).
//
// Why (measured, docs/performance.md "Fused inference attention"): the GEMM path writes the
// (T, T) scores, then the mask + max, exp + sum and scale passes and the P·V product's pack
// each read them again — five trips over 1 MiB per head at T = 512, which is L2's size on
// this machine; with int8 Linears that was half of MiniLM's 1×512 forward.
//
// Per head: Kᵀ packed once into (HS, Tp) (Tp = T rounded up to 16; padding keys get −inf
// through the key bias), then for each tile of 12 query rows (the Q tile copied into a
// sliver: 12 contiguous floats per dimension):
//   S (12, Tp) = sc · Q_tile · Kᵀ + bias     32 keys per step in 24 zmm accumulators (12 × 2),
//                                           one running max per row
//   P = exp(S − max), Σ per row               16 lanes at a time, in place (24 KiB at T = 512)
//   Pᵀ (Tp, 12)                               16×16 register transposes
//   out_tile (12, HS) = (P · V) / Σ           32 dims per step, V read in place (rows at stride ld)
// Both products are one loop, tile_product: per step one row of B (2 loads) × 12 broadcasts
// of the sliver (24 FMAs), the shape of sgemm_avx512.hpp's micro-kernel.
// A row whose keys are all −inf gives zeros (as softmax_row_inplace does). Results differ from
// the GEMM path by float rounding only (summation order; the same exp polynomial, fast_math.hpp).
// Legend: T tokens (keys = queries), HS head size, ld the row stride of q, k, v and out.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "rgrid/core/sgemm_avx512.hpp"

namespace rgrid {

namespace detail {
inline bool& fused_attention_slot() {
    static bool on = [] {
        const char* e = std::getenv("RGRID_ATTENTION");  // "gemm" forces the GEMM path (A/B runs)
        return __builtin_cpu_supports("avx512f") && !(e && std::strcmp(e, "gemm") == 0);
    }();
    return on;
}
}  // namespace detail

/// Whether ops::attention's inference path (no graph, no dropout, float, head size a
/// multiple of 16) runs the fused kernel of this file: on where the CPU has AVX-512F, unless
/// RGRID_ATTENTION=gemm or set_fused_attention(false). Not thread-safe against running ops.
inline bool fused_attention() { return detail::fused_attention_slot(); }
inline void set_fused_attention(bool on) { detail::fused_attention_slot() = on && __builtin_cpu_supports("avx512f"); }

}  // namespace rgrid

namespace rgrid::detail::attn {

inline constexpr std::size_t kRows = 12;  // query rows per tile (the 12×32 shape of sgemm's micro-tile)

// exp(x) for 16 lanes: the polynomial of fast_math.hpp's exp8 (x = n·ln2 + r, degree 6),
// exactly 0 below −87.3 (−inf included), NaN kept.
__attribute__((target("avx512f"))) inline __m512 exp16(__m512 x) {
    const __mmask16 under = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_LT_OQ);
    __m512 xc = _mm512_max_ps(_mm512_set1_ps(-87.3f), x);  // max(c, x) and min(c, x) keep a NaN x
    xc = _mm512_min_ps(_mm512_set1_ps(88.7f), xc);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f),
                                     _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), xc));
    __m512 p = _mm512_set1_ps(1.f / 720.f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120.f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24.f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6.f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
    const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mul_ps(static_cast<__mmask16>(~under), p, _mm512_castsi512_ps(bits));
}

// acc[r][c] = Σ_{t < steps} a[t·12 + r]·b[t·ldb + 16c, +16) for the tile's 12 rows: a is a
// sliver (12 contiguous floats per step), b a row of 16·NC floats per step. Both products
// of a tile are this loop: scores (a = the Q tile over d, b = Kᵀ rows) and P·V (a = Pᵀ over
// keys, b = V rows).
template <int NC>
__attribute__((target("avx512f"))) inline void tile_product(const float* a, const float* b, std::size_t ldb,
                                                            std::size_t steps, __m512 (&acc)[kRows][NC]) {
#pragma GCC unroll 12
    for (std::size_t r = 0; r < kRows; ++r)
#pragma GCC unroll 2
        for (int c = 0; c < NC; ++c) acc[r][c] = _mm512_setzero_ps();
    for (std::size_t t = 0; t < steps; ++t, a += kRows, b += ldb) {
        __m512 bv[NC];
#pragma GCC unroll 2
        for (int c = 0; c < NC; ++c) bv[c] = _mm512_loadu_ps(b + 16 * c);
#pragma GCC unroll 12
        for (std::size_t r = 0; r < kRows; ++r) {
            const __m512 ab = _mm512_set1_ps(a[r]);
#pragma GCC unroll 2
            for (int c = 0; c < NC; ++c) acc[r][c] = _mm512_fmadd_ps(ab, bv[c], acc[r][c]);
        }
    }
}

// S[r][j0, j0 + 16·NC) = sc·Q_tile·Kᵀ + bias for the tile's 12 rows (qs: the Q tile as a
// sliver over d); updates the rows' running maxima.
template <int NC>
__attribute__((target("avx512f"))) inline void score_chunk(const float* qs, std::size_t HS, const float* kt,
                                                           std::size_t Tp, std::size_t j0, float sc,
                                                           const float* bias, float* s, __m512* mx) {
    __m512 acc[kRows][NC];
    tile_product<NC>(qs, kt + j0, Tp, HS, acc);
    const __m512 scv = _mm512_set1_ps(sc);
#pragma GCC unroll 2
    for (int c = 0; c < NC; ++c) {
        const __m512 bv = _mm512_loadu_ps(bias + j0 + 16 * c);
#pragma GCC unroll 12
        for (std::size_t r = 0; r < kRows; ++r) {
            const __m512 v = _mm512_fmadd_ps(acc[r][c], scv, bv);
            _mm512_storeu_ps(s + r * Tp + j0 + 16 * c, v);
            mx[r] = _mm512_max_ps(mx[r], v);
        }
    }
}

// out[r][c0, c0 + 16·NV) = inv[r]·Σ_{j<T} Pᵀ[j][r]·V[j][c0 ...] for the tile's first `rows`
// rows (pt: the probabilities transposed, row j = 12 contiguous floats; V rows at stride ld).
template <int NV>
__attribute__((target("avx512f"))) inline void pv_group(const float* pt, const float* v, std::size_t ld,
                                                        std::size_t Tn, std::size_t c0, const float* inv, float* out,
                                                        std::size_t rows) {
    __m512 acc[kRows][NV];
    tile_product<NV>(pt, v + c0, ld, Tn, acc);
    for (std::size_t r = 0; r < rows; ++r)
#pragma GCC unroll 2
        for (int c = 0; c < NV; ++c)
            _mm512_storeu_ps(out + r * ld + c0 + 16 * c, _mm512_mul_ps(acc[r][c], _mm512_set1_ps(inv[r])));
}

/// One (batch, head): out (T, HS) = softmax(sc·q·kᵀ + key_bias)·v, where q, k, v, out are
/// (T, HS) views with row stride ld and key_bias (T) is the additive mask (null: none).
/// Needs HS % 16 == 0. Scratch is per thread and reused (no allocation in steady state).
__attribute__((target("avx512f"))) inline void head_forward(const float* q, const float* k, const float* v,
                                                            std::size_t ld, std::size_t Tn, std::size_t HS,
                                                            float sc, const float* key_bias, float* out) {
    const std::size_t Tp = (Tn + 15) / 16 * 16;
    thread_local std::vector<float> kt_buf, s_buf, pt_buf, qs_buf, bias_buf;
    if (kt_buf.size() < HS * Tp) kt_buf.resize(HS * Tp);
    if (s_buf.size() < kRows * Tp) s_buf.resize(kRows * Tp), pt_buf.resize(kRows * Tp);
    if (qs_buf.size() < kRows * HS) qs_buf.resize(kRows * HS);
    if (bias_buf.size() < Tp) bias_buf.resize(Tp);
    float *kt = kt_buf.data(), *s = s_buf.data(), *pt = pt_buf.data(), *qs = qs_buf.data(), *bias = bias_buf.data();
    // Kᵀ (HS, Tp): 16 keys × 16 dims at a time through a register transpose; padding keys are 0
    for (std::size_t j0 = 0; j0 < Tp; j0 += 16)
        for (std::size_t d0 = 0; d0 < HS; d0 += 16)
            sgemm::transpose16_store(k + j0 * ld + d0, ld, std::min<std::size_t>(16, Tn - j0), kt + d0 * Tp + j0, Tp,
                                     0xFFFF);
    const float ninf = -std::numeric_limits<float>::infinity();
    for (std::size_t j = 0; j < Tp; ++j) bias[j] = j >= Tn ? ninf : key_bias ? key_bias[j] : 0.f;

    for (std::size_t i0 = 0; i0 < Tn; i0 += kRows) {
        const std::size_t rows = std::min(kRows, Tn - i0);
        for (std::size_t d = 0; d < HS; ++d)  // Q tile as a sliver; rows past the end are 0 (not stored)
            for (std::size_t r = 0; r < kRows; ++r) qs[d * kRows + r] = r < rows ? q[(i0 + r) * ld + d] : 0.f;
        __m512 mx[kRows];
        for (auto& m : mx) m = _mm512_set1_ps(ninf);
        std::size_t j0 = 0;
        for (; j0 + 32 <= Tp; j0 += 32) score_chunk<2>(qs, HS, kt, Tp, j0, sc, bias, s, mx);
        if (j0 < Tp) score_chunk<1>(qs, HS, kt, Tp, j0, sc, bias, s, mx);
        float inv[kRows];
        for (std::size_t r = 0; r < kRows; ++r) {
            float* sr = s + r * Tp;
            const float m = _mm512_reduce_max_ps(mx[r]);
            if (m == ninf) {  // every key masked with −inf: zero probabilities
                for (std::size_t j = 0; j < Tp; ++j) sr[j] = 0.f;
                inv[r] = 0.f;
                continue;
            }
            const __m512 mv = _mm512_set1_ps(m);
            __m512 sum = _mm512_setzero_ps();
            for (std::size_t j = 0; j < Tp; j += 16) {
                const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(sr + j), mv));
                _mm512_storeu_ps(sr + j, e);
                sum = _mm512_add_ps(sum, e);
            }
            inv[r] = 1.f / _mm512_reduce_add_ps(sum);
        }
        // Pᵀ (Tp, 12) for the product's broadcasts
        for (std::size_t j0 = 0; j0 < Tp; j0 += 16)
            sgemm::transpose16_store(s + j0, Tp, kRows, pt + j0 * kRows, kRows, (1u << kRows) - 1);
        float* o = out + i0 * ld;
        std::size_t c0 = 0;
        for (; c0 + 32 <= HS; c0 += 32) pv_group<2>(pt, v, ld, Tn, c0, inv, o, rows);
        if (c0 < HS) pv_group<1>(pt, v, ld, Tn, c0, inv, o, rows);
    }
}

}  // namespace rgrid::detail::attn
