#pragma once
// Vectorized float exp and erf for the GELU and softmax loops (std::exp/std::erf on float
// are scalar library calls, ~10× slower there). Written with GCC/Clang vector extensions
// (f8: 16 lanes with AVX-512F, 8 with AVX, 4 otherwise; names say 8 for short) so vectorization never
// depends on compiler flags such as -fno-math-errno. Double keeps the exact library
// functions, so the double-precision gradient checks see exact math.
//   exp: x = n·ln2 + r, |r| ≤ ln2/2, degree-6 Taylor polynomial, 2ⁿ through the exponent
//        bits; relative error < 3e-7 on [-87, 88], exactly 0 below -87.3 (masked scores).
//   erf: Abramowitz & Stegun 7.1.26 (Handbook of Mathematical Functions, 1964),
//        |error| < 1.5e-7 plus float rounding.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace rgrid::detail {

// 16 lanes with AVX-512F, 8 with AVX, else 4 (SSE/NEON): never a vector type the target cannot
// pass in registers. The kernels are lane-wise, so an element's value does not depend on the
// width; only the lane sums (sum8 below) are added in a different order.
#if defined(__AVX512F__)
inline constexpr std::size_t kLanes = 16;
#elif defined(__AVX__)
inline constexpr std::size_t kLanes = 8;
#else
inline constexpr std::size_t kLanes = 4;
#endif
using f8 = float __attribute__((vector_size(kLanes * sizeof(float))));
using i8 = std::int32_t __attribute__((vector_size(kLanes * sizeof(std::int32_t))));

inline f8 splat(float v) { return f8{} + v; }
inline f8 load8(const float* p) {
    f8 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store8(float* p, f8 v) { std::memcpy(p, &v, sizeof v); }
// mask ? a : b, lane-wise (mask lanes are all-ones or zero, as comparisons give).
inline f8 select8(i8 mask, f8 a, f8 b) { return (f8)(((i8)a & mask) | ((i8)b & ~mask)); }
inline f8 abs8(f8 x) { return (f8)((i8)x & (i8{} + 0x7fffffff)); }
inline f8 copysign8(f8 mag, f8 sgn) {
    const i8 sign = i8{} + std::int32_t(0x80000000u);
    return (f8)(((i8)mag & ~sign) | ((i8)sgn & sign));
}

inline f8 exp8(f8 x) {
    const i8 under = x < splat(-87.3f);
    f8 xc = select8(under, splat(-87.3f), x);
    xc = select8(xc > splat(88.7f), splat(88.7f), xc);
    const f8 n = (xc * 1.44269504088896341f + 12582912.f) - 12582912.f;  // round to nearest (1.5·2²³ trick)
    const f8 r = (xc - n * 0.693359375f) + n * 2.12194440e-4f;             // ln2 = hi + lo, split
    f8 p = splat(1.f / 720.f);
    p = p * r + 1.f / 120.f;
    p = p * r + 1.f / 24.f;
    p = p * r + 1.f / 6.f;
    p = p * r + 0.5f;
    p = p * r + 1.f;
    p = p * r + 1.f;
    const i8 bits = (__builtin_convertvector(n, i8) + 127) << 23;
    return select8(under, splat(0.f), p * (f8)bits);
}
// erf(x) given e = exp(-x²).
inline f8 erf8_with_exp(f8 x, f8 e) {
    const f8 t = 1.f / (abs8(x) * 0.3275911f + 1.f);
    f8 p = splat(1.061405429f);
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    return copysign8(1.f - p * t * e, x);
}

/// y[i] = k(x[i]) for a lane-wise kernel k(f8) → f8; the tail goes through a padded block.
template <class K>
void map8(const float* x, float* y, std::size_t n, K k) {
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) store8(y + i, k(load8(x + i)));
    if (i < n) {
        float buf[kLanes] = {};
        std::memcpy(buf, x + i, (n - i) * sizeof(float));
        store8(buf, k(load8(buf)));
        std::memcpy(y + i, buf, (n - i) * sizeof(float));
    }
}

/// The lanes of v added in lane order (the horizontal step of every kLanes partial sum).
inline float lane_sum(f8 v) {
    float s = 0;
    for (std::size_t l = 0; l < kLanes; ++l) s += v[l];
    return s;
}
/// Σ x[j] for j < n: kLanes partial sums, then the lanes and the tail in order.
inline float sum8(const float* x, std::size_t n) {
    f8 acc = splat(0.f);
    std::size_t j = 0;
    for (; j + kLanes <= n; j += kLanes) acc += load8(x + j);
    float s = lane_sum(acc);
    for (; j < n; ++j) s += x[j];
    return s;
}
/// Σ (x[j] − m)² for j < n, summed as sum8 sums.
inline float sum_sq_dev8(const float* x, float m, std::size_t n) {
    f8 acc = splat(0.f);
    std::size_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
        const f8 d = load8(x + j) - m;
        acc += d * d;
    }
    float s = lane_sum(acc);
    for (; j < n; ++j) s += (x[j] - m) * (x[j] - m);
    return s;
}

inline float exp_approx(float x) { return exp8(splat(x))[0]; }

/// exp: the vector approximation for float, std::exp otherwise.
template <class T>
inline T fast_exp(T x) {
    if constexpr (std::is_same_v<T, float>) return exp_approx(x);
    else return std::exp(x);
}

}  // namespace rgrid::detail
