// rgrid-split: a stratified train/validation/test split that keeps duplicates together.
//   rgrid-split --input runs/eda/clean.csv --out runs/split [--seed 42] [--ratios 0.8,0.1,0.1]
// Writes train.csv, val.csv, test.csv (the input's columns, source order) and split.json
// (counts per class and part), and prints that table. See examples/split/README.md.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/cli.hpp"
#include "rgrid/data/csv.hpp"
#include "rgrid/data/dataset.hpp"
#include "rgrid/data/split.hpp"
#include "rgrid/core/json.hpp"

namespace fs = std::filesystem;

// "0.8,0.1,0.1" -> {0.8, 0.1, 0.1}; anything else is an error (the check of --ratios).
static rgrid::SplitRatios parse_ratios(const std::string& s) {
    std::vector<double> v;
    std::stringstream ss(s);
    const CLI::Validator number = rgrid::cli::real();
    for (std::string part; std::getline(ss, part, ',');) {
        const std::string bad = number(part);
        RGRID_CHECK(bad.empty(), bad);
        v.push_back(std::stod(part));
    }
    RGRID_CHECK(v.size() == 3, "needs three numbers train,validation,test; got '", s, "'");
    return {v[0], v[1], v[2]};
}

int main(int argc, char** argv) {
    CLI::App app{"A stratified train/validation/test split that keeps duplicates together: writes DIR/train.csv, "
                 "DIR/val.csv, DIR/test.csv and DIR/split.json.",
                 "rgrid-split"};
    rgrid::cli::conventions(app);
    std::string input, out_dir, ratios_text = "0.8,0.1,0.1", text_col = "text", label_col = "label", group_col;
    std::uint64_t seed = 42;
    rgrid::SplitOptions opt;
    app.add_option("--input", input, "the labelled CSV to split")->required()->type_name("CSV");
    app.add_option("--out", out_dir, "output directory")->required()->type_name("DIR");
    app.add_option("--seed", seed, "random seed (same seed, same split)")->check(rgrid::cli::count());
    app.add_option("--ratios", ratios_text, "shares of train,validation,test (sum 1)")
        ->type_name("A,B,C")->check(rgrid::cli::accepted_by(parse_ratios));
    app.add_option("--text-col", text_col, "name of the text column");
    app.add_option("--label-col", label_col, "name of the label column");
    app.add_option("--group-col", group_col, "rows sharing a non-empty value of this column stay in one part")
        ->type_name("COL");
    app.add_flag("--group-near-duplicates", opt.group_near_duplicates,
                 "also keep texts together that differ only in digits, punctuation and spacing");
    app.add_flag("--strict", opt.strict, "a class too small for every part is an error, not a warning");
    if (auto status = rgrid::cli::parse(app, argc, argv)) return *status;
    try {
        const rgrid::SplitRatios ratios = parse_ratios(ratios_text);
        const rgrid::CsvTable table = rgrid::read_csv(input);
        const rgrid::Dataset ds = rgrid::Dataset::from_table(table, text_col, label_col);
        RGRID_CHECK(!ds.examples.empty(), input, ": no rows to split (only a header)");
        if (app.count("--group-col")) {  // rows sharing a non-empty value of this column stay in one part
            const std::size_t gc = table.column(group_col);
            for (const auto& row : table.rows) opt.group_keys.push_back(row[gc]);
        }
        const rgrid::Split split = rgrid::stratified_split(ds, ratios, seed, opt);
        const rgrid::SplitOverlap overlap = rgrid::split_overlap(ds, split);  // exact/near-duplicate leakage check

        const fs::path out = out_dir;
        fs::create_directories(out);
        const std::vector<std::size_t>* parts[3] = {&split.train, &split.validation, &split.test};
        const char* files[3] = {"train.csv", "val.csv", "test.csv"};
        rgrid::json counts = rgrid::json::object();
        std::vector<std::vector<std::size_t>> table_counts(ds.num_labels(), std::vector<std::size_t>(3, 0));
        for (int p = 0; p < 3; ++p) {
            rgrid::CsvTable part;
            part.header = table.header;
            for (std::size_t i : *parts[p]) {
                part.rows.push_back(table.rows[i]);
                ++table_counts[ds.label_index(ds.examples[i].label)][p];
            }
            rgrid::write_csv((out / files[p]).string(), part);
        }
        for (std::size_t k = 0; k < ds.num_labels(); ++k)
            counts[ds.label_names[k]] = {{"train", table_counts[k][0]}, {"validation", table_counts[k][1]},
                                         {"test", table_counts[k][2]}};
        rgrid::json j{{"input", input}, {"seed", seed},
                      {"ratios", {{"train", ratios.train}, {"validation", ratios.validation}, {"test", ratios.test}}},
                      {"sizes", {{"train", split.train.size()}, {"validation", split.validation.size()}, {"test", split.test.size()}}},
                      {"label_names", ds.label_names}, {"counts", counts},
                      {"grouping", {{"exact_duplicates", opt.group_duplicates}, {"near_duplicates", opt.group_near_duplicates},
                                    {"group_col", group_col}}},
                      {"duplicate_groups", split.duplicate_groups}, {"warnings", split.warnings},
                      {"overlap", rgrid::to_json(overlap, ds.label_names)}};
        std::ofstream(out / "split.json") << j.dump(2) << "\n";

        std::printf("%-20s %8s %8s %8s %8s\n", "label", "train", "val", "test", "total");
        std::size_t tot[3] = {0, 0, 0};
        for (std::size_t k = 0; k < ds.num_labels(); ++k) {
            const auto& c = table_counts[k];
            std::printf("%-20s %8zu %8zu %8zu %8zu\n", ds.label_names[k].substr(0, 20).c_str(), c[0], c[1], c[2],
                        c[0] + c[1] + c[2]);
            for (int p = 0; p < 3; ++p) tot[p] += c[p];
        }
        std::printf("%-20s %8zu %8zu %8zu %8zu\n", "all", tot[0], tot[1], tot[2], tot[0] + tot[1] + tot[2]);
        if (split.duplicate_groups)
            std::printf("%zu groups of linked rows (duplicates%s) are each kept within one part\n", split.duplicate_groups,
                        opt.group_near_duplicates || !opt.group_keys.empty() ? ", near-duplicates or group keys" : "");
        std::fputs(rgrid::overlap_text(overlap, ds.label_names).c_str(), stdout);
        for (const auto& w : split.warnings) std::fprintf(stderr, "rgrid-split: warning: %s\n", w.c_str());
        std::printf("wrote %s/{train,val,test}.csv and split.json (seed %llu, %s)\n", out.string().c_str(),
                    static_cast<unsigned long long>(seed), ratios_text.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "rgrid-split: " << e.what() << '\n';
        return 1;
    }
}
