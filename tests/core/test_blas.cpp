#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

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

// GEMMs above the split threshold are cut into one block of C per thread (rows when M > N,
// columns otherwise), each one sgemm call on a sub-view: every transpose combination, leading
// dimensions wider than the matrices, beta ≠ 0 and sizes that are not multiples of the block
// alignment must give the naive product at every thread count.
TEST(Blas, SplitGemmMatchesNaiveAtEveryThreadCount) {
    const std::size_t threads_before = num_threads();
    Rng rng(11);
    struct Dims { std::size_t m, n, k; };
    for (Dims d : {Dims{67, 301, 129}, Dims{301, 67, 129}, Dims{1000, 33, 40}, Dims{40, 1000, 33}}) {
        ASSERT_GE(d.m * d.n * d.k, detail::kGemmSplitMin) << "the case must be large enough to be split";
        for (bool ta : {false, true})
            for (bool tb : {false, true}) {
                // Stored with 3 spare columns, so lda/ldb/ldc exceed the logical widths.
                const std::size_t ar = ta ? d.k : d.m, ac = ta ? d.m : d.k, br = tb ? d.n : d.k, bc = tb ? d.k : d.n;
                auto a = random<double>({ar, ac + 3}, rng), b = random<double>({br, bc + 3}, rng);
                auto c0 = random<double>({d.m, d.n + 3}, rng);
                Tensor<double> av = empty<double>({ar, ac}), bv = empty<double>({br, bc});
                for (std::size_t i = 0; i < ar; ++i)
                    for (std::size_t j = 0; j < ac; ++j) av(i, j) = a(i, j);
                for (std::size_t i = 0; i < br; ++i)
                    for (std::size_t j = 0; j < bc; ++j) bv(i, j) = b(i, j);
                const auto ref = naive(av, bv, ta, tb);
                for (std::size_t threads : {1, 2, 3}) {
                    set_num_threads(threads);
                    Tensor<double> c = c0;
                    gemm(ta ? Trans::Yes : Trans::No, tb ? Trans::Yes : Trans::No, d.m, d.n, d.k, 0.5, a.data(), ac + 3,
                         b.data(), bc + 3, 2.0, c.data(), d.n + 3);
                    double worst = 0;
                    for (std::size_t i = 0; i < d.m; ++i) {
                        for (std::size_t j = 0; j < d.n; ++j)
                            worst = std::max(worst, std::abs(c(i, j) - (0.5 * ref(i, j) + 2.0 * c0(i, j))));
                        for (std::size_t j = d.n; j < d.n + 3; ++j) ASSERT_EQ(c(i, j), c0(i, j)) << "wrote past N";
                    }
                    EXPECT_LT(worst, 1e-10) << d.m << "x" << d.n << "x" << d.k << " ta=" << ta << " tb=" << tb
                                            << " threads=" << threads;
                }
            }
    }
    set_num_threads(threads_before);
    EXPECT_EQ(blas_threads(), 1);  // OpenBLAS itself stays single-threaded
}

// ---- rgrid's AVX-512 sgemm (core/sgemm_avx512.hpp) ----------------------------------------
namespace {
struct SgemmScope {  // restores the kernel choice after a test forces one
    SgemmKernel saved = sgemm_kernel();
    std::size_t threads = num_threads();
    ~SgemmScope() {
        set_sgemm_kernel(saved);
        set_num_threads(threads);
    }
};
}  // namespace

TEST(Sgemm, KernelChoice) {
    SgemmScope scope;
    EXPECT_TRUE(sgemm_kernel_supported(SgemmKernel::Blas));
    EXPECT_TRUE(sgemm_kernel_supported(sgemm_kernel()));
    // rgrid's kernel is the default exactly where the CPU has AVX-512F and OpenBLAS lacks it.
    const bool own = sgemm_kernel_supported(SgemmKernel::Avx512) && !detail::blas_has_avx512_sgemm();
    EXPECT_EQ(detail::best_sgemm_kernel(), own ? SgemmKernel::Avx512 : SgemmKernel::Blas)
        << "OpenBLAS core " << openblas_get_corename();
    set_sgemm_kernel(SgemmKernel::Blas);
    EXPECT_EQ(sgemm_kernel(), SgemmKernel::Blas);
    if (sgemm_kernel_supported(SgemmKernel::Avx512)) {
        set_sgemm_kernel(SgemmKernel::Avx512);
        EXPECT_EQ(sgemm_kernel(), SgemmKernel::Avx512);
    } else {
        EXPECT_THROW(set_sgemm_kernel(SgemmKernel::Avx512), Error);
    }
}

// Every transpose, edge sizes around the 12×32 micro-tile, the 16-wide transposing packs and
// the KC = 256 slices, leading dimensions wider than the matrices, and the BLAS contract for
// alpha/beta (beta = 0 never reads C, even NaN; alpha = 0 only scales C). Checked against a
// double-precision product with the standard rounding bound |error| ≤ k·u·Σ|a||b| (u = 2⁻²⁴).
TEST(Sgemm, Avx512MatchesDoubleReferenceWithinRoundingBound) {
    if (!sgemm_kernel_supported(SgemmKernel::Avx512)) GTEST_SKIP() << "this CPU has no AVX-512F";
    Rng rng(21);
    struct Dims { std::size_t m, n, k; };
    struct Scale { float alpha, beta; };
    const float nan = std::nanf("");
    for (Dims d : {Dims{1, 1, 1}, Dims{12, 32, 16}, Dims{13, 33, 17}, Dims{11, 31, 15}, Dims{145, 70, 257},
                   Dims{5, 513, 40}, Dims{300, 17, 530}, Dims{24, 64, 256}, Dims{2, 100, 3}})
        for (bool ta : {false, true})
            for (bool tb : {false, true})
                for (Scale sc : {Scale{1.f, 0.f}, Scale{0.5f, 2.f}, Scale{-1.5f, 1.f}, Scale{0.f, 3.f}}) {
                    const std::size_t ar = ta ? d.k : d.m, ac = ta ? d.m : d.k, br = tb ? d.n : d.k,
                                      bc = tb ? d.k : d.n, lda = ac + 5, ldb = bc + 2, ldc = d.n + 3;
                    auto a = random<float>({ar, lda}, rng), b = random<float>({br, ldb}, rng);
                    auto c0 = random<float>({d.m, ldc}, rng);
                    if (sc.beta == 0.f)
                        for (auto& v : c0) v = nan;
                    Tensor<float> c = c0;
                    sgemm_avx512(ta, tb, d.m, d.n, d.k, sc.alpha, a.data(), lda, b.data(), ldb, sc.beta, c.data(), ldc);
                    double worst = 0;  // error / bound
                    for (std::size_t i = 0; i < d.m; ++i) {
                        for (std::size_t j = 0; j < d.n; ++j) {
                            double s = 0, bound = 0;
                            for (std::size_t p = 0; p < d.k; ++p) {
                                const double x = ta ? a(p, i) : a(i, p), y = tb ? b(j, p) : b(p, j);
                                s += x * y;
                                bound += std::abs(x * y);
                            }
                            const double cold = sc.beta == 0.f ? 0.0 : double(c0(i, j));
                            const double want = sc.alpha * s + sc.beta * cold;
                            const double tol = (d.k + 2) * 0x1p-24 * (std::abs(sc.alpha) * bound + std::abs(sc.beta * cold)) + 1e-30;
                            ASSERT_TRUE(std::isfinite(c(i, j))) << "C read though beta = 0, or garbage, at " << i << "," << j;
                            worst = std::max(worst, std::abs(c(i, j) - want) / tol);
                        }
                        for (std::size_t j = d.n; j < ldc; ++j)
                            ASSERT_TRUE(std::isnan(c0(i, j)) ? std::isnan(c(i, j)) : c(i, j) == c0(i, j)) << "wrote past N";
                    }
                    EXPECT_LE(worst, 1.0) << d.m << "x" << d.n << "x" << d.k << " ta=" << ta << " tb=" << tb
                                          << " alpha=" << sc.alpha << " beta=" << sc.beta;
                }
}

// Each element's sum runs over k in the same order wherever its tile lies, so gemm() gives the
// same bits for every thread count (and so do trainings), unlike a kernel whose split moves k.
TEST(Sgemm, Avx512SameBitsAtEveryThreadCountAndCloseToBlas) {
    if (!sgemm_kernel_supported(SgemmKernel::Avx512)) GTEST_SKIP() << "this CPU has no AVX-512F";
    SgemmScope scope;
    Rng rng(22);
    const std::size_t m = 203, n = 390, k = 300;
    auto a = random<float>({m, k}, rng), b = random<float>({n, k}, rng);
    set_sgemm_kernel(SgemmKernel::Avx512);
    std::vector<Tensor<float>> out;
    for (std::size_t threads : {1, 2, 3}) {
        set_num_threads(threads);
        Tensor<float> c = empty<float>({m, n});
        gemm(Trans::No, Trans::Yes, m, n, k, 1.f, a.data(), k, b.data(), k, 0.f, c.data(), n);
        out.push_back(c);
    }
    for (std::size_t t = 1; t < out.size(); ++t)
        for (std::size_t i = 0; i < out[0].size(); ++i)
            ASSERT_EQ(out[0].data()[i], out[t].data()[i]) << "thread count " << t + 1 << " changed element " << i;
    set_sgemm_kernel(SgemmKernel::Blas);
    Tensor<float> c = empty<float>({m, n});
    gemm(Trans::No, Trans::Yes, m, n, k, 1.f, a.data(), k, b.data(), k, 0.f, c.data(), n);
    for (std::size_t i = 0; i < c.size(); ++i) EXPECT_NEAR(c.data()[i], out[0].data()[i], 2e-4) << i;
}

// A Linear's forward on rgrid's kernel with the bias added as the tiles are stored
// (gemm_linear; gemm_prepacked with a bias) gives the bits of the plain sequence — fill C
// with the bias, then gemm with beta = 1 — at every thread count, with K over three KC
// slices (only the first adds the bias), N over two NC blocks and ragged M, N edges.
TEST(Sgemm, BiasInTheStoreGivesTheBitsOfFillThenGemm) {
    if (!sgemm_kernel_supported(SgemmKernel::Avx512)) GTEST_SKIP() << "this CPU has no AVX-512F";
    SgemmScope scope;
    set_sgemm_kernel(SgemmKernel::Avx512);
    Rng rng(23);
    const std::size_t m = 203, n = 590, k = 600;  // n > kNC: a second column block
    auto a = random<float>({m, k}, rng), w = random<float>({n, k}, rng), bias = random<float>({n}, rng);
    const PackedSgemmB pw = pack_sgemm_b(true, w.data(), k, k, n);
    for (std::size_t threads : {1, 2, 3}) {
        set_num_threads(threads);
        Tensor<float> ref = empty<float>({m, n});
        for (std::size_t i = 0; i < m; ++i) std::copy(bias.begin(), bias.end(), ref.data() + i * n);
        gemm(Trans::No, Trans::Yes, m, n, k, 1.f, a.data(), k, w.data(), k, 1.f, ref.data(), n);
        Tensor<float> lin = empty<float>({m, n}), packed = empty<float>({m, n});
        gemm_linear(m, n, k, a.data(), w.data(), bias.data(), lin.data());
        gemm_prepacked(m, n, k, 1.f, a.data(), k, pw, 0.f, packed.data(), n, bias.data());
        for (std::size_t i = 0; i < ref.size(); ++i) {
            ASSERT_EQ(ref.data()[i], lin.data()[i]) << "gemm_linear, threads " << threads << ", element " << i;
            ASSERT_EQ(ref.data()[i], packed.data()[i]) << "gemm_prepacked, threads " << threads << ", element " << i;
        }
    }
    Tensor<float> c = empty<float>({m, n});
    EXPECT_THROW(gemm_prepacked(m, n, k, 1.f, a.data(), k, pw, 1.f, c.data(), n, bias.data()), Error);  // needs beta 0
}
