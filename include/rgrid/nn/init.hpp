#pragma once
// Parameter initialization, as Hugging Face's BertPreTrainedModel._init_weights does it:
// normal(0, initializer_range) for Linear/Embedding weights, zeros for biases, LayerNorm
// weight ones and bias zeros. Every fill takes an explicit Rng&.
// https://pytorch.org/docs/stable/nn.init.html
#include <cstddef>

#include "rgrid/core/rng.hpp"
#include "rgrid/core/tensor.hpp"

namespace rgrid::init {

/// Fills `t` with Normal(mean, std) draws, in element order.
/// Example: `Tensor<float> w = empty<float>({4, 8}); init::normal_(w, 0.f, 0.02f, rng);`
template <class T>
void normal_(Tensor<T>& t, T mean, T std, Rng& rng) {
    T* d = t.data();
    for (std::size_t i = 0, n = t.size(); i < n; ++i) d[i] = rng.normal<T>(mean, std);
}
/// Fills `t` with zeros.
template <class T>
void zeros_(Tensor<T>& t) { t.fill(T(0)); }
/// Fills `t` with ones.
template <class T>
void ones_(Tensor<T>& t) { t.fill(T(1)); }

/// A (shape) tensor of Normal(0, std) draws.
template <class T>
Tensor<T> normal(const Shape& shape, T std, Rng& rng) {
    Tensor<T> t = empty<T>(shape);
    normal_(t, T(0), std, rng);
    return t;
}

}  // namespace rgrid::init
