#include <gtest/gtest.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <numeric>
#include <vector>

#include "rgrid/core/allocator.hpp"
#include "rgrid/core/error.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/core/rng.hpp"

using namespace rgrid;

TEST(Parallel, CoversEveryIndexOnce) {
    for (std::size_t threads : {1u, 2u, 3u}) {
        set_num_threads(threads);
        std::vector<int> hits(10007, 0);
        parallel_for(hits.size(), 100, [&](std::size_t b, std::size_t e) {
            for (auto i = b; i < e; ++i) hits[i] += 1;
        });
        EXPECT_EQ(std::accumulate(hits.begin(), hits.end(), 0), 10007);
        for (int h : hits) ASSERT_EQ(h, 1);
    }
    set_num_threads(2);
}

TEST(Parallel, CounterRngFillIndependentOfThreads) {
    std::vector<std::vector<std::uint64_t>> runs;
    for (std::size_t threads : {1u, 2u, 4u}) {
        set_num_threads(threads);
        Rng rng(11);
        std::vector<std::uint64_t> out(5000);
        const auto base = rng.counter();
        parallel_for(out.size(), 64, [&](std::size_t b, std::size_t e) {
            for (auto i = b; i < e; ++i) out[i] = rng.at(base + i);
        });
        rng.skip(out.size());
        runs.push_back(out);
    }
    EXPECT_EQ(runs[0], runs[1]);
    EXPECT_EQ(runs[0], runs[2]);
    set_num_threads(2);
}

TEST(Parallel, ExceptionsPropagateAndNestedRegionsRun) {
    set_num_threads(2);
    EXPECT_THROW(parallel_for(100, 1, [](std::size_t b, std::size_t) {
                     if (b > 0) throw Error("boom");
                 }),
                 Error);
    std::atomic<int> count{0};
    parallel_for(4, 1, [&](std::size_t b, std::size_t e) {
        for (auto i = b; i < e; ++i)
            parallel_for(10, 1, [&](std::size_t bb, std::size_t ee) { count += static_cast<int>(ee - bb); });
    });
    EXPECT_EQ(count.load(), 40);
}

// tune_allocator (core/allocator.hpp) changes glibc's malloc settings only; on glibc both
// mallopt calls must be accepted, and allocation must keep working afterwards. Under
// AddressSanitizer malloc is the sanitizer's, which refuses mallopt: nothing to check there.
#if defined(__SANITIZE_ADDRESS__)
#define RGRID_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RGRID_TEST_UNDER_ASAN 1
#endif
#endif
TEST(Allocator, TuneAllocatorIsAcceptedByGlibc) {
#if defined(RGRID_TEST_UNDER_ASAN)
    GTEST_SKIP() << "built with AddressSanitizer: malloc is the sanitizer's allocator, whose mallopt refuses "
                    "glibc's settings, so tune_allocator() is expected to report failure";
#endif
#if defined(__GLIBC__)
    EXPECT_TRUE(rgrid::tune_allocator());
#else
    EXPECT_FALSE(rgrid::tune_allocator());
#endif
    std::vector<float> big(std::size_t(8) << 20, 1.f);  // 32 MiB, at the mmap threshold
    EXPECT_EQ(std::accumulate(big.begin(), big.end(), 0.0), double(big.size()));
#if defined(__GLIBC__) && !defined(RGRID_TEST_UNDER_ASAN)
    // Above every threshold: from the heap now (hblkhd counts bytes in mmap'd blocks), so
    // freeing it and asking again reuses the same memory instead of mapping it afresh.
    const struct mallinfo2 before = ::mallinfo2();
    {
        std::vector<float> huge(std::size_t(20) << 20, 2.f);  // 80 MiB
        const struct mallinfo2 during = ::mallinfo2();
        EXPECT_EQ(during.hblkhd, before.hblkhd) << "an 80 MiB block was mmap'd despite M_MMAP_MAX = 0";
        EXPECT_GE(during.arena, before.arena + huge.size() * sizeof(float)) << "the heap should hold it";
    }
#endif
}
