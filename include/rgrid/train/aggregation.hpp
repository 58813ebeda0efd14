#pragma once
// Aggregation: how the logits of a document's windows become one document prediction, in
// one place — the Aggregation enum and its names, aggregate() of one document's (W, K)
// window logits, aggregate_documents() over many documents, the softmax of a row and
// make_prediction(). Predictor, Trainer's evaluation, rgrid-predict and the web server all go
// through here.
// Legend: W windows, D documents, K labels.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/tensor.hpp"

namespace rgrid {

/// How per-window logits become one document score vector.
enum class Aggregation {
    Mean,  ///< mean of the window logits (the default)
    Max,   ///< per-label maximum of the window logits
    Vote,  ///< fraction of windows whose argmax is the label (argmax ties -> lowest label index)
};

/// Aggregates window logits (W, K) into document scores (K). The result does not depend on
/// the order of the windows, bit for bit (Mean sums each column in sorted order, in double).
/// Take the document label with aggregate_argmax (ties -> lowest label index).
/// Example: aggregate(Tensor<float>{{1, 3}, {3, 1}, {0, 2}}, Aggregation::Vote) == {1/3, 2/3}
template <class T>
Tensor<T> aggregate(const Tensor<T>& window_logits, Aggregation how) {
    RGRID_CHECK(window_logits.dimension() == 2 && window_logits.shape()[0] > 0 && window_logits.shape()[1] > 0,
                "aggregate: window_logits must be (W, K) with W, K >= 1, got ", shape_str(window_logits));
    const std::size_t w = window_logits.shape()[0], k = window_logits.shape()[1];
    const T* x = window_logits.data();  // (W, K) row-major
    Tensor<T> out = zeros<T>({k});      // (K)
    if (how == Aggregation::Vote) {
        std::vector<std::size_t> votes(k, 0);
        for (std::size_t i = 0; i < w; ++i) {
            std::size_t best = 0;
            for (std::size_t j = 1; j < k; ++j)
                if (x[i * k + j] > x[i * k + best]) best = j;
            ++votes[best];
        }
        for (std::size_t j = 0; j < k; ++j) out(j) = static_cast<T>(static_cast<double>(votes[j]) / static_cast<double>(w));
        return out;
    }
    std::vector<T> col(w);
    for (std::size_t j = 0; j < k; ++j) {
        for (std::size_t i = 0; i < w; ++i) col[i] = x[i * k + j];
        if (how == Aggregation::Max) {
            out(j) = *std::max_element(col.begin(), col.end());
        } else {
            std::sort(col.begin(), col.end());
            double sum = 0.0;
            for (T v : col) sum += static_cast<double>(v);
            out(j) = static_cast<T>(sum / static_cast<double>(w));
        }
    }
    return out;
}

/// Index of the highest score; ties go to the lowest index. Example: aggregate_argmax({0.5, 0.5}) == 0
template <class T>
std::size_t aggregate_argmax(const Tensor<T>& scores) {
    RGRID_CHECK(scores.dimension() == 1 && scores.size() > 0, "aggregate_argmax: scores must be (K) with K >= 1, got ",
                shape_str(scores));
    std::size_t best = 0;
    for (std::size_t j = 1; j < scores.size(); ++j)
        if (scores(j) > scores(best)) best = j;
    return best;
}

/// "mean" | "max" | "vote" → Aggregation (throws naming the value otherwise).
inline Aggregation parse_aggregation(const std::string& s) {
    if (s == "mean") return Aggregation::Mean;
    if (s == "max") return Aggregation::Max;
    if (s == "vote") return Aggregation::Vote;
    throw Error("unknown aggregation '" + s + "' (mean, max, vote)");
}
/// Aggregation → "mean" | "max" | "vote".
inline const char* aggregation_name(Aggregation a) {
    switch (a) {
        case Aggregation::Mean: return "mean";
        case Aggregation::Max: return "max";
        case Aggregation::Vote: return "vote";
    }
    return "?";
}

/// Softmax of one row of K logits, computed in double (stable).
inline std::vector<float> softmax_row(const float* x, std::size_t k) {
    std::vector<float> p(k);
    if (k == 0) return p;
    double mx = x[0], sum = 0;
    for (std::size_t j = 1; j < k; ++j) mx = std::max<double>(mx, x[j]);
    std::vector<double> e(k);
    for (std::size_t j = 0; j < k; ++j) sum += (e[j] = std::exp(double(x[j]) - mx));
    for (std::size_t j = 0; j < k; ++j) p[j] = static_cast<float>(e[j] / sum);
    return p;
}

/// The prediction for one document.
struct Prediction {
    std::string label;                 // the predicted label's name
    std::size_t label_id = 0;          // its class id
    std::vector<float> probabilities;  // per label (softmax of the aggregated logits; vote shares for Vote)
    std::vector<float> logits;         // the aggregated document logits (K)
    std::size_t windows = 0;           // windows the document was cut into
};

/// Per-document results of aggregating window logits.
struct DocumentLogits {
    Tensor<float> logits;                // (D, K) aggregated
    std::vector<std::size_t> windows;    // D: windows per document
};

/// Groups window logits (W, K) by document and aggregates each group with `agg`.
/// Every document in [0, num_docs) must have at least one window.
/// Example: `auto d = aggregate_documents(wl, doc_ids, 3, Aggregation::Mean); d.logits  // (3, K)`
inline DocumentLogits aggregate_documents(const Tensor<float>& window_logits, const std::vector<std::size_t>& doc_ids,
                                          std::size_t num_docs, Aggregation agg) {
    RGRID_CHECK(window_logits.dimension() == 2, "aggregate_documents: window logits must be (W, K), got ",
                shape_str(window_logits));
    const std::size_t w = window_logits.shape()[0], k = window_logits.shape()[1];
    RGRID_CHECK(doc_ids.size() == w, "aggregate_documents: ", doc_ids.size(), " document ids for ", w, " windows");
    std::vector<std::vector<std::size_t>> rows(num_docs);
    for (std::size_t i = 0; i < w; ++i) {
        RGRID_CHECK(doc_ids[i] < num_docs, "aggregate_documents: window ", i, " has document id ", doc_ids[i],
                    " but there are ", num_docs, " documents");
        rows[doc_ids[i]].push_back(i);
    }
    DocumentLogits out;
    out.logits = Tensor<float>::from_shape({num_docs, k});  // (D, K)
    out.windows.resize(num_docs);
    for (std::size_t d = 0; d < num_docs; ++d) {
        RGRID_CHECK(!rows[d].empty(), "aggregate_documents: document ", d, " has no windows");
        Tensor<float> mine = Tensor<float>::from_shape({rows[d].size(), k});  // (W_d, K)
        for (std::size_t r = 0; r < rows[d].size(); ++r)
            std::copy(window_logits.data() + rows[d][r] * k, window_logits.data() + (rows[d][r] + 1) * k,
                      mine.data() + r * k);
        Tensor<float> a = aggregate(mine, agg);  // (K)
        std::copy(a.data(), a.data() + k, out.logits.data() + d * k);
        out.windows[d] = rows[d].size();
    }
    return out;
}

/// Turns one aggregated row into a Prediction (aggregate_argmax: the lowest class id wins ties).
inline Prediction make_prediction(const float* row, std::size_t k, Aggregation agg,
                                  const std::vector<std::string>& label_names, std::size_t windows) {
    Prediction p;
    p.logits.assign(row, row + k);
    if (agg == Aggregation::Vote) {  // the row holds vote shares (sum 1)
        double sum = 0;
        for (std::size_t j = 0; j < k; ++j) sum += row[j];
        p.probabilities.resize(k);
        for (std::size_t j = 0; j < k; ++j) p.probabilities[j] = sum > 0 ? float(row[j] / sum) : 0.f;
    } else {
        p.probabilities = softmax_row(row, k);
    }
    Tensor<float> scores = Tensor<float>::from_shape({k});
    std::copy(row, row + k, scores.data());
    const std::size_t best = aggregate_argmax(scores);
    p.label_id = best;
    p.label = best < label_names.size() ? label_names[best] : std::to_string(best);
    p.windows = windows;
    return p;
}

}  // namespace rgrid
