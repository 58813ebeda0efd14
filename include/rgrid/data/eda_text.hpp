#pragma once
// eda::to_text: the terminal summary of an eda::Report (one line per class, the
// recommendation and its notes).
#include <cstdio>
#include <sstream>
#include <string>

#include "rgrid/data/eda.hpp"

namespace rgrid::eda {

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
        if (r.has_tokens && !s.windows.empty()) {
            const WindowStats& w = s.windows[0];
            std::snprintf(line, sizeof line, " %10s %10s %10s %8s %8s", num(s.tokens.median).c_str(),
                          num(s.tokens.p90).c_str(), num(s.tokens.max).c_str(),
                          pct(s.rows ? static_cast<double>(w.over_limit) / static_cast<double>(s.rows) : 0).c_str(),
                          num(static_cast<double>(w.windows)).c_str());
            o << line;
        }
        o << '\n';
    };
    for (const auto& s : r.classes) row(s);
    row(r.all);
    if (r.has_tokens)
        o << "(windows at max_length " << r.options.max_length << ", stride " << r.options.stride
          << (r.setting_given ? ", as given" : ", the recommendation") << ")\n";
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

}  // namespace rgrid::eda
