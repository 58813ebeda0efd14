#pragma once
// Fused ops with hand-written backward passes (llm.c style): gelu, softmax, log_softmax,
// layer_norm, dropout, embedding and cross_entropy (attention: ops/attention.hpp). Each is
// one or two raw loops over contiguous buffers forward and backward, its kernels named in
// ops::detail (gelu_forward/gelu_backward, layer_norm_forward/layer_norm_backward, ...), and
// saves what its backward needs as saved_* (mean, rstd, probs, keep mask).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <numbers>
#include <type_traits>
#include <vector>

#include "rgrid/autograd/ops/common.hpp"
#include "rgrid/autograd/ops/fast_math.hpp"
#include "rgrid/core/rng.hpp"

namespace rgrid::ops {

namespace detail {
// x[j] = exp(x[j] − mx) for j < n, returns Σ x[j] (float: kLanes at a time).
template <class T>
T exp_shift_sum(T* x, std::size_t n, T mx) {
    if constexpr (std::is_same_v<T, float>) {
        using namespace rgrid::detail;
        f8 acc = splat(0.f);
        std::size_t j = 0;
        for (; j + kLanes <= n; j += kLanes) {
            const f8 e = exp8(load8(x + j) - mx);
            store8(x + j, e);
            acc += e;
        }
        float s = lane_sum(acc);
        for (; j < n; ++j) s += (x[j] = exp_approx(x[j] - mx));
        return s;
    } else {
        T s = 0;
        for (std::size_t j = 0; j < n; ++j) s += (x[j] = std::exp(x[j] - mx));
        return s;
    }
}
// x[j] += add[j] (when add is not null), and returns max_j x[j] (NaN entries are skipped, as
// `x > m ? x : m` skips them). Float runs kLanes at a time: the scalar compare-and-select
// chain is latency-bound (one element per ~3 cycles; it was 28 % of int8 MiniLM 1×512).
template <class T>
T add_row_max(T* x, const T* add, std::size_t n) {
    T mx = -std::numeric_limits<T>::infinity();
    std::size_t j = 0;
    if constexpr (std::is_same_v<T, float>) {
        using namespace rgrid::detail;
        f8 vm = splat(mx);
        for (; j + kLanes <= n; j += kLanes) {
            f8 v = load8(x + j);
            if (add) {
                v += load8(add + j);
                store8(x + j, v);
            }
            vm = select8(v > vm, v, vm);
        }
        for (std::size_t l = 0; l < kLanes; ++l) mx = vm[l] > mx ? vm[l] : mx;
    }
    for (; j < n; ++j) {
        if (add) x[j] += add[j];
        mx = x[j] > mx ? x[j] : mx;
    }
    return mx;
}
// Softmax of one row in place (stable: subtract the max), after adding `add` (an additive
// mask row, or null). A row whose every entry is -inf becomes all zeros instead of NaN.
template <class T>
void softmax_row_inplace(T* x, std::size_t n, const T* add = nullptr) {
    const T mx = add_row_max(x, add, n);
    if (mx == -std::numeric_limits<T>::infinity()) {
        std::fill(x, x + n, T(0));
        return;
    }
    const T inv = T(1) / exp_shift_sum(x, n, mx);
    std::size_t j = 0;
    if constexpr (std::is_same_v<T, float>) {
        using namespace rgrid::detail;
        for (; j + kLanes <= n; j += kLanes) store8(x + j, load8(x + j) * inv);
    }
    for (; j < n; ++j) x[j] *= inv;
}
// GELU kernels: y = x·Φ(x) and dx (+)= g·(Φ(x) + x·φ(x)). Float runs kLanes (16 with AVX-512F) at a time
// with the vector exp/erf (one exp shared by Φ and φ); double uses std::erf/std::exp.
inline constexpr double kInvSqrt2 = std::numbers::sqrt2 / 2;
inline constexpr double kInvSqrt2Pi = std::numbers::inv_sqrtpi / std::numbers::sqrt2;
template <class T>
void gelu_forward(const T* x, T* y, std::size_t n) {
    if constexpr (std::is_same_v<T, float>) {
        using namespace rgrid::detail;
        map8(x, y, n, [](f8 v) {
            const f8 e = exp8(v * v * -0.5f);  // = exp(-(v/√2)²)
            return v * (erf8_with_exp(v * float(kInvSqrt2), e) + 1.f) * 0.5f;
        });
    } else {
        for (std::size_t i = 0; i < n; ++i) y[i] = x[i] * T(0.5) * (T(1) + std::erf(x[i] * T(kInvSqrt2)));
    }
}
template <class T>
void gelu_backward(const T* x, const T* g, T* dx, std::size_t n, bool fresh) {
    if constexpr (std::is_same_v<T, float>) {
        using namespace rgrid::detail;
        auto grad = [](f8 v, f8 gv) {
            const f8 e = exp8(v * v * -0.5f);
            const f8 cdf = (erf8_with_exp(v * float(kInvSqrt2), e) + 1.f) * 0.5f;
            return gv * (cdf + v * e * float(kInvSqrt2Pi));
        };
        std::size_t i = 0;
        for (; i + kLanes <= n; i += kLanes) {
            const f8 d = grad(load8(x + i), load8(g + i));
            store8(dx + i, fresh ? d : d + load8(dx + i));
        }
        if (i < n) {
            float xb[kLanes] = {}, gb[kLanes] = {};
            std::memcpy(xb, x + i, (n - i) * sizeof(float));
            std::memcpy(gb, g + i, (n - i) * sizeof(float));
            store8(xb, grad(load8(xb), load8(gb)));
            for (std::size_t j = 0; j < n - i; ++j) dx[i + j] = fresh ? xb[j] : dx[i + j] + xb[j];
        }
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            const T cdf = T(0.5) * (T(1) + std::erf(x[i] * T(kInvSqrt2)));
            const T pdf = std::exp(T(-0.5) * x[i] * x[i]) * T(kInvSqrt2Pi);
            const T d = g[i] * (cdf + x[i] * pdf);
            dx[i] = fresh ? d : dx[i] + d;
        }
    }
}
// Grain in rows for a row-wise kernel over rows of length n.
inline std::size_t row_grain(std::size_t n) {
    return std::max<std::size_t>(1, rgrid::detail::kElemGrain / std::max<std::size_t>(n, 1));
}
// Backward of a last-dim op from its output: for each row, row_fn(g_row, y_row, n, emit)
// computes row statistics and calls emit(v) with v(j) = the row's dx[j]; emit writes or adds.
template <class T, class RowFn>
void rowwise_backward(rgrid::detail::Node<T>& xn, const rgrid::detail::Node<T>& out, std::size_t rows, std::size_t n,
                      RowFn row_fn) {
    bool fresh = false;
    T* dx = xn.grad_for_accumulate(fresh).data();
    const T* g = out.grad.data();
    const T* yv = out.value.data();
    parallel_for(rows, row_grain(n), [&](std::size_t rb, std::size_t re) {
        for (std::size_t r = rb; r < re; ++r) {
            T* d = dx + r * n;
            row_fn(g + r * n, yv + r * n, n, [&](auto v) {
                if (fresh) for (std::size_t j = 0; j < n; ++j) d[j] = v(j);
                else for (std::size_t j = 0; j < n; ++j) d[j] += v(j);
            });
        }
    });
}
// One row of LayerNorm's dweight and dbias partial sums: dw[j] += g[j]·x̂[j], db[j] += g[j]
// (either may be null). The product is rounded before the add, never fused into an FMA: that
// is how these sums have always been computed, and keeping it exact keeps trained weights and
// training states bit-identical. The loop vectorizes (no reduction inside).
template <class T>
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("fp-contract=off")))
#endif
void layer_norm_param_grads_row(const T* g, const T* x, T mean, T rstd, std::size_t H, T* dw, T* db) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
    if (dw)
        for (std::size_t j = 0; j < H; ++j) dw[j] += g[j] * ((x[j] - mean) * rstd);
    if (db)
        for (std::size_t j = 0; j < H; ++j) db[j] += g[j];
}
// LayerNorm kernels over rows [r0, r1) of length H (llm.c's layernorm_forward/backward).
// Forward: mean, biased variance, rstd = 1/√(var + eps), y = x̂·weight + bias with
// x̂ = (x − mean)·rstd; mean and rstd are saved per row for the backward pass.
template <class T>
void layer_norm_forward(const T* x, const T* w, const T* b, T eps, std::size_t r0, std::size_t r1, std::size_t H,
                        T* y, T* saved_mean, T* saved_rstd) {
    for (std::size_t r = r0; r < r1; ++r) {
        const T* xr = x + r * H;
        T* yr = y + r * H;
        T m = 0, v = 0;
        if constexpr (std::is_same_v<T, float>) {  // lane sums: a scalar chain is latency-bound
            m = rgrid::detail::sum8(xr, H) / static_cast<T>(H);
            v = rgrid::detail::sum_sq_dev8(xr, m, H) / static_cast<T>(H);
        } else {
            for (std::size_t j = 0; j < H; ++j) m += xr[j];
            m /= static_cast<T>(H);
            for (std::size_t j = 0; j < H; ++j) v += (xr[j] - m) * (xr[j] - m);
            v /= static_cast<T>(H);
        }
        const T rs = T(1) / std::sqrt(v + eps);
        saved_mean[r] = m;
        saved_rstd[r] = rs;
        for (std::size_t j = 0; j < H; ++j) {
            const T xh = (xr[j] - m) * rs;
            yr[j] = (w ? xh * w[j] : xh) + (b ? b[j] : T(0));
        }
    }
}
// Backward, one pass per row for the statistics and one for dx. With ĝ = g·weight:
//   dx = rstd · (term 1 + term 2 + term 3)
//     term 1:  ĝ                 the direct path through x̂
//     term 2: −mean(ĝ)           through the mean
//     term 3: −x̂·mean(ĝ·x̂)       through rstd
//   dweight += g·x̂,  dbias += g   (into this block's partial sums dw, db; either may be null)
// dx may be null (x needs no gradient); `fresh` = write dx instead of adding to it.
template <class T>
void layer_norm_backward(const T* x, const T* g, const T* w, const T* saved_mean, const T* saved_rstd, std::size_t r0,
                         std::size_t r1, std::size_t H, T* dx, bool fresh, T* dw, T* db) {
    for (std::size_t r = r0; r < r1; ++r) {
        const T* gr = g + r * H;
        const T* xr = x + r * H;
        const T m = saved_mean[r], rs = saved_rstd[r];
        layer_norm_param_grads_row(gr, xr, m, rs, H, dw, db);
        T mg = 0, mgx = 0;  // mean(ĝ), mean(ĝ·x̂)
        std::size_t j0 = 0;
        if constexpr (std::is_same_v<T, float>) {  // kLanes partial sums, then the tail in order
            using namespace rgrid::detail;
            f8 ag = splat(0.f), agx = splat(0.f);
            for (; j0 + kLanes <= H; j0 += kLanes) {
                const f8 xh = (load8(xr + j0) - m) * rs;
                const f8 gh = w ? load8(gr + j0) * load8(w + j0) : load8(gr + j0);
                ag += gh;
                agx += gh * xh;
            }
            mg = lane_sum(ag), mgx = lane_sum(agx);
        }
        for (std::size_t j = j0; j < H; ++j) {
            const T xh = (xr[j] - m) * rs;
            const T gh = w ? gr[j] * w[j] : gr[j];
            mg += gh;
            mgx += gh * xh;
        }
        mg /= static_cast<T>(H);
        mgx /= static_cast<T>(H);
        if (!dx) continue;
        T* d = dx + r * H;
        for (std::size_t j = 0; j < H; ++j) {
            const T xh = (xr[j] - m) * rs;
            const T gh = w ? gr[j] * w[j] : gr[j];
            const T v = rs * (gh - mg - xh * mgx);  // rstd · (term 1 + term 2 + term 3)
            d[j] = fresh ? v : d[j] + v;
        }
    }
}
// Adds the `parts` partial sums (parts, H) to n's gradient (H), in part order (deterministic).
template <class T>
void add_partials(rgrid::detail::Node<T>& n, const std::vector<T>& part, std::size_t parts, std::size_t H) {
    bool fresh = false;
    T* d = n.grad_for_accumulate(fresh).data();
    for (std::size_t j = 0; j < H; ++j) {
        T s = fresh ? T(0) : d[j];
        for (std::size_t p = 0; p < parts; ++p) s += part[p * H + j];
        d[j] = s;
    }
}
}  // namespace detail

/// GELU, exact (erf) form as in HF BERT: y = x·Φ(x). https://pytorch.org/docs/stable/generated/torch.nn.GELU.html
/// Backward: dx = g·(Φ(x) + x·φ(x)).
template <class T>
Var<T> gelu(const Var<T>& x) {
    Tensor<T> y = Tensor<T>::from_shape(x.shape());
    const T* xp = x.data();
    T* yp = y.data();
    parallel_for(y.size(), rgrid::detail::kElemGrain,
                 [&](std::size_t b, std::size_t e) { detail::gelu_forward(xp + b, yp + b, e - b); });
    return make_op<T>("gelu", std::move(y), {x}, [xn = x.node_ptr()](rgrid::detail::Node<T>& out) {
        const T* g = out.grad.data();
        const T* xv = xn->value.data();
        bool fresh = false;
        T* dx = xn->grad_for_accumulate(fresh).data();
        parallel_for(out.grad.size(), rgrid::detail::kElemGrain,
                     [&](std::size_t b, std::size_t e) { detail::gelu_backward(xv + b, g + b, dx + b, e - b, fresh); });
    });
}

/// Softmax over the last dim. https://pytorch.org/docs/stable/generated/torch.nn.functional.softmax.html
/// Backward from the saved output y: dx = y ⊙ (g − Σ_j g_j·y_j).
template <class T>
Var<T> softmax(const Var<T>& x) {
    RGRID_CHECK(x.dim() >= 1, "ops::softmax: needs rank ≥ 1, got ", shape_str(x.shape()));
    Tensor<T> y = x.value();
    const std::size_t n = x.shape().back(), rows = x.numel() / std::max<std::size_t>(n, 1);
    T* yp = y.data();
    parallel_for(rows, detail::row_grain(n), [&](std::size_t rb, std::size_t re) {
        for (std::size_t r = rb; r < re; ++r) detail::softmax_row_inplace(yp + r * n, n);
    });
    return make_op<T>("softmax", std::move(y), {x}, [xn = x.node_ptr(), n, rows](rgrid::detail::Node<T>& out) {
        detail::rowwise_backward(*xn, out, rows, n, [](const T* gr, const T* yr, std::size_t m, auto&& emit) {
            T dot = 0;
            for (std::size_t j = 0; j < m; ++j) dot += gr[j] * yr[j];
            emit([=](std::size_t j) { return yr[j] * (gr[j] - dot); });
        });
    });
}

/// log(softmax(x)) over the last dim, computed stably as x − max − log Σ exp(x − max).
/// https://pytorch.org/docs/stable/generated/torch.nn.functional.log_softmax.html
/// Backward: dx = g − exp(y)·Σ_j g_j.
template <class T>
Var<T> log_softmax(const Var<T>& x) {
    RGRID_CHECK(x.dim() >= 1, "ops::log_softmax: needs rank ≥ 1, got ", shape_str(x.shape()));
    Tensor<T> y = Tensor<T>::from_shape(x.shape());
    const std::size_t n = x.shape().back(), rows = x.numel() / std::max<std::size_t>(n, 1);
    const T* xp = x.data();
    T* yp = y.data();
    parallel_for(rows, detail::row_grain(n), [&](std::size_t rb, std::size_t re) {
        for (std::size_t r = rb; r < re; ++r) {
            const T* xr = xp + r * n;
            T* yr = yp + r * n;
            T mx = -std::numeric_limits<T>::infinity();
            for (std::size_t j = 0; j < n; ++j) mx = xr[j] > mx ? xr[j] : mx;
            std::copy(xr, xr + n, yr);
            const T lse = mx + std::log(detail::exp_shift_sum(yr, n, mx));
            for (std::size_t j = 0; j < n; ++j) yr[j] = xr[j] - lse;
        }
    });
    return make_op<T>("log_softmax", std::move(y), {x}, [xn = x.node_ptr(), n, rows](rgrid::detail::Node<T>& out) {
        detail::rowwise_backward(*xn, out, rows, n, [](const T* gr, const T* yr, std::size_t m, auto&& emit) {
            T gs = 0;
            for (std::size_t j = 0; j < m; ++j) gs += gr[j];
            emit([=](std::size_t j) { return gr[j] - rgrid::detail::fast_exp(yr[j]) * gs; });
        });
    });
}

/// LayerNorm over the last dim: y = (x − mean)·rstd·weight + bias, rstd = 1/√(var + eps),
/// biased variance. https://pytorch.org/docs/stable/generated/torch.nn.LayerNorm.html
///   x (…, H), weight (H), bias (H) (either may be an undefined Var: 1 and 0) → (…, H).
/// Forward saves saved_mean and saved_rstd (one per row); backward (detail::layer_norm_backward)
/// is one pass per row: dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·weight,
/// x̂ = (x − mean)·rstd; dweight = Σ_rows g·x̂, dbias = Σ_rows g (per-thread partials, combined in order).
/// Example: `auto h = ops::layer_norm(x, ln_w, ln_b, 1e-12f);`
template <class T>
Var<T> layer_norm(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, T eps) {
    RGRID_CHECK(x.dim() >= 1, "ops::layer_norm: needs rank ≥ 1, got ", shape_str(x.shape()));
    const std::size_t H = x.shape().back(), N = x.numel() / std::max<std::size_t>(H, 1);
    if (weight.defined())
        RGRID_CHECK(weight.dim() == 1 && weight.size(0) == H, "ops::layer_norm: weight ", shape_str(weight.shape()),
                    " does not match x ", shape_str(x.shape()), " (expected (", H, "))");
    if (bias.defined())
        RGRID_CHECK(bias.dim() == 1 && bias.size(0) == H, "ops::layer_norm: bias ", shape_str(bias.shape()),
                    " does not match x ", shape_str(x.shape()), " (expected (", H, "))");
    auto saved_mean = std::make_shared<std::vector<T>>(N);
    auto saved_rstd = std::make_shared<std::vector<T>>(N);
    Tensor<T> y = Tensor<T>::from_shape(x.shape());
    const T* xp = x.data();
    const T* wp = weight.defined() ? weight.data() : nullptr;
    const T* bp = bias.defined() ? bias.data() : nullptr;
    T* yp = y.data();
    parallel_for(N, detail::row_grain(H), [&](std::size_t rb, std::size_t re) {
        detail::layer_norm_forward(xp, wp, bp, eps, rb, re, H, yp, saved_mean->data(), saved_rstd->data());
    });
    auto backward_fn = [xn = x.node_ptr(), wn = weight.node_ptr(), bn = bias.node_ptr(), saved_mean, saved_rstd, N,
                        H](rgrid::detail::Node<T>& out) {
        const bool need_w = wn && wn->requires_grad, need_b = bn && bn->requires_grad;
        // dweight and dbias: one partial sum per block of rows, added up in block order.
        const std::size_t parts = (need_w || need_b) ? std::max<std::size_t>(1, std::min(num_threads(), N / 8)) : 1;
        std::vector<T> dw_part(need_w ? parts * H : 0, T(0)), db_part(need_b ? parts * H : 0, T(0));
        bool fresh_x = false;
        T* dx = xn->requires_grad ? xn->grad_for_accumulate(fresh_x).data() : nullptr;
        const T* w = wn ? wn->value.data() : nullptr;
        parallel_for(parts, 1, [&](std::size_t pb, std::size_t pe) {
            for (std::size_t p = pb; p < pe; ++p)
                detail::layer_norm_backward(xn->value.data(), out.grad.data(), w, saved_mean->data(),
                                            saved_rstd->data(), p * N / parts, (p + 1) * N / parts, H, dx, fresh_x,
                                            need_w ? dw_part.data() + p * H : nullptr,
                                            need_b ? db_part.data() + p * H : nullptr);
        });
        if (need_w) detail::add_partials(*wn, dw_part, parts, H);
        if (need_b) detail::add_partials(*bn, db_part, parts, H);
    };
    return make_op<T>("layer_norm", std::move(y), {x, weight, bias}, std::move(backward_fn));
}

/// The post-LN block's tail in one op: y = layer_norm(dropout(x, p) + residual, weight, bias).
/// x, residual (…, H); weight, bias (H) (either may be undefined). HF BertSelfOutput and
/// BertOutput: `LayerNorm(dropout(dense(h)) + input)`.
/// The result, every gradient and the rng stream are bit-identical to the composed
/// `ops::layer_norm(ops::add(ops::dropout(x, p, rng), residual), weight, bias, eps)` (same
/// keep mask, same arithmetic per element), in one pass over the rows forward (mask, sum,
/// statistics, normalize) and one backward (LayerNorm's kernel writes dresidual and dx
/// directly); saved: the sum (the LayerNorm input), the keep mask, mean and rstd — not the
/// dropout output and the sum as two tensors. p == 0: no mask, no rng use.
/// Example: `auto h = ops::dropout_add_layer_norm(dense_out, input, ln_w, ln_b, 1e-12f, 0.1f, rng);`
template <class T>
Var<T> dropout_add_layer_norm(const Var<T>& x, const Var<T>& residual, const Var<T>& weight, const Var<T>& bias,
                              T eps, T p, Rng& rng) {
    RGRID_CHECK(x.dim() >= 1, "ops::dropout_add_layer_norm: needs rank ≥ 1, got ", shape_str(x.shape()));
    RGRID_CHECK(shape_of(x.value()) == shape_of(residual.value()), "ops::dropout_add_layer_norm: x ",
                shape_str(x.shape()), " and residual ", shape_str(residual.shape()), " must have the same shape");
    RGRID_CHECK(p >= T(0) && p < T(1), "ops::dropout_add_layer_norm: p must be in [0, 1), got ", p);
    const std::size_t H = x.shape().back(), N = x.numel() / std::max<std::size_t>(H, 1);
    if (weight.defined())
        RGRID_CHECK(weight.dim() == 1 && weight.size(0) == H, "ops::dropout_add_layer_norm: weight ",
                    shape_str(weight.shape()), " does not match x ", shape_str(x.shape()), " (expected (", H, "))");
    if (bias.defined())
        RGRID_CHECK(bias.dim() == 1 && bias.size(0) == H, "ops::dropout_add_layer_norm: bias ",
                    shape_str(bias.shape()), " does not match x ", shape_str(x.shape()), " (expected (", H, "))");
    const bool drop = p > T(0);
    const T keep_scale = T(1) / (T(1) - p);
    auto saved_sum = std::make_shared<Tensor<T>>(Tensor<T>::from_shape(x.shape()));  // dropout(x) + residual
    auto saved_keep = std::make_shared<std::vector<std::uint8_t>>(drop ? N * H : 0);
    auto saved_mean = std::make_shared<std::vector<T>>(N);
    auto saved_rstd = std::make_shared<std::vector<T>>(N);
    Tensor<T> y = Tensor<T>::from_shape(x.shape());
    const T *xp = x.data(), *rp = residual.data();
    const T* wp = weight.defined() ? weight.data() : nullptr;
    const T* bp = bias.defined() ? bias.data() : nullptr;
    T *sp = saved_sum->data(), *yp = y.data();
    std::uint8_t* kp = saved_keep->data();
    const std::uint64_t base = drop ? rng.counter() : 0;
    parallel_for(N, detail::row_grain(H), [&](std::size_t rb, std::size_t re) {
        const std::size_t b = rb * H, e = re * H;
        if (drop) {
            rgrid::detail::dropout_mask(rng, base, b, e, double(p), kp + b);
            // Two loops, as the composed dropout and add: the dropped value is rounded before
            // the add (one loop would let the compiler fuse x·scale + residual into an FMA).
            for (std::size_t i = b; i < e; ++i) sp[i] = kp[i] ? xp[i] * keep_scale : T(0);
            for (std::size_t i = b; i < e; ++i) sp[i] += rp[i];
        } else {
            for (std::size_t i = b; i < e; ++i) sp[i] = xp[i] + rp[i];
        }
        detail::layer_norm_forward(sp, wp, bp, eps, rb, re, H, yp, saved_mean->data(), saved_rstd->data());
    });
    if (drop) rng.skip(rgrid::detail::dropout_draws(N * H));
    auto backward_fn = [xn = x.node_ptr(), rn = residual.node_ptr(), wn = weight.node_ptr(), bn = bias.node_ptr(),
                        saved_sum, saved_keep, saved_mean, saved_rstd, keep_scale, N, H](rgrid::detail::Node<T>& out) {
        const bool need_w = wn && wn->requires_grad, need_b = bn && bn->requires_grad;
        const bool need_x = xn->requires_grad, need_r = rn->requires_grad;
        const std::size_t parts = (need_w || need_b) ? std::max<std::size_t>(1, std::min(num_threads(), N / 8)) : 1;
        std::vector<T> dw_part(need_w ? parts * H : 0, T(0)), db_part(need_b ? parts * H : 0, T(0));
        // dsum = LayerNorm's dx: the residual's gradient as it is, x's through the mask. The
        // residual is fetched first, as the composed add's backward did (same buffers if x is residual).
        bool fresh_r = false, fresh_x = false;
        T* dr = need_r ? rn->grad_for_accumulate(fresh_r).data() : nullptr;
        T* dx = need_x ? xn->grad_for_accumulate(fresh_x).data() : nullptr;
        const std::uint8_t* keep = saved_keep->empty() ? nullptr : saved_keep->data();
        const T* w = wn ? wn->value.data() : nullptr;
        parallel_for(parts, 1, [&](std::size_t pb, std::size_t pe) {
            for (std::size_t q = pb; q < pe; ++q) {
                const std::size_t r0 = q * N / parts, r1 = (q + 1) * N / parts, o = r0 * H, n = (r1 - r0) * H;
                T* ds = (dr || dx) ? rgrid::detail::scratch<T>(n, 2) : nullptr;  // dsum of rows [r0, r1)
                detail::layer_norm_backward(saved_sum->data() + o, out.grad.data() + o, w, saved_mean->data() + r0,
                                            saved_rstd->data() + r0, 0, r1 - r0, H, ds, true,
                                            need_w ? dw_part.data() + q * H : nullptr,
                                            need_b ? db_part.data() + q * H : nullptr);
                if (!ds) continue;
                for (std::size_t i = 0; i < n; ++i) {
                    const T g = ds[i];
                    if (dr) dr[o + i] = fresh_r ? g : dr[o + i] + g;
                    if (dx) {
                        const T v = keep ? (keep[o + i] ? g * keep_scale : T(0)) : g;
                        dx[o + i] = fresh_x ? v : dx[o + i] + v;
                    }
                }
            }
        });
        if (need_w) detail::add_partials(*wn, dw_part, parts, H);
        if (need_b) detail::add_partials(*bn, db_part, parts, H);
    };
    return make_op<T>("dropout_add_layer_norm", std::move(y), {x, residual, weight, bias}, std::move(backward_fn));
}

/// Inverted dropout: zero each element with probability p, scale the rest by 1/(1−p).
/// https://pytorch.org/docs/stable/generated/torch.nn.functional.dropout.html
/// Returns x itself when p == 0 (the caller decides training vs eval). The keep mask
/// comes from rng's counter-based stream (element i uses 16 bits of draw counter + i/4;
/// the rng then skips ⌈numel/4⌉ draws), so it does not depend on the thread count.
/// Example: `auto h = training ? ops::dropout(x, 0.1f, rng) : x;`
template <class T>
Var<T> dropout(const Var<T>& x, T p, Rng& rng) {
    RGRID_CHECK(p >= T(0) && p <= T(1), "ops::dropout: p must be in [0, 1], got ", p);
    if (p == T(0)) return x;
    const std::size_t n = x.numel();
    auto saved_keep = std::make_shared<std::vector<std::uint8_t>>(n);
    const T keep_scale = p < T(1) ? T(1) / (T(1) - p) : T(0);
    Tensor<T> y = Tensor<T>::from_shape(x.shape());
    const T* xp = x.data();
    T* yp = y.data();
    std::uint8_t* kp = saved_keep->data();
    const std::uint64_t base = rng.counter();
    parallel_for(n, rgrid::detail::kElemGrain, [&](std::size_t b, std::size_t e) {
        rgrid::detail::dropout_mask(rng, base, b, e, double(p), kp + b);
        for (std::size_t i = b; i < e; ++i) yp[i] = kp[i] ? xp[i] * keep_scale : T(0);
    });
    rng.skip(rgrid::detail::dropout_draws(n));
    auto backward_fn = [xn = x.node_ptr(), saved_keep, keep_scale](rgrid::detail::Node<T>& out) {
        const T* g = out.grad.data();
        const std::uint8_t* k = saved_keep->data();
        rgrid::detail::grad_add(*xn, [=](std::size_t i) { return k[i] ? g[i] * keep_scale : T(0); });
    };
    return make_op<T>("dropout", std::move(y), {x}, std::move(backward_fn));
}

/// Row lookup: weight (V, H), ids (any shape) → ids.shape + (H).
/// https://pytorch.org/docs/stable/generated/torch.nn.functional.embedding.html
/// Backward is a scatter-add into dweight; rows equal to `padding_idx` (if ≥ 0) get no
/// gradient, like nn.Embedding(padding_idx=...).
/// Example: `auto e = ops::embedding(word_embeddings /*(V,H)*/, input_ids /*(B,T)*/);  // (B,T,H)`
template <class T>
Var<T> embedding(const Var<T>& weight, const IndexTensor& ids, std::int64_t padding_idx = -1) {
    RGRID_CHECK(weight.dim() == 2, "ops::embedding: weight must be (V, H), got ", shape_str(weight.shape()));
    const std::size_t V = weight.size(0), H = weight.size(1), n = ids.size();
    const std::int64_t* id = ids.data();
    for (std::size_t i = 0; i < n; ++i)
        RGRID_CHECK(id[i] >= 0 && static_cast<std::size_t>(id[i]) < V, "ops::embedding: id ", id[i],
                    " at flat position ", i, " of ids ", shape_str(ids.shape()),
                    " is out of range for a vocabulary of ", V, " rows (weight ", shape_str(weight.shape()), ")");
    Shape ys = shape_of(ids);
    ys.push_back(H);
    Tensor<T> y = Tensor<T>::from_shape(ys);
    const T* w = weight.data();
    T* yp = y.data();
    parallel_for(n, detail::row_grain(H), [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) std::copy_n(w + id[i] * H, H, yp + i * H);
    });
    auto saved_ids = std::make_shared<std::vector<std::int64_t>>(id, id + n);
    auto backward_fn = [wn = weight.node_ptr(), saved_ids, H, padding_idx](rgrid::detail::Node<T>& out) {
        T* dw = wn->grad_buffer().data();
        const T* g = out.grad.data();
        const auto& idv = *saved_ids;
        // Parallel over column blocks: every thread sees every token, so collisions never race.
        parallel_for(H, 64, [&](std::size_t c0, std::size_t c1) {
            for (std::size_t i = 0; i < idv.size(); ++i) {
                if (idv[i] == padding_idx) continue;
                T* d = dw + idv[i] * H;
                const T* gr = g + i * H;
                for (std::size_t c = c0; c < c1; ++c) d[c] += gr[c];
            }
        });
    };
    return make_op<T>("embedding", std::move(y), {weight}, std::move(backward_fn));
}

/// Cross-entropy of logits (N, K) against labels (N) → scalar mean, torch semantics:
/// loss = Σ_i w[y_i]·(−log softmax(x_i)[y_i]) / Σ_i w[y_i], with w = class_weights (K) or 1.
/// Labels equal to −100 (torch's ignore_index) are skipped.
/// https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html
/// Backward from saved_probs: dx_i = g·w[y_i]/Σw·(softmax(x_i) − onehot(y_i)).
/// Example: `auto loss = ops::cross_entropy(logits /*(B,K)*/, labels /*(B)*/);  backward(loss);`
template <class T>
Var<T> cross_entropy(const Var<T>& logits, const IndexTensor& labels, const Tensor<T>* class_weights = nullptr) {
    constexpr std::int64_t ignore_index = -100;
    RGRID_CHECK(logits.dim() == 2, "ops::cross_entropy: logits must be (N, K), got ", shape_str(logits.shape()));
    const std::size_t N = logits.size(0), K = logits.size(1);
    RGRID_CHECK(labels.dimension() == 1 && labels.size() == N, "ops::cross_entropy: labels ", shape_str(labels.shape()),
                " do not match logits ", shape_str(logits.shape()), " (expected (", N, "))");
    if (class_weights)
        RGRID_CHECK(class_weights->dimension() == 1 && class_weights->size() == K,
                    "ops::cross_entropy: class_weights ", shape_str(class_weights->shape()), " do not match ", K,
                    " classes of logits ", shape_str(logits.shape()));
    const std::int64_t* y = labels.data();
    for (std::size_t i = 0; i < N; ++i)
        RGRID_CHECK(y[i] == ignore_index || (y[i] >= 0 && static_cast<std::size_t>(y[i]) < K),
                    "ops::cross_entropy: label ", y[i], " at row ", i, " is out of range for ", K, " classes");
    auto saved_probs = std::make_shared<std::vector<T>>(N * K);
    auto saved_w = std::make_shared<std::vector<T>>(N);  // w[y_i] / Σ w (0 for ignored rows)
    const T* x = logits.data();
    T total = 0, wsum = 0;
    for (std::size_t i = 0; i < N; ++i) {
        const T* xr = x + i * K;
        T* pr = saved_probs->data() + i * K;
        T mx = -std::numeric_limits<T>::infinity();
        for (std::size_t j = 0; j < K; ++j) mx = xr[j] > mx ? xr[j] : mx;
        T s = 0;
        for (std::size_t j = 0; j < K; ++j) s += (pr[j] = std::exp(xr[j] - mx));
        for (std::size_t j = 0; j < K; ++j) pr[j] /= s;
        if (y[i] == ignore_index) continue;
        const T wi = class_weights ? class_weights->data()[y[i]] : T(1);
        (*saved_w)[i] = wi;
        wsum += wi;
        total += wi * (mx + std::log(s) - xr[y[i]]);  // −log p[y] = lse − x[y]
    }
    for (auto& v : *saved_w) v /= wsum;
    Tensor<T> out = Tensor<T>::from_shape({});
    out() = total / wsum;
    auto saved_labels = std::make_shared<std::vector<std::int64_t>>(y, y + N);
    auto backward_fn = [xn = logits.node_ptr(), saved_probs, saved_w, saved_labels, N, K](rgrid::detail::Node<T>& o) {
        const T g = o.grad.data()[0];
        bool fresh = false;
        T* dx = xn->grad_for_accumulate(fresh).data();
        for (std::size_t i = 0; i < N; ++i) {
            const T c = g * (*saved_w)[i];
            const T* pr = saved_probs->data() + i * K;
            T* d = dx + i * K;
            const std::int64_t yi = (*saved_labels)[i];
            for (std::size_t j = 0; j < K; ++j) {
                const T v = c * (pr[j] - (static_cast<std::int64_t>(j) == yi ? T(1) : T(0)));
                d[j] = fresh ? v : d[j] + v;
            }
        }
    };
    return make_op<T>("cross_entropy", std::move(out), {logits}, std::move(backward_fn));
}

}  // namespace rgrid::ops
