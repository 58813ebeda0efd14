#pragma once
// Classification metrics with scikit-learn semantics (zero_division=0): accuracy, per-class
// precision/recall/F1/support, weighted and macro averages, the confusion matrix and the
// text report. Labels are class indices in [0, K).
// sklearn: https://scikit-learn.org/stable/modules/generated/sklearn.metrics.precision_recall_fscore_support.html
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"

namespace rgrid::metrics {

/// How per-class scores are combined: weighted by support (sklearn `average='weighted'`) or
/// the unweighted mean over the labels present in y_true or y_pred (sklearn `average='macro'`).
enum class Average { Weighted, Macro };

/// Precision, recall and F1 of one class or one average.
struct Scores {
    double precision = 0, recall = 0, f1 = 0;
};

/// Per-class scores plus the class's support (number of true examples).
struct ClassScores {
    double precision = 0, recall = 0, f1 = 0;
    std::size_t support = 0;
};

/// Rows = true class, columns = predicted class (sklearn layout).
using ConfusionMatrix = std::vector<std::vector<std::size_t>>;

namespace detail {
inline void check_labels(const std::vector<std::int64_t>& y_true, const std::vector<std::int64_t>& y_pred,
                         std::size_t num_labels, const char* fn) {
    RGRID_CHECK(y_true.size() == y_pred.size(), "metrics::", fn, ": y_true has ", y_true.size(),
                " labels but y_pred has ", y_pred.size());
    for (std::size_t i = 0; i < y_true.size(); ++i) {
        RGRID_CHECK(y_true[i] >= 0 && static_cast<std::size_t>(y_true[i]) < num_labels, "metrics::", fn,
                    ": y_true[", i, "] = ", y_true[i], " is outside [0, ", num_labels, ")");
        RGRID_CHECK(y_pred[i] >= 0 && static_cast<std::size_t>(y_pred[i]) < num_labels, "metrics::", fn,
                    ": y_pred[", i, "] = ", y_pred[i], " is outside [0, ", num_labels, ")");
    }
}
inline double safe_div(double a, double b) { return b == 0 ? 0.0 : a / b; }  // zero_division=0
}  // namespace detail

/// Fraction of exact matches (0 for empty input).
/// Example: `metrics::accuracy({0, 1, 1}, {0, 1, 0})` → 0.667
inline double accuracy(const std::vector<std::int64_t>& y_true, const std::vector<std::int64_t>& y_pred) {
    RGRID_CHECK(y_true.size() == y_pred.size(), "metrics::accuracy: y_true has ", y_true.size(),
                " labels but y_pred has ", y_pred.size());
    std::size_t hit = 0;
    for (std::size_t i = 0; i < y_true.size(); ++i) hit += y_true[i] == y_pred[i];
    return detail::safe_div(static_cast<double>(hit), static_cast<double>(y_true.size()));
}

/// K×K counts, cm[true][pred].
/// Example: `auto cm = metrics::confusion_matrix(y_true, y_pred, 3); cm[2][0]` = class-2 examples predicted 0
inline ConfusionMatrix confusion_matrix(const std::vector<std::int64_t>& y_true,
                                        const std::vector<std::int64_t>& y_pred, std::size_t num_labels) {
    detail::check_labels(y_true, y_pred, num_labels, "confusion_matrix");
    ConfusionMatrix cm(num_labels, std::vector<std::size_t>(num_labels, 0));
    for (std::size_t i = 0; i < y_true.size(); ++i) ++cm[y_true[i]][y_pred[i]];
    return cm;
}

/// Per-class precision, recall, F1 and support from a confusion matrix (zero_division=0).
inline std::vector<ClassScores> per_class(const ConfusionMatrix& cm) {
    const std::size_t k = cm.size();
    std::vector<ClassScores> out(k);
    for (std::size_t c = 0; c < k; ++c) {
        RGRID_CHECK(cm[c].size() == k, "metrics::per_class: confusion matrix row ", c, " has ", cm[c].size(),
                    " columns, expected ", k);
        std::size_t tp = cm[c][c], pred = 0, truth = 0;
        for (std::size_t j = 0; j < k; ++j) {
            pred += cm[j][c];
            truth += cm[c][j];
        }
        auto& s = out[c];
        s.support = truth;
        s.precision = detail::safe_div(double(tp), double(pred));
        s.recall = detail::safe_div(double(tp), double(truth));
        s.f1 = detail::safe_div(2.0 * double(tp), double(pred + truth));  // = 2PR/(P+R), 0 when undefined
    }
    return out;
}

/// Per-class scores from labels.
inline std::vector<ClassScores> per_class(const std::vector<std::int64_t>& y_true,
                                          const std::vector<std::int64_t>& y_pred, std::size_t num_labels) {
    return per_class(confusion_matrix(y_true, y_pred, num_labels));
}

/// Averaged scores from a confusion matrix. Macro averages over the labels that occur in
/// y_true or y_pred, as sklearn does when `labels` is not given.
inline Scores average(const ConfusionMatrix& cm, Average avg) {
    const auto pc = per_class(cm);
    Scores s;
    double weight_sum = 0;
    for (std::size_t c = 0; c < pc.size(); ++c) {
        std::size_t predicted = 0;
        for (std::size_t j = 0; j < pc.size(); ++j) predicted += cm[j][c];
        double w = avg == Average::Weighted ? double(pc[c].support)
                                             : (pc[c].support + predicted > 0 ? 1.0 : 0.0);
        s.precision += w * pc[c].precision;
        s.recall += w * pc[c].recall;
        s.f1 += w * pc[c].f1;
        weight_sum += w;
    }
    s.precision = detail::safe_div(s.precision, weight_sum);
    s.recall = detail::safe_div(s.recall, weight_sum);
    s.f1 = detail::safe_div(s.f1, weight_sum);
    return s;
}

/// sklearn `precision_recall_fscore_support(y_true, y_pred, average=..., zero_division=0)[:3]`.
/// Example: `auto w = metrics::precision_recall_f1(y_true, y_pred, 5, metrics::Average::Weighted); w.f1`
inline Scores precision_recall_f1(const std::vector<std::int64_t>& y_true, const std::vector<std::int64_t>& y_pred,
                                  std::size_t num_labels, Average avg = Average::Weighted) {
    return average(confusion_matrix(y_true, y_pred, num_labels), avg);
}

/// sklearn-style text report: one row per class (precision, recall, f1-score, support), then
/// accuracy, macro avg and weighted avg.
/// Example: `std::cout << metrics::classification_report(y_true, y_pred, {"ham", "spam"});`
inline std::string classification_report(const std::vector<std::int64_t>& y_true,
                                         const std::vector<std::int64_t>& y_pred,
                                         const std::vector<std::string>& label_names, int digits = 4) {
    const auto cm = confusion_matrix(y_true, y_pred, label_names.size());
    const auto pc = per_class(cm);
    std::size_t width = 12;  // "weighted avg"
    for (const auto& n : label_names) width = std::max(width, n.size());
    const int col = std::max(10, digits + 6);
    std::ostringstream os;
    os << std::fixed << std::setprecision(digits);
    os << std::string(width, ' ') << std::setw(col) << "precision" << std::setw(col) << "recall" << std::setw(col)
       << "f1-score" << std::setw(col) << "support" << "\n\n";
    auto row = [&](const std::string& name, double p, double r, double f, std::size_t n) {
        os << std::setw(static_cast<int>(width)) << name << std::setw(col) << p << std::setw(col) << r
           << std::setw(col) << f << std::setw(col) << n << '\n';
    };
    for (std::size_t c = 0; c < pc.size(); ++c) row(label_names[c], pc[c].precision, pc[c].recall, pc[c].f1, pc[c].support);
    os << '\n';
    os << std::setw(static_cast<int>(width)) << "accuracy" << std::setw(col) << "" << std::setw(col) << ""
       << std::setw(col) << accuracy(y_true, y_pred) << std::setw(col) << y_true.size() << '\n';
    auto m = average(cm, Average::Macro), w = average(cm, Average::Weighted);
    row("macro avg", m.precision, m.recall, m.f1, y_true.size());
    row("weighted avg", w.precision, w.recall, w.f1, y_true.size());
    return os.str();
}

/// The confusion matrix as text, rows = true label, columns = predicted label.
inline std::string confusion_matrix_text(const ConfusionMatrix& cm, const std::vector<std::string>& label_names) {
    RGRID_CHECK(cm.size() == label_names.size(), "metrics::confusion_matrix_text: ", cm.size(), " rows but ",
                label_names.size(), " label names");
    std::size_t width = 10;  // "true\\pred"
    for (const auto& n : label_names) width = std::max(width, n.size());
    std::ostringstream os;
    os << std::setw(static_cast<int>(width)) << "true\\pred";
    for (const auto& n : label_names) os << ' ' << std::setw(static_cast<int>(width)) << n;
    os << '\n';
    for (std::size_t i = 0; i < cm.size(); ++i) {
        os << std::setw(static_cast<int>(width)) << label_names[i];
        for (auto v : cm[i]) os << ' ' << std::setw(static_cast<int>(width)) << v;
        os << '\n';
    }
    return os.str();
}

}  // namespace rgrid::metrics
