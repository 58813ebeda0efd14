#pragma once
// The files a training run writes next to its checkpoints, as TrainerCallbacks (the Trainer
// adds both): DIR/metrics.jsonl (every on_log record, then the train summary) and
// DIR/curves.svg (redrawn after every evaluation).
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "rgrid/io/pretrained.hpp"
#include "rgrid/train/callback.hpp"
#include "rgrid/train/report/confusion_report.hpp"
#include "rgrid/train/report/curve_svg.hpp"
#include "rgrid/train/report/metrics_log.hpp"

namespace rgrid {

namespace detail {
/// The value of an integer field `"key":N` in a metrics.jsonl line, if present.
inline std::optional<std::int64_t> jsonl_int_field(const std::string& line, const std::string& key) {
    const std::string tag = "\"" + key + "\":";
    const auto at = line.find(tag);
    if (at == std::string::npos) return std::nullopt;
    const char* begin = line.c_str() + at + tag.size();
    char* end = nullptr;
    const long long v = std::strtoll(begin, &end, 10);
    if (end == begin) return std::nullopt;
    return v;
}

/// Keeps the lines of `path` logged at or before `step` (a resume redoes the later ones and
/// logs them again); rewrites the file atomically. A missing file is left missing.
inline void drop_lines_after_step(const std::string& path, std::size_t step) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return;
    std::string kept, line;
    bool dropped = false;
    while (std::getline(in, line)) {
        auto s = jsonl_int_field(line, "step");
        if (!s) s = jsonl_int_field(line, "global_step");  // the train_summary line
        if (s && *s > std::int64_t(step)) {
            dropped = true;
            continue;
        }
        kept += line + '\n';
    }
    in.close();
    if (dropped) write_file_atomic(path, kept);
}

/// The value of a field of a log record, if it is there with type V.
template <class V>
const V* log_field(const LogRecord& rec, const std::string& key) {
    for (const auto& [k, v] : rec)
        if (k == key) return std::get_if<V>(&v);
    return nullptr;
}
}  // namespace detail

/// Appends every on_log record to `path` and the train summary at the end. A fresh run
/// (start step 0) truncates the file; a resumed run keeps the lines up to its start step and
/// drops the later ones, so no step is logged twice.
/// Example: `trainer.add_callback(metrics_log_reporter("runs/x/metrics.jsonl"));`
inline TrainerCallback metrics_log_reporter(std::string path) {
    auto log = std::make_shared<std::optional<MetricsLog>>();
    TrainerCallback cb;
    cb.on_train_begin = [log, path](const TrainBegin& b) {
        if (b.start_step > 0) detail::drop_lines_after_step(path, b.start_step);
        log->emplace(path, /*truncate=*/b.start_step == 0);
    };
    cb.on_log = [log](const LogRecord& rec) {
        if (*log) (*log)->write(rec);
    };
    cb.on_train_end = [log](const TrainOutput& out) {
        if (!*log) return;
        (*log)->write({{"type", std::string("train_summary")},
                       {"global_step", std::int64_t(out.global_step)},
                       {"training_loss", out.training_loss},
                       {"train_runtime", out.train_runtime},
                       {"train_samples_per_second", out.train_samples_per_second},
                       {"train_steps_per_second", out.train_steps_per_second},
                       {"best_eval_f1", out.best_f1},
                       {"best_epoch", std::int64_t(out.best_epoch)}});
    };
    return cb;
}

/// The panels of curves.svg from the epoch rows and the logged (step, loss) points.
using CurvePanelsFn = std::function<std::vector<CurvePanel>(const std::vector<EpochRow>& epochs,
                                                             const std::vector<double>& loss_x,
                                                             const std::vector<double>& loss_y,
                                                             std::size_t logging_steps)>;

/// Redraws `path` (curves.svg) after every evaluation: the training loss of every "log"
/// record, train/validation loss per epoch and the validation metrics per epoch (or the
/// panels `panels` draws from the same series).
/// Example: `trainer.add_callback(curves_reporter("runs/x/curves.svg", args.logging_steps));`
inline TrainerCallback curves_reporter(std::string path, std::size_t logging_steps,
                                       CurvePanelsFn panels = training_curve_panels) {
    struct Series {
        std::vector<double> step, loss;  // per "log" record
        std::vector<EpochRow> epochs;
    };
    auto s = std::make_shared<Series>();
    TrainerCallback cb;
    cb.on_log = [s](const LogRecord& rec) {
        const auto* type = detail::log_field<std::string>(rec, "type");
        const auto* step = detail::log_field<std::int64_t>(rec, "step");
        const auto* loss = detail::log_field<double>(rec, "loss");
        if (!type || *type != "log" || !step || !loss) return;
        s->step.push_back(double(*step));
        s->loss.push_back(*loss);
    };
    cb.on_evaluate = [s, path, logging_steps, panels](const EpochRow& row, const EvalReport&) {
        s->epochs.push_back(row);
        write_curves_svg(path, panels(s->epochs, s->step, s->loss, logging_steps));
    };
    return cb;
}

/// Redraws `path` (e.g. DIR/confusion_val.svg) after every evaluation that has a confusion
/// matrix (classification): the validation confusion matrix of the latest epoch as a heat map.
inline TrainerCallback confusion_reporter(std::string path) {
    TrainerCallback cb;
    cb.on_evaluate = [path](const EpochRow& row, const EvalReport& ev) {
        if (ev.label_names.empty()) return;
        write_confusion_svg(path, ev.confusion, ev.label_names, "Validation, epoch " + std::to_string(row.epoch));
    };
    return cb;
}

}  // namespace rgrid
