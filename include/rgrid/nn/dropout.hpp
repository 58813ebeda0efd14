#pragma once
// Dropout (inverted): in training, zero each element with probability p and scale the
// rest by 1/(1-p); in eval mode, the identity. No parameters.
// https://pytorch.org/docs/stable/generated/torch.nn.Dropout.html
#include "rgrid/autograd/ops.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/nn/module.hpp"

namespace rgrid {

/// Example: `Dropout<float> drop(0.1f); auto y = drop.forward(x, rng);  // identity after eval()`
template <class T>
class Dropout : public Module<T> {
public:
    T p;

    explicit Dropout(T p_) : p(p_) {
        RGRID_CHECK(p_ >= T(0) && p_ < T(1), "Dropout: p must be in [0, 1), got ", p_);
    }
    /// Same shape as x. The mask comes from `rng` (explicit, for reproducibility).
    Var<T> forward(const Var<T>& x, Rng& rng) const {
        if (!this->is_training() || p == T(0)) return x;
        return ops::dropout(x, p, rng);
    }
};

}  // namespace rgrid
