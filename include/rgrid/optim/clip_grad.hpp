#pragma once
// Gradient clipping by the global L2 norm, torch.nn.utils.clip_grad_norm_ semantics:
// total = ‖(‖g₁‖, ‖g₂‖, …)‖₂; every gradient is scaled by min(1, max_norm/(total + 1e-6)).
// https://pytorch.org/docs/stable/generated/torch.nn.utils.clip_grad_norm_.html
#include <algorithm>
#include <cmath>
#include <vector>

#include "rgrid/autograd/var.hpp"
#include "rgrid/core/error.hpp"

namespace rgrid {

/// Clips in place and returns the total norm before clipping. Parameters without a
/// gradient are skipped. Example: `double n = clip_grad_norm(model.parameters(), 1.0);`
template <class T>
double clip_grad_norm(const std::vector<Var<T>*>& params, double max_norm) {
    RGRID_CHECK(max_norm > 0, "clip_grad_norm: max_norm must be positive, got ", max_norm);
    double sq = 0;
    for (auto* p : params) {
        if (!p->has_grad()) continue;
        const T* g = p->grad().data();
        for (std::size_t i = 0, n = p->numel(); i < n; ++i) sq += static_cast<double>(g[i]) * static_cast<double>(g[i]);
    }
    const double total = std::sqrt(sq);
    const double coef = std::min(1.0, max_norm / (total + 1e-6));
    const T c = static_cast<T>(coef);
    for (auto* p : params) {
        if (!p->has_grad()) continue;
        T* g = p->grad().data();
        for (std::size_t i = 0, n = p->numel(); i < n; ++i) g[i] *= c;
    }
    return total;
}

}  // namespace rgrid
