#pragma once
// Hugging Face checkpoint directories: load_state_dict (with HF's legacy renames),
// save_pretrained / from_pretrained / masked_lm_from_pretrained / tokenizer_from_pretrained.
// A directory written here loads in transformers with AutoModelForSequenceClassification (or,
// for a BertForMaskedLM, AutoModelForMaskedLM).from_pretrained(dir) and
// AutoTokenizer.from_pretrained(dir), and one written by transformers (safetensors) loads here,
// as does a bare BertModel encoder (all-MiniLM-L6-v2): its missing head is initialized as
// transformers does and reported. Every file is written atomically (io/atomic_file.hpp).
// https://huggingface.co/docs/transformers/main_classes/model#transformers.PreTrainedModel.save_pretrained
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/json.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/io/atomic_file.hpp"
#include "rgrid/io/safetensors.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/nn/bert_config.hpp"
#include "rgrid/nn/module.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/text/vocab.hpp"

namespace rgrid {

/// Whether load_state_dict() demands an exact key match (torch strict=True).
enum class Strict { No, Yes };

/// What load_state_dict() did besides copying tensors.
struct LoadReport {
    std::vector<std::string> missing;      // model parameters the checkpoint lacks (kept as initialized)
    std::vector<std::string> unexpected;   // checkpoint keys that match no parameter
    std::vector<std::pair<std::string, std::string>> renamed;  // (checkpoint key, parameter name)
    std::vector<std::string> skipped;      // ignored on purpose: cls.* heads, *.position_ids, *.token_type_ids
    std::vector<std::string> reinitialized;  // newly initialized (HF rule): a new classifier head, an absent pooler
};

namespace detail {
inline bool ends_with(const std::string& s, const std::string& suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}
/// HF's legacy renames: LayerNorm.gamma -> weight, beta -> bias.
inline std::string hf_rename(std::string k) {
    if (ends_with(k, ".gamma")) return k.substr(0, k.size() - 6) + ".weight";
    if (ends_with(k, ".beta")) return k.substr(0, k.size() - 5) + ".bias";
    return k;
}
/// Buffers HF checkpoints may hold that are no parameters (position ids).
inline bool hf_buffer(const std::string& k) {
    return ends_with(k, ".position_ids") || ends_with(k, ".token_type_ids") || k == "position_ids";
}
inline bool is_head_key(const std::string& k) { return k.rfind("cls.", 0) == 0; }
/// HF's tied aliases of BertForMaskedLM: the decoder's weight is the word-embedding matrix and
/// its bias the head's bias; a checkpoint may hold them under either name (torch .bin files
/// hold both, save_pretrained with safetensors only the target).
inline const char* tied_alias_target(const std::string& k) {
    if (k == "cls.predictions.decoder.weight") return "bert.embeddings.word_embeddings.weight";
    if (k == "cls.predictions.decoder.bias") return "cls.predictions.bias";
    return nullptr;
}
inline std::string join(const std::vector<std::string>& v, std::size_t max_items = 10) {
    std::string s;
    for (std::size_t i = 0; i < v.size() && i < max_items; ++i) s += (i ? ", " : "") + v[i];
    if (v.size() > max_items) s += ", … (" + std::to_string(v.size()) + " in all)";
    return s;
}
}  // namespace detail

/// The module's parameters as a TensorMap keyed by their dotted names (F32 for float).
template <class T>
safetensors::TensorMap state_dict(const Module<T>& module) {
    safetensors::TensorMap m;
    for (const auto& [name, p] : module.named_parameters()) m[name] = safetensors::StoredTensor::from(p->value());
    return m;
}

/// Copies checkpoint tensors into the module's parameters (converting dtype), accepting
/// HF's variants: `gamma`/`beta` for LayerNorm, keys without the `bert.` prefix, the tied
/// aliases `cls.predictions.decoder.{weight,bias}` (= `bert.embeddings.word_embeddings.weight`,
/// `cls.predictions.bias`; skipped when the checkpoint also holds the target). `cls.*` heads are
/// skipped when the module has no `cls.` parameters (a classifier loading an MLM checkpoint:
/// from_pretrained reports them as not used), and so are `*.position_ids` buffers. A wrong shape throws naming the key and
/// both shapes; a NaN or Inf in a tensor throws naming it (nothing is copied then). With
/// Strict::Yes, missing or unexpected keys throw listing them.
/// Example: `auto rep = load_state_dict(model, safetensors::read(path), Strict::No);`
template <class T>
LoadReport load_state_dict(Module<T>& module, const safetensors::TensorMap& map, Strict strict = Strict::Yes) {
    LoadReport rep;
    auto named = module.named_parameters();
    std::map<std::string, Var<T>*> params(named.begin(), named.end());
    std::set<std::string> loaded;
    std::vector<std::pair<std::string, std::pair<std::string, const safetensors::StoredTensor*>>> plan;
    bool has_head = false;  // a model with an MLM head loads cls.*; any other drops it
    for (const auto& [name, p] : named) has_head = has_head || detail::is_head_key(name);
    for (const auto& [key, t] : map) {
        const char* alias_of = has_head ? detail::tied_alias_target(key) : nullptr;
        if (detail::hf_buffer(key) || (!has_head && detail::is_head_key(key)) || (alias_of && map.count(alias_of))) {
            rep.skipped.push_back(key);
            continue;
        }
        std::string name = alias_of ? std::string(alias_of) : detail::hf_rename(key);
        if (!params.count(name) && params.count("bert." + name)) name = "bert." + name;  // bare BertModel checkpoint
        if (!params.count(name) && name.rfind("bert.", 0) == 0 && params.count(name.substr(5)))
            name = name.substr(5);  // a classifier checkpoint loaded into a BertModel
        if (!params.count(name)) {
            rep.unexpected.push_back(key);
            continue;
        }
        if (name != key) rep.renamed.emplace_back(key, name);
        RGRID_CHECK(!loaded.count(name), "load_state_dict: parameter ", name, " appears twice in the checkpoint (key ",
                    key, ")");
        loaded.insert(name);
        Var<T>* p = params[name];
        RGRID_CHECK(shape_of(p->value()) == t.shape, "load_state_dict: ", key, " has shape ", shape_str(t.shape),
                    " in the checkpoint but the model's ", name, " is ", shape_str(p->value().shape()));
        plan.push_back({name, {key, &t}});
    }
    for (const auto& [name, p] : named)
        if (!loaded.count(name)) rep.missing.push_back(name);
    if (strict == Strict::Yes) {
        RGRID_CHECK(rep.missing.empty(), "load_state_dict (strict): missing keys: ", detail::join(rep.missing));
        RGRID_CHECK(rep.unexpected.empty(), "load_state_dict (strict): unexpected keys: ", detail::join(rep.unexpected));
    }
    std::vector<Tensor<T>> values;  // converted and checked before anything is copied
    values.reserve(plan.size());
    for (const auto& [name, src] : plan) {
        try {
            values.push_back(src.second->template as<T>());
        } catch (const Error& e) {
            throw Error(detail::concat("load_state_dict: ", src.first, ": ", e.what()));
        }
        const Tensor<T>& v = values.back();
        for (std::size_t i = 0; i < v.size(); ++i)
            RGRID_CHECK(std::isfinite(v.data()[i]), "load_state_dict: tensor ", src.first, " holds ", v.data()[i],
                        " (element ", i, " of ", v.size(), "): the checkpoint has NaN/Inf weights (a diverged run "
                        "or a corrupt file) and cannot be used");
    }
    for (std::size_t i = 0; i < plan.size(); ++i) {
        Var<T>* p = params[plan[i].first];
        std::copy(values[i].data(), values[i].data() + values[i].size(), p->data());
        p->zero_grad();
    }
    return rep;
}

/// The parameters a task model may lack in a checkpoint: they are then initialized as
/// transformers' BertPreTrainedModel._init_weights does (Linear weight ~ Normal(0,
/// initializer_range), bias 0 — the model constructor's rule) and reported as newly initialized.
/// The classifier (a BertModel checkpoint has none) and the pooler (some encoders ship without it).
/// The MLM head (cls.predictions.*: transform and bias; a BertModel checkpoint such as MiniLM
/// has none) likewise, for BertForMaskedLM.
inline bool newly_initializable(const std::string& name) {
    return name.rfind("classifier.", 0) == 0 || name.rfind("bert.pooler.", 0) == 0 || detail::is_head_key(name);
}

/// The checkpoint keys the model did not use, as transformers lists them: the unexpected keys
/// and the heads of another task that were dropped (cls.* in a classifier).
inline std::vector<std::string> unused_keys(const LoadReport& rep) {
    std::vector<std::string> out = rep.unexpected;
    for (const auto& k : rep.skipped)
        if (detail::is_head_key(k) && !detail::tied_alias_target(k)) out.push_back(k);
    return out;
}

/// transformers' load warnings for `rep`, in its words: the newly initialized weights (with the
/// advice to train) and the checkpoint keys not used. Empty when there is nothing to say.
/// `source` names the checkpoint (a directory). Example: `std::cerr << load_warnings(rep, dir);`
inline std::string load_warnings(const LoadReport& rep, const std::string& source,
                                 const std::string& model_name = "BertForSequenceClassification") {
    std::string out;
    if (!rep.reinitialized.empty())
        out += "Some weights of " + model_name + " were not initialized from the model checkpoint at " + source +
               " and are newly initialized: [" + detail::join(rep.reinitialized, 100) +
               "]\nYou should probably TRAIN this model on a down-stream task to be able to use it for predictions "
               "and inference.\n";
    const std::vector<std::string> unused = unused_keys(rep);
    if (!unused.empty())
        out += "Some weights of the model checkpoint at " + source + " were not used when initializing " + model_name +
               ": [" + detail::join(unused, 100) + "]\n- This IS expected if you are initializing " + model_name +
               " from the checkpoint of a model trained on another task or with another architecture (e.g. "
               "initializing a BertForSequenceClassification model from a BertForMaskedLM model).\n";
    return out;
}

/// Options of from_pretrained(): a new label set re-creates the classifier head when its
/// size differs from the checkpoint's (fine-tuning a pretrained encoder).
struct PretrainedOptions {
    std::optional<std::vector<std::string>> id2label;  // label names (index = class id)
    std::optional<std::size_t> num_labels;             // or just a count (LABEL_0, …)
    std::uint64_t seed = 0;                            // init of anything the checkpoint lacks
    std::ostream* log = nullptr;                       // gets load_warnings() once, when non-empty
};

namespace detail {
/// The files of a checkpoint directory: model.safetensors (the module's state_dict),
/// config.json (`config` as written for `architecture`), vocab.txt, tokenizer_config.json.
template <class T>
void write_checkpoint_files(const Module<T>& model, const BertConfig& config, const std::string& architecture,
                            const std::string& dir, const Vocab& vocab, bool do_lower_case) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir, ec);
    RGRID_CHECK(!ec && fs::is_directory(dir), "save_pretrained: cannot create directory ", dir, ": ", ec.message());
    std::string vocab_txt;
    for (const auto& t : vocab.tokens()) vocab_txt += t + '\n';
    const auto bytes = safetensors::serialize(state_dict(model), {{"format", "pt"}});
    write_file_atomic((fs::path(dir) / "model.safetensors").string(), bytes.data(), bytes.size());
    write_file_atomic((fs::path(dir) / "config.json").string(), config.to_json(architecture).dump(2) + "\n");
    write_file_atomic((fs::path(dir) / "vocab.txt").string(), vocab_txt);
    json tc = {{"do_lower_case", do_lower_case},
               {"model_max_length", 512},
               {"tokenizer_class", "BertTokenizer"},
               {"unk_token", "[UNK]"},
               {"sep_token", "[SEP]"},
               {"pad_token", "[PAD]"},
               {"cls_token", "[CLS]"},
               {"mask_token", "[MASK]"},
               {"tokenize_chinese_chars", true},
               {"strip_accents", nullptr}};
    write_file_atomic((fs::path(dir) / "tokenizer_config.json").string(), tc.dump(2) + "\n");
}
}  // namespace detail

/// Writes an HF checkpoint directory: config.json, model.safetensors, vocab.txt (the
/// tokenizer's vocabulary, one token per line in id order), tokenizer_config.json. Each file is
/// written atomically. (The vocabulary's size is checked against vocab_size when the checkpoint
/// is loaded: tokenizer_from_pretrained.)
/// Example: `save_pretrained(model, "runs/spam/best", tokenizer);`
template <class T>
void save_pretrained(const BertForSequenceClassification<T>& model, const std::string& dir, const Vocab& vocab,
                     bool do_lower_case = true) {
    detail::write_checkpoint_files(model, model.config(), "BertForSequenceClassification", dir, vocab, do_lower_case);
}
/// The same for a masked-LM model: config.json says `architectures: ["BertForMaskedLM"]`, and
/// model.safetensors holds the tied decoder once (as bert.embeddings.word_embeddings.weight, the
/// head's bias as cls.predictions.bias), as transformers' save_pretrained writes it, so
/// AutoModelForMaskedLM.from_pretrained(dir) loads it with no missing or unexpected key.
/// Example: `save_pretrained(mlm, "runs/tapt/last", tokenizer);`
template <class T>
void save_pretrained(const BertForMaskedLM<T>& model, const std::string& dir, const Vocab& vocab,
                     bool do_lower_case = true) {
    detail::write_checkpoint_files(model, model.config(), "BertForMaskedLM", dir, vocab, do_lower_case);
}
/// Same, with the vocabulary and casing of `tokenizer` (what Trainer saves).
template <class Model>
    requires requires(const Model& m) { m.config(); }
void save_pretrained(const Model& model, const std::string& dir, const BertTokenizer& tokenizer) {
    save_pretrained(model, dir, tokenizer.vocab(), tokenizer.do_lower_case());
}
/// Same, with the vocabulary read from `vocab_path` (a vocab.txt).
template <class Model>
    requires requires(const Model& m) { m.config(); }
void save_pretrained(const Model& model, const std::string& dir, const std::string& vocab_path,
                     bool do_lower_case = true) {
    save_pretrained(model, dir, Vocab::from_file(vocab_path), do_lower_case);
}

/// Reads do_lower_case from `dir`/tokenizer_config.json (true when absent, as HF BERT).
inline bool pretrained_do_lower_case(const std::string& dir) {
    const std::string path = (std::filesystem::path(dir) / "tokenizer_config.json").string();
    if (!std::filesystem::exists(path)) return true;
    const json j = read_json_object(path, "tokenizer_config.json");
    if (!j.contains("do_lower_case")) return true;
    RGRID_CHECK(j["do_lower_case"].is_boolean(), path, ": do_lower_case must be true or false");
    return j["do_lower_case"].get<bool>();
}

namespace detail {
// The WordPiece vocabulary and casing of a Hugging Face tokenizer.json (what transformers 5
// saves instead of vocab.txt). Only BERT's pipeline is accepted: BertNormalizer (clean_text,
// handle_chinese_chars, strip_accents null or = lowercase), BertPreTokenizer, WordPiece with
// "##", [UNK] and 100 chars per word; anything else is an error naming the field.
inline BertTokenizer bert_tokenizer_from_json(const std::string& path) {
    const json j = read_json_object(path, "tokenizer_from_pretrained");
    auto field = [&](const json& obj, const char* parent, const char* key) -> const json& {
        RGRID_CHECK(obj.is_object() && obj.contains(key), path, ": field ", parent, ".", key, " is missing");
        return obj.at(key);
    };
    auto expect = [&](const json& obj, const char* parent, const char* key, const json& want) {
        const json& v = field(obj, parent, key);
        RGRID_CHECK(v == want, path, ": field ", parent, ".", key, " is ", v.dump(), ", rgrid's BERT tokenizer needs ",
                    want.dump());
    };
    const json& model = field(j, "(top)", "model");
    expect(model, "model", "type", "WordPiece");
    expect(model, "model", "continuing_subword_prefix", "##");
    expect(model, "model", "unk_token", "[UNK]");
    expect(model, "model", "max_input_chars_per_word", 100);
    const json& norm = field(j, "(top)", "normalizer");
    expect(norm, "normalizer", "type", "BertNormalizer");
    expect(norm, "normalizer", "clean_text", true);
    expect(norm, "normalizer", "handle_chinese_chars", true);
    const json& lower = field(norm, "normalizer", "lowercase");
    RGRID_CHECK(lower.is_boolean(), path, ": field normalizer.lowercase must be true or false");
    const json& strip = field(norm, "normalizer", "strip_accents");
    RGRID_CHECK(strip.is_null() || strip == lower, path, ": field normalizer.strip_accents is ", strip.dump(),
                " but lowercase is ", lower.dump(), " (rgrid strips accents exactly when it lowercases, as BERT)");
    expect(field(j, "(top)", "pre_tokenizer"), "pre_tokenizer", "type", "BertPreTokenizer");
    const json& vocab = field(model, "model", "vocab");
    RGRID_CHECK(vocab.is_object() && !vocab.empty(), path, ": field model.vocab must be a non-empty object");
    std::vector<std::string> tokens(vocab.size());
    std::vector<bool> seen(vocab.size(), false);
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
        RGRID_CHECK(it.value().is_number_unsigned() && it.value().get<std::size_t>() < tokens.size() &&
                        !seen[it.value().get<std::size_t>()],
                    path, ": model.vocab[\"", it.key(), "\"] = ", it.value().dump(), " is not a unique id in 0..",
                    tokens.size() - 1);
        tokens[it.value().get<std::size_t>()] = it.key();
        seen[it.value().get<std::size_t>()] = true;
    }
    return BertTokenizer(Vocab(std::move(tokens)), lower.get<bool>());
}
}  // namespace detail

/// The tokenizer of a checkpoint directory: `dir`/vocab.txt with do_lower_case from
/// tokenizer_config.json, or, where there is no vocab.txt (transformers 5 saves only
/// tokenizer.json), the WordPiece vocabulary and casing of `dir`/tokenizer.json. The
/// vocabulary must have exactly config.json's vocab_size tokens (the rows of the embedding
/// matrix); otherwise the error gives both sizes.
/// Example: `BertTokenizer tok = tokenizer_from_pretrained("models/minilm-l6");`
inline BertTokenizer tokenizer_from_pretrained(const std::string& dir) {
    namespace fs = std::filesystem;
    std::string source = (fs::path(dir) / "vocab.txt").string();
    const std::string tokenizer_json = (fs::path(dir) / "tokenizer.json").string();
    RGRID_CHECK(fs::exists(source) || fs::exists(tokenizer_json), "tokenizer_from_pretrained: ", source,
                " not found, nor tokenizer.json (a checkpoint directory holds its WordPiece vocabulary in one of them)");
    std::optional<BertTokenizer> tok;
    if (fs::exists(source)) {
        tok.emplace(BertTokenizer::from_file(source, pretrained_do_lower_case(dir)));
    } else {
        source = tokenizer_json;
        tok.emplace(detail::bert_tokenizer_from_json(tokenizer_json));
    }
    const std::string config = (fs::path(dir) / "config.json").string();
    if (fs::exists(config)) {
        const BertConfig cfg = BertConfig::load(config);
        RGRID_CHECK(tok->vocab().size() == cfg.vocab_size, "tokenizer_from_pretrained: ", source, " has ",
                    tok->vocab().size(), " tokens but the model's embedding matrix "
                    "(bert.embeddings.word_embeddings.weight) has vocab_size = ", cfg.vocab_size,
                    " rows (config.json); the vocabulary belongs to another model");
    }
    return std::move(*tok);
}

namespace detail {
/// `dir`/model.safetensors, checked to exist (errors name the path).
inline std::string checkpoint_weights(const std::string& dir) {
    namespace fs = std::filesystem;
    RGRID_CHECK(fs::is_directory(dir), "from_pretrained: ", dir, " is not a directory");
    const fs::path weights = fs::path(dir) / "model.safetensors";
    RGRID_CHECK(fs::exists(weights), "from_pretrained: ", weights.string(),
                " not found (only safetensors checkpoints are read; convert pytorch_model.bin with "
                "transformers: model.save_pretrained(dir, safe_serialization=True))");
    const fs::path config = fs::path(dir) / "config.json";
    RGRID_CHECK(!fs::exists(config) || !read_json_object(config.string(), "from_pretrained").contains("quantization_config"),
                "from_pretrained: ", dir, " is an int8 checkpoint (config.json has quantization_config, written by "
                "rgrid-quantize): load it with load_quantized (io/quantized.hpp) or Predictor::from_pretrained; it "
                "cannot be fine-tuned or loaded as fp32 (quantize the fp32 checkpoint it came from instead)");
    return weights.string();
}
/// The common part of the from_pretrained functions: load_state_dict (not strict), the
/// missing parameters a task model may lack become `reinitialized` (newly_initializable; any
/// other is an error naming it), the warnings go to options.log, the report to *report; eval mode.
/// `dropped` lists checkpoint keys removed beforehand (a replaced classifier).
template <class T>
void load_checkpoint_into(Module<T>& model, const safetensors::TensorMap& map, const std::string& dir,
                          const std::string& weights, const std::string& model_name, const PretrainedOptions& options,
                          LoadReport* report, const std::vector<std::string>& dropped) {
    LoadReport rep;
    try {
        rep = load_state_dict(model, map, Strict::No);
    } catch (const Error& e) {
        throw Error(concat("from_pretrained: ", weights, ": ", e.what()));
    }
    rep.skipped.insert(rep.skipped.end(), dropped.begin(), dropped.end());
    std::vector<std::string> missing_other;
    for (const auto& m : rep.missing) {
        if (newly_initializable(m)) rep.reinitialized.push_back(m);
        else missing_other.push_back(m);
    }
    RGRID_CHECK(missing_other.empty(), "from_pretrained: ", weights, " lacks ", missing_other.size(),
                " parameters: ", join(missing_other));
    if (options.log) *options.log << load_warnings(rep, dir, model_name);
    if (report) *report = rep;
    model.eval();
}
}  // namespace detail

/// Loads an HF checkpoint directory (config.json + model.safetensors) into a sequence
/// classifier, as transformers' from_pretrained does: legacy names are accepted (see
/// load_state_dict); what the checkpoint lacks of the head (a BertModel encoder: the
/// classifier, maybe the pooler; see newly_initializable) keeps the HF initialization and is
/// listed in report->reinitialized; a label override of a different size replaces the stored
/// head; keys that match no parameter are listed in report->unexpected. Both are written once
/// to options.log (load_warnings). Any other missing parameter is an error naming it.
/// Example:
///   LoadReport rep;
///   auto model = from_pretrained<float>("models/minilm-l6", {.id2label = ds.label_names, .log = &std::cerr}, &rep);
template <class T>
std::unique_ptr<BertForSequenceClassification<T>> from_pretrained(const std::string& dir,
                                                                   const PretrainedOptions& options = {},
                                                                   LoadReport* report = nullptr) {
    const std::string weights = detail::checkpoint_weights(dir);
    BertConfig cfg = BertConfig::load((std::filesystem::path(dir) / "config.json").string());
    const std::size_t stored_k = cfg.num_labels();
    if (options.id2label) {
        cfg.id2label = *options.id2label;
    } else if (options.num_labels && *options.num_labels != stored_k) {
        cfg.set_num_labels(*options.num_labels);
    }
    RGRID_CHECK(cfg.num_labels() > 0, "from_pretrained: need at least one label");
    safetensors::TensorMap map = safetensors::read(weights);
    const bool override_k = cfg.num_labels() != stored_k;
    std::vector<std::string> dropped;
    if (override_k) {  // a new head: the stored classifier (if any) does not apply
        for (const char* k : {"classifier.weight", "classifier.bias"}) {
            if (map.erase(k)) dropped.push_back(k);
        }
    }
    Rng rng(options.seed);
    auto model = std::make_unique<BertForSequenceClassification<T>>(cfg, rng);
    detail::load_checkpoint_into(*model, map, dir, weights, "BertForSequenceClassification", options, report, dropped);
    return model;
}

/// Loads an HF checkpoint directory into a BertForMaskedLM, as transformers'
/// AutoModelForMaskedLM.from_pretrained does: an MLM checkpoint (rgrid's or transformers',
/// the decoder under either of its tied names) loads whole; a BertModel encoder without an MLM
/// head (all-MiniLM-L6-v2) gets a fresh head (HF init: transform dense ~ Normal(0,
/// initializer_range), LayerNorm 1/0, bias 0), listed in report->reinitialized; a pooler or
/// classifier in the checkpoint is not used (report->unexpected). Both are written once to
/// options.log. The model is returned in eval mode.
/// Example: `auto mlm = masked_lm_from_pretrained<float>("models/minilm-l6", {.seed = 42, .log = &std::cout});`
template <class T>
std::unique_ptr<BertForMaskedLM<T>> masked_lm_from_pretrained(const std::string& dir,
                                                               const PretrainedOptions& options = {},
                                                               LoadReport* report = nullptr) {
    const std::string weights = detail::checkpoint_weights(dir);
    const BertConfig cfg = BertConfig::load((std::filesystem::path(dir) / "config.json").string());
    const safetensors::TensorMap map = safetensors::read(weights);
    Rng rng(options.seed);
    auto model = std::make_unique<BertForMaskedLM<T>>(cfg, rng);
    detail::load_checkpoint_into(*model, map, dir, weights, "BertForMaskedLM", options, report, {});
    return model;
}

}  // namespace rgrid
