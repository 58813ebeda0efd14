// Cleaning: every removal counted, on a hand-made file with known answers.
#include <gtest/gtest.h>

#include <string>

#include "rgrid/data/clean.hpp"

using namespace rgrid;

TEST(Clean, TextNormalization) {
    std::size_t ctrl = 0;
    EXPECT_EQ(clean_text("  Hi\t there \r\n\r\n\r\n x\x07 ", false, &ctrl), "Hi there\n\nx");
    EXPECT_EQ(ctrl, 1u);
    EXPECT_EQ(clean_text("a\xc2\xa0\xc2\xa0" "b\xc2\x85" "c"), "a bc");  // NBSP → space, C1 NEL removed
    EXPECT_EQ(clean_text("one\n two \n\nthree", true), "one two three");
    EXPECT_EQ(clean_text(" \t\r\n "), "");
    EXPECT_EQ(clean_text("caf\xc3\xa9 \xe4\xb8\xad"), "caf\xc3\xa9 \xe4\xb8\xad");  // non-ASCII untouched
}

TEST(Clean, EveryRemovalCounted) {
    CsvTable t = read_csv(std::string(RGRID_DATA_FIXTURES) + "/dirty.csv");
    ASSERT_EQ(t.size(), 11u);
    CleanResult res = clean(t, "text", "label");
    const CleanReport& r = res.report;
    EXPECT_EQ(r.rows_in, 11u);
    EXPECT_EQ(r.exact_duplicates_dropped, 2u);  // rows 2 and 6 (6 after tab → space)
    EXPECT_EQ(r.empty_text_dropped, 2u);        // "   " and ""
    EXPECT_EQ(r.empty_label_dropped, 1u);       // label " "
    EXPECT_EQ(r.labels_trimmed, 1u);
    EXPECT_EQ(r.conflicting_texts, 1u);         // "Hello world": ham and spam
    EXPECT_EQ(r.conflicting_rows, 3u);
    EXPECT_EQ(r.control_chars_removed, 1u);
    EXPECT_EQ(r.control_char_rows, 1u);
    EXPECT_EQ(r.whitespace_changed_rows, 3u);
    EXPECT_EQ(r.rows_out, 6u);
    EXPECT_EQ(r.rows_in - r.rows_out,
              r.exact_duplicates_dropped + r.empty_text_dropped + r.empty_label_dropped + r.conflict_rows_dropped);
    ASSERT_EQ(r.conflicts.size(), 1u);
    EXPECT_EQ(r.conflicts[0].preview, "Hello world");
    EXPECT_EQ(r.conflicts[0].labels, (std::vector<std::string>{"ham", "spam"}));
    EXPECT_EQ(r.conflicts[0].lines, (std::vector<std::size_t>{2, 3, 4}));
    // Other columns survive; the kept ids are the first of each duplicate set.
    std::vector<std::string> ids;
    for (const auto& row : res.table.rows) ids.push_back(row[0]);
    EXPECT_EQ(ids, (std::vector<std::string>{"1", "3", "5", "7", "10", "11"}));
    EXPECT_EQ(res.table.rows[3][1], "tabs and\nCRLF");
    EXPECT_EQ(res.table.rows[5][1], "ring ring");
}

TEST(Clean, ConflictPolicyDropAllAndKeepDuplicates) {
    CsvTable t = read_csv(std::string(RGRID_DATA_FIXTURES) + "/dirty.csv");
    CleanResult drop = clean(t, "text", "label", {.conflicts = ConflictPolicy::DropAll});
    EXPECT_EQ(drop.report.conflict_rows_dropped, 2u);  // rows 1 and 3 (row 2 was already a duplicate)
    EXPECT_EQ(drop.report.rows_out, 4u);
    CleanResult keep = clean(t, "text", "label", {.drop_duplicates = false});
    EXPECT_EQ(keep.report.exact_duplicates_dropped, 0u);
    EXPECT_EQ(keep.report.rows_out, 8u);
}

TEST(Clean, ControlCharactersAloneAreNotWhitespaceChanges) {
    CsvTable t = parse_csv("text,label\n\"a\x01b\xc2\x85" "c\",x\n\"a\x01 b\",x\n\"a\x01  b\",y\n", "c");
    CleanReport r = clean(t).report;
    EXPECT_EQ(r.control_chars_removed, 4u);
    EXPECT_EQ(r.control_char_rows, 3u);
    EXPECT_EQ(r.whitespace_changed_rows, 1u);  // only the double space
}

TEST(Clean, NearDuplicateKey) {
    EXPECT_EQ(near_duplicate_key("Order #123: 50% OFF!"), "orderoff");
    EXPECT_EQ(near_duplicate_key("WIN $100 now"), near_duplicate_key("win 2,000  NOW!!"));
    EXPECT_EQ(near_duplicate_key("caf\xc3\xa9 42"), "caf\xc3\xa9");  // non-ASCII kept
}

TEST(Clean, Utf8RepairsAreReported) {
    CsvTable t = parse_csv("text,label\nok \xff,a\nfine,b\n", "u");
    CleanReport r = clean(t).report;
    EXPECT_EQ(r.utf8_repairs, 1u);
    EXPECT_EQ(r.utf8_repaired_rows, 1u);
    EXPECT_EQ(r.replacement_char_rows, 1u);
}
