#pragma once
// grad_check: compares the backward pass of any function of Vars with central finite
// differences, in double precision (ggml's test-backend-ops idea, micrograd's check).
// The output is projected on a fixed random tensor R (seeded), L = Σ R ⊙ f(inputs), so
// every output element matters (a plain sum would hide softmax's gradient, which sums to 0).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "rgrid/autograd/var.hpp"
#include "rgrid/core/rng.hpp"

namespace rgrid {

/// Settings of grad_check. The error of one element is |a − n| / max(|a|, |n|, floor):
/// relative for gradients ≥ floor in size, absolute below (finite differences cannot
/// resolve tiny gradients relatively).
struct GradCheckOptions {
    double eps = 1e-6;        // central-difference step
    double tolerance = 1e-6;  // max error for ok
    double floor = 1e-2;      // denominator floor (see above)
    std::uint64_t seed = 7;   // projection tensor R
};

/// Outcome of grad_check: ok, the max error and where it occurred.
struct GradCheckResult {
    bool ok = true;
    double max_error = 0;       // max over all checked elements
    std::size_t input = 0;      // index into the inputs vector of the worst element
    std::size_t index = 0;      // flat index of the worst element in that input
    double analytic = 0, numeric = 0;  // the two gradients at the worst element
    std::size_t checked = 0;    // elements compared
    std::string message;        // human-readable summary (for test failure output)
    explicit operator bool() const { return ok; }
};

/// Checks d(Σ R ⊙ f(inputs))/d(input) from backward() against central differences for
/// every element of every input that requires grad. f must be deterministic (dropout:
/// build the Rng from a fixed seed inside f).
/// Example:
///   auto r = grad_check<double>([](const std::vector<Var<double>>& in) { return ops::gelu(in[0]); },
///                               {Var<double>(x, true)});
///   EXPECT_TRUE(r.ok) << r.message;
template <class T = double>
GradCheckResult grad_check(const std::function<Var<T>(const std::vector<Var<T>>&)>& f, const std::vector<Var<T>>& inputs,
                           const GradCheckOptions& opt = {}) {
    GradCheckResult res;
    for (const auto& x : inputs)
        if (x.defined() && x.requires_grad()) x.zero_grad();
    // Analytic: backward with seed R.
    Var<T> y = f(inputs);
    RGRID_CHECK(y.defined(), "grad_check: f returned an undefined Var");
    RGRID_CHECK(y.requires_grad(), "grad_check: f's output does not depend on any input with requires_grad");
    Tensor<T> R = Tensor<T>::from_shape(y.shape());
    Rng rng(opt.seed);
    for (std::size_t i = 0; i < R.size(); ++i) R.data()[i] = rng.normal<T>();
    backward(y, &R);
    auto loss = [&]() {
        NoGradGuard ng;
        Var<T> o = f(inputs);
        RGRID_CHECK(o.numel() == R.size(), "grad_check: f's output changed shape between calls");
        long double s = 0;
        for (std::size_t i = 0; i < R.size(); ++i) s += static_cast<long double>(R.data()[i]) * o.data()[i];
        return static_cast<double>(s);
    };
    for (std::size_t in = 0; in < inputs.size(); ++in) {
        const Var<T>& x = inputs[in];
        if (!x.defined() || !x.requires_grad()) continue;
        const std::size_t n = x.numel();
        std::vector<T> analytic(n, T(0));
        if (x.has_grad()) std::copy(x.grad().data(), x.grad().data() + n, analytic.begin());
        T* v = x.node()->value.data();
        for (std::size_t i = 0; i < n; ++i) {
            const T orig = v[i];
            v[i] = orig + static_cast<T>(opt.eps);
            const double lp = loss();
            v[i] = orig - static_cast<T>(opt.eps);
            const double lm = loss();
            v[i] = orig;
            const double num = (lp - lm) / (2 * opt.eps);
            const double a = static_cast<double>(analytic[i]);
            double err = std::abs(a - num) / std::max({std::abs(a), std::abs(num), opt.floor});
            if (std::isnan(err)) err = INFINITY;  // NaN counts as the worst
            if (++res.checked == 1 || err > res.max_error) {
                res.max_error = err;
                res.input = in;
                res.index = i;
                res.analytic = a;
                res.numeric = num;
            }
        }
    }
    RGRID_CHECK(res.checked > 0, "grad_check: no input requires grad");
    res.ok = res.max_error <= opt.tolerance;
    std::ostringstream os;
    os << "grad_check " << (res.ok ? "ok" : "FAILED") << ": max error " << res.max_error << " (tolerance " << opt.tolerance
       << ") at input " << res.input << " element " << res.index << " of " << shape_str(inputs[res.input].shape())
       << ": analytic " << res.analytic << ", numeric " << res.numeric << " (" << res.checked << " elements checked)";
    res.message = os.str();
    return res;
}

}  // namespace rgrid
