// rgrid-predict: classify texts with a fine-tuned checkpoint (HF layout). Long texts are cut
// into sliding windows whose logits are aggregated per document. See README.md.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "rgrid/rgrid.hpp"
#include "rgrid/train/evaluate.hpp"
#include "rgrid/train/predictor.hpp"
#include "rgrid/train/training_arguments.hpp"

using namespace rgrid;

static const char* kUsage =
    "usage: rgrid-predict --model DIR (--text \"...\" | --input CSV [--output CSV])\n"
    "         [--max-length L] [--stride S] [--max-windows N] [--aggregation mean|max|vote]\n"
    "         [--batch-size N] [--threads N] [--text-col C] [--label-col C]\n"
    "Window settings default to those the model was trained with (DIR/inference_config.json).\n";

int main(int argc, char** argv) try {
    rgrid::tune_allocator();  // reuse freed buffers step to step (core/allocator.hpp)
    std::map<std::string, std::string> opt{{"--text-col", "text"}, {"--label-col", "label"}};
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") return std::cout << kUsage, 0;
        if (a.rfind("--", 0) == 0 && i + 1 < argc) opt[a] = argv[++i];
        else return std::cerr << "rgrid-predict: unexpected argument '" << a << "'\n" << kUsage, 2;
    }
    if (!opt.count("--model") || opt.count("--text") == opt.count("--input"))
        return std::cerr << "rgrid-predict: need --model and exactly one of --text or --input\n" << kUsage, 2;
    auto number = [&](const char* k) { return static_cast<std::size_t>(parse_count(k, opt.at(k))); };
    if (opt.count("--threads")) set_num_threads(number("--threads"));

    PredictorOptions po = load_predictor_options(opt["--model"]);
    if (opt.count("--max-length")) po.window.max_length = number("--max-length");
    if (opt.count("--stride")) po.window.stride = number("--stride");
    if (opt.count("--max-windows")) po.window.max_windows = number("--max-windows");
    if (opt.count("--batch-size")) po.batch_size = number("--batch-size");
    if (opt.count("--aggregation")) po.aggregation = parse_aggregation(opt["--aggregation"]);
    Predictor predictor = Predictor::from_pretrained(opt["--model"], po);
    const auto& labels = predictor.labels();

    if (opt.count("--text")) {
        Prediction p = predictor.predict(opt["--text"]);
        std::printf("label: %s  (%zu window%s, %s aggregation)\n", p.label.c_str(), p.windows, p.windows == 1 ? "" : "s",
                    aggregation_name(po.aggregation));
        for (std::size_t k = 0; k < labels.size(); ++k) std::printf("  %-16s %.4f\n", labels[k].c_str(), p.probabilities[k]);
        return 0;
    }

    CsvTable table = read_csv(opt["--input"]);
    const std::size_t tc = table.column(opt["--text-col"]);
    if (table.has_column(opt["--label-col"])) {  // check the labels before any output is written
        const std::size_t lc = table.column(opt["--label-col"]);
        for (std::size_t r = 0; r < table.rows.size(); ++r)
            RGRID_CHECK(std::find(labels.begin(), labels.end(), table.rows[r][lc]) != labels.end(), table.source, ":",
                        table.row_line[r], ": label '", table.rows[r][lc], "' is not one of the model's labels");
    }
    std::vector<std::string> texts;
    for (const auto& row : table.rows) texts.push_back(row[tc]);
    std::vector<Prediction> preds = predictor.predict(texts);
    std::size_t windows = 0;
    for (const auto& p : preds) windows += p.windows;
    std::fprintf(stderr, "[predict] %zu documents -> %zu windows (max_length %zu, stride %zu), %s aggregation\n",
                 texts.size(), windows, po.window.max_length, po.window.stride, aggregation_name(po.aggregation));

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
    if (opt.count("--output")) {
        write_csv(opt["--output"], out);
        std::fprintf(stderr, "[predict] wrote %s (input columns + prediction + %zu probability columns)\n",
                     opt["--output"].c_str(), labels.size());
    } else {
        write_csv(std::cout, out);
    }

    if (table.has_column(opt["--label-col"])) {  // labelled input: document-level metrics
        const std::size_t lc = table.column(opt["--label-col"]);
        std::vector<std::int64_t> y_true, y_pred;
        for (std::size_t r = 0; r < table.rows.size(); ++r) {
            auto it = std::find(labels.begin(), labels.end(), table.rows[r][lc]);
            RGRID_CHECK(it != labels.end(), table.source, ":", table.row_line[r], ": label '", table.rows[r][lc],
                        "' is not one of the model's labels");
            y_true.push_back(it - labels.begin());
            y_pred.push_back(static_cast<std::int64_t>(preds[r].label_id));
        }
        auto w = metrics::precision_recall_f1(y_true, y_pred, labels.size(), metrics::Average::Weighted);
        std::fprintf(stderr, "\naccuracy %.4f  weighted F1 %.4f  (precision %.4f, recall %.4f), %zu documents\n\n",
                     metrics::accuracy(y_true, y_pred), w.f1, w.precision, w.recall, y_true.size());
        std::cerr << metrics::classification_report(y_true, y_pred, labels) << '\n'
                  << metrics::confusion_matrix_text(metrics::confusion_matrix(y_true, y_pred, labels.size()), labels);
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "rgrid-predict: error: " << e.what() << '\n';
    return 1;
}
