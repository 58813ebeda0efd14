#pragma once
// Training curves as one self-contained SVG (no scripts, no fonts, no network): stacked
// panels, each with round tick values (integer ticks for epochs; the y-axis ends on ticks,
// the x-axis spans the data), axis labels, a
// legend, one polyline (plus dots) per series, and optional notes and a shaded x-range
// (the over-fitting warning). Opens in any browser; the Trainer writes DIR/curves.svg after
// every evaluation, from training_curve_panels().
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/train/report/epoch_table.hpp"

namespace rgrid {

/// One named line: points (x[i], y[i]).
struct CurveSeries {
    std::string name;
    std::vector<double> x, y;
};
/// One panel: a title, an x-axis label and its series; optionally a y-axis label, integer
/// x ticks, notes printed under the title (in red) and an x-range shaded red.
struct CurvePanel {
    std::string title, x_label;
    std::vector<CurveSeries> series;
    std::string y_label;
    bool integer_x = false;
    std::vector<std::string> notes;
    double shade_x0 = NAN, shade_x1 = NAN;
};

namespace detail {
inline std::string xml_escape(const std::string& in) {
    std::string o;
    for (char c : in) {
        if (c == '<') o += "&lt;";
        else if (c == '>') o += "&gt;";
        else if (c == '&') o += "&amp;";
        else if (c == '"') o += "&quot;";
        else o += c;
    }
    return o;
}
inline std::string svg_num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.4g", v);
    return b;
}

/// Round ticks covering [lo, hi]: a step of 1, 2, 2.5 or 5 × 10^k giving about `target`
/// intervals (an integer step ≥ 1 when `integer`); the first/last tick enclose the range.
struct Ticks {
    double first = 0, step = 1;
    int count = 1;  ///< ticks first, first + step, …
};
inline Ticks nice_ticks(double lo, double hi, bool integer, int target = 4) {
    if (!(hi > lo)) hi = lo + 1;
    const double raw = (hi - lo) / target;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = 10 * mag;
    for (double m : {1.0, 2.0, 2.5, 5.0})
        if (m * mag >= raw) { step = m * mag; break; }
    if (integer) step = std::max(1.0, std::ceil(step));
    Ticks t;
    t.step = step;
    t.first = std::floor(lo / step + 1e-9) * step;
    const double last = std::ceil(hi / step - 1e-9) * step;
    t.count = static_cast<int>(std::llround((last - t.first) / step)) + 1;
    return t;
}

/// `text` broken at spaces into lines of at most `width` characters (a longer word stays whole).
inline std::vector<std::string> wrap_words(const std::string& text, std::size_t width) {
    std::vector<std::string> lines;
    std::string line, word;
    auto flush_word = [&] {
        if (word.empty()) return;
        if (!line.empty() && line.size() + 1 + word.size() > width) lines.push_back(std::move(line)), line.clear();
        line += (line.empty() ? "" : " ") + word;
        word.clear();
    };
    for (char c : text) {
        if (c == ' ') flush_word();
        else word += c;
    }
    flush_word();
    if (!line.empty()) lines.push_back(line);
    return lines;
}
}  // namespace detail

/// The panels as an SVG document (pure: no file access).
/// Example: `std::string svg = curves_svg({{"loss", "step", {{"train", {1, 2}, {0.9, 0.7}}}}});`
inline std::string curves_svg(const std::vector<CurvePanel>& panels, double width = 720, double panel_h = 260) {
    using detail::svg_num;
    static const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};
    const double ml = 66, mr = 150, mb = 40;
    const double height = panel_h * double(std::max<std::size_t>(panels.size(), 1));
    std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + svg_num(width) + "\" height=\"" +
                    svg_num(height) + "\" viewBox=\"0 0 " + svg_num(width) + " " + svg_num(height) +
                    "\" font-family=\"sans-serif\" font-size=\"11\">\n";
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    for (std::size_t p = 0; p < panels.size(); ++p) {
        const auto& panel = panels[p];
        std::vector<std::string> notes;  // wrapped to the plot's width (about 6.5 px per character)
        for (const auto& n : panel.notes)
            for (auto& l : detail::wrap_words(n, std::size_t((width - ml) / 6.5))) notes.push_back(std::move(l));
        const double top = double(p) * panel_h, mt = 30 + 14 * double(notes.size());
        const double x0 = ml, x1 = width - mr, y0 = top + mt, y1 = top + panel_h - mb;
        double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
        for (const auto& se : panel.series) {
            RGRID_CHECK(se.x.size() == se.y.size(), "curves_svg: series '", se.name, "' has ", se.x.size(),
                        " x values but ", se.y.size(), " y values");
            for (std::size_t i = 0; i < se.x.size(); ++i) {
                if (!std::isfinite(se.x[i]) || !std::isfinite(se.y[i])) continue;
                xmin = std::min(xmin, se.x[i]);
                xmax = std::max(xmax, se.x[i]);
                ymin = std::min(ymin, se.y[i]);
                ymax = std::max(ymax, se.y[i]);
            }
        }
        if (!std::isfinite(xmin)) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
        if (ymax == ymin) ymin -= 0.5 * std::max(std::abs(ymin), 1e-3), ymax += 0.5 * std::max(std::abs(ymax), 1e-3);
        if (panel.integer_x && xmax - xmin < 1) xmin = std::floor(xmin), xmax = xmin + 1;
        if (xmax == xmin) xmax = xmin + 1;
        const detail::Ticks xt = detail::nice_ticks(xmin, xmax, panel.integer_x), yt = detail::nice_ticks(ymin, ymax, false);
        ymin = yt.first, ymax = yt.first + yt.step * (yt.count - 1);  // y: the axis ends on round ticks
        auto sx = [&](double x) { return x0 + (x - xmin) / (xmax - xmin) * (x1 - x0); };
        auto sy = [&](double y) { return y1 - (y - ymin) / (ymax - ymin) * (y1 - y0); };
        s += "<text x=\"" + svg_num(x0) + "\" y=\"" + svg_num(top + 18) + "\" font-size=\"13\" font-weight=\"bold\">" +
             detail::xml_escape(panel.title) + "</text>\n";
        for (std::size_t n = 0; n < notes.size(); ++n)
            s += "<text x=\"" + svg_num(x0) + "\" y=\"" + svg_num(top + 32 + 14 * double(n)) +
                 "\" fill=\"#c0392b\" font-weight=\"bold\">" + detail::xml_escape(notes[n]) + "</text>\n";
        if (std::isfinite(panel.shade_x0) && std::isfinite(panel.shade_x1))
            s += "<rect x=\"" + svg_num(sx(panel.shade_x0)) + "\" y=\"" + svg_num(y0) + "\" width=\"" +
                 svg_num(sx(panel.shade_x1) - sx(panel.shade_x0)) + "\" height=\"" + svg_num(y1 - y0) +
                 "\" fill=\"#c0392b\" fill-opacity=\"0.10\"/>\n";
        s += "<rect x=\"" + svg_num(x0) + "\" y=\"" + svg_num(y0) + "\" width=\"" + svg_num(x1 - x0) + "\" height=\"" +
             svg_num(y1 - y0) + "\" fill=\"none\" stroke=\"#888\"/>\n";
        for (int t = 0; t < yt.count; ++t) {  // round y ticks with light grid lines
            const double fy = yt.first + yt.step * t;
            s += "<line x1=\"" + svg_num(x0) + "\" x2=\"" + svg_num(x1) + "\" y1=\"" + svg_num(sy(fy)) + "\" y2=\"" +
                 svg_num(sy(fy)) + "\" stroke=\"#eee\"/>\n<text x=\"" + svg_num(x0 - 4) + "\" y=\"" +
                 svg_num(sy(fy) + 4) + "\" text-anchor=\"end\">" + svg_num(fy) + "</text>\n";
        }
        for (int t = 0; t < xt.count; ++t) {  // x: the data range, round ticks inside it
            const double fx = xt.first + xt.step * t;
            if (fx < xmin - 1e-9 * xt.step || fx > xmax + 1e-9 * xt.step) continue;
            s += "<line x1=\"" + svg_num(sx(fx)) + "\" x2=\"" + svg_num(sx(fx)) + "\" y1=\"" + svg_num(y1) + "\" y2=\"" +
                 svg_num(y1 + 4) + "\" stroke=\"#888\"/>\n<text x=\"" + svg_num(sx(fx)) + "\" y=\"" + svg_num(y1 + 15) +
                 "\" text-anchor=\"middle\">" + svg_num(fx) + "</text>\n";
        }
        s += "<text x=\"" + svg_num((x0 + x1) / 2) + "\" y=\"" + svg_num(y1 + 31) + "\" text-anchor=\"middle\">" +
             detail::xml_escape(panel.x_label) + "</text>\n";
        if (!panel.y_label.empty())
            s += "<text transform=\"translate(" + svg_num(14) + "," + svg_num((y0 + y1) / 2) +
                 ") rotate(-90)\" text-anchor=\"middle\">" + detail::xml_escape(panel.y_label) + "</text>\n";
        for (std::size_t k = 0; k < panel.series.size(); ++k) {
            const auto& se = panel.series[k];
            const char* c = colors[k % 6];
            std::string pts;
            for (std::size_t i = 0; i < se.x.size(); ++i)
                if (std::isfinite(se.x[i]) && std::isfinite(se.y[i]))
                    pts += svg_num(sx(se.x[i])) + "," + svg_num(sy(se.y[i])) + " ";
            s += "<polyline fill=\"none\" stroke=\"" + std::string(c) + "\" stroke-width=\"1.5\" points=\"" + pts +
                 "\"/>\n";
            if (se.x.size() <= 60)
                for (std::size_t i = 0; i < se.x.size(); ++i)
                    if (std::isfinite(se.x[i]) && std::isfinite(se.y[i]))
                        s += "<circle cx=\"" + svg_num(sx(se.x[i])) + "\" cy=\"" + svg_num(sy(se.y[i])) +
                             "\" r=\"2.5\" fill=\"" + c + "\"/>\n";
            const double ly = y0 + 14 + 16 * double(k);
            s += "<line x1=\"" + svg_num(x1 + 10) + "\" x2=\"" + svg_num(x1 + 30) + "\" y1=\"" + svg_num(ly - 4) +
                 "\" y2=\"" + svg_num(ly - 4) + "\" stroke=\"" + c + "\" stroke-width=\"2\"/>\n";
            s += "<text x=\"" + svg_num(x1 + 34) + "\" y=\"" + svg_num(ly) + "\">" + detail::xml_escape(se.name) +
                 "</text>\n";
        }
    }
    return s + "</svg>\n";
}

/// The Trainer's three panels: training loss every `logging_steps` steps (loss_x = steps),
/// loss per epoch (train and validation, shaded and noted where overfitting_span finds
/// over-fitting) and validation accuracy, weighted F1 and macro F1 per epoch.
/// Example: `write_curves_svg("runs/x/curves.svg", training_curve_panels(trainer.history(), xs, ys, 50));`
inline std::vector<CurvePanel> training_curve_panels(const std::vector<EpochRow>& epochs,
                                                     const std::vector<double>& loss_x,
                                                     const std::vector<double>& loss_y, std::size_t logging_steps) {
    std::vector<double> ex, vl, tl, acc, f1, macro;
    for (const auto& e : epochs) {
        ex.push_back(double(e.epoch));
        tl.push_back(e.training_loss);
        vl.push_back(e.validation_loss);
        acc.push_back(e.accuracy);
        f1.push_back(e.f1);
        macro.push_back(e.macro_f1);
    }
    auto panel = [](std::string title, std::string x_label, std::vector<CurveSeries> series, std::string y_label,
                    bool integer_x) {
        CurvePanel p;
        p.title = std::move(title);
        p.x_label = std::move(x_label);
        p.series = std::move(series);
        p.y_label = std::move(y_label);
        p.integer_x = integer_x;
        return p;
    };
    CurvePanel step = panel("Training loss (every " + std::to_string(logging_steps) + " steps)", "optimizer step",
                            {{"train loss", loss_x, loss_y}}, "loss (cross-entropy)", false);
    CurvePanel per_epoch = panel("Loss per epoch", "epoch", {{"train loss", ex, tl}, {"validation loss", ex, vl}},
                                 "loss (cross-entropy)", true);
    if (const auto span = overfitting_span(epochs)) {
        per_epoch.notes.push_back(overfitting_note(epochs, *span));
        per_epoch.shade_x0 = double(epochs[span->first].epoch);
        per_epoch.shade_x1 = double(epochs[span->second].epoch);
    }
    CurvePanel metrics = panel("Validation metrics (documents)", "epoch",
                               {{"accuracy", ex, acc}, {"weighted F1", ex, f1}, {"macro F1", ex, macro}}, "score (0–1)",
                               true);
    return {step, per_epoch, metrics};
}

/// Writes curves_svg(panels) to `path`.
inline void write_curves_svg(const std::string& path, const std::vector<CurvePanel>& panels) {
    std::ofstream f(path, std::ios::trunc);
    RGRID_CHECK(f.good(), "write_curves_svg: cannot open '", path, "' for writing");
    f << curves_svg(panels);
    RGRID_CHECK(f.good(), "write_curves_svg: write to '", path, "' failed");
}

}  // namespace rgrid
