#pragma once
// LayerNorm over the last dimension: y = (x - mean) / sqrt(var + eps) * weight + bias.
// https://pytorch.org/docs/stable/generated/torch.nn.LayerNorm.html
#include <cstddef>

#include "rgrid/autograd/ops.hpp"
#include "rgrid/nn/module.hpp"

namespace rgrid {

/// Parameters "weight" (H) = 1 and "bias" (H) = 0 at init (HF names; legacy checkpoints
/// say gamma/beta and are renamed on load).
/// Example: `LayerNorm<float> ln(768, 1e-12f); auto y = ln.forward(x);  // (…, 768)`
template <class T>
class LayerNorm : public Module<T> {
public:
    Var<T> weight;  // (H)
    Var<T> bias;    // (H)
    T eps;

    explicit LayerNorm(std::size_t dim, T eps_ = T(1e-12))
        : weight(full<T>({dim}, T(1)), true), bias(zeros<T>({dim}), true), eps(eps_) {
        RGRID_CHECK(dim > 0, "LayerNorm: dim must be positive");
        RGRID_CHECK(eps_ > T(0), "LayerNorm: eps must be positive, got ", eps_);
        this->register_parameter("weight", weight);
        this->register_parameter("bias", bias);
    }
    /// (…, H) -> (…, H)
    Var<T> forward(const Var<T>& x) const { return ops::layer_norm(x, weight, bias, eps); }
};

}  // namespace rgrid
