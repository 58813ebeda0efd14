#pragma once
// Training curves as one self-contained SVG (no scripts, no fonts, no network): stacked
// panels, each with axes, ticks, a legend and one polyline (plus dots) per series.
// Opens in any browser; the Trainer writes DIR/curves.svg after every evaluation.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"

namespace rgrid {

/// One named line: points (x[i], y[i]).
struct CurveSeries {
    std::string name;
    std::vector<double> x, y;
};
/// One panel: a title, an x-axis label and its series.
struct CurvePanel {
    std::string title, x_label;
    std::vector<CurveSeries> series;
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
}  // namespace detail

/// The panels as an SVG document (pure: no file access).
/// Example: `std::string svg = curves_svg({{"loss", "step", {{"train", {1, 2}, {0.9, 0.7}}}}});`
inline std::string curves_svg(const std::vector<CurvePanel>& panels, double width = 720, double panel_h = 260) {
    static const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};
    const double ml = 60, mr = 150, mt = 30, mb = 40;
    const double height = panel_h * double(std::max<std::size_t>(panels.size(), 1));
    std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + detail::svg_num(width) + "\" height=\"" +
                    detail::svg_num(height) + "\" viewBox=\"0 0 " + detail::svg_num(width) + " " +
                    detail::svg_num(height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    for (std::size_t p = 0; p < panels.size(); ++p) {
        const auto& panel = panels[p];
        const double top = double(p) * panel_h;
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
        if (xmax == xmin) xmax = xmin + 1;
        if (ymax == ymin) ymax = ymin + 1;
        const double pad = 0.05 * (ymax - ymin);
        ymin -= pad;
        ymax += pad;
        auto sx = [&](double x) { return x0 + (x - xmin) / (xmax - xmin) * (x1 - x0); };
        auto sy = [&](double y) { return y1 - (y - ymin) / (ymax - ymin) * (y1 - y0); };
        s += "<text x=\"" + detail::svg_num(x0) + "\" y=\"" + detail::svg_num(top + 18) +
             "\" font-size=\"13\" font-weight=\"bold\">" + detail::xml_escape(panel.title) + "</text>\n";
        s += "<rect x=\"" + detail::svg_num(x0) + "\" y=\"" + detail::svg_num(y0) + "\" width=\"" +
             detail::svg_num(x1 - x0) + "\" height=\"" + detail::svg_num(y1 - y0) +
             "\" fill=\"none\" stroke=\"#888\"/>\n";
        for (int t = 0; t <= 4; ++t) {  // 5 ticks per axis, with light grid lines
            const double fy = ymin + (ymax - ymin) * t / 4.0, fx = xmin + (xmax - xmin) * t / 4.0;
            s += "<line x1=\"" + detail::svg_num(x0) + "\" x2=\"" + detail::svg_num(x1) + "\" y1=\"" +
                 detail::svg_num(sy(fy)) + "\" y2=\"" + detail::svg_num(sy(fy)) + "\" stroke=\"#eee\"/>\n";
            s += "<text x=\"" + detail::svg_num(x0 - 4) + "\" y=\"" + detail::svg_num(sy(fy) + 4) +
                 "\" text-anchor=\"end\">" + detail::svg_num(fy) + "</text>\n";
            s += "<text x=\"" + detail::svg_num(sx(fx)) + "\" y=\"" + detail::svg_num(y1 + 14) +
                 "\" text-anchor=\"middle\">" + detail::svg_num(fx) + "</text>\n";
        }
        s += "<text x=\"" + detail::svg_num((x0 + x1) / 2) + "\" y=\"" + detail::svg_num(y1 + 30) +
             "\" text-anchor=\"middle\">" + detail::xml_escape(panel.x_label) + "</text>\n";
        for (std::size_t k = 0; k < panel.series.size(); ++k) {
            const auto& se = panel.series[k];
            const char* c = colors[k % 6];
            std::string pts;
            for (std::size_t i = 0; i < se.x.size(); ++i)
                if (std::isfinite(se.x[i]) && std::isfinite(se.y[i]))
                    pts += detail::svg_num(sx(se.x[i])) + "," + detail::svg_num(sy(se.y[i])) + " ";
            s += "<polyline fill=\"none\" stroke=\"" + std::string(c) + "\" stroke-width=\"1.5\" points=\"" + pts +
                 "\"/>\n";
            if (se.x.size() <= 60)
                for (std::size_t i = 0; i < se.x.size(); ++i)
                    if (std::isfinite(se.x[i]) && std::isfinite(se.y[i]))
                        s += "<circle cx=\"" + detail::svg_num(sx(se.x[i])) + "\" cy=\"" + detail::svg_num(sy(se.y[i])) +
                             "\" r=\"2.5\" fill=\"" + c + "\"/>\n";
            const double ly = y0 + 14 + 16 * double(k);
            s += "<line x1=\"" + detail::svg_num(x1 + 10) + "\" x2=\"" + detail::svg_num(x1 + 30) + "\" y1=\"" +
                 detail::svg_num(ly - 4) + "\" y2=\"" + detail::svg_num(ly - 4) + "\" stroke=\"" + c +
                 "\" stroke-width=\"2\"/>\n";
            s += "<text x=\"" + detail::svg_num(x1 + 34) + "\" y=\"" + detail::svg_num(ly) + "\">" +
                 detail::xml_escape(se.name) + "</text>\n";
        }
    }
    return s + "</svg>\n";
}

/// Writes curves_svg(panels) to `path`.
inline void write_curves_svg(const std::string& path, const std::vector<CurvePanel>& panels) {
    std::ofstream f(path, std::ios::trunc);
    RGRID_CHECK(f.good(), "write_curves_svg: cannot open '", path, "' for writing");
    f << curves_svg(panels);
    RGRID_CHECK(f.good(), "write_curves_svg: write to '", path, "' failed");
}

}  // namespace rgrid
