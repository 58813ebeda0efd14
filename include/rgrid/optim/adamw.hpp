#pragma once
// AdamW with torch.optim.AdamW semantics (decoupled weight decay, bias correction, eps
// added after the square root), parameter groups, and state (exp_avg, exp_avg_sq, step)
// exposed for checkpointing and resuming.
// https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rgrid/autograd/var.hpp"
#include "rgrid/core/error.hpp"
#include "rgrid/core/parallel.hpp"

namespace rgrid {

/// Hyper-parameters (torch defaults, except weight_decay 0 as HF's TrainingArguments).
struct AdamWOptions {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;
};

/// A group of parameters sharing lr and weight decay (torch param_groups).
/// `weight_decay` < 0 means "use AdamWOptions::weight_decay"; `lr` likewise.
template <class T>
struct ParamGroup {
    std::vector<Var<T>*> params;
    double weight_decay = -1.0;
    double lr = -1.0;
    std::vector<std::string> names;  // optional, parallel to params (for saving state)
};

/// Per-parameter state, as torch keeps it.
template <class T>
struct AdamWState {
    Tensor<T> exp_avg;     // first moment m, parameter's shape
    Tensor<T> exp_avg_sq;  // second moment v, parameter's shape
    std::int64_t step = 0;
};

/// Example:
///   AdamW<float> opt(decay_groups(model.named_parameters(), 0.01), {.lr = 2e-5});
///   loss = ...; backward(loss); clip_grad_norm(model.parameters(), 1.0);
///   opt.set_lr(2e-5 * sched(step)); opt.step(); model.zero_grad();
template <class T>
class AdamW {
public:
    AdamW(std::vector<ParamGroup<T>> groups, AdamWOptions options) : groups_(std::move(groups)), options_(options) {
        RGRID_CHECK(std::isfinite(options.lr) && options.lr >= 0, "AdamW: invalid learning rate ", options.lr);
        RGRID_CHECK(options.eps >= 0, "AdamW: invalid eps ", options.eps);
        RGRID_CHECK(options.beta1 >= 0 && options.beta1 < 1, "AdamW: invalid beta1 ", options.beta1, " (need [0, 1))");
        RGRID_CHECK(options.beta2 >= 0 && options.beta2 < 1, "AdamW: invalid beta2 ", options.beta2, " (need [0, 1))");
        RGRID_CHECK(options.weight_decay >= 0, "AdamW: invalid weight_decay ", options.weight_decay);
        RGRID_CHECK(!groups_.empty(), "AdamW: no parameter groups");
        for (std::size_t g = 0; g < groups_.size(); ++g) {
            auto& grp = groups_[g];
            if (grp.weight_decay < 0) grp.weight_decay = options.weight_decay;
            if (grp.lr < 0) grp.lr = options.lr;
            RGRID_CHECK(grp.names.empty() || grp.names.size() == grp.params.size(), "AdamW: group ", g, " has ",
                        grp.names.size(), " names for ", grp.params.size(), " parameters");
            for (auto* p : grp.params) {
                RGRID_CHECK(p && p->defined(), "AdamW: group ", g, " holds an undefined parameter");
                RGRID_CHECK(state_.find(p) == state_.end(), "AdamW: a parameter appears in more than one group");
                state_[p] = AdamWState<T>{};
            }
            initial_lr_.push_back(grp.lr);
        }
    }
    /// Convenience: one group with all `params`.
    AdamW(const std::vector<Var<T>*>& params, AdamWOptions options)
        : AdamW(std::vector<ParamGroup<T>>{ParamGroup<T>{params}}, options) {}
    AdamW(std::initializer_list<Var<T>*> params, AdamWOptions options)
        : AdamW(std::vector<Var<T>*>(params), options) {}

    /// One update of every parameter that has a gradient (others are skipped, as in torch).
    void step() {
        const double b1 = options_.beta1, b2 = options_.beta2;
        for (auto& grp : groups_) {
            for (auto* p : grp.params) {
                if (!p->has_grad()) continue;
                auto& st = state_[p];
                if (st.step == 0) {
                    st.exp_avg = zeros<T>(shape_of(p->value()));
                    st.exp_avg_sq = zeros<T>(shape_of(p->value()));
                }
                st.step += 1;
                const double bc1 = 1.0 - std::pow(b1, static_cast<double>(st.step));
                const double bc2_sqrt = std::sqrt(1.0 - std::pow(b2, static_cast<double>(st.step)));
                const T decay = static_cast<T>(1.0 - grp.lr * grp.weight_decay);
                const T step_size = static_cast<T>(grp.lr / bc1);
                const T tb1 = static_cast<T>(b1), tb2 = static_cast<T>(b2), eps = static_cast<T>(options_.eps);
                const T ib1 = static_cast<T>(1.0 - b1), ib2 = static_cast<T>(1.0 - b2), c2 = static_cast<T>(bc2_sqrt);
                T* w = p->data();
                const T* g = p->grad().data();
                T* m = st.exp_avg.data();
                T* v = st.exp_avg_sq.data();
                // elementwise, so the result is the same for any thread count
                parallel_for(p->numel(), 1 << 15, [=](std::size_t b, std::size_t e) {
                    for (std::size_t i = b; i < e; ++i) {
                        w[i] *= decay;                          // decoupled weight decay
                        m[i] = tb1 * m[i] + ib1 * g[i];         // first moment
                        v[i] = tb2 * v[i] + ib2 * g[i] * g[i];  // second moment
                        w[i] -= step_size * m[i] / (std::sqrt(v[i]) / c2 + eps);
                    }
                });
            }
        }
    }

    /// Sets the learning rate of every group to `lr`.
    void set_lr(double lr) {
        RGRID_CHECK(std::isfinite(lr) && lr >= 0, "AdamW: invalid learning rate ", lr);
        for (auto& g : groups_) g.lr = lr;
    }
    /// Scales every group's initial lr by `m` (what a torch LambdaLR does each step).
    void set_lr_multiplier(double m) {
        RGRID_CHECK(std::isfinite(m) && m >= 0, "AdamW: invalid lr multiplier ", m);
        for (std::size_t g = 0; g < groups_.size(); ++g) groups_[g].lr = initial_lr_[g] * m;
    }
    double lr(std::size_t group = 0) const { return groups_.at(group).lr; }
    const AdamWOptions& options() const { return options_; }
    const std::vector<ParamGroup<T>>& param_groups() const { return groups_; }

    /// State of parameter `p` (throws if `p` is not optimized here). Writable for resuming.
    AdamWState<T>& state(const Var<T>* p) {
        auto it = state_.find(p);
        RGRID_CHECK(it != state_.end(), "AdamW: parameter is not in any group");
        return it->second;
    }
    const AdamWState<T>& state(const Var<T>* p) const {
        auto it = state_.find(p);
        RGRID_CHECK(it != state_.end(), "AdamW: parameter is not in any group");
        return it->second;
    }

private:
    std::vector<ParamGroup<T>> groups_;
    AdamWOptions options_;
    std::vector<double> initial_lr_;
    std::unordered_map<const Var<T>*, AdamWState<T>> state_;
};

/// HF Trainer's two groups: parameters that decay (`weight_decay`) and those that don't
/// (every bias and every LayerNorm parameter), each in named_parameters() order.
/// Example: `AdamW<float> opt(decay_groups(model.named_parameters(), 0.01), {.lr = 5e-5});`
template <class T>
std::vector<ParamGroup<T>> decay_groups(const std::vector<std::pair<std::string, Var<T>*>>& named, double weight_decay) {
    ParamGroup<T> decay, no_decay;
    decay.weight_decay = weight_decay;
    no_decay.weight_decay = 0.0;
    for (const auto& [name, p] : named) {
        const bool is_bias = name == "bias" || (name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0);
        const bool is_norm = name.find("LayerNorm.") != std::string::npos || name.rfind("LayerNorm", 0) == 0;
        auto& grp = (is_bias || is_norm) ? no_decay : decay;
        grp.params.push_back(p);
        grp.names.push_back(name);
    }
    return {decay, no_decay};
}

}  // namespace rgrid
