#pragma once
// Helpers shared by the PyTorch/transformers parity tests of tests/nn (test_bert, test_bert_mlm).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "rgrid/io/safetensors.hpp"
#include "rgrid/nn/module.hpp"
#include "common/golden_bert.hpp"  // max_abs, max_abs_diff

namespace rgrid::test {

/// Non-empty lines of a text file (golden key lists).
inline std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

/// The worst relative gradient error of a parity check and where it occurred.
struct GradParity {
    double worst = 0;
    std::string name;
};

/// Every parameter's gradient against the reference `io["grad.<name>"]`, relative to the
/// tensor's largest reference gradient, floored at 1e-3 of the model's largest: attention key
/// biases have an exactly-zero true gradient (softmax is invariant to a per-row shift), so
/// the reference values there are rounding noise (~1e-17 in double).
template <class T>
GradParity expect_grads_match(const Module<T>& model, const safetensors::TensorMap& io, double rel_tol) {
    double global = 0;
    for (auto& [name, p] : model.named_parameters())
        global = std::max(global, max_abs(io.at("grad." + name).template as<double>()));
    GradParity r;
    for (auto& [name, p] : model.named_parameters()) {
        EXPECT_TRUE(p->has_grad()) << name;
        if (!p->has_grad()) continue;
        const Tensor<double> ref = io.at("grad." + name).template as<double>();
        const double rel = max_abs_diff(p->grad(), ref) / std::max(max_abs(ref), 1e-3 * global);
        if (rel > r.worst) r = {rel, name};
        EXPECT_LE(rel, rel_tol) << "gradient of " << name;
    }
    return r;
}

}  // namespace rgrid::test
