#pragma once
// eda.json: every number of an eda::Report, machine-readable. `recommendation` is what a
// training script reads: max_length, stride, use_class_weights, max_windows_cap and
// finetune_args (the rgrid-finetune options that apply them).
#include <string>
#include <vector>

#include "rgrid/data/eda.hpp"

namespace rgrid::eda {

namespace detail {

inline json summary_json(const Summary& s) {
    return json{{"min", s.min}, {"p25", s.p25}, {"median", s.median}, {"p75", s.p75}, {"p90", s.p90},
                {"p99", s.p99}, {"max", s.max}, {"mean", s.mean}};
}

inline json histogram_json(const Histogram& h) { return json{{"edges", h.edges}, {"counts", h.counts}}; }

inline json windows_json(const WindowStats& w, std::size_t rows) {
    return json{{"max_length", w.max_length}, {"stride", w.stride}, {"over_limit", w.over_limit},
                {"share_over_limit", rows ? static_cast<double>(w.over_limit) / static_cast<double>(rows) : 0.0},
                {"windows", w.windows}, {"max_windows", w.max_windows}, {"histogram", histogram_json(w.hist)}};
}

inline json class_json(const ClassStats& c, bool has_tokens) {
    json j{{"label", c.label}, {"rows", c.rows}, {"share", c.share}, {"chars", summary_json(c.chars)},
           {"words", summary_json(c.words)}, {"words_histogram", histogram_json(c.word_hist)},
           {"short_texts", c.short_texts}, {"near_duplicates", c.near_duplicates},
           {"non_ascii_texts", c.non_ascii_texts}, {"cjk_texts", c.cjk_texts},
           {"replacement_char_texts", c.replacement_char_texts}};
    if (has_tokens) {
        j["tokens"] = summary_json(c.tokens);
        j["tokens_histogram"] = histogram_json(c.token_hist);
        if (!c.windows.empty()) {  // the flat keys are the analysis setting (windows_by_setting[0])
            const json w0 = windows_json(c.windows[0], c.rows);
            for (const char* k : {"over_limit", "share_over_limit", "windows", "max_windows"}) j[k] = w0[k];
            j["windows_histogram"] = w0["histogram"];
        }
        json by = json::array();
        for (const auto& w : c.windows) by.push_back(windows_json(w, c.rows));
        j["windows_by_setting"] = by;
        j["unk_tokens"] = c.unk_tokens;
        j["texts_with_unk"] = c.texts_with_unk;
    }
    if (c.label != "all" || !c.top_terms.empty()) {
        json terms = json::array();
        for (const auto& t : c.top_terms) {
            json tj{{"term", t.term}, {"docs", t.docs}, {"share_in_class", t.share_in_class},
                    {"share_elsewhere", t.share_elsewhere}, {"leakage", !t.leakage.empty()}};
            if (!t.leakage.empty()) tj["leakage_reason"] = t.leakage;
            terms.push_back(tj);
        }
        j["top_terms"] = terms;
    }
    if (c.label != "all") {
        json samples = json::array();
        for (const auto& s : c.samples)
            samples.push_back({{"which", s.which}, {"row", s.row}, {"length", s.length}, {"text", s.text},
                               {"truncated", s.truncated}});
        j["samples"] = samples;
    }
    return j;
}

inline json cleaning_json(const CleanReport& c) {
    json conflicts = json::array();
    for (const auto& d : c.conflicts) conflicts.push_back({{"preview", d.preview}, {"labels", d.labels}, {"lines", d.lines}});
    return {{"rows_in", c.rows_in}, {"rows_out", c.rows_out}, {"empty_text_dropped", c.empty_text_dropped},
            {"empty_label_dropped", c.empty_label_dropped}, {"exact_duplicates_dropped", c.exact_duplicates_dropped},
            {"conflict_rows_dropped", c.conflict_rows_dropped}, {"conflicting_texts", c.conflicting_texts},
            {"conflicting_rows", c.conflicting_rows}, {"conflicts", conflicts},
            {"whitespace_changed_rows", c.whitespace_changed_rows}, {"control_chars_removed", c.control_chars_removed},
            {"control_char_rows", c.control_char_rows}, {"labels_trimmed", c.labels_trimmed},
            {"utf8_repairs", c.utf8_repairs}, {"utf8_repaired_rows", c.utf8_repaired_rows},
            {"replacement_char_rows", c.replacement_char_rows}};
}

inline json near_duplicates_json(const Report& r) {
    json groups = json::array();
    for (const auto& g : r.near_duplicate_groups)
        groups.push_back({{"size", g.size}, {"rows", g.rows}, {"labels", g.labels}, {"preview", g.preview}});
    return {{"groups_total", r.near_duplicate_groups_total}, {"texts", r.all.near_duplicates}, {"groups", groups}};
}

inline json recommendation_json(const Report& r) {
    const Recommendation& rec = r.recommendation;
    json weights = json::object();
    for (std::size_t k = 0; k < rec.class_weights.size() && k < r.label_names.size(); ++k)
        weights[r.label_names[k]] = rec.class_weights[k];
    return {{"max_length", rec.max_length}, {"stride", rec.stride}, {"fit_share", rec.fit_share},
            {"total_windows", rec.total_windows}, {"max_windows_cap", rec.p99_windows}, {"imbalance", rec.imbalance},
            {"use_class_weights", rec.use_class_weights}, {"class_weights", weights},
            {"finetune_args", finetune_args(r)}, {"notes", rec.notes}};
}

}  // namespace detail

/// Machine-readable report (every number of the Report).
inline json to_json(const Report& r) {
    json j{{"input", r.input}, {"text_col", r.text_col}, {"label_col", r.label_col}, {"vocab", r.vocab},
           {"rows", r.rows}, {"label_names", r.label_names},
           {"options", {{"max_length", r.options.max_length}, {"stride", r.options.stride},
                        {"token_limit", r.options.max_length - 2},
                        {"source", r.setting_given ? "given" : "recommendation"}}},
           {"cleaning", detail::cleaning_json(r.cleaning)}};
    json classes = json::array();
    for (const auto& k : r.classes) classes.push_back(detail::class_json(k, r.has_tokens));
    j["classes"] = classes;
    j["all"] = detail::class_json(r.all, r.has_tokens);
    j["near_duplicates"] = detail::near_duplicates_json(r);
    j["recommendation"] = detail::recommendation_json(r);
    return j;
}

}  // namespace rgrid::eda
