#pragma once
// Predictor: texts → document predictions. Tokenize, cut into sliding windows, run the model
// on length-sorted padded batches of windows under NoGradGuard, aggregate each document's
// window logits (mean by default, max, or majority vote) and report the label, the
// probability of every label and the number of windows. Trainer::evaluate, rgrid-predict and
// the web server all go through window_logits() + aggregate_documents() here.
// Legend: W windows, D documents, K labels, B batch, T tokens.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "rgrid/autograd/var.hpp"
#include "rgrid/core/error.hpp"
#include "rgrid/core/tensor.hpp"
#include "rgrid/data/batcher.hpp"
#include "rgrid/io/json.hpp"
#include "rgrid/io/pretrained.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/text/sliding_window.hpp"

namespace rgrid {

/// The prediction for one document.
struct Prediction {
    std::string label;                 // the predicted label's name
    std::size_t label_id = 0;          // its class id
    std::vector<float> probabilities;  // per label (softmax of the aggregated logits; vote shares for Vote)
    std::vector<float> logits;         // the aggregated document logits (K)
    std::size_t windows = 0;           // windows the document was cut into
};

/// How Predictor cuts and aggregates. Defaults: 512-token windows, stride 128, no window cap, mean.
struct PredictorOptions {
    SlidingWindow window{512, 128, 0};
    Aggregation aggregation = Aggregation::Mean;
    std::size_t batch_size = 32;
};

/// Per-document results of aggregating window logits.
struct DocumentLogits {
    Tensor<float> logits;                // (D, K) aggregated
    std::vector<std::size_t> windows;    // D: windows per document
};

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

/// DIR/inference_config.json: the window and aggregation settings a model was trained and
/// validated with, written by Trainer next to config.json; Predictor::from_pretrained uses
/// them as defaults.
inline void save_predictor_options(const std::string& dir, const PredictorOptions& opt) {
    const char* agg = opt.aggregation == Aggregation::Mean ? "mean" : opt.aggregation == Aggregation::Max ? "max" : "vote";
    json j = {{"max_length", opt.window.max_length}, {"stride", opt.window.stride},
              {"max_windows", opt.window.max_windows}, {"aggregation", agg}, {"batch_size", opt.batch_size}};
    write_file_atomic(dir + "/inference_config.json", j.dump(2) + "\n");
}
/// Reads DIR/inference_config.json; returns the defaults when the file is absent.
inline PredictorOptions load_predictor_options(const std::string& dir) {
    PredictorOptions opt;
    const std::string path = dir + "/inference_config.json";
    std::ifstream in(path);
    if (!in) return opt;
    std::stringstream ss;
    ss << in.rdbuf();
    json j = json::parse(ss.str(), nullptr, false);
    RGRID_CHECK(!j.is_discarded() && j.is_object(), path, " is not a JSON object");
    try {
        opt.window.max_length = j.value("max_length", opt.window.max_length);
        opt.window.stride = j.value("stride", opt.window.stride);
        opt.window.max_windows = j.value("max_windows", opt.window.max_windows);
        opt.batch_size = j.value("batch_size", opt.batch_size);
        const std::string agg = j.value("aggregation", std::string("mean"));
        RGRID_CHECK(agg == "mean" || agg == "max" || agg == "vote", path, ": unknown aggregation '", agg, "'");
        opt.aggregation = agg == "mean" ? Aggregation::Mean : agg == "max" ? Aggregation::Max : Aggregation::Vote;
    } catch (const json::exception& e) {
        throw Error(detail::concat(path, ": ", e.what()));
    }
    opt.window.validate();
    return opt;
}

/// Texts in, document predictions out.
/// Example:
///   auto pred = Predictor::from_pretrained("runs/quick/best");
///   for (auto& p : pred.predict({"Win a free prize now", "Meeting moved to 3pm"}))
///       std::cout << p.label << " " << p.probabilities[p.label_id] << " (" << p.windows << " windows)\n";
class Predictor {
public:
    using Model = BertForSequenceClassification<float>;

    /// Wraps a model and tokenizer (shared, e.g. with a Trainer).
    Predictor(std::shared_ptr<Model> model, std::shared_ptr<const BertTokenizer> tokenizer, PredictorOptions opt = {})
        : model_(std::move(model)), tokenizer_(std::move(tokenizer)), opt_(opt) {
        RGRID_CHECK(model_ && tokenizer_, "Predictor: model and tokenizer are required");
        RGRID_CHECK(opt_.batch_size > 0, "Predictor: batch_size must be > 0");
        RGRID_CHECK(opt_.window.max_length >= 3 && opt_.window.max_length <= 512,
                    "Predictor: max_length must be in [3, 512], got ", opt_.window.max_length);
        RGRID_CHECK(opt_.window.stride < opt_.window.max_length - 2, "Predictor: stride (", opt_.window.stride,
                    ") must be smaller than max_length - 2 (", opt_.window.max_length - 2, ")");
        RGRID_CHECK(opt_.window.max_length <= model_->config().max_position_embeddings,
                    "Predictor: max_length ", opt_.window.max_length, " exceeds the model's max_position_embeddings ",
                    model_->config().max_position_embeddings);
    }

    /// Loads an HF-layout checkpoint directory (config.json, model.safetensors, vocab.txt,
    /// tokenizer_config.json), with the window settings of DIR/inference_config.json when present.
    static Predictor from_pretrained(const std::string& dir) { return from_pretrained(dir, load_predictor_options(dir)); }
    /// Same, with explicit window/aggregation settings.
    static Predictor from_pretrained(const std::string& dir, PredictorOptions opt) {
        std::shared_ptr<Model> model = rgrid::from_pretrained<float>(dir);
        const std::string vocab = (std::filesystem::path(dir) / "vocab.txt").string();
        RGRID_CHECK(std::filesystem::exists(vocab), "Predictor::from_pretrained: ", vocab, " not found");
        auto tok = std::make_shared<const BertTokenizer>(BertTokenizer::from_file(vocab, pretrained_do_lower_case(dir)));
        RGRID_CHECK(tok->vocab().size() == model->config().vocab_size, "Predictor::from_pretrained: ", vocab, " has ",
                    tok->vocab().size(), " tokens but config.json says vocab_size ", model->config().vocab_size);
        return Predictor(std::move(model), std::move(tok), opt);
    }

    /// One prediction per text, in order.
    std::vector<Prediction> predict(const std::vector<std::string>& texts) const {
        if (texts.empty()) return {};
        WindowedDocs wd = make_windows(*tokenizer_, texts, {}, opt_.window);
        return predict_windows(wd.windows, texts.size());
    }
    Prediction predict(const std::string& text) const { return predict(std::vector<std::string>{text})[0]; }

    /// Predictions for pre-cut windows of `num_docs` documents.
    std::vector<Prediction> predict_windows(const std::vector<Window>& windows, std::size_t num_docs) const {
        Tensor<float> wl = window_logits(windows);  // (W, K)
        std::vector<std::size_t> doc_ids(windows.size());
        for (std::size_t i = 0; i < windows.size(); ++i) doc_ids[i] = windows[i].doc_id;
        DocumentLogits dl = aggregate_documents(wl, doc_ids, num_docs, opt_.aggregation);
        const std::size_t k = dl.logits.shape()[1];
        std::vector<Prediction> out;
        out.reserve(num_docs);
        for (std::size_t d = 0; d < num_docs; ++d)
            out.push_back(make_prediction(dl.logits.data() + d * k, k, opt_.aggregation, labels(), dl.windows[d]));
        return out;
    }

    /// Logits of every window, (W, K), row i = windows[i]. Batches are sorted by length
    /// (minimal padding); the model runs in eval mode under NoGradGuard and its previous
    /// train/eval mode is restored. Safe to call from several threads on an eval-mode model.
    Tensor<float> window_logits(const std::vector<Window>& windows) const {
        const std::size_t k = model_->config().num_labels();
        Tensor<float> out = Tensor<float>::from_shape({windows.size(), k});  // (W, K)
        if (windows.empty()) return out;
        // Switch to eval mode only when needed: a model already in eval mode (from_pretrained,
        // the server) is never written to, so concurrent predict() calls do not race.
        const bool was_training = model_->is_training();
        if (was_training) model_->eval();
        struct Restore {
            Model& m;
            bool on;
            ~Restore() {
                if (on) m.train(true);
            }
        } restore{*model_, was_training};
        NoGradGuard no_grad;
        Batcher batcher(windows, BatcherOptions{.batch_size = opt_.batch_size, .shuffle = false,
                                                .pad_id = tokenizer_->vocab().pad_id()});
        for (const auto& idx : batcher.plan(0)) {
            Batch b = batcher.make_batch(idx);
            Rng unused(0);  // eval mode: dropout is the identity
            Var<float> logits = model_->forward(b.input_ids, b.token_type_ids, b.attention_mask, unused);  // (B, K)
            for (std::size_t r = 0; r < b.size(); ++r)
                std::copy(logits.data() + r * k, logits.data() + (r + 1) * k, out.data() + idx[r] * k);
        }
        return out;
    }

    const std::vector<std::string>& labels() const { return model_->config().id2label; }
    const PredictorOptions& options() const { return opt_; }
    void set_options(const PredictorOptions& opt) { opt_ = opt; }
    Model& model() const { return *model_; }
    const BertTokenizer& tokenizer() const { return *tokenizer_; }

private:
    std::shared_ptr<Model> model_;
    std::shared_ptr<const BertTokenizer> tokenizer_;
    PredictorOptions opt_;
};

}  // namespace rgrid
