#pragma once
// The confusion matrix for people: a console table (counts, row totals, recall per true
// label) and a heat map as a self-contained SVG (cell colour = share of the true label's
// documents, so a small class's mistakes are as visible as a large one's). rgrid-finetune
// writes DIR/confusion_test.svg next to curves.svg from the test metrics, and the Trainer
// DIR/confusion_val.svg after each evaluation.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/train/report/curve_svg.hpp"
#include "rgrid/train/metrics.hpp"

namespace rgrid {

namespace detail {
inline void check_confusion(const metrics::ConfusionMatrix& cm, const std::vector<std::string>& labels, const char* who) {
    RGRID_CHECK(cm.size() == labels.size(), who, ": ", cm.size(), " rows but ", labels.size(), " label names");
    for (std::size_t i = 0; i < cm.size(); ++i)
        RGRID_CHECK(cm[i].size() == cm.size(), who, ": row ", i, " ('", labels[i], "') has ", cm[i].size(),
                    " columns, expected ", cm.size());
}
inline std::size_t row_total(const std::vector<std::size_t>& row) {
    std::size_t n = 0;
    for (auto v : row) n += v;
    return n;
}
inline std::string pad_left(const std::string& s, std::size_t w) { return s.size() >= w ? s : std::string(w - s.size(), ' ') + s; }
inline std::string pad_right(const std::string& s, std::size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }
}  // namespace detail

/// The confusion matrix as an aligned console table: rows = true label, columns = predicted
/// label, then each row's total and recall (diagonal / total), and a total row.
/// Example: `std::cout << confusion_table(report.confusion, report.label_names);`
inline std::string confusion_table(const metrics::ConfusionMatrix& cm, const std::vector<std::string>& labels) {
    detail::check_confusion(cm, labels, "confusion_table");
    const std::string corner = "true \\ predicted";
    std::size_t first = corner.size(), width = 7;  // "recall" + space
    for (const auto& l : labels) first = std::max(first, l.size()), width = std::max(width, l.size());
    std::vector<std::size_t> col_total(cm.size(), 0);
    std::string s = detail::pad_right(corner, first);
    for (const auto& l : labels) s += " | " + detail::pad_left(l, width);
    s += " | " + detail::pad_left("total", width) + " | " + detail::pad_left("recall", width) + '\n';
    std::string rule = std::string(first, '-');
    for (std::size_t c = 0; c < labels.size() + 2; ++c) rule += "-+-" + std::string(width, '-');
    s += rule + '\n';
    std::size_t all = 0, correct = 0;
    for (std::size_t i = 0; i < cm.size(); ++i) {
        const std::size_t total = detail::row_total(cm[i]);
        s += detail::pad_right(labels[i], first);
        for (std::size_t j = 0; j < cm.size(); ++j) {
            s += " | " + detail::pad_left(std::to_string(cm[i][j]), width);
            col_total[j] += cm[i][j];
        }
        char recall[32];
        if (total) std::snprintf(recall, sizeof recall, "%.1f%%", 100.0 * double(cm[i][i]) / double(total));
        else std::snprintf(recall, sizeof recall, "-");
        s += " | " + detail::pad_left(std::to_string(total), width) + " | " + detail::pad_left(recall, width) + '\n';
        all += total;
        correct += cm[i][i];
    }
    s += rule + '\n' + detail::pad_right("total", first);
    for (auto v : col_total) s += " | " + detail::pad_left(std::to_string(v), width);
    char acc[32];
    std::snprintf(acc, sizeof acc, "%.1f%%", all ? 100.0 * double(correct) / double(all) : 0.0);
    s += " | " + detail::pad_left(std::to_string(all), width) + " | " + detail::pad_left(acc, width) + '\n';
    return s;
}

/// The confusion matrix as an SVG heat map: one cell per (true, predicted) pair with its
/// count and its share of the true label's documents; the colour scale is that share.
/// Example: `std::string svg = confusion_svg(r.confusion, r.label_names, "Test (best checkpoint)");`
inline std::string confusion_svg(const metrics::ConfusionMatrix& cm, const std::vector<std::string>& labels,
                                 const std::string& title) {
    using detail::svg_num;
    using detail::xml_escape;
    detail::check_confusion(cm, labels, "confusion_svg");
    std::size_t longest = 4;
    for (const auto& l : labels) longest = std::max(longest, l.size());
    const double cell = cm.size() > 8 ? 48 : 72, left = 40 + 7.0 * double(longest), top = 78 + 5.0 * double(longest);
    const double n = double(cm.size()), width = std::max(360.0, left + cell * n + 150), height = top + cell * n + 64;
    std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + svg_num(width) + "\" height=\"" +
                    svg_num(height) + "\" viewBox=\"0 0 " + svg_num(width) + " " + svg_num(height) +
                    "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
                    "<text x=\"12\" y=\"22\" font-size=\"14\" font-weight=\"bold\">" + xml_escape(title) + "</text>\n"
                    "<text x=\"12\" y=\"40\" fill=\"#555\">rows: true label · columns: predicted label</text>\n"
                    "<text x=\"12\" y=\"55\" fill=\"#555\">colour: share of the true label's documents "
                    "(the diagonal is recall)</text>\n";
    for (std::size_t j = 0; j < cm.size(); ++j)  // predicted labels, rotated above the columns
        s += "<text transform=\"translate(" + svg_num(left + cell * (double(j) + 0.5)) + "," + svg_num(top - 8) +
             ") rotate(-35)\" font-size=\"12\">" + xml_escape(labels[j]) + "</text>\n";
    s += "<text x=\"" + svg_num(left + cell * n / 2) + "\" y=\"" + svg_num(top + cell * n + 24) +
         "\" text-anchor=\"middle\" font-weight=\"bold\">predicted label</text>\n<text transform=\"translate(14," +
         svg_num(top + cell * n / 2) + ") rotate(-90)\" text-anchor=\"middle\" font-weight=\"bold\">true label</text>\n";
    for (std::size_t i = 0; i < cm.size(); ++i) {
        const std::size_t total = detail::row_total(cm[i]);
        const double y = top + cell * double(i);
        s += "<text x=\"" + svg_num(left - 8) + "\" y=\"" + svg_num(y + cell / 2 + 4) + "\" text-anchor=\"end\">" +
             xml_escape(labels[i]) + "</text>\n";
        for (std::size_t j = 0; j < cm.size(); ++j) {
            const double share = total ? double(cm[i][j]) / double(total) : 0;
            const double x = left + cell * double(j);
            // white → dark blue on the diagonal, white → dark red off it
            const bool diag = i == j;
            const int r = int(std::lround(255 - share * (diag ? 225 : 63))), g = int(std::lround(255 - share * (diag ? 155 : 205))),
                      b = int(std::lround(255 - share * (diag ? 75 : 200)));
            char fill[16];
            std::snprintf(fill, sizeof fill, "#%02x%02x%02x", r, g, b);
            char pct[32];
            std::snprintf(pct, sizeof pct, "%.1f%%", 100 * share);
            const char* ink = share > 0.55 ? "white" : "#1d2430";
            s += "<rect x=\"" + svg_num(x) + "\" y=\"" + svg_num(y) + "\" width=\"" + svg_num(cell) + "\" height=\"" +
                 svg_num(cell) + "\" fill=\"" + fill + "\" stroke=\"#ddd\"><title>true " + xml_escape(labels[i]) +
                 ", predicted " + xml_escape(labels[j]) + ": " + std::to_string(cm[i][j]) + " (" + pct + ")</title></rect>\n";
            s += "<text x=\"" + svg_num(x + cell / 2) + "\" y=\"" + svg_num(y + cell / 2 - 1) +
                 "\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\" fill=\"" + ink + "\">" +
                 std::to_string(cm[i][j]) + "</text>\n<text x=\"" + svg_num(x + cell / 2) + "\" y=\"" +
                 svg_num(y + cell / 2 + 14) + "\" text-anchor=\"middle\" font-size=\"10\" fill=\"" + ink + "\">" + pct +
                 "</text>\n";
        }
        char recall[48];
        std::snprintf(recall, sizeof recall, "%zu docs · recall %.1f%%", total, total ? 100.0 * double(cm[i][i]) / double(total) : 0.0);
        s += "<text x=\"" + svg_num(left + cell * n + 8) + "\" y=\"" + svg_num(y + cell / 2 + 4) + "\" fill=\"#555\">" +
             recall + "</text>\n";
    }
    return s + "</svg>\n";
}

/// Writes confusion_svg(...) to `path`.
inline void write_confusion_svg(const std::string& path, const metrics::ConfusionMatrix& cm,
                                const std::vector<std::string>& labels, const std::string& title) {
    std::ofstream f(path, std::ios::trunc);
    RGRID_CHECK(f.good(), "write_confusion_svg: cannot open '", path, "' for writing");
    f << confusion_svg(cm, labels, title);
    RGRID_CHECK(f.good(), "write_confusion_svg: write to '", path, "' failed");
}

}  // namespace rgrid
