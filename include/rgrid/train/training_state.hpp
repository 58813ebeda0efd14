#pragma once
// training_state.safetensors: everything beyond the weights that an exact resume needs.
// Tensors: "optimizer.exp_avg.<param>", "optimizer.exp_avg_sq.<param>" (F32, the
// parameter's shape) and "optimizer.step.<param>" (I64, shape (1)) for every parameter the
// optimizer has touched. Metadata (strings): global_step, epoch (completed epochs),
// batch_in_epoch (batches of the current epoch already done — the epoch's batch order is a
// function of (seed, epoch), see Batcher::plan), the dropout RNG state (rng_key,
// rng_counter), loss sums as C hex floats (bit-exact), best_f1/best_epoch, the early-stopping
// counter, and `training_args` (the run's TrainingArguments as JSON, so that a resume can
// say which settings changed). Written atomically (temp file + fsync + rename).
// Resuming: find_resume_checkpoint() turns a run's output directory into its last/ checkpoint,
// check_same_model_size() refuses a model of another size, changed_settings() lists the rest.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/core/json.hpp"
#include "rgrid/io/pretrained.hpp"
#include "rgrid/io/safetensors.hpp"
#include "rgrid/nn/bert_config.hpp"
#include "rgrid/nn/module.hpp"
#include "rgrid/optim/adamw.hpp"
#include "rgrid/train/training_arguments.hpp"

namespace rgrid {

/// Trainer progress (resumable). `epoch` = completed epochs; `batch_in_epoch` = batches of
/// the running epoch already applied.
struct TrainerState {
    std::size_t global_step = 0;
    std::size_t epoch = 0;
    std::size_t batch_in_epoch = 0;
    double loss_sum = 0;          // over all steps
    double epoch_loss_sum = 0;    // over this epoch's steps
    std::size_t epoch_steps = 0;
    double best_f1 = -1;
    std::size_t best_epoch = 0;
    std::size_t epochs_without_improvement = 0;
    bool stop = false;
    bool operator==(const TrainerState&) const = default;
};

namespace detail {
inline std::string hex_double(double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%a", v);
    return b;
}
inline const std::string& meta_at(const safetensors::Metadata& m, const std::string& key, const std::string& path) {
    auto it = m.find(key);
    RGRID_CHECK(it != m.end(), path, ": training state has no '", key, "' (not written by rgrid's Trainer?)");
    return it->second;
}
inline std::uint64_t meta_u64(const safetensors::Metadata& m, const std::string& key, const std::string& path) {
    const std::string& s = meta_at(m, key, path);
    char* end = nullptr;
    unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    RGRID_CHECK(!s.empty() && end && *end == '\0', path, ": training state field '", key, "' = '", s,
                "' is not an unsigned integer");
    return v;
}
inline double meta_double(const safetensors::Metadata& m, const std::string& key, const std::string& path) {
    const std::string& s = meta_at(m, key, path);
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    RGRID_CHECK(!s.empty() && end && *end == '\0', path, ": training state field '", key, "' = '", s,
                "' is not a number");
    return v;
}
}  // namespace detail

/// The settings of a run as a JSON object, one member per TrainingArguments field.
/// Example: `training_settings(args)["learning_rate"]` is 5e-05 by default.
inline json training_settings(const TrainingArguments& a) {
    return json{{"output_dir", a.output_dir},
                {"num_train_epochs", a.num_train_epochs},
                {"max_steps", a.max_steps},
                {"per_device_train_batch_size", a.per_device_train_batch_size},
                {"per_device_eval_batch_size", a.per_device_eval_batch_size},
                {"gradient_accumulation_steps", a.gradient_accumulation_steps},
                {"learning_rate", a.learning_rate},
                {"warmup_ratio", a.warmup_ratio},
                {"weight_decay", a.weight_decay},
                {"max_grad_norm", a.max_grad_norm},
                {"max_length", a.max_length},
                {"stride", a.stride},
                {"max_windows", a.max_windows},
                {"eval_max_windows", a.eval_max_windows},
                {"aggregation", aggregation_name(a.aggregation)},
                {"seed", a.seed},
                {"threads", a.threads},
                {"evaluate_each_epoch", a.evaluate_each_epoch},
                {"save_each_epoch", a.save_each_epoch},
                {"early_stopping_patience", a.early_stopping_patience},
                {"class_weights", a.class_weights},
                {"logging_steps", a.logging_steps},
                {"bucket_batches", a.bucket_batches}};
}

/// Writes the optimizer moments and the trainer state to `path` atomically; with `args`, also
/// the run's settings (training_settings), which load_training_settings() reads back.
/// Example: `save_training_state("runs/x/last/training_state.safetensors", model, opt, state, rng, &args);`
template <class T>
void save_training_state(const std::string& path, const Module<T>& model, const AdamW<T>& opt,
                         const TrainerState& st, const Rng& dropout_rng, const TrainingArguments* args = nullptr) {
    safetensors::TensorMap map;
    for (const auto& [name, p] : model.named_parameters()) {
        const auto& s = opt.state(p);
        if (s.step == 0) continue;
        map["optimizer.exp_avg." + name] = safetensors::StoredTensor::from(s.exp_avg);
        map["optimizer.exp_avg_sq." + name] = safetensors::StoredTensor::from(s.exp_avg_sq);
        IndexTensor step = IndexTensor::from_shape({1});
        step(0) = s.step;
        map["optimizer.step." + name] = safetensors::StoredTensor::from(step);
    }
    safetensors::Metadata meta{
        {"format", "rgrid-training-state-1"},
        {"global_step", std::to_string(st.global_step)},
        {"epoch", std::to_string(st.epoch)},
        {"batch_in_epoch", std::to_string(st.batch_in_epoch)},
        {"loss_sum", detail::hex_double(st.loss_sum)},
        {"epoch_loss_sum", detail::hex_double(st.epoch_loss_sum)},
        {"epoch_steps", std::to_string(st.epoch_steps)},
        {"best_f1", detail::hex_double(st.best_f1)},
        {"best_epoch", std::to_string(st.best_epoch)},
        {"epochs_without_improvement", std::to_string(st.epochs_without_improvement)},
        {"stop", st.stop ? "1" : "0"},
        {"rng_key", std::to_string(dropout_rng.key())},
        {"rng_counter", std::to_string(dropout_rng.counter())},
        {"lr", detail::hex_double(opt.lr())},
    };
    if (args) meta["training_args"] = training_settings(*args).dump();
    const auto buf = safetensors::serialize(map, meta);
    write_file_atomic(path, buf.data(), buf.size());
}

/// Restores what save_training_state wrote into `opt` and `dropout_rng` and returns the
/// trainer state. Parameter names and shapes must match the model (errors name the key).
template <class T>
TrainerState load_training_state(const std::string& path, const Module<T>& model, AdamW<T>& opt, Rng& dropout_rng) {
    safetensors::Metadata meta;
    auto map = safetensors::read(path, &meta);
    RGRID_CHECK(detail::meta_at(meta, "format", path) == "rgrid-training-state-1", path,
                ": unknown training state format '", meta["format"], "'");
    for (const auto& [name, p] : model.named_parameters()) {
        auto it = map.find("optimizer.exp_avg." + name);
        if (it == map.end()) continue;  // never updated (no gradient yet)
        auto& s = opt.state(p);
        s.exp_avg = it->second.template as<T>();
        s.exp_avg_sq = map.at("optimizer.exp_avg_sq." + name).template as<T>();
        auto step_it = map.find("optimizer.step." + name);
        RGRID_CHECK(step_it != map.end(), path, ": missing optimizer.step.", name);
        s.step = step_it->second.template as<std::int64_t>()(0);
        RGRID_CHECK(shape_of(s.exp_avg) == shape_of(p->value()) && shape_of(s.exp_avg_sq) == shape_of(p->value()),
                    path, ": optimizer state for '", name, "' has shape ", shape_str(s.exp_avg), " but the parameter is ",
                    shape_str(p->value()));
    }
    TrainerState st;
    st.global_step = detail::meta_u64(meta, "global_step", path);
    st.epoch = detail::meta_u64(meta, "epoch", path);
    st.batch_in_epoch = detail::meta_u64(meta, "batch_in_epoch", path);
    st.loss_sum = detail::meta_double(meta, "loss_sum", path);
    st.epoch_loss_sum = detail::meta_double(meta, "epoch_loss_sum", path);
    st.epoch_steps = detail::meta_u64(meta, "epoch_steps", path);
    st.best_f1 = detail::meta_double(meta, "best_f1", path);
    st.best_epoch = detail::meta_u64(meta, "best_epoch", path);
    st.epochs_without_improvement = detail::meta_u64(meta, "epochs_without_improvement", path);
    st.stop = detail::meta_u64(meta, "stop", path) != 0;
    dropout_rng.set_state(detail::meta_u64(meta, "rng_key", path), detail::meta_u64(meta, "rng_counter", path));
    return st;
}

/// The settings save_training_state() stored in `path` (training_settings), or an empty
/// object when the state predates them.
inline json load_training_settings(const std::string& path) {
    safetensors::Metadata meta;
    safetensors::read(path, &meta);
    auto it = meta.find("training_args");
    if (it == meta.end()) return json::object();
    json j = json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    RGRID_CHECK(j.is_object(), path, ": training state field 'training_args' is not a JSON object");
    return j;
}

/// One line per setting whose value differs, "name: before -> now", by name; settings
/// missing from `before` (an older state) are not listed.
/// Example: `changed_settings(load_training_settings(p), training_settings(args))`
///   → {"learning_rate: 5e-05 -> 0.0001"}
inline std::vector<std::string> changed_settings(const json& before, const json& now) {
    auto text = [](const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    std::vector<std::string> out;
    for (const auto& [name, value] : now.items()) {
        auto it = before.find(name);
        if (it != before.end() && *it != value) out.push_back(name + ": " + text(*it) + " -> " + text(value));
    }
    return out;
}

/// The checkpoint a resume of `dir` continues from: `dir` itself when it holds
/// training_state.safetensors (e.g. runs/x/last), else `dir`/last when that does (`dir` is the
/// output directory of a run, as HF's resume_from_checkpoint=True finds the latest checkpoint).
/// Example: `find_resume_checkpoint("runs/x")` → "runs/x/last".
inline std::string find_resume_checkpoint(const std::string& dir) {
    namespace fs = std::filesystem;
    const std::string state = "training_state.safetensors";
    RGRID_CHECK(fs::is_directory(dir), "resume: ", dir, " is not a directory (give the output directory of the run ",
                "to continue, or its last/ checkpoint)");
    if (fs::is_regular_file(fs::path(dir) / state)) return dir;
    const std::string last = (fs::path(dir) / "last").string();
    if (fs::is_regular_file(fs::path(last) / state)) return last;
    throw Error("resume: neither " + (fs::path(dir) / state).string() + " nor " + (fs::path(last) / state).string() +
                " exists (give the output directory of an interrupted run, or its last/ checkpoint; best/ has no "
                "training state)");
}

/// Throws unless `requested` (what this command line asks for) has the size of the model in
/// the checkpoint being resumed — layers, hidden size, heads, intermediate size, positions,
/// token types — listing every difference. `what` names the request, e.g. "--preset small".
inline void check_same_model_size(const BertConfig& checkpoint, const BertConfig& requested, const std::string& what,
                                  const std::string& checkpoint_dir) {
    std::string diff;
    auto field = [&](const char* name, std::size_t have, std::size_t want) {
        if (have != want) diff += std::string(diff.empty() ? "" : ", ") + name + " " + std::to_string(have) + " vs " +
                                  std::to_string(want);
    };
    field("num_hidden_layers", checkpoint.num_hidden_layers, requested.num_hidden_layers);
    field("hidden_size", checkpoint.hidden_size, requested.hidden_size);
    field("num_attention_heads", checkpoint.num_attention_heads, requested.num_attention_heads);
    field("intermediate_size", checkpoint.intermediate_size, requested.intermediate_size);
    field("max_position_embeddings", checkpoint.max_position_embeddings, requested.max_position_embeddings);
    field("type_vocab_size", checkpoint.type_vocab_size, requested.type_vocab_size);
    RGRID_CHECK(diff.empty(), "resume: the model in ", checkpoint_dir, " is not the size ", what, " asks for (",
                diff, "; checkpoint vs request); a run resumes with the model size it started with");
}

}  // namespace rgrid
