#pragma once
// Stratified train/validation/test split (sklearn's train_test_split(stratify=...) idea,
// with exact largest-remainder counts): per class, each part gets its exact share rounded
// by the largest-remainder method, so every count is within 1 of n_class × ratio.
// Deterministic for a seed. Rows with the same exact text (optionally: the same
// near-duplicate key, or the same caller-given group key) form one group that goes to one
// part, so a duplicated text never lands in both train and test.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/data/clean.hpp"
#include "rgrid/data/dataset.hpp"
#include "rgrid/core/json.hpp"

namespace rgrid {

/// Shares of train / validation / test; must be ≥ 0 and sum to 1.
/// Example: `SplitRatios{.train = 0.8, .validation = 0.1, .test = 0.1}`.
struct SplitRatios {
    double train = 0.8, validation = 0.1, test = 0.1;
};

/// Row indices of each part (ascending, i.e. source order) and any warnings.
struct Split {
    std::vector<std::size_t> train, validation, test;
    std::vector<std::string> warnings;  ///< classes too small for every part, groups that overshoot a share
    std::size_t duplicate_groups = 0;   ///< groups of more than one row (kept together)
};

/// Extra switches. Rows linked by any active grouping go to one part together.
/// Example: `stratified_split(ds, {}, 42, {.strict = true, .group_near_duplicates = true})`.
struct SplitOptions {
    bool strict = false;                  ///< a class too small for every part is an error, not a warning
    bool group_duplicates = true;         ///< rows with the same exact text stay together
    bool group_near_duplicates = false;   ///< rows with the same near_duplicate_key stay together
    std::vector<std::string> group_keys;  ///< optional, one per example (sender, thread, source document…); equal non-empty keys stay together
};

/// Counts per part for `n` items: floor of each exact share, then the leftover items go to
/// the parts with the largest fractional remainders (ties → earlier part). Sum is exactly n.
/// Example: `largest_remainder(7, {0.8, 0.1, 0.1})` → {5, 1, 1} (5.6, .7, .7 → floors 5,0,0; remainders
/// .6 < .7 = .7, so the two leftover rows go to validation and test).
inline std::array<std::size_t, 3> largest_remainder(std::size_t n, const std::array<double, 3>& ratios) {
    std::array<std::size_t, 3> counts{};
    std::array<double, 3> rem{};
    std::size_t assigned = 0;
    for (int p = 0; p < 3; ++p) {
        const double exact = static_cast<double>(n) * ratios[p];
        counts[p] = static_cast<std::size_t>(std::floor(exact + 1e-9));
        rem[p] = exact - static_cast<double>(counts[p]);
        assigned += counts[p];
    }
    while (assigned < n) {
        int best = 0;
        for (int p = 1; p < 3; ++p)
            if (rem[p] > rem[best] + 1e-12) best = p;
        ++counts[best];
        rem[best] = -1.0;
        ++assigned;
    }
    while (assigned > n) {  // only from floating-point slack on ratios summing to 1 + ε
        int p = counts[0] ? 0 : counts[1] ? 1 : 2;
        --counts[p];
        --assigned;
    }
    return counts;
}

/// The smallest class size for which every part with a non-zero ratio gets at least one
/// row under largest_remainder (7 for 80/10/10: 6 rows give 5/1/0).
inline std::size_t min_rows_for_every_part(const std::array<double, 3>& ratios) {
    for (std::size_t n = 1; n < 100000; ++n) {
        const auto c = largest_remainder(n, ratios);
        bool ok = true;
        for (int p = 0; p < 3; ++p) ok = ok && (ratios[p] <= 0 || c[p] > 0);
        if (ok) return n;
    }
    return 100000;
}

/// Stratified split of `ds` (see the file comment). Classes that cannot give one row to
/// every part with a non-zero ratio produce a warning (an Error when opt.strict).
/// Example:
///   Split s = stratified_split(ds, {}, 42);   // 80/10/10
///   for (std::size_t i : s.train) use(ds.examples[i]);
inline Split stratified_split(const Dataset& ds, SplitRatios ratios, std::uint64_t seed, SplitOptions opt = {}) {
    const std::array<double, 3> r{ratios.train, ratios.validation, ratios.test};
    const char* part_name[3] = {"train", "validation", "test"};
    for (int p = 0; p < 3; ++p)
        RGRID_CHECK(r[p] >= 0.0 && std::isfinite(r[p]), "split ratio for ", part_name[p], " must be ≥ 0, got ", r[p]);
    RGRID_CHECK(std::abs(r[0] + r[1] + r[2] - 1.0) < 1e-6, "split ratios must sum to 1, got ", r[0], " + ", r[1],
                " + ", r[2], " = ", r[0] + r[1] + r[2]);
    const std::vector<std::size_t> label = ds.label_ids();
    const std::size_t K = ds.num_labels();
    Split out;

    // Groups: rows linked by an exact text, a near-duplicate key or a group key (union–find);
    // a group belongs to the class of its first row.
    RGRID_CHECK(opt.group_keys.empty() || opt.group_keys.size() == ds.size(), "stratified_split: group_keys has ",
                opt.group_keys.size(), " entries for ", ds.size(), " examples");
    std::vector<std::size_t> parent(ds.size());
    for (std::size_t i = 0; i < ds.size(); ++i) parent[i] = i;
    auto find = [&](std::size_t i) {
        while (parent[i] != i) i = parent[i] = parent[parent[i]];
        return i;
    };
    auto link_by = [&](auto&& key_of) {
        std::unordered_map<std::string, std::size_t> first;
        first.reserve(ds.size());
        for (std::size_t i = 0; i < ds.size(); ++i) {
            auto [it, inserted] = first.try_emplace(key_of(i), i);
            if (!inserted) {
                const std::size_t a = find(it->second), b = find(i);
                if (a != b) parent[std::max(a, b)] = std::min(a, b);  // the root is the group's first row
            }
        }
    };
    if (opt.group_duplicates) link_by([&](std::size_t i) { return ds.examples[i].text; });
    if (opt.group_near_duplicates) link_by([&](std::size_t i) { return near_duplicate_key(ds.examples[i].text); });
    if (!opt.group_keys.empty())
        link_by([&](std::size_t i) { return opt.group_keys[i].empty() ? "\x01row" + std::to_string(i) : opt.group_keys[i]; });
    std::vector<std::vector<std::size_t>> groups;
    {
        std::vector<std::size_t> group_of(ds.size());
        for (std::size_t i = 0; i < ds.size(); ++i) {
            const std::size_t root = find(i);
            if (root == i) { group_of[i] = groups.size(); groups.push_back({i}); }
            else groups[group_of[root]].push_back(i);
        }
    }
    std::vector<std::vector<std::size_t>> class_groups(K);  // group ids per class
    for (std::size_t g = 0; g < groups.size(); ++g) {
        class_groups[label[groups[g][0]]].push_back(g);
        if (groups[g].size() > 1) ++out.duplicate_groups;
    }

    std::array<std::vector<std::size_t>*, 3> parts{&out.train, &out.validation, &out.test};
    Rng rng(seed);
    for (std::size_t k = 0; k < K; ++k) {
        const std::string& name = ds.label_names[k];
        std::vector<std::size_t>& gs = class_groups[k];
        std::size_t n = 0;
        for (std::size_t g : gs) n += groups[g].size();
        const auto target = largest_remainder(n, r);
        for (int p = 0; p < 3; ++p) {
            if (r[p] > 0 && target[p] == 0) {
                const std::size_t need = min_rows_for_every_part(r);
                std::string msg = detail::concat("class '", name, "' has ", n, " row", n == 1 ? "" : "s", ": ",
                                                 part_name[p], " gets none (at least ", need,
                                                 " rows needed for one row in every part)");
                RGRID_CHECK(!opt.strict, msg, "; drop or merge the class, or change --ratios");
                out.warnings.push_back(std::move(msg));
            }
        }
        // Shuffle this class's groups (Fisher–Yates on a per-class stream), then place
        // multi-row groups first, each into the part with the largest remaining need.
        Rng crng = rng.fork(k);
        for (std::size_t i = gs.size(); i > 1; --i) std::swap(gs[i - 1], gs[crng.below(i)]);
        std::stable_sort(gs.begin(), gs.end(), [&](std::size_t a, std::size_t b) {
            return groups[a].size() > groups[b].size();
        });
        std::array<std::ptrdiff_t, 3> need{};
        for (int p = 0; p < 3; ++p) need[p] = static_cast<std::ptrdiff_t>(target[p]);
        for (std::size_t g : gs) {
            int best = -1;
            for (int p = 0; p < 3; ++p)
                if (r[p] > 0 && (best < 0 || need[p] > need[best])) best = p;
            const auto size = static_cast<std::ptrdiff_t>(groups[g].size());
            if (size > need[best] && size > 1)
                out.warnings.push_back(detail::concat("class '", name, "': a group of ", size,
                                                      " rows overshoots the ", part_name[best],
                                                      " share (grouped rows are kept together)"));
            need[best] -= size;
            for (std::size_t i : groups[g]) parts[best]->push_back(i);
        }
    }
    for (auto* p : parts) std::sort(p->begin(), p->end());
    return out;
}

/// Rows of one part whose text also occurs in another part.
struct OverlapCount {
    std::size_t exact = 0;           ///< the same text (byte for byte)
    std::size_t near_duplicate = 0;  ///< the same near_duplicate_key (includes exact)
};

/// Leakage check of a split: for each pair of parts (train–validation, train–test,
/// validation–test), the rows of the second part whose exact text or near-duplicate key also
/// occurs in the first part, per class (the second part's row label) and in total. With the
/// default grouping, `exact` is 0; `near_duplicate` is 0 with group_near_duplicates.
struct SplitOverlap {
    static constexpr std::array<const char*, 3> pair_names{"train_validation", "train_test", "validation_test"};
    std::array<OverlapCount, 3> total{};
    std::vector<std::array<OverlapCount, 3>> per_class;  ///< in label order
};

/// Measures the overlap of `s` (see SplitOverlap).
/// Example: `SplitOverlap o = split_overlap(ds, stratified_split(ds, {}, 42)); o.total[1].near_duplicate`
inline SplitOverlap split_overlap(const Dataset& ds, const Split& s) {
    SplitOverlap o;
    o.per_class.assign(ds.num_labels(), {});
    const std::vector<std::size_t> label = ds.label_ids();
    const std::vector<std::size_t>* parts[3] = {&s.train, &s.validation, &s.test};
    std::array<std::unordered_set<std::string>, 3> texts, keys;
    for (int p = 0; p < 3; ++p)
        for (std::size_t i : *parts[p]) {
            RGRID_CHECK(i < ds.size(), "split_overlap: row ", i, " is out of range for ", ds.size(), " examples");
            texts[p].insert(ds.examples[i].text);
            keys[p].insert(near_duplicate_key(ds.examples[i].text));
        }
    const std::array<std::array<int, 2>, 3> pairs{{{0, 1}, {0, 2}, {1, 2}}};
    for (std::size_t q = 0; q < 3; ++q) {
        const auto [a, b] = pairs[q];
        for (std::size_t i : *parts[b]) {
            const bool exact = texts[a].count(ds.examples[i].text) > 0;
            const bool near = exact || keys[a].count(near_duplicate_key(ds.examples[i].text)) > 0;
            o.total[q].exact += exact;
            o.total[q].near_duplicate += near;
            o.per_class[label[i]][q].exact += exact;
            o.per_class[label[i]][q].near_duplicate += near;
        }
    }
    return o;
}

/// split.json's "overlap": {pair: {exact, near_duplicate, per_class: {label: {exact, near_duplicate}}}}.
inline json to_json(const SplitOverlap& o, const std::vector<std::string>& label_names) {
    RGRID_CHECK(o.per_class.size() == label_names.size(), "split overlap: ", o.per_class.size(), " classes but ",
                label_names.size(), " label names");
    json j = json::object();
    for (std::size_t q = 0; q < 3; ++q) {
        json per = json::object();
        for (std::size_t k = 0; k < label_names.size(); ++k)
            per[label_names[k]] = {{"exact", o.per_class[k][q].exact}, {"near_duplicate", o.per_class[k][q].near_duplicate}};
        j[SplitOverlap::pair_names[q]] = {{"exact", o.total[q].exact}, {"near_duplicate", o.total[q].near_duplicate},
                                          {"per_class", per}};
    }
    j["definition"] = "rows of the second part whose exact text (exact) or near-duplicate key (near_duplicate, "
                      "includes exact) also occurs in the first part";
    return j;
}

/// The overlap as a table (one row per class, exact/near per pair) and a verdict line.
inline std::string overlap_text(const SplitOverlap& o, const std::vector<std::string>& label_names) {
    std::ostringstream os;
    char line[160];
    std::snprintf(line, sizeof line, "%-20s %15s %15s %15s\n", "overlap exact/near", "train~val", "train~test",
                  "val~test");
    os << line;
    auto row = [&](const std::string& name, const std::array<OverlapCount, 3>& c) {
        std::string cells[3];
        for (int q = 0; q < 3; ++q) cells[q] = std::to_string(c[q].exact) + "/" + std::to_string(c[q].near_duplicate);
        std::snprintf(line, sizeof line, "%-20s %15s %15s %15s\n", name.substr(0, 20).c_str(), cells[0].c_str(),
                      cells[1].c_str(), cells[2].c_str());
        os << line;
    };
    for (std::size_t k = 0; k < o.per_class.size() && k < label_names.size(); ++k) row(label_names[k], o.per_class[k]);
    row("all", o.total);
    std::size_t exact = 0, near = 0;
    for (const auto& c : o.total) { exact += c.exact; near += c.near_duplicate; }
    if (near == 0)
        os << "no text of validation or test occurs (exactly or as a near-duplicate) in an earlier part\n";
    else
        os << "warning: " << exact << " exact and " << near << " near-duplicate texts repeat across parts "
           << "(rows of the later part whose text is in the earlier one): scores on them are optimistic"
           << (exact == near ? "" : "; --group-near-duplicates keeps near-duplicates together") << '\n';
    return os.str();
}

}  // namespace rgrid
