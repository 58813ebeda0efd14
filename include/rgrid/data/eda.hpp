#pragma once
// Exploratory data analysis of a labelled text dataset: class balance, lengths in
// characters, words and WordPiece tokens, sliding-window counts, distinctive terms per
// class, the cleaning tally, and recommendations (max_length, stride, class weights).
// eda::analyze computes a Report; to_json / to_text / to_html render it.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/parallel.hpp"
#include "rgrid/data/clean.hpp"
#include "rgrid/data/dataset.hpp"
#include "rgrid/core/json.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/text/sliding_window.hpp"

namespace rgrid::eda {

/// Analysis settings. max_length/stride are the sliding-window setting the window counts
/// are computed for (HF overflow semantics: max_length − 2 content tokens per window,
/// consecutive windows overlap by `stride` tokens).
struct Options {
    std::size_t max_length = 512;
    std::size_t stride = 128;
    std::size_t top_terms = 12;       ///< distinctive terms listed per class
    double imbalance_ratio = 3.0;     ///< recommend class weights above this largest/smallest ratio
    std::size_t short_words = 5;      ///< texts under this many words are counted as "short"
};

/// Summary of one length distribution (nearest-rank quantiles).
struct Summary {
    double min = 0, p25 = 0, median = 0, p75 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};

/// Counts per bin; bin i holds lengths in [edges[i], edges[i+1]) and the last bin is open.
struct Histogram {
    std::vector<std::size_t> edges;
    std::vector<std::size_t> counts;
};

/// A term that marks a class: in `share_in_class` of its texts vs `share_elsewhere` of the rest.
struct Term {
    std::string term;
    std::size_t docs = 0;
    double share_in_class = 0, share_elsewhere = 0;
};

/// Statistics of one class (or of all rows, label "all").
struct ClassStats {
    std::string label;
    std::size_t rows = 0;
    double share = 0;
    Summary chars, words, tokens;      ///< chars = Unicode code points; words = whitespace-separated; tokens = WordPiece without [CLS]/[SEP]
    Histogram word_hist, token_hist;
    std::size_t over_limit = 0;        ///< texts with more than max_length − 2 tokens (need > 1 window)
    std::size_t windows = 0;           ///< total windows at (max_length, stride)
    std::size_t max_windows = 0;
    Histogram window_hist;             ///< windows per text
    std::size_t unk_tokens = 0, texts_with_unk = 0;
    std::size_t short_texts = 0;       ///< under Options::short_words words
    std::size_t near_duplicates = 0;   ///< texts whose near_duplicate_key equals an earlier text's
    std::size_t non_ascii_texts = 0, cjk_texts = 0, replacement_char_texts = 0;
    std::vector<Term> top_terms;
};

/// What the numbers suggest.
struct Recommendation {
    std::size_t max_length = 512, stride = 128;
    double fit_share = 0;               ///< share of texts that fit in one window at max_length
    std::size_t total_windows = 0;      ///< windows for the whole dataset at (max_length, stride)
    std::size_t p99_windows = 0;        ///< a sensible SlidingWindow::max_windows cap
    double imbalance = 1;               ///< largest class / smallest class
    bool use_class_weights = false;
    std::vector<double> class_weights;  ///< "balanced": N / (K · n_k), in label order
    std::vector<std::string> notes;
};

/// The full EDA result. Example:
///   auto tok = BertTokenizer::from_file(vocab);
///   eda::Report r = eda::analyze(ds, &tok, cleaning_report);
///   std::ofstream("report.html") << eda::to_html(r);
struct Report {
    std::string input, text_col = "text", label_col = "label", vocab;
    Options options;
    bool has_tokens = false;
    std::size_t rows = 0;
    std::vector<std::string> label_names;
    std::vector<ClassStats> classes;   ///< in label order
    ClassStats all;
    CleanReport cleaning;
    Recommendation recommendation;
};

namespace detail {

/// 12345 → "12,345".
inline std::string num(double v) {
    const long long n = std::llround(v);
    std::string s = std::to_string(n < 0 ? -n : n), o;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i && (s.size() - i) % 3 == 0) o += ',';
        o += s[i];
    }
    return n < 0 ? "-" + o : o;
}

/// 0.2519 → "25.2%".
inline std::string pct(double share) {
    char b[32];
    std::snprintf(b, sizeof b, share > 0 && share < 0.001 ? "%.2f%%" : "%.1f%%", 100.0 * share);
    return b;
}

inline std::string fixed(double v, int digits) {
    char b[32];
    std::snprintf(b, sizeof b, "%.*f", digits, v);
    return b;
}

/// Nearest-rank quantile of a sorted vector (q in [0, 1]).
inline double quantile_sorted(const std::vector<std::size_t>& v, double q) {
    if (v.empty()) return 0;
    const std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return static_cast<double>(v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)]);
}

inline Summary summarize(std::vector<std::size_t> v) {
    Summary s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (auto x : v) sum += static_cast<double>(x);
    s.min = static_cast<double>(v.front());
    s.max = static_cast<double>(v.back());
    s.p25 = quantile_sorted(v, 0.25);
    s.median = quantile_sorted(v, 0.5);
    s.p75 = quantile_sorted(v, 0.75);
    s.p90 = quantile_sorted(v, 0.9);
    s.p99 = quantile_sorted(v, 0.99);
    s.mean = sum / static_cast<double>(v.size());
    return s;
}

inline Histogram histogram(const std::vector<std::size_t>& v, const std::vector<std::size_t>& edges) {
    Histogram h{edges, std::vector<std::size_t>(edges.size(), 0)};
    for (auto x : v) {
        std::size_t b = static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), x) - edges.begin());
        h.counts[b == 0 ? 0 : b - 1]++;
    }
    return h;
}

// Bin edges: words on a 1-2-5 scale, tokens on max_length choices (content = L − 2).
inline std::vector<std::size_t> word_edges() { return {0, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000}; }
inline std::vector<std::size_t> token_edges(std::size_t content) {
    std::vector<std::size_t> e{0, 30, 62, 126, 254, 382};
    if (content > e.back()) e.push_back(content + 1);  // the last bin that fits is [382, content]
    for (std::size_t x = 1024; x <= 16384; x *= 2)
        if (x > e.back()) e.push_back(x);
    return e;
}
inline std::vector<std::size_t> window_edges() { return {1, 2, 3, 4, 5, 9, 17, 65}; }

/// Windows a text of n content tokens needs (≥ 1): HF overflow with stride.
inline std::size_t windows_for(std::size_t n, std::size_t max_length, std::size_t stride) {
    return SlidingWindow{.max_length = max_length, .stride = stride}.window_starts(n).size();
}

inline bool is_stopword(std::string_view w) {
    static const std::unordered_set<std::string_view> stop = {
        "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was", "one",
        "our", "out", "has", "have", "him", "his", "how", "its", "may", "new", "now", "old", "see", "two",
        "who", "did", "get", "got", "let", "say", "she", "too", "use", "that", "this", "with", "from",
        "they", "will", "would", "there", "their", "what", "about", "which", "when", "your", "were",
        "been", "than", "then", "them", "these", "some", "into", "just", "like", "more", "also", "only",
        "other", "such", "very", "what", "where", "while", "could", "should", "does", "each", "here"};
    return stop.count(w) > 0;
}

/// Calls fn(term) once per distinct lower-cased ASCII-letter word (3–20 letters, no stopwords).
template <class F>
void for_each_distinct_term(std::string_view text, std::unordered_set<std::string>& seen, F&& fn) {
    seen.clear();
    std::string w;
    auto flush = [&] {
        if (w.size() >= 3 && w.size() <= 20 && !is_stopword(w) && seen.insert(w).second) fn(w);
        w.clear();
    };
    for (char ch : text) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            if (w.size() <= 21) w += static_cast<char>(c | 0x20);
        } else {
            flush();
        }
    }
    flush();
}

// Per-text measurements (filled in parallel).
struct TextStats {
    std::size_t chars = 0, words = 0, tokens = 0, unk = 0;
    bool non_ascii = false, cjk = false, fffd = false;
};

inline TextStats measure(std::string_view s) {
    TextStats t;
    bool in_word = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if ((c & 0xC0) != 0x80) ++t.chars;
        const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
        if (!space && !in_word) ++t.words;
        in_word = !space;
        if (c >= 0x80) {
            t.non_ascii = true;
            if (c >= 0xE0 && c <= 0xEF && i + 2 < s.size()) {
                const unsigned cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
                                    (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
                if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF))
                    t.cjk = true;
                if (cp == 0xFFFD) t.fffd = true;
            }
        }
    }
    return t;
}

}  // namespace detail

/// Analyzes `ds`. `tokenizer` may be null (then token and window statistics are skipped).
/// Tokenization runs in parallel (parallel_for, dynamic scheduling over texts).
inline Report analyze(const Dataset& ds, const BertTokenizer* tokenizer, const CleanReport& cleaning = {},
                      const Options& opt = {}) {
    RGRID_CHECK(opt.max_length >= 8 && opt.max_length <= 512, "eda: max_length must be in [8, 512], got ", opt.max_length);
    RGRID_CHECK(opt.stride < opt.max_length - 2, "eda: stride (", opt.stride, ") must be < max_length − 2 (",
                opt.max_length - 2, ")");
    Report rep;
    rep.options = opt;
    rep.has_tokens = tokenizer != nullptr;
    rep.rows = ds.size();
    rep.label_names = ds.label_names;
    rep.cleaning = cleaning;
    const std::size_t K = ds.num_labels(), N = ds.size();
    const std::vector<std::size_t> label = ds.label_ids();

    // Per-text statistics and per-class document frequencies of terms, in parallel.
    std::vector<detail::TextStats> stats(N);
    std::vector<std::string> keys(N);  // near-duplicate keys
    const std::size_t parts = std::max<std::size_t>(1, num_threads());
    std::vector<std::unordered_map<std::string, std::vector<std::uint32_t>>> df_part(parts);
    std::atomic<std::size_t> next{0};
    const TokenId unk = tokenizer ? tokenizer->vocab().unk_id() : -1;
    parallel_for(parts, 1, [&](std::size_t b, std::size_t e) {
        for (std::size_t p = b; p < e; ++p) {
            auto& df = df_part[p];
            std::unordered_set<std::string> seen;
            std::vector<TokenId> ids;
            for (std::size_t i; (i = next.fetch_add(1)) < N;) {
                const std::string& text = ds.examples[i].text;
                stats[i] = detail::measure(text);
                keys[i] = near_duplicate_key(text);
                if (tokenizer) {
                    ids.clear();
                    tokenizer->append_ids(text, ids, false);
                    stats[i].tokens = ids.size();
                    stats[i].unk = static_cast<std::size_t>(std::count(ids.begin(), ids.end(), unk));
                }
                detail::for_each_distinct_term(text, seen, [&](const std::string& w) {
                    auto& v = df[w];
                    if (v.empty()) v.assign(K, 0);
                    ++v[label[i]];
                });
            }
        }
    });
    std::unordered_map<std::string, std::vector<std::uint32_t>> df = std::move(df_part[0]);
    for (std::size_t p = 1; p < parts; ++p)
        for (auto& [w, v] : df_part[p]) {
            auto& d = df[w];
            if (d.empty()) d.assign(K, 0);
            for (std::size_t k = 0; k < K; ++k) d[k] += v[k];
        }

    std::vector<char> near_dup(N, 0);
    {
        std::unordered_set<std::string_view> seen_keys;
        seen_keys.reserve(N);
        for (std::size_t i = 0; i < N; ++i) near_dup[i] = !seen_keys.insert(keys[i]).second;
    }

    const std::size_t content = opt.max_length - 2;
    const std::vector<std::size_t> counts = ds.class_counts();
    auto build = [&](const std::string& name, auto&& member) {
        ClassStats c;
        c.label = name;
        std::vector<std::size_t> chars, words, tokens, windows;
        for (std::size_t i = 0; i < N; ++i) {
            if (!member(i)) continue;
            const auto& s = stats[i];
            ++c.rows;
            chars.push_back(s.chars);
            words.push_back(s.words);
            c.short_texts += s.words < opt.short_words;
            c.near_duplicates += near_dup[i] != 0;
            c.non_ascii_texts += s.non_ascii;
            c.cjk_texts += s.cjk;
            c.replacement_char_texts += s.fffd;
            if (rep.has_tokens) {
                tokens.push_back(s.tokens);
                const std::size_t w = detail::windows_for(s.tokens, opt.max_length, opt.stride);
                windows.push_back(w);
                c.windows += w;
                c.max_windows = std::max(c.max_windows, w);
                c.over_limit += s.tokens > content;
                c.unk_tokens += s.unk;
                c.texts_with_unk += s.unk > 0;
            }
        }
        c.share = N ? static_cast<double>(c.rows) / static_cast<double>(N) : 0;
        c.chars = detail::summarize(chars);
        c.words = detail::summarize(words);
        c.word_hist = detail::histogram(words, detail::word_edges());
        if (rep.has_tokens) {
            c.tokens = detail::summarize(tokens);
            c.token_hist = detail::histogram(tokens, detail::token_edges(content));
            c.window_hist = detail::histogram(windows, detail::window_edges());
        }
        return c;
    };
    for (std::size_t k = 0; k < K; ++k) {
        ClassStats c = build(ds.label_names[k], [&](std::size_t i) { return label[i] == k; });
        // Distinctive terms: occur in a larger share of this class's texts than of the others'.
        const double nk = static_cast<double>(counts[k]), rest = static_cast<double>(N - counts[k]);
        std::vector<Term> terms;
        for (const auto& [w, v] : df) {
            if (v[k] < 3) continue;
            std::size_t other = 0;
            for (std::size_t j = 0; j < K; ++j) other += j == k ? 0 : v[j];
            Term t{w, v[k], v[k] / nk, rest > 0 ? static_cast<double>(other) / rest : 0.0};
            if (t.share_in_class > t.share_elsewhere) terms.push_back(std::move(t));
        }
        const std::size_t top = std::min(opt.top_terms, terms.size());
        // Score = (p_in − p_out) · log2((p_in + .01) / (p_out + .01)): both frequent in the class and rare elsewhere.
        auto score = [](const Term& t) {
            return (t.share_in_class - t.share_elsewhere) * std::log2((t.share_in_class + 0.01) / (t.share_elsewhere + 0.01));
        };
        std::partial_sort(terms.begin(), terms.begin() + static_cast<std::ptrdiff_t>(top), terms.end(),
                          [&](const Term& a, const Term& b) {
                              const double sa = score(a), sb = score(b);
                              return sa != sb ? sa > sb : a.term < b.term;
                          });
        terms.resize(top);
        c.top_terms = std::move(terms);
        rep.classes.push_back(std::move(c));
    }
    rep.all = build("all", [](std::size_t) { return true; });

    // Recommendations.
    Recommendation& r = rep.recommendation;
    if (rep.has_tokens && N > 0) {
        std::vector<std::size_t> tok;
        tok.reserve(N);
        for (const auto& s : stats) tok.push_back(s.tokens);
        std::sort(tok.begin(), tok.end());
        const double p95 = detail::quantile_sorted(tok, 0.95);
        r.max_length = 512;
        for (std::size_t L : {64, 128, 256, 384, 512})
            if (p95 + 2 <= static_cast<double>(L)) { r.max_length = L; break; }
        r.stride = r.max_length == 512 ? opt.stride : std::min(opt.stride, (r.max_length - 2) / 4);
        std::vector<std::size_t> wins;
        wins.reserve(N);
        std::size_t fit = 0;
        for (auto n : tok) {
            wins.push_back(detail::windows_for(n, r.max_length, r.stride));
            r.total_windows += wins.back();
            fit += n + 2 <= r.max_length;
        }
        r.fit_share = static_cast<double>(fit) / static_cast<double>(N);
        std::sort(wins.begin(), wins.end());
        r.p99_windows = static_cast<std::size_t>(detail::quantile_sorted(wins, 0.99));
        std::ostringstream os;
        os.precision(3);
        if (r.max_length < 512) {
            os << "95% of texts have at most " << static_cast<std::size_t>(p95) << " tokens: max_length "
               << r.max_length << " fits " << detail::pct(r.fit_share) << " of them in one window and is cheaper than 512.";
        } else {
            os << detail::pct(static_cast<double>(rep.all.over_limit) / static_cast<double>(N)) << " of texts exceed "
               << content << " tokens: use max_length 512 with sliding windows (stride " << r.stride << "): "
               << detail::num(static_cast<double>(r.total_windows)) << " windows for " << detail::num(static_cast<double>(N))
               << " texts (" << detail::fixed(static_cast<double>(r.total_windows) / static_cast<double>(N), 2) << " per text). "
               << "Cap windows per text at about " << r.p99_windows << " (the 99th percentile; the longest text needs "
               << rep.all.max_windows << ").";
        }
        r.notes.push_back(os.str());
    } else if (!rep.has_tokens) {
        r.notes.push_back("No vocabulary given: token lengths and window counts were not computed (pass --vocab).");
    }
    std::size_t largest = 0, smallest = SIZE_MAX;
    for (auto c : counts) { largest = std::max(largest, c); smallest = std::min(smallest, c); }
    if (K > 0 && smallest > 0) {
        r.imbalance = static_cast<double>(largest) / static_cast<double>(smallest);
        r.use_class_weights = r.imbalance > opt.imbalance_ratio;
        for (auto c : counts) r.class_weights.push_back(static_cast<double>(N) / (static_cast<double>(K) * static_cast<double>(c)));
        std::ostringstream os;
        os.precision(3);
        if (r.use_class_weights)
            os << "The largest class outnumbers the smallest " << detail::fixed(r.imbalance, 1) << ":1 (> " << opt.imbalance_ratio
               << ":1): use class weights (balanced, listed below) and read macro F1 and per-class scores, not only accuracy.";
        else
            os << "Classes are balanced enough (largest/smallest " << detail::fixed(r.imbalance, 1) << ":1): no class weights needed.";
        r.notes.push_back(os.str());
    }
    if (K < 2) r.notes.push_back("Fewer than two labels: a classifier needs at least two classes.");
    if (cleaning.conflicting_texts > 0)
        r.notes.push_back(rgrid::detail::concat(cleaning.conflicting_texts, " text(s) occur with different labels: check the labelling."));
    if (rep.all.near_duplicates > 0)
        r.notes.push_back(rgrid::detail::concat(
            rep.all.near_duplicates, " text(s) are near-duplicates of an earlier text (same letters; numbers, punctuation "
            "and spacing aside): a plain split can put such pairs in train and test and inflate scores "
            "(rgrid-split --group-near-duplicates keeps them together)."));
    if (rep.all.short_texts > 0)
        r.notes.push_back(rgrid::detail::concat(rep.all.short_texts, " text(s) have under ", opt.short_words,
                                         " words: little signal; consider dropping them."));
    if (rep.all.cjk_texts > 0)
        r.notes.push_back(rgrid::detail::concat(rep.all.cjk_texts, " text(s) contain Chinese/Japanese/Korean characters: "
                                         "each ideograph is one WordPiece token, so word counts understate their length."));
    r.notes.push_back("The split should keep exact duplicates together and stratify by label (rgrid-split does both).");
    return rep;
}

/// Machine-readable report (every number of the Report).
inline json to_json(const Report& r) {
    auto summary = [](const Summary& s) {
        return json{{"min", s.min}, {"p25", s.p25}, {"median", s.median}, {"p75", s.p75}, {"p90", s.p90},
                    {"p99", s.p99}, {"max", s.max}, {"mean", s.mean}};
    };
    auto hist = [](const Histogram& h) { return json{{"edges", h.edges}, {"counts", h.counts}}; };
    auto cls = [&](const ClassStats& c) {
        json j{{"label", c.label}, {"rows", c.rows}, {"share", c.share}, {"chars", summary(c.chars)},
               {"words", summary(c.words)}, {"words_histogram", hist(c.word_hist)}, {"short_texts", c.short_texts}, {"near_duplicates", c.near_duplicates},
               {"non_ascii_texts", c.non_ascii_texts}, {"cjk_texts", c.cjk_texts},
               {"replacement_char_texts", c.replacement_char_texts}};
        if (r.has_tokens) {
            j["tokens"] = summary(c.tokens);
            j["tokens_histogram"] = hist(c.token_hist);
            j["over_limit"] = c.over_limit;
            j["share_over_limit"] = c.rows ? static_cast<double>(c.over_limit) / static_cast<double>(c.rows) : 0.0;
            j["windows"] = c.windows;
            j["max_windows"] = c.max_windows;
            j["windows_histogram"] = hist(c.window_hist);
            j["unk_tokens"] = c.unk_tokens;
            j["texts_with_unk"] = c.texts_with_unk;
        }
        if (c.label != "all" || !c.top_terms.empty()) {
            json terms = json::array();
            for (const auto& t : c.top_terms)
                terms.push_back({{"term", t.term}, {"docs", t.docs}, {"share_in_class", t.share_in_class},
                                 {"share_elsewhere", t.share_elsewhere}});
            j["top_terms"] = terms;
        }
        return j;
    };
    const CleanReport& c = r.cleaning;
    json conflicts = json::array();
    for (const auto& d : c.conflicts) conflicts.push_back({{"preview", d.preview}, {"labels", d.labels}, {"lines", d.lines}});
    json j{{"input", r.input}, {"text_col", r.text_col}, {"label_col", r.label_col}, {"vocab", r.vocab},
           {"rows", r.rows}, {"label_names", r.label_names},
           {"options", {{"max_length", r.options.max_length}, {"stride", r.options.stride},
                        {"token_limit", r.options.max_length - 2}}},
           {"cleaning", {{"rows_in", c.rows_in}, {"rows_out", c.rows_out}, {"empty_text_dropped", c.empty_text_dropped},
                         {"empty_label_dropped", c.empty_label_dropped},
                         {"exact_duplicates_dropped", c.exact_duplicates_dropped},
                         {"conflict_rows_dropped", c.conflict_rows_dropped}, {"conflicting_texts", c.conflicting_texts},
                         {"conflicting_rows", c.conflicting_rows}, {"conflicts", conflicts},
                         {"whitespace_changed_rows", c.whitespace_changed_rows},
                         {"control_chars_removed", c.control_chars_removed}, {"control_char_rows", c.control_char_rows},
                         {"labels_trimmed", c.labels_trimmed}, {"utf8_repairs", c.utf8_repairs},
                         {"utf8_repaired_rows", c.utf8_repaired_rows}, {"replacement_char_rows", c.replacement_char_rows}}}};
    json classes = json::array();
    for (const auto& k : r.classes) classes.push_back(cls(k));
    j["classes"] = classes;
    j["all"] = cls(r.all);
    const Recommendation& rec = r.recommendation;
    json weights = json::object();
    for (std::size_t k = 0; k < rec.class_weights.size() && k < r.label_names.size(); ++k) weights[r.label_names[k]] = rec.class_weights[k];
    j["recommendation"] = {{"max_length", rec.max_length}, {"stride", rec.stride}, {"fit_share", rec.fit_share},
                           {"total_windows", rec.total_windows}, {"max_windows_cap", rec.p99_windows},
                           {"imbalance", rec.imbalance}, {"use_class_weights", rec.use_class_weights},
                           {"class_weights", weights}, {"notes", rec.notes}};
    return j;
}

}  // namespace rgrid::eda

#include "rgrid/data/eda_html.hpp"  // to_text and to_html (the renderings of a Report)
