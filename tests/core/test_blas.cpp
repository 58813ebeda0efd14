#include <gtest/gtest.h>

#include "rgrid/core/blas.hpp"
#include "rgrid/core/rng.hpp"

using namespace rgrid;

namespace {
template <class T>
Tensor<T> random(Shape s, Rng& rng) {
    Tensor<T> t = empty<T>(s);
    for (auto& v : t) v = rng.normal<T>();
    return t;
}
// Naive reference: C = op(A)·op(B).
template <class T>
Tensor<T> naive(const Tensor<T>& a, const Tensor<T>& b, bool ta, bool tb) {
    std::size_t m = ta ? a.shape()[1] : a.shape()[0], k = ta ? a.shape()[0] : a.shape()[1];
    std::size_t n = tb ? b.shape()[0] : b.shape()[1];
    Tensor<T> c = zeros<T>({m, n});
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            T s = 0;
            for (std::size_t p = 0; p < k; ++p) s += (ta ? a(p, i) : a(i, p)) * (tb ? b(j, p) : b(p, j));
            c(i, j) = s;
        }
    return c;
}
}  // namespace

TEST(Blas, MatmulAllTransposesDouble) {
    Rng rng(1);
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            auto a = random<double>(ta ? Shape{5, 3} : Shape{3, 5}, rng);
            auto b = random<double>(tb ? Shape{4, 5} : Shape{5, 4}, rng);
            auto c = matmul(a, b, ta ? Trans::Yes : Trans::No, tb ? Trans::Yes : Trans::No);
            auto r = naive(a, b, ta, tb);
            ASSERT_EQ(shape_of(c), (Shape{3, 4}));
            for (std::size_t i = 0; i < c.size(); ++i) EXPECT_NEAR(c.data()[i], r.data()[i], 1e-12);
        }
}

TEST(Blas, MatmulFloatAndShapeError) {
    Rng rng(2);
    auto a = random<float>({7, 9}, rng), b = random<float>({9, 2}, rng);
    auto c = matmul(a, b);
    auto r = naive(a, b, false, false);
    for (std::size_t i = 0; i < c.size(); ++i) EXPECT_NEAR(c.data()[i], r.data()[i], 1e-4);
    EXPECT_THROW(matmul(a, a), Error);
}

TEST(Blas, StridedBatchedWithLeadingDimensions) {
    // Two heads packed as (T, NH*HS) = (3, 2*2): per-head Q·Kᵀ via strided views.
    Rng rng(3);
    const std::size_t T = 3, NH = 2, HS = 2, H = NH * HS;
    auto q = random<double>({T, H}, rng), k = random<double>({T, H}, rng);
    Tensor<double> s = zeros<double>({NH, T, T});
    gemm_strided_batched(Trans::No, Trans::Yes, T, T, HS, 1.0, q.data(), H, HS, k.data(), H, HS, 0.0, s.data(), T,
                         T * T, NH);
    for (std::size_t h = 0; h < NH; ++h)
        for (std::size_t i = 0; i < T; ++i)
            for (std::size_t j = 0; j < T; ++j) {
                double ref = 0;
                for (std::size_t d = 0; d < HS; ++d) ref += q(i, h * HS + d) * k(j, h * HS + d);
                EXPECT_NEAR(s(h, i, j), ref, 1e-12);
            }
}

TEST(Blas, BetaAccumulates) {
    auto a = from_vector<double>({1, 2}, {1, 2}), b = from_vector<double>({3, 4}, {2, 1});
    Tensor<double> c = full<double>({1, 1}, 10.0);
    gemm(Trans::No, Trans::No, 1, 1, 2, 1.0, a.data(), 2, b.data(), 1, 1.0, c.data(), 1);
    EXPECT_DOUBLE_EQ(c(0, 0), 21.0);
}
