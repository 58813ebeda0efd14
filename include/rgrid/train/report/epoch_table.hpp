#pragma once
// The per-epoch table Hugging Face's Trainer shows in a notebook, as aligned text:
//   Epoch | Training Loss | Validation Loss | Accuracy | Precision | Recall | F1
// and the over-fitting check on its rows (validation loss rising while training loss falls).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "rgrid/core/error.hpp"

namespace rgrid {

/// One row of the epoch table (metrics are document-level, weighted averages; macro_f1 is
/// plotted in curves.svg, not printed in the table).
struct EpochRow {
    std::size_t epoch = 0;
    double training_loss = 0, validation_loss = 0, accuracy = 0, precision = 0, recall = 0, f1 = 0;
    double macro_f1 = NAN;
};

/// Over-fitting: the first run of rows [first, last] (last − first ≥ 2) over which validation
/// loss rose at every evaluation while training loss fell, extended as long as both go on;
/// nullopt when validation loss never rose for two evaluations in a row while training loss fell.
/// Example: validation 0.5, 0.4, 0.45, 0.5 with training 0.9, 0.6, 0.4, 0.3 → rows {1, 3}.
inline std::optional<std::pair<std::size_t, std::size_t>> overfitting_span(const std::vector<EpochRow>& rows) {
    auto diverges = [&](std::size_t i) {  // from row i − 1 to row i
        const EpochRow &a = rows[i - 1], &b = rows[i];
        return std::isfinite(a.validation_loss) && std::isfinite(b.validation_loss) && std::isfinite(a.training_loss) &&
               std::isfinite(b.training_loss) && b.validation_loss > a.validation_loss && b.training_loss < a.training_loss;
    };
    for (std::size_t i = 2; i < rows.size(); ++i) {
        if (!diverges(i - 1) || !diverges(i)) continue;
        std::size_t last = i;
        while (last + 1 < rows.size() && diverges(last + 1)) ++last;
        return std::make_pair(i - 2, last);
    }
    return std::nullopt;
}

/// The warning for an over-fitting span of `rows` (see overfitting_span), one line.
inline std::string overfitting_note(const std::vector<EpochRow>& rows, std::pair<std::size_t, std::size_t> span) {
    const EpochRow &a = rows[span.first], &b = rows[span.second];
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  "Over-fitting: validation loss rose for %zu evaluations (epoch %zu to %zu: %.4f -> %.4f) while "
                  "training loss fell (%.4f -> %.4f)",
                  span.second - span.first, a.epoch, b.epoch, a.validation_loss, b.validation_loss, a.training_loss,
                  b.training_loss);
    return buf;
}

/// Prints the header once, then one aligned row per epoch, to a stream the program supplies.
/// Example: `EpochTable t(std::cout); t.row({1, 0.91, 0.62, 0.80, 0.79, 0.80, 0.79});`
class EpochTable {
public:
    explicit EpochTable(std::ostream& os) : os_(os) {}

    static const std::vector<std::string>& columns() {
        static const std::vector<std::string> c{"Epoch", "Training Loss", "Validation Loss", "Accuracy",
                                                "Precision", "Recall", "F1"};
        return c;
    }
    /// "Epoch | Training Loss | ... | F1"
    static std::string header_line() {
        std::string s;
        for (std::size_t i = 0; i < columns().size(); ++i) s += (i ? " | " : "") + columns()[i];
        return s;
    }
    /// One row aligned under header_line().
    static std::string format_row(const EpochRow& r) {
        const double v[] = {r.training_loss, r.validation_loss, r.accuracy, r.precision, r.recall, r.f1};
        std::string s = pad(std::to_string(r.epoch), columns()[0].size());
        char buf[32];
        for (std::size_t i = 0; i < 6; ++i) {
            std::snprintf(buf, sizeof buf, "%.6f", v[i]);
            s += " | " + pad(buf, columns()[i + 1].size());
        }
        // trailing spaces of the last column are noise
        while (!s.empty() && s.back() == ' ') s.pop_back();
        return s;
    }
    void row(const EpochRow& r) {
        if (!header_done_) {
            os_ << header_line() << '\n';
            header_done_ = true;
        }
        os_ << format_row(r) << '\n' << std::flush;
    }
    /// A line under the table ("  warning: ..."), e.g. the over-fitting note.
    void note(const std::string& text) { os_ << "  warning: " << text << '\n' << std::flush; }

private:
    static std::string pad(const std::string& s, std::size_t w) {
        return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
    }
    std::ostream& os_;
    bool header_done_ = false;
};

}  // namespace rgrid
