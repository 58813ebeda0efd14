#pragma once
// Shape ops: reshape, permute (e.g. splitting attention heads), select (drop one dim at
// an index, e.g. the [CLS] token), gather_rows (pick rows by index, e.g. the masked
// tokens of an MLM batch). Each copies into a contiguous result; backward is the inverse
// copy (a scatter-add for gather_rows), accumulated.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <utility>
#include <vector>

#include "rgrid/autograd/ops/common.hpp"

namespace rgrid::ops {

/// Same elements, new shape (row-major order kept). https://pytorch.org/docs/stable/generated/torch.reshape.html
/// Example: `auto h = ops::reshape(x /*(B,T,H)*/, {B, T, NH, HS});`
template <class T>
Var<T> reshape(const Var<T>& x, const Shape& shape) {
    RGRID_CHECK(numel(shape) == x.numel(), "ops::reshape: cannot reshape ", shape_str(x.shape()), " (", x.numel(),
                " elements) to ", shape_str(shape), " (", numel(shape), " elements)");
    Tensor<T> y = reshaped(x.value(), shape);
    return make_op<T>("reshape", std::move(y), {x}, [xn = x.node_ptr()](rgrid::detail::Node<T>& out) {
        const T* g = out.grad.data();
        rgrid::detail::grad_add(*xn, [g](std::size_t i) { return g[i]; });
    });
}

namespace detail {
// dst = src permuted: dst dim i is src dim axes[i]. accumulate: dst += instead of =.
template <class T>
void permute_copy(const T* src, const Shape& src_shape, const std::vector<std::size_t>& axes, T* dst, bool accumulate) {
    const std::size_t r = src_shape.size();
    if (r == 0) {
        dst[0] = accumulate ? dst[0] + src[0] : src[0];
        return;
    }
    std::vector<std::size_t> src_stride(r, 1);
    for (std::size_t d = r - 1; d-- > 0;) src_stride[d] = src_stride[d + 1] * src_shape[d + 1];
    Shape dshape(r);
    std::vector<std::size_t> stride(r);  // src stride along each dst dim
    for (std::size_t i = 0; i < r; ++i) {
        dshape[i] = src_shape[axes[i]];
        stride[i] = src_stride[axes[i]];
    }
    const std::size_t inner = dshape.back(), istride = stride.back();
    const std::size_t rows = numel(src_shape) / std::max<std::size_t>(inner, 1);
    if (inner == 0) return;
    const std::size_t grain = std::max<std::size_t>(1, rgrid::detail::kElemGrain / inner);
    parallel_for(rows, grain, [&](std::size_t rb, std::size_t re) {
        for (std::size_t row = rb; row < re; ++row) {
            std::size_t off = 0, rem = row;
            for (std::size_t d = r - 1; d-- > 0;) {
                off += (rem % dshape[d]) * stride[d];
                rem /= dshape[d];
            }
            T* out = dst + row * inner;
            const T* in = src + off;
            if (accumulate)
                for (std::size_t j = 0; j < inner; ++j) out[j] += in[j * istride];
            else
                for (std::size_t j = 0; j < inner; ++j) out[j] = in[j * istride];
        }
    });
}
}  // namespace detail

/// Reorders dimensions: result dim i is x's dim axes[i]. https://pytorch.org/docs/stable/generated/torch.permute.html
/// Example: `auto heads = ops::permute(x /*(B,T,NH,HS)*/, {0, 2, 1, 3});  // (B,NH,T,HS)`
template <class T>
Var<T> permute(const Var<T>& x, const std::vector<std::size_t>& axes) {
    const std::size_t r = x.dim();
    std::vector<char> seen(r, 0);
    bool ok = axes.size() == r;
    for (std::size_t a : axes) ok = ok && a < r && !std::exchange(seen[a], char(1));
    RGRID_CHECK(ok, "ops::permute: axes ", shape_str(axes), " are not a permutation of the ", r, " dims of ",
                shape_str(x.shape()));
    const Shape xs = shape_of(x.value());
    Shape ys(r);
    for (std::size_t i = 0; i < r; ++i) ys[i] = xs[axes[i]];
    Tensor<T> y = Tensor<T>::from_shape(ys);
    detail::permute_copy(x.data(), xs, axes, y.data(), false);
    std::vector<std::size_t> inverse(r);
    for (std::size_t i = 0; i < r; ++i) inverse[axes[i]] = i;
    return make_op<T>("permute", std::move(y), {x}, [xn = x.node_ptr(), inverse, ys](rgrid::detail::Node<T>& out) {
        bool fresh = false;
        T* dx = xn->grad_for_accumulate(fresh).data();
        detail::permute_copy(out.grad.data(), ys, inverse, dx, !fresh);
    });
}

/// x indexed at `index` along `dim`, which is removed. https://pytorch.org/docs/stable/generated/torch.select.html
/// Example: `auto cls = ops::select(h /*(B,T,H)*/, 1, 0);  // (B,H), the [CLS] token`
template <class T>
Var<T> select(const Var<T>& x, std::size_t dim, std::size_t index) {
    RGRID_CHECK(dim < x.dim(), "ops::select: dim ", dim, " out of range for ", shape_str(x.shape()));
    RGRID_CHECK(index < x.size(dim), "ops::select: index ", index, " out of range for dim ", dim, " of ",
                shape_str(x.shape()));
    const Shape xs = shape_of(x.value());
    std::size_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < dim; ++d) outer *= xs[d];
    for (std::size_t d = dim + 1; d < xs.size(); ++d) inner *= xs[d];
    const std::size_t n = xs[dim];
    Shape ys = xs;
    ys.erase(ys.begin() + static_cast<std::ptrdiff_t>(dim));
    Tensor<T> y = Tensor<T>::from_shape(ys);
    for (std::size_t o = 0; o < outer; ++o)
        std::copy_n(x.data() + (o * n + index) * inner, inner, y.data() + o * inner);
    auto backward_fn = [xn = x.node_ptr(), outer, inner, n, index](rgrid::detail::Node<T>& out) {
        T* dx = xn->grad_buffer().data();  // zeros outside the selected slice
        const T* g = out.grad.data();
        for (std::size_t o = 0; o < outer; ++o) {
            T* d = dx + (o * n + index) * inner;
            for (std::size_t j = 0; j < inner; ++j) d[j] += g[o * inner + j];
        }
    };
    return make_op<T>("select", std::move(y), {x}, std::move(backward_fn));
}

/// Rows of x picked by index: x (…, H) viewed as (N, H) rows, rows (M) with values in [0, N)
/// → (M, H); y[m] = x_rows[rows[m]]. Repeated indices are allowed (their gradients add up).
/// https://pytorch.org/docs/stable/generated/torch.index_select.html (x.view(-1, H).index_select(0, rows))
/// Backward is a scatter-add of dy into dx; rows never picked get zero gradient.
/// Example: `auto h_masked = ops::gather_rows(h /*(B,T,H)*/, positions /*(M), b·T+t*/);  // (M,H)`
template <class T>
Var<T> gather_rows(const Var<T>& x, const IndexTensor& rows) {
    RGRID_CHECK(x.dim() >= 1, "ops::gather_rows: x must have at least one dim, got ", shape_str(x.shape()));
    RGRID_CHECK(rows.dimension() == 1, "ops::gather_rows: rows must be (M), got ", shape_str(rows.shape()));
    const std::size_t H = x.shape().back(), N = H == 0 ? 0 : x.numel() / H, M = rows.size();
    const std::int64_t* r = rows.data();
    for (std::size_t m = 0; m < M; ++m)
        RGRID_CHECK(r[m] >= 0 && static_cast<std::size_t>(r[m]) < N, "ops::gather_rows: row ", r[m], " at position ", m,
                    " is out of range for the ", N, " rows of x ", shape_str(x.shape()));
    Tensor<T> y = Tensor<T>::from_shape({M, H});
    for (std::size_t m = 0; m < M; ++m) std::copy_n(x.data() + r[m] * H, H, y.data() + m * H);
    auto saved_rows = std::make_shared<std::vector<std::int64_t>>(r, r + M);
    return make_op<T>("gather_rows", std::move(y), {x}, [xn = x.node_ptr(), saved_rows, H](rgrid::detail::Node<T>& out) {
        T* dx = xn->grad_buffer().data();  // zeros outside the picked rows
        const T* g = out.grad.data();
        const auto& rv = *saved_rows;
        for (std::size_t m = 0; m < rv.size(); ++m) {
            T* d = dx + rv[m] * H;
            for (std::size_t j = 0; j < H; ++j) d[j] += g[m * H + j];
        }
    });
}

}  // namespace rgrid::ops
