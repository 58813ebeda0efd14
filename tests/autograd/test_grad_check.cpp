// Table-driven gradient checks of every op (ggml test-backend-ops style): each row is an
// op, its input shapes and a function of the inputs; grad_check<double> compares
// backward() with central differences. Plus proof that a wrong backward fails the check.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <rgrid/autograd/grad_check.hpp>
#include <rgrid/autograd/ops.hpp>

namespace {
using rgrid::IndexTensor;
using rgrid::Rng;
using rgrid::Shape;
using rgrid::Tensor;
using V = rgrid::Var<double>;
using Inputs = std::vector<V>;
using namespace rgrid::ops;

struct GradCase {
    std::string name;
    std::vector<Shape> shapes;                       // one random normal input per shape
    std::function<V(const Inputs&)> f;
    std::vector<bool> requires_grad = {};            // default: all
    double tolerance = 1e-6;
};

// Additive attention mask (B, T): key j of batch b is masked where masked(b, j).
Tensor<double> make_mask(std::size_t B, std::size_t T, double neg, const std::vector<std::pair<std::size_t, std::size_t>>& masked) {
    Tensor<double> m = rgrid::zeros<double>({B, T});
    for (auto [b, j] : masked) m(b, j) = neg;
    return m;
}

const IndexTensor kIds = rgrid::index_tensor({0, 3, 5, 3, 1, 0}, {2, 3});
const IndexTensor kLabels = rgrid::index_tensor({2, 0, 1, 2, 1}, {5});
const IndexTensor kLabelsIgnore = rgrid::index_tensor({2, -100, 1, 0, 1}, {5});
const Tensor<double> kClassWeights = rgrid::from_vector<double>({0.5, 2.0, 1.25}, {3});
const double kInf = std::numeric_limits<double>::infinity();

std::vector<GradCase> cases() {
    std::vector<GradCase> c;
    // elementwise + broadcasting
    c.push_back({"add/same", {{2, 3}, {2, 3}}, [](const Inputs& x) { return add(x[0], x[1]); }});
    c.push_back({"add/bias (B,T,H)+(H)", {{2, 3, 4}, {4}}, [](const Inputs& x) { return add(x[0], x[1]); }});
    c.push_back({"add/(B,T,H)+(B,T,1)", {{2, 3, 4}, {2, 3, 1}}, [](const Inputs& x) { return add(x[0], x[1]); }});
    c.push_back({"add/(2,3,4)+(3,1)", {{2, 3, 4}, {3, 1}}, [](const Inputs& x) { return add(x[0], x[1]); }});
    c.push_back({"add/(2,3,4)+(1,3,4)", {{2, 3, 4}, {1, 3, 4}}, [](const Inputs& x) { return add(x[0], x[1]); }});
    c.push_back({"sub/same", {{3, 2}, {3, 2}}, [](const Inputs& x) { return sub(x[0], x[1]); }});
    c.push_back({"sub/(B,T,H)-(H)", {{2, 3, 4}, {4}}, [](const Inputs& x) { return sub(x[0], x[1]); }});
    c.push_back({"sub/(2,3,4)-(2,1,4)", {{2, 3, 4}, {2, 1, 4}}, [](const Inputs& x) { return sub(x[0], x[1]); }});
    c.push_back({"mul/same", {{2, 5}, {2, 5}}, [](const Inputs& x) { return mul(x[0], x[1]); }});
    c.push_back({"mul/(B,T,H)*(B,T,1)", {{2, 3, 4}, {2, 3, 1}}, [](const Inputs& x) { return mul(x[0], x[1]); }});
    c.push_back({"mul/(B,T,H)*(H)", {{2, 3, 4}, {4}}, [](const Inputs& x) { return mul(x[0], x[1]); }});
    c.push_back({"mul/(2,3,4)*(2,1,4)", {{2, 3, 4}, {2, 1, 4}}, [](const Inputs& x) { return mul(x[0], x[1]); }});
    c.push_back({"mul/(2,3,4)*scalar-like (1)", {{2, 3, 4}, {1}}, [](const Inputs& x) { return mul(x[0], x[1]); }});
    c.push_back({"mul/same var twice", {{3, 3}}, [](const Inputs& x) { return mul(x[0], x[0]); }});
    c.push_back({"mul/b constant", {{2, 4}, {4}}, [](const Inputs& x) { return mul(x[0], x[1]); }, {true, false}});
    c.push_back({"scale", {{2, 3}}, [](const Inputs& x) { return scale(x[0], -1.7); }});
    c.push_back({"tanh", {{3, 4}}, [](const Inputs& x) { return tanh(x[0]); }});
    c.push_back({"operators", {{2, 3}, {3}}, [](const Inputs& x) { return x[0] * x[1] - x[0] + x[0] * (2.0 * x[1]); }});
    // products
    c.push_back({"matmul/2d", {{3, 4}, {4, 5}}, [](const Inputs& x) { return matmul(x[0], x[1]); }});
    c.push_back({"matmul/batched 3d", {{2, 3, 4}, {2, 4, 5}}, [](const Inputs& x) { return matmul(x[0], x[1]); }});
    c.push_back({"matmul/batched 4d", {{2, 2, 3, 4}, {2, 2, 4, 3}}, [](const Inputs& x) { return matmul(x[0], x[1]); }});
    c.push_back({"matmul/shared rhs", {{2, 3, 4}, {4, 2}}, [](const Inputs& x) { return matmul(x[0], x[1]); }});
    c.push_back({"matmul/same var", {{3, 3}}, [](const Inputs& x) { return matmul(x[0], x[0]); }});
    c.push_back({"linear/bias", {{2, 3, 4}, {5, 4}, {5}}, [](const Inputs& x) { return linear(x[0], x[1], x[2]); }});
    c.push_back({"linear/no bias", {{3, 4}, {2, 4}}, [](const Inputs& x) { return linear(x[0], x[1]); }});
    c.push_back({"linear/x constant", {{4, 3}, {2, 3}, {2}}, [](const Inputs& x) { return linear(x[0], x[1], x[2]); },
                 {false, true, true}});
    // shape
    c.push_back({"reshape", {{2, 3, 4}}, [](const Inputs& x) { return reshape(x[0], {4, 6}); }});
    c.push_back({"permute/3d", {{2, 3, 4}}, [](const Inputs& x) { return permute(x[0], {2, 0, 1}); }});
    c.push_back({"permute/heads", {{2, 3, 2, 2}}, [](const Inputs& x) { return permute(x[0], {0, 2, 1, 3}); }});
    c.push_back({"select/cls", {{2, 3, 4}}, [](const Inputs& x) { return select(x[0], 1, 0); }});
    c.push_back({"select/first dim", {{3, 4}}, [](const Inputs& x) { return select(x[0], 0, 2); }});
    c.push_back({"select/last dim", {{2, 3, 4}}, [](const Inputs& x) { return select(x[0], 2, 3); }});
    c.push_back({"gather_rows/masked tokens (B,T,H)", {{2, 3, 4}}, [](const Inputs& x) {
                     return gather_rows(x[0], rgrid::index_tensor({4, 0, 5}, {3}));
                 }});
    c.push_back({"gather_rows/repeated rows", {{3, 2}}, [](const Inputs& x) {
                     return gelu(gather_rows(x[0], rgrid::index_tensor({1, 1, 2, 1}, {4})));
                 }});
    // reductions
    c.push_back({"sum", {{3, 4}}, [](const Inputs& x) { return sum(x[0]); }});
    c.push_back({"mean", {{2, 3, 4}}, [](const Inputs& x) { return mean(x[0]); }});
    // fused
    c.push_back({"gelu", {{4, 5}}, [](const Inputs& x) { return gelu(scale(x[0], 2.0)); }});
    c.push_back({"softmax/2d", {{3, 5}}, [](const Inputs& x) { return softmax(x[0]); }});
    c.push_back({"softmax/3d", {{2, 3, 4}}, [](const Inputs& x) { return softmax(x[0]); }});
    c.push_back({"softmax/masked -1e4", {{2, 4}}, [](const Inputs& x) {
                     return softmax(add(x[0], V(rgrid::from_vector<double>({0, -1e4, 0, -1e4}, {4}))));
                 }});
    c.push_back({"log_softmax", {{3, 5}}, [](const Inputs& x) { return log_softmax(x[0]); }});
    c.push_back({"log_softmax/3d", {{2, 2, 3}}, [](const Inputs& x) { return log_softmax(x[0]); }});
    c.push_back({"layer_norm/(2,3,8)", {{2, 3, 8}, {8}, {8}}, [](const Inputs& x) { return layer_norm(x[0], x[1], x[2], 1e-5); }});
    c.push_back({"layer_norm/(1,1,4)", {{1, 1, 4}, {4}, {4}}, [](const Inputs& x) { return layer_norm(x[0], x[1], x[2], 1e-12); }});
    c.push_back({"layer_norm/no affine", {{3, 6}}, [](const Inputs& x) { return layer_norm(x[0], V(), V(), 1e-5); }});
    c.push_back({"layer_norm/x constant", {{5, 4}, {4}, {4}}, [](const Inputs& x) { return layer_norm(x[0], x[1], x[2], 1e-5); },
                 {false, true, true}});
    c.push_back({"dropout/p=0.3 fixed rng", {{4, 6}}, [](const Inputs& x) {
                     Rng rng(11);  // a fresh copy per evaluation: the same mask every time
                     return dropout(x[0], 0.3, rng);
                 }});
    c.push_back({"dropout_add_layer_norm/p=0.2 fixed rng", {{2, 3, 8}, {2, 3, 8}, {8}, {8}}, [](const Inputs& x) {
                     Rng rng(5);
                     return dropout_add_layer_norm(x[0], x[1], x[2], x[3], 1e-5, 0.2, rng);
                 }});
    c.push_back({"dropout_add_layer_norm/p=0 no affine", {{3, 6}, {3, 6}}, [](const Inputs& x) {
                     Rng rng(5);
                     return dropout_add_layer_norm(x[0], x[1], V(), V(), 1e-5, 0.0, rng);
                 }});
    c.push_back({"dropout/p=0", {{2, 3}}, [](const Inputs& x) {
                     Rng rng(1);
                     return scale(dropout(x[0], 0.0, rng), 1.0);
                 }});
    c.push_back({"embedding", {{6, 4}}, [](const Inputs& x) { return embedding(x[0], kIds); }});
    c.push_back({"cross_entropy", {{5, 3}}, [](const Inputs& x) { return cross_entropy(x[0], kLabels); }});
    c.push_back({"cross_entropy/class weights", {{5, 3}}, [](const Inputs& x) { return cross_entropy(x[0], kLabels, &kClassWeights); }});
    c.push_back({"cross_entropy/ignore -100", {{5, 3}}, [](const Inputs& x) { return cross_entropy(x[0], kLabelsIgnore, &kClassWeights); }});
    // attention (B=2, T=4, H=6, NH=2 → HS=3)
    const Shape qkv = {2, 4, 6};
    c.push_back({"attention/no mask", {qkv, qkv, qkv}, [](const Inputs& x) { return attention(x[0], x[1], x[2], Tensor<double>(), 2); }});
    c.push_back({"attention/mask -1e4", {qkv, qkv, qkv}, [](const Inputs& x) {
                     return attention(x[0], x[1], x[2], make_mask(2, 4, -1e4, {{0, 3}, {1, 1}, {1, 2}}), 2);
                 }});
    c.push_back({"attention/mask -inf", {qkv, qkv, qkv}, [](const Inputs& x) {
                     return attention(x[0], x[1], x[2], make_mask(2, 4, -kInf, {{0, 0}, {1, 3}}), 3);
                 }});
    c.push_back({"attention/mask lowest", {qkv, qkv, qkv}, [](const Inputs& x) {
                     return attention(x[0], x[1], x[2], make_mask(2, 4, std::numeric_limits<double>::lowest(), {{0, 2}}), 1);
                 }});
    c.push_back({"attention/dropout fixed rng", {qkv, qkv, qkv}, [](const Inputs& x) {
                     Rng rng(5);
                     return attention(x[0], x[1], x[2], make_mask(2, 4, -1e4, {{1, 3}}), 2, 0.25, &rng);
                 }});
    c.push_back({"attention/q=k=v", {qkv}, [](const Inputs& x) { return attention(x[0], x[0], x[0], Tensor<double>(), 2); }});
    c.push_back({"attention/T=1", {{3, 1, 4}, {3, 1, 4}, {3, 1, 4}}, [](const Inputs& x) {
                     return attention(x[0], x[1], x[2], Tensor<double>(), 2);
                 }});
    // a small BERT-layer-like composite: projections, attention, residual, LayerNorm, GELU, pooling, loss
    c.push_back({"composite/encoder layer + loss", {{2, 3, 4}, {12, 4}, {12}, {4, 4}, {4}, {4}, {3, 4}, {3}},
                 [](const Inputs& x) {
                     Rng rng(3);
                     V qkv_all = linear(x[0], x[1], x[2]);                                   // (2,3,12)
                     V q = select(reshape(qkv_all, {2, 3, 3, 4}), 2, 0);                    // (2,3,4)
                     V k = select(reshape(qkv_all, {2, 3, 3, 4}), 2, 1);
                     V v = select(reshape(qkv_all, {2, 3, 3, 4}), 2, 2);
                     V ctx = attention(q, k, v, make_mask(2, 3, -1e4, {{1, 2}}), 2, 0.2, &rng);
                     V h = layer_norm(add(linear(ctx, x[3], x[4]), x[0]), x[5], V(), 1e-12);
                     V pooled = tanh(select(gelu(h), 1, 0));                                // (2,4)
                     V logits = linear(pooled, x[6], x[7]);                                 // (2,3)
                     return cross_entropy(logits, rgrid::index_tensor({2, 0}, {2}));
                 }});
    return c;
}

void PrintTo(const GradCase& c, std::ostream* os) { *os << c.name; }

class OpGradCheck : public ::testing::TestWithParam<GradCase> {};

TEST_P(OpGradCheck, MatchesCentralDifferences) {
    const GradCase& gc = GetParam();
    Rng rng(1234);
    Inputs inputs;
    for (std::size_t i = 0; i < gc.shapes.size(); ++i) {
        Tensor<double> t = Tensor<double>::from_shape(gc.shapes[i]);
        for (auto& v : t) v = rng.normal<double>();
        const bool rg = gc.requires_grad.empty() || gc.requires_grad[i];
        inputs.emplace_back(std::move(t), rg);
    }
    auto r = rgrid::grad_check<double>(gc.f, inputs, {.tolerance = gc.tolerance});
    EXPECT_TRUE(r.ok) << gc.name << ": " << r.message;
    EXPECT_LE(r.max_error, 1e-6) << gc.name;
    for (std::size_t i = 0; i < inputs.size(); ++i)  // constants never receive a gradient
        if (!inputs[i].requires_grad()) EXPECT_FALSE(inputs[i].has_grad()) << gc.name << " input " << i;
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpGradCheck, ::testing::ValuesIn(cases()), [](const auto& info) {
    std::string s;
    for (char ch : info.param.name) s += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
    return s;
});

// ---- the check can fail -----------------------------------------------------------------

// x² with a backward that is wrong by a factor (2.02·x instead of 2·x).
V bad_square(const V& x) {
    rgrid::Tensor<double> y = x.value() * x.value();
    return rgrid::make_op<double>("bad_square", std::move(y), {x}, [xn = x.node_ptr()](rgrid::detail::Node<double>& out) {
        rgrid::Tensor<double> g = 2.02 * xn->value * out.grad;
        xn->accumulate(g);
    });
}
// Same op with the correct backward, so the failure above is the factor, nothing else.
V good_square(const V& x) {
    rgrid::Tensor<double> y = x.value() * x.value();
    return rgrid::make_op<double>("good_square", std::move(y), {x}, [xn = x.node_ptr()](rgrid::detail::Node<double>& out) {
        rgrid::Tensor<double> g = 2.0 * xn->value * out.grad;
        xn->accumulate(g);
    });
}
// A broadcast add whose backward forgets to reduce over the rows (keeps row 0 only).
V bad_bias_add(const V& a, const V& b) {
    rgrid::Tensor<double> y = a.value() + b.value();
    return rgrid::make_op<double>("bad_bias_add", std::move(y), {a, b}, [an = a.node_ptr(), bn = b.node_ptr()](rgrid::detail::Node<double>& out) {
        an->accumulate(out.grad);
        rgrid::Tensor<double> g0 = xt::view(out.grad, 0, xt::all());
        bn->accumulate(g0);
    });
}

TEST(GradCheck, DetectsWrongFactorInBackward) {
    Rng rng(9);
    Tensor<double> t = Tensor<double>::from_shape({3, 4});
    for (auto& v : t) v = rng.normal<double>();
    V x(t, true);
    auto good = rgrid::grad_check<double>([](const Inputs& in) { return good_square(in[0]); }, {x});
    EXPECT_TRUE(good.ok) << good.message;
    auto bad = rgrid::grad_check<double>([](const Inputs& in) { return bad_square(in[0]); }, {x});
    EXPECT_FALSE(bad.ok) << bad.message;
    EXPECT_GT(bad.max_error, 1e-3);
    EXPECT_NE(bad.message.find("FAILED"), std::string::npos);
}

TEST(GradCheck, DetectsMissingBroadcastReduction) {
    V a(rgrid::from_vector<double>({1, 2, 3, 4, 5, 6}, {3, 2}), true);
    V b(rgrid::from_vector<double>({0.5, -1}, {2}), true);
    auto bad = rgrid::grad_check<double>([](const Inputs& in) { return bad_bias_add(in[0], in[1]); }, {a, b});
    EXPECT_FALSE(bad.ok) << bad.message;
    EXPECT_EQ(bad.input, 1u);  // the bias is where it goes wrong
    auto good = rgrid::grad_check<double>([](const Inputs& in) { return add(in[0], in[1]); }, {a, b});
    EXPECT_TRUE(good.ok) << good.message;
}

TEST(GradCheck, NaNGradientFails) {
    V x(rgrid::from_vector<double>({1, 2}, {2}), true);
    auto r = rgrid::grad_check<double>(
        [](const Inputs& in) {
            rgrid::Tensor<double> y = in[0].value();
            return rgrid::make_op<double>("nan_grad", std::move(y), {in[0]}, [xn = in[0].node_ptr()](rgrid::detail::Node<double>& out) {
                rgrid::Tensor<double> g = out.grad * std::numeric_limits<double>::quiet_NaN();
                xn->accumulate(g);
            });
        },
        {x});
    EXPECT_FALSE(r.ok) << r.message;
}

// nn.Embedding(padding_idx): the padding row gets no gradient, every other row matches
// the plain embedding's (grad-checked above).
TEST(GradCheck, EmbeddingPaddingRowGetsNoGradient) {
    Rng rng(2);
    Tensor<double> w = Tensor<double>::from_shape({6, 4});
    for (auto& v : w) v = rng.normal<double>();
    V a(w, true), b(w, true);
    Tensor<double> seed = Tensor<double>::from_shape({2, 3, 4});
    for (auto& v : seed) v = rng.normal<double>();
    rgrid::backward(embedding(a, kIds), &seed);
    rgrid::backward(embedding(b, kIds, 3), &seed);
    for (std::size_t r = 0; r < 6; ++r)
        for (std::size_t c = 0; c < 4; ++c) {
            if (r == 3) EXPECT_EQ(b.grad()(r, c), 0.0);
            else EXPECT_EQ(b.grad()(r, c), a.grad()(r, c));
        }
    EXPECT_NE(a.grad()(3, 0), 0.0);  // id 3 occurs twice
}

TEST(GradCheck, RequiresAnInputWithGrad) {
    V c(rgrid::from_vector<double>({1, 2}, {2}), false);
    EXPECT_THROW(rgrid::grad_check<double>([](const Inputs& in) { return scale(in[0], 2.0); }, {c}), rgrid::Error);
}
}  // namespace
