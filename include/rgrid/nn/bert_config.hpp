#pragma once
// BertConfig: the fields of a Hugging Face BERT config.json, with the same names, so a
// config written by transformers loads here and one written here loads in transformers.
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/configuration_bert.py
#include <cstddef>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/json.hpp"

namespace rgrid {

/// Hyper-parameters of a BERT model plus the label names of its classifier head.
/// Example:
///   BertConfig cfg = BertConfig::preset("tiny");
///   cfg.id2label = {"ham", "spam"};
///   cfg.save("out/config.json");  auto again = BertConfig::load("out/config.json");
struct BertConfig {
    std::size_t vocab_size = 30522;
    std::size_t hidden_size = 768;
    std::size_t num_hidden_layers = 12;
    std::size_t num_attention_heads = 12;
    std::size_t intermediate_size = 3072;
    std::string hidden_act = "gelu";
    double hidden_dropout_prob = 0.1;
    double attention_probs_dropout_prob = 0.1;
    std::size_t max_position_embeddings = 512;
    std::size_t type_vocab_size = 2;
    double initializer_range = 0.02;
    double layer_norm_eps = 1e-12;
    std::size_t pad_token_id = 0;
    std::optional<double> classifier_dropout;  // null: use hidden_dropout_prob (HF)
    std::vector<std::string> id2label = {"LABEL_0", "LABEL_1"};  // index = class id
    std::string problem_type = "single_label_classification";

    std::size_t num_labels() const { return id2label.size(); }
    std::size_t head_size() const { return hidden_size / num_attention_heads; }
    /// Dropout before the classifier: classifier_dropout if set, else hidden_dropout_prob.
    double classifier_dropout_prob() const { return classifier_dropout.value_or(hidden_dropout_prob); }
    /// Sets id2label to LABEL_0..LABEL_{n-1} (HF's default names).
    void set_num_labels(std::size_t n) {
        id2label.clear();
        for (std::size_t i = 0; i < n; ++i) id2label.push_back("LABEL_" + std::to_string(i));
    }

    /// Throws rgrid::Error naming the first inconsistent field.
    void validate() const {
        RGRID_CHECK(vocab_size > 0, "BertConfig: vocab_size must be positive");
        RGRID_CHECK(hidden_size > 0, "BertConfig: hidden_size must be positive");
        RGRID_CHECK(num_hidden_layers > 0, "BertConfig: num_hidden_layers must be positive");
        RGRID_CHECK(num_attention_heads > 0 && hidden_size % num_attention_heads == 0, "BertConfig: hidden_size ",
                    hidden_size, " is not a multiple of num_attention_heads ", num_attention_heads);
        RGRID_CHECK(intermediate_size > 0, "BertConfig: intermediate_size must be positive");
        RGRID_CHECK(hidden_act == "gelu", "BertConfig: hidden_act '", hidden_act,
                    "' is not supported (rgrid implements exact erf \"gelu\")");
        RGRID_CHECK(hidden_dropout_prob >= 0 && hidden_dropout_prob < 1,
                    "BertConfig: hidden_dropout_prob must be in [0, 1), got ", hidden_dropout_prob);
        RGRID_CHECK(attention_probs_dropout_prob >= 0 && attention_probs_dropout_prob < 1,
                    "BertConfig: attention_probs_dropout_prob must be in [0, 1), got ", attention_probs_dropout_prob);
        RGRID_CHECK(!classifier_dropout || (*classifier_dropout >= 0 && *classifier_dropout < 1),
                    "BertConfig: classifier_dropout must be in [0, 1)");
        RGRID_CHECK(max_position_embeddings > 0, "BertConfig: max_position_embeddings must be positive");
        RGRID_CHECK(type_vocab_size > 0, "BertConfig: type_vocab_size must be positive");
        RGRID_CHECK(initializer_range > 0, "BertConfig: initializer_range must be positive");
        RGRID_CHECK(layer_norm_eps > 0, "BertConfig: layer_norm_eps must be positive");
        RGRID_CHECK(pad_token_id < vocab_size, "BertConfig: pad_token_id ", pad_token_id, " >= vocab_size ",
                    vocab_size);
        RGRID_CHECK(!id2label.empty(), "BertConfig: id2label is empty (need at least one label)");
    }

    /// Sizes for training from scratch: "tiny" (2 layers/128 hidden/2 heads), "mini"
    /// (4/256/4), "small" (4/512/8), "medium" (8/512/8), "base" (12/768/12); intermediate
    /// = 4×hidden, vocab 30522 (the google-research/bert family).
    static BertConfig preset(const std::string& name) {
        struct P { const char* name; std::size_t layers, hidden, heads; };
        static constexpr P presets[] = {{"tiny", 2, 128, 2}, {"mini", 4, 256, 4}, {"small", 4, 512, 8},
                                        {"medium", 8, 512, 8}, {"base", 12, 768, 12}};
        for (const auto& p : presets) {
            if (name != p.name) continue;
            BertConfig c;
            c.num_hidden_layers = p.layers;
            c.hidden_size = p.hidden;
            c.num_attention_heads = p.heads;
            c.intermediate_size = 4 * p.hidden;
            return c;
        }
        throw Error("BertConfig::preset: unknown preset '" + name + "' (tiny, mini, small, medium, base)");
    }

    /// config.json content, as transformers writes it for the model class `architecture`
    /// ("BertForSequenceClassification", "BertForMaskedLM", ...: the `architectures` entry that
    /// AutoModel* classes read). id2label/label2id are written for every architecture, as HF does.
    json to_json(const std::string& architecture = "BertForSequenceClassification") const {
        json j;
        j["architectures"] = json::array({architecture});
        j["model_type"] = "bert";
        j["vocab_size"] = vocab_size;
        j["hidden_size"] = hidden_size;
        j["num_hidden_layers"] = num_hidden_layers;
        j["num_attention_heads"] = num_attention_heads;
        j["intermediate_size"] = intermediate_size;
        j["hidden_act"] = hidden_act;
        j["hidden_dropout_prob"] = hidden_dropout_prob;
        j["attention_probs_dropout_prob"] = attention_probs_dropout_prob;
        j["max_position_embeddings"] = max_position_embeddings;
        j["type_vocab_size"] = type_vocab_size;
        j["initializer_range"] = initializer_range;
        j["layer_norm_eps"] = layer_norm_eps;
        j["pad_token_id"] = pad_token_id;
        j["position_embedding_type"] = "absolute";
        j["classifier_dropout"] = classifier_dropout ? json(*classifier_dropout) : json(nullptr);
        j["problem_type"] = problem_type;
        json id2l = json::object(), l2id = json::object();
        for (std::size_t i = 0; i < id2label.size(); ++i) {
            id2l[std::to_string(i)] = id2label[i];
            l2id[id2label[i]] = i;
        }
        j["id2label"] = id2l;
        j["label2id"] = l2id;
        return j;
    }

    /// Reads HF config.json content. Missing fields keep the HF defaults; a wrong type or
    /// an inconsistent value throws naming the field. Without id2label, num_labels (or 2) decides.
    static BertConfig from_json(const json& j) {
        RGRID_CHECK(j.is_object(), "BertConfig: config.json must be a JSON object");
        if (j.contains("model_type"))
            RGRID_CHECK(j["model_type"].is_string() && j["model_type"] == "bert", "BertConfig: model_type is ",
                        j["model_type"].dump(), ", expected \"bert\"");
        if (j.contains("position_embedding_type") && !j["position_embedding_type"].is_null())
            RGRID_CHECK(j["position_embedding_type"] == "absolute", "BertConfig: position_embedding_type ",
                        j["position_embedding_type"].dump(), " is not supported (only \"absolute\")");
        BertConfig c;
        get_size(j, "vocab_size", c.vocab_size);
        get_size(j, "hidden_size", c.hidden_size);
        get_size(j, "num_hidden_layers", c.num_hidden_layers);
        get_size(j, "num_attention_heads", c.num_attention_heads);
        get_size(j, "intermediate_size", c.intermediate_size);
        if (j.contains("hidden_act")) {
            RGRID_CHECK(j["hidden_act"].is_string(), "BertConfig: hidden_act must be a string");
            c.hidden_act = j["hidden_act"].get<std::string>();
        }
        get_real(j, "hidden_dropout_prob", c.hidden_dropout_prob);
        get_real(j, "attention_probs_dropout_prob", c.attention_probs_dropout_prob);
        get_size(j, "max_position_embeddings", c.max_position_embeddings);
        get_size(j, "type_vocab_size", c.type_vocab_size);
        get_real(j, "initializer_range", c.initializer_range);
        get_real(j, "layer_norm_eps", c.layer_norm_eps);
        if (j.contains("pad_token_id") && !j["pad_token_id"].is_null()) get_size(j, "pad_token_id", c.pad_token_id);
        if (j.contains("classifier_dropout") && !j["classifier_dropout"].is_null()) {
            double d = 0;
            get_real(j, "classifier_dropout", d);
            c.classifier_dropout = d;
        }
        if (j.contains("problem_type") && j["problem_type"].is_string())
            c.problem_type = j["problem_type"].get<std::string>();
        if (j.contains("id2label")) {
            const json& m = j["id2label"];
            RGRID_CHECK(m.is_object(), "BertConfig: id2label must be an object {\"0\": \"name\", ...}");
            std::vector<std::string> names(m.size());
            std::vector<bool> seen(m.size(), false);
            for (auto it = m.begin(); it != m.end(); ++it) {
                std::size_t id = 0;
                std::size_t pos = 0;
                try {
                    id = std::stoul(it.key(), &pos);
                } catch (const std::exception&) {
                    pos = 0;
                }
                RGRID_CHECK(pos == it.key().size() && pos > 0 && id < m.size() && !seen[id], "BertConfig: id2label key '",
                            it.key(), "' is not a class id in 0..", m.size() - 1, " (or repeats)");
                RGRID_CHECK(it.value().is_string(), "BertConfig: id2label[\"", it.key(), "\"] must be a string");
                names[id] = it.value().get<std::string>();
                seen[id] = true;
            }
            c.id2label = names;
        } else if (j.contains("num_labels")) {
            std::size_t n = 0;
            get_size(j, "num_labels", n);
            c.set_num_labels(n);
        }
        if (j.contains("label2id")) {
            const json& m = j["label2id"];
            RGRID_CHECK(m.is_object(), "BertConfig: label2id must be an object");
            for (std::size_t i = 0; i < c.id2label.size(); ++i) {
                auto it = m.find(c.id2label[i]);
                RGRID_CHECK(it != m.end() && it->is_number_integer() && it->get<long long>() == static_cast<long long>(i),
                            "BertConfig: label2id does not map '", c.id2label[i], "' to ", i,
                            " (id2label and label2id disagree)");
            }
        }
        c.validate();
        return c;
    }

    /// Reads config.json from `path` (errors name the file).
    static BertConfig load(const std::string& path) {
        const json j = read_json_object(path, "BertConfig");
        try {
            return from_json(j);
        } catch (const Error& e) {
            throw Error(path + ": " + e.what());
        }
    }
    /// Writes config.json (2-space indent, like transformers). Not atomic by itself;
    /// save_pretrained() wraps it in an atomic write.
    void save(const std::string& path) const {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        RGRID_CHECK(out, "BertConfig: cannot write ", path);
        out << to_json().dump(2) << '\n';
        RGRID_CHECK(out.good(), "BertConfig: write to ", path, " failed");
    }

    bool operator==(const BertConfig&) const = default;

private:
    static void get_size(const json& j, const char* key, std::size_t& out) {
        if (!j.contains(key)) return;
        const json& v = j[key];
        RGRID_CHECK(v.is_number_integer() && v.get<long long>() >= 0, "BertConfig: field ", key,
                    " must be a non-negative integer, got ", v.dump());
        out = v.get<std::size_t>();
    }
    static void get_real(const json& j, const char* key, double& out) {
        if (!j.contains(key)) return;
        const json& v = j[key];
        RGRID_CHECK(v.is_number(), "BertConfig: field ", key, " must be a number, got ", v.dump());
        out = v.get<double>();
    }
};

}  // namespace rgrid
