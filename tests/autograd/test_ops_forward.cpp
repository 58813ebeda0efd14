// Forward values of the fused ops against naive references (float and double), plus
// dropout statistics and thread-count independence.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <rgrid/autograd/ops.hpp>

namespace {
using rgrid::Rng;
using rgrid::Shape;
using rgrid::Tensor;
using rgrid::Var;
using namespace rgrid::ops;

template <class T>
Tensor<T> randn(const Shape& s, std::uint64_t seed, T std = T(1)) {
    Rng rng(seed);
    Tensor<T> t = Tensor<T>::from_shape(s);
    for (auto& v : t) v = rng.normal<T>(T(0), std);
    return t;
}
template <class T>
double max_abs_diff(const Tensor<T>& a, const Tensor<T>& b) {
    EXPECT_EQ(a.size(), b.size());
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a.data()[i]) - double(b.data()[i])));
    return m;
}
template <class T>
constexpr double tol() { return sizeof(T) == 4 ? 2e-5 : 1e-12; }

// Naive attention: loops over b, h, i, j with explicit softmax, computed in double.
template <class T>
Tensor<T> naive_attention(const Tensor<T>& q, const Tensor<T>& k, const Tensor<T>& v, const Tensor<T>& mask, std::size_t NH) {
    const std::size_t B = q.shape()[0], Tn = q.shape()[1], H = q.shape()[2], HS = H / NH;
    Tensor<T> out = rgrid::zeros<T>({B, Tn, H});
    for (std::size_t b = 0; b < B; ++b)
        for (std::size_t h = 0; h < NH; ++h)
            for (std::size_t i = 0; i < Tn; ++i) {
                std::vector<double> s(Tn);
                double mx = -1e300;
                for (std::size_t j = 0; j < Tn; ++j) {
                    double d = 0;
                    for (std::size_t e = 0; e < HS; ++e) d += double(q(b, i, h * HS + e)) * double(k(b, j, h * HS + e));
                    s[j] = d / std::sqrt(double(HS)) + double(mask(b, j));
                    mx = std::max(mx, s[j]);
                }
                double z = 0;
                for (auto& x : s) z += (x = std::exp(x - mx));
                for (std::size_t e = 0; e < HS; ++e) {
                    double acc = 0;
                    for (std::size_t j = 0; j < Tn; ++j) acc += s[j] / z * double(v(b, j, h * HS + e));
                    out(b, i, h * HS + e) = T(acc);
                }
            }
    return out;
}

template <class T>
void check_attention() {
    const std::size_t B = 2, Tn = 5, H = 8, NH = 2;
    auto q = randn<T>({B, Tn, H}, 1), k = randn<T>({B, Tn, H}, 2), v = randn<T>({B, Tn, H}, 3);
    Tensor<T> mask = rgrid::zeros<T>({B, Tn});
    mask(0, 4) = T(-10000);
    mask(1, 1) = mask(1, 2) = std::numeric_limits<T>::lowest();  // HF's finfo.min style
    auto ctx = attention(Var<T>(q), Var<T>(k), Var<T>(v), mask, NH);
    EXPECT_LT(max_abs_diff(ctx.value(), naive_attention(q, k, v, mask, NH)), tol<T>());
    // p = 0 with an Rng is the same as no dropout
    Rng rng(1);
    auto ctx0 = attention(Var<T>(q), Var<T>(k), Var<T>(v), mask, NH, T(0), &rng);
    EXPECT_EQ(max_abs_diff(ctx.value(), ctx0.value()), 0.0);
    // Without a graph (inference path: per-thread scratch, nothing saved) the values are identical,
    // with and without dropout.
    Var<T> qg(q, true);
    Rng ra(3), rb(3);
    auto with_graph = attention(qg, Var<T>(k), Var<T>(v), mask, NH, T(0.3), &ra);
    ASSERT_TRUE(with_graph.requires_grad());
    rgrid::NoGradGuard ng;
    auto no_graph = attention(qg, Var<T>(k), Var<T>(v), mask, NH, T(0.3), &rb);
    EXPECT_FALSE(no_graph.requires_grad());
    EXPECT_EQ(max_abs_diff(with_graph.value(), no_graph.value()), 0.0);
    EXPECT_EQ(ra, rb);
    EXPECT_EQ(max_abs_diff(attention(qg, Var<T>(k), Var<T>(v), mask, NH).value(), ctx.value()), 0.0);
}
TEST(OpsForward, AttentionMatchesNaiveFloat) { check_attention<float>(); }
TEST(OpsForward, AttentionMatchesNaiveDouble) { check_attention<double>(); }

// The fused inference kernel (core/attention_avx512.hpp) against the naive double loops and the
// GEMM path: head sizes 16 to 80 (16, 48 and 80 end on a 1-vector P·V group), T from 1 to 512
// (short last tiles of 12 query rows, 16-key tails after the 32-key chunks, padded keys), HF's
// finfo.min mask, −10000, and a batch whose every key is −inf (zeros, as the GEMM path gives).
TEST(OpsForward, FusedInferenceAttentionMatchesNaiveAndGemmPath) {
    if (!rgrid::fused_attention()) GTEST_SKIP() << "the CPU has no AVX-512F (or RGRID_ATTENTION=gemm)";
    struct Case {
        std::size_t B, Tn, NH, HS;
    };
    for (Case c : {Case{1, 1, 2, 16}, {2, 7, 3, 32}, {1, 16, 1, 64}, {2, 33, 2, 48}, {1, 70, 4, 32}, {2, 130, 2, 80},
                   {1, 512, 2, 32}}) {
        SCOPED_TRACE("B " + std::to_string(c.B) + " T " + std::to_string(c.Tn) + " NH " + std::to_string(c.NH) +
                     " HS " + std::to_string(c.HS));
        const std::size_t H = c.NH * c.HS;
        auto q = randn<float>({c.B, c.Tn, H}, 11), k = randn<float>({c.B, c.Tn, H}, 12),
             v = randn<float>({c.B, c.Tn, H}, 13);
        Tensor<float> mask = rgrid::zeros<float>({c.B, c.Tn});
        if (c.Tn > 1) mask(0, c.Tn - 1) = std::numeric_limits<float>::lowest();
        if (c.B > 1) mask(1, 0) = -10000.f;
        rgrid::NoGradGuard ng;
        const Tensor<float> fused = attention(Var<float>(q), Var<float>(k), Var<float>(v), mask, c.NH).value();
        EXPECT_LT(max_abs_diff(fused, naive_attention(q, k, v, mask, c.NH)), tol<float>());
        rgrid::set_fused_attention(false);
        const Tensor<float> viagemm = attention(Var<float>(q), Var<float>(k), Var<float>(v), mask, c.NH).value();
        rgrid::set_fused_attention(true);
        EXPECT_LT(max_abs_diff(fused, viagemm), tol<float>());
        if (c.B > 1) {  // batch 0: every key −inf
            for (std::size_t j = 0; j < c.Tn; ++j) mask(0, j) = -std::numeric_limits<float>::infinity();
            const Tensor<float> z = attention(Var<float>(q), Var<float>(k), Var<float>(v), mask, c.NH).value();
            for (std::size_t i = 0; i < c.Tn * H; ++i) ASSERT_EQ(z.data()[i], 0.f) << "flat index " << i;
            for (std::size_t i = c.Tn * H; i < z.size(); ++i) ASSERT_EQ(z.data()[i], fused.data()[i]) << "flat index " << i;
        }
    }
}

template <class T>
void check_layer_norm() {
    const std::size_t N = 6, H = 16;
    auto x = randn<T>({2, 3, H}, 4, T(3)), w = randn<T>({H}, 5), b = randn<T>({H}, 6);
    auto y = layer_norm(Var<T>(x), Var<T>(w), Var<T>(b), T(1e-5));
    Tensor<T> ref = Tensor<T>::from_shape({2, 3, H});
    for (std::size_t r = 0; r < N; ++r) {
        double m = 0, var = 0;
        for (std::size_t j = 0; j < H; ++j) m += x.data()[r * H + j];
        m /= H;
        for (std::size_t j = 0; j < H; ++j) var += (x.data()[r * H + j] - m) * (x.data()[r * H + j] - m);
        var /= H;
        for (std::size_t j = 0; j < H; ++j)
            ref.data()[r * H + j] = T((x.data()[r * H + j] - m) / std::sqrt(var + 1e-5) * w(j) + b(j));
    }
    EXPECT_LT(max_abs_diff(y.value(), ref), 4 * tol<T>());
}
TEST(OpsForward, LayerNormMatchesNaiveFloat) { check_layer_norm<float>(); }
TEST(OpsForward, LayerNormMatchesNaiveDouble) { check_layer_norm<double>(); }

template <class T>
void check_softmax() {
    Tensor<T> x = rgrid::from_vector<T>({1, 2, 3, 1000, 1000, 1000, -5, 0, 5}, {3, 3});
    auto y = softmax(Var<T>(x));
    auto ly = log_softmax(Var<T>(x));
    const double e = std::exp(1.0), z = 1 + e + e * e;
    const std::vector<double> row0 = {1 / z, e / z, e * e / z};
    const double z2 = std::exp(-10.0) + std::exp(-5.0) + 1;
    const std::vector<double> row2 = {std::exp(-10.0) / z2, std::exp(-5.0) / z2, 1 / z2};
    for (std::size_t j = 0; j < 3; ++j) {
        EXPECT_NEAR(y.value()(0, j), row0[j], tol<T>());
        EXPECT_NEAR(y.value()(1, j), 1.0 / 3, tol<T>());  // large logits: no overflow
        EXPECT_NEAR(y.value()(2, j), row2[j], tol<T>());
        EXPECT_NEAR(ly.value()(0, j), std::log(row0[j]), 4 * tol<T>());
        EXPECT_NEAR(ly.value()(1, j), -std::log(3.0), 4 * tol<T>());
        EXPECT_NEAR(ly.value()(2, j), std::log(row2[j]), 4 * tol<T>());
    }
    // a row whose every entry is -inf gives zeros, not NaN
    const T ninf = -std::numeric_limits<T>::infinity();
    auto yz = softmax(Var<T>(rgrid::from_vector<T>({ninf, ninf}, {1, 2})));
    EXPECT_EQ(yz.value()(0, 0), T(0));
}
TEST(OpsForward, SoftmaxMatchesHandValuesFloat) { check_softmax<float>(); }
TEST(OpsForward, SoftmaxMatchesHandValuesDouble) { check_softmax<double>(); }

template <class T>
void check_cross_entropy() {
    // Reference values from torch.nn.functional.cross_entropy (float64).
    Tensor<T> x = rgrid::from_vector<T>({1, 2, 3, 1, 1, 1, 0.5, -2, 4}, {3, 3});
    auto labels = rgrid::index_tensor({2, 0, 1}, {3});
    Tensor<T> w = rgrid::from_vector<T>({2, 1, 0.5}, {3});
    EXPECT_NEAR(cross_entropy(Var<T>(x), labels).value()(), 2.5127906252652163, 4 * tol<T>());
    EXPECT_NEAR(cross_entropy(Var<T>(x), labels, &w).value()(), 2.4094803377833047, 4 * tol<T>());
    // and by hand: row 0 alone is log(e + e² + e³) − 3
    auto one = cross_entropy(Var<T>(rgrid::from_vector<T>({1, 2, 3}, {1, 3})), rgrid::index_tensor({2}, {1}));
    EXPECT_NEAR(one.value()(), std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3, 4 * tol<T>());
    // ignored rows (-100) drop out of numerator and denominator
    auto ign = cross_entropy(Var<T>(x), rgrid::index_tensor({2, -100, -100}, {3}));
    EXPECT_NEAR(ign.value()(), one.value()(), 4 * tol<T>());
}
TEST(OpsForward, CrossEntropyMatchesTorchFloat) { check_cross_entropy<float>(); }
TEST(OpsForward, CrossEntropyMatchesTorchDouble) { check_cross_entropy<double>(); }

TEST(OpsForward, GeluIsExactErfForm) {
    auto y = gelu(Var<double>(rgrid::from_vector<double>({1, -1, 3}, {3})));
    EXPECT_NEAR(y.value()(0), 0.841344746068543, 1e-15);  // torch.nn.functional.gelu
    EXPECT_NEAR(y.value()(1), -0.15865525393145702, 1e-15);
    EXPECT_NEAR(y.value()(2), 2.99595030590511, 1e-14);
}

TEST(OpsForward, LinearAndMatmulMatchNaive) {
    auto x = randn<float>({2, 3, 4}, 7), w = randn<float>({5, 4}, 8), b = randn<float>({5}, 9);
    auto y = linear(Var<float>(x), Var<float>(w), Var<float>(b));
    ASSERT_EQ(rgrid::shape_of(y.value()), (Shape{2, 3, 5}));
    auto m = matmul(Var<float>(x), Var<float>(randn<float>({2, 4, 2}, 10)));
    ASSERT_EQ(rgrid::shape_of(m.value()), (Shape{2, 3, 2}));
    for (std::size_t r = 0; r < 6; ++r)
        for (std::size_t o = 0; o < 5; ++o) {
            double s = b(o);
            for (std::size_t i = 0; i < 4; ++i) s += double(x.data()[r * 4 + i]) * w(o, i);
            EXPECT_NEAR(y.value().data()[r * 5 + o], s, 1e-5);
        }
}

TEST(OpsForward, EmbeddingGathersRows) {
    auto w = randn<float>({5, 3}, 11);
    auto y = embedding(Var<float>(w), rgrid::index_tensor({4, 0, 4, 2}, {2, 2}));
    ASSERT_EQ(rgrid::shape_of(y.value()), (Shape{2, 2, 3}));
    for (std::size_t c = 0; c < 3; ++c) {
        EXPECT_EQ(y.value()(0, 0, c), w(4, c));
        EXPECT_EQ(y.value()(1, 1, c), w(2, c));
    }
}

TEST(OpsForward, PermuteAndSelect) {
    Tensor<float> x = rgrid::from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {2, 3, 2});
    auto p = permute(Var<float>(x), {2, 0, 1});  // (2, 2, 3)
    EXPECT_EQ(p.value()(1, 0, 2), x(0, 2, 1));
    EXPECT_EQ(p.value()(0, 1, 1), x(1, 1, 0));
    auto s = select(Var<float>(x), 1, 2);  // (2, 2)
    EXPECT_EQ(s.value()(1, 0), x(1, 2, 0));
    EXPECT_FLOAT_EQ(sum(Var<float>(x)).value()(), 66.f);
    EXPECT_FLOAT_EQ(mean(Var<float>(x)).value()(), 5.5f);
}

TEST(OpsForward, DropoutKeepsAboutOneMinusPScaledAndIsThreadCountIndependent) {
    const std::size_t n = 200000;
    Tensor<float> x = rgrid::full<float>({n}, 1.f);
    const std::size_t threads = rgrid::num_threads();
    rgrid::set_num_threads(1);
    Rng r1(42);
    auto y1 = dropout(Var<float>(x), 0.25f, r1);
    rgrid::set_num_threads(4);
    Rng r2(42);
    auto y2 = dropout(Var<float>(x), 0.25f, r2);
    rgrid::set_num_threads(threads);
    EXPECT_EQ(max_abs_diff(y1.value(), y2.value()), 0.0);
    EXPECT_EQ(r1, r2);
    EXPECT_EQ(r1.counter(), n / 4);  // the stream advanced by one draw per 4 elements
    std::size_t kept = 0;
    for (float v : y1.value()) {
        if (v != 0.f) {
            ++kept;
            EXPECT_FLOAT_EQ(v, 1.f / 0.75f);
        }
    }
    EXPECT_NEAR(double(kept) / n, 0.75, 0.005);
    // a second call draws a different mask; p == 0 is the identity (same node)
    auto y3 = dropout(Var<float>(x), 0.25f, r1);
    EXPECT_GT(max_abs_diff(y1.value(), y3.value()), 0.0);
    Var<float> xv(x);
    EXPECT_EQ(dropout(xv, 0.f, r1).node(), xv.node());
    auto all = dropout(xv, 1.f, r1);  // p == 1 drops everything (torch gives zeros too)
    EXPECT_EQ(rgrid::ops::sum(all).value()(), 0.f);
    EXPECT_THROW(dropout(xv, 1.5f, r1), rgrid::Error);
}

// The fused post-LN tail equals the composed ops bit for bit: output, every gradient (also
// into a residual that other ops use too) and the rng stream, with and without dropout, for
// 1 and 3 threads (row blocks and partial sums split differently).
template <class T>
void check_dropout_add_layer_norm(T p, std::size_t threads) {
    const std::size_t saved_threads = rgrid::num_threads();
    rgrid::set_num_threads(threads);
    const Shape s{3, 40, 24};
    Var<T> x(randn<T>(s, 1), true), r(randn<T>(s, 2), true), w(randn<T>({24}, 3), true), b(randn<T>({24}, 4), true);
    const Var<T> c(randn<T>(s, 5)), d(randn<T>(s, 6));
    auto run = [&](bool fused) {
        for (Var<T>* v : {&x, &r, &w, &b}) v->zero_grad();
        Rng rng(7);
        Var<T> y = fused ? dropout_add_layer_norm(x, r, w, b, T(1e-12), p, rng)
                         : layer_norm(add(p > T(0) ? dropout(x, p, rng) : x, r), w, b, T(1e-12));
        rgrid::backward(add(sum(mul(y, c)), sum(mul(r, d))));  // r has a second consumer
        return std::vector<Tensor<T>>{y.value(), x.grad(), r.grad(), w.grad(), b.grad(), {T(rng.counter())}};
    };
    const auto composed = run(false), fused = run(true);
    rgrid::set_num_threads(saved_threads);
    const char* names[] = {"y", "dx", "dresidual", "dweight", "dbias", "rng counter"};
    for (std::size_t i = 0; i < composed.size(); ++i) {
        ASSERT_EQ(composed[i].size(), fused[i].size()) << names[i];
        for (std::size_t j = 0; j < composed[i].size(); ++j)
            ASSERT_EQ(composed[i].data()[j], fused[i].data()[j]) << names[i] << " at " << j << ", p " << p;
    }
}
TEST(OpsForward, DropoutAddLayerNormIsBitIdenticalToComposed) {
    for (std::size_t threads : {1, 3}) {
        check_dropout_add_layer_norm<float>(0.1f, threads);
        check_dropout_add_layer_norm<float>(0.f, threads);
        check_dropout_add_layer_norm<double>(0.3, threads);
    }
    Rng rng(1);
    Var<float> x(randn<float>({2, 8}, 1), true), r(randn<float>({2, 7}, 2), true);
    EXPECT_THROW(dropout_add_layer_norm(x, r, Var<float>(), Var<float>(), 1e-12f, 0.1f, rng), rgrid::Error);
}

TEST(OpsForward, AttentionDropoutIsThreadCountIndependent) {
    auto q = randn<float>({2, 16, 8}, 1), k = randn<float>({2, 16, 8}, 2), v = randn<float>({2, 16, 8}, 3);
    Tensor<float> mask = rgrid::zeros<float>({2, 16});
    const std::size_t threads = rgrid::num_threads();
    rgrid::set_num_threads(1);
    Rng r1(8);
    auto a = attention(Var<float>(q), Var<float>(k), Var<float>(v), mask, 2, 0.5f, &r1);
    rgrid::set_num_threads(3);
    Rng r2(8);
    auto b = attention(Var<float>(q), Var<float>(k), Var<float>(v), mask, 2, 0.5f, &r2);
    EXPECT_EQ(rgrid::blas_threads(), 1);  // rgrid's pool supplies all parallelism
    rgrid::set_num_threads(threads);
    EXPECT_EQ(max_abs_diff(a.value(), b.value()), 0.0);
    EXPECT_EQ(r1.counter(), 2u * 2 * 16 * 16 / 4);
    auto c = attention(Var<float>(q), Var<float>(k), Var<float>(v), mask, 2, 0.f);
    EXPECT_GT(max_abs_diff(a.value(), c.value()), 1e-3);
}
}  // namespace

namespace {
TEST(OpsForward, FloatFastExpAndGeluAreAccurate) {
    double worst_exp = 0;
    for (double x = -87.0; x <= 88.0; x += 0.01) {
        const double ref = std::exp(double(float(x)));
        worst_exp = std::max(worst_exp, std::abs(rgrid::detail::exp_approx(float(x)) - ref) / ref);
    }
    EXPECT_LT(worst_exp, 5e-7);
    EXPECT_EQ(rgrid::detail::exp_approx(-1e30f), 0.f);
    EXPECT_EQ(rgrid::detail::exp_approx(-std::numeric_limits<float>::infinity()), 0.f);
    // GELU float (vector erf) against double std::erf, over a grid incl. a ragged tail
    std::vector<float> xs;
    for (double x = -9; x <= 9; x += 0.0037) xs.push_back(float(x));
    Tensor<float> xf = rgrid::from_vector<float>(xs, {xs.size()});
    Tensor<double> xd = rgrid::cast<double>(xf);
    Var<float> vf(xf, true);
    Var<double> vd(xd, true);
    auto yf = gelu(vf);
    auto yd = gelu(vd);
    Tensor<float> sf = rgrid::full<float>({xs.size()}, 1.f);
    Tensor<double> sd = rgrid::full<double>({xs.size()}, 1.0);
    rgrid::backward(yf, &sf);
    rgrid::backward(yd, &sd);
    double worst_y = 0, worst_g = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        worst_y = std::max(worst_y, std::abs(yf.value()(i) - yd.value()(i)) / std::max(1.0, std::abs(xd(i))));
        worst_g = std::max(worst_g, std::abs(vf.grad()(i) - vd.grad()(i)));
    }
    EXPECT_LT(worst_y, 1e-6);
    EXPECT_LT(worst_g, 2e-6);
}
}  // namespace
