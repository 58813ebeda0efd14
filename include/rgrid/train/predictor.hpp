#pragma once
// Predictor: texts → document predictions. Tokenize, cut into sliding windows, run the model
// on length-sorted padded batches of windows under NoGradGuard, aggregate each document's
// window logits (mean by default, max, or majority vote; train/aggregation.hpp) and report the
// label, the probability of every label and the number of windows. Trainer::evaluate,
// rgrid-predict and the web server all go through window_logits() + aggregate_documents().
// Legend: W windows, D documents, K labels, B batch, T tokens.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "rgrid/autograd/var.hpp"
#include "rgrid/core/error.hpp"
#include "rgrid/core/tensor.hpp"
#include "rgrid/data/batcher.hpp"
#include "rgrid/core/json.hpp"
#include "rgrid/io/pretrained.hpp"
#include "rgrid/io/quantized.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/text/sliding_window.hpp"
#include "rgrid/train/aggregation.hpp"

namespace rgrid {

/// How Predictor cuts and aggregates. Defaults: 512-token windows, stride 128, no window cap, mean.
struct PredictorOptions {
    SlidingWindow window{512, 128, 0};
    Aggregation aggregation = Aggregation::Mean;
    std::size_t batch_size = 32;
    /// from_pretrained: quantize an fp32 checkpoint on load (quantize_dynamic: the encoder's
    /// Linears in int8). An int8 checkpoint (rgrid-quantize) loads as int8 either way.
    bool int8 = false;
};

/// DIR/inference_config.json: the window and aggregation settings a model was trained and
/// validated with, written by Trainer next to config.json; Predictor::from_pretrained uses
/// them as defaults.
inline void save_predictor_options(const std::string& dir, const PredictorOptions& opt) {
    json j = {{"max_length", opt.window.max_length}, {"stride", opt.window.stride},
              {"max_windows", opt.window.max_windows}, {"aggregation", aggregation_name(opt.aggregation)},
              {"batch_size", opt.batch_size}};
    write_file_atomic(dir + "/inference_config.json", j.dump(2) + "\n");
}
/// Reads DIR/inference_config.json; returns the defaults when the file is absent.
inline PredictorOptions load_predictor_options(const std::string& dir) {
    PredictorOptions opt;
    const std::string path = dir + "/inference_config.json";
    if (!std::filesystem::exists(path)) return opt;
    const json j = read_json_object(path, "load_predictor_options");
    try {
        opt.window.max_length = j.value("max_length", opt.window.max_length);
        opt.window.stride = j.value("stride", opt.window.stride);
        opt.window.max_windows = j.value("max_windows", opt.window.max_windows);
        opt.batch_size = j.value("batch_size", opt.batch_size);
        opt.aggregation = parse_aggregation(j.value("aggregation", std::string("mean")));
    } catch (const json::exception& e) {
        throw Error(detail::concat(path, ": ", e.what()));
    } catch (const Error& e) {
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
        opt_.window.validate();
        RGRID_CHECK(opt_.window.max_length <= model_->config().max_position_embeddings,
                    "Predictor: max_length ", opt_.window.max_length, " exceeds the model's max_position_embeddings ",
                    model_->config().max_position_embeddings);
    }

    /// Loads an HF-layout checkpoint directory (config.json, model.safetensors, vocab.txt,
    /// tokenizer_config.json), with the window settings of DIR/inference_config.json when present.
    static Predictor from_pretrained(const std::string& dir) { return from_pretrained(dir, load_predictor_options(dir)); }
    /// Same, with explicit window/aggregation settings. Refuses a checkpoint without a trained
    /// head (a pretrained BertModel encoder: its classifier would be random), naming the
    /// missing tensors, and a vocab.txt that does not fit the embedding matrix.
    static Predictor from_pretrained(const std::string& dir, PredictorOptions opt) {
        if (is_quantized_checkpoint(dir)) {
            auto tok = std::make_shared<const BertTokenizer>(tokenizer_from_pretrained(dir));
            return Predictor(load_quantized(dir), std::move(tok), opt);
        }
        LoadReport rep;
        std::shared_ptr<Model> model = rgrid::from_pretrained<float>(dir, {}, &rep);
        RGRID_CHECK(rep.reinitialized.empty(), "Predictor::from_pretrained: ", dir,
                    "/model.safetensors has no trained classification head (missing ", detail::join(rep.reinitialized),
                    "): it is a pretrained encoder, and a randomly initialized head would predict noise. Fine-tune "
                    "it first (rgrid-finetune --init ", dir, ") and predict with the fine-tuned checkpoint");
        if (opt.int8) quantize_dynamic(*model);
        else pack_for_inference(*model);  // fp32: weights packed once for the GEMM (same bits)
        auto tok = std::make_shared<const BertTokenizer>(tokenizer_from_pretrained(dir));
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
        return predictions(window_logits(windows), windows, num_docs);
    }

    /// Document predictions from window logits already computed (W, K), row i = windows[i]
    /// (e.g. by serve::DynamicBatcher, which runs windows of several requests together).
    std::vector<Prediction> predictions(const Tensor<float>& wl, const std::vector<Window>& windows,
                                        std::size_t num_docs) const {
        RGRID_CHECK(wl.dimension() == 2 && wl.shape()[0] == windows.size(), "Predictor: logits of shape ",
                    shape_str(wl.shape()), " for ", windows.size(), " windows");
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
    /// With `num_shards` > 1 only batches shard, shard + num_shards, … are computed and the other
    /// rows are 0: the shards of several processes sum to the unsharded result, bit for bit.
    Tensor<float> window_logits(const std::vector<Window>& windows, std::size_t shard = 0,
                                std::size_t num_shards = 1) const {
        RGRID_CHECK(num_shards > 0 && shard < num_shards, "Predictor::window_logits: shard ", shard, " of ", num_shards);
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
        const auto plan = batcher.plan(0);
        if (num_shards > 1) out.fill(0.f);
        for (std::size_t bi = shard; bi < plan.size(); bi += num_shards) {
            const auto& idx = plan[bi];
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
    /// Whether the model's encoder runs in int8 (quantized on load or an int8 checkpoint).
    bool int8() const { return !quantized_linears(*model_).empty(); }
    const BertTokenizer& tokenizer() const { return *tokenizer_; }

private:
    std::shared_ptr<Model> model_;
    std::shared_ptr<const BertTokenizer> tokenizer_;
    PredictorOptions opt_;
};

}  // namespace rgrid
