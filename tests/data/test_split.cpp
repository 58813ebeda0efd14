// stratified_split: exact largest-remainder counts, determinism, duplicate grouping, tiny classes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "rgrid/data/split.hpp"

using namespace rgrid;

namespace {
// n_per_class[k] rows of class "c<k>", each text unique unless `dup_every` > 0.
Dataset make(const std::vector<std::size_t>& n_per_class, std::size_t dup_every = 0) {
    Dataset ds;
    for (std::size_t k = 0; k < n_per_class.size(); ++k) {
        ds.label_names.push_back("c" + std::to_string(k));
        for (std::size_t i = 0; i < n_per_class[k]; ++i) {
            std::size_t id = (dup_every && i % dup_every == 1) ? i - 1 : i;  // every dup_every-th repeats its predecessor
            ds.examples.push_back({"class " + std::to_string(k) + " text " + std::to_string(id), ds.label_names[k]});
        }
    }
    return ds;
}
std::size_t count_label(const Dataset& ds, const std::vector<std::size_t>& idx, const std::string& label) {
    std::size_t n = 0;
    for (auto i : idx) n += ds.examples[i].label == label;
    return n;
}
}  // namespace

TEST(Split, LargestRemainder) {
    EXPECT_EQ(largest_remainder(7, {0.8, 0.1, 0.1}), (std::array<std::size_t, 3>{5, 1, 1}));
    EXPECT_EQ(largest_remainder(10, {0.8, 0.1, 0.1}), (std::array<std::size_t, 3>{8, 1, 1}));
    EXPECT_EQ(largest_remainder(248, {0.8, 0.1, 0.1}), (std::array<std::size_t, 3>{198, 25, 25}));
    EXPECT_EQ(largest_remainder(3, {0.8, 0.1, 0.1}), (std::array<std::size_t, 3>{3, 0, 0}));
    EXPECT_EQ(largest_remainder(4, {0.5, 0.5, 0.0}), (std::array<std::size_t, 3>{2, 2, 0}));
}

TEST(Split, ExactCountsWithinOneOfShareAndAPartition) {
    Dataset ds = make({2472, 1388, 248, 481, 1326});
    Split s = stratified_split(ds, {}, 42);
    EXPECT_TRUE(s.warnings.empty());
    std::set<std::size_t> all;
    for (const auto* part : {&s.train, &s.validation, &s.test}) all.insert(part->begin(), part->end());
    EXPECT_EQ(all.size(), ds.size());  // disjoint and complete
    EXPECT_EQ(s.train.size() + s.validation.size() + s.test.size(), ds.size());
    const double ratio[3] = {0.8, 0.1, 0.1};
    for (const auto& label : ds.label_names) {
        const std::size_t n = count_label(ds, s.train, label) +
                              count_label(ds, s.validation, label) + count_label(ds, s.test, label);
        const std::vector<std::size_t>* parts[3] = {&s.train, &s.validation, &s.test};
        for (int p = 0; p < 3; ++p)
            EXPECT_LE(std::abs(double(count_label(ds, *parts[p], label)) - n * ratio[p]), 1.0) << label << " part " << p;
    }
    EXPECT_EQ(count_label(ds, s.validation, "c2"), 25u);
    EXPECT_EQ(count_label(ds, s.test, "c2"), 25u);
}

TEST(Split, DeterministicForASeedDifferentAcrossSeeds) {
    Dataset ds = make({100, 50});
    Split a = stratified_split(ds, {}, 7), b = stratified_split(ds, {}, 7), c = stratified_split(ds, {}, 8);
    EXPECT_EQ(a.train, b.train);
    EXPECT_EQ(a.test, b.test);
    EXPECT_NE(a.test, c.test);
}

TEST(Split, DuplicateTextsNeverStraddleParts) {
    Dataset ds = make({200, 60}, 3);
    Split s = stratified_split(ds, {}, 1);
    EXPECT_GT(s.duplicate_groups, 0u);
    std::map<std::string, int> part_of;
    const std::vector<std::size_t>* parts[3] = {&s.train, &s.validation, &s.test};
    for (int p = 0; p < 3; ++p)
        for (auto i : *parts[p]) {
            auto [it, inserted] = part_of.emplace(ds.examples[i].text, p);
            EXPECT_EQ(it->second, p) << ds.examples[i].text;
        }
    EXPECT_EQ(s.train.size() + s.validation.size() + s.test.size(), ds.size());
    EXPECT_NEAR(double(s.test.size()), 26.0, 2.0);  // groups of 2 may overshoot by one
}

TEST(Split, NearDuplicatesAndGroupKeysStayTogether) {
    Dataset ds;
    ds.label_names = {"ham", "spam"};
    for (int i = 0; i < 40; ++i) ds.examples.push_back({"note " + std::string(1, char('a' + i % 26)) + std::to_string(i / 26), "ham"});
    for (int i = 0; i < 30; ++i) ds.examples.push_back({"WIN $" + std::to_string(100 * i) + " now!", "spam"});  // one template
    const std::vector<std::size_t>* parts[3];
    auto part_of = [&](const Split& s, std::size_t row) {
        parts[0] = &s.train; parts[1] = &s.validation; parts[2] = &s.test;
        for (int p = 0; p < 3; ++p)
            if (std::find(parts[p]->begin(), parts[p]->end(), row) != parts[p]->end()) return p;
        return -1;
    };
    Split plain = stratified_split(ds, {}, 3);
    EXPECT_EQ(count_label(ds, plain.test, "spam"), 3u);  // the template is split 24/3/3
    Split near = stratified_split(ds, {}, 3, {.group_near_duplicates = true});
    for (std::size_t i = 41; i < 70; ++i) EXPECT_EQ(part_of(near, i), part_of(near, 40)) << i;
    EXPECT_FALSE(near.warnings.empty());  // a 30-row group overshoots its class's share
    EXPECT_EQ(near.train.size() + near.validation.size() + near.test.size(), ds.size());

    SplitOptions by_sender;
    for (std::size_t i = 0; i < ds.size(); ++i) by_sender.group_keys.push_back(i < 40 ? "sender" + std::to_string(i % 10) : "");
    Split grouped = stratified_split(ds, {}, 5, by_sender);
    for (std::size_t i = 0; i < 40; ++i) EXPECT_EQ(part_of(grouped, i), part_of(grouped, i % 10)) << i;
    EXPECT_EQ(count_label(ds, grouped.test, "spam"), 3u);  // empty keys group nothing
    by_sender.group_keys.pop_back();
    EXPECT_THROW(stratified_split(ds, {}, 5, by_sender), Error);
}

TEST(Split, TinyClassWarnsOrFailsWhenStrict) {
    Dataset ds = make({50, 3});
    Split s = stratified_split(ds, {}, 42);
    ASSERT_FALSE(s.warnings.empty());
    EXPECT_NE(s.warnings[0].find("class 'c1' has 3 rows: validation gets none"), std::string::npos) << s.warnings[0];
    try {
        stratified_split(ds, {}, 42, {.strict = true});
        FAIL() << "strict mode must throw";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("class 'c1'"), std::string::npos);
    }
    EXPECT_EQ(min_rows_for_every_part({0.8, 0.1, 0.1}), 7u);  // 6 rows → 5/1/0, 7 rows → 5/1/1
    EXPECT_NE(stratified_split(make({50, 6}), {}, 42).warnings.at(0).find("test gets none (at least 7 rows"),
              std::string::npos);
    EXPECT_TRUE(stratified_split(make({50, 7}), {}, 42, {.strict = true}).warnings.empty());
}

TEST(Split, BadRatiosAreErrors) {
    Dataset ds = make({10});
    EXPECT_THROW(stratified_split(ds, {0.8, 0.1, 0.2}, 1), Error);
    EXPECT_THROW(stratified_split(ds, {1.2, -0.1, -0.1}, 1), Error);
    Split s = stratified_split(ds, {0.9, 0.1, 0.0}, 1);
    EXPECT_EQ(s.test.size(), 0u);
    EXPECT_EQ(s.validation.size(), 1u);
}

TEST(Split, OverlapBetweenPartsExactAndNearDuplicate) {
    Dataset ds;
    ds.label_names = {"a", "b"};
    ds.examples = {{"offer 1", "a"}, {"offer 2", "a"}, {"hello", "b"}, {"hello", "b"}, {"other", "a"}, {"x y", "b"}};
    Split s;  // hand-made: train {0, 2, 4}, validation {1, 3}, test {5}
    s.train = {0, 2, 4};
    s.validation = {1, 3};
    s.test = {5};
    SplitOverlap o = split_overlap(ds, s);
    EXPECT_EQ(o.total[0].exact, 1u);           // row 3 "hello" is in train
    EXPECT_EQ(o.total[0].near_duplicate, 2u);  // and row 1 "offer 2" ~ "offer 1"
    EXPECT_EQ(o.total[1].near_duplicate, 0u);
    EXPECT_EQ(o.per_class[0][0].exact, 0u);
    EXPECT_EQ(o.per_class[0][0].near_duplicate, 1u);
    EXPECT_EQ(o.per_class[1][0].exact, 1u);
    json j = to_json(o, ds.label_names);
    EXPECT_EQ(j["train_validation"]["exact"], 1);
    EXPECT_EQ(j["train_validation"]["near_duplicate"], 2);
    EXPECT_EQ(j["train_validation"]["per_class"]["a"]["near_duplicate"], 1);
    EXPECT_EQ(j["train_validation"]["per_class"]["b"]["exact"], 1);
    EXPECT_EQ(j["train_test"]["near_duplicate"], 0);
    EXPECT_EQ(j["validation_test"]["exact"], 0);
    EXPECT_NE(overlap_text(o, ds.label_names).find("warning: 1 exact and 2 near-duplicate"), std::string::npos);

    // The real split keeps exact duplicates together; grouping near-duplicates removes the rest.
    SplitOverlap grouped = split_overlap(ds, stratified_split(ds, {0.5, 0.5, 0.0}, 1, {.group_near_duplicates = true}));
    for (const auto& c : grouped.total) EXPECT_EQ(c.near_duplicate, 0u);
}
