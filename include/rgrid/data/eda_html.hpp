#pragma once
// Renderings of an eda::Report: to_text (the terminal summary) and to_html (one
// self-contained page: inline CSS and SVG charts, no scripts, no network).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "rgrid/data/eda.hpp"

namespace rgrid::eda {

namespace detail {

inline std::string esc(std::string_view s) {
    std::string o;
    o.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            default: o += c;
        }
    }
    return o;
}

inline const char* class_color(std::size_t k) {
    static const char* palette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                    "#b07aa1", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"};
    return palette[k % 10];
}

/// Label of histogram bin i: "30–61", or "16384+" for the open last bin.
inline std::string bin_label(const Histogram& h, std::size_t i) {
    if (i + 1 == h.edges.size()) return num(static_cast<double>(h.edges[i])) + "+";
    const std::size_t lo = h.edges[i], hi = h.edges[i + 1] - 1;
    return lo == hi ? num(static_cast<double>(lo)) : num(static_cast<double>(lo)) + "–" + num(static_cast<double>(hi));
}

struct Bar {
    std::string label, value_text, color, tooltip;
    double value = 0;
};

/// Horizontal bar chart: one labelled bar per item, its value printed after the bar.
inline std::string hbar_svg(const std::vector<Bar>& bars, const std::string& title, int width = 760) {
    const int row = 28, label_w = 270, value_w = 200, top = 8;
    const int height = top + row * static_cast<int>(bars.size()) + 8;
    double vmax = 0;
    for (const auto& b : bars) vmax = std::max(vmax, b.value);
    const double scale = vmax > 0 ? (width - label_w - value_w) / vmax : 0;
    std::ostringstream o;
    o << "<svg class=\"chart\" role=\"img\" aria-label=\"" << esc(title) << "\" width=\"" << width << "\" height=\""
      << height << "\" viewBox=\"0 0 " << width << ' ' << height << "\" xmlns=\"http://www.w3.org/2000/svg\">"
      << "<title>" << esc(title) << "</title>";
    for (std::size_t i = 0; i < bars.size(); ++i) {
        const auto& b = bars[i];
        const int y = top + row * static_cast<int>(i);
        const double w = std::max(b.value > 0 ? 2.0 : 0.0, b.value * scale);
        o << "<text x=\"" << label_w - 10 << "\" y=\"" << y + 18 << "\" text-anchor=\"end\" class=\"lbl\">"
          << esc(b.label) << "</text>"
          << "<rect x=\"" << label_w << "\" y=\"" << y + 4 << "\" width=\"" << fixed(w, 1) << "\" height=\"" << row - 8
          << "\" fill=\"" << b.color << "\" rx=\"3\"><title>" << esc(b.tooltip.empty() ? b.label + ": " + b.value_text : b.tooltip)
          << "</title></rect>"
          << "<text x=\"" << fixed(label_w + w + 8, 1) << "\" y=\"" << y + 18 << "\" class=\"val\">" << esc(b.value_text)
          << "</text>";
    }
    o << "</svg>";
    return o.str();
}

/// Vertical histogram of one class: bars = share of the class's texts per bin. Bins whose
/// lower edge is ≥ `limit` (0 = none) are drawn lighter and a dashed line marks the limit.
inline std::string hist_svg(const Histogram& h, std::size_t total, const std::string& title, const std::string& color,
                            double ymax, std::size_t limit = 0, const std::string& limit_label = "") {
    const int W = 336, H = 210, left = 6, right = 6, top = 34, bottom = 62;
    const int n = static_cast<int>(h.counts.size());
    const double bw = static_cast<double>(W - left - right) / std::max(1, n);
    const double plot_h = H - top - bottom;
    std::ostringstream o;
    o << "<svg class=\"chart hist\" role=\"img\" aria-label=\"" << esc(title) << "\" width=\"" << W << "\" height=\"" << H
      << "\" viewBox=\"0 0 " << W << ' ' << H << "\" xmlns=\"http://www.w3.org/2000/svg\"><title>" << esc(title)
      << "</title><text x=\"" << left << "\" y=\"16\" class=\"ttl\">" << esc(title) << "</text>";
    o << "<line x1=\"" << left << "\" x2=\"" << W - right << "\" y1=\"" << top + plot_h << "\" y2=\"" << top + plot_h
      << "\" class=\"axis\"/>";
    for (int i = 0; i < n; ++i) {
        const std::size_t c = h.counts[static_cast<std::size_t>(i)];
        const double share = total ? static_cast<double>(c) / static_cast<double>(total) : 0;
        const double bh = ymax > 0 ? plot_h * share / ymax : 0;
        const double x = left + bw * i;
        const bool over = limit > 0 && h.edges[static_cast<std::size_t>(i)] >= limit;
        const std::string label = bin_label(h, static_cast<std::size_t>(i));
        o << "<rect x=\"" << fixed(x + 1.5, 1) << "\" y=\"" << fixed(top + plot_h - bh, 1) << "\" width=\""
          << fixed(bw - 3, 1) << "\" height=\"" << fixed(bh, 1) << "\" fill=\"" << color << "\""
          << (over ? " fill-opacity=\"0.45\"" : "") << "><title>" << esc(label) << ": " << num(static_cast<double>(c))
          << " texts (" << pct(share) << ")</title></rect>";
        if (c > 0)
            o << "<text x=\"" << fixed(x + bw / 2, 1) << "\" y=\"" << fixed(top + plot_h - bh - 3, 1)
              << "\" text-anchor=\"middle\" class=\"tiny\">"
              << (share >= 0.0995 ? fixed(100 * share, 0) : share < 0.0005 ? std::string("<.1") : fixed(100 * share, 1))
              << "</text>";
        o << "<text transform=\"translate(" << fixed(x + bw / 2 + 3, 1) << ',' << top + plot_h + 8
          << ") rotate(-45)\" text-anchor=\"end\" class=\"tick\">" << esc(label) << "</text>";
    }
    if (limit > 0) {
        int first_over = n;
        for (int i = 0; i < n; ++i)
            if (h.edges[static_cast<std::size_t>(i)] >= limit) { first_over = i; break; }
        if (first_over < n) {
            const double x = left + bw * first_over;
            o << "<line x1=\"" << fixed(x, 1) << "\" x2=\"" << fixed(x, 1) << "\" y1=\"" << top - 10 << "\" y2=\""
              << top + plot_h << "\" class=\"limit\"/><text x=\"" << fixed(x + 3, 1) << "\" y=\"" << top - 2
              << "\" class=\"tiny limit-text\">" << esc(limit_label) << "</text>";
        }
    }
    o << "</svg>";
    return o.str();
}

inline double max_share(const std::vector<ClassStats>& cs, Histogram ClassStats::*h) {
    double m = 0;
    for (const auto& c : cs)
        for (auto v : (c.*h).counts) m = std::max(m, c.rows ? static_cast<double>(v) / static_cast<double>(c.rows) : 0);
    return m;
}

inline std::string small_multiples(const Report& r, Histogram ClassStats::*h, std::size_t limit,
                                   const std::string& limit_label) {
    const double ymax = max_share(r.classes, h) * 1.12;
    std::ostringstream o;
    o << "<div class=\"grid\">";
    for (std::size_t k = 0; k < r.classes.size(); ++k) {
        const auto& c = r.classes[k];
        o << hist_svg(c.*h, c.rows, c.label + " · " + num(static_cast<double>(c.rows)) + " texts", class_color(k), ymax,
                      limit, limit_label);
    }
    if (r.classes.size() > 1) {
        const double all_max = max_share({r.all}, h) * 1.12;
        o << hist_svg(r.all.*h, r.all.rows, "all classes · " + num(static_cast<double>(r.all.rows)) + " texts", "#555",
                      all_max, limit, limit_label);
    }
    o << "</div>";
    return o.str();
}

inline std::string summary_cells(const Summary& s) {
    std::ostringstream o;
    for (double v : {s.min, s.median, s.p90, s.p99, s.max}) o << "<td class=\"n\">" << num(v) << "</td>";
    o << "<td class=\"n\">" << num(s.mean) << "</td>";
    return o.str();
}

}  // namespace detail

/// The terminal summary: one line per class and the recommendations.
inline std::string to_text(const Report& r) {
    using detail::num;
    using detail::pct;
    std::ostringstream o;
    const auto& c = r.cleaning;
    o << r.input << ": " << num(static_cast<double>(c.rows_in)) << " rows read, " << num(static_cast<double>(r.rows))
      << " after cleaning (" << c.exact_duplicates_dropped << " exact duplicates, " << c.empty_text_dropped
      << " empty texts, " << c.empty_label_dropped << " empty labels dropped; " << c.conflicting_texts
      << " texts with conflicting labels; " << c.utf8_repairs << " invalid UTF-8 sequences repaired)\n\n";
    char line[256];
    std::snprintf(line, sizeof line, "%-16s %7s %7s %9s %9s", "label", "rows", "share", "words p50", "words p90");
    o << line;
    if (r.has_tokens) {
        std::snprintf(line, sizeof line, " %10s %10s %10s %8s %8s", "tokens p50", "tokens p90", "tokens max",
                      ("> " + std::to_string(r.options.max_length - 2)).c_str(), "windows");
        o << line;
    }
    o << '\n';
    auto row = [&](const ClassStats& s) {
        std::snprintf(line, sizeof line, "%-16s %7s %7s %9s %9s", s.label.substr(0, 16).c_str(),
                      num(static_cast<double>(s.rows)).c_str(), pct(s.share).c_str(), num(s.words.median).c_str(),
                      num(s.words.p90).c_str());
        o << line;
        if (r.has_tokens) {
            std::snprintf(line, sizeof line, " %10s %10s %10s %8s %8s", num(s.tokens.median).c_str(),
                          num(s.tokens.p90).c_str(), num(s.tokens.max).c_str(),
                          pct(s.rows ? static_cast<double>(s.over_limit) / static_cast<double>(s.rows) : 0).c_str(),
                          num(static_cast<double>(s.windows)).c_str());
            o << line;
        }
        o << '\n';
    };
    for (const auto& s : r.classes) row(s);
    row(r.all);
    const auto& rec = r.recommendation;
    o << "\nRecommendation: max_length " << rec.max_length << ", stride " << rec.stride;
    if (rec.use_class_weights) {
        o << "; class weights";
        for (std::size_t k = 0; k < rec.class_weights.size(); ++k)
            o << (k ? ", " : " ") << r.label_names[k] << '=' << detail::fixed(rec.class_weights[k], 2);
    }
    o << '\n';
    for (const auto& n : rec.notes) o << "  - " << n << '\n';
    return o.str();
}

/// The report as one self-contained HTML page (inline CSS + SVG, no scripts, no network).
inline std::string to_html(const Report& r) {
    using detail::esc;
    using detail::num;
    using detail::pct;
    const auto& c = r.cleaning;
    const auto& rec = r.recommendation;
    const std::size_t limit = r.options.max_length - 2;
    std::ostringstream o;
    o << R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>rgrid data report: )" << esc(r.input) << R"(</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d2430;background:#f6f7f9;margin:0}
main{max-width:1140px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:26px;margin:8px 0 2px} h2{font-size:20px;margin:0 0 6px} h3{font-size:15px;margin:10px 0 4px}
.sub{color:#5b6575;margin:0 0 18px} section{background:#fff;border:1px solid #e1e4ea;border-radius:10px;padding:18px 22px;margin:18px 0}
.what{color:#5b6575;margin:0 0 12px;max-width:900px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin:14px 0}
.card{background:#fff;border:1px solid #e1e4ea;border-radius:10px;padding:12px 14px}
.card .k{color:#5b6575;font-size:13px} .card .v{font-size:22px;font-weight:650;white-space:nowrap}
.card.hl{border-color:#4e79a7;background:#eef3fa} .card.hl .v{font-size:19px}
.answer{background:#eef3fa;border:1px solid #b7c9e2;border-radius:10px;padding:14px 18px;margin:14px 0}
.answer b{font-size:17px}
table{border-collapse:collapse;margin:6px 0 4px;font-size:14px} th,td{padding:4px 10px;border-bottom:1px solid #eceef2;text-align:left}
th{background:#f3f5f8;font-weight:600;white-space:nowrap} td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:flex;flex-wrap:wrap;gap:6px 14px}
.terms{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:14px}
.bar{display:block;height:7px;border-radius:2px;margin:2px 0}
.terms td{padding:2px 8px}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}
svg text{font-family:inherit;fill:#1d2430} .lbl{font-size:14px} .val{font-size:13px;fill:#3b4452}
.ttl{font-size:13px;font-weight:600} .tick{font-size:10.5px;fill:#5b6575} .tiny{font-size:10px;fill:#3b4452}
.axis{stroke:#9aa3b2;stroke-width:1} .limit{stroke:#c0392b;stroke-width:1.5;stroke-dasharray:4 3} .limit-text{fill:#c0392b}
ul.notes li{margin:4px 0} code{background:#f0f2f5;padding:1px 4px;border-radius:3px}
footer{color:#5b6575;font-size:13px}
</style></head><body><main>
)";
    o << "<h1>What is in this data set?</h1><p class=\"sub\">" << esc(r.input) << " · text column <code>" << esc(r.text_col)
      << "</code>, label column <code>" << esc(r.label_col) << "</code>"
      << (r.has_tokens ? " · tokens: WordPiece (" + esc(r.vocab) + ")" : " · no vocabulary: token statistics skipped")
      << " · made by rgrid-eda</p>\n";

    // At a glance.
    o << "<div class=\"cards\">"
      << "<div class=\"card\"><div class=\"k\">texts after cleaning</div><div class=\"v\">" << num(static_cast<double>(r.rows))
      << "</div><div class=\"k\">of " << num(static_cast<double>(c.rows_in)) << " rows read</div></div>"
      << "<div class=\"card\"><div class=\"k\">classes</div><div class=\"v\">" << r.label_names.size()
      << "</div><div class=\"k\">largest / smallest " << detail::fixed(rec.imbalance, 1) << " : 1</div></div>";
    if (r.has_tokens) {
        o << "<div class=\"card\"><div class=\"k\">median length</div><div class=\"v\">" << num(r.all.tokens.median)
          << " tokens</div><div class=\"k\">90% ≤ " << num(r.all.tokens.p90) << ", longest " << num(r.all.tokens.max)
          << "</div></div>"
          << "<div class=\"card\"><div class=\"k\">longer than " << limit << " tokens</div><div class=\"v\">"
          << pct(r.rows ? static_cast<double>(r.all.over_limit) / static_cast<double>(r.rows) : 0) << "</div><div class=\"k\">"
          << num(static_cast<double>(r.all.over_limit)) << (r.all.over_limit == 1 ? " text needs" : " texts need")
          << " more than one window</div></div>"
          << "<div class=\"card hl\"><div class=\"k\">recommended</div><div class=\"v\">max_length " << rec.max_length
          << "</div><div class=\"k\">stride " << rec.stride << " · " << num(static_cast<double>(rec.total_windows))
          << " windows</div></div>";
    }
    o << "</div>\n";

    // Recommendations.
    o << "<section id=\"recommendations\"><h2>Recommendations</h2><div class=\"answer\"><b>max_length " << rec.max_length
      << ", stride " << rec.stride << (rec.use_class_weights ? ", with class weights" : "") << "</b></div><ul class=\"notes\">";
    for (const auto& n : rec.notes) o << "<li>" << esc(n) << "</li>";
    o << "</ul>";
    if (rec.use_class_weights) {
        o << "<table><tr><th>label</th><th class=\"n\">rows</th><th class=\"n\">class weight N/(K·n)</th></tr>";
        for (std::size_t k = 0; k < r.classes.size() && k < rec.class_weights.size(); ++k)
            o << "<tr><td><span class=\"swatch\" style=\"background:" << detail::class_color(k) << "\"></span>"
              << esc(r.classes[k].label) << "</td><td class=\"n\">" << num(static_cast<double>(r.classes[k].rows))
              << "</td><td class=\"n\">" << detail::fixed(rec.class_weights[k], 3) << "</td></tr>";
        o << "</table>";
    }
    o << "</section>\n";

    // 1 classes.
    {
        std::vector<detail::Bar> bars;
        for (std::size_t k = 0; k < r.classes.size(); ++k) {
            const auto& s = r.classes[k];
            bars.push_back({s.label, num(static_cast<double>(s.rows)) + " (" + pct(s.share) + ")", detail::class_color(k), "",
                            static_cast<double>(s.rows)});
        }
        o << "<section id=\"classes\"><h2>1 · Classes</h2><p class=\"what\">Texts per label after cleaning. A stratified split "
             "keeps these shares in train, validation and test; small classes get few validation and test texts, so "
             "read per-class scores and macro F1 for them.</p>"
          << detail::hbar_svg(bars, "texts per class") << "</section>\n";
    }

    // 2 token lengths, 3 word lengths.
    if (r.has_tokens) {
        o << "<section id=\"tokens\"><h2>2 · Length in WordPiece tokens</h2><p class=\"what\">How many tokens the model sees "
             "per text (bert WordPiece, without [CLS]/[SEP]); bars are the percentage of the class's texts in each length bin. "
             "Bins end at the content sizes of common max_length values (32, 64, 128, 256, 384, 512 minus 2). Texts right of "
             "the dashed line do not fit in one "
          << r.options.max_length << "-token window (lighter bars): they are cut into overlapping windows.</p>"
          << detail::small_multiples(r, &ClassStats::token_hist, limit + 1, "> " + std::to_string(limit))
          << "</section>\n";
    }
    o << "<section id=\"words\"><h2>" << (r.has_tokens ? "3" : "2")
      << " · Length in words</h2><p class=\"what\">The same texts counted in whitespace-separated words (what a person "
         "would count). WordPiece usually gives 1.3–2× more tokens than words for English mail; Chinese, Japanese and "
         "Korean text gives one token per character.</p>"
      << detail::small_multiples(r, &ClassStats::word_hist, 0, "") << "</section>\n";

    // 4 summary table.
    o << "<section id=\"lengths\"><h2>" << (r.has_tokens ? "4" : "3")
      << " · Length summary</h2><p class=\"what\">Quantiles per class (nearest rank). Characters are Unicode code points.</p>";
    auto table = [&](const std::string& what, Summary ClassStats::*m) {
        o << "<h3>" << what << "</h3><table><tr><th>label</th><th class=\"n\">min</th><th class=\"n\">median</th>"
             "<th class=\"n\">p90</th><th class=\"n\">p99</th><th class=\"n\">max</th><th class=\"n\">mean</th></tr>";
        for (const auto& s : r.classes) o << "<tr><td>" << esc(s.label) << "</td>" << detail::summary_cells(s.*m) << "</tr>";
        o << "<tr><th>all</th>" << detail::summary_cells(r.all.*m) << "</tr></table>";
    };
    if (r.has_tokens) table("WordPiece tokens", &ClassStats::tokens);
    table("words", &ClassStats::words);
    table("characters", &ClassStats::chars);
    o << "</section>\n";

    // 5 windows.
    if (r.has_tokens) {
        o << "<section id=\"windows\"><h2>5 · Windows per text at max_length " << r.options.max_length << ", stride "
          << r.options.stride << "</h2><p class=\"what\">A text of n tokens is cut into windows of up to " << limit
          << " tokens between [CLS] and [SEP]; consecutive windows overlap by " << r.options.stride
          << " tokens. Training sees every window as an example; evaluation averages the window logits per text. The "
             "total is what an epoch costs.</p>"
          << "<table><tr><th>label</th><th class=\"n\">texts</th><th class=\"n\">windows</th><th class=\"n\">per text</th>"
             "<th class=\"n\">texts > 1 window</th><th class=\"n\">most windows</th></tr>";
        auto wrow = [&](const ClassStats& s, bool bold) {
            const std::string td = bold ? "th" : "td";
            o << "<tr><" << td << ">" << esc(s.label) << "</" << td << "><td class=\"n\">" << num(static_cast<double>(s.rows))
              << "</td><td class=\"n\">" << num(static_cast<double>(s.windows)) << "</td><td class=\"n\">"
              << detail::fixed(s.rows ? static_cast<double>(s.windows) / static_cast<double>(s.rows) : 0, 2)
              << "</td><td class=\"n\">" << num(static_cast<double>(s.over_limit)) << " ("
              << pct(s.rows ? static_cast<double>(s.over_limit) / static_cast<double>(s.rows) : 0) << ")</td><td class=\"n\">"
              << num(static_cast<double>(s.max_windows)) << "</td></tr>";
        };
        for (const auto& s : r.classes) wrow(s, false);
        wrow(r.all, true);
        o << "</table>" << detail::small_multiples(r, &ClassStats::window_hist, 2, "> 1 window")
          << "</section>\n";
    }

    // 6 terms.
    o << "<section id=\"terms\"><h2>" << (r.has_tokens ? "6" : "4")
      << " · Distinctive terms per class</h2><p class=\"what\">Words (3–20 letters, lower-cased, common English stop words "
         "left out) that mark a class: found in many of its texts and in few of the other classes' texts (ranked by "
         "(p<sub>class</sub> − p<sub>others</sub>) · log<sub>2</sub> of their ratio). The coloured bar is the share of the "
         "class's texts containing the word, the grey bar the share of the other texts. Header words, list names and "
         "signatures here mean a model can learn the source instead of the content.</p>"
         "<div class=\"terms\">";
    for (std::size_t k = 0; k < r.classes.size(); ++k) {
        const auto& s = r.classes[k];
        o << "<div><h3><span class=\"swatch\" style=\"background:" << detail::class_color(k) << "\"></span>" << esc(s.label)
          << "</h3><table><tr><th>term</th><th class=\"n\">in class</th><th class=\"n\">in others</th><th></th></tr>";
        for (const auto& t : s.top_terms)
            o << "<tr><td>" << esc(t.term) << "</td><td class=\"n\">" << pct(t.share_in_class) << "</td><td class=\"n\">"
              << pct(t.share_elsewhere) << "</td><td><span class=\"bar\" style=\"width:" << detail::fixed(90 * t.share_in_class, 1)
              << "px;background:" << detail::class_color(k) << "\"></span><span class=\"bar\" style=\"width:"
              << detail::fixed(90 * t.share_elsewhere, 1) << "px;background:#b8bec8\"></span></td></tr>";
        if (s.top_terms.empty()) o << "<tr><td colspan=\"4\">(no term occurs in 3+ texts of this class more often than elsewhere)</td></tr>";
        o << "</table></div>";
    }
    o << "</div></section>\n";

    // 7 cleaning.
    {
        std::vector<detail::Bar> bars;
        auto add = [&](const std::string& label, std::size_t rows, const char* color, const std::string& extra) {
            const double share = c.rows_in ? static_cast<double>(rows) / static_cast<double>(c.rows_in) : 0;
            bars.push_back({label, num(static_cast<double>(rows)) + " rows (" + pct(share) + ")" + extra, color, "",
                            static_cast<double>(rows)});
        };
        add("exact duplicates dropped", c.exact_duplicates_dropped, "#e15759", "");
        add("empty texts dropped", c.empty_text_dropped, "#e15759", "");
        add("empty labels dropped", c.empty_label_dropped, "#e15759", "");
        add("conflicting-label rows dropped", c.conflict_rows_dropped, "#e15759", "");
        add("rows with conflicting labels (kept)", c.conflicting_rows, "#f28e2b",
            " · " + num(static_cast<double>(c.conflicting_texts)) + " texts");
        add("whitespace normalized", c.whitespace_changed_rows, "#4e79a7", "");
        add("control characters removed", c.control_char_rows, "#4e79a7",
            " · " + num(static_cast<double>(c.control_chars_removed)) + " chars");
        add("labels trimmed", c.labels_trimmed, "#4e79a7", "");
        add("invalid UTF-8 repaired (U+FFFD)", c.utf8_repaired_rows, "#b07aa1",
            " · " + num(static_cast<double>(c.utf8_repairs)) + " sequences");
        add("texts containing U+FFFD", c.replacement_char_rows, "#b07aa1", "");
        o << "<section id=\"cleaning\"><h2>" << (r.has_tokens ? "7" : "5")
          << " · Cleaning tally</h2><p class=\"what\">What rgrid-eda changed to produce clean.csv ("
          << num(static_cast<double>(c.rows_in)) << " rows in, " << num(static_cast<double>(c.rows_out))
          << " out). Rows affected by each step. Red: rows removed; orange: reported but kept; blue: rows edited; purple: "
             "encoding repairs (invalid bytes replaced while reading, and kept texts that contain U+FFFD).</p>"
          << detail::hbar_svg(bars, "cleaning tally");
        if (!c.conflicts.empty()) {
            o << "<h3>Texts with conflicting labels</h3><table><tr><th>text (start)</th><th>labels</th><th>lines</th></tr>";
            for (const auto& d : c.conflicts) {
                std::string labels, lines;
                for (const auto& l : d.labels) labels += (labels.empty() ? "" : ", ") + l;
                for (auto l : d.lines) lines += (lines.empty() ? "" : ", ") + std::to_string(l);
                o << "<tr><td>" << esc(d.preview) << "</td><td>" << esc(labels) << "</td><td>" << lines << "</td></tr>";
            }
            o << "</table>";
        }
        o << "</section>\n";
    }

    // 8 content.
    o << "<section id=\"content\"><h2>" << (r.has_tokens ? "8" : "6")
      << " · Content checks</h2><p class=\"what\">Per class: very short texts (little signal); near-duplicates (same "
         "letters as an earlier text once digits, punctuation and spacing are ignored: template mail, re-sends); texts with "
         "non-ASCII and with Chinese/Japanese/Korean characters; texts containing U+FFFD (undecodable bytes); texts that "
         "WordPiece maps partly to [UNK] (overlong words, symbols outside the vocabulary).</p><table><tr><th>label</th><th class=\"n\">texts under " << r.options.short_words
      << " words</th><th class=\"n\">near-duplicates</th><th class=\"n\">non-ASCII</th><th class=\"n\">CJK</th><th class=\"n\">with U+FFFD</th>"
      << (r.has_tokens ? "<th class=\"n\">texts with [UNK]</th><th class=\"n\">[UNK] tokens</th>" : "") << "</tr>";
    auto crow = [&](const ClassStats& s) {
        o << "<tr><td>" << esc(s.label) << "</td><td class=\"n\">" << num(static_cast<double>(s.short_texts))
          << "</td><td class=\"n\">" << num(static_cast<double>(s.near_duplicates))
          << "</td><td class=\"n\">" << num(static_cast<double>(s.non_ascii_texts)) << "</td><td class=\"n\">"
          << num(static_cast<double>(s.cjk_texts)) << "</td><td class=\"n\">" << num(static_cast<double>(s.replacement_char_texts))
          << "</td>";
        if (r.has_tokens)
            o << "<td class=\"n\">" << num(static_cast<double>(s.texts_with_unk)) << "</td><td class=\"n\">"
              << num(static_cast<double>(s.unk_tokens)) << "</td>";
        o << "</tr>";
    };
    for (const auto& s : r.classes) crow(s);
    crow(r.all);
    o << "</table></section>\n<footer>Every number here is also in eda.json. The page is self-contained: no scripts, no "
         "network. Hover a bar for its exact count.</footer></main></body></html>\n";
    return o.str();
}

}  // namespace rgrid::eda
