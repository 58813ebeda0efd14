#pragma once
// Example and Dataset: texts with string labels, and the label names in a stable order
// (the order that fixes class ids, config.json's id2label and every per-class table).
#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/data/csv.hpp"

namespace rgrid {

/// One labelled text. Example: `Example{.text = "Win a prize", .label = "spam"}`.
struct Example {
    std::string text;
    std::string label;
};

/// Texts and labels; label_names fixes the class ids (label_index).
/// Example:
///   Dataset ds = Dataset::from_csv("data/spamassassin.csv");   // label_names sorted
///   std::size_t k = ds.label_index("spam-1");                    // 3
struct Dataset {
    std::vector<Example> examples;
    std::vector<std::string> label_names;  ///< class id → name, stable order

    std::size_t size() const { return examples.size(); }
    std::size_t num_labels() const { return label_names.size(); }

    /// Class id of `label`; throws naming the label and the known ones.
    std::size_t label_index(const std::string& label) const {
        auto it = std::find(label_names.begin(), label_names.end(), label);
        if (it != label_names.end()) return static_cast<std::size_t>(it - label_names.begin());
        std::string known;
        for (const auto& n : label_names) known += (known.empty() ? "'" : ", '") + n + "'";
        throw Error(detail::concat("unknown label '", label, "' (known labels: ", known, ")"));
    }
    /// Class id of every example, in order.
    std::vector<std::size_t> label_ids() const {
        std::vector<std::size_t> ids;
        ids.reserve(examples.size());
        for (const auto& e : examples) ids.push_back(label_index(e.label));
        return ids;
    }
    /// Examples per class, indexed by class id.
    std::vector<std::size_t> class_counts() const {
        std::vector<std::size_t> counts(label_names.size(), 0);
        for (const auto& e : examples) ++counts[label_index(e.label)];
        return counts;
    }

    /// One example per table row (row i ↔ example i). `label_names` empty → the distinct
    /// labels sorted; otherwise that fixed order, and a label outside it is an error
    /// naming the label, the file and the line. An empty or whitespace-only label is an error too.
    static Dataset from_table(const CsvTable& t, const std::string& text_col = "text",
                              const std::string& label_col = "label", std::vector<std::string> label_names = {}) {
        const std::size_t tc = t.column(text_col), lc = t.column(label_col);
        Dataset ds;
        ds.examples.reserve(t.rows.size());
        const bool fixed = !label_names.empty();
        for (std::size_t r = 0; r < t.rows.size(); ++r) {
            const std::string& label = t.rows[r][lc];
            RGRID_CHECK(label.find_first_not_of(" \t\r\n") != std::string::npos, t.source, ":", t.row_line[r],
                        ": empty label in column '", label_col, "' (rgrid-eda's clean.csv drops such rows)");
            if (fixed && std::find(label_names.begin(), label_names.end(), label) == label_names.end()) {
                std::string known;
                for (const auto& n : label_names) known += (known.empty() ? "'" : ", '") + n + "'";
                throw Error(detail::concat(t.source, ":", t.row_line[r], ": unknown label '", label,
                                           "' (known labels: ", known, ")"));
            }
            ds.examples.push_back({t.rows[r][tc], label});
        }
        if (!fixed) {
            for (const auto& e : ds.examples) label_names.push_back(e.label);
            std::sort(label_names.begin(), label_names.end());
            label_names.erase(std::unique(label_names.begin(), label_names.end()), label_names.end());
        }
        ds.label_names = std::move(label_names);
        return ds;
    }

    /// Reads a CSV file with a text and a label column (chosen by name).
    static Dataset from_csv(const std::string& path, const std::string& text_col = "text",
                            const std::string& label_col = "label", std::vector<std::string> label_names = {}) {
        return from_table(read_csv(path), text_col, label_col, std::move(label_names));
    }

    /// The dataset as a two-column table (header text_col, label_col).
    CsvTable to_table(const std::string& text_col = "text", const std::string& label_col = "label") const {
        CsvTable t;
        t.header = {text_col, label_col};
        t.rows.reserve(examples.size());
        for (std::size_t i = 0; i < examples.size(); ++i) {
            t.rows.push_back({examples[i].text, examples[i].label});
            t.row_line.push_back(i + 2);
        }
        return t;
    }
};

}  // namespace rgrid
