// CSV reader/writer, UTF-8 repair and Dataset on small hand-made files with known answers.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <sstream>
#include <string>

#include "rgrid/data/csv.hpp"
#include "rgrid/data/dataset.hpp"
#include "rgrid/data/utf8.hpp"
#include "common/error_of.hpp"

using namespace rgrid;

namespace {
std::string fixture(const std::string& name) { return std::string(RGRID_DATA_FIXTURES) + "/" + name; }
using rgrid::test::error_of;
}  // namespace

TEST(Csv, Rfc4180QuotesDoubledQuotesEmbeddedCrlfAndNoFinalNewline) {
    CsvTable t = read_csv(fixture("rfc4180.csv"));
    ASSERT_EQ(t.header, (std::vector<std::string>{"text", "label"}));
    ASSERT_EQ(t.size(), 4u);
    EXPECT_EQ(t.rows[0][0], "Hello, world");
    EXPECT_EQ(t.rows[1][0], "She said \"hi\"");
    EXPECT_EQ(t.rows[2][0], "line one\r\nline two");  // embedded line break kept verbatim
    EXPECT_EQ(t.rows[2][1], "ham");                    // no stray \r in labels
    EXPECT_EQ(t.rows[3][1], "spam");                   // last record without a final newline
    EXPECT_EQ(t.row_line, (std::vector<std::size_t>{2, 3, 4, 6}));
    EXPECT_FALSE(t.had_bom);
}

TEST(Csv, BomIsSkipped) {
    CsvTable t = read_csv(fixture("bom.csv"));
    EXPECT_TRUE(t.had_bom);
    EXPECT_EQ(t.header[0], "text");
    EXPECT_EQ(t.rows.at(0).at(0), "bom first");
}

TEST(Csv, MalformedFilesNameFileLineAndColumn) {
    std::string e = error_of([] { read_csv(fixture("unclosed_quote.csv")); });
    EXPECT_NE(e.find("unclosed_quote.csv:2:1: unclosed quote"), std::string::npos) << e;
    e = error_of([] { read_csv(fixture("ragged.csv")); });
    EXPECT_NE(e.find("ragged.csv:3: row has 3 fields, the header has 2"), std::string::npos) << e;
    e = error_of([] { read_csv(fixture("empty.csv")); });
    EXPECT_NE(e.find("empty.csv: the file is empty"), std::string::npos) << e;
    e = error_of([] { Dataset::from_csv(fixture("missing_column.csv")); });
    EXPECT_NE(e.find("missing_column.csv: no column 'text' (columns: 'body', 'label')"), std::string::npos) << e;
    e = error_of([] { read_csv(fixture("does-not-exist.csv")); });
    EXPECT_NE(e.find("cannot open"), std::string::npos) << e;
    e = error_of([] { parse_csv("a,b\n\"x\"y,z\n", "q.csv"); });
    EXPECT_NE(e.find("q.csv:2:4: unexpected 'y' after a closing quote"), std::string::npos) << e;
}

TEST(Csv, RaggedRowsAllowedWhenAsked) {
    CsvTable t = parse_csv("a,b\n1\n1,2,3\n", "r", {.allow_ragged = true});
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t.rows[0], (std::vector<std::string>{"1", ""}));
    EXPECT_EQ(t.rows[1], (std::vector<std::string>{"1", "2"}));
}

TEST(Csv, EdgeCases) {
    CsvTable t = parse_csv("a,b\r\n,\r\n\r\n\"\",\"x\"\r\nlone,1\rcr,2\r", "e");
    ASSERT_EQ(t.size(), 4u);  // the blank line is skipped; a lone CR ends a record
    EXPECT_EQ(t.rows[0], (std::vector<std::string>{"", ""}));
    EXPECT_EQ(t.rows[1], (std::vector<std::string>{"", "x"}));
    EXPECT_EQ(t.rows[2], (std::vector<std::string>{"lone", "1"}));
    EXPECT_EQ(t.rows[3], (std::vector<std::string>{"cr", "2"}));
    EXPECT_EQ(t.row_line, (std::vector<std::size_t>{2, 4, 5, 6}));
}

TEST(Csv, NoFieldSizeCap) {
    std::string big(300000, 'x');
    CsvTable t = parse_csv("text,label\n\"" + big + "\n" + big + "\",y\n", "big");
    EXPECT_EQ(t.rows.at(0).at(0).size(), 600001u);
}

TEST(Csv, InvalidUtf8IsRepairedAndCounted) {
    CsvTable t = read_csv(fixture("invalid_utf8.csv"));
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(t.rows[0][0], "caf\xc3\xa9");
    EXPECT_EQ(t.rows[1][0], "bad \xEF\xBF\xBD\xEF\xBF\xBD byte");  // two bytes, two U+FFFD
    EXPECT_EQ(t.rows[2][0], "trunc \xEF\xBF\xBD");                 // a truncated sequence is one U+FFFD
    EXPECT_EQ(t.utf8_repairs, 3u);
    EXPECT_EQ(t.utf8_repaired_rows, 2u);
}

TEST(Utf8, MaximalSubpartReplacement) {
    EXPECT_TRUE(is_valid_utf8("plain \xe4\xb8\xad\xf0\x9f\x98\x80"));
    for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80", "\xe0\x80"})
        EXPECT_FALSE(is_valid_utf8(bad)) << bad;
    std::string s = "a\xe2\x82z\xed\xa0\x80";  // truncated 3-byte seq; a surrogate (3 bad bytes)
    EXPECT_EQ(repair_utf8(s), 4u);
    EXPECT_EQ(s, "a\xEF\xBF\xBDz\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    // The one detector the server uses too: offset of the first bad byte; a real U+FFFD is valid.
    EXPECT_EQ(first_invalid_utf8("ab\xe2\x82z"), std::optional<std::size_t>(2));
    EXPECT_EQ(first_invalid_utf8("\xEF\xBF\xBD ok"), std::nullopt);
    EXPECT_EQ(first_invalid_utf8(""), std::nullopt);
    std::string kept = "x \xEF\xBF\xBD";
    EXPECT_EQ(repair_utf8(kept), 0u);
    EXPECT_EQ(kept, "x \xEF\xBF\xBD");
}

TEST(Csv, WriteThenReadRoundTrips) {
    CsvTable t;
    t.header = {"text", "label"};
    t.rows = {{"a, \"b\"\nc", "x"}, {"", "y"}, {"plain", "z\r"}};
    std::ostringstream os;
    write_csv(os, t);
    EXPECT_EQ(os.str(), "text,label\r\n\"a, \"\"b\"\"\nc\",x\r\n,y\r\nplain,\"z\r\"\r\n");
    CsvTable one;  // a one-column table with an empty field must not turn into a blank line
    one.header = {"text"};
    one.rows = {{""}, {"x"}};
    std::ostringstream os1;
    write_csv(os1, one);
    EXPECT_EQ(os1.str(), "text\r\n\"\"\r\nx\r\n");
    EXPECT_EQ(parse_csv(os1.str()).rows, one.rows);
    const auto path = std::filesystem::temp_directory_path() / "rgrid_csv_roundtrip.csv";
    write_csv(path.string(), t);
    CsvTable back = read_csv(path.string());
    EXPECT_EQ(back.rows, t.rows);
    std::filesystem::remove(path);
}

TEST(Dataset, LabelOrderAndUnknownLabels) {
    Dataset ds = Dataset::from_table(parse_csv("label,text\nb,x\na,y\nb,z\n", "d"));
    EXPECT_EQ(ds.label_names, (std::vector<std::string>{"a", "b"}));  // sorted by default
    EXPECT_EQ(ds.label_ids(), (std::vector<std::size_t>{1, 0, 1}));
    EXPECT_EQ(ds.class_counts(), (std::vector<std::size_t>{1, 2}));
    Dataset fixed = Dataset::from_table(parse_csv("text,label\nx,b\ny,a\n", "d"), "text", "label", {"b", "a"});
    EXPECT_EQ(fixed.label_index("a"), 1u);
    std::string e = error_of([&] { fixed.label_index("c"); });
    EXPECT_NE(e.find("unknown label 'c' (known labels: 'b', 'a')"), std::string::npos) << e;
    e = error_of([] { Dataset::from_table(parse_csv("text,label\nx,b\ny,c\n", "f.csv"), "text", "label", {"b"}); });
    EXPECT_NE(e.find("f.csv:3: unknown label 'c'"), std::string::npos) << e;
    e = error_of([] { Dataset::from_table(parse_csv("text,label\nx,\n", "g.csv")); });
    EXPECT_NE(e.find("g.csv:2: empty label"), std::string::npos) << e;
    e = error_of([] { Dataset::from_table(parse_csv("text,label\nx,ok\ny, \n", "h.csv")); });
    EXPECT_NE(e.find("h.csv:3: empty label"), std::string::npos) << e;
    Dataset named = Dataset::from_table(parse_csv("body,cls\nhi,q\n", "n"), "body", "cls");
    EXPECT_EQ(named.examples.at(0).text, "hi");
}
