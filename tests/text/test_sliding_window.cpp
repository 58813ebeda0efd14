// SlidingWindow edge cases (the HF rule itself is checked on the 20 golden sets in
// test_goldens.cpp) and the aggregation of window logits.
#include <algorithm>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "rgrid/text/sliding_window.hpp"
#include "rgrid/train/aggregation.hpp"

namespace {

using rgrid::Aggregation;
using rgrid::SlidingWindow;
using rgrid::Tensor;
using rgrid::TokenId;

std::vector<TokenId> iota_ids(std::size_t n) {
    std::vector<TokenId> v(n);
    std::iota(v.begin(), v.end(), 1000);
    return v;
}

TEST(SlidingWindow, CountsAndOverlap) {
    const SlidingWindow sw{.max_length = 512, .stride = 128};
    // L -> number of windows = 1 + ceil((L - 510) / 382) (README table).
    for (auto [n, count] : std::vector<std::pair<std::size_t, std::size_t>>{
             {0, 1}, {1, 1}, {510, 1}, {511, 2}, {892, 2}, {893, 3}, {894, 3}, {1274, 3}, {1275, 4}}) {
        const auto ids = iota_ids(n);
        const auto ws = sw.windows(ids, 101, 102);
        ASSERT_EQ(ws.size(), count) << n;
        std::size_t covered = 0;
        for (std::size_t k = 0; k < ws.size(); ++k) {
            EXPECT_LE(ws[k].size(), 512u);
            EXPECT_EQ(ws[k].front(), 101);
            EXPECT_EQ(ws[k].back(), 102);
            if (k > 0)  // the last 128 content tokens of window k-1 open window k
                EXPECT_TRUE(std::equal(ws[k - 1].end() - 1 - 128, ws[k - 1].end() - 1, ws[k].begin() + 1)) << n;
            covered = k * 382 + ws[k].size() - 2;
        }
        EXPECT_EQ(covered, n);
        if (ws.size() > 1) EXPECT_GE(ws.back().size() - 2, 129u);
    }
    EXPECT_EQ(sw.windows({}, 101, 102), (std::vector<std::vector<TokenId>>{{101, 102}}));
}

TEST(SlidingWindow, SmallWindowsAndCap) {
    const SlidingWindow sw{.max_length = 6, .stride = 1};  // 4 content tokens, step 3
    const auto ws = sw.windows({1, 2, 3, 4, 5, 6, 7, 8}, 101, 102);
    EXPECT_EQ(ws, (std::vector<std::vector<TokenId>>{{101, 1, 2, 3, 4, 102}, {101, 4, 5, 6, 7, 102}, {101, 7, 8, 102}}));
    const SlidingWindow capped{.max_length = 6, .stride = 1, .max_windows = 2};
    EXPECT_EQ(capped.windows({1, 2, 3, 4, 5, 6, 7, 8}, 101, 102).size(), 2u);
    EXPECT_EQ((SlidingWindow{.max_length = 6, .stride = 0}.windows({1, 2, 3, 4, 5}, 101, 102).size()), 2u);
}

TEST(SlidingWindow, ValidatesOptions) {
    EXPECT_THROW((SlidingWindow{.max_length = 513}.validate()), rgrid::Error);
    EXPECT_THROW((SlidingWindow{.max_length = 2, .stride = 0}.validate()), rgrid::Error);
    EXPECT_THROW((SlidingWindow{.max_length = 128, .stride = 126}.windows({1}, 101, 102)), rgrid::Error);
    EXPECT_NO_THROW((SlidingWindow{.max_length = 128, .stride = 125}.validate()));
}

TEST(Aggregate, MeanMaxVote) {
    const Tensor<float> logits = rgrid::from_vector<float>({1, 3, 0,   //
                                                            3, 1, 0,   //
                                                            0, 2, 1,   //
                                                            2, 2, -1},  // tie 0/1 -> label 0
                                                           {4, 3});
    const Tensor<float> mean = rgrid::aggregate(logits, Aggregation::Mean);
    EXPECT_EQ(mean, (Tensor<float>{1.5f, 2.0f, 0.0f}));
    EXPECT_EQ(rgrid::aggregate(logits, Aggregation::Max), (Tensor<float>{3, 3, 1}));
    EXPECT_EQ(rgrid::aggregate(logits, Aggregation::Vote), (Tensor<float>{0.5f, 0.5f, 0.0f}));
    EXPECT_EQ(rgrid::aggregate_argmax(rgrid::aggregate(logits, Aggregation::Vote)), 0u);  // vote tie -> lowest label
    EXPECT_EQ(rgrid::aggregate_argmax(mean), 1u);
    EXPECT_EQ(rgrid::aggregate(rgrid::from_vector<double>({0.25, -4}, {1, 2}), Aggregation::Mean),
              (Tensor<double>{0.25, -4}));
    EXPECT_THROW(rgrid::aggregate(rgrid::zeros<float>({0, 3}), Aggregation::Mean), rgrid::Error);
    EXPECT_THROW(rgrid::aggregate(rgrid::zeros<float>({3}), Aggregation::Mean), rgrid::Error);
}

TEST(Aggregate, IndependentOfWindowOrderBitForBit) {
    std::vector<float> v(37 * 5);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.1f * static_cast<float>((i * 7919) % 113) - 3.3f + 1e-4f * i;
    std::vector<std::size_t> order(37);
    std::iota(order.begin(), order.end(), 0);
    const Tensor<float> base = rgrid::from_vector<float>(v, {37, 5});
    for (int trial = 0; trial < 3; ++trial) {
        std::rotate(order.begin(), order.begin() + 11, order.end());
        std::reverse(order.begin() + trial, order.end());
        std::vector<float> p;
        for (std::size_t r : order) p.insert(p.end(), v.begin() + r * 5, v.begin() + r * 5 + 5);
        const Tensor<float> perm = rgrid::from_vector<float>(p, {37, 5});
        for (Aggregation a : {Aggregation::Mean, Aggregation::Max, Aggregation::Vote})
            EXPECT_EQ(rgrid::aggregate(perm, a), rgrid::aggregate(base, a)) << static_cast<int>(a);
    }
}

}  // namespace
