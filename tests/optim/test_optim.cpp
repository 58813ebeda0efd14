// AdamW (torch semantics, hand-computed), decay groups, LinearSchedule, clip_grad_norm.
// The 3-step comparison against real torch.optim.AdamW is in test_adamw_parity.cpp.
#include <gtest/gtest.h>

#include <cmath>

#include "rgrid/optim/adamw.hpp"
#include "rgrid/optim/clip_grad.hpp"
#include "rgrid/optim/schedule.hpp"

using namespace rgrid;

TEST(AdamW, TwoStepsByHand) {
    Var<double> w(from_vector<double>({1.0, -2.0}, {2}), true);
    AdamW<double> opt({&w}, {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.5});
    double x[2] = {1.0, -2.0}, m[2] = {0, 0}, v[2] = {0, 0};
    const double g1[2] = {0.5, -1.0}, g2[2] = {-0.25, 3.0};
    for (int step = 1; step <= 2; ++step) {
        const double* g = step == 1 ? g1 : g2;
        w.grad() = from_vector<double>({g[0], g[1]}, {2});
        opt.step();
        for (int i = 0; i < 2; ++i) {  // torch.optim.AdamW, written out
            x[i] *= 1 - 0.1 * 0.5;
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
            const double mh = m[i] / (1 - std::pow(0.9, step)), denom = std::sqrt(v[i]) / std::sqrt(1 - std::pow(0.999, step)) + 1e-8;
            x[i] -= 0.1 * mh / denom;
            EXPECT_NEAR(w.value()(i), x[i], 1e-15) << "step " << step << " i " << i;
        }
    }
    EXPECT_EQ(opt.state(&w).step, 2);
    EXPECT_NEAR(opt.state(&w).exp_avg(1), m[1], 1e-15);
    EXPECT_NEAR(opt.state(&w).exp_avg_sq(0), v[0], 1e-15);
}

TEST(AdamW, SkipsParametersWithoutGradAndValidates) {
    Var<float> a(full<float>({3}, 1.f), true), b(full<float>({2}, 1.f), true);
    AdamW<float> opt({&a, &b}, {.lr = 0.01});
    a.grad().fill(1.f);
    opt.step();
    EXPECT_EQ(opt.state(&a).step, 1);
    EXPECT_EQ(opt.state(&b).step, 0);
    EXPECT_EQ(b.value()(0), 1.f);
    EXPECT_LT(a.value()(0), 1.f);
    EXPECT_THROW(AdamW<float>({&a}, {.lr = -1}), Error);
    EXPECT_THROW(AdamW<float>({&a}, {.beta1 = 1.0}), Error);
    EXPECT_THROW(AdamW<float>({&a}, {.beta2 = -0.1}), Error);
    EXPECT_THROW(AdamW<float>({&a}, {.eps = -1e-8}), Error);
    EXPECT_THROW(AdamW<float>({&a}, {.weight_decay = -0.01}), Error);
    EXPECT_THROW(AdamW<float>({&a, &a}, {}), Error);
    Var<float> c(full<float>({1}, 1.f), true);
    EXPECT_THROW(opt.state(&c), Error);
}

TEST(AdamW, LrMultiplierKeepsGroupRatios) {
    Var<float> a(zeros<float>({1}), true), b(zeros<float>({1}), true);
    AdamW<float> opt(std::vector<ParamGroup<float>>{{{&a}, 0.1, 1e-3}, {{&b}, 0.0, 2e-3}}, {.lr = 5e-3});
    opt.set_lr_multiplier(0.5);
    EXPECT_DOUBLE_EQ(opt.lr(0), 5e-4);
    EXPECT_DOUBLE_EQ(opt.lr(1), 1e-3);
    EXPECT_DOUBLE_EQ(opt.param_groups()[0].weight_decay, 0.1);
}

TEST(AdamW, DecayGroupsAsHfTrainer) {
    Var<float> w1(zeros<float>({1}), true), b1(zeros<float>({1}), true), lw(zeros<float>({1}), true),
        lb(zeros<float>({1}), true), cw(zeros<float>({1}), true);
    std::vector<std::pair<std::string, Var<float>*>> named = {
        {"bert.encoder.layer.0.attention.self.query.weight", &w1},
        {"bert.encoder.layer.0.attention.self.query.bias", &b1},
        {"bert.embeddings.LayerNorm.weight", &lw},
        {"bert.embeddings.LayerNorm.bias", &lb},
        {"classifier.weight", &cw}};
    auto groups = decay_groups(named, 0.01);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(groups[0].params, (std::vector<Var<float>*>{&w1, &cw}));
    EXPECT_EQ(groups[0].weight_decay, 0.01);
    EXPECT_EQ(groups[1].params, (std::vector<Var<float>*>{&b1, &lw, &lb}));
    EXPECT_EQ(groups[1].weight_decay, 0.0);
    EXPECT_EQ(groups[1].names[1], "bert.embeddings.LayerNorm.weight");
}

TEST(LinearSchedule, WarmupThenLinearDecay) {
    LinearSchedule s{2, 6};
    const double expect[] = {0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0};
    for (std::size_t i = 0; i < 8; ++i) EXPECT_DOUBLE_EQ(s(i), expect[i]) << "step " << i;
    LinearSchedule no_warmup{0, 4};
    EXPECT_DOUBLE_EQ(no_warmup(0), 1.0);
    EXPECT_DOUBLE_EQ(no_warmup(3), 0.25);
    EXPECT_THROW((LinearSchedule{5, 4}), Error);
    EXPECT_THROW((LinearSchedule{0, 0}), Error);
}

TEST(ClipGradNorm, TorchSemantics) {
    Var<double> a(zeros<double>({2}), true), b(zeros<double>({1}), true), c(zeros<double>({1}), true);
    a.grad() = from_vector<double>({3.0, 0.0}, {2});
    b.grad() = from_vector<double>({4.0}, {1});
    // c has no gradient: skipped
    const double n = clip_grad_norm<double>({&a, &b, &c}, 1.0);
    EXPECT_DOUBLE_EQ(n, 5.0);
    const double coef = 1.0 / (5.0 + 1e-6);
    EXPECT_DOUBLE_EQ(a.grad()(0), 3.0 * coef);
    EXPECT_DOUBLE_EQ(b.grad()(0), 4.0 * coef);
    EXPECT_FALSE(c.has_grad());
    // below the threshold: unchanged (coefficient clamped to 1)
    const double n2 = clip_grad_norm<double>({&a, &b}, 10.0);
    EXPECT_NEAR(n2, 1.0, 1e-6);
    EXPECT_DOUBLE_EQ(a.grad()(0), 3.0 * coef);
    EXPECT_THROW(clip_grad_norm<double>({&a}, 0.0), Error);
}
