#pragma once
// What a Hugging Face Trainer user expects to see, as a TrainerCallback writing to a stream
// the program supplies: the windows-vs-documents counts, a progress bar per epoch, the epoch
// table (with an over-fitting warning under it when validation loss rises for two evaluations
// while training loss falls), save notices and the train summary.
#include <cstdio>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "rgrid/train/report/epoch_table.hpp"
#include "rgrid/train/report/progress_bar.hpp"
#include "rgrid/train/trainer.hpp"

namespace rgrid {

/// Options of console_reporter(). `redraw` = tqdm-style single line (terminals); otherwise a
/// progress line every `line_every` steps (logs, CI).
struct ConsoleOptions {
    bool redraw = true;
    std::size_t line_every = 0;  // 0 with redraw=false: only the last line of each epoch
    /// Prints the epoch's row instead of the classification table (and its over-fitting note),
    /// e.g. masked-LM pretraining's loss and perplexity (train/report/mlm_report.hpp).
    std::function<void(const EpochRow&, const EvalReport&)> epoch_row;
};

/// HF-style console output for Trainer. Example: `trainer.add_callback(console_reporter(std::cout));`
inline TrainerCallback console_reporter(std::ostream& os, ConsoleOptions opt = {}) {
    struct Shared {
        std::unique_ptr<ProgressBar> bar;
        EpochTable table;
        std::size_t epochs = 0;
        std::vector<EpochRow> rows;     // for the over-fitting check
        bool overfitting_told = false;
        explicit Shared(std::ostream& o) : table(o) {}
    };
    auto sh = std::make_shared<Shared>(os);
    TrainerCallback cb;
    cb.on_train_begin = [&os](const TrainBegin& b) {
        char buf[256];
        os << "***** Running training *****\n";
        std::snprintf(buf, sizeof buf,
                      "  Documents: %zu train, %zu validation\n"
                      "  Windows:   %zu train (%.2f per document; %zu documents need more than one window, %zu capped), "
                      "%zu validation\n",
                      b.train_documents, b.val_documents, b.train_windows,
                      b.train_documents ? double(b.train_windows) / double(b.train_documents) : 0.0, b.train_long_docs,
                      b.train_capped_docs, b.val_windows);
        os << buf;
        std::snprintf(buf, sizeof buf, "  Steps: %zu per epoch, %zu total%s; parameters: %zu\n", b.steps_per_epoch,
                      b.total_steps, b.start_step ? (" (resuming at " + std::to_string(b.start_step) + ")").c_str() : "",
                      b.num_parameters);
        os << buf;
        if (!b.class_weights.empty()) {
            os << "  Class weights:";
            for (double w : b.class_weights) {
                std::snprintf(buf, sizeof buf, " %.3f", w);
                os << buf;
            }
            os << '\n';
        }
        os << std::flush;
    };
    cb.on_epoch_begin = [sh, &os, opt](std::size_t epoch, std::size_t steps) {
        if (sh->bar) sh->bar->close();
        sh->bar = std::make_unique<ProgressBar>(os, steps, "Epoch " + std::to_string(epoch), opt.redraw, opt.line_every);
    };
    cb.on_step_end = [sh](std::size_t step, std::size_t, double loss) {
        if (sh->bar) sh->bar->update(step, loss);
    };
    cb.on_evaluate = [sh, opt](const EpochRow& row, const EvalReport& ev) {
        if (sh->bar) sh->bar->close();
        if (opt.epoch_row) return opt.epoch_row(row, ev);
        sh->table.row(row);
        sh->rows.push_back(row);
        const auto span = overfitting_span(sh->rows);
        if (span && !sh->overfitting_told) {  // once, right after the row that shows it
            sh->overfitting_told = true;
            sh->table.note(overfitting_note(sh->rows, *span) +
                           "; best/ keeps the epoch with the best F1 (fewer epochs or --patience stop earlier)");
        }
    };
    cb.on_save = [&os](const std::string& dir, bool best) {
        os << "  saved " << (best ? "best" : "last") << " checkpoint to " << dir << "/\n" << std::flush;
    };
    cb.on_train_end = [sh, &os](const TrainOutput& o) {
        if (sh->bar) sh->bar->close();
        char buf[512];
        std::snprintf(buf, sizeof buf,
                      "TrainOutput(global_step=%zu, training_loss=%.6f, metrics={'train_runtime': %.2f, "
                      "'train_samples_per_second': %.3f, 'train_steps_per_second': %.3f, 'epoch': %zu})\n",
                      o.global_step, o.training_loss, o.train_runtime, o.train_samples_per_second,
                      o.train_steps_per_second, o.epochs_run);
        os << buf;
        if (o.best_f1 >= 0) {
            std::snprintf(buf, sizeof buf, "Best validation weighted F1 %.4f at epoch %zu%s\n", o.best_f1, o.best_epoch,
                          o.early_stopped ? " (early stopping)" : "");
            os << buf;
        }
        os << std::flush;
    };
    return cb;
}

}  // namespace rgrid
