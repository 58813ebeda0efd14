#pragma once
// eda::to_html: an eda::Report as one self-contained page (kCss inline, SVG charts, no
// scripts, no network), one function per report section. Every chart has labelled axes with
// units; bars are drawn against a round axis maximum (at least 10 % for shares), so a small
// share never fills the chart.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "rgrid/data/eda.hpp"

namespace rgrid::eda {

namespace detail {

/// The page's style sheet.
inline constexpr const char* kCss = R"(
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
tr.leak td{background:#fff4e5} .warn{color:#a04a00;font-weight:600}
.samples td{vertical-align:top} .sample{white-space:pre-wrap;word-break:break-word;max-height:9.5em;overflow:hidden;
  font:12.5px/1.45 ui-monospace,"DejaVu Sans Mono",monospace;background:#f7f8fa;border-radius:4px;padding:4px 6px;margin:0}
.more{color:#5b6575;font-style:italic}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}
svg text{font-family:inherit;fill:#1d2430} .lbl{font-size:14px} .val{font-size:13px;fill:#3b4452}
.ttl{font-size:13px;font-weight:600} .tick{font-size:10.5px;fill:#5b6575} .tiny{font-size:10px;fill:#3b4452}
.axt{font-size:11px;fill:#3b4452} .grid-line{stroke:#eceef2;stroke-width:1}
.axis{stroke:#9aa3b2;stroke-width:1} .limit{stroke:#c0392b;stroke-width:1.5;stroke-dasharray:4 3} .limit-text{fill:#c0392b}
ul.notes li{margin:4px 0} code{background:#f0f2f5;padding:1px 4px;border-radius:3px}
footer{color:#5b6575;font-size:13px}
)";

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

inline std::string share_of(std::size_t part, std::size_t whole) {
    return pct(whole ? static_cast<double>(part) / static_cast<double>(whole) : 0);
}

/// Label of histogram bin i: "30–61", or "16384+" for the open last bin.
inline std::string bin_label(const Histogram& h, std::size_t i) {
    if (i + 1 == h.edges.size()) return num(static_cast<double>(h.edges[i])) + "+";
    const std::size_t lo = h.edges[i], hi = h.edges[i + 1] - 1;
    return lo == hi ? num(static_cast<double>(lo)) : num(static_cast<double>(lo)) + "–" + num(static_cast<double>(hi));
}

/// The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ v (v > 0): a round axis maximum, split in 5 ticks.
inline double nice_ceil(double v) {
    if (!(v > 0)) return 1;
    const double mag = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * mag >= v * (1 - 1e-12)) return m * mag;
    return 10 * mag;
}

/// An axis maximum for shares: round, and at least 10 % so that a tiny share stays a sliver.
inline double share_axis_max(double max_share) { return std::min(1.0, nice_ceil(std::max(max_share, 0.10))); }

/// "25%" / "2.5%" / "0.5%" for a tick value given as a share.
inline std::string tick_pct(double share) {
    const double p = 100 * share;
    return fixed(p, std::abs(p - std::round(p)) < 1e-9 ? 0 : 1) + "%";
}

struct Bar {
    std::string label, value_text, color, tooltip;
    double share = 0;  ///< of the chart's whole (the axis is in %)
};

/// Horizontal bar chart of shares: one labelled bar per item, its value printed after the
/// bar, an x-axis in % (0 to share_axis_max) labelled `axis_label`.
inline std::string hbar_svg(const std::vector<Bar>& bars, const std::string& title, const std::string& axis_label,
                            int width = 760) {
    const int row = 28, label_w = 270, value_w = 200, top = 8, axis_h = 38;
    const int plot_w = width - label_w - value_w;
    const int plot_bottom = top + row * static_cast<int>(bars.size());
    const int height = plot_bottom + axis_h;
    double vmax = 0;
    for (const auto& b : bars) vmax = std::max(vmax, b.share);
    const double axis_max = share_axis_max(vmax);
    const double scale = plot_w / axis_max;
    std::ostringstream o;
    o << "<svg class=\"chart\" role=\"img\" aria-label=\"" << esc(title) << "\" width=\"" << width << "\" height=\""
      << height << "\" viewBox=\"0 0 " << width << ' ' << height << "\" xmlns=\"http://www.w3.org/2000/svg\">"
      << "<title>" << esc(title) << "</title>";
    for (int t = 0; t <= 5; ++t) {
        const double x = label_w + plot_w * t / 5.0;
        o << "<line x1=\"" << fixed(x, 1) << "\" x2=\"" << fixed(x, 1) << "\" y1=\"" << top << "\" y2=\"" << plot_bottom
          << "\" class=\"grid-line\"/><text x=\"" << fixed(x, 1) << "\" y=\"" << plot_bottom + 14
          << "\" text-anchor=\"middle\" class=\"tick\">" << tick_pct(axis_max * t / 5.0) << "</text>";
    }
    o << "<line x1=\"" << label_w << "\" x2=\"" << label_w + plot_w << "\" y1=\"" << plot_bottom << "\" y2=\""
      << plot_bottom << "\" class=\"axis\"/><text x=\"" << label_w + plot_w / 2 << "\" y=\"" << plot_bottom + 31
      << "\" text-anchor=\"middle\" class=\"axt\">" << esc(axis_label) << "</text>";
    for (std::size_t i = 0; i < bars.size(); ++i) {
        const auto& b = bars[i];
        const int y = top + row * static_cast<int>(i);
        const double w = std::max(b.share > 0 ? 2.0 : 0.0, b.share * scale);
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

/// Vertical histogram of one class: bars = share of the class's texts per bin, a y-axis in %
/// of the class's texts (0 to ymax, 5 ticks), `x_label` under the bin labels. Bins whose lower
/// edge is ≥ `limit` (0 = none) are drawn lighter and a dashed line marks the limit.
inline std::string hist_svg(const Histogram& h, std::size_t total, const std::string& title, const std::string& color,
                            double ymax, const std::string& x_label, std::size_t limit = 0,
                            const std::string& limit_label = "") {
    const int W = 350, H = 236, left = 44, right = 6, top = 34, bottom = 84;
    const int n = static_cast<int>(h.counts.size());
    const double bw = static_cast<double>(W - left - right) / std::max(1, n);
    const double plot_h = H - top - bottom;
    std::ostringstream o;
    o << "<svg class=\"chart hist\" role=\"img\" aria-label=\"" << esc(title) << "\" width=\"" << W << "\" height=\"" << H
      << "\" viewBox=\"0 0 " << W << ' ' << H << "\" xmlns=\"http://www.w3.org/2000/svg\"><title>" << esc(title)
      << "</title><text x=\"" << left << "\" y=\"16\" class=\"ttl\">" << esc(title) << "</text>";
    for (int t = 0; t <= 5; ++t) {  // y-axis: % of the class's texts
        const double y = top + plot_h - plot_h * t / 5.0;
        o << "<line x1=\"" << left << "\" x2=\"" << W - right << "\" y1=\"" << fixed(y, 1) << "\" y2=\"" << fixed(y, 1)
          << "\" class=\"grid-line\"/><text x=\"" << left - 4 << "\" y=\"" << fixed(y + 3.5, 1)
          << "\" text-anchor=\"end\" class=\"tick\">" << tick_pct(ymax * t / 5.0) << "</text>";
    }
    o << "<text transform=\"translate(11," << fixed(top + plot_h / 2, 1) << ") rotate(-90)\" text-anchor=\"middle\" "
         "class=\"axt\">% of texts</text>";
    o << "<line x1=\"" << left << "\" x2=\"" << W - right << "\" y1=\"" << top + plot_h << "\" y2=\"" << top + plot_h
      << "\" class=\"axis\"/><line x1=\"" << left << "\" x2=\"" << left << "\" y1=\"" << top << "\" y2=\"" << top + plot_h
      << "\" class=\"axis\"/>";
    for (int i = 0; i < n; ++i) {
        const std::size_t c = h.counts[static_cast<std::size_t>(i)];
        const double share = total ? static_cast<double>(c) / static_cast<double>(total) : 0;
        const double bh = ymax > 0 ? plot_h * std::min(share, ymax) / ymax : 0;
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
    o << "<text x=\"" << fixed(left + (W - left - right) / 2.0, 1) << "\" y=\"" << H - 4
      << "\" text-anchor=\"middle\" class=\"axt\">" << esc(x_label) << "</text>";
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

/// One histogram per class (common y-axis) and one for all classes, `hist_of` picking the histogram.
template <class HistOf>
std::string small_multiples(const Report& r, HistOf&& hist_of, const std::string& x_label, std::size_t limit,
                            const std::string& limit_label) {
    auto max_share = [&](const ClassStats& c) {
        double m = 0;
        for (auto v : hist_of(c).counts) m = std::max(m, c.rows ? static_cast<double>(v) / static_cast<double>(c.rows) : 0);
        return m;
    };
    double m = 0;
    for (const auto& c : r.classes) m = std::max(m, max_share(c));
    const double ymax = share_axis_max(m * 1.08);
    std::ostringstream o;
    o << "<div class=\"grid\">";
    for (std::size_t k = 0; k < r.classes.size(); ++k) {
        const auto& c = r.classes[k];
        o << hist_svg(hist_of(c), c.rows, c.label + " · " + num(static_cast<double>(c.rows)) + " texts", class_color(k),
                      ymax, x_label, limit, limit_label);
    }
    if (r.classes.size() > 1)
        o << hist_svg(hist_of(r.all), r.all.rows, "all classes · " + num(static_cast<double>(r.all.rows)) + " texts",
                      "#555", share_axis_max(max_share(r.all) * 1.08), x_label, limit, limit_label);
    o << "</div>";
    return o.str();
}

inline std::string summary_cells(const Summary& s) {
    std::ostringstream o;
    for (double v : {s.min, s.median, s.p90, s.p99, s.max}) o << "<td class=\"n\">" << num(v) << "</td>";
    o << "<td class=\"n\">" << num(s.mean) << "</td>";
    return o.str();
}

/// "a, b, c" from strings or numbers.
template <class Items>
std::string join(const Items& items) {
    std::string o;
    for (const auto& x : items) {
        if (!o.empty()) o += ", ";
        if constexpr (std::is_arithmetic_v<std::decay_t<decltype(x)>>) o += std::to_string(x);
        else o += x;
    }
    return o;
}

inline std::string swatch(std::size_t k) {
    return std::string("<span class=\"swatch\" style=\"background:") + class_color(k) + "\"></span>";
}

// ---- The sections, in page order. `n` is the section number shown in its heading.

inline std::string html_head(const Report& r) {
    std::ostringstream o;
    o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
         "content=\"width=device-width, initial-scale=1\">\n<title>rgrid data report: "
      << esc(r.input) << "</title>\n<style>" << kCss << "</style></head><body><main>\n"
      << "<h1>What is in this data set?</h1><p class=\"sub\">" << esc(r.input) << " · text column <code>" << esc(r.text_col)
      << "</code>, label column <code>" << esc(r.label_col) << "</code>"
      << (r.has_tokens ? " · tokens: WordPiece (" + esc(r.vocab) + ")" : " · no vocabulary: token statistics skipped")
      << " · made by rgrid-eda</p>\n";
    return o.str();
}

inline std::string html_cards(const Report& r) {
    const auto& rec = r.recommendation;
    std::ostringstream o;
    o << "<div class=\"cards\">"
      << "<div class=\"card\"><div class=\"k\">texts after cleaning</div><div class=\"v\">" << num(static_cast<double>(r.rows))
      << "</div><div class=\"k\">of " << num(static_cast<double>(r.cleaning.rows_in)) << " rows read</div></div>"
      << "<div class=\"card\"><div class=\"k\">classes</div><div class=\"v\">" << r.label_names.size()
      << "</div><div class=\"k\">largest / smallest " << fixed(rec.imbalance, 1) << " : 1</div></div>";
    if (r.has_tokens && !r.all.windows.empty()) {
        const WindowStats& w = r.all.windows[0];
        o << "<div class=\"card\"><div class=\"k\">median length</div><div class=\"v\">" << num(r.all.tokens.median)
          << " tokens</div><div class=\"k\">90% ≤ " << num(r.all.tokens.p90) << ", longest " << num(r.all.tokens.max)
          << "</div></div>"
          << "<div class=\"card\"><div class=\"k\">longer than " << w.max_length - 2 << " tokens</div><div class=\"v\">"
          << share_of(w.over_limit, r.rows) << "</div><div class=\"k\">" << num(static_cast<double>(w.over_limit))
          << (w.over_limit == 1 ? " text needs" : " texts need") << " more than one window</div></div>"
          << "<div class=\"card hl\"><div class=\"k\">recommended</div><div class=\"v\">max_length " << rec.max_length
          << "</div><div class=\"k\">stride " << rec.stride << " · " << num(static_cast<double>(rec.total_windows))
          << " windows</div></div>";
    }
    o << "</div>\n";
    return o.str();
}

inline std::string html_recommendations(const Report& r) {
    const auto& rec = r.recommendation;
    std::ostringstream o;
    o << "<section id=\"recommendations\"><h2>Recommendations</h2><div class=\"answer\"><b>max_length " << rec.max_length
      << ", stride " << rec.stride << (rec.use_class_weights ? ", with class weights" : "") << "</b><br>rgrid-finetune";
    for (const auto& a : finetune_args(r)) o << ' ' << esc(a);
    o << "</div><ul class=\"notes\">";
    for (const auto& n : rec.notes) o << "<li>" << esc(n) << "</li>";
    o << "</ul>";
    if (rec.use_class_weights) {
        o << "<table><tr><th>label</th><th class=\"n\">rows</th><th class=\"n\">class weight N/(K·n)</th></tr>";
        for (std::size_t k = 0; k < r.classes.size() && k < rec.class_weights.size(); ++k)
            o << "<tr><td>" << swatch(k) << esc(r.classes[k].label) << "</td><td class=\"n\">"
              << num(static_cast<double>(r.classes[k].rows)) << "</td><td class=\"n\">" << fixed(rec.class_weights[k], 3)
              << "</td></tr>";
        o << "</table>";
    }
    o << "</section>\n";
    return o.str();
}

inline std::string html_classes(const Report& r, int n) {
    std::vector<Bar> bars;
    for (std::size_t k = 0; k < r.classes.size(); ++k) {
        const auto& s = r.classes[k];
        bars.push_back({s.label, num(static_cast<double>(s.rows)) + " (" + pct(s.share) + ")", class_color(k), "", s.share});
    }
    std::ostringstream o;
    o << "<section id=\"classes\"><h2>" << n << " · Classes</h2><p class=\"what\">Texts per label after cleaning, as a "
         "share of all texts. A stratified split keeps these shares in train, validation and test; small classes get few "
         "validation and test texts, so read per-class scores and macro F1 for them.</p>"
      << hbar_svg(bars, "texts per class", "share of all texts (%)") << "</section>\n";
    return o.str();
}

inline std::string html_tokens(const Report& r, int n) {
    const std::size_t limit = r.options.max_length - 2;
    std::ostringstream o;
    o << "<section id=\"tokens\"><h2>" << n << " · Length in WordPiece tokens</h2><p class=\"what\">How many tokens the "
         "model sees per text (WordPiece, without [CLS]/[SEP]); bars are the percentage of the class's texts in each "
         "length bin. Bins end at the content sizes of common max_length values (32, 64, 128, 256, 384, 512 minus 2). "
         "Texts right of the dashed line do not fit in one "
      << r.options.max_length << "-token window (lighter bars): they are cut into overlapping windows.</p>"
      << small_multiples(r, [](const ClassStats& c) -> const Histogram& { return c.token_hist; }, "tokens per text",
                         limit + 1, "> " + std::to_string(limit))
      << "</section>\n";
    return o.str();
}

inline std::string html_words(const Report& r, int n) {
    std::ostringstream o;
    o << "<section id=\"words\"><h2>" << n << " · Length in words</h2><p class=\"what\">The same texts counted in "
         "whitespace-separated words (what a person would count). WordPiece usually gives 1.3–2× more tokens than words "
         "for English mail; Chinese, Japanese and Korean text gives one token per character.</p>"
      << small_multiples(r, [](const ClassStats& c) -> const Histogram& { return c.word_hist; }, "words per text", 0, "")
      << "</section>\n";
    return o.str();
}

inline std::string html_lengths(const Report& r, int n) {
    std::ostringstream o;
    o << "<section id=\"lengths\"><h2>" << n << " · Length summary</h2><p class=\"what\">Quantiles per class (nearest "
         "rank). Characters are Unicode code points.</p>";
    auto table = [&](const std::string& what, Summary ClassStats::*m) {
        o << "<h3>" << what << "</h3><table><tr><th>label</th><th class=\"n\">min</th><th class=\"n\">median</th>"
             "<th class=\"n\">p90</th><th class=\"n\">p99</th><th class=\"n\">max</th><th class=\"n\">mean</th></tr>";
        for (const auto& s : r.classes) o << "<tr><td>" << esc(s.label) << "</td>" << summary_cells(s.*m) << "</tr>";
        o << "<tr><th>all</th>" << summary_cells(r.all.*m) << "</tr></table>";
    };
    if (r.has_tokens) table("WordPiece tokens", &ClassStats::tokens);
    table("words", &ClassStats::words);
    table("characters", &ClassStats::chars);
    o << "</section>\n";
    return o.str();
}

inline std::string windows_table(const Report& r, std::size_t setting) {
    std::ostringstream o;
    o << "<table><tr><th>label</th><th class=\"n\">texts</th><th class=\"n\">windows</th><th class=\"n\">per text</th>"
         "<th class=\"n\">texts > 1 window</th><th class=\"n\">most windows</th></tr>";
    auto row = [&](const ClassStats& s, bool bold) {
        const WindowStats& w = s.windows[setting];
        const std::string td = bold ? "th" : "td";
        o << "<tr><" << td << ">" << esc(s.label) << "</" << td << "><td class=\"n\">" << num(static_cast<double>(s.rows))
          << "</td><td class=\"n\">" << num(static_cast<double>(w.windows)) << "</td><td class=\"n\">"
          << fixed(s.rows ? static_cast<double>(w.windows) / static_cast<double>(s.rows) : 0, 2) << "</td><td class=\"n\">"
          << num(static_cast<double>(w.over_limit)) << " (" << share_of(w.over_limit, s.rows) << ")</td><td class=\"n\">"
          << num(static_cast<double>(w.max_windows)) << "</td></tr>";
    };
    for (const auto& s : r.classes) row(s, false);
    row(r.all, true);
    o << "</table>";
    return o.str();
}

inline std::string html_windows(const Report& r, int n) {
    const std::size_t L = r.options.max_length, S = r.options.stride;
    std::ostringstream o;
    o << "<section id=\"windows\"><h2>" << n << " · Windows per text at max_length " << L << ", stride " << S
      << (r.setting_given ? " (your setting)" : " (the recommendation)") << "</h2><p class=\"what\">A text of n tokens is "
         "cut into windows of up to " << L - 2 << " tokens between [CLS] and [SEP]; consecutive windows overlap by " << S
      << " tokens. Training sees every window as an example; evaluation averages the window logits per text. The total "
         "is what an epoch costs. Set the setting with <code>rgrid-eda --max-length L --stride S</code> (default: the "
         "recommendation).</p>"
      << windows_table(r, 0)
      << small_multiples(r, [](const ClassStats& c) -> const Histogram& { return c.windows[0].hist; },
                         "windows per text", 2, "> 1 window");
    if (r.all.windows.size() > 1)
        o << "<h3>For comparison: max_length " << kReferenceMaxLength << ", stride " << kReferenceStride << "</h3>"
          << windows_table(r, 1);
    o << "</section>\n";
    return o.str();
}

inline std::string html_samples(const Report& r, int n) {
    std::ostringstream o;
    o << "<section id=\"samples\"><h2>" << n << " · Example texts</h2><p class=\"what\">The shortest, median and longest "
         "text of each class by " << (r.has_tokens ? "WordPiece tokens" : "words") << ", cut after "
      << r.options.sample_chars << " characters. Read them: they show what the model will see (headers, quoting, "
         "signatures) better than any number.</p><table class=\"samples\"><tr><th>label</th><th>which</th><th>row</th>"
         "<th class=\"n\">" << (r.has_tokens ? "tokens" : "words") << "</th><th>text</th></tr>";
    for (std::size_t k = 0; k < r.classes.size(); ++k)
        for (const auto& s : r.classes[k].samples)
            o << "<tr><td>" << swatch(k) << esc(r.classes[k].label) << "</td><td>" << s.which << "</td><td class=\"n\">"
              << s.row << "</td><td class=\"n\">" << num(static_cast<double>(s.length)) << "</td><td><pre class=\"sample\">"
              << esc(s.text) << (s.truncated ? "<span class=\"more\"> … (cut)</span>" : "") << "</pre></td></tr>";
    o << "</table></section>\n";
    return o.str();
}

inline std::string html_terms(const Report& r, int n) {
    std::ostringstream o;
    o << "<section id=\"terms\"><h2>" << n << " · Distinctive terms per class</h2><p class=\"what\">Words (3–20 letters, "
         "lower-cased, common English stop words left out) that mark a class: found in many of its texts and in few of the "
         "other classes' texts (ranked by (p<sub>class</sub> − p<sub>others</sub>) · log<sub>2</sub> of their ratio). The "
         "coloured bar is the share of the class's texts containing the word, the grey bar the share of the other texts. "
         "<span class=\"warn\">⚠</span> (row shaded; hover for the reason) marks words that look like where a text came from rather than what it "
         "says: mailing-list and footer words, or words in many texts of one class and almost none of the others (list "
         "names, headers). A model can learn such a source marker instead of the content.</p><div class=\"terms\">";
    for (std::size_t k = 0; k < r.classes.size(); ++k) {
        const auto& s = r.classes[k];
        o << "<div><h3>" << swatch(k) << esc(s.label) << "</h3><table><tr><th>term</th><th></th><th class=\"n\">in class</th>"
             "<th class=\"n\">in others</th><th></th></tr>";
        for (const auto& t : s.top_terms) {
            o << "<tr" << (t.leakage.empty() ? "" : " class=\"leak\"") << "><td>" << esc(t.term) << "</td><td";
            if (!t.leakage.empty()) o << " class=\"warn\" title=\"leakage? " << esc(t.leakage) << "\">⚠";
            else o << '>';
            o << "</td><td class=\"n\">" << pct(t.share_in_class) << "</td><td class=\"n\">" << pct(t.share_elsewhere)
              << "</td><td><span class=\"bar\" style=\"width:" << fixed(90 * t.share_in_class, 1) << "px;background:"
              << class_color(k) << "\"></span><span class=\"bar\" style=\"width:" << fixed(90 * t.share_elsewhere, 1)
              << "px;background:#b8bec8\"></span></td></tr>";
        }
        if (s.top_terms.empty())
            o << "<tr><td colspan=\"5\">(no term occurs in 3+ texts of this class more often than elsewhere)</td></tr>";
        o << "</table></div>";
    }
    o << "</div></section>\n";
    return o.str();
}

inline std::string html_near_duplicates(const Report& r, int n) {
    std::ostringstream o;
    o << "<section id=\"near-duplicates\"><h2>" << n << " · Near-duplicate groups</h2><p class=\"what\">Texts with the "
         "same letters once digits, punctuation and spacing are ignored (template mail, re-sends): "
      << num(static_cast<double>(r.near_duplicate_groups_total)) << " group(s) holding "
      << num(static_cast<double>(r.all.near_duplicates + r.near_duplicate_groups_total)) << " texts";
    if (r.near_duplicate_groups_total > r.near_duplicate_groups.size())
        o << "; the " << r.near_duplicate_groups.size() << " largest are listed (all are in eda.json's count)";
    o << ". Rows are 0-based positions in clean.csv. A group split across train and test inflates the test score; "
         "<code>rgrid-split --group-near-duplicates</code> keeps each group in one part.</p>";
    if (r.near_duplicate_groups.empty()) {
        o << "<p>No near-duplicates.</p></section>\n";
        return o.str();
    }
    o << "<table><tr><th class=\"n\">texts</th><th>labels</th><th>rows</th><th>text (start)</th></tr>";
    for (const auto& g : r.near_duplicate_groups) {
        std::string labels = join(g.labels), rows = join(g.rows);
        if (g.size > g.rows.size()) rows += ", …";
        o << "<tr><td class=\"n\">" << g.size << "</td><td" << (g.labels.size() > 1 ? " class=\"warn\"" : "") << ">"
          << esc(labels) << "</td><td>" << rows << "</td><td>" << esc(g.preview) << "</td></tr>";
    }
    o << "</table></section>\n";
    return o.str();
}

inline std::string html_cleaning(const Report& r, int n) {
    const auto& c = r.cleaning;
    std::vector<Bar> bars;
    auto add = [&](const std::string& label, std::size_t rows, const char* color, const std::string& extra) {
        const double share = c.rows_in ? static_cast<double>(rows) / static_cast<double>(c.rows_in) : 0;
        bars.push_back({label, num(static_cast<double>(rows)) + " rows (" + pct(share) + ")" + extra, color, "", share});
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
    std::ostringstream o;
    o << "<section id=\"cleaning\"><h2>" << n << " · Cleaning tally</h2><p class=\"what\">What rgrid-eda changed to "
         "produce clean.csv (" << num(static_cast<double>(c.rows_in)) << " rows in, " << num(static_cast<double>(c.rows_out))
      << " out). Rows affected by each step, as a share of the rows read. Red: rows removed; orange: reported but kept; "
         "blue: rows edited; purple: encoding repairs (invalid bytes replaced while reading, and kept texts that contain "
         "U+FFFD).</p>"
      << hbar_svg(bars, "cleaning tally", "share of rows read (%)");
    if (!c.conflicts.empty()) {
        o << "<h3>Texts with conflicting labels</h3><table><tr><th>text (start)</th><th>labels</th><th>lines</th></tr>";
        for (const auto& d : c.conflicts)
            o << "<tr><td>" << esc(d.preview) << "</td><td>" << esc(join(d.labels)) << "</td><td>" << join(d.lines)
              << "</td></tr>";
        o << "</table>";
    }
    o << "</section>\n";
    return o.str();
}

inline std::string html_content(const Report& r, int n) {
    std::ostringstream o;
    o << "<section id=\"content\"><h2>" << n << " · Content checks</h2><p class=\"what\">Per class: very short texts "
         "(little signal); near-duplicates (texts repeating an earlier text's letters, see the groups above); texts with "
         "non-ASCII and with Chinese/Japanese/Korean characters; texts containing U+FFFD (undecodable bytes); texts that "
         "WordPiece maps partly to [UNK] (overlong words, symbols outside the vocabulary).</p><table><tr><th>label</th>"
         "<th class=\"n\">texts under " << r.options.short_words << " words</th><th class=\"n\">near-duplicates</th>"
         "<th class=\"n\">non-ASCII</th><th class=\"n\">CJK</th><th class=\"n\">with U+FFFD</th>"
      << (r.has_tokens ? "<th class=\"n\">texts with [UNK]</th><th class=\"n\">[UNK] tokens</th>" : "") << "</tr>";
    auto cell = [&](std::size_t v) { o << "<td class=\"n\">" << num(static_cast<double>(v)) << "</td>"; };
    auto row = [&](const ClassStats& s) {
        o << "<tr><td>" << esc(s.label) << "</td>";
        for (auto v : {s.short_texts, s.near_duplicates, s.non_ascii_texts, s.cjk_texts, s.replacement_char_texts}) cell(v);
        if (r.has_tokens) { cell(s.texts_with_unk); cell(s.unk_tokens); }
        o << "</tr>";
    };
    for (const auto& s : r.classes) row(s);
    row(r.all);
    o << "</table></section>\n";
    return o.str();
}

}  // namespace detail

/// The report as one self-contained HTML page (inline CSS + SVG, no scripts, no network).
inline std::string to_html(const Report& r) {
    using namespace detail;
    int n = 0;
    std::string page = html_head(r) + html_cards(r) + html_recommendations(r);  // numbered sections follow
    page += html_classes(r, ++n);
    if (r.has_tokens) page += html_tokens(r, ++n);
    page += html_words(r, ++n);
    page += html_lengths(r, ++n);
    if (r.has_tokens) page += html_windows(r, ++n);
    page += html_samples(r, ++n);
    page += html_terms(r, ++n);
    page += html_near_duplicates(r, ++n);
    page += html_cleaning(r, ++n);
    page += html_content(r, ++n);
    return page + "<footer>Every number here is also in eda.json. The page is self-contained: no scripts, no network. "
                  "Hover a bar for its exact count.</footer></main></body></html>\n";
}

}  // namespace rgrid::eda
