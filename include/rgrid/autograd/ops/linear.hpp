#pragma once
// Matrix products on the autograd tape: matmul (2-D, batched, and (…,M,K)·(K,N)) and
// linear (x·Wᵀ + b, W stored (out, in) as in PyTorch). Every product is one GEMM (or one
// GEMM per batch entry) through core/blas.hpp, forward and backward.
#include <cstddef>

#include "rgrid/autograd/ops/common.hpp"

namespace rgrid::ops {

/// Matrix product. https://pytorch.org/docs/stable/generated/torch.matmul.html
///   (M,K)·(K,N) → (M,N);  (…,M,K)·(…,K,N) → (…,M,N) with identical batch dims;
///   (…,M,K)·(K,N) → (…,M,N) (b shared by every batch entry: one GEMM over the rows).
/// Example: `auto scores = ops::matmul(q /*(B,NH,T,HS)*/, kt /*(B,NH,HS,T)*/);  // (B,NH,T,T)`
template <class T>
Var<T> matmul(const Var<T>& a, const Var<T>& b) {
    RGRID_CHECK(a.dim() >= 2 && b.dim() >= 2, "ops::matmul: expected tensors of rank ≥ 2, got ", shape_str(a.shape()),
                " and ", shape_str(b.shape()));
    const Shape as = shape_of(a.value()), bs = shape_of(b.value());
    const std::size_t K = as.back(), M = as[as.size() - 2];
    const std::size_t N = bs.back();
    RGRID_CHECK(bs[bs.size() - 2] == K, "ops::matmul: inner dimensions differ: ", shape_str(as), " · ", shape_str(bs));
    Shape ys = as;
    ys.back() = N;
    const bool shared_b = bs.size() == 2;
    if (!shared_b)
        RGRID_CHECK(as.size() == bs.size() && std::equal(as.begin(), as.end() - 2, bs.begin()),
                    "ops::matmul: batch dimensions differ: ", shape_str(as), " · ", shape_str(bs),
                    " (batched matmul needs identical leading dims, or a 2-D right operand)");
    const std::size_t batch = shared_b ? 1 : numel(as) / (M * K);
    const std::size_t rows = shared_b ? numel(as) / K : M;  // rows of one GEMM
    Tensor<T> y = Tensor<T>::from_shape(ys);
    gemm_strided_batched(Trans::No, Trans::No, rows, N, K, T(1), a.data(), K, M * K, b.data(), N, K * N, T(0), y.data(),
                         N, M * N, batch);
    auto backward_fn = [an = a.node_ptr(), bn = b.node_ptr(), batch, rows, M, N, K](rgrid::detail::Node<T>& out) {
        const T* g = out.grad.data();  // (…, M, N)
        if (an->requires_grad) {       // dA = g · Bᵀ
            bool fresh = false;
            T* da = an->grad_for_accumulate(fresh).data();
            gemm_strided_batched(Trans::No, Trans::Yes, rows, K, N, T(1), g, N, M * N, bn->value.data(), N,
                                 K * N, fresh ? T(0) : T(1), da, K, M * K, batch);
        }
        if (bn->requires_grad) {  // dB = Aᵀ · g (summed over rows when B is shared)
            bool fresh = false;
            T* db = bn->grad_for_accumulate(fresh).data();
            gemm_strided_batched(Trans::Yes, Trans::No, K, N, rows, T(1), an->value.data(), K, M * K, g, N,
                                 M * N, fresh ? T(0) : T(1), db, N, K * N, batch);
        }
    };
    return make_op<T>("matmul", std::move(y), {a, b}, std::move(backward_fn));
}

/// y = x·Wᵀ + b. https://pytorch.org/docs/stable/generated/torch.nn.functional.linear.html
///   x (…, in), W (out, in), b (out) or an undefined Var (no bias) → y (…, out).
/// One GEMM over the flattened (N, in) rows; backward: dx = g·W, dW += gᵀ·x, db += Σ_rows g.
/// Example: `auto h = ops::linear(x /*(B,T,H)*/, w /*(I,H)*/, b /*(I)*/);  // (B,T,I)`
template <class T>
Var<T> linear(const Var<T>& x, const Var<T>& w, const Var<T>& b = Var<T>()) {
    RGRID_CHECK(x.dim() >= 1 && w.dim() == 2, "ops::linear: expected x (…, in) and W (out, in), got x ",
                shape_str(x.shape()), " and W ", shape_str(w.shape()));
    const std::size_t in = w.size(1), outf = w.size(0);
    RGRID_CHECK(x.shape().back() == in, "ops::linear: x ", shape_str(x.shape()), " has last dim ", x.shape().back(),
                " but W ", shape_str(w.shape()), " expects in = ", in);
    if (b.defined())
        RGRID_CHECK(b.dim() == 1 && b.size(0) == outf, "ops::linear: bias ", shape_str(b.shape()), " does not match W ",
                    shape_str(w.shape()), " (expected (", outf, "))");
    const std::size_t n = x.numel() / in;
    Shape ys = shape_of(x.value());
    ys.back() = outf;
    Tensor<T> y = Tensor<T>::from_shape(ys);  // (N, out)
    T* yp = y.data();
    gemm_linear(n, outf, in, x.data(), w.data(), b.defined() ? b.data() : nullptr, yp);
    auto backward_fn = [xn = x.node_ptr(), wn = w.node_ptr(), bn = b.node_ptr(), n, in,
                        outf](rgrid::detail::Node<T>& out) {
        const T* g = out.grad.data();  // (N, out)
        bool fresh = false;
        if (xn->requires_grad) {       // dx (N,in) = g (N,out) · W (out,in)
            T* dx = xn->grad_for_accumulate(fresh).data();
            gemm(Trans::No, Trans::No, n, in, outf, T(1), g, outf, wn->value.data(), in, fresh ? T(0) : T(1),
                 dx, in);
        }
        if (wn->requires_grad) {  // dW (out,in) = gᵀ (out,N) · x (N,in)
            T* dw = wn->grad_for_accumulate(fresh).data();
            gemm(Trans::Yes, Trans::No, outf, in, n, T(1), g, outf, xn->value.data(), in, fresh ? T(0) : T(1),
                 dw, in);
        }
        if (bn && bn->requires_grad) {  // db (out) = Σ_rows g
            T* db = bn->grad_for_accumulate(fresh).data();
            rgrid::detail::sum_rows(g, n, outf, db, fresh);
        }
    };
    return make_op<T>("linear", std::move(y), {x, w, b}, std::move(backward_fn));
}

}  // namespace rgrid::ops
