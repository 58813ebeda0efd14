#include <gtest/gtest.h>

#include "rgrid/core/error.hpp"

TEST(Error, CheckThrowsWithStreamedMessage) {
    int rows = 3;
    try {
        RGRID_CHECK(rows == 4, "expected 4 rows, got ", rows);
        FAIL() << "RGRID_CHECK did not throw";
    } catch (const rgrid::Error& e) {
        EXPECT_STREQ(e.what(), "expected 4 rows, got 3");
    }
}

TEST(Error, CheckPassesSilently) { EXPECT_NO_THROW(RGRID_CHECK(1 + 1 == 2, "never")); }
