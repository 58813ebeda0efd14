#include <gtest/gtest.h>

#include "rgrid/core/tensor.hpp"

using namespace rgrid;

TEST(Tensor, ShapeStrAndHelpers) {
    auto t = zeros<float>({2, 3, 4});
    EXPECT_EQ(shape_str(t), "(2, 3, 4)");
    EXPECT_EQ(numel({2, 3, 4}), 24u);
    EXPECT_EQ(shape_of(t), (Shape{2, 3, 4}));
    auto f = full<double>({2}, 1.5);
    EXPECT_DOUBLE_EQ(f(1), 1.5);
}

TEST(Tensor, FromVectorChecksCount) {
    auto t = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
    EXPECT_FLOAT_EQ(t(1, 2), 6.f);
    EXPECT_THROW(from_vector<float>({1, 2, 3}, {2, 3}), Error);
}

TEST(Tensor, ReshapedAndCast) {
    auto t = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
    auto r = reshaped(t, {3, 2});
    EXPECT_FLOAT_EQ(r(2, 1), 6.f);
    EXPECT_THROW(reshaped(t, {4, 2}), Error);
    auto d = cast<double>(t);
    EXPECT_DOUBLE_EQ(d(0, 1), 2.0);
}

TEST(Tensor, CheckShapeNamesArgument) {
    auto t = zeros<float>({2, 3});
    try {
        check_shape(t, {3, 2}, "weight");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "weight: expected shape (3, 2), got (2, 3)");
    }
}
