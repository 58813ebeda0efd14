// libFuzzer target: the CSV reader (data/csv.hpp) and Dataset::from_table.
// Input: 1 option byte (delimiter, allow_ragged, skip_blank_lines), then the CSV text.
// Checks: parse_csv either returns a well-formed table or throws rgrid::Error; every row has
// header.size() fields; row lines are increasing; every field is valid UTF-8 after repair;
// writing the table and reading it back gives the same table.
#include <sstream>
#include <string>

#include "fuzz_check.hpp"
#include "rgrid/data/csv.hpp"
#include "rgrid/data/dataset.hpp"
#include "rgrid/text/unicode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rgrid::fuzz::Input in{data, size};
    const std::uint8_t o = in.byte();
    static constexpr char kDelims[] = {',', '\t', ';', '|'};
    rgrid::CsvReadOptions opt{.delimiter = kDelims[o & 3], .allow_ragged = (o & 4) != 0, .skip_blank_lines = (o & 8) == 0};
    rgrid::CsvTable t;
    try {
        t = rgrid::parse_csv(in.rest(), "fuzz.csv", opt);
    } catch (const rgrid::Error&) {
        return 0;  // a clear error is the expected outcome for malformed input
    }
    RGRID_FUZZ_CHECK(!t.header.empty());
    RGRID_FUZZ_CHECK(t.rows.size() == t.row_line.size());
    std::size_t prev_line = 0;
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
        RGRID_FUZZ_CHECK(t.rows[r].size() == t.header.size());
        RGRID_FUZZ_CHECK(t.row_line[r] > prev_line);
        prev_line = t.row_line[r];
        for (const auto& f : t.rows[r]) RGRID_FUZZ_CHECK(rgrid::is_valid_utf8(f));
    }
    for (const auto& h : t.header) RGRID_FUZZ_CHECK(rgrid::is_valid_utf8(h));

    // Round trip through the writer (blank lines are skipped on the way back in, so only
    // tables read that way are compared). A first header field that starts with U+FEFF is
    // written at the start of the file, where the reader takes it for a byte order mark.
    const bool leading_bom = t.header[0].rfind("\xEF\xBB\xBF", 0) == 0;
    if (opt.skip_blank_lines && !leading_bom) {
        std::ostringstream os;
        rgrid::write_csv(os, t, opt.delimiter);
        rgrid::CsvTable u = rgrid::parse_csv(os.str(), "roundtrip.csv", {.delimiter = opt.delimiter});
        RGRID_FUZZ_CHECK(u.header == t.header);
        RGRID_FUZZ_CHECK(u.rows == t.rows);
    }

    // The dataset view of the table: an error or one example per row.
    if (t.has_column("text") && t.has_column("label")) {
        try {
            rgrid::Dataset ds = rgrid::Dataset::from_table(t);
            RGRID_FUZZ_CHECK(ds.examples.size() == t.rows.size());
            for (const auto& e : ds.examples) RGRID_FUZZ_CHECK(ds.label_index(e.label) < ds.label_names.size());
        } catch (const rgrid::Error&) {
        }
    }
    return 0;
}
