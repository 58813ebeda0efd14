#pragma once
// Elementwise ops with broadcasting: add, sub, mul, scale, tanh, and the operators + - *.
// Broadcasting (what BERT needs): b's shape is a suffix of a's, 1-extents allowed, e.g.
// (B,T,H) + (H) for a bias, (B,T,H) * (B,T,1) for a per-token factor. The gradient of b
// is reduced back to b's shape. Forward and backward sit side by side in each op.
#include <cmath>
#include <cstddef>
#include <type_traits>

#include "rgrid/autograd/ops/common.hpp"

namespace rgrid::ops {

namespace detail {
using rgrid::detail::BroadcastPlan;

// y[i] = f(a[i], b[bcast(i)]) over the plan.
template <class T, class F>
void broadcast_map(const BroadcastPlan& p, const T* a, const T* b, T* y, F f) {
    if (p.same) {
        parallel_for(p.inner, rgrid::detail::kElemGrain, [&](std::size_t s, std::size_t e) {
            for (std::size_t i = s; i < e; ++i) y[i] = f(a[i], b[i]);
        });
        return;
    }
    const std::size_t inner = p.inner;
    const std::size_t grain = std::max<std::size_t>(1, rgrid::detail::kElemGrain / std::max<std::size_t>(inner, 1));
    parallel_for(p.rows, grain, [&](std::size_t rb, std::size_t re) {
        for (std::size_t r = rb; r < re; ++r) {
            const T* ar = a + r * inner;
            T* yr = y + r * inner;
            const T* br = b + p.b_offset(r);
            if (p.inner_varies)
                for (std::size_t j = 0; j < inner; ++j) yr[j] = f(ar[j], br[j]);
            else {
                const T bv = *br;
                for (std::size_t j = 0; j < inner; ++j) yr[j] = f(ar[j], bv);
            }
        }
    });
}

// y[i] = f(a[i], b[bcast(i)], c[i]) (c may alias y).
template <class T, class F>
void broadcast_map(const BroadcastPlan& p, const T* a, const T* b, const T* c, T* y, F f) {
    if (p.same) {
        parallel_for(p.inner, rgrid::detail::kElemGrain, [&](std::size_t s, std::size_t e) {
            for (std::size_t i = s; i < e; ++i) y[i] = f(a[i], b[i], c[i]);
        });
        return;
    }
    const std::size_t inner = p.inner;
    const std::size_t grain = std::max<std::size_t>(1, rgrid::detail::kElemGrain / std::max<std::size_t>(inner, 1));
    parallel_for(p.rows, grain, [&](std::size_t rb, std::size_t re) {
        for (std::size_t r = rb; r < re; ++r) {
            const std::size_t o = r * inner;
            const T* br = b + p.b_offset(r);
            if (p.inner_varies)
                for (std::size_t j = 0; j < inner; ++j) y[o + j] = f(a[o + j], br[j], c[o + j]);
            else
                for (std::size_t j = 0; j < inner; ++j) y[o + j] = f(a[o + j], *br, c[o + j]);
        }
    });
}

// db (+)= Σ over broadcast positions of sign · g[i] · (a ? a[i] : 1), db has b's shape.
template <class T>
void reduce_to_b(const BroadcastPlan& p, const T* g, const T* a, T sign, rgrid::detail::Node<T>& bn) {
    bool fresh = false;
    T* db = bn.grad_for_accumulate(fresh).data();
    if (p.same) {
        if (a) rgrid::detail::store_or_add(db, fresh, p.inner, [&](std::size_t i) { return sign * g[i] * a[i]; });
        else rgrid::detail::store_or_add(db, fresh, p.inner, [&](std::size_t i) { return sign * g[i]; });
        return;
    }
    if (!a && sign == T(1) && p.is_row_broadcast()) {  // bias-style (rows, inner) → (inner): one GEMM
        rgrid::detail::sum_rows(g, p.rows, p.inner, db, fresh);
        return;
    }
    if (fresh) std::fill(db, db + p.b_size, T(0));
    const std::size_t inner = p.inner;
    for (std::size_t r = 0; r < p.rows; ++r) {
        const T* gr = g + r * inner;
        const T* ar = a ? a + r * inner : nullptr;
        T* dr = db + p.b_offset(r);
        if (p.inner_varies) {
            if (ar) for (std::size_t j = 0; j < inner; ++j) dr[j] += sign * gr[j] * ar[j];
            else for (std::size_t j = 0; j < inner; ++j) dr[j] += sign * gr[j];
        } else {
            T s = 0;
            if (ar) for (std::size_t j = 0; j < inner; ++j) s += gr[j] * ar[j];
            else for (std::size_t j = 0; j < inner; ++j) s += gr[j];
            *dr += sign * s;
        }
    }
}

template <class T>
Tensor<T> like(const Var<T>& a) { return Tensor<T>::from_shape(a.shape()); }
}  // namespace detail

/// a + b with b broadcast (suffix of a's shape). https://pytorch.org/docs/stable/generated/torch.add.html
/// Example: `auto y = ops::add(x /*(B,T,H)*/, bias /*(H)*/);`
template <class T>
Var<T> add(const Var<T>& a, const Var<T>& b) {
    auto plan = rgrid::detail::broadcast_plan("add", a.shape(), b.shape());
    Tensor<T> y = detail::like(a);  // a's shape
    detail::broadcast_map(plan, a.data(), b.data(), y.data(), [](T x, T z) { return x + z; });
    auto backward_fn = [an = a.node_ptr(), bn = b.node_ptr(), plan](rgrid::detail::Node<T>& out) {
        const T* g = out.grad.data();
        if (an->requires_grad) rgrid::detail::grad_add(*an, [g](std::size_t i) { return g[i]; });
        if (bn->requires_grad) detail::reduce_to_b<T>(plan, g, nullptr, T(1), *bn);
    };
    return make_op<T>("add", std::move(y), {a, b}, std::move(backward_fn));
}

/// a − b with b broadcast. https://pytorch.org/docs/stable/generated/torch.sub.html
template <class T>
Var<T> sub(const Var<T>& a, const Var<T>& b) {
    auto plan = rgrid::detail::broadcast_plan("sub", a.shape(), b.shape());
    Tensor<T> y = detail::like(a);
    detail::broadcast_map(plan, a.data(), b.data(), y.data(), [](T x, T z) { return x - z; });
    auto backward_fn = [an = a.node_ptr(), bn = b.node_ptr(), plan](rgrid::detail::Node<T>& out) {
        const T* g = out.grad.data();
        if (an->requires_grad) rgrid::detail::grad_add(*an, [g](std::size_t i) { return g[i]; });
        if (bn->requires_grad) detail::reduce_to_b<T>(plan, g, nullptr, T(-1), *bn);
    };
    return make_op<T>("sub", std::move(y), {a, b}, std::move(backward_fn));
}

/// a ⊙ b with b broadcast. https://pytorch.org/docs/stable/generated/torch.mul.html
/// Example: `auto y = ops::mul(h /*(B,T,H)*/, keep /*(B,T,1)*/);`
template <class T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
    auto plan = rgrid::detail::broadcast_plan("mul", a.shape(), b.shape());
    Tensor<T> y = detail::like(a);
    detail::broadcast_map(plan, a.data(), b.data(), y.data(), [](T x, T z) { return x * z; });
    auto backward_fn = [an = a.node_ptr(), bn = b.node_ptr(), plan](rgrid::detail::Node<T>& out) {
        const T* g = out.grad.data();
        if (an->requires_grad) {  // da = g ⊙ broadcast(b)
            bool fresh = false;
            T* da = an->grad_for_accumulate(fresh).data();
            if (fresh) detail::broadcast_map(plan, g, bn->value.data(), da, [](T x, T z) { return x * z; });
            else detail::broadcast_map(plan, g, bn->value.data(), da, da, [](T x, T z, T d) { return d + x * z; });
        }
        if (bn->requires_grad) detail::reduce_to_b<T>(plan, g, an->value.data(), T(1), *bn);
    };
    return make_op<T>("mul", std::move(y), {a, b}, std::move(backward_fn));
}

/// s · x for a constant s. https://pytorch.org/docs/stable/generated/torch.mul.html (scalar other)
template <class T>
Var<T> scale(const Var<T>& x, T s) {
    Tensor<T> y = detail::like(x);
    const T* xp = x.data();
    T* yp = y.data();
    rgrid::detail::store_or_add(yp, true, y.size(), [=](std::size_t i) { return s * xp[i]; });
    return make_op<T>("scale", std::move(y), {x}, [xn = x.node_ptr(), s](rgrid::detail::Node<T>& out) {
        const T* g = out.grad.data();
        rgrid::detail::grad_add(*xn, [=](std::size_t i) { return s * g[i]; });
    });
}

/// tanh(x); backward uses the saved output: dx = g·(1 − y²). https://pytorch.org/docs/stable/generated/torch.tanh.html
template <class T>
Var<T> tanh(const Var<T>& x) {
    Tensor<T> y = detail::like(x);
    const T* xp = x.data();
    T* yp = y.data();
    rgrid::detail::store_or_add(yp, true, y.size(), [=](std::size_t i) { return std::tanh(xp[i]); });
    return make_op<T>("tanh", std::move(y), {x}, [xn = x.node_ptr()](rgrid::detail::Node<T>& out) {
        const T* g = out.grad.data();
        const T* yv = out.value.data();
        rgrid::detail::grad_add(*xn, [=](std::size_t i) { return g[i] * (T(1) - yv[i] * yv[i]); });
    });
}

}  // namespace rgrid::ops

namespace rgrid {
/// a + b (ops::add, with broadcasting). Example: `auto y = x + bias;`
template <class T>
Var<T> operator+(const Var<T>& a, const Var<T>& b) { return ops::add(a, b); }
/// a − b (ops::sub).
template <class T>
Var<T> operator-(const Var<T>& a, const Var<T>& b) { return ops::sub(a, b); }
/// a ⊙ b (ops::mul).
template <class T>
Var<T> operator*(const Var<T>& a, const Var<T>& b) { return ops::mul(a, b); }
/// s · x and x · s (ops::scale); s converts to T (`x * 2.0` works for Var<float>).
template <class T>
Var<T> operator*(const Var<T>& x, std::type_identity_t<T> s) { return ops::scale(x, s); }
template <class T>
Var<T> operator*(std::type_identity_t<T> s, const Var<T>& x) { return ops::scale(x, s); }
/// −x.
template <class T>
Var<T> operator-(const Var<T>& x) { return ops::scale(x, T(-1)); }
}  // namespace rgrid
