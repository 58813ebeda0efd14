#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "rgrid/core/rng.hpp"

using namespace rgrid;

TEST(Rng, SameSeedSameStreamDifferentSeedDifferent) {
    Rng a(42), b(42), c(43);
    for (int i = 0; i < 100; ++i) {
        auto x = a.next_u64();
        EXPECT_EQ(x, b.next_u64());
        EXPECT_NE(x, c.next_u64());
    }
}

TEST(Rng, AtMatchesSequentialDraws) {
    Rng a(7), b(7);
    for (std::uint64_t i = 0; i < 10; ++i) EXPECT_EQ(b.at(b.counter() + i), a.next_u64());
    b.skip(10);
    EXPECT_EQ(a, b);
}

TEST(Rng, StateRoundTrip) {
    Rng a(5);
    for (int i = 0; i < 17; ++i) a.next_u64();
    Rng b;
    b.set_state(a.key(), a.counter());
    EXPECT_EQ(a.next_u64(), b.next_u64());
}

TEST(Rng, ForksAreIndependent) {
    Rng a(1);
    auto f1 = a.fork(1), f2 = a.fork(2);
    EXPECT_NE(f1.next_u64(), f2.next_u64());
}

TEST(Rng, MomentsAreRight) {
    Rng r(9);
    const int n = 200000;
    double su = 0, sn = 0, sn2 = 0;
    for (int i = 0; i < n; ++i) {
        double u = r.uniform();
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
        su += u;
        double z = r.normal();
        sn += z;
        sn2 += z * z;
    }
    EXPECT_NEAR(su / n, 0.5, 0.005);
    EXPECT_NEAR(sn / n, 0.0, 0.01);
    EXPECT_NEAR(sn2 / n, 1.0, 0.02);
    std::set<std::uint64_t> seen;
    for (int i = 0; i < 1000; ++i) seen.insert(r.below(10));
    EXPECT_EQ(seen.size(), 10u);
}
