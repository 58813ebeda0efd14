#pragma once
// Shared plumbing for the ops in autograd/ops/: gradient write-or-add helpers, the
// broadcast plan used by add/sub/mul, and a ones-vector row sum through GEMM.
// Legend (all op files): B batch, T tokens, H hidden, NH heads, HS head size, N rows, K classes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "rgrid/autograd/var.hpp"
#include "rgrid/core/blas.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/core/rng.hpp"

namespace rgrid::detail {

/// Elements per parallel chunk for cheap elementwise loops (below this, one thread).
inline constexpr std::size_t kElemGrain = std::size_t(1) << 15;

template <class T>
using NodePtr = std::shared_ptr<Node<T>>;

/// dst[i] = v(i) when `fresh` (buffer just allocated), else dst[i] += v(i); in parallel.
template <class T, class V>
void store_or_add(T* dst, bool fresh, std::size_t n, V&& v) {
    parallel_for(n, kElemGrain, [&](std::size_t b, std::size_t e) {
        if (fresh)
            for (std::size_t i = b; i < e; ++i) dst[i] = v(i);
        else
            for (std::size_t i = b; i < e; ++i) dst[i] += v(i);
    });
}

/// node.grad (+)= v(i) for every element i.
template <class T, class V>
void grad_add(Node<T>& node, V&& v) {
    bool fresh = false;
    T* g = node.grad_for_accumulate(fresh).data();
    store_or_add(g, fresh, node.value.size(), std::forward<V>(v));
}

/// Flattened (rows, last) view of a tensor shape: rows = product of all but the last extent.
inline std::size_t rows_of(const Shape& s) {
    std::size_t r = 1;
    for (std::size_t i = 0; i + 1 < s.size(); ++i) r *= s[i];
    return r;
}

/// Reusable per-thread scratch (no allocation in steady state). `slot` separates uses.
template <class T>
T* scratch(std::size_t n, int slot = 0) {
    thread_local std::vector<T> buffers[4];
    auto& b = buffers[slot];
    if (b.size() < n) b.resize(n);
    return b.data();
}

/// dst (cols) = beta·dst + Σ_rows src (rows, cols), as one GEMM with a ones vector.
template <class T>
void sum_rows(const T* src, std::size_t rows, std::size_t cols, T* dst, bool fresh) {
    thread_local std::vector<T> ones;
    if (ones.size() < rows) ones.assign(rows, T(1));
    gemm(Trans::No, Trans::No, 1, cols, rows, T(1), ones.data(), rows, src, cols, fresh ? T(0) : T(1), dst, cols);
}

/// Dropout keep mask for elements [b, e) of a tensor, written to keep[0, e − b): element i
/// keeps with probability 1 − p, from 16 bits (lane i mod 4) of counter-based draw
/// `base + i/4` of rng. The mask depends only on (rng key, base, i), never on how the
/// range is split across threads. p is resolved to 1/65536. After filling n elements,
/// the caller skips dropout_draws(n).
inline void dropout_mask(const Rng& rng, std::uint64_t base, std::size_t b, std::size_t e, double p,
                         std::uint8_t* keep) {
    const auto threshold = static_cast<std::uint64_t>(std::llround(p * 65536.0));
    std::size_t i = b;
    while (i < e) {
        const std::uint64_t bits = rng.at(base + i / 4);
        for (std::size_t lane = i % 4; lane < 4 && i < e; ++lane, ++i)
            keep[i - b] = ((bits >> (16 * lane)) & 0xFFFFu) >= threshold;
    }
}
inline std::uint64_t dropout_draws(std::size_t n) { return (n + 3) / 4; }

/// How b broadcasts against a when b's shape is a suffix of a's (1-extents allowed):
/// the dimensions are collapsed into groups where b either varies with a or is repeated.
/// Element a[row·inner + j] meets b[b_offset(row) + (inner_varies ? j : 0)].
struct BroadcastPlan {
    bool same = false;                  // identical shapes (flat elementwise)
    std::vector<std::size_t> ext;       // outer group extents (all groups but the last)
    std::vector<std::size_t> bstride;   // b stride per outer group (0 = repeated)
    std::size_t rows = 1, inner = 1;    // a = (rows, inner)
    bool inner_varies = true;           // does b vary along the innermost group?
    std::size_t b_size = 1;

    std::size_t b_offset(std::size_t row) const {
        std::size_t off = 0;
        for (std::size_t g = ext.size(); g-- > 0;) {
            off += (row % ext[g]) * bstride[g];
            row /= ext[g];
        }
        return off;
    }
    /// b = (1..1, cols) with all outer groups repeated: a plain "(rows, inner) + (inner)".
    bool is_row_broadcast() const {
        return inner_varies && std::all_of(bstride.begin(), bstride.end(), [](auto s) { return s == 0; });
    }
};

template <class SA, class SB>
BroadcastPlan broadcast_plan(const char* op, const SA& a, const SB& b) {
    BroadcastPlan p;
    const Shape as(a.begin(), a.end()), bs(b.begin(), b.end());
    p.b_size = numel(bs);
    if (as == bs) {
        p.same = true;
        p.rows = 1;
        p.inner = numel(as);
        return p;
    }
    bool ok = bs.size() <= as.size();
    const std::size_t lead = ok ? as.size() - bs.size() : 0;
    for (std::size_t d = 0; ok && d < bs.size(); ++d) ok = bs[d] == as[lead + d] || bs[d] == 1;
    RGRID_CHECK(ok, "ops::", op, ": cannot broadcast b ", shape_str(bs), " against a ", shape_str(as),
                " (b's shape must be a suffix of a's, with 1s allowed, e.g. (B,T,H) with (H) or (B,T,1))");
    // Groups of consecutive dims with the same "b varies" flag (extent-1 dims skipped).
    std::vector<std::size_t> ext;
    std::vector<bool> var;
    for (std::size_t d = 0; d < as.size(); ++d) {
        if (as[d] == 1) continue;
        const bool v = d >= lead && bs[d - lead] == as[d];
        if (!var.empty() && var.back() == v) ext.back() *= as[d];
        else { ext.push_back(as[d]); var.push_back(v); }
    }
    if (ext.empty()) { ext.push_back(1); var.push_back(true); }
    p.inner = ext.back();
    p.inner_varies = var.back();
    std::size_t stride = p.inner_varies ? p.inner : 1;
    for (std::size_t g = ext.size() - 1; g-- > 0;) {
        p.ext.insert(p.ext.begin(), ext[g]);
        p.bstride.insert(p.bstride.begin(), var[g] ? stride : 0);
        if (var[g]) stride *= ext[g];
        p.rows *= ext[g];
    }
    return p;
}

}  // namespace rgrid::detail
