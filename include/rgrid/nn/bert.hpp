#pragma once
// BERT for sequence classification and masked-language modeling, exactly Hugging Face's
// modeling_bert.py: the same classes in the same order, the same parameter names
// (registration is the only source of checkpoint keys), post-LN layers, exact erf GELU, an
// additive attention mask, a tanh pooler over [CLS], dropout and a linear classifier; the
// MLM head (transform + decoder tied to the word embeddings) at the end of the file.
// Initialization as HF's _init_weights.
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py
//
// Shapes: B batch, T tokens, H hidden, NH heads, HS head size (H/NH), I intermediate,
// V vocab, P max positions, K labels, N chosen (masked) positions of an MLM batch.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "rgrid/autograd/ops.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/nn/bert_config.hpp"
#include "rgrid/nn/dropout.hpp"
#include "rgrid/nn/embedding.hpp"
#include "rgrid/nn/layer_norm.hpp"
#include "rgrid/nn/linear.hpp"
#include "rgrid/nn/module.hpp"

namespace rgrid {

namespace detail {
/// HF's extended attention mask, flattened to (B, T): 0 where mask is 1, finfo(T).min where 0.
template <class T>
Tensor<T> additive_attention_mask(const IndexTensor& attention_mask) {
    Tensor<T> m = Tensor<T>::from_shape(attention_mask.shape());
    for (std::size_t i = 0; i < m.size(); ++i) {
        const auto v = attention_mask.data()[i];
        RGRID_CHECK(v == 0 || v == 1, "BertModel: attention_mask must hold 0/1, got ", v, " at flat position ", i);
        m.data()[i] = (T(1) - static_cast<T>(v)) * std::numeric_limits<T>::lowest();
    }
    return m;
}
/// LayerNorm(dropout(x) + residual) with the modules' settings (dropout off in eval mode):
/// ops::dropout_add_layer_norm, bit-identical to the three modules applied in turn.
template <class T>
Var<T> dropout_add_norm(const Var<T>& x, const Var<T>& residual, const Dropout<T>& dropout,
                        const rgrid::LayerNorm<T>& norm, Rng& rng) {
    const T p = dropout.is_training() ? dropout.p : T(0);
    return ops::dropout_add_layer_norm(x, residual, norm.weight, norm.bias, norm.eps, p, rng);
}
}  // namespace detail

/// Word + position + token-type embeddings, LayerNorm, dropout.
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertEmbeddings)
template <class T>
class BertEmbeddings : public Module<T> {
public:
    Embedding<T> word_embeddings;        // (V, H), padding row zero
    Embedding<T> position_embeddings;    // (P, H)
    Embedding<T> token_type_embeddings;  // (2, H)
    rgrid::LayerNorm<T> LayerNorm;       // HF name
    Dropout<T> dropout;

    BertEmbeddings(const BertConfig& c, Rng& rng)
        : word_embeddings(c.vocab_size, c.hidden_size, T(c.initializer_range), rng, c.pad_token_id),
          position_embeddings(c.max_position_embeddings, c.hidden_size, T(c.initializer_range), rng),
          token_type_embeddings(c.type_vocab_size, c.hidden_size, T(c.initializer_range), rng),
          LayerNorm(c.hidden_size, T(c.layer_norm_eps)),
          dropout(T(c.hidden_dropout_prob)) {
        this->register_module("word_embeddings", word_embeddings);
        this->register_module("position_embeddings", position_embeddings);
        this->register_module("token_type_embeddings", token_type_embeddings);
        this->register_module("LayerNorm", LayerNorm);
        this->register_module("dropout", dropout);
    }

    /// input_ids, token_type_ids (B, T) -> (B, T, H)
    Var<T> forward(const IndexTensor& input_ids, const IndexTensor& token_type_ids, Rng& rng) const {
        const std::size_t Tn = input_ids.shape()[1];
        RGRID_CHECK(Tn <= position_embeddings.num_embeddings(), "BertEmbeddings: sequence length ", Tn,
                    " exceeds max_position_embeddings ", position_embeddings.num_embeddings(),
                    " (use a sliding window)");
        IndexTensor position_ids = IndexTensor::from_shape({Tn});
        for (std::size_t t = 0; t < Tn; ++t) position_ids(t) = static_cast<std::int64_t>(t);
        Var<T> e = ops::add(word_embeddings.forward(input_ids), token_type_embeddings.forward(token_type_ids));  // (B,T,H)
        e = ops::add(e, position_embeddings.forward(position_ids));  // (B,T,H) + (T,H)
        return dropout.forward(LayerNorm.forward(e), rng);           // (B,T,H)
    }
};

/// Q, K, V projections and multi-head scaled dot-product attention (fused op).
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertSelfAttention)
template <class T>
class BertSelfAttention : public Module<T> {
public:
    Linear<T> query, key, value;  // (H, H) each
    Dropout<T> dropout;           // on the attention probabilities
    std::size_t num_attention_heads;

    BertSelfAttention(const BertConfig& c, Rng& rng)
        : query(c.hidden_size, c.hidden_size, T(c.initializer_range), rng),
          key(c.hidden_size, c.hidden_size, T(c.initializer_range), rng),
          value(c.hidden_size, c.hidden_size, T(c.initializer_range), rng),
          dropout(T(c.attention_probs_dropout_prob)),
          num_attention_heads(c.num_attention_heads) {
        this->register_module("query", query);
        this->register_module("key", key);
        this->register_module("value", value);
        this->register_module("dropout", dropout);
    }

    /// hidden (B, T, H), additive mask (B, T) -> context (B, T, H)
    Var<T> forward(const Var<T>& hidden, const Tensor<T>& mask, Rng& rng) const {
        const T p = dropout.is_training() ? dropout.p : T(0);
        return ops::attention(query.forward(hidden), key.forward(hidden), value.forward(hidden), mask,
                              num_attention_heads, p, &rng);
    }
};

/// dense, dropout, residual add, LayerNorm (post-LN).
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertSelfOutput)
template <class T>
class BertSelfOutput : public Module<T> {
public:
    Linear<T> dense;  // (H, H)
    rgrid::LayerNorm<T> LayerNorm;
    Dropout<T> dropout;

    BertSelfOutput(const BertConfig& c, Rng& rng)
        : dense(c.hidden_size, c.hidden_size, T(c.initializer_range), rng),
          LayerNorm(c.hidden_size, T(c.layer_norm_eps)),
          dropout(T(c.hidden_dropout_prob)) {
        this->register_module("dense", dense);
        this->register_module("LayerNorm", LayerNorm);
        this->register_module("dropout", dropout);
    }
    /// hidden (B, T, H), residual input (B, T, H) -> (B, T, H)
    /// LayerNorm(dropout(dense(hidden)) + input), the last three as one fused op.
    Var<T> forward(const Var<T>& hidden, const Var<T>& input, Rng& rng) const {
        return detail::dropout_add_norm(dense.forward(hidden), input, dropout, LayerNorm, rng);
    }
};

/// Self-attention followed by its output block ("attention.self", "attention.output").
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertAttention)
template <class T>
class BertAttention : public Module<T> {
public:
    BertSelfAttention<T> self;
    BertSelfOutput<T> output;

    BertAttention(const BertConfig& c, Rng& rng) : self(c, rng), output(c, rng) {
        this->register_module("self", self);
        this->register_module("output", output);
    }
    /// (B, T, H), mask (B, T) -> (B, T, H)
    Var<T> forward(const Var<T>& hidden, const Tensor<T>& mask, Rng& rng) const {
        return output.forward(self.forward(hidden, mask, rng), hidden, rng);
    }
};

/// dense H -> I and exact GELU.
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertIntermediate)
template <class T>
class BertIntermediate : public Module<T> {
public:
    Linear<T> dense;  // (I, H)

    BertIntermediate(const BertConfig& c, Rng& rng) : dense(c.hidden_size, c.intermediate_size, T(c.initializer_range), rng) {
        this->register_module("dense", dense);
    }
    /// (B, T, H) -> (B, T, I)
    Var<T> forward(const Var<T>& hidden) const { return ops::gelu(dense.forward(hidden)); }
};

/// dense I -> H, dropout, residual add, LayerNorm.
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertOutput)
template <class T>
class BertOutput : public Module<T> {
public:
    Linear<T> dense;  // (H, I)
    rgrid::LayerNorm<T> LayerNorm;
    Dropout<T> dropout;

    BertOutput(const BertConfig& c, Rng& rng)
        : dense(c.intermediate_size, c.hidden_size, T(c.initializer_range), rng),
          LayerNorm(c.hidden_size, T(c.layer_norm_eps)),
          dropout(T(c.hidden_dropout_prob)) {
        this->register_module("dense", dense);
        this->register_module("LayerNorm", LayerNorm);
        this->register_module("dropout", dropout);
    }
    /// intermediate (B, T, I), residual input (B, T, H) -> (B, T, H)
    /// LayerNorm(dropout(dense(intermediate)) + input), the last three as one fused op.
    Var<T> forward(const Var<T>& intermediate, const Var<T>& input, Rng& rng) const {
        return detail::dropout_add_norm(dense.forward(intermediate), input, dropout, LayerNorm, rng);
    }
};

/// One post-LN transformer layer: attention, intermediate, output.
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertLayer)
template <class T>
class BertLayer : public Module<T> {
public:
    BertAttention<T> attention;
    BertIntermediate<T> intermediate;
    BertOutput<T> output;

    BertLayer(const BertConfig& c, Rng& rng) : attention(c, rng), intermediate(c, rng), output(c, rng) {
        this->register_module("attention", attention);
        this->register_module("intermediate", intermediate);
        this->register_module("output", output);
    }
    /// (B, T, H), mask (B, T) -> (B, T, H)
    Var<T> forward(const Var<T>& hidden, const Tensor<T>& mask, Rng& rng) const {
        Var<T> a = attention.forward(hidden, mask, rng);      // (B, T, H)
        Var<T> i = intermediate.forward(a);                   // (B, T, I)
        return output.forward(i, a, rng);                     // (B, T, H)
    }
};

/// The stack of layers ("encoder.layer.{i}.").
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertEncoder)
template <class T>
class BertEncoder : public Module<T> {
public:
    ModuleList<BertLayer<T>> layer;

    BertEncoder(const BertConfig& c, Rng& rng) {
        for (std::size_t i = 0; i < c.num_hidden_layers; ++i) layer.emplace_back(c, rng);
        this->register_module("layer", layer);
    }
    /// (B, T, H), mask (B, T) -> (B, T, H)
    Var<T> forward(Var<T> hidden, const Tensor<T>& mask, Rng& rng) const {
        for (const auto& l : layer) hidden = l.forward(hidden, mask, rng);
        return hidden;
    }
};

/// tanh(dense(hidden[:, 0])): the [CLS] summary.
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertPooler)
template <class T>
class BertPooler : public Module<T> {
public:
    Linear<T> dense;  // (H, H)

    BertPooler(const BertConfig& c, Rng& rng) : dense(c.hidden_size, c.hidden_size, T(c.initializer_range), rng) {
        this->register_module("dense", dense);
    }
    /// (B, T, H) -> (B, H)
    Var<T> forward(const Var<T>& hidden) const { return ops::tanh(dense.forward(ops::select(hidden, 1, 0))); }
};

/// What BertModel returns (HF's BaseModelOutputWithPooling).
template <class T>
struct BertModelOutput {
    Var<T> last_hidden_state;  // (B, T, H)
    Var<T> pooler_output;      // (B, H); undefined without a pooler
};

/// Embeddings, encoder and (unless add_pooling_layer is false, as in BertForMaskedLM) pooler.
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertModel)
template <class T>
class BertModel : public Module<T> {
public:
    BertEmbeddings<T> embeddings;
    BertEncoder<T> encoder;
    std::optional<BertPooler<T>> pooler;  // HF: `self.pooler = BertPooler(config) if add_pooling_layer else None`

    BertModel(const BertConfig& c, Rng& rng, bool add_pooling_layer = true) : embeddings(c, rng), encoder(c, rng) {
        this->register_module("embeddings", embeddings);
        this->register_module("encoder", encoder);
        if (add_pooling_layer) this->register_module("pooler", pooler.emplace(c, rng));
    }

    /// input_ids, token_type_ids, attention_mask (B, T); an empty (default-constructed)
    /// token_type_ids means all 0, an empty attention_mask all 1.
    BertModelOutput<T> forward(const IndexTensor& input_ids, const IndexTensor& token_type_ids,
                               const IndexTensor& attention_mask, Rng& rng) const {
        RGRID_CHECK(input_ids.dimension() == 2 && input_ids.shape()[0] > 0 && input_ids.shape()[1] > 0,
                    "BertModel: input_ids must be (B, T) with B, T > 0, got ", shape_str(input_ids));
        const Shape bt = shape_of(input_ids);
        auto absent = [](const IndexTensor& t) { return t.dimension() == 0 || t.size() == 0; };  // IndexTensor{}
        IndexTensor types = absent(token_type_ids) ? IndexTensor(xt::zeros<std::int64_t>(bt)) : token_type_ids;
        IndexTensor mask = absent(attention_mask) ? IndexTensor(xt::ones<std::int64_t>(bt)) : attention_mask;
        check_shape(types, bt, "BertModel: token_type_ids");
        check_shape(mask, bt, "BertModel: attention_mask");
        const Tensor<T> additive = detail::additive_attention_mask<T>(mask);  // (B, T)
        Var<T> h = embeddings.forward(input_ids, types, rng);                 // (B, T, H)
        h = encoder.forward(h, additive, rng);                               // (B, T, H)
        return {h, pooler ? pooler->forward(h) : Var<T>()};                   // (B, T, H), (B, H)
    }
};

/// BERT with a linear classifier on the pooled [CLS] state: exactly HF's model of that name.
/// Parameters: "bert.…" and "classifier.{weight,bias}" (K, H), (K).
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertForSequenceClassification)
/// Example:
///   Rng rng(42);
///   BertForSequenceClassification<float> model(BertConfig::preset("tiny"), rng);
///   model.eval();
///   Var<float> logits = model.forward(ids, types, mask);            // (B, K)
///   Var<float> loss = ops::cross_entropy(logits, labels); backward(loss);
template <class T>
class BertForSequenceClassification : public Module<T> {
    BertConfig config_;  // declared first: validated before the modules below are built

public:
    BertModel<T> bert;
    Dropout<T> dropout;
    Linear<T> classifier;  // (K, H)
    /// The stream dropout draws from when forward() is called without an Rng
    /// (save its key()/counter() to resume bit-exactly).
    Rng dropout_rng;

    BertForSequenceClassification(const BertConfig& c, Rng& rng)
        : config_(validated(c)),
          bert(c, rng),
          dropout(T(c.classifier_dropout_prob())),
          classifier(c.hidden_size, c.num_labels(), T(c.initializer_range), rng),
          dropout_rng(rng.fork(0xD50)) {
        this->register_module("bert", bert);
        this->register_module("dropout", dropout);
        this->register_module("classifier", classifier);
    }

    const BertConfig& config() const { return config_; }
    std::size_t num_labels() const { return classifier.out_features(); }

    /// ids, types, mask (B, T) -> logits (B, K). Dropout (training mode only) uses `rng`.
    Var<T> forward(const IndexTensor& input_ids, const IndexTensor& token_type_ids, const IndexTensor& attention_mask,
                   Rng& rng) const {
        BertModelOutput<T> o = bert.forward(input_ids, token_type_ids, attention_mask, rng);
        return classifier.forward(dropout.forward(o.pooler_output, rng));  // (B, K)
    }
    /// Same, drawing dropout masks from dropout_rng.
    Var<T> forward(const IndexTensor& input_ids, const IndexTensor& token_type_ids, const IndexTensor& attention_mask) {
        return forward(input_ids, token_type_ids, attention_mask, dropout_rng);
    }

    /// Replaces the classifier with a fresh one (HF init) for `id2label.size()` labels and
    /// updates config().id2label: a pretrained encoder with a new head.
    void reset_classifier(const std::vector<std::string>& id2label, Rng& rng) {
        RGRID_CHECK(!id2label.empty(), "reset_classifier: need at least one label");
        const std::size_t K = id2label.size(), H = config_.hidden_size;
        classifier.weight.value() = init::normal<T>({K, H}, T(config_.initializer_range), rng);
        classifier.bias.value() = zeros<T>({K});
        classifier.zero_grad();
        config_.id2label = id2label;
    }

private:
    static const BertConfig& validated(const BertConfig& c) {
        c.validate();
        return c;
    }
};

// ---------------------------------------------------------------- masked-language modeling

/// dense H -> H, exact GELU, LayerNorm: the MLM head's transform ("cls.predictions.transform").
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertPredictionHeadTransform)
template <class T>
class BertPredictionHeadTransform : public Module<T> {
public:
    Linear<T> dense;  // (H, H)
    rgrid::LayerNorm<T> LayerNorm;

    BertPredictionHeadTransform(const BertConfig& c, Rng& rng)
        : dense(c.hidden_size, c.hidden_size, T(c.initializer_range), rng), LayerNorm(c.hidden_size, T(c.layer_norm_eps)) {
        this->register_module("dense", dense);
        this->register_module("LayerNorm", LayerNorm);
    }
    /// (N, H) -> (N, H)
    Var<T> forward(const Var<T>& hidden) const { return LayerNorm.forward(ops::gelu(dense.forward(hidden))); }
};

/// transform, then the decoder H -> V: its weight IS the word-embedding matrix (tied: one
/// parameter, registered once under bert.embeddings.word_embeddings.weight, gradients from
/// both uses add up), its bias the head's own "bias" (V). HF also exposes the two as
/// cls.predictions.decoder.{weight,bias}, tied aliases that its save_pretrained drops.
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertLMPredictionHead)
template <class T>
class BertLMPredictionHead : public Module<T> {
public:
    Var<T> bias;  // (V), zeros (HF _init_weights)
    BertPredictionHeadTransform<T> transform;

    /// `decoder_weight` (V, H) is the word embeddings' weight member; it must outlive this head.
    BertLMPredictionHead(const BertConfig& c, const Var<T>& decoder_weight, Rng& rng)
        : bias(zeros<T>({c.vocab_size}), true), transform(c, rng), decoder_weight_(&decoder_weight) {
        RGRID_CHECK(decoder_weight.dim() == 2 && decoder_weight.size(0) == c.vocab_size &&
                        decoder_weight.size(1) == c.hidden_size,
                    "BertLMPredictionHead: tied decoder weight ", shape_str(decoder_weight.shape()), " is not (",
                    c.vocab_size, ", ", c.hidden_size, ")");
        this->register_parameter("bias", bias);
        this->register_module("transform", transform);
    }
    /// The tied decoder weight (V, H): the word-embedding matrix.
    const Var<T>& decoder_weight() const { return *decoder_weight_; }
    /// (N, H) -> logits (N, V)
    Var<T> forward(const Var<T>& hidden) const { return ops::linear(transform.forward(hidden), *decoder_weight_, bias); }

private:
    const Var<T>* decoder_weight_;
};

/// The MLM head alone ("cls.predictions").
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertOnlyMLMHead)
template <class T>
class BertOnlyMLMHead : public Module<T> {
public:
    BertLMPredictionHead<T> predictions;

    BertOnlyMLMHead(const BertConfig& c, const Var<T>& decoder_weight, Rng& rng) : predictions(c, decoder_weight, rng) {
        this->register_module("predictions", predictions);
    }
    /// (N, H) -> (N, V)
    Var<T> forward(const Var<T>& hidden) const { return predictions.forward(hidden); }
};

/// What BertForMaskedLM::forward returns: only the chosen rows, never (B, T, V).
template <class T>
struct MaskedLmOutput {
    Var<T> loss;            // scalar: mean cross-entropy over the N chosen positions
    Var<T> logits;          // (N, V): one row per chosen position, in (b, t) order
    IndexTensor positions;  // (N): flat index b·T + t of each row
    IndexTensor labels;     // (N): the original token id at each row
};

namespace detail {
/// The chosen positions of MLM labels (B, T): flat indices b·T + t where the label is not
/// -100, and their labels. Labels must be -100 or a token id in [0, V).
inline std::pair<IndexTensor, IndexTensor> chosen_positions(const IndexTensor& labels, std::size_t V) {
    std::vector<std::int64_t> pos, lab;
    const std::int64_t* l = labels.data();
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (l[i] == -100) continue;
        RGRID_CHECK(l[i] >= 0 && static_cast<std::size_t>(l[i]) < V, "BertForMaskedLM: label ", l[i],
                    " at flat position ", i, " is neither -100 nor a token id in [0, ", V, ")");
        pos.push_back(static_cast<std::int64_t>(i));
        lab.push_back(l[i]);
    }
    const std::size_t n = pos.size();
    return {index_tensor(pos, {n}), index_tensor(lab, {n})};
}
}  // namespace detail

/// BERT (no pooler) with the MLM head: exactly HF's model of that name. Parameters, in HF's
/// named_parameters() order (the tied decoder listed once, as HF's save_pretrained writes it):
/// "bert.embeddings.…", "bert.encoder.…", "cls.predictions.bias" (V),
/// "cls.predictions.transform.dense.{weight,bias}", "cls.predictions.transform.LayerNorm.{weight,bias}".
/// forward() gathers the hidden states of the chosen positions first and decodes only those
/// rows: the logits are (N, V), never (B, T, V).
/// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py (class BertForMaskedLM)
/// Example:
///   Rng rng(42);
///   BertForMaskedLM<float> model(BertConfig::preset("tiny"), rng);
///   MaskedLmBatch b = collator(batch, mask_rng);                      // labels -100 except at chosen positions
///   auto out = model.forward(b.input_ids, b.token_type_ids, b.attention_mask, b.labels);
///   backward(out.loss);                                               // out.logits (N, V)
template <class T>
class BertForMaskedLM : public Module<T> {
    BertConfig config_;  // declared first: validated before the modules below are built

public:
    BertModel<T> bert;  // add_pooling_layer = false
    BertOnlyMLMHead<T> cls;
    /// The stream dropout draws from when forward() is called without an Rng.
    Rng dropout_rng;

    BertForMaskedLM(const BertConfig& c, Rng& rng)
        : config_(validated(c)),
          bert(c, rng, /*add_pooling_layer=*/false),
          cls(c, bert.embeddings.word_embeddings.weight, rng),
          dropout_rng(rng.fork(0xD51)) {
        this->register_module("bert", bert);
        this->register_module("cls", cls);
    }

    const BertConfig& config() const { return config_; }
    std::size_t vocab_size() const { return config_.vocab_size; }

    /// ids, types, mask (B, T); positions (N) flat indices b·T + t -> logits (N, V) at those positions.
    Var<T> logits_at(const IndexTensor& input_ids, const IndexTensor& token_type_ids, const IndexTensor& attention_mask,
                     const IndexTensor& positions, Rng& rng) const {
        Var<T> h = bert.forward(input_ids, token_type_ids, attention_mask, rng).last_hidden_state;  // (B, T, H)
        return cls.forward(ops::gather_rows(h, positions));                                         // (N, H) -> (N, V)
    }

    /// ids, types, mask, labels (B, T), labels -100 except at the chosen positions (HF's
    /// convention) -> loss = mean cross-entropy over the chosen positions, logits (N, V).
    /// A batch without any chosen position is an error (its mean is undefined).
    MaskedLmOutput<T> forward(const IndexTensor& input_ids, const IndexTensor& token_type_ids,
                              const IndexTensor& attention_mask, const IndexTensor& labels, Rng& rng) const {
        check_shape(labels, shape_of(input_ids), "BertForMaskedLM: labels");
        auto [positions, chosen] = detail::chosen_positions(labels, config_.vocab_size);
        RGRID_CHECK(positions.size() > 0, "BertForMaskedLM: labels ", shape_str(labels.shape()),
                    " choose no position (all -100): nothing to predict in this batch");
        MaskedLmOutput<T> out;
        out.logits = logits_at(input_ids, token_type_ids, attention_mask, positions, rng);  // (N, V)
        out.loss = ops::cross_entropy(out.logits, chosen);
        out.positions = std::move(positions);
        out.labels = std::move(chosen);
        return out;
    }
    /// Same, drawing dropout masks from dropout_rng.
    MaskedLmOutput<T> forward(const IndexTensor& input_ids, const IndexTensor& token_type_ids,
                              const IndexTensor& attention_mask, const IndexTensor& labels) {
        return forward(input_ids, token_type_ids, attention_mask, labels, dropout_rng);
    }

private:
    static const BertConfig& validated(const BertConfig& c) {
        c.validate();
        return c;
    }
};

}  // namespace rgrid
