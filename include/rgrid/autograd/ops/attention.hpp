#pragma once
// Fused multi-head self-attention with a hand-written backward (llm.c style): per-(batch,
// head) GEMMs on strided views of (B, T, H) buffers, scale + mask + softmax + dropout in one
// pass over the score rows, the (b, h) pairs in parallel.
// Legend: B batch, T tokens, H hidden, NH heads, HS head size = H / NH.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "rgrid/autograd/ops/common.hpp"
#include "rgrid/autograd/ops/fused.hpp"
#include "rgrid/core/attention_avx512.hpp"
#include "rgrid/core/rng.hpp"

namespace rgrid::ops {

namespace detail {
// Attention sizes and the strided view of head h of batch b inside a (B, T, H) buffer.
template <class T>
struct AttnDims {
    std::size_t B, Tn, H, NH, HS;
    T sc, keep_scale;
    bool drop;
    template <class P>
    P* head(P* base, std::size_t bh) const { return base + (bh / NH) * Tn * H + (bh % NH) * HS; }
    // dropout(p[0, n)) into out.
    const T* dropped(const T* p, const std::uint8_t* keep, std::size_t n, T* out) const {
        for (std::size_t i = 0; i < n; ++i) out[i] = keep[i] ? p[i] * keep_scale : T(0);
        return out;
    }
};
// Query rows per work item: a (rows, T) block of scores of at most ~128 KiB (all T rows
// when T ≤ 256), at least 16 rows.
inline std::size_t query_block(std::size_t Tn) {
    return std::max<std::size_t>(1, std::min(Tn, std::max<std::size_t>(16, 32768 / std::max<std::size_t>(Tn, 1))));
}
// Runs fn(bh) for every (batch, head) pair in parallel; the per-head GEMMs inside run on
// the calling thread (small products parallelize better across heads than inside a GEMM).
template <class F>
void for_each_head(std::size_t BH, F&& fn) {
    parallel_for(BH, 1, [&](std::size_t b, std::size_t e) {
        for (std::size_t bh = b; bh < e; ++bh) fn(bh);
    });
}
}  // namespace detail

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
Var<T> attention(const Var<T>& q, const Var<T>& k, const Var<T>& v, const Tensor<T>& additive_mask,
                 std::size_t num_heads, T dropout_p = T(0), Rng* rng = nullptr) {
    RGRID_CHECK(q.dim() == 3, "ops::attention: q must be (B, T, H), got ", shape_str(q.shape()));
    RGRID_CHECK(shape_of(k.value()) == shape_of(q.value()) && shape_of(v.value()) == shape_of(q.value()),
                "ops::attention: q ", shape_str(q.shape()), ", k ", shape_str(k.shape()), " and v ",
                shape_str(v.shape()), " must have the same shape (B, T, H)");
    const std::size_t B = q.size(0), Tn = q.size(1), H = q.size(2), NH = num_heads;
    RGRID_CHECK(NH > 0 && H % NH == 0, "ops::attention: hidden size ", H, " is not divisible by num_heads ", NH);
    const bool has_mask = additive_mask.size() > 0 && additive_mask.dimension() > 0;
    if (has_mask)
        RGRID_CHECK(additive_mask.dimension() == 2 && additive_mask.shape()[0] == B && additive_mask.shape()[1] == Tn,
                    "ops::attention: additive_mask ", shape_str(additive_mask.shape()), " must be (B, T) = (", B,
                    ", ", Tn, ") for q ", shape_str(q.shape()));
    RGRID_CHECK(dropout_p >= T(0) && dropout_p < T(1), "ops::attention: dropout_p must be in [0, 1), got ", dropout_p);
    RGRID_CHECK(dropout_p == T(0) || rng, "ops::attention: dropout_p = ", dropout_p, " needs an Rng");
    const detail::AttnDims<T> d{B, Tn, H, NH, H / NH, T(1) / std::sqrt(static_cast<T>(H / NH)),
                                T(1) / (T(1) - dropout_p), dropout_p > T(0)};
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
    // Inference (nothing recorded, no dropout): the fused kernel of core/attention_avx512.hpp,
    // one (b, h) per work item. No graph, so the result is a plain value.
    if constexpr (std::is_same_v<T, float>) {
        if (!record && !d.drop && d.HS % 16 == 0 && fused_attention()) {
            detail::for_each_head(BH, [&](std::size_t bh) {
                rgrid::detail::attn::head_forward(d.head(qp, bh), d.head(kp, bh), d.head(vp, bh), H, Tn, d.HS, d.sc,
                                                  mp ? mp + (bh / NH) * Tn : nullptr, d.head(cp, bh));
            });
            return Var<T>(std::move(ctx), false);
        }
    }
    // Work items are (b, h, block of QB query rows): a block's scores stay in L2 from the
    // Q·Kᵀ product through the softmax to the P·V product (a whole (T, T) head is 1 MiB at
    // T = 512 and fell out of L2 between the passes).
    const std::size_t QB = detail::query_block(Tn), nblk = (Tn + QB - 1) / QB;
    detail::for_each_head(BH * nblk, [&](std::size_t task) {
        const std::size_t bh = task / nblk, i0 = (task % nblk) * QB, rows = std::min(QB, Tn - i0);
        const std::size_t off = bh * TT + i0 * Tn, n = rows * Tn;  // this block's (rows, T) in (B, NH, T, T)
        T* pb = record ? saved_probs->data() + off : rgrid::detail::scratch<T>(n, 1);
        std::uint8_t* kb = !d.drop ? nullptr
                           : record ? saved_keep->data() + off
                                    : rgrid::detail::scratch<std::uint8_t>(n, 0);
        // scores (rows, T) = sc · Q_bh[i0:] (rows, HS) · K_bhᵀ (HS, T); rows of Q_bh are H apart
        gemm(Trans::No, Trans::Yes, rows, Tn, d.HS, d.sc, d.head(qp, bh) + i0 * H, H, d.head(kp, bh), H, T(0), pb, Tn);
        const T* m = mp ? mp + (bh / NH) * Tn : nullptr;
        for (std::size_t i = 0; i < rows; ++i) {  // + mask, softmax, dropout mask: one pass per row
            detail::softmax_row_inplace(pb + i * Tn, Tn, m);
            if (kb)
                rgrid::detail::dropout_mask(*rng, base, off + i * Tn, off + (i + 1) * Tn, double(dropout_p),
                                            kb + i * Tn);
        }
        // context_bh[i0:] (rows, HS) = dropout(P) (rows, T) · V_bh (T, HS), into (B, T, H) at stride H
        const T* a = kb ? d.dropped(pb, kb, n, rgrid::detail::scratch<T>(n, 0)) : pb;
        gemm(Trans::No, Trans::No, rows, d.HS, Tn, T(1), a, Tn, d.head(vp, bh), H, T(0), d.head(cp, bh) + i0 * H, H);
    });
    if (d.drop) rng->skip(rgrid::detail::dropout_draws(BH * TT));
    return make_op<T>(
        "attention", std::move(ctx), {q, k, v},
        [qn = q.node_ptr(), kn = k.node_ptr(), vn = v.node_ptr(), saved_probs, saved_keep,
         d](rgrid::detail::Node<T>& out) {
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
            detail::for_each_head(BH, [&](std::size_t bh) {
                const T* pbh = P + bh * TT;
                const std::uint8_t* kbh = d.drop ? keep + bh * TT : nullptr;
                T* dP = rgrid::detail::scratch<T>(TT, 1);  // (T, T): dprobs, then dscores
                // d(dropped probs) (T, T) = g_bh (T, HS) · V_bhᵀ (HS, T)
                gemm(Trans::No, Trans::Yes, Tn, Tn, d.HS, T(1), d.head(g, bh), H, d.head(vv, bh), H, T(0), dP, Tn);
                if (dv) {  // dV_bh (T, HS) (+)= dropout(P_bh)ᵀ (T, T) · g_bh (T, HS)
                    const T* a = d.drop ? d.dropped(pbh, kbh, TT, rgrid::detail::scratch<T>(TT, 0)) : pbh;
                    gemm(Trans::Yes, Trans::No, Tn, d.HS, Tn, T(1), a, Tn, d.head(g, bh), H, fv ? T(0) : T(1),
                         d.head(dv, bh), H);
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
                    gemm(Trans::No, Trans::No, Tn, d.HS, Tn, d.sc, dP, Tn, d.head(kv, bh), H, fq ? T(0) : T(1),
                         d.head(dq, bh), H);
                if (dk)  // dK_bh (T, HS) (+)= sc · dS_bhᵀ (T, T) · Q_bh (T, HS)
                    gemm(Trans::Yes, Trans::No, Tn, d.HS, Tn, d.sc, dP, Tn, d.head(qv, bh), H, fk ? T(0) : T(1),
                         d.head(dk, bh), H);
            });
        });
}

}  // namespace rgrid::ops
