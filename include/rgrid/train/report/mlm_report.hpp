#pragma once
// What rgrid-pretrain shows and writes for masked-LM pretraining (MaskedLmObjective), as
// TrainerCallbacks on top of the fine-tuning ones: the console output of console_reporter
// (progress bar, save notices, train summary) with the corpus counts at the start and the
// epoch table
//   Epoch | Training Loss | Validation Loss | Perplexity
// and DIR/curves.svg with the step loss, the loss per epoch and the held-out perplexity per
// epoch (it replaces the classification panels the Trainer's own curves_reporter draws: the
// callback runs after it and rewrites the file).
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "rgrid/train/report/console_reporter.hpp"
#include "rgrid/train/report/curve_svg.hpp"
#include "rgrid/train/report/run_files.hpp"

namespace rgrid {

/// The masked-LM epoch table, aligned under its header (printed once).
/// Example: `MlmEpochTable t(std::cout); t.row(1, 6.91, 6.52);  // perplexity = exp(6.52)`
class MlmEpochTable {
public:
    explicit MlmEpochTable(std::ostream& os) : os_(os) {}
    static std::string header_line() { return "Epoch | Training Loss | Validation Loss | Perplexity"; }
    /// One row: epoch, training loss, held-out loss, exp(held-out loss).
    static std::string format_row(std::size_t epoch, double training_loss, double validation_loss) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "%-5zu | %-13.6f | %-15.6f | %.4f", epoch, training_loss, validation_loss,
                      std::exp(validation_loss));
        return buf;
    }
    void row(std::size_t epoch, double training_loss, double validation_loss) {
        if (!header_done_) os_ << header_line() << '\n';
        header_done_ = true;
        os_ << format_row(epoch, training_loss, validation_loss) << '\n' << std::flush;
    }

private:
    std::ostream& os_;
    bool header_done_ = false;
};

/// console_reporter for pretraining: the corpus counts (documents, blocks) at the start, the
/// masked-LM epoch table, and the best held-out loss at the end.
/// Example: `trainer.add_callback(mlm_console_reporter(std::cout, {.redraw = isatty(1)}));`
inline TrainerCallback mlm_console_reporter(std::ostream& os, ConsoleOptions opt = {}) {
    auto table = std::make_shared<MlmEpochTable>(os);
    opt.epoch_row = [table](const EpochRow& r, const EvalReport&) {
        table->row(r.epoch, r.training_loss, r.validation_loss);
    };
    TrainerCallback cb = console_reporter(os, opt);
    cb.on_train_begin = [&os](const TrainBegin& b) {
        char buf[320];
        std::snprintf(buf, sizeof buf,
                      "***** Running masked-LM pretraining *****\n"
                      "  Documents: %zu train, %zu held out\n"
                      "  Blocks:    %zu train, %zu held out\n"
                      "  Steps: %zu per epoch, %zu total%s; parameters: %zu\n",
                      b.train_documents, b.val_documents, b.train_windows, b.val_windows, b.steps_per_epoch,
                      b.total_steps, b.start_step ? (" (resuming at " + std::to_string(b.start_step) + ")").c_str() : "",
                      b.num_parameters);
        os << buf << std::flush;
    };
    auto base_end = cb.on_train_end;
    cb.on_train_end = [base_end, &os](const TrainOutput& o) {
        TrainOutput without_f1 = o;  // the base summary would call the score a weighted F1
        without_f1.best_f1 = -1;
        base_end(without_f1);
        if (o.best_epoch == 0) return;  // no evaluation
        char buf[160];
        // MaskedLmObjective's score is 1 / perplexity
        std::snprintf(buf, sizeof buf, "Best held-out loss %.4f (perplexity %.3f) at epoch %zu\n", -std::log(o.best_f1),
                      1.0 / o.best_f1, o.best_epoch);
        os << buf << std::flush;
    };
    return cb;
}

/// The panels of a pretraining run's curves.svg: training loss per logged step, training and
/// held-out loss per epoch, held-out perplexity per epoch.
inline std::vector<CurvePanel> mlm_curve_panels(const std::vector<EpochRow>& epochs, const std::vector<double>& loss_x,
                                                const std::vector<double>& loss_y, std::size_t logging_steps) {
    std::vector<CurvePanel> panels = training_curve_panels(epochs, loss_x, loss_y, logging_steps);
    CurvePanel ppl;
    ppl.title = "Held-out perplexity (exp of the masked-LM loss)";
    ppl.x_label = "epoch";
    ppl.y_label = "perplexity";
    ppl.integer_x = true;
    CurveSeries series{"perplexity", {}, {}};
    for (const auto& e : epochs) {
        series.x.push_back(double(e.epoch));
        series.y.push_back(std::exp(e.validation_loss));
    }
    ppl.series.push_back(std::move(series));
    panels.back() = std::move(ppl);  // instead of the classification metrics
    return panels;
}

/// Rewrites `path` (DIR/curves.svg) after every evaluation with mlm_curve_panels.
/// Example: `trainer.add_callback(mlm_curves_reporter(args.output_dir + "/curves.svg", args.logging_steps));`
inline TrainerCallback mlm_curves_reporter(std::string path, std::size_t logging_steps) {
    return curves_reporter(std::move(path), logging_steps, mlm_curve_panels);
}

}  // namespace rgrid
