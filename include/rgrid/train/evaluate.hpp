#pragma once
// Document-level evaluation through Predictor: window logits → per-document aggregation →
// accuracy, weighted/macro precision/recall/F1, per-class scores and the confusion matrix.
// Trainer::evaluate, rgrid-finetune's test metrics and rgrid-predict all use this.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/data/batcher.hpp"
#include "rgrid/data/dataset.hpp"
#include "rgrid/train/metrics.hpp"
#include "rgrid/train/predictor.hpp"

namespace rgrid {

/// Document-level evaluation.
struct EvalReport {
    double loss = 0;                 // mean window-level cross-entropy (windows carry their document's label)
    double accuracy = 0;
    metrics::Scores weighted, macro;
    std::vector<metrics::ClassScores> per_class;
    metrics::ConfusionMatrix confusion;
    std::vector<std::string> label_names;
    std::vector<std::int64_t> y_true, y_pred;  // per document
    std::size_t documents = 0, windows = 0;
    double runtime = 0;              // seconds

    /// sklearn-style text report.
    std::string classification_report(int digits = 4) const {
        return metrics::classification_report(y_true, y_pred, label_names, digits);
    }
};

/// Class ids of `ds`'s labels in the model's label order `names`; a label the model does not
/// know is an error naming it, the set (`which`) and the row.
inline std::vector<std::int64_t> label_ids_for(const Dataset& ds, const std::vector<std::string>& names,
                                               const char* which) {
    std::vector<std::int64_t> ids;
    ids.reserve(ds.examples.size());
    for (std::size_t i = 0; i < ds.examples.size(); ++i) {
        const auto& l = ds.examples[i].label;
        auto it = std::find(names.begin(), names.end(), l);
        if (it == names.end()) {
            std::string known;
            for (const auto& n : names) known += (known.empty() ? "'" : ", '") + n + "'";
            throw Error(detail::concat("unknown label '", l, "' in the ", which, " set (data row ", i + 1,
                                       "); the model's labels are ", known));
        }
        ids.push_back(it - names.begin());
    }
    return ids;
}

/// Texts of a dataset, in order.
inline std::vector<std::string> texts_of(const Dataset& ds) {
    std::vector<std::string> t;
    t.reserve(ds.examples.size());
    for (const auto& e : ds.examples) t.push_back(e.text);
    return t;
}

/// The report of pre-cut windows of `wd.num_docs` documents from their logits `wl` (W, K), row i
/// = wd.windows[i] (computed by Predictor::window_logits, possibly in shards on several ranks).
inline EvalReport evaluate_window_logits(const Predictor& predictor, const WindowedDocs& wd,
                                         const std::vector<std::int64_t>& labels, const Tensor<float>& wl,
                                         std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now()) {
    const auto& names = predictor.labels();
    RGRID_CHECK(labels.size() == wd.num_docs, "evaluate_windows: ", labels.size(), " labels for ", wd.num_docs,
                " documents");
    EvalReport r;
    r.label_names = names;
    r.documents = wd.num_docs;
    r.windows = wd.windows.size();
    if (wd.num_docs == 0) return r;
    const std::size_t k = names.size();
    RGRID_CHECK(wl.dimension() == 2 && wl.shape()[0] == wd.windows.size() && wl.shape()[1] == k,
                "evaluate_window_logits: logits of shape ", shape_str(wl.shape()), " for ", wd.windows.size(),
                " windows and ", k, " labels");
    double loss = 0;
    std::vector<std::size_t> doc_ids(wd.windows.size());
    for (std::size_t i = 0; i < wd.windows.size(); ++i) {
        doc_ids[i] = wd.windows[i].doc_id;
        auto p = softmax_row(wl.data() + i * k, k);
        loss -= std::log(std::max(1e-30, double(p[labels[doc_ids[i]]])));
    }
    r.loss = loss / double(wd.windows.size());
    const Aggregation agg = predictor.options().aggregation;
    DocumentLogits dl = aggregate_documents(wl, doc_ids, wd.num_docs, agg);
    r.y_true = labels;
    for (std::size_t d = 0; d < wd.num_docs; ++d)
        r.y_pred.push_back(std::int64_t(make_prediction(dl.logits.data() + d * k, k, agg, names, 1).label_id));
    r.confusion = metrics::confusion_matrix(r.y_true, r.y_pred, k);
    r.accuracy = metrics::accuracy(r.y_true, r.y_pred);
    r.per_class = metrics::per_class(r.confusion);
    r.weighted = metrics::average(r.confusion, metrics::Average::Weighted);
    r.macro = metrics::average(r.confusion, metrics::Average::Macro);
    r.runtime = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

/// Evaluates pre-cut windows (each carrying its document's label) of `wd.num_docs` documents.
inline EvalReport evaluate_windows(const Predictor& predictor, const WindowedDocs& wd,
                                   const std::vector<std::int64_t>& labels) {
    const auto t0 = std::chrono::steady_clock::now();
    return evaluate_window_logits(predictor, wd, labels, predictor.window_logits(wd.windows), t0);
}

/// Evaluates a labelled data set with the predictor's window and aggregation settings.
/// Example: `EvalReport r = evaluate(Predictor::from_pretrained("runs/x/best"), test); r.weighted.f1`
inline EvalReport evaluate(const Predictor& predictor, const Dataset& ds, const char* which = "evaluation") {
    auto labels = label_ids_for(ds, predictor.labels(), which);
    WindowedDocs wd = make_windows(predictor.tokenizer(), texts_of(ds), labels, predictor.options().window);
    return evaluate_windows(predictor, wd, labels);
}

}  // namespace rgrid
