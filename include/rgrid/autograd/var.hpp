#pragma once
// Reverse-mode autodiff, define-by-run (micrograd in tensor form, PyTorch semantics).
// A Var<T> is a cheap handle to a detail::Node<T>: a value, a lazily allocated gradient,
// the parents it was computed from and the closure that pushes its gradient to them.
// backward(loss) orders the graph iteratively (no recursion limit) and runs the closures
// in reverse, accumulating into .grad. Ops live in autograd/ops/.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/tensor.hpp"

namespace rgrid {

namespace detail {

/// Whether ops record the graph (thread-local, like torch.is_grad_enabled()).
inline bool& grad_mode() {
    thread_local bool enabled = true;
    return enabled;
}

template <class T>
struct Node {
    Tensor<T> value;
    Tensor<T> grad = no_grad();    // shape (0) until the first accumulation
    bool requires_grad = false;
    bool is_leaf = true;
    std::vector<std::shared_ptr<Node<T>>> parents;
    std::function<void(Node<T>&)> backward_fn;  // reads this->grad, accumulates into parents
    /// Leaves only: called by backward() once this node's gradient is complete for the pass
    /// (PyTorch's post-accumulate-grad hook; a data-parallel all-reduce starts from it).
    std::function<void(Node<T>&)> grad_ready_hook;
    const char* op_name = "leaf";

    Node() = default;
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;
    /// Iterative teardown: a chain of 100k ops must not free itself recursively (each
    /// shared_ptr release would otherwise recurse into the parent's destructor).
    ~Node() {
        std::vector<std::shared_ptr<Node<T>>> stack = std::move(parents);
        backward_fn = nullptr;  // closures hold parent pointers too
        while (!stack.empty()) {
            std::shared_ptr<Node<T>> p = std::move(stack.back());
            stack.pop_back();
            if (p.use_count() == 1) {  // we hold the last reference: unlink before it dies
                for (auto& q : p->parents) stack.push_back(std::move(q));
                p->parents.clear();
                p->backward_fn = nullptr;
            }
        }
    }

    /// The "no gradient" marker: shape (0), distinct from every value shape incl. scalars ().
    static Tensor<T> no_grad() { return Tensor<T>::from_shape({0}); }
    bool has_grad() const {
        return grad.dimension() == value.dimension() && grad.size() == value.size();
    }
    void release_grad() { grad = no_grad(); }
    /// The gradient buffer, allocated as zeros of value's shape on first use.
    Tensor<T>& grad_buffer() {
        if (!has_grad()) {
            grad = Tensor<T>::from_shape(value.shape());
            grad.fill(T(0));
        }
        return grad;
    }
    /// For kernels that write or add the gradient in place: returns the buffer and sets
    /// `fresh` when it was just allocated (uninitialized: write, don't add; gemm beta = 0).
    Tensor<T>& grad_for_accumulate(bool& fresh) {
        fresh = !has_grad();
        if (fresh) grad = Tensor<T>::from_shape(value.shape());
        return grad;
    }
    /// grad += g (shapes must match exactly; ops reduce broadcasts before calling this).
    void accumulate(const Tensor<T>& g) {
        RGRID_CHECK(g.size() == value.size(), op_name, ": gradient of shape ", shape_str(g.shape()),
                    " does not match value ", shape_str(value.shape()));
        if (!has_grad()) {
            grad = Tensor<T>::from_shape(value.shape());
            std::copy(g.data(), g.data() + g.size(), grad.data());
            return;
        }
        T* d = grad.data();
        const T* s = g.data();
        for (std::size_t i = 0, n = g.size(); i < n; ++i) d[i] += s[i];
    }
};

}  // namespace detail

/// Disables graph recording in its scope (inference, optimizer updates).
/// Example: `{ NoGradGuard ng; auto logits = model.forward(ids, mask); }`
class NoGradGuard {
public:
    NoGradGuard() : prev_(detail::grad_mode()) { detail::grad_mode() = false; }
    ~NoGradGuard() { detail::grad_mode() = prev_; }
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool prev_;
};
inline bool grad_enabled() { return detail::grad_mode(); }

/// A tensor value that can carry a gradient. Copies share the node (handle semantics).
/// Example: `Var<double> w(zeros<double>({3, 4}), /*requires_grad=*/true);`
template <class T>
class Var {
public:
    using value_type = T;
    Var() = default;
    explicit Var(Tensor<T> value, bool requires_grad = false) : node_(std::make_shared<detail::Node<T>>()) {
        node_->value = std::move(value);
        node_->requires_grad = requires_grad;
    }
    explicit Var(std::shared_ptr<detail::Node<T>> node) : node_(std::move(node)) {}

    bool defined() const { return static_cast<bool>(node_); }
    const Tensor<T>& value() const { return node_->value; }
    Tensor<T>& value() { return node_->value; }
    /// The gradient; allocated as zeros if nothing has been accumulated yet.
    Tensor<T>& grad() const { return node_->grad_buffer(); }
    bool has_grad() const { return node_->has_grad(); }
    bool requires_grad() const { return node_ && node_->requires_grad; }
    void set_requires_grad(bool r) { node_->requires_grad = r; }
    /// Drops the gradient (like PyTorch's zero_grad(set_to_none=True)).
    void zero_grad() const { node_->release_grad(); }

    const auto& shape() const { return node_->value.shape(); }
    std::size_t dim() const { return node_->value.dimension(); }
    std::size_t size(std::size_t d) const { return node_->value.shape()[d]; }
    std::size_t numel() const { return node_->value.size(); }
    const T* data() const { return node_->value.data(); }
    T* data() { return node_->value.data(); }
    const char* op_name() const { return node_->op_name; }

    detail::Node<T>* node() const { return node_.get(); }
    const std::shared_ptr<detail::Node<T>>& node_ptr() const { return node_; }

private:
    std::shared_ptr<detail::Node<T>> node_;
};

/// Records an op result. If grad mode is off or no parent requires a gradient, the result
/// is a constant (no parents, no closure). `backward` receives the result node, whose
/// .grad is set, and accumulates into the parents' nodes.
/// Example (scale by 2):
///   return make_op<T>("scale2", 2 * x.value(), {x}, [xn = x.node_ptr()](detail::Node<T>& out) {
///       xn->accumulate(2 * out.grad); });
template <class T>
Var<T> make_op(const char* name, Tensor<T> value, std::initializer_list<Var<T>> parents,
               std::function<void(detail::Node<T>&)> backward) {
    auto node = std::make_shared<detail::Node<T>>();
    node->value = std::move(value);
    node->op_name = name;
    node->is_leaf = false;
    bool needs = false;
    if (grad_enabled())
        for (const auto& p : parents) needs = needs || p.requires_grad();
    if (needs) {
        node->requires_grad = true;
        for (const auto& p : parents)
            if (p.requires_grad()) node->parents.push_back(p.node_ptr());
        node->backward_fn = std::move(backward);
    }
    return Var<T>(std::move(node));
}

/// Backpropagates from `root`. A scalar root gets seed gradient 1; otherwise pass `seed`
/// with root's shape. Gradients accumulate into every node that requires one; the graph
/// behind root is released afterwards (like PyTorch without retain_graph).
template <class T>
void backward(const Var<T>& root, const Tensor<T>* seed = nullptr) {
    RGRID_CHECK(root.defined(), "backward: undefined Var");
    RGRID_CHECK(root.requires_grad(), "backward: ", root.op_name(),
                " does not require grad (no parameter with requires_grad in its graph, or built under NoGradGuard)");
    using NodeP = std::shared_ptr<detail::Node<T>>;  // owning: releasing edges below must not free nodes
    // Iterative post-order DFS gives a topological order (parents before children).
    std::vector<NodeP> order;
    std::unordered_set<detail::Node<T>*> visited;
    std::vector<std::pair<NodeP, std::size_t>> stack{{root.node_ptr(), 0}};
    visited.insert(root.node());
    while (!stack.empty()) {
        auto& [n, i] = stack.back();
        if (i < n->parents.size()) {
            NodeP p = n->parents[i++];
            if (visited.insert(p.get()).second) stack.push_back({std::move(p), 0});
        } else {
            order.push_back(std::move(n));
            stack.pop_back();
        }
    }
    if (seed) {
        RGRID_CHECK(seed->size() == root.numel(), "backward: seed of shape ", shape_str(seed->shape()),
                    " for root of shape ", shape_str(root.shape()));
        root.node()->accumulate(*seed);
    } else {
        RGRID_CHECK(root.numel() == 1, "backward: root has shape ", shape_str(root.shape()),
                    "; pass a seed gradient for non-scalar roots");
        Tensor<T> one = Tensor<T>::from_shape(root.shape());
        one.fill(T(1));
        root.node()->accumulate(one);
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        detail::Node<T>* n = it->get();
        if (n->backward_fn && n->has_grad()) n->backward_fn(*n);
        if (n->is_leaf && n->grad_ready_hook && n->has_grad()) n->grad_ready_hook(*n);  // every consumer has run
        if (!n->is_leaf) {  // release the graph and intermediate gradients as we go
            n->backward_fn = nullptr;
            n->parents.clear();
            if (n != root.node()) n->release_grad();
        }
        // Its consumers ran before it, so nothing needs this node any more: dropping the
        // tape's reference lets activations die layer by layer while gradients appear
        // (peak memory), instead of all at once when backward returns.
        it->reset();
    }
}

}  // namespace rgrid
