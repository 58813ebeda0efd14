#pragma once
// ClassificationObjective: BERT sequence classification with sliding windows, the Trainer's
// default task. Training: every window of a training document is a sample carrying the
// document's label, the loss is (optionally class-weighted) cross-entropy over windows.
// Evaluation: window logits are aggregated per document (Predictor's code path) and metrics
// are computed on documents. Checkpoints are HF directories plus inference_config.json.
// Legend: B batch (windows), T tokens, K labels.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rgrid/autograd/ops.hpp"
#include "rgrid/core/error.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/data/batcher.hpp"
#include "rgrid/data/dataset.hpp"
#include "rgrid/io/pretrained.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/train/evaluate.hpp"
#include "rgrid/train/objective.hpp"
#include "rgrid/train/predictor.hpp"
#include "rgrid/train/training_arguments.hpp"

namespace rgrid {

/// Fine-tuning objective of a BertForSequenceClassification on a labelled Dataset.
/// Example: `Trainer t(std::make_shared<ClassificationObjective>(model, tok, "vocab.txt", args, train, val), args);`
class ClassificationObjective : public Objective {
public:
    using Model = BertForSequenceClassification<float>;

    /// `val` may be empty when `args.evaluate_each_epoch` is false. Labels of both sets must be
    /// among the model's id2label (checked here, naming the label).
    /// `vocab_path` is no longer read: checkpoints are written from the tokenizer in memory.
    ClassificationObjective(std::shared_ptr<Model> model, std::shared_ptr<const BertTokenizer> tokenizer,
                            std::string vocab_path, const TrainingArguments& args, const Dataset& train,
                            const Dataset& val)
        : model_(std::move(model)), tokenizer_(std::move(tokenizer)), vocab_path_(std::move(vocab_path)),
          predictor_(model_, tokenizer_,
                     PredictorOptions{args.eval_window(), args.aggregation, args.per_device_eval_batch_size}) {
        args.validate();
        RGRID_CHECK(!train.examples.empty(), "Trainer: the training set is empty (no rows to learn from)");
        RGRID_CHECK(!args.evaluate_each_epoch || !val.examples.empty(),
                    "Trainer: the validation set is empty but evaluate_each_epoch is on");
        RGRID_CHECK(args.max_length <= model_->config().max_position_embeddings, "Trainer: max_length ",
                    args.max_length, " exceeds the model's max_position_embeddings ",
                    model_->config().max_position_embeddings);
        if (args.threads > 0) set_num_threads(args.threads);  // windowing below runs on these threads
        const auto& names = model_->config().id2label;
        train_labels_ = label_ids_for(train, names, "training");
        val_labels_ = label_ids_for(val, names, "validation");
        train_docs_ = make_windows(*tokenizer_, texts_of(train), train_labels_, args.train_window());
        val_docs_ = make_windows(*tokenizer_, texts_of(val), val_labels_, args.eval_window());
        if (args.class_weights) {
            std::vector<std::size_t> counts(names.size(), 0);
            for (auto l : train_labels_) ++counts[l];
            class_weights_ = Tensor<float>::from_shape({names.size()});
            for (std::size_t k = 0; k < names.size(); ++k)  // sklearn "balanced": n / (K · n_k)
                class_weights_(k) = counts[k] ? float(double(train_labels_.size()) / double(names.size() * counts[k])) : 0.f;
            use_class_weights_ = true;
        }
        batcher_ = std::make_unique<Batcher>(
            train_docs_.windows, BatcherOptions{.batch_size = args.per_device_train_batch_size, .shuffle = true,
                                                .seed = args.seed, .bucket_batches = args.bucket_batches,
                                                .pad_id = tokenizer_->vocab().pad_id()});
    }

    Module<float>& model() override { return *model_; }
    std::size_t batches_per_epoch() const override { return batcher_->num_batches(); }

    Batch batch(std::size_t epoch, std::size_t b) override {
        if (!plan_epoch_ || *plan_epoch_ != epoch) {  // the epoch's order: a function of (seed, epoch)
            plan_ = batcher_->plan(epoch);
            plan_epoch_ = epoch;
        }
        RGRID_CHECK(b < plan_.size(), "ClassificationObjective: batch ", b, " of epoch ", epoch, " out of range (",
                    plan_.size(), " batches)");
        return batcher_->make_batch(plan_[b]);
    }

    Var<float> loss(const Batch& batch, Rng& dropout_rng) override {
        Var<float> logits = model_->forward(batch.input_ids, batch.token_type_ids, batch.attention_mask,
                                            dropout_rng);  // (B, K)
        return ops::cross_entropy(logits, batch.labels, use_class_weights_ ? &class_weights_ : nullptr);
    }

    EvalReport evaluate() override { return evaluate_windows(predictor_, val_docs_, val_labels_); }

    void save(const std::string& dir) const override {
        save_pretrained(*model_, dir, *tokenizer_);  // vocab.txt from the tokenizer in memory
        save_predictor_options(dir, predictor_.options());
    }

    TrainBegin describe() const override {
        TrainBegin b{train_docs_.num_docs, train_docs_.windows.size(), train_docs_.long_docs, train_docs_.capped_docs,
                     val_docs_.num_docs,   val_docs_.windows.size(),   0, 0, 0, 0, {}};
        if (use_class_weights_) b.class_weights.assign(class_weights_.begin(), class_weights_.end());
        return b;
    }

    const WindowedDocs& train_windows() const { return train_docs_; }
    const WindowedDocs& val_windows() const { return val_docs_; }
    const std::vector<std::int64_t>& val_labels() const { return val_labels_; }  // per validation document
    Predictor& predictor() { return predictor_; }

private:
    std::shared_ptr<Model> model_;
    std::shared_ptr<const BertTokenizer> tokenizer_;
    std::string vocab_path_;
    Predictor predictor_;
    std::vector<std::int64_t> train_labels_, val_labels_;
    WindowedDocs train_docs_, val_docs_;
    Tensor<float> class_weights_;
    bool use_class_weights_ = false;
    std::unique_ptr<Batcher> batcher_;
    std::vector<std::vector<std::size_t>> plan_;
    std::optional<std::size_t> plan_epoch_;
};

}  // namespace rgrid
