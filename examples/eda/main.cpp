// rgrid-eda: what is in my data, and what should max_length be?
//   rgrid-eda --input data/spamassassin.csv --out runs/eda
// Reads a CSV, cleans it (clean.csv), analyzes it (eda.json) and writes a self-contained
// HTML report (report.html); prints a summary. See examples/eda/README.md.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "common/cli.hpp"
#include "rgrid/data/clean.hpp"
#include "rgrid/data/csv.hpp"
#include "rgrid/data/dataset.hpp"
#include "rgrid/data/eda.hpp"
#include "rgrid/text/bert_tokenizer.hpp"

namespace fs = std::filesystem;

static void write_file(const fs::path& path, const std::string& content) {
    std::ofstream f(path, std::ios::binary);
    f << content;
    RGRID_CHECK(f.good(), "cannot write '", path.string(), "'");
}

int main(int argc, char** argv) {
    CLI::App app{"Cleans and analyzes a labelled CSV: writes DIR/report.html, DIR/eda.json and DIR/clean.csv "
                 "and prints a summary.",
                 "rgrid-eda"};
    rgrid::cli::conventions(app);
    std::string input, out_dir, text_col = "text", label_col = "label", vocab = RGRID_DEFAULT_VOCAB;
    std::optional<std::size_t> max_length, stride;  // unset: the analysis' own choice
    bool no_tokens = false;
    app.add_option("--input", input, "the CSV to analyze")->required()->type_name("CSV");
    app.add_option("--out", out_dir, "output directory")->required()->type_name("DIR");
    app.add_option("--text-col", text_col, "name of the text column");
    app.add_option("--label-col", label_col, "name of the label column");
    app.add_option("--vocab", vocab, "WordPiece vocab.txt for the token statistics")->type_name("FILE");
    app.add_option("--max-length", max_length, "window length the windows-per-text figures assume "
                   "(default: the EDA's recommendation)")->check(rgrid::cli::count());
    app.add_option("--stride", stride, "window overlap those figures assume (default: the EDA's recommendation)")
        ->check(rgrid::cli::count());
    app.add_flag("--no-tokens", no_tokens, "skip the token statistics (no vocab needed)");
    if (auto status = rgrid::cli::parse(app, argc, argv)) return *status;
    try {
        const auto t0 = std::chrono::steady_clock::now();
        rgrid::CsvTable table = rgrid::read_csv(input);
        table.column(text_col);  // both columns must exist: the error names the file and its columns
        table.column(label_col);
        RGRID_CHECK(!table.rows.empty(), input, ": no rows to analyze (only a header)");
        rgrid::CleanResult cleaned = rgrid::clean(table, text_col, label_col);
        const rgrid::CleanReport& cr = cleaned.report;
        RGRID_CHECK(!cleaned.table.rows.empty(), input, ": no rows left after cleaning (", cr.rows_in,
                    " read: ", cr.empty_text_dropped, " empty texts, ", cr.empty_label_dropped, " empty labels dropped)");
        rgrid::Dataset ds = rgrid::Dataset::from_table(cleaned.table, text_col, label_col);

        // The tokenizer: --vocab, else the vocab the project ships (skipped with --no-tokens).
        std::optional<rgrid::BertTokenizer> tokenizer;
        if (!no_tokens) {
            if (app.count("--vocab") == 0 && !fs::exists(vocab)) {
                std::cerr << "rgrid-eda: warning: default vocab " << vocab << " not found; token statistics skipped "
                             "(pass --vocab FILE)\n";
            } else {
                tokenizer = rgrid::BertTokenizer::from_file(vocab);
            }
        }
        rgrid::eda::Options opt;
        if (max_length) opt.max_length = *max_length;
        if (stride) opt.stride = *stride;
        rgrid::eda::Report report = rgrid::eda::analyze(ds, tokenizer ? &*tokenizer : nullptr, cleaned.report, opt);
        report.input = input;
        report.text_col = text_col;
        report.label_col = label_col;
        report.vocab = tokenizer ? vocab : "";

        const fs::path out = out_dir;
        fs::create_directories(out);
        rgrid::write_csv((out / "clean.csv").string(), cleaned.table);
        write_file(out / "eda.json", rgrid::eda::to_json(report).dump(2) + "\n");
        write_file(out / "report.html", rgrid::eda::to_html(report));
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

        std::cout << rgrid::eda::to_text(report) << "\nwrote " << (out / "report.html").string() << ", "
                  << (out / "eda.json").string() << ", " << (out / "clean.csv").string() << " in " << secs << " s\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "rgrid-eda: " << e.what() << '\n';
        return 1;
    }
}
