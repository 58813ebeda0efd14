#pragma once
// Module: the PyTorch nn.Module idea without ModuleHolder. A module registers its
// parameters (Var<T> members) and submodules (Module members held by value) under Hugging
// Face names; named_parameters() walks that registration and is the single source of
// checkpoint keys. ModuleList<M> adds the ".i." segment (encoder.layer.3.…).
// https://pytorch.org/docs/stable/generated/torch.nn.Module.html
#include <cstddef>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "rgrid/autograd/var.hpp"
#include "rgrid/core/error.hpp"

namespace rgrid {

/// Base of every layer. Parameters and submodules are members of the derived class,
/// registered in its constructor; Module keeps pointers to them, so a Module can be
/// neither copied nor moved. T is the scalar type (float for training, double for checks).
/// Example:
///   struct Affine : Module<float> {
///       Var<float> weight{zeros<float>({4}), true};
///       Affine() { register_parameter("weight", weight); }
///   };
///   Affine a; a.named_parameters();  // {{"weight", &a.weight}}
template <class T>
class Module {
public:
    using value_type = T;
    using NamedParameter = std::pair<std::string, Var<T>*>;

    Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;
    Module(Module&&) = delete;
    Module& operator=(Module&&) = delete;
    virtual ~Module() = default;

    /// All parameters with dotted names, in torch state_dict() order: a module's own
    /// parameters (registration order), then each submodule's, recursively.
    /// Example: `for (auto& [name, p] : model.named_parameters()) ...`
    std::vector<NamedParameter> named_parameters(const std::string& prefix = "") const {
        std::vector<NamedParameter> out;
        collect(prefix, out);
        return out;
    }
    /// Pointers to all parameters, same order as named_parameters().
    std::vector<Var<T>*> parameters() const {
        std::vector<Var<T>*> out;
        for (auto& np : named_parameters()) out.push_back(np.second);
        return out;
    }
    /// The parameter with this dotted name (throws naming it when absent).
    Var<T>& parameter(const std::string& name) const {
        for (auto& [n, p] : named_parameters())
            if (n == name) return *p;
        throw Error(detail::concat("Module: no parameter named '", name, "'"));
    }
    /// Direct submodules with their registration names.
    const std::vector<std::pair<std::string, Module*>>& children() const { return modules_; }

    /// Training mode (dropout active) for this module and all submodules.
    void train(bool on = true) {
        training_ = on;
        for (auto& m : modules_) m.second->train(on);
    }
    /// Evaluation mode: train(false).
    void eval() { train(false); }
    bool is_training() const { return training_; }

    /// Drops every parameter's gradient (torch zero_grad(set_to_none=True)).
    void zero_grad() {
        for (auto* p : parameters()) p->zero_grad();
    }
    /// Total number of scalar parameters.
    std::size_t num_parameters() const {
        std::size_t n = 0;
        for (auto* p : parameters()) n += p->numel();
        return n;
    }

protected:
    /// Registers a parameter member under `name` (no dots) and marks it requires_grad.
    Var<T>& register_parameter(const std::string& name, Var<T>& p) {
        check_name(name);
        RGRID_CHECK(p.defined(), "register_parameter: '", name, "' is undefined");
        p.set_requires_grad(true);
        params_.emplace_back(name, &p);
        return p;
    }
    /// Registers a submodule member under `name`; its parameters get the "name." prefix.
    template <class M>
    M& register_module(const std::string& name, M& m) {
        check_name(name);
        modules_.emplace_back(name, static_cast<Module*>(&m));
        m.train(training_);
        return m;
    }

private:
    void check_name(const std::string& name) const {
        RGRID_CHECK(!name.empty(), "Module: empty registration name");
        for (auto& p : params_) RGRID_CHECK(p.first != name, "Module: '", name, "' registered twice");
        for (auto& m : modules_) RGRID_CHECK(m.first != name, "Module: '", name, "' registered twice");
    }
    void collect(const std::string& prefix, std::vector<NamedParameter>& out) const {
        for (auto& [n, p] : params_) out.emplace_back(prefix + n, p);
        for (auto& [n, m] : modules_) m->collect(prefix + n + ".", out);
    }

    std::vector<NamedParameter> params_;
    std::vector<std::pair<std::string, Module*>> modules_;
    bool training_ = true;
};

/// A list of submodules named "0", "1", …: BertEncoder's `layer` gives "layer.3.attention…".
/// Elements are constructed in place (modules cannot move) and never relocate.
/// Example: `ModuleList<BertLayer<float>> layer; layer.emplace_back(cfg, rng);`
template <class M>
class ModuleList : public Module<typename M::value_type> {
public:
    /// Constructs a new element from `args` and registers it as the next index.
    template <class... Args>
    M& emplace_back(Args&&... args) {
        M& m = items_.emplace_back(std::forward<Args>(args)...);
        this->register_module(std::to_string(items_.size() - 1), m);
        return m;
    }
    std::size_t size() const { return items_.size(); }
    M& operator[](std::size_t i) {
        RGRID_CHECK(i < items_.size(), "ModuleList: index ", i, " out of range (size ", items_.size(), ")");
        return items_[i];
    }
    const M& operator[](std::size_t i) const {
        RGRID_CHECK(i < items_.size(), "ModuleList: index ", i, " out of range (size ", items_.size(), ")");
        return items_[i];
    }
    auto begin() { return items_.begin(); }
    auto end() { return items_.end(); }
    auto begin() const { return items_.begin(); }
    auto end() const { return items_.end(); }

private:
    std::deque<M> items_;  // deque: stable addresses, in-place construction
};

}  // namespace rgrid
