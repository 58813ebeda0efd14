// Var, make_op, backward(): accumulation, no-grad mode, deep graphs, errors.
#include <gtest/gtest.h>

#include <rgrid/autograd/ops.hpp>

namespace {
using rgrid::Tensor;
using rgrid::Var;
using namespace rgrid::ops;

Var<double> leaf(std::vector<double> v, rgrid::Shape s, bool rg = true) { return Var<double>(rgrid::from_vector(v, s), rg); }

TEST(Var, GradientAccumulatesWhenUsedTwice) {
    auto x = leaf({1, -2, 3}, {3});
    auto y = sum(mul(x, x) + x);  // Σ x² + x → 2x + 1
    rgrid::backward(y);
    EXPECT_DOUBLE_EQ(x.grad()(0), 3);
    EXPECT_DOUBLE_EQ(x.grad()(1), -3);
    EXPECT_DOUBLE_EQ(x.grad()(2), 7);
}

TEST(Var, GradientsAccumulateAcrossBackwardCallsUntilZeroGrad) {
    auto x = leaf({2}, {1});
    rgrid::backward(sum(scale(x, 3.0)));
    rgrid::backward(sum(scale(x, 3.0)));
    EXPECT_DOUBLE_EQ(x.grad()(0), 6);
    x.zero_grad();
    EXPECT_FALSE(x.has_grad());
}

TEST(Var, ScalarLeafStartsWithoutGradient) {
    Var<double> s(rgrid::full<double>({}, 2.0), true);
    EXPECT_FALSE(s.has_grad());
    rgrid::backward(mul(s, s));
    ASSERT_TRUE(s.has_grad());
    EXPECT_DOUBLE_EQ(s.grad()(), 4);
}

TEST(Var, NoGradGuardRecordsNothing) {
    auto x = leaf({1, 2}, {2});
    {
        rgrid::NoGradGuard ng;
        EXPECT_FALSE(rgrid::grad_enabled());
        auto y = sum(mul(x, x));
        EXPECT_FALSE(y.requires_grad());
        EXPECT_DOUBLE_EQ(y.value()(), 5);
        EXPECT_THROW(rgrid::backward(y), rgrid::Error);
    }
    EXPECT_TRUE(rgrid::grad_enabled());
    EXPECT_TRUE(sum(x).requires_grad());
}

TEST(Var, ConstantsGetNoGradient) {
    auto x = leaf({1, 2}, {2});
    auto c = leaf({5, 7}, {2}, false);
    rgrid::backward(sum(mul(x, c)));
    EXPECT_DOUBLE_EQ(x.grad()(1), 7);
    EXPECT_FALSE(c.has_grad());
}

TEST(Var, DeepChainOf100kOpsNeedsNoRecursion) {
    constexpr int depth = 100000;
    auto x = leaf({1, 2}, {2});
    Var<double> y = x;
    for (int i = 0; i < depth; ++i) y = scale(y, 1.0);
    rgrid::backward(sum(y));
    EXPECT_DOUBLE_EQ(x.grad()(0), 1);
    // A deep graph that is never backpropagated is freed without recursion too.
    Var<double> z = x;
    for (int i = 0; i < depth; ++i) z = add(z, x);
    EXPECT_DOUBLE_EQ(z.value()(1), 2.0 * (depth + 1));
    z = Var<double>();
}

TEST(Var, BackwardErrors) {
    auto x = leaf({1, 2}, {2});
    EXPECT_THROW(rgrid::backward(scale(x, 2.0)), rgrid::Error);  // non-scalar root without seed
    Tensor<double> seed = rgrid::full<double>({2}, 1.0);
    auto y = scale(x, 2.0);
    rgrid::backward(y, &seed);
    EXPECT_DOUBLE_EQ(x.grad()(0), 2);
    EXPECT_THROW(rgrid::backward(Var<double>()), rgrid::Error);
    auto c = leaf({1}, {1}, false);
    EXPECT_THROW(rgrid::backward(sum(c)), rgrid::Error);
}

TEST(Var, BroadcastErrorNamesBothShapes) {
    auto a = leaf(std::vector<double>(6, 1), {2, 3});
    auto b = leaf(std::vector<double>(2, 1), {2});
    try {
        add(a, b);
        FAIL() << "expected rgrid::Error";
    } catch (const rgrid::Error& e) {
        EXPECT_NE(std::string(e.what()).find("(2, 3)"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("(2)"), std::string::npos) << e.what();
    }
    EXPECT_THROW(mul(b, a), rgrid::Error);  // b must not be larger than a
}

TEST(Var, OpArgumentErrors) {
    auto x = leaf(std::vector<double>(6, 1), {2, 3});
    auto w = leaf(std::vector<double>(8, 1), {2, 4});
    EXPECT_THROW(linear(x, w), rgrid::Error);
    EXPECT_THROW(matmul(x, x), rgrid::Error);
    EXPECT_THROW(reshape(x, {4}), rgrid::Error);
    EXPECT_THROW(permute(x, {0, 0}), rgrid::Error);
    EXPECT_THROW(select(x, 2, 0), rgrid::Error);
    EXPECT_THROW(layer_norm(x, w, Var<double>(), 1e-5), rgrid::Error);
    try {
        embedding(w, rgrid::index_tensor({0, 1, 7}, {3}));
        FAIL() << "expected rgrid::Error";
    } catch (const rgrid::Error& e) {
        EXPECT_NE(std::string(e.what()).find("id 7"), std::string::npos) << e.what();
    }
    EXPECT_THROW(cross_entropy(x, rgrid::index_tensor({0, 3}, {2})), rgrid::Error);
    EXPECT_THROW(cross_entropy(x, rgrid::index_tensor({0}, {1})), rgrid::Error);
    auto q = leaf(std::vector<double>(24, 1), {1, 4, 6});
    EXPECT_THROW(attention(q, q, q, Tensor<double>(), 4), rgrid::Error);  // 6 % 4 != 0
    EXPECT_THROW(attention(q, q, q, rgrid::zeros<double>({1, 3}), 2), rgrid::Error);
    EXPECT_THROW(attention(q, q, q, Tensor<double>(), 2, 0.1, nullptr), rgrid::Error);
}

TEST(Var, ScalarOperatorConvertsToT) {
    Var<float> x(rgrid::from_vector<float>({1, 2}, {2}), true);
    auto y = x * 2.0 + 0.5 * x;  // double literals on a Var<float>
    EXPECT_FLOAT_EQ(y.value()(1), 5.f);
}

TEST(Var, OperatorsMatchOps) {
    auto a = leaf({1, 2}, {2});
    auto b = leaf({3, 5}, {2});
    auto y = a * b - a + b * 2.0 + (-a);
    EXPECT_DOUBLE_EQ(y.value()(0), 3 - 1 + 6 - 1);
    EXPECT_DOUBLE_EQ(y.value()(1), 10 - 2 + 10 - 2);
}
}  // namespace
