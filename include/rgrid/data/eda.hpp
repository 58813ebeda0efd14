#pragma once
// Exploratory data analysis of a labelled text dataset: class balance, lengths in
// characters, words and WordPiece tokens, sliding-window counts (at the setting the user
// will train with and at the 512/128 reference), example texts per class, near-duplicate
// groups, distinctive terms per class (with a leakage warning), the cleaning tally, and
// recommendations (max_length, stride, class weights).
// eda::analyze computes a Report section by section; eda_json.hpp, eda_text.hpp and
// eda_html.hpp render it (to_json, to_text, to_html).
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstddef>
#include <cstdint>
#include <numeric>
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
/// consecutive windows overlap by `stride` tokens); 0 means "the recommendation". Window
/// counts are also given at the 512/128 reference when that differs.
struct Options {
    std::size_t max_length = 0;       ///< 0: the recommended max_length
    std::size_t stride = 0;           ///< 0: the recommended stride (or, with max_length given, min(128, (max_length − 2) / 4))
    std::size_t top_terms = 12;       ///< distinctive terms listed per class
    double imbalance_ratio = 3.0;     ///< recommend class weights above this largest/smallest ratio
    std::size_t short_words = 5;      ///< texts under this many words are counted as "short"
    std::size_t sample_chars = 300;   ///< example texts are cut after this many code points for display
    std::size_t max_groups = 50;      ///< near-duplicate groups listed (largest first); all are counted
    std::size_t group_rows_listed = 20;  ///< rows listed per near-duplicate group
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
/// `leakage` is non-empty when the term looks like a source marker rather than content (a
/// mailing-list or footer word, or a word in many of this class's texts and almost none of
/// the others'): a model can learn the source instead of the content.
struct Term {
    std::string term;
    std::size_t docs = 0;
    double share_in_class = 0, share_elsewhere = 0;
    std::string leakage;  ///< why it looks like leakage; empty = no warning
};

/// Windows of one class at one (max_length, stride) setting.
struct WindowStats {
    std::size_t max_length = 0, stride = 0;
    std::size_t over_limit = 0;   ///< texts with more than max_length − 2 tokens (need > 1 window)
    std::size_t windows = 0;      ///< total windows
    std::size_t max_windows = 0;  ///< most windows of one text
    Histogram hist;               ///< windows per text
};

/// One example text of a class, cut for display.
struct TextSample {
    std::string which;      ///< "shortest", "median" or "longest"
    std::size_t row = 0;    ///< index in the analyzed (cleaned) data set, 0-based
    std::size_t length = 0; ///< tokens (words without a tokenizer)
    std::string text;       ///< the first Options::sample_chars code points
    bool truncated = false; ///< the text goes on after `text`
};

/// Texts with the same near_duplicate_key (same letters once digits, punctuation and spacing
/// are ignored).
struct NearDuplicateGroup {
    std::size_t size = 0;               ///< rows in the group
    std::vector<std::size_t> rows;      ///< the first Options::group_rows_listed rows, 0-based, ascending
    std::vector<std::string> labels;    ///< distinct labels of its rows, in label order
    std::string preview;                ///< the start of its first text
};

/// Statistics of one class (or of all rows, label "all").
struct ClassStats {
    std::string label;
    std::size_t rows = 0;
    double share = 0;
    Summary chars, words, tokens;      ///< chars = Unicode code points; words = whitespace-separated; tokens = WordPiece without [CLS]/[SEP]
    Histogram word_hist, token_hist;
    std::vector<WindowStats> windows;  ///< [0] at Report::options' setting, [1] at 512/128 when different
    std::size_t unk_tokens = 0, texts_with_unk = 0;
    std::size_t short_texts = 0;       ///< under Options::short_words words
    std::size_t near_duplicates = 0;   ///< texts whose near_duplicate_key equals an earlier text's
    std::size_t non_ascii_texts = 0, cjk_texts = 0, replacement_char_texts = 0;
    std::vector<Term> top_terms;
    std::vector<TextSample> samples;   ///< shortest, median, longest (fewer for classes under 3 texts)
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
    Options options;                   ///< as used: max_length/stride resolved (never 0)
    bool setting_given = false;        ///< max_length or stride came from the caller, not the recommendation
    bool has_tokens = false;
    std::size_t rows = 0;
    std::vector<std::string> label_names;
    std::vector<ClassStats> classes;   ///< in label order
    ClassStats all;
    std::size_t near_duplicate_groups_total = 0;
    std::vector<NearDuplicateGroup> near_duplicate_groups;  ///< largest first, at most Options::max_groups
    CleanReport cleaning;
    Recommendation recommendation;
};

/// The 512/128 reference setting window counts are always given at.
inline constexpr std::size_t kReferenceMaxLength = 512, kReferenceStride = 128;

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


// ---- Sections of analyze(), in the order it runs them.

/// Per-text measurements and per-class document frequencies of terms (parallel_for,
/// dynamic scheduling over texts).
struct Measured {
    std::vector<TextStats> stats;
    std::vector<std::string> keys;  ///< near_duplicate_key of each text
    std::unordered_map<std::string, std::vector<std::uint32_t>> df;  ///< term → texts per class containing it
};

inline Measured measure_all(const Dataset& ds, const std::vector<std::size_t>& label, const BertTokenizer* tokenizer) {
    const std::size_t K = ds.num_labels(), N = ds.size();
    Measured m;
    m.stats.resize(N);
    m.keys.resize(N);
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
                m.stats[i] = measure(text);
                m.keys[i] = near_duplicate_key(text);
                if (tokenizer) {
                    ids.clear();
                    tokenizer->append_ids(text, ids, false);
                    m.stats[i].tokens = ids.size();
                    m.stats[i].unk = static_cast<std::size_t>(std::count(ids.begin(), ids.end(), unk));
                }
                for_each_distinct_term(text, seen, [&](const std::string& w) {
                    auto& v = df[w];
                    if (v.empty()) v.assign(K, 0);
                    ++v[label[i]];
                });
            }
        }
    });
    m.df = std::move(df_part[0]);
    for (std::size_t p = 1; p < parts; ++p)
        for (auto& [w, v] : df_part[p]) {
            auto& d = m.df[w];
            if (d.empty()) d.assign(K, 0);
            for (std::size_t k = 0; k < K; ++k) d[k] += v[k];
        }
    return m;
}

/// The recommended window setting: the smallest common max_length whose content holds the
/// 95th-percentile text (512 with windows otherwise), stride 128 at 512, else a quarter of
/// the content capped at 128.
struct Setting {
    std::size_t max_length = kReferenceMaxLength, stride = kReferenceStride;
    double p95 = 0;  ///< 95th-percentile tokens per text
};
inline Setting recommended_setting(const std::vector<TextStats>& stats) {
    Setting s;
    if (stats.empty()) return s;
    std::vector<std::size_t> tok;
    tok.reserve(stats.size());
    for (const auto& t : stats) tok.push_back(t.tokens);
    std::sort(tok.begin(), tok.end());
    s.p95 = quantile_sorted(tok, 0.95);
    for (std::size_t L : {64, 128, 256, 384, 512})
        if (s.p95 + 2 <= static_cast<double>(L)) { s.max_length = L; break; }
    s.stride = s.max_length == kReferenceMaxLength ? kReferenceStride : std::min(kReferenceStride, (s.max_length - 2) / 4);
    return s;
}

/// Default stride for a caller-given max_length (the same rule as the recommendation).
inline std::size_t default_stride(std::size_t max_length) {
    return max_length == kReferenceMaxLength ? kReferenceStride : std::min(kReferenceStride, (max_length - 2) / 4);
}

/// Row indices of each class, ascending.
inline std::vector<std::vector<std::size_t>> rows_by_class(const std::vector<std::size_t>& label, std::size_t K) {
    std::vector<std::vector<std::size_t>> rows(K);
    for (std::size_t i = 0; i < label.size(); ++i) rows[label[i]].push_back(i);
    return rows;
}

/// 1 for each text whose near-duplicate key equals an earlier text's.
inline std::vector<char> near_duplicate_flags(const std::vector<std::string>& keys) {
    std::vector<char> dup(keys.size(), 0);
    std::unordered_set<std::string_view> seen;
    seen.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) dup[i] = !seen.insert(keys[i]).second;
    return dup;
}

/// Lengths, histograms and content checks of the texts `rows`.
inline ClassStats length_stats(const std::string& name, const std::vector<std::size_t>& rows, const Measured& m,
                               const std::vector<char>& near_dup, std::size_t N, std::size_t content,
                               bool has_tokens, const Options& opt) {
    ClassStats c;
    c.label = name;
    c.rows = rows.size();
    std::vector<std::size_t> chars, words, tokens;
    for (std::size_t i : rows) {
        const auto& s = m.stats[i];
        chars.push_back(s.chars);
        words.push_back(s.words);
        c.short_texts += s.words < opt.short_words;
        c.near_duplicates += near_dup[i] != 0;
        c.non_ascii_texts += s.non_ascii;
        c.cjk_texts += s.cjk;
        c.replacement_char_texts += s.fffd;
        if (has_tokens) {
            tokens.push_back(s.tokens);
            c.unk_tokens += s.unk;
            c.texts_with_unk += s.unk > 0;
        }
    }
    c.share = N ? static_cast<double>(c.rows) / static_cast<double>(N) : 0;
    c.chars = summarize(chars);
    c.words = summarize(words);
    c.word_hist = histogram(words, word_edges());
    if (has_tokens) {
        c.tokens = summarize(tokens);
        c.token_hist = histogram(tokens, token_edges(content));
    }
    return c;
}

/// Windows of the texts `rows` at (max_length, stride).
inline WindowStats window_stats(const std::vector<std::size_t>& rows, const std::vector<TextStats>& stats,
                                std::size_t max_length, std::size_t stride) {
    WindowStats w;
    w.max_length = max_length;
    w.stride = stride;
    std::vector<std::size_t> per_text;
    per_text.reserve(rows.size());
    for (std::size_t i : rows) {
        const std::size_t n = windows_for(stats[i].tokens, max_length, stride);
        per_text.push_back(n);
        w.windows += n;
        w.max_windows = std::max(w.max_windows, n);
        w.over_limit += stats[i].tokens > max_length - 2;
    }
    w.hist = histogram(per_text, window_edges());
    return w;
}

/// Words of list and footer boilerplate ("To unsubscribe … listinfo …", "Yahoo! Groups Sponsor").
inline bool is_footer_word(std::string_view w) {
    static const std::unordered_set<std::string_view> footer = {
        "unsubscribe", "subscribe", "subscription", "listinfo", "mailman", "mailing", "list", "lists",
        "sourceforge", "digest", "archive", "archives", "yahoogroups", "egroups", "groups", "sponsor",
        "sponsored", "optout", "listmaster", "majordomo", "newsletter", "mailto", "listserv", "admin",
        "copyright", "reserved", "disclaimer"};
    return footer.count(w) > 0;
}

/// Sets Term::leakage for terms that look like a source marker rather than content: a list or
/// footer word clearly more frequent in this class, or a word in ≥ 10 % of this class's texts
/// and under 0.5 % of the others'.
inline void flag_leakage(std::vector<Term>& terms) {
    for (auto& t : terms) {
        if (is_footer_word(t.term) && t.share_in_class > 3 * t.share_elsewhere)
            t.leakage = "a mailing-list or footer word, " + std::string(t.share_elsewhere == 0 ? "only in this class" :
                                                                        "far more frequent in this class");
        else if (t.share_in_class >= 0.10 && t.share_elsewhere < 0.005)
            t.leakage = "in many texts of this class and almost none of the others: often a list name, header or footer";
    }
}

/// The top distinctive terms of class k: occur in ≥ 3 of its texts and in a larger share of
/// them than of the others' texts, ranked by (p_in − p_out) · log2((p_in + .01) / (p_out + .01)).
inline std::vector<Term> distinctive_terms(const std::unordered_map<std::string, std::vector<std::uint32_t>>& df,
                                           const std::vector<std::size_t>& counts, std::size_t k, std::size_t N,
                                           std::size_t top_n) {
    const double nk = static_cast<double>(counts[k]), rest = static_cast<double>(N - counts[k]);
    std::vector<Term> terms;
    for (const auto& [w, v] : df) {
        if (v[k] < 3) continue;
        std::size_t other = 0;
        for (std::size_t j = 0; j < v.size(); ++j) other += j == k ? 0 : v[j];
        Term t{w, v[k], v[k] / nk, rest > 0 ? static_cast<double>(other) / rest : 0.0, {}};
        if (t.share_in_class > t.share_elsewhere) terms.push_back(std::move(t));
    }
    const std::size_t top = std::min(top_n, terms.size());
    auto score = [](const Term& t) {
        return (t.share_in_class - t.share_elsewhere) * std::log2((t.share_in_class + 0.01) / (t.share_elsewhere + 0.01));
    };
    std::partial_sort(terms.begin(), terms.begin() + static_cast<std::ptrdiff_t>(top), terms.end(),
                      [&](const Term& a, const Term& b) {
                          const double sa = score(a), sb = score(b);
                          return sa != sb ? sa > sb : a.term < b.term;
                      });
    terms.resize(top);
    flag_leakage(terms);
    return terms;
}

/// The first `max_cp` code points of `s` (whole UTF-8 sequences); `truncated` says whether more followed.
inline std::string cut_text(std::string_view s, std::size_t max_cp, bool& truncated) {
    std::size_t cps = 0, i = 0;
    for (; i < s.size(); ++i)
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && cps++ == max_cp) break;
    truncated = i < s.size();
    return std::string(s.substr(0, i));
}

/// `s` cut to `max_cp` code points on one line (line breaks and tabs → spaces), "…" when cut.
inline std::string preview(std::string_view s, std::size_t max_cp) {
    bool cut = false;
    std::string p = cut_text(s, max_cp, cut);
    for (char& c : p)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    return cut ? p + "…" : p;
}

/// The shortest, median and longest text of `rows` by length (tokens, or words without a
/// tokenizer; ties → the earlier row), cut to opt.sample_chars code points.
inline std::vector<TextSample> text_samples(std::vector<std::size_t> rows, const Dataset& ds,
                                            const std::vector<TextStats>& stats, bool has_tokens, const Options& opt) {
    auto len = [&](std::size_t i) { return has_tokens ? stats[i].tokens : stats[i].words; };
    std::stable_sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) { return len(a) < len(b); });
    std::vector<TextSample> out;
    if (rows.empty()) return out;
    const std::size_t n = rows.size();
    const std::pair<const char*, std::size_t> picks[] = {{"shortest", 0}, {"median", (n - 1) / 2}, {"longest", n - 1}};
    std::size_t last = SIZE_MAX;
    for (const auto& [which, pos] : picks) {
        if (pos == last) continue;
        last = pos;
        TextSample s;
        s.which = which;
        s.row = rows[pos];
        s.length = len(rows[pos]);
        s.text = cut_text(ds.examples[rows[pos]].text, opt.sample_chars, s.truncated);
        out.push_back(std::move(s));
    }
    return out;
}

/// Groups of ≥ 2 texts sharing a near-duplicate key, largest first (ties → earlier first row);
/// `total` gets the number of groups, the result holds the first opt.max_groups.
inline std::vector<NearDuplicateGroup> near_duplicate_groups(const std::vector<std::string>& keys, const Dataset& ds,
                                                             const std::vector<std::size_t>& label, const Options& opt,
                                                             std::size_t& total) {
    std::unordered_map<std::string_view, std::vector<std::size_t>> by_key;
    by_key.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) by_key[keys[i]].push_back(i);
    std::vector<const std::vector<std::size_t>*> groups;
    for (const auto& [key, rows] : by_key)
        if (rows.size() > 1) groups.push_back(&rows);
    total = groups.size();
    std::sort(groups.begin(), groups.end(), [](const auto* a, const auto* b) {
        return a->size() != b->size() ? a->size() > b->size() : a->front() < b->front();
    });
    std::vector<NearDuplicateGroup> out;
    for (std::size_t g = 0; g < groups.size() && g < opt.max_groups; ++g) {
        const auto& rows = *groups[g];
        NearDuplicateGroup d;
        d.size = rows.size();
        d.rows.assign(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(std::min(rows.size(), opt.group_rows_listed)));
        std::vector<char> has(ds.num_labels(), 0);
        for (std::size_t i : rows) has[label[i]] = 1;
        for (std::size_t k = 0; k < has.size(); ++k)
            if (has[k]) d.labels.push_back(ds.label_names[k]);
        d.preview = preview(ds.examples[rows.front()].text, 100);
        out.push_back(std::move(d));
    }
    return out;
}

/// Recommendation numbers and notes (the window part needs token statistics).
inline Recommendation recommend(const Report& rep, const std::vector<TextStats>& stats, const Setting& setting,
                                const std::vector<std::size_t>& counts, const Options& opt) {
    Recommendation r;
    const std::size_t N = stats.size(), K = counts.size();
    r.max_length = setting.max_length;
    r.stride = setting.stride;
    if (rep.has_tokens) {
        std::vector<std::size_t> wins;
        wins.reserve(N);
        std::size_t fit = 0, longest = 0;
        for (const auto& t : stats) {
            wins.push_back(windows_for(t.tokens, r.max_length, r.stride));
            r.total_windows += wins.back();
            longest = std::max(longest, wins.back());
            fit += t.tokens + 2 <= r.max_length;
        }
        r.fit_share = static_cast<double>(fit) / static_cast<double>(N);
        std::sort(wins.begin(), wins.end());
        r.p99_windows = static_cast<std::size_t>(quantile_sorted(wins, 0.99));
        std::ostringstream os;
        if (r.max_length < kReferenceMaxLength) {
            os << "95% of texts have at most " << static_cast<std::size_t>(setting.p95) << " tokens: max_length "
               << r.max_length << " fits " << pct(r.fit_share) << " of them in one window and is cheaper than 512.";
        } else {
            os << pct(1.0 - r.fit_share) << " of texts exceed " << r.max_length - 2
               << " tokens: use max_length 512 with sliding windows (stride " << r.stride << "): "
               << num(static_cast<double>(r.total_windows)) << " windows for " << num(static_cast<double>(N)) << " texts ("
               << fixed(static_cast<double>(r.total_windows) / static_cast<double>(N), 2) << " per text). "
               << "Cap windows per text at about " << r.p99_windows << " (the 99th percentile; the longest text needs "
               << longest << ").";
        }
        r.notes.push_back(os.str());
    } else {
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
            os << "The largest class outnumbers the smallest " << fixed(r.imbalance, 1) << ":1 (> " << opt.imbalance_ratio
               << ":1): use class weights (balanced, listed below) and read macro F1 and per-class scores, not only accuracy.";
        else
            os << "Classes are balanced enough (largest/smallest " << fixed(r.imbalance, 1) << ":1): no class weights needed.";
        r.notes.push_back(os.str());
    }
    if (K < 2) r.notes.push_back("Fewer than two labels: a classifier needs at least two classes.");
    if (rep.cleaning.conflicting_texts > 0)
        r.notes.push_back(rgrid::detail::concat(rep.cleaning.conflicting_texts,
                                                " text(s) occur with different labels: check the labelling."));
    if (rep.all.near_duplicates > 0)
        r.notes.push_back(rgrid::detail::concat(
            rep.all.near_duplicates, " text(s) are near-duplicates of an earlier text (same letters; numbers, punctuation "
            "and spacing aside; ", rep.near_duplicate_groups_total, " group(s), listed below): a plain split can put such "
            "pairs in train and test and inflate scores (rgrid-split --group-near-duplicates keeps them together)."));
    std::size_t leaks = 0;
    for (const auto& c : rep.classes)
        for (const auto& t : c.top_terms) leaks += !t.leakage.empty();
    if (leaks > 0)
        r.notes.push_back(rgrid::detail::concat(
            leaks, " distinctive term(s) look like leakage (list names, footers, headers found in one class only; "
            "flagged in the terms table): the model may learn where a text came from instead of what it says."));
    if (rep.all.short_texts > 0)
        r.notes.push_back(rgrid::detail::concat(rep.all.short_texts, " text(s) have under ", opt.short_words,
                                                " words: little signal; consider dropping them."));
    if (rep.all.cjk_texts > 0)
        r.notes.push_back(rgrid::detail::concat(rep.all.cjk_texts, " text(s) contain Chinese/Japanese/Korean characters: "
                                                "each ideograph is one WordPiece token, so word counts understate their length."));
    r.notes.push_back("The split should keep exact duplicates together and stratify by label (rgrid-split does both).");
    return r;
}

/// Resolves Options::max_length/stride (0 = the recommendation) and checks them.
inline Options resolve_setting(Options opt, const Setting& rec) {
    const bool given_length = opt.max_length != 0;
    if (!given_length) opt.max_length = rec.max_length;
    RGRID_CHECK(opt.max_length >= 8 && opt.max_length <= 512, "eda: max_length must be in [8, 512], got ", opt.max_length);
    if (opt.stride == 0) opt.stride = given_length ? default_stride(opt.max_length) : rec.stride;
    RGRID_CHECK(opt.stride < opt.max_length - 2, "eda: stride (", opt.stride, ") must be < max_length − 2 (",
                opt.max_length - 2, ")");
    return opt;
}

/// The rgrid-finetune options that apply the recommendation (eda.json's finetune_args).
inline std::vector<std::string> finetune_args(const Report& r) {
    const Recommendation& rec = r.recommendation;
    std::vector<std::string> a{"--max-length", std::to_string(rec.max_length), "--stride", std::to_string(rec.stride)};
    if (r.has_tokens && rec.p99_windows > 0) {
        a.push_back("--max-windows");
        a.push_back(std::to_string(rec.p99_windows));
    }
    if (rec.use_class_weights) a.push_back("--class-weights");
    return a;
}

}  // namespace detail

/// Analyzes `ds`. `tokenizer` may be null (then token and window statistics are skipped).
/// Window counts are computed at opt's setting (0 = the recommendation) and at 512/128.
/// An empty data set (nothing left after cleaning) is an error.
inline Report analyze(const Dataset& ds, const BertTokenizer* tokenizer, const CleanReport& cleaning = {},
                      const Options& options = {}) {
    const CleanReport& c = cleaning;
    RGRID_CHECK(ds.size() > 0, "eda: no rows left to analyze (", c.rows_in, " rows read; dropped: ", c.empty_text_dropped,
                " empty texts, ", c.empty_label_dropped, " empty labels, ", c.exact_duplicates_dropped,
                " exact duplicates, ", c.conflict_rows_dropped, " conflicting-label rows): check the text and label columns");
    Report rep;
    rep.has_tokens = tokenizer != nullptr;
    rep.rows = ds.size();
    rep.label_names = ds.label_names;
    rep.cleaning = cleaning;
    const std::size_t K = ds.num_labels(), N = ds.size();
    const std::vector<std::size_t> label = ds.label_ids(), counts = ds.class_counts();

    const detail::Measured m = detail::measure_all(ds, label, tokenizer);
    const detail::Setting rec = rep.has_tokens ? detail::recommended_setting(m.stats) : detail::Setting{};
    rep.options = detail::resolve_setting(options, rec);
    rep.setting_given = options.max_length != 0 || options.stride != 0;
    const Options& opt = rep.options;
    const std::vector<char> near_dup = detail::near_duplicate_flags(m.keys);
    const bool reference_differs = opt.max_length != kReferenceMaxLength || opt.stride != kReferenceStride;

    auto describe = [&](const std::string& name, const std::vector<std::size_t>& rows) {
        ClassStats s = detail::length_stats(name, rows, m, near_dup, N, opt.max_length - 2, rep.has_tokens, opt);
        if (rep.has_tokens) {
            s.windows.push_back(detail::window_stats(rows, m.stats, opt.max_length, opt.stride));
            if (reference_differs)
                s.windows.push_back(detail::window_stats(rows, m.stats, kReferenceMaxLength, kReferenceStride));
        }
        return s;
    };
    const auto class_rows = detail::rows_by_class(label, K);
    for (std::size_t k = 0; k < K; ++k) {
        ClassStats s = describe(ds.label_names[k], class_rows[k]);
        s.top_terms = detail::distinctive_terms(m.df, counts, k, N, opt.top_terms);
        s.samples = detail::text_samples(class_rows[k], ds, m.stats, rep.has_tokens, opt);
        rep.classes.push_back(std::move(s));
    }
    std::vector<std::size_t> all_rows(N);
    std::iota(all_rows.begin(), all_rows.end(), std::size_t{0});
    rep.all = describe("all", all_rows);
    rep.near_duplicate_groups = detail::near_duplicate_groups(m.keys, ds, label, opt, rep.near_duplicate_groups_total);
    rep.recommendation = detail::recommend(rep, m.stats, rec, counts, opt);
    return rep;
}

}  // namespace rgrid::eda

#include "rgrid/data/eda_json.hpp"  // to_json
#include "rgrid/data/eda_text.hpp"  // to_text
#include "rgrid/data/eda_html.hpp"  // to_html
