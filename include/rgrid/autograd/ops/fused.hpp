#pragma once
// Fused ops with hand-written backward passes (llm.c style): gelu, softmax, log_softmax,
// layer_norm, dropout, embedding, cross_entropy and attention. Each is one or two raw
// loops over contiguous buffers forward and backward, GEMMs through core/blas.hpp, and
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

namespace detail_fused {
// x[j] = exp(x[j] − mx) for j < n, returns Σ x[j] (float: 8 lanes at a time).
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
        float s = 0;
        for (std::size_t l = 0; l < kLanes; ++l) s += acc[l];
        for (; j < n; ++j) s += (x[j] = exp_approx(x[j] - mx));
        return s;
    } else {
        T s = 0;
        for (std::size_t j = 0; j < n; ++j) s += (x[j] = std::exp(x[j] - mx));
        return s;
    }
}
// Softmax of one row in place (stable: subtract the max). A row whose every entry is
// -inf becomes all zeros instead of NaN.
template <class T>
void softmax_row(T* x, std::size_t n) {
    T mx = -std::numeric_limits<T>::infinity();
    for (std::size_t j = 0; j < n; ++j) mx = x[j] > mx ? x[j] : mx;
    if (mx == -std::numeric_limits<T>::infinity()) {
        std::fill(x, x + n, T(0));
        return;
    }
    const T inv = T(1) / exp_shift_sum(x, n, mx);
    for (std::size_t j = 0; j < n; ++j) x[j] *= inv;
}
// GELU kernels: y = x·Φ(x) and dx (+)= g·(Φ(x) + x·φ(x)). Float runs 8 lanes at a time
// with the vector exp/erf (one exp shared by Φ and φ); double uses std::erf/std::exp.
inline constexpr double kInvSqrt2 = std::numbers::sqrt2 / 2, kInvSqrt2Pi = std::numbers::inv_sqrtpi / std::numbers::sqrt2;
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
// Attention sizes and the strided view of head h of batch b inside a (B, T, H) buffer.
template <class T>
struct AttnDims {
    std::size_t B, Tn, H, NH, HS;
    T sc, keep_scale;
    bool drop;
    template <class P>
    P* head(P* base, std::size_t bh) const { return base + (bh / NH) * Tn * H + (bh % NH) * HS; }
    // dropout(P_bh) into out (T, T).
    const T* dropped(const T* p, const std::uint8_t* keep, T* out) const {
        for (std::size_t i = 0, n = Tn * Tn; i < n; ++i) out[i] = keep[i] ? p[i] * keep_scale : T(0);
        return out;
    }
};
// Runs fn(bh) for every (batch, head) pair in parallel; the per-head GEMMs inside run on
// the calling thread (small products parallelize better across heads than inside a GEMM).
template <class F>
void for_each_head(std::size_t BH, F&& fn) {
    parallel_for(BH, 1, [&](std::size_t b, std::size_t e) {
        for (std::size_t bh = b; bh < e; ++bh) fn(bh);
    });
}
// Grain in rows for a row-wise kernel over rows of length n.
inline std::size_t row_grain(std::size_t n) { return std::max<std::size_t>(1, rgrid::detail::kElemGrain / std::max<std::size_t>(n, 1)); }
// Backward of a last-dim op from its output: for each row, row_fn(g_row, y_row, n, emit)
// computes row statistics and calls emit(v) with v(j) = the row's dx[j]; emit writes or adds.
template <class T, class RowFn>
void rowwise_backward(rgrid::detail::Node<T>& xn, const rgrid::detail::Node<T>& out, std::size_t rows, std::size_t n, RowFn row_fn) {
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
}  // namespace detail_fused

/// GELU, exact (erf) form as in HF BERT: y = x·Φ(x). https://pytorch.org/docs/stable/generated/torch.nn.GELU.html
/// Backward: dx = g·(Φ(x) + x·φ(x)).
template <class T>
Var<T> gelu(const Var<T>& x) {
    Tensor<T> y = Tensor<T>::from_shape(x.shape());
    const T* xp = x.data();
    T* yp = y.data();
    parallel_for(y.size(), rgrid::detail::kElemGrain,
                 [&](std::size_t b, std::size_t e) { detail_fused::gelu_forward(xp + b, yp + b, e - b); });
    return make_op<T>("gelu", std::move(y), {x}, [xn = x.node_ptr()](rgrid::detail::Node<T>& out) {
        const T* g = out.grad.data();
        const T* xv = xn->value.data();
        bool fresh = false;
        T* dx = xn->grad_for_accumulate(fresh).data();
        parallel_for(out.grad.size(), rgrid::detail::kElemGrain,
                     [&](std::size_t b, std::size_t e) { detail_fused::gelu_backward(xv + b, g + b, dx + b, e - b, fresh); });
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
    parallel_for(rows, detail_fused::row_grain(n), [&](std::size_t rb, std::size_t re) {
        for (std::size_t r = rb; r < re; ++r) detail_fused::softmax_row(yp + r * n, n);
    });
    return make_op<T>("softmax", std::move(y), {x}, [xn = x.node_ptr(), n, rows](rgrid::detail::Node<T>& out) {
        detail_fused::rowwise_backward(*xn, out, rows, n, [](const T* gr, const T* yr, std::size_t m, auto&& emit) {
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
    parallel_for(rows, detail_fused::row_grain(n), [&](std::size_t rb, std::size_t re) {
        for (std::size_t r = rb; r < re; ++r) {
            const T* xr = xp + r * n;
            T* yr = yp + r * n;
            T mx = -std::numeric_limits<T>::infinity();
            for (std::size_t j = 0; j < n; ++j) mx = xr[j] > mx ? xr[j] : mx;
            std::copy(xr, xr + n, yr);
            const T lse = mx + std::log(detail_fused::exp_shift_sum(yr, n, mx));
            for (std::size_t j = 0; j < n; ++j) yr[j] = xr[j] - lse;
        }
    });
    return make_op<T>("log_softmax", std::move(y), {x}, [xn = x.node_ptr(), n, rows](rgrid::detail::Node<T>& out) {
        detail_fused::rowwise_backward(*xn, out, rows, n, [](const T* gr, const T* yr, std::size_t m, auto&& emit) {
            T gs = 0;
            for (std::size_t j = 0; j < m; ++j) gs += gr[j];
            emit([=](std::size_t j) { return gr[j] - rgrid::detail::fast_exp(yr[j]) * gs; });
        });
    });
}

/// LayerNorm over the last dim: y = (x − mean)·rstd·weight + bias, rstd = 1/√(var + eps),
/// biased variance. https://pytorch.org/docs/stable/generated/torch.nn.LayerNorm.html
///   x (…, H), weight (H), bias (H) (either may be an undefined Var: 1 and 0) → (…, H).
/// Forward saves saved_mean and saved_rstd (one per row); backward is one pass per row:
///   dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·weight, x̂ = (x − mean)·rstd;
///   dweight = Σ_rows g·x̂, dbias = Σ_rows g (per-thread partials, combined in order).
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
    parallel_for(N, detail_fused::row_grain(H), [&](std::size_t rb, std::size_t re) {
        for (std::size_t r = rb; r < re; ++r) {
            const T* xr = xp + r * H;
            T* yr = yp + r * H;
            T m = 0;
            for (std::size_t j = 0; j < H; ++j) m += xr[j];
            m /= static_cast<T>(H);
            T v = 0;
            for (std::size_t j = 0; j < H; ++j) v += (xr[j] - m) * (xr[j] - m);
            v /= static_cast<T>(H);
            const T rs = T(1) / std::sqrt(v + eps);
            (*saved_mean)[r] = m;
            (*saved_rstd)[r] = rs;
            for (std::size_t j = 0; j < H; ++j) {
                const T xh = (xr[j] - m) * rs;
                yr[j] = (wp ? xh * wp[j] : xh) + (bp ? bp[j] : T(0));
            }
        }
    });
    return make_op<T>("layer_norm", std::move(y), {x, weight, bias},
                      [xn = x.node_ptr(), wn = weight.node_ptr(), bn = bias.node_ptr(), saved_mean, saved_rstd, N,
                       H](rgrid::detail::Node<T>& out) {
                          const T* g = out.grad.data();
                          const T* xv = xn->value.data();
                          const T* w = wn ? wn->value.data() : nullptr;
                          const bool need_w = wn && wn->requires_grad, need_b = bn && bn->requires_grad;
                          const std::size_t parts = (need_w || need_b) ? std::max<std::size_t>(1, std::min(num_threads(), N / 8)) : 1;
                          std::vector<T> dw_part(need_w ? parts * H : 0, T(0)), db_part(need_b ? parts * H : 0, T(0));
                          bool fresh_x = false;
                          T* dx = xn->requires_grad ? xn->grad_for_accumulate(fresh_x).data() : nullptr;
                          parallel_for(parts, 1, [&](std::size_t pb, std::size_t pe) {
                              for (std::size_t p = pb; p < pe; ++p) {
                                  T* dwp = need_w ? dw_part.data() + p * H : nullptr;
                                  T* dbp = need_b ? db_part.data() + p * H : nullptr;
                                  for (std::size_t r = p * N / parts, re = (p + 1) * N / parts; r < re; ++r) {
                                      const T* gr = g + r * H;
                                      const T* xr = xv + r * H;
                                      const T m = (*saved_mean)[r], rs = (*saved_rstd)[r];
                                      T mg = 0, mgx = 0;  // mean(ĝ), mean(ĝ·x̂)
                                      for (std::size_t j = 0; j < H; ++j) {
                                          const T xh = (xr[j] - m) * rs;
                                          const T gh = w ? gr[j] * w[j] : gr[j];
                                          mg += gh;
                                          mgx += gh * xh;
                                          if (dwp) dwp[j] += gr[j] * xh;
                                          if (dbp) dbp[j] += gr[j];
                                      }
                                      mg /= static_cast<T>(H);
                                      mgx /= static_cast<T>(H);
                                      if (!dx) continue;
                                      T* d = dx + r * H;
                                      for (std::size_t j = 0; j < H; ++j) {
                                          const T xh = (xr[j] - m) * rs;
                                          const T gh = w ? gr[j] * w[j] : gr[j];
                                          const T v = rs * (gh - mg - xh * mgx);
                                          d[j] = fresh_x ? v : d[j] + v;
                                      }
                                  }
                              }
                          });
                          auto combine = [&](rgrid::detail::Node<T>& n, const std::vector<T>& part) {
                              bool fresh = false;
                              T* d = n.grad_for_accumulate(fresh).data();
                              for (std::size_t j = 0; j < H; ++j) {
                                  T s = fresh ? T(0) : d[j];
                                  for (std::size_t p = 0; p < parts; ++p) s += part[p * H + j];
                                  d[j] = s;
                              }
                          };
                          if (need_w) combine(*wn, dw_part);
                          if (need_b) combine(*bn, db_part);
                      });
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
    return make_op<T>("dropout", std::move(y), {x}, [xn = x.node_ptr(), saved_keep, keep_scale](rgrid::detail::Node<T>& out) {
        const T* g = out.grad.data();
        const std::uint8_t* k = saved_keep->data();
        rgrid::detail::grad_add(*xn, [=](std::size_t i) { return k[i] ? g[i] * keep_scale : T(0); });
    });
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
        RGRID_CHECK(id[i] >= 0 && static_cast<std::size_t>(id[i]) < V, "ops::embedding: id ", id[i], " at flat position ", i,
                    " of ids ", shape_str(ids.shape()), " is out of range for a vocabulary of ", V, " rows (weight ",
                    shape_str(weight.shape()), ")");
    Shape ys = shape_of(ids);
    ys.push_back(H);
    Tensor<T> y = Tensor<T>::from_shape(ys);
    const T* w = weight.data();
    T* yp = y.data();
    parallel_for(n, detail_fused::row_grain(H), [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) std::copy_n(w + id[i] * H, H, yp + i * H);
    });
    auto saved_ids = std::make_shared<std::vector<std::int64_t>>(id, id + n);
    return make_op<T>("embedding", std::move(y), {weight}, [wn = weight.node_ptr(), saved_ids, H, padding_idx](rgrid::detail::Node<T>& out) {
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
    });
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
        RGRID_CHECK(class_weights->dimension() == 1 && class_weights->size() == K, "ops::cross_entropy: class_weights ",
                    shape_str(class_weights->shape()), " do not match ", K, " classes of logits ", shape_str(logits.shape()));
    const std::int64_t* y = labels.data();
    for (std::size_t i = 0; i < N; ++i)
        RGRID_CHECK(y[i] == ignore_index || (y[i] >= 0 && static_cast<std::size_t>(y[i]) < K), "ops::cross_entropy: label ",
                    y[i], " at row ", i, " is out of range for ", K, " classes");
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
    return make_op<T>("cross_entropy", std::move(out), {logits},
                      [xn = logits.node_ptr(), saved_probs, saved_w, saved_labels, N, K](rgrid::detail::Node<T>& o) {
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
                      });
}

/// Fused multi-head self-attention core (HF BertSelfAttention after the q/k/v projections):
///   q, k, v (B, T, H) with heads side by side in H (NH heads of HS = H/NH);
///   additive_mask (B, T) added to every query row's scores at key j (0 keep, large
///   negative drop; an empty tensor means no mask); dropout on the probabilities.
///   context (B, T, H) = per (b, h): dropout(softmax(Q·Kᵀ/√HS + mask))·V.
/// https://pytorch.org/docs/stable/generated/torch.nn.functional.scaled_dot_product_attention.html
/// The products are per-(batch, head) GEMMs on strided views (leading dim H, no permute
/// copies); scale + mask + softmax + dropout are one pass over the score rows; the (b, h)
/// pairs run in parallel, each with single-threaded GEMMs. Backward uses saved_probs
/// (B, NH, T, T) and saved_keep (the dropout mask over (B, NH, T, T), drawn like
/// ops::dropout's: thread-count independent).
/// A row whose keys are all -inf gets zero probabilities (no NaN).
/// Example: `auto ctx = ops::attention(q, k, v, ext_mask, cfg.num_attention_heads, 0.1f, &rng);`
template <class T>
Var<T> attention(const Var<T>& q, const Var<T>& k, const Var<T>& v, const Tensor<T>& additive_mask, std::size_t num_heads,
                 T dropout_p = T(0), Rng* rng = nullptr) {
    RGRID_CHECK(q.dim() == 3, "ops::attention: q must be (B, T, H), got ", shape_str(q.shape()));
    RGRID_CHECK(shape_of(k.value()) == shape_of(q.value()) && shape_of(v.value()) == shape_of(q.value()),
                "ops::attention: q ", shape_str(q.shape()), ", k ", shape_str(k.shape()), " and v ", shape_str(v.shape()),
                " must have the same shape (B, T, H)");
    const std::size_t B = q.size(0), Tn = q.size(1), H = q.size(2), NH = num_heads;
    RGRID_CHECK(NH > 0 && H % NH == 0, "ops::attention: hidden size ", H, " is not divisible by num_heads ", NH);
    const bool has_mask = additive_mask.size() > 0 && additive_mask.dimension() > 0;
    if (has_mask)
        RGRID_CHECK(additive_mask.dimension() == 2 && additive_mask.shape()[0] == B && additive_mask.shape()[1] == Tn,
                    "ops::attention: additive_mask ", shape_str(additive_mask.shape()), " must be (B, T) = (", B, ", ", Tn,
                    ") for q ", shape_str(q.shape()));
    RGRID_CHECK(dropout_p >= T(0) && dropout_p < T(1), "ops::attention: dropout_p must be in [0, 1), got ", dropout_p);
    RGRID_CHECK(dropout_p == T(0) || rng, "ops::attention: dropout_p = ", dropout_p, " needs an Rng");
    const detail_fused::AttnDims<T> d{B, Tn, H, NH, H / NH, T(1) / std::sqrt(static_cast<T>(H / NH)), T(1) / (T(1) - dropout_p),
                                   dropout_p > T(0)};
    const std::size_t TT = Tn * Tn, BH = B * NH;

    // Recorded for backward: probs (B, NH, T, T) before dropout and the keep mask. Without a
    // graph (inference) each (b, h) works in a per-thread (T, T) scratch instead.
    const bool record = grad_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
    auto saved_probs = std::make_shared<std::vector<T>>(record ? BH * TT : 0);
    auto saved_keep = std::make_shared<std::vector<std::uint8_t>>(record && d.drop ? BH * TT : 0);
    const T *qp = q.data(), *kp = k.data(), *vp = v.data();
    const T* mp = has_mask ? additive_mask.data() : nullptr;
    const std::uint64_t base = d.drop ? rng->counter() : 0;
    Tensor<T> ctx = Tensor<T>::from_shape({B, Tn, H});
    T* cp = ctx.data();
    detail_fused::for_each_head(BH, [&](std::size_t bh) {
        T* pbh = record ? saved_probs->data() + bh * TT : rgrid::detail::scratch<T>(TT, 1);
        std::uint8_t* kbh = !d.drop ? nullptr : record ? saved_keep->data() + bh * TT : rgrid::detail::scratch<std::uint8_t>(TT, 0);
        // scores (T, T) = sc · Q_bh (T, HS) · K_bhᵀ (HS, T); rows of Q_bh are H apart
        gemm(Trans::No, Trans::Yes, Tn, Tn, d.HS, d.sc, d.head(qp, bh), H, d.head(kp, bh), H, T(0), pbh, Tn);
        const T* m = mp ? mp + (bh / NH) * Tn : nullptr;
        for (std::size_t i = 0; i < Tn; ++i) {  // + mask, softmax, dropout mask: one pass per row
            T* row = pbh + i * Tn;
            if (m)
                for (std::size_t j = 0; j < Tn; ++j) row[j] += m[j];
            detail_fused::softmax_row(row, Tn);
            if (kbh) rgrid::detail::dropout_mask(*rng, base, bh * TT + i * Tn, bh * TT + (i + 1) * Tn, double(dropout_p), kbh + i * Tn);
        }
        // context_bh (T, HS) = dropout(P_bh) (T, T) · V_bh (T, HS), written into (B, T, H) at stride H
        const T* a = kbh ? d.dropped(pbh, kbh, rgrid::detail::scratch<T>(TT, 0)) : pbh;
        gemm(Trans::No, Trans::No, Tn, d.HS, Tn, T(1), a, Tn, d.head(vp, bh), H, T(0), d.head(cp, bh), H);
    });
    if (d.drop) rng->skip(rgrid::detail::dropout_draws(BH * TT));
    return make_op<T>(
        "attention", std::move(ctx), {q, k, v},
        [qn = q.node_ptr(), kn = k.node_ptr(), vn = v.node_ptr(), saved_probs, saved_keep, d](rgrid::detail::Node<T>& out) {
            const std::size_t Tn = d.Tn, H = d.H, TT = Tn * Tn, BH = d.B * d.NH;
            const T* g = out.grad.data();  // (B, T, H)
            const T* P = saved_probs->data();
            const std::uint8_t* keep = saved_keep->data();
            const T *qv = qn->value.data(), *kv = kn->value.data(), *vv = vn->value.data();
            // Fetch the gradient buffers in the order the per-head tasks write them (v, q, k),
            // so q, k, v that are the same Var accumulate correctly.
            bool fv = false, fq = false, fk = false;
            T* dv = vn->requires_grad ? vn->grad_for_accumulate(fv).data() : nullptr;
            T* dq = qn->requires_grad ? qn->grad_for_accumulate(fq).data() : nullptr;
            T* dk = kn->requires_grad ? kn->grad_for_accumulate(fk).data() : nullptr;
            detail_fused::for_each_head(BH, [&](std::size_t bh) {
                const T* pbh = P + bh * TT;
                const std::uint8_t* kbh = d.drop ? keep + bh * TT : nullptr;
                T* dP = rgrid::detail::scratch<T>(TT, 1);  // (T, T): dprobs, then dscores
                // d(dropped probs) (T, T) = g_bh (T, HS) · V_bhᵀ (HS, T)
                gemm(Trans::No, Trans::Yes, Tn, Tn, d.HS, T(1), d.head(g, bh), H, d.head(vv, bh), H, T(0), dP, Tn);
                if (dv) {  // dV_bh (T, HS) (+)= dropout(P_bh)ᵀ (T, T) · g_bh (T, HS)
                    const T* a = d.drop ? d.dropped(pbh, kbh, rgrid::detail::scratch<T>(TT, 0)) : pbh;
                    gemm(Trans::Yes, Trans::No, Tn, d.HS, Tn, T(1), a, Tn, d.head(g, bh), H, fv ? T(0) : T(1), d.head(dv, bh), H);
                }
                // dscores = P ⊙ (dP − Σ_j dP_j·P_j), dP first multiplied by the dropout mask
                for (std::size_t i = 0; i < Tn; ++i) {
                    T* dr = dP + i * Tn;
                    const T* p = pbh + i * Tn;
                    if (kbh)
                        for (std::size_t j = 0; j < Tn; ++j) dr[j] = kbh[i * Tn + j] ? dr[j] * d.keep_scale : T(0);
                    T dot = 0;
                    for (std::size_t j = 0; j < Tn; ++j) dot += dr[j] * p[j];
                    for (std::size_t j = 0; j < Tn; ++j) dr[j] = p[j] * (dr[j] - dot);
                }
                if (dq)  // dQ_bh (T, HS) (+)= sc · dS_bh (T, T) · K_bh (T, HS)
                    gemm(Trans::No, Trans::No, Tn, d.HS, Tn, d.sc, dP, Tn, d.head(kv, bh), H, fq ? T(0) : T(1), d.head(dq, bh), H);
                if (dk)  // dK_bh (T, HS) (+)= sc · dS_bhᵀ (T, T) · Q_bh (T, HS)
                    gemm(Trans::Yes, Trans::No, Tn, d.HS, Tn, d.sc, dP, Tn, d.head(qv, bh), H, fk ? T(0) : T(1), d.head(dk, bh), H);
            });
        });
}

}  // namespace rgrid::ops
