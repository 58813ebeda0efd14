#pragma once
// training_state.safetensors: everything beyond the weights that an exact resume needs.
// Tensors: "optimizer.exp_avg.<param>", "optimizer.exp_avg_sq.<param>" (F32, the
// parameter's shape) and "optimizer.step.<param>" (I64, shape (1)) for every parameter the
// optimizer has touched. Metadata (strings): global_step, epoch (completed epochs),
// batch_in_epoch (batches of the current epoch already done — the epoch's batch order is a
// function of (seed, epoch), see Batcher::plan), the dropout RNG state (rng_key,
// rng_counter), loss sums as C hex floats (bit-exact), best_f1/best_epoch, the early-stopping
// counter. Written atomically (temp file + fsync + rename).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "rgrid/core/error.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/io/pretrained.hpp"
#include "rgrid/io/safetensors.hpp"
#include "rgrid/nn/module.hpp"
#include "rgrid/optim/adamw.hpp"

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

/// Writes the optimizer moments and the trainer state to `path` atomically.
/// Example: `save_training_state("runs/x/last/training_state.safetensors", model, opt, state, rng);`
template <class T>
void save_training_state(const std::string& path, const Module<T>& model, const AdamW<T>& opt,
                         const TrainerState& st, const Rng& dropout_rng) {
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

}  // namespace rgrid
