// Module / ModuleList: registration order, dotted names, train/eval propagation, zero_grad.
#include <gtest/gtest.h>

#include "rgrid/nn/module.hpp"

using namespace rgrid;

namespace {

struct Leaf : Module<double> {
    Var<double> weight{zeros<double>({2, 3})};
    Var<double> bias{zeros<double>({2})};
    Leaf() {
        register_parameter("weight", weight);
        register_parameter("bias", bias);
    }
};

struct Block : Module<double> {
    Leaf dense;
    Leaf LayerNorm;
    Block() {
        register_module("dense", dense);
        register_module("LayerNorm", LayerNorm);
    }
};

struct Net : Module<double> {
    Var<double> scale{full<double>({1}, 2.0)};
    ModuleList<Block> layer;
    Leaf head;
    explicit Net(int n) {
        register_parameter("scale", scale);
        for (int i = 0; i < n; ++i) layer.emplace_back();
        register_module("layer", layer);
        register_module("head", head);
    }
};

std::vector<std::string> keys(const Module<double>& m, const std::string& prefix = "") {
    std::vector<std::string> k;
    for (auto& [n, p] : m.named_parameters(prefix)) k.push_back(n);
    return k;
}

}  // namespace

TEST(Module, DottedNamesInRegistrationOrder) {
    Net net(2);
    const std::vector<std::string> expect = {
        "scale",
        "layer.0.dense.weight", "layer.0.dense.bias", "layer.0.LayerNorm.weight", "layer.0.LayerNorm.bias",
        "layer.1.dense.weight", "layer.1.dense.bias", "layer.1.LayerNorm.weight", "layer.1.LayerNorm.bias",
        "head.weight", "head.bias"};
    EXPECT_EQ(keys(net), expect);
    EXPECT_EQ(keys(net.head, "model.head."), (std::vector<std::string>{"model.head.weight", "model.head.bias"}));
    EXPECT_EQ(net.parameters().size(), expect.size());
    EXPECT_EQ(net.parameters()[1], &net.layer[0].dense.weight);
    EXPECT_EQ(&net.parameter("layer.1.LayerNorm.bias"), &net.layer[1].LayerNorm.bias);
    EXPECT_THROW(net.parameter("layer.2.dense.weight"), Error);
    EXPECT_THROW(net.layer[5], Error);
    EXPECT_EQ(net.num_parameters(), 1u + 2 * 16 + 8);
    for (auto* p : net.parameters()) EXPECT_TRUE(p->requires_grad());
}

TEST(Module, TrainEvalPropagates) {
    Net net(3);
    EXPECT_TRUE(net.is_training());
    net.eval();
    EXPECT_FALSE(net.is_training());
    EXPECT_FALSE(net.layer.is_training());
    EXPECT_FALSE(net.layer[2].LayerNorm.is_training());
    net.train();
    EXPECT_TRUE(net.layer[1].dense.is_training());
    net.layer.eval();
    EXPECT_TRUE(net.is_training());
    EXPECT_FALSE(net.layer[0].dense.is_training());
    EXPECT_TRUE(net.head.is_training());
}

TEST(Module, ZeroGradDropsGradients) {
    Net net(1);
    net.head.weight.grad().fill(3.0);
    net.layer[0].dense.bias.grad().fill(1.0);
    EXPECT_TRUE(net.head.weight.has_grad());
    net.zero_grad();
    for (auto* p : net.parameters()) EXPECT_FALSE(p->has_grad());
}

TEST(Module, DuplicateOrEmptyNamesRejected) {
    struct Bad : Module<double> {
        Var<double> a{zeros<double>({1})};
        Var<double> b{zeros<double>({1})};
        void add(const std::string& n, Var<double>& v) { register_parameter(n, v); }
    } bad;
    bad.add("a", bad.a);
    EXPECT_THROW(bad.add("a", bad.b), Error);
    EXPECT_THROW(bad.add("", bad.b), Error);
    Var<double> undefined;
    EXPECT_THROW(bad.add("u", undefined), Error);
    static_assert(!std::is_copy_constructible_v<Module<double>> && !std::is_move_constructible_v<Module<double>>);
}
