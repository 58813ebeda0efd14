#pragma once
// RFC 4180 CSV reading and writing (https://www.rfc-editor.org/rfc/rfc4180):
// quoted fields with embedded delimiters, doubled quotes and line breaks; CRLF, LF or CR
// record ends; an optional UTF-8 BOM; an optional final line break; no field-size cap.
// Invalid UTF-8 is repaired (U+FFFD) and counted, never fatal. Errors name the file, the
// line and the column.
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/data/utf8.hpp"

namespace rgrid {

/// How read_csv parses. Example: `read_csv("x.tsv", {.delimiter = '\t'})`.
struct CsvReadOptions {
    char delimiter = ',';
    bool allow_ragged = false;  ///< rows with a different field count than the header: error unless true (then padded/truncated)
    bool skip_blank_lines = true;  ///< a completely empty line is not a record
};

/// A parsed CSV file: the header, the rows (each exactly header.size() fields) and the
/// 1-based line on which each row starts (for error messages).
/// Example: `auto t = read_csv("data.csv"); auto c = t.column("text"); t.rows[0][c];`
struct CsvTable {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    std::vector<std::size_t> row_line;  ///< 1-based line of each row's start
    std::string source;                 ///< file name (or "<string>") for messages
    std::size_t utf8_repairs = 0;       ///< invalid UTF-8 sequences replaced by U+FFFD
    std::size_t utf8_repaired_rows = 0; ///< rows with at least one repair
    bool had_bom = false;

    /// Index of the column called `name`; throws naming the file and the columns it has.
    std::size_t column(std::string_view name) const {
        for (std::size_t i = 0; i < header.size(); ++i)
            if (header[i] == name) return i;
        std::string have;
        for (const auto& h : header) have += (have.empty() ? "" : ", ") + ("'" + h + "'");
        throw Error(detail::concat(source, ": no column '", name, "' (columns: ", have, ")"));
    }
    bool has_column(std::string_view name) const {
        for (const auto& h : header)
            if (h == name) return true;
        return false;
    }
    std::size_t size() const { return rows.size(); }
};

/// Parses CSV text. `source` names it in error messages.
/// Example: `parse_csv("text,label\n\"a, b\",x\n", "inline")` → 1 row {"a, b", "x"}.
inline CsvTable parse_csv(std::string_view in, const std::string& source = "<string>", CsvReadOptions opt = {}) {
    CsvTable t;
    t.source = source;
    std::size_t i = 0;
    if (in.size() >= 3 && in.substr(0, 3) == "\xEF\xBB\xBF") { i = 3; t.had_bom = true; }
    const char d = opt.delimiter;
    RGRID_CHECK(d != '"' && d != '\n' && d != '\r', source, ": the delimiter cannot be a quote or a line break");
    std::size_t line = 1, col = 1;  // position of in[i]; col counts bytes
    std::vector<std::string> record;
    std::string field;
    bool first = true;  // the header is the first record

    auto advance = [&](char c) {
        if (c == '\n') { ++line; col = 1; } else { ++col; }
    };
    auto finish_record = [&](std::size_t start_line) {
        std::size_t repairs_before = t.utf8_repairs;
        for (auto& f : record) t.utf8_repairs += repair_utf8(f);
        if (first) {
            RGRID_CHECK(!(record.size() == 1 && record[0].empty()), source, ":", start_line, ": the header is empty");
            t.header = std::move(record);
            first = false;
        } else {
            if (t.utf8_repairs != repairs_before) ++t.utf8_repaired_rows;
            if (record.size() != t.header.size()) {
                RGRID_CHECK(opt.allow_ragged, source, ":", start_line, ": row has ", record.size(), " field",
                            record.size() == 1 ? "" : "s", ", the header has ", t.header.size(),
                            " (unquoted delimiter or line break in a field? quote fields that contain them)");
                record.resize(t.header.size());
            }
            t.rows.push_back(std::move(record));
            t.row_line.push_back(start_line);
        }
        record = {};
    };

    while (i < in.size()) {
        // At the start of a record.
        const std::size_t start_line = line;
        if (opt.skip_blank_lines && (in[i] == '\n' || in[i] == '\r')) {
            if (in[i] == '\r' && i + 1 < in.size() && in[i + 1] == '\n') ++i;
            ++i;
            ++line;
            col = 1;
            continue;
        }
        for (;;) {  // one field per iteration
            field.clear();
            bool end_of_record = false;
            if (i < in.size() && in[i] == '"') {
                const std::size_t qline = line, qcol = col;
                advance(in[i++]);
                for (;;) {
                    RGRID_CHECK(i < in.size(), source, ":", qline, ":", qcol, ": unclosed quote (the quoted field that starts here never ends)");
                    const char c = in[i];
                    if (c == '"') {
                        if (i + 1 < in.size() && in[i + 1] == '"') { field += '"'; i += 2; col += 2; continue; }
                        advance(in[i++]);
                        break;
                    }
                    // Fast path: copy a run of ordinary characters.
                    std::size_t j = i;
                    while (j < in.size() && in[j] != '"' && in[j] != '\n') ++j;
                    if (j > i) { field.append(in.data() + i, j - i); col += j - i; i = j; continue; }
                    field += c;  // '\n'
                    advance(in[i++]);
                }
                // After the closing quote: a delimiter, a record end or the end of input.
                if (i < in.size() && in[i] != d && in[i] != '\n' && in[i] != '\r')
                    throw Error(detail::concat(source, ":", line, ":", col, ": unexpected '", in[i],
                                               "' after a closing quote (a quote inside a quoted field must be doubled: \"\")"));
            } else {
                std::size_t j = i;
                while (j < in.size() && in[j] != d && in[j] != '\n' && in[j] != '\r') ++j;
                field.assign(in.data() + i, j - i);  // a stray quote inside an unquoted field is kept as is
                col += j - i;
                i = j;
            }
            record.push_back(field);
            if (i >= in.size()) { end_of_record = true; }
            else if (in[i] == d) { ++i; ++col; }
            else {  // '\n', "\r\n" or '\r'
                if (in[i] == '\r' && i + 1 < in.size() && in[i + 1] == '\n') ++i;
                ++i;
                ++line;
                col = 1;
                end_of_record = true;
            }
            if (end_of_record) break;
        }
        finish_record(start_line);
    }
    RGRID_CHECK(!first, source, ": the file is empty (expected a header line such as 'text,label')");
    return t;
}

/// Reads a CSV file (see parse_csv). Throws naming the file when it cannot be opened.
/// Example: `CsvTable t = read_csv("data/spamassassin.csv");`
inline CsvTable read_csv(const std::string& path, CsvReadOptions opt = {}) {
    std::ifstream f(path, std::ios::binary);
    RGRID_CHECK(f.good(), "cannot open '", path, "': ", std::strerror(errno));
    RGRID_CHECK(!std::filesystem::is_directory(path), "cannot read '", path, "': it is a directory, not a CSV file");
    std::string content;
    f.seekg(0, std::ios::end);
    const auto size = f.tellg();
    RGRID_CHECK(size >= 0, "cannot read '", path, "' (is it a regular file?)");
    content.resize(static_cast<std::size_t>(size));
    f.seekg(0, std::ios::beg);
    f.read(content.data(), static_cast<std::streamsize>(content.size()));
    RGRID_CHECK(f.good() || f.eof(), "error reading '", path, "'");
    return parse_csv(content, path, opt);
}

/// One field, quoted when it holds the delimiter, a quote or a line break (quotes doubled).
/// Example: `csv_field("say \"hi\"")` → `"say ""hi"""`.
inline std::string csv_field(std::string_view s, char delimiter = ',') {
    bool quote = false;
    for (char c : s)
        if (c == delimiter || c == '"' || c == '\n' || c == '\r') { quote = true; break; }
    if (!quote) return std::string(s);
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

/// Writes one record (fields joined by the delimiter, CRLF record end as RFC 4180 says).
/// A record that is a single empty field is written as "" (as Python's csv module does):
/// an empty line would be skipped as a blank line when read back.
inline void write_csv_record(std::ostream& os, const std::vector<std::string>& fields, char delimiter = ',') {
    if (fields.size() == 1 && fields[0].empty()) {
        os << "\"\"\r\n";
        return;
    }
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) os << delimiter;
        os << csv_field(fields[i], delimiter);
    }
    os << "\r\n";
}

/// Writes the header and rows to a stream.
inline void write_csv(std::ostream& os, const CsvTable& t, char delimiter = ',') {
    write_csv_record(os, t.header, delimiter);
    for (const auto& r : t.rows) write_csv_record(os, r, delimiter);
}

/// Writes `t` to `path` atomically (a temporary file renamed over the target), UTF-8, no BOM.
/// Example: `write_csv("out/clean.csv", table);`
inline void write_csv(const std::string& path, const CsvTable& t, char delimiter = ',') {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        RGRID_CHECK(f.good(), "cannot write '", tmp, "': ", std::strerror(errno));
        write_csv(f, t, delimiter);
        f.flush();
        RGRID_CHECK(f.good(), "error writing '", tmp, "' (disk full?)");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    RGRID_CHECK(!ec, "cannot rename '", tmp, "' to '", path, "': ", ec.message());
}

}  // namespace rgrid
