#pragma once
// Full reductions to a scalar (shape ()): sum and mean. Partial sums run in parallel on
// fixed chunks and are combined in chunk order (deterministic for a thread count);
// float inputs accumulate in double.
#include <cstddef>
#include <type_traits>
#include <vector>

#include "rgrid/autograd/ops/common.hpp"

namespace rgrid::ops {

namespace detail {
template <class T>
using Acc = std::conditional_t<(sizeof(T) < sizeof(double)), double, T>;

template <class T>
T sum_all(const T* x, std::size_t n) {
    const std::size_t parts = std::max<std::size_t>(1, std::min(num_threads(), n / rgrid::detail::kElemGrain));
    std::vector<Acc<T>> partial(parts, Acc<T>(0));
    parallel_for(parts, 1, [&](std::size_t pb, std::size_t pe) {
        for (std::size_t p = pb; p < pe; ++p) {
            Acc<T> s = 0;
            for (std::size_t i = p * n / parts, e = (p + 1) * n / parts; i < e; ++i) s += x[i];
            partial[p] = s;
        }
    });
    Acc<T> s = 0;
    for (auto v : partial) s += v;
    return static_cast<T>(s);
}
}  // namespace detail

/// Σ of all elements → shape (). https://pytorch.org/docs/stable/generated/torch.sum.html
template <class T>
Var<T> sum(const Var<T>& x) {
    Tensor<T> y = Tensor<T>::from_shape({});
    y() = detail::sum_all(x.data(), x.numel());
    return make_op<T>("sum", std::move(y), {x}, [xn = x.node_ptr()](rgrid::detail::Node<T>& out) {
        const T g = out.grad.data()[0];
        rgrid::detail::grad_add(*xn, [g](std::size_t) { return g; });
    });
}

/// Mean of all elements → shape (). https://pytorch.org/docs/stable/generated/torch.mean.html
template <class T>
Var<T> mean(const Var<T>& x) {
    RGRID_CHECK(x.numel() > 0, "ops::mean: empty tensor ", shape_str(x.shape()));
    Tensor<T> y = Tensor<T>::from_shape({});
    const T inv = T(1) / static_cast<T>(x.numel());
    y() = detail::sum_all(x.data(), x.numel()) * inv;
    return make_op<T>("mean", std::move(y), {x}, [xn = x.node_ptr(), inv](rgrid::detail::Node<T>& out) {
        const T g = out.grad.data()[0] * inv;
        rgrid::detail::grad_add(*xn, [g](std::size_t) { return g; });
    });
}

}  // namespace rgrid::ops
