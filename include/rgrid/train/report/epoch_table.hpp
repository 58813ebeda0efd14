#pragma once
// The per-epoch table Hugging Face's Trainer shows in a notebook, as aligned text:
//   Epoch | Training Loss | Validation Loss | Accuracy | Precision | Recall | F1
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"

namespace rgrid {

/// One row of the epoch table (metrics are document-level, weighted averages).
struct EpochRow {
    std::size_t epoch = 0;
    double training_loss = 0, validation_loss = 0, accuracy = 0, precision = 0, recall = 0, f1 = 0;
};

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

private:
    static std::string pad(const std::string& s, std::size_t w) {
        return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
    }
    std::ostream& os_;
    bool header_done_ = false;
};

}  // namespace rgrid
