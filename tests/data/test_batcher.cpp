// Batcher: windows keep document id and label, batches are padded only to their longest
// member, every window appears once per epoch, the order is a function of (seed, epoch).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "rgrid/data/batcher.hpp"

using namespace rgrid;

namespace {
const BertTokenizer& tok() {
    static BertTokenizer t = BertTokenizer::from_file(RGRID_SOURCE_DIR "/examples/assets/bert-base-uncased-vocab.txt");
    return t;
}
std::vector<std::string> texts_of_lengths(const std::vector<int>& words) {
    std::vector<std::string> t;
    for (int n : words) {
        std::string s;
        for (int i = 0; i < n; ++i) s += (i ? " " : "") + std::string(i % 2 ? "cat" : "dog");
        t.push_back(s);
    }
    return t;
}
}  // namespace

TEST(Batcher, WindowsCarryDocumentAndLabel) {
    // max_length 8 -> 6 content tokens per window, stride 2 -> step 4.
    auto wd = make_windows(tok(), texts_of_lengths({3, 6, 7, 14}), {0, 1, 0, 1}, SlidingWindow{8, 2, 0});
    EXPECT_EQ(wd.num_docs, 4u);
    // 3 -> 1 window, 6 -> 1, 7 -> 2 (starts 0, 4), 14 -> 3 (0, 4, 8)
    ASSERT_EQ(wd.windows.size(), 7u);
    EXPECT_EQ(wd.long_docs, 2u);
    EXPECT_EQ(wd.capped_docs, 0u);
    EXPECT_EQ(wd.content_tokens, 30u);
    std::vector<std::size_t> docs;
    for (auto& w : wd.windows) {
        docs.push_back(w.doc_id);
        EXPECT_EQ(w.label, std::int64_t(w.doc_id % 2));
        EXPECT_EQ(w.ids.front(), tok().cls_id());
        EXPECT_EQ(w.ids.back(), tok().sep_id());
        EXPECT_LE(w.ids.size(), 8u);
    }
    EXPECT_EQ(docs, (std::vector<std::size_t>{0, 1, 2, 2, 3, 3, 3}));
    auto capped = make_windows(tok(), texts_of_lengths({14}), {}, SlidingWindow{8, 2, 2});
    EXPECT_EQ(capped.windows.size(), 2u);
    EXPECT_EQ(capped.capped_docs, 1u);
    EXPECT_EQ(capped.windows[0].label, -1);
}

TEST(Batcher, BadWindowSettingsAreErrors) {
    EXPECT_THROW(make_windows(tok(), {"a"}, {}, SlidingWindow{513, 128, 0}), Error);
    EXPECT_THROW(make_windows(tok(), {"a"}, {}, SlidingWindow{8, 6, 0}), Error);
    EXPECT_THROW(make_windows(tok(), {"a", "b"}, {0}, SlidingWindow{8, 2, 0}), Error);
}

TEST(Batcher, PadsToLongestAndMasks) {
    auto wd = make_windows(tok(), texts_of_lengths({1, 4}), {1, 0}, SlidingWindow{16, 2, 0});
    Batcher b(wd.windows, {.batch_size = 2, .shuffle = false});
    Batch batch = b.make_batch({0, 1});
    ASSERT_EQ(shape_of(batch.input_ids), (Shape{2, 6}));  // longest: [CLS] + 4 + [SEP]
    EXPECT_EQ(batch.attention_mask(0, 2), 1);
    EXPECT_EQ(batch.attention_mask(0, 3), 0);               // row 0 has 3 ids
    EXPECT_EQ(batch.input_ids(0, 3), tok().vocab().pad_id());
    EXPECT_EQ(batch.attention_mask(1, 5), 1);
    EXPECT_EQ(batch.labels(0), 1);
    EXPECT_EQ(batch.labels(1), 0);
    EXPECT_EQ(batch.real_tokens, 9u);
    EXPECT_EQ(batch.token_type_ids(1, 5), 0);
}

TEST(Batcher, EpochPlanIsSeededPermutationWithBuckets) {
    std::vector<int> lens;
    for (int i = 0; i < 200; ++i) lens.push_back(1 + (i * 37) % 60);
    auto wd = make_windows(tok(), texts_of_lengths(lens), {}, SlidingWindow{64, 8, 0});
    Batcher b(wd.windows, {.batch_size = 8, .shuffle = true, .seed = 7, .bucket_batches = 5});
    auto p0 = b.plan(0), p0again = b.plan(0), p1 = b.plan(1);
    EXPECT_EQ(p0, p0again);
    EXPECT_NE(p0, p1);
    EXPECT_EQ(p0.size(), b.num_batches());
    std::multiset<std::size_t> seen;
    for (auto& batch : p0) seen.insert(batch.begin(), batch.end());
    EXPECT_EQ(seen.size(), wd.windows.size());
    EXPECT_EQ(std::set<std::size_t>(seen.begin(), seen.end()).size(), wd.windows.size());
    Batcher other(wd.windows, {.batch_size = 8, .shuffle = true, .seed = 8, .bucket_batches = 5});
    EXPECT_NE(other.plan(0), p0);
    // Bucketing pads less than a plain shuffle.
    auto padded = [&](const Batcher& bt) {
        std::size_t total = 0;
        for (auto& idx : bt.plan(3)) total += bt.make_batch(idx).input_ids.size();
        return total;
    };
    Batcher plain(wd.windows, {.batch_size = 8, .shuffle = true, .seed = 7, .bucket_batches = 1});
    EXPECT_LT(padded(b), padded(plain));
    // Without shuffling: longest first (evaluation).
    Batcher eval(wd.windows, {.batch_size = 8, .shuffle = false});
    auto pe = eval.plan(0);
    EXPECT_GE(wd.windows[pe.front().front()].ids.size(), wd.windows[pe.back().back()].ids.size());
}
