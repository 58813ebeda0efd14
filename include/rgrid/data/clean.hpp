#pragma once
// Cleaning a labelled CSV table before EDA and splitting: whitespace normalized, control
// characters removed, empty rows dropped, exact duplicates removed, duplicates whose labels
// conflict reported — and every change counted in a CleanReport.
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/data/csv.hpp"

namespace rgrid {

/// What to do with texts that occur under two or more different labels.
enum class ConflictPolicy {
    Keep,     ///< keep one row per (text, label) and report the conflict (default)
    DropAll,  ///< drop every row of a conflicting text
};

/// Cleaning switches. Example: `clean(table, "text", "label", {.one_line = true})`.
struct CleanOptions {
    bool one_line = false;           ///< collapse all whitespace (line breaks too) to single spaces
    bool drop_duplicates = true;     ///< drop repeats of an exact (text, label) pair, keeping the first
    ConflictPolicy conflicts = ConflictPolicy::Keep;
    std::size_t max_conflicts_listed = 20;
};

/// One text that occurs with different labels.
struct DuplicateConflict {
    std::string preview;              ///< the first 80 bytes of the text
    std::vector<std::string> labels;  ///< distinct labels, in order of appearance
    std::vector<std::size_t> lines;   ///< source lines of all its rows
};

/// Every change cleaning made, counted. rows_out = rows_in − all *_dropped fields.
struct CleanReport {
    std::size_t rows_in = 0, rows_out = 0;
    std::size_t empty_text_dropped = 0;         ///< empty or whitespace-only after cleaning
    std::size_t empty_label_dropped = 0;        ///< empty or whitespace-only label
    std::size_t exact_duplicates_dropped = 0;   ///< same cleaned text and label as an earlier row
    std::size_t conflict_rows_dropped = 0;      ///< ConflictPolicy::DropAll only
    std::size_t conflicting_texts = 0;          ///< texts seen with ≥ 2 labels
    std::size_t conflicting_rows = 0;           ///< rows holding such texts (before dropping)
    std::size_t whitespace_changed_rows = 0;    ///< rows whose text changed by whitespace normalization
    std::size_t control_chars_removed = 0;      ///< C0/C1 control characters removed (tab/CR/LF are whitespace)
    std::size_t control_char_rows = 0;
    std::size_t labels_trimmed = 0;             ///< labels with surrounding whitespace removed
    std::size_t utf8_repairs = 0;               ///< invalid UTF-8 sequences replaced by U+FFFD while reading
    std::size_t utf8_repaired_rows = 0;
    std::size_t replacement_char_rows = 0;      ///< kept texts that contain U+FFFD (repaired or already in the file)
    std::vector<DuplicateConflict> conflicts;   ///< up to CleanOptions::max_conflicts_listed
};

/// The cleaned table (same columns as the input, text and label columns cleaned) + report.
struct CleanResult {
    CsvTable table;
    CleanReport report;
};

/// Cleans one text: CRLF/CR → LF; tabs, form feeds, NBSP and runs of spaces → one space;
/// other control characters (C0, DEL, C1) removed and counted in `*control_removed`; lines
/// stripped; at most one blank line in a row; trimmed. `one_line` joins everything with spaces.
/// Example: `clean_text("  Hi\t there \r\n\r\n\r\n x\x07 ")` → "Hi there\n\nx".
inline std::string clean_text(std::string_view in, bool one_line = false, std::size_t* control_removed = nullptr) {
    std::string out;
    out.reserve(in.size());
    std::size_t removed = 0;
    bool pending_space = false;  // a space waits until a visible character follows on the line
    int pending_newlines = 0;    // line breaks waiting for the next visible character
    for (std::size_t i = 0; i < in.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(in[i]);
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < in.size() && in[i + 1] == '\n') ++i;
            pending_space = false;  // strips trailing spaces of the line
            ++pending_newlines;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\v' || c == '\f') { pending_space = true; continue; }
        if (c == 0xC2 && i + 1 < in.size()) {
            const unsigned char n = static_cast<unsigned char>(in[i + 1]);
            if (n == 0xA0) { pending_space = true; ++i; continue; }  // NBSP
            if (n >= 0x80 && n <= 0x9F) { ++removed; ++i; continue; }  // C1 control
        }
        if (c < 0x20 || c == 0x7F) { ++removed; continue; }
        // A visible byte: flush pending whitespace (none at the very start: trimmed).
        if (!out.empty()) {
            if (pending_newlines > 0) {
                if (one_line) out += ' ';
                else out.append(pending_newlines >= 2 ? "\n\n" : "\n");
            } else if (pending_space) {
                out += ' ';
            }
        }
        pending_space = false;
        pending_newlines = 0;
        out += static_cast<char>(c);
    }
    if (control_removed) *control_removed += removed;
    return out;
}

/// Key under which near-duplicate texts coincide: letters only (ASCII letters lower-cased,
/// non-ASCII characters kept), digits, punctuation and whitespace dropped. Two texts with the
/// same key differ only in numbers, punctuation or spacing (e.g. one spam template sent twice).
/// Example: `near_duplicate_key("Order #123: 50% OFF!")` == "orderoff".
inline std::string near_duplicate_key(std::string_view s) {
    std::string k;
    k.reserve(s.size());
    for (char ch : s) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (c >= 0x80) k += ch;
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') k += static_cast<char>(c | 0x20);
    }
    return k;
}

namespace detail {
// `s` without the characters clean_text removes as controls (whitespace kept as is).
inline std::string remove_controls(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
            static_cast<unsigned char>(s[i + 1]) <= 0x9F) { ++i; continue; }
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f') || c == 0x7F) continue;
        out += static_cast<char>(c);
    }
    return out;
}

inline std::string trim_copy(std::string_view s) {
    const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
    std::size_t b = 0, e = s.size();
    while (b < e && ws(s[b])) ++b;
    while (e > b && ws(s[e - 1])) --e;
    return std::string(s.substr(b, e - b));
}
}  // namespace detail

/// Cleans the text and label columns of `t` (other columns are kept as they are) and
/// counts every change. Rows keep their order; the first of a duplicate set survives.
/// Example:
///   CleanResult r = clean(read_csv("in.csv"), "text", "label");
///   write_csv("clean.csv", r.table);  // r.report.exact_duplicates_dropped, ...
inline CleanResult clean(const CsvTable& t, const std::string& text_col = "text",
                         const std::string& label_col = "label", const CleanOptions& opt = {}) {
    const std::size_t tc = t.column(text_col), lc = t.column(label_col);
    CleanResult res;
    CleanReport& rep = res.report;
    rep.rows_in = t.rows.size();
    rep.utf8_repairs = t.utf8_repairs;
    rep.utf8_repaired_rows = t.utf8_repaired_rows;

    // Pass 1: clean every text and label (texts live in `texts` so views into it stay valid).
    std::vector<std::string> texts(t.rows.size()), labels(t.rows.size());
    std::vector<char> keep(t.rows.size(), 1);
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
        const std::string& raw = t.rows[r][tc];
        std::size_t ctrl = 0;
        texts[r] = clean_text(raw, opt.one_line, &ctrl);
        rep.control_chars_removed += ctrl;
        if (ctrl) ++rep.control_char_rows;
        // Whitespace changed: the result differs from the raw text with only its controls removed.
        if (ctrl == 0 ? texts[r] != raw : texts[r] != detail::remove_controls(raw)) ++rep.whitespace_changed_rows;
        labels[r] = detail::trim_copy(t.rows[r][lc]);
        if (labels[r].size() != t.rows[r][lc].size()) ++rep.labels_trimmed;
        if (labels[r].empty()) { keep[r] = 0; ++rep.empty_label_dropped; }
        else if (texts[r].empty()) { keep[r] = 0; ++rep.empty_text_dropped; }
    }

    // Pass 2: duplicates. For each distinct text: its rows and distinct labels.
    struct Seen { std::vector<std::size_t> rows; std::vector<std::string> labels; };
    std::unordered_map<std::string_view, Seen> by_text;
    by_text.reserve(t.rows.size());
    std::vector<std::string_view> order;  // distinct texts in first-appearance order
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
        if (!keep[r]) continue;
        auto [it, inserted] = by_text.try_emplace(texts[r]);
        if (inserted) order.push_back(texts[r]);
        Seen& s = it->second;
        const bool label_seen = std::find(s.labels.begin(), s.labels.end(), labels[r]) != s.labels.end();
        if (label_seen && opt.drop_duplicates) { keep[r] = 0; ++rep.exact_duplicates_dropped; }
        if (!label_seen) s.labels.push_back(labels[r]);
        s.rows.push_back(r);
    }
    for (const auto& text : order) {
        const Seen& s = by_text[text];
        if (s.labels.size() < 2) continue;
        ++rep.conflicting_texts;
        rep.conflicting_rows += s.rows.size();
        if (rep.conflicts.size() < opt.max_conflicts_listed) {
            DuplicateConflict c;
            c.preview = std::string(text.substr(0, 80));
            c.labels = s.labels;
            for (std::size_t r : s.rows) c.lines.push_back(t.row_line[r]);
            rep.conflicts.push_back(std::move(c));
        }
        if (opt.conflicts == ConflictPolicy::DropAll)
            for (std::size_t r : s.rows)
                if (keep[r]) { keep[r] = 0; ++rep.conflict_rows_dropped; }
    }

    // Pass 3: the output table.
    CsvTable& out = res.table;
    out.header = t.header;
    out.source = t.source;
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
        if (!keep[r]) continue;
        std::vector<std::string> row = t.rows[r];
        row[tc] = texts[r];
        row[lc] = labels[r];
        if (row[tc].find("\xEF\xBF\xBD") != std::string::npos) ++rep.replacement_char_rows;
        out.rows.push_back(std::move(row));
        out.row_line.push_back(t.row_line[r]);
    }
    rep.rows_out = out.rows.size();
    return res;
}

}  // namespace rgrid
