// rgrid-split: a stratified train/validation/test split that keeps duplicates together.
//   rgrid-split --input runs/eda/clean.csv --out runs/split [--seed 42] [--ratios 0.8,0.1,0.1]
// Writes train.csv, val.csv, test.csv (the input's columns, source order) and split.json
// (counts per class and part), and prints that table. See examples/split/README.md.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "rgrid/core/parse.hpp"
#include "rgrid/data/csv.hpp"
#include "rgrid/data/dataset.hpp"
#include "rgrid/data/split.hpp"
#include "rgrid/io/json.hpp"

namespace fs = std::filesystem;

static const char* kUsage =
    "usage: rgrid-split --input CSV --out DIR [--seed 42] [--ratios 0.8,0.1,0.1] [--text-col text]\n"
    "                   [--label-col label] [--group-col COL] [--group-near-duplicates] [--strict]\n"
    "writes DIR/train.csv, DIR/val.csv, DIR/test.csv and DIR/split.json\n";

static rgrid::SplitRatios parse_ratios(const std::string& s) {
    std::vector<double> v;
    std::stringstream ss(s);
    for (std::string part; std::getline(ss, part, ',');) {
        v.push_back(rgrid::parse_real("--ratios", part));
    }
    RGRID_CHECK(v.size() == 3, "--ratios needs three numbers train,validation,test; got '", s, "'");
    return {v[0], v[1], v[2]};
}

int main(int argc, char** argv) {
    std::map<std::string, std::string> arg{{"--seed", "42"}, {"--ratios", "0.8,0.1,0.1"},
                                           {"--text-col", "text"}, {"--label-col", "label"}};
    rgrid::SplitOptions opt;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") { std::cout << kUsage; return 0; }
        if (a == "--strict") { opt.strict = true; continue; }
        if (a == "--group-near-duplicates") { opt.group_near_duplicates = true; continue; }
        if (i + 1 >= argc || !(a == "--input" || a == "--out" || a == "--group-col" || arg.count(a))) {
            std::cerr << "rgrid-split: bad argument '" << a << "'\n" << kUsage;
            return 2;
        }
        arg[a] = argv[++i];
    }
    if (!arg.count("--input") || !arg.count("--out")) {
        std::cerr << "rgrid-split: --input and --out are required\n" << kUsage;
        return 2;
    }
    try {
        const rgrid::SplitRatios ratios = parse_ratios(arg["--ratios"]);
        const std::uint64_t seed = rgrid::parse_count("--seed", arg["--seed"]);
        const rgrid::CsvTable table = rgrid::read_csv(arg["--input"]);
        const rgrid::Dataset ds = rgrid::Dataset::from_table(table, arg["--text-col"], arg["--label-col"]);
        RGRID_CHECK(!ds.examples.empty(), arg["--input"], ": no rows to split (only a header)");
        if (arg.count("--group-col")) {  // rows sharing a non-empty value of this column stay in one part
            const std::size_t gc = table.column(arg["--group-col"]);
            for (const auto& row : table.rows) opt.group_keys.push_back(row[gc]);
        }
        const rgrid::Split split = rgrid::stratified_split(ds, ratios, seed, opt);
        const rgrid::SplitOverlap overlap = rgrid::split_overlap(ds, split);  // exact/near-duplicate leakage check

        const fs::path out = arg["--out"];
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
        rgrid::json j{{"input", arg["--input"]}, {"seed", seed},
                      {"ratios", {{"train", ratios.train}, {"validation", ratios.validation}, {"test", ratios.test}}},
                      {"sizes", {{"train", split.train.size()}, {"validation", split.validation.size()}, {"test", split.test.size()}}},
                      {"label_names", ds.label_names}, {"counts", counts},
                      {"grouping", {{"exact_duplicates", opt.group_duplicates}, {"near_duplicates", opt.group_near_duplicates},
                                    {"group_col", arg.count("--group-col") ? arg["--group-col"] : ""}}},
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
                    static_cast<unsigned long long>(seed), arg["--ratios"].c_str());
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "rgrid-split: " << e.what() << '\n';
        return 1;
    }
}
