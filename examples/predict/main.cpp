// rgrid-predict: classify texts with a fine-tuned checkpoint (HF layout). Long texts are cut
// into sliding windows whose logits are aggregated per document. See README.md.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "common/cli.hpp"
#include "common/distributed.hpp"
#include "rgrid/rgrid.hpp"
#include "rgrid/train/evaluate.hpp"
#include "rgrid/train/predictor.hpp"
#include "rgrid/train/training_arguments.hpp"

using namespace rgrid;
namespace fs = std::filesystem;

// --output is replaced atomically (a new file renamed over it), so it must not be the input
// (same path, a link to it or a hard link of it), a device, pipe or directory, or a symbolic link
// (the rename would put a file where the link was and leave its target as it was).
static void check_output(const std::string& input, const std::string& output) {
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(output, ec);
    if (!fs::exists(st)) return;  // a new file
    RGRID_CHECK(!fs::is_symlink(st), "--output ", output,
                " is a symbolic link; give the file it points to, or a new path");
    RGRID_CHECK(fs::is_regular_file(st), "--output ", output, " exists and is not a regular file (a directory, device "
                "or pipe); refusing to replace it");
    RGRID_CHECK(!fs::equivalent(input, output, ec), "--output ", output, " is the --input file ", input,
                "; refusing to write over it (give another path)");
}

static int run(int argc, char** argv, cli::Distributed& dist) {
    rgrid::tune_allocator();  // reuse freed buffers step to step (core/allocator.hpp)
    CLI::App app{"Classifies texts with a fine-tuned checkpoint: --text prints the label and every label's "
                 "probability; --input CSV adds a prediction column and one prob_<label> column per label. "
                 "Window settings default to those the model was trained with (DIR/inference_config.json).",
                 "rgrid-predict"};
    cli::conventions(app);
    std::string model_dir, text, input, output, text_col = "text", label_col = "label", aggregation;
    std::optional<std::size_t> max_length, stride, max_windows, batch_size, threads;  // unset: as trained
    app.add_option("--model", model_dir, "a checkpoint directory (config.json, model.safetensors, vocab.txt)")
        ->required()->type_name("DIR");
    auto* text_opt = app.add_option("--text", text, "one text to classify")->check(cli::non_blank());
    auto* input_opt = app.add_option("--input", input, "a CSV of texts to classify")->type_name("CSV");
    text_opt->excludes(input_opt);
    app.add_option("--output", output, "where --input's predictions go (default: standard output)")
        ->type_name("CSV")->needs(input_opt);
    const char* as_trained = "; default: as trained";
    app.add_option("--max-length", max_length, std::string("window length incl. [CLS]/[SEP]") + as_trained)
        ->check(cli::count(3, 512));
    app.add_option("--stride", stride, std::string("overlap of consecutive windows") + as_trained)->check(cli::count());
    app.add_option("--max-windows", max_windows, std::string("windows per document, 0 = all") + as_trained)
        ->check(cli::count());
    app.add_option("--aggregation", aggregation, std::string("window logits -> document") + as_trained)
        ->check(CLI::IsMember({"mean", "max", "vote"}));
    app.add_option("--batch-size", batch_size, std::string("windows per model pass") + as_trained)
        ->check(cli::count(1));
    app.add_option("--threads", threads, "compute threads; default: all cores")->check(cli::count(0, cli::kMaxThreads));
    bool int8 = false;
    app.add_flag("--int8", int8, "quantize the fp32 checkpoint on load (int8 encoder; docs/int8.md); an int8 "
                 "checkpoint (rgrid-quantize) runs in int8 without it");
    double mpi_timeout = 300;
    app.add_option("--mpi-timeout", mpi_timeout, "under mpirun/srun: a collective that waits longer than this many "
                   "seconds stops the job (a dead or stuck rank)")->check(cli::real(0, 1e9, /*lo_open=*/true));
    app.add_option("--text-col", text_col, "name of --input's text column");
    app.add_option("--label-col", label_col, "name of --input's label column (if present: accuracy, F1, report)");
    app.callback([&] {
        if (!text_opt->count() && !input_opt->count()) throw CLI::RequiredError("--text or --input");
    });
    if (auto status = cli::parse(app, argc, argv)) return *status;
    if (!output.empty()) check_output(input, output);
    if (threads) set_num_threads(*threads);

    PredictorOptions po = load_predictor_options(model_dir);
    if (max_length) po.window.max_length = *max_length;
    if (stride) po.window.stride = *stride;
    if (max_windows) po.window.max_windows = *max_windows;
    if (batch_size) po.batch_size = *batch_size;
    if (!aggregation.empty()) po.aggregation = parse_aggregation(aggregation);
    po.int8 = int8;
    Predictor predictor = Predictor::from_pretrained(model_dir, po);
    const auto& labels = predictor.labels();

    if (text_opt->count()) {
        if (!dist.is_main()) return 0;  // one text: rank 0 alone
        Prediction p = predictor.predict(text);
        std::printf("label: %s  (%zu window%s, %s aggregation)\n", p.label.c_str(), p.windows, p.windows == 1 ? "" : "s",
                    aggregation_name(po.aggregation));
        for (std::size_t k = 0; k < labels.size(); ++k) std::printf("  %-16s %.4f\n", labels[k].c_str(), p.probabilities[k]);
        return 0;
    }

    CsvTable table = read_csv(input);
    const std::size_t tc = table.column(text_col);
    RGRID_CHECK(!table.rows.empty(), input, ": no rows to predict (only a header)");
    const bool labelled = table.has_column(label_col);
    std::vector<std::int64_t> y_true;  // labelled input: the labels are checked before any output is written
    if (labelled) {
        const std::size_t lc = table.column(label_col);
        for (std::size_t r = 0; r < table.rows.size(); ++r) {
            auto it = std::find(labels.begin(), labels.end(), table.rows[r][lc]);
            RGRID_CHECK(it != labels.end(), table.source, ":", table.row_line[r], ": label '", table.rows[r][lc],
                        "' is not one of the model's labels");
            y_true.push_back(it - labels.begin());
        }
    }
    std::vector<std::string> texts;
    for (const auto& row : table.rows) texts.push_back(row[tc]);
    // Under MPI every rank reads and windows the whole input; the model's batches are dealt
    // round-robin over the ranks and their logits summed on rank 0, which writes the output.
    const WindowedDocs wd = make_windows(predictor.tokenizer(), texts, {}, po.window);
    const Tensor<float> logits = dist.window_logits(predictor, wd.windows, mpi_timeout);  // (W, K)
    if (!dist.is_main()) return 0;
    std::vector<Prediction> preds = predictor.predictions(logits, wd.windows, texts.size());
    const std::size_t windows = wd.windows.size();
    std::fprintf(stderr, "[predict] %zu documents -> %zu windows (max_length %zu, stride %zu), %s aggregation, %s\n",
                 texts.size(), windows, po.window.max_length, po.window.stride, aggregation_name(po.aggregation),
                 predictor.int8() ? "int8" : "fp32");

    CsvTable out = table;
    out.header.push_back("prediction");
    for (const auto& l : labels) out.header.push_back("prob_" + l);
    for (std::size_t r = 0; r < out.rows.size(); ++r) {
        out.rows[r].push_back(preds[r].label);
        for (float p : preds[r].probabilities) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.6f", p);
            out.rows[r].push_back(buf);
        }
    }
    if (!output.empty()) {
        write_csv(output, out);
        std::fprintf(stderr, "[predict] wrote %s (input columns + prediction + %zu probability columns)\n",
                     output.c_str(), labels.size());
    } else {
        write_csv(std::cout, out);
    }

    if (labelled) {  // document-level metrics
        std::vector<std::int64_t> y_pred;
        for (const auto& p : preds) y_pred.push_back(static_cast<std::int64_t>(p.label_id));
        auto w = metrics::precision_recall_f1(y_true, y_pred, labels.size(), metrics::Average::Weighted);
        std::fprintf(stderr, "\naccuracy %.4f  weighted F1 %.4f  (precision %.4f, recall %.4f), %zu documents\n\n",
                     metrics::accuracy(y_true, y_pred), w.f1, w.precision, w.recall, y_true.size());
        std::cerr << metrics::classification_report(y_true, y_pred, labels) << '\n'
                  << metrics::confusion_matrix_text(metrics::confusion_matrix(y_true, y_pred, labels.size()), labels);
    }
    return 0;
}

int main(int argc, char** argv) {  // MPI when started by mpirun/srun
    return cli::distributed_main(argc, argv, "rgrid-predict", run);
}
