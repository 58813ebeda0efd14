// rgrid-eda: what is in my data, and what should max_length be?
//   rgrid-eda --input data/spamassassin.csv --out runs/eda
// Reads a CSV, cleans it (clean.csv), analyzes it (eda.json) and writes a self-contained
// HTML report (report.html); prints a summary. See examples/eda/README.md.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>

#include "rgrid/data/clean.hpp"
#include "rgrid/core/parse.hpp"
#include "rgrid/data/csv.hpp"
#include "rgrid/data/dataset.hpp"
#include "rgrid/data/eda.hpp"
#include "rgrid/text/bert_tokenizer.hpp"

namespace fs = std::filesystem;

static const char* kUsage =
    "usage: rgrid-eda --input CSV --out DIR [--text-col text] [--label-col label] [--vocab FILE]\n"
    "                 [--max-length L] [--stride S] [--no-tokens]\n"
    "writes DIR/report.html, DIR/eda.json and DIR/clean.csv and prints a summary\n"
    "window counts are given at --max-length/--stride (default: the recommendation) and at 512/128\n";

static void write_file(const fs::path& path, const std::string& content) {
    std::ofstream f(path, std::ios::binary);
    f << content;
    RGRID_CHECK(f.good(), "cannot write '", path.string(), "'");
}

int main(int argc, char** argv) {
    std::map<std::string, std::string> arg{{"--text-col", "text"}, {"--label-col", "label"},
                                           {"--max-length", "0"}, {"--stride", "0"}};  // 0: the recommendation
    bool no_tokens = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") { std::cout << kUsage; return 0; }
        if (a == "--no-tokens") { no_tokens = true; continue; }
        if (a.rfind("--", 0) != 0 || i + 1 >= argc ||
            !(a == "--input" || a == "--out" || a == "--vocab" || arg.count(a))) {
            std::cerr << "rgrid-eda: bad argument '" << a << "'\n" << kUsage;
            return 2;
        }
        arg[a] = argv[++i];
    }
    if (!arg.count("--input") || !arg.count("--out")) {
        std::cerr << "rgrid-eda: --input and --out are required\n" << kUsage;
        return 2;
    }
    try {
        const auto t0 = std::chrono::steady_clock::now();
        const std::string text_col = arg["--text-col"], label_col = arg["--label-col"];
        rgrid::CsvTable table = rgrid::read_csv(arg["--input"]);
        table.column(text_col);  // both columns must exist: the error names the file and its columns
        table.column(label_col);
        RGRID_CHECK(!table.rows.empty(), arg["--input"], ": no rows to analyze (only a header)");
        rgrid::CleanResult cleaned = rgrid::clean(table, text_col, label_col);
        const rgrid::CleanReport& cr = cleaned.report;
        RGRID_CHECK(!cleaned.table.rows.empty(), arg["--input"], ": no rows left after cleaning (", cr.rows_in,
                    " read: ", cr.empty_text_dropped, " empty texts, ", cr.empty_label_dropped, " empty labels dropped)");
        rgrid::Dataset ds = rgrid::Dataset::from_table(cleaned.table, text_col, label_col);

        // The tokenizer: --vocab, else the vocab the project ships (skipped with --no-tokens).
        std::optional<rgrid::BertTokenizer> tokenizer;
        std::string vocab = arg.count("--vocab") ? arg["--vocab"] : RGRID_DEFAULT_VOCAB;
        if (!no_tokens) {
            if (!arg.count("--vocab") && !fs::exists(vocab)) {
                std::cerr << "rgrid-eda: warning: default vocab " << vocab << " not found; token statistics skipped "
                             "(pass --vocab FILE)\n";
                vocab.clear();
            } else {
                tokenizer = rgrid::BertTokenizer::from_file(vocab);
            }
        }
        rgrid::eda::Options opt;
        opt.max_length = rgrid::parse_count("--max-length", arg["--max-length"]);
        opt.stride = rgrid::parse_count("--stride", arg["--stride"]);
        rgrid::eda::Report report = rgrid::eda::analyze(ds, tokenizer ? &*tokenizer : nullptr, cleaned.report, opt);
        report.input = arg["--input"];
        report.text_col = text_col;
        report.label_col = label_col;
        report.vocab = tokenizer ? vocab : "";

        const fs::path out = arg["--out"];
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
