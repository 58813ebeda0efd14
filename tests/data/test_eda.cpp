// eda::analyze numbers on small hand-made data, and the JSON/HTML renderings.
#include <gtest/gtest.h>

#include <string>

#include "rgrid/data/eda.hpp"

using namespace rgrid;

namespace {
const BertTokenizer& tokenizer() {
    static const BertTokenizer tok =
        BertTokenizer::from_file(std::string(RGRID_SOURCE_DIR) + "/examples/assets/bert-base-uncased-vocab.txt");
    return tok;
}
std::string repeat(const std::string& word, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += (i ? " " : "") + word;
    return s;
}
// 8 "a" texts (short, 2–9 words), 2 "b" texts: one of 600 words.
Dataset small() {
    Dataset ds;
    ds.label_names = {"a", "b"};
    for (int i = 1; i <= 8; ++i) ds.examples.push_back({repeat("hello", i + 1), "a"});
    ds.examples.push_back({"cheap pills cheap", "b"});
    ds.examples.push_back({repeat("world", 600), "b"});
    return ds;
}
}  // namespace

TEST(Eda, QuantilesHistogramsAndWindowCounts) {
    eda::Summary s = eda::detail::summarize({10, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    EXPECT_EQ(s.min, 1);
    EXPECT_EQ(s.median, 5);  // nearest rank: ceil(0.5 · 10) = 5th value
    EXPECT_EQ(s.p90, 9);
    EXPECT_EQ(s.p99, 10);
    EXPECT_DOUBLE_EQ(s.mean, 5.5);
    eda::Histogram h = eda::detail::histogram({0, 9, 10, 19, 5000, 99999}, eda::detail::word_edges());
    EXPECT_EQ(h.counts[0], 2u);      // [0, 10)
    EXPECT_EQ(h.counts[1], 2u);      // [10, 20)
    EXPECT_EQ(h.counts.back(), 2u);  // 5000+
    // HF overflow at 512/128: 510 content tokens per window, windows start every 382.
    EXPECT_EQ(eda::detail::windows_for(0, 512, 128), 1u);
    EXPECT_EQ(eda::detail::windows_for(510, 512, 128), 1u);
    EXPECT_EQ(eda::detail::windows_for(511, 512, 128), 2u);
    EXPECT_EQ(eda::detail::windows_for(892, 512, 128), 2u);
    EXPECT_EQ(eda::detail::windows_for(893, 512, 128), 3u);
    for (std::size_t n : {1u, 510u, 511u, 893u, 5000u})  // the same count SlidingWindow produces
        EXPECT_EQ(eda::detail::windows_for(n, 512, 128),
                  (SlidingWindow{.max_length = 512, .stride = 128}.windows(std::vector<TokenId>(n, 5), 101, 102).size()));
}

TEST(Eda, AnalyzeCountsLengthsTokensAndRecommendations) {
    eda::Report r = eda::analyze(small(), &tokenizer());
    ASSERT_EQ(r.classes.size(), 2u);
    const auto& a = r.classes[0];
    const auto& b = r.classes[1];
    EXPECT_EQ(a.rows, 8u);
    EXPECT_DOUBLE_EQ(a.share, 0.8);
    EXPECT_EQ(a.words.min, 2);
    EXPECT_EQ(a.words.max, 9);
    EXPECT_EQ(a.words.median, 5);        // 2..9: the 4th of 8
    EXPECT_EQ(a.tokens.max, 9);          // "hello" is one WordPiece token
    EXPECT_EQ(a.short_texts, 3u);        // 2, 3, 4 words
    ASSERT_EQ(a.windows.size(), 1u);     // the recommendation is 512/128: no separate reference setting
    EXPECT_EQ(a.windows[0].over_limit, 0u);
    EXPECT_EQ(a.windows[0].windows, 8u);
    EXPECT_EQ(b.tokens.max, 600);
    EXPECT_EQ(b.tokens.min, 3);          // cheap pills cheap
    EXPECT_EQ(b.windows[0].over_limit, 1u);
    EXPECT_EQ(b.windows[0].windows, 1u + 2u);  // 600 tokens → 2 windows
    EXPECT_EQ(b.windows[0].max_windows, 2u);
    EXPECT_EQ(r.all.rows, 10u);
    EXPECT_EQ(r.all.chars.max, 600 * 6 - 1);
    // "cheap" occurs in 1 of 2 "b" texts: below the 3-text minimum, so no terms; "hello" marks "a".
    ASSERT_FALSE(a.top_terms.empty());
    EXPECT_EQ(a.top_terms[0].term, "hello");
    EXPECT_DOUBLE_EQ(a.top_terms[0].share_in_class, 1.0);
    EXPECT_DOUBLE_EQ(a.top_terms[0].share_elsewhere, 0.0);
    EXPECT_TRUE(b.top_terms.empty());
    // 8:2 = 4:1 > 3:1 → balanced class weights N/(K·n).
    const auto& rec = r.recommendation;
    EXPECT_TRUE(rec.use_class_weights);
    EXPECT_DOUBLE_EQ(rec.imbalance, 4.0);
    EXPECT_DOUBLE_EQ(rec.class_weights[0], 10.0 / (2 * 8));
    EXPECT_DOUBLE_EQ(rec.class_weights[1], 10.0 / (2 * 2));
    EXPECT_EQ(rec.max_length, 512u);     // p95 (nearest rank) is the 600-token text
    EXPECT_EQ(rec.total_windows, 11u);
}

TEST(Eda, ShortTextsGetAShortMaxLengthAndNoWeights) {
    Dataset ds;
    ds.label_names = {"x", "y"};
    for (int i = 0; i < 20; ++i) ds.examples.push_back({repeat("hello", 10 + i), i % 2 ? "x" : "y"});
    eda::Report r = eda::analyze(ds, &tokenizer());
    EXPECT_EQ(r.recommendation.max_length, 64u);  // p95 = 28 tokens + 2 ≤ 64
    EXPECT_DOUBLE_EQ(r.recommendation.fit_share, 1.0);
    EXPECT_FALSE(r.recommendation.use_class_weights);
    EXPECT_EQ(r.recommendation.total_windows, 20u);
}

TEST(Eda, WithoutTokenizerAndRenderings) {
    CleanReport cleaning;
    cleaning.rows_in = 12;
    cleaning.exact_duplicates_dropped = 2;
    eda::Report r = eda::analyze(small(), nullptr, cleaning);
    EXPECT_FALSE(r.has_tokens);
    EXPECT_TRUE(r.classes[1].windows.empty());
    json j = eda::to_json(r);
    EXPECT_EQ(j["rows"], 10);
    EXPECT_EQ(j["cleaning"]["exact_duplicates_dropped"], 2);
    EXPECT_FALSE(j["all"].contains("tokens"));

    eda::Report t = eda::analyze(small(), &tokenizer(), cleaning);
    json jt = eda::to_json(t);
    EXPECT_EQ(jt["classes"][1]["over_limit"], 1);
    EXPECT_DOUBLE_EQ(jt["all"]["share_over_limit"].get<double>(), 0.1);
    EXPECT_EQ(jt["recommendation"]["class_weights"]["b"], 2.5);
    const std::string html = eda::to_html(t);
    for (const char* must : {"<svg", "id=\"classes\"", "id=\"tokens\"", "id=\"windows\"", "id=\"terms\"", "id=\"cleaning\"",
                             "max_length 512"})
        EXPECT_NE(html.find(must), std::string::npos) << must;
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("src=\"http"), std::string::npos);
    EXPECT_NE(eda::to_text(t).find("Recommendation: max_length 512, stride 128; class weights a=0.62, b=2.50"),
              std::string::npos)
        << eda::to_text(t);
}

TEST(Eda, NearDuplicatesCounted) {
    Dataset ds;
    ds.label_names = {"s"};
    ds.examples = {{"Win 100 now", "s"}, {"other text", "s"}, {"WIN 2,000 now!", "s"}, {"win 5 now", "s"}};
    eda::Report r = eda::analyze(ds, nullptr);
    EXPECT_EQ(r.classes[0].near_duplicates, 2u);  // the 3rd and 4th repeat the 1st's letters
    EXPECT_EQ(eda::to_json(r)["all"]["near_duplicates"], 2);
}

TEST(Eda, BadOptionsAreErrors) {
    eda::Options o;
    o.stride = 510;
    EXPECT_THROW(eda::analyze(small(), nullptr, {}, o), Error);
}

namespace {
// Near-duplicate groups {0, 2, 3} ("win … now") and {4, 5}; class "b" has a footer word in 3 texts.
Dataset groups_and_footers() {
    Dataset ds;
    ds.label_names = {"a", "b"};
    ds.examples = {{"Win 100 now", "a"},
                   {"other text here, unsubscribe", "b"},
                   {"WIN 2 now!", "a"},
                   {"win 5 now", "b"},
                   {"see you at lunch", "b"},
                   {"see you at lunch!", "a"},
                   {repeat("hello", 20), "a"},
                   {"more mail to unsubscribe from", "b"},
                   {"unsubscribe me please", "b"}};
    return ds;
}
}  // namespace

TEST(Eda, SamplesGroupsLeakageAndWindowsAtTheGivenSetting) {
    eda::Options opt;
    opt.max_length = 8;   // 6 content tokens; stride 2 → windows start every 4 tokens
    opt.stride = 2;
    opt.sample_chars = 12;
    eda::Report r = eda::analyze(groups_and_footers(), &tokenizer(), {}, opt);
    EXPECT_TRUE(r.setting_given);
    const auto& a = r.classes[0];
    // Windows at 8/2 and at the 512/128 reference: "hello"×20 needs starts 0, 4, 8, 12, 16 = 5 windows.
    ASSERT_EQ(a.windows.size(), 2u);
    EXPECT_EQ(a.windows[0].max_length, 8u);
    EXPECT_EQ(a.windows[0].stride, 2u);
    EXPECT_EQ(a.windows[0].windows, 3u + 5u);  // three short texts + 5
    EXPECT_EQ(a.windows[0].over_limit, 1u);
    EXPECT_EQ(a.windows[0].max_windows, 5u);
    EXPECT_EQ(a.windows[1].max_length, 512u);
    EXPECT_EQ(a.windows[1].windows, 4u);
    EXPECT_EQ(a.windows[1].over_limit, 0u);
    // Samples of "a" by tokens: row 0 (3: win 100 now), row 2 (4: win 2 now !), row 5 (5), row 6 (20).
    ASSERT_EQ(a.samples.size(), 3u);
    EXPECT_EQ(a.samples[0].which, "shortest");
    EXPECT_EQ(a.samples[0].row, 0u);
    EXPECT_EQ(a.samples[0].length, 3u);
    EXPECT_FALSE(a.samples[0].truncated);
    EXPECT_EQ(a.samples[1].which, "median");  // (4 − 1) / 2 = position 1
    EXPECT_EQ(a.samples[1].row, 2u);
    EXPECT_EQ(a.samples[2].which, "longest");
    EXPECT_EQ(a.samples[2].row, 6u);
    EXPECT_EQ(a.samples[2].text, "hello hello ");  // cut after 12 code points
    EXPECT_TRUE(a.samples[2].truncated);
    // Near-duplicate groups, largest first, with their labels.
    EXPECT_EQ(r.near_duplicate_groups_total, 2u);
    ASSERT_EQ(r.near_duplicate_groups.size(), 2u);
    EXPECT_EQ(r.near_duplicate_groups[0].size, 3u);
    EXPECT_EQ(r.near_duplicate_groups[0].rows, (std::vector<std::size_t>{0, 2, 3}));
    EXPECT_EQ(r.near_duplicate_groups[0].labels, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(r.near_duplicate_groups[0].preview, "Win 100 now");
    EXPECT_EQ(r.near_duplicate_groups[1].rows, (std::vector<std::size_t>{4, 5}));
    // "unsubscribe": 3 of 5 "b" texts, no "a" text → a footer word, flagged; "hello" (1 text) is no term.
    const auto& b = r.classes[1];
    ASSERT_FALSE(b.top_terms.empty());
    EXPECT_EQ(b.top_terms[0].term, "unsubscribe");
    EXPECT_DOUBLE_EQ(b.top_terms[0].share_in_class, 0.6);
    EXPECT_EQ(b.top_terms[0].leakage, "a mailing-list or footer word, only in this class");

    json j = eda::to_json(r);
    EXPECT_EQ(j["options"]["max_length"], 8);
    EXPECT_EQ(j["options"]["stride"], 2);
    EXPECT_EQ(j["options"]["source"], "given");
    EXPECT_EQ(j["classes"][0]["windows"], 8);  // the flat keys are the given setting
    EXPECT_EQ(j["classes"][0]["windows_by_setting"][0]["windows"], 8);
    EXPECT_EQ(j["classes"][0]["windows_by_setting"][1]["max_length"], 512);
    EXPECT_EQ(j["classes"][0]["windows_by_setting"][1]["windows"], 4);
    EXPECT_EQ(j["classes"][0]["samples"][2]["row"], 6);
    EXPECT_EQ(j["classes"][0]["samples"][2]["text"], "hello hello ");
    EXPECT_EQ(j["classes"][0]["samples"][2]["truncated"], true);
    EXPECT_EQ(j["classes"][0]["samples"][0]["which"], "shortest");
    EXPECT_EQ(j["near_duplicates"]["groups_total"], 2);
    EXPECT_EQ(j["near_duplicates"]["texts"], 3);  // rows 2, 3 and 5 repeat an earlier key
    EXPECT_EQ(j["near_duplicates"]["groups"][0]["rows"], json::parse("[0, 2, 3]"));
    EXPECT_EQ(j["near_duplicates"]["groups"][0]["labels"], json::parse("[\"a\", \"b\"]"));
    EXPECT_EQ(j["classes"][1]["top_terms"][0]["leakage"], true);
    // The recommendation a training script reads: 4:5 classes → no weights; p95 is 20 tokens → 64.
    EXPECT_EQ(j["recommendation"]["max_length"], 64);
    EXPECT_EQ(j["recommendation"]["stride"], 15);  // (64 − 2) / 4
    EXPECT_EQ(j["recommendation"]["use_class_weights"], false);
    EXPECT_EQ(j["recommendation"]["finetune_args"],
              json::parse(R"(["--max-length", "64", "--stride", "15", "--max-windows", "1"])"));

    const std::string html = eda::to_html(r);
    EXPECT_EQ(html.find("<td</td>"), std::string::npos);  // every cell well-formed
    for (const char* must : {"id=\"samples\"", "id=\"near-duplicates\"", "hello hello", "class=\"leak\"",
                             "% of texts", "max_length 8, stride 2 (your setting)", "max_length 512, stride 128</h3>"})
        EXPECT_NE(html.find(must), std::string::npos) << must;
}

TEST(Eda, DefaultSettingIsTheRecommendation) {
    eda::Report r = eda::analyze(groups_and_footers(), &tokenizer());
    EXPECT_FALSE(r.setting_given);
    EXPECT_EQ(r.options.max_length, 64u);
    EXPECT_EQ(r.options.stride, 15u);
    EXPECT_EQ(r.classes[0].windows[0].windows, 4u);
    EXPECT_EQ(eda::to_json(r)["options"]["source"], "recommendation");
    eda::Options given_length;
    given_length.max_length = 128;  // stride defaults to min(128, 126 / 4)
    EXPECT_EQ(eda::analyze(groups_and_footers(), &tokenizer(), {}, given_length).options.stride, 31u);
}

TEST(Eda, TextsAreEscapedInTheReport) {
    Dataset ds;
    ds.label_names = {"x"};
    ds.examples = {{"<script>alert(1)</script> & more", "x"}};
    const std::string html = eda::to_html(eda::analyze(ds, nullptr));
    EXPECT_EQ(html.find("<script>"), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"), std::string::npos);
}

TEST(Eda, NoRowsLeftIsAnError) {
    CleanReport cleaning;
    cleaning.rows_in = 3;
    cleaning.empty_text_dropped = 3;
    Dataset empty;
    try {
        eda::analyze(empty, nullptr, cleaning);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no rows left to analyze (3 rows read; dropped: 3 empty texts"),
                  std::string::npos)
            << e.what();
    }
}
