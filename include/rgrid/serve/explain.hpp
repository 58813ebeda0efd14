#pragma once
// serve::explain_windows: what each window of a document said, for POST /predict with
// "explain": true and the page. For every window: its span in content tokens and in characters
// of the text, and its own label and probability (the softmax of its own logits — the
// document's answer aggregates these logits, train/aggregation.hpp).
// Legend: W windows of one document, K labels, M content tokens per window.
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <string>
#include <vector>

#include "rgrid/core/json.hpp"
#include "rgrid/train/aggregation.hpp"
#include "rgrid/train/predictor.hpp"

namespace rgrid::serve {

namespace detail {
/// The double whose shortest decimal form is the float's shortest form, so that JSON shows
/// 0.7900993 rather than 0.7900992631912231 (the float's exact value as a double).
inline double short_double(float x) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, x);  // shortest round-trip form, no locale
    double d = x;
    std::from_chars(buf, r.ptr, d);
    return d;
}
}  // namespace detail

/// Code-point index of every byte offset of a UTF-8 string: cp[b] = characters before byte b
/// (size bytes + 1). For the page: JavaScript's Array.from(text) indexes by code point.
inline std::vector<std::size_t> code_point_index(const std::string& s) {
    std::vector<std::size_t> cp(s.size() + 1, 0);
    std::size_t n = 0;
    for (std::size_t b = 0; b < s.size(); ++b) {
        cp[b] = n;
        if ((static_cast<unsigned char>(s[b]) & 0xC0) != 0x80) ++n;  // not a continuation byte
    }
    cp[s.size()] = n;  // token offsets are character boundaries, so continuation bytes never index it
    return cp;
}

/// One entry per window of `text` (in window order): {"window": i, "tokens": [begin, end),
/// "chars": [begin, end), "label", "probability", "probabilities": {label: p}}.
/// `logits` holds the W windows' rows (W, K) as Predictor cut them (same text, same options).
/// Example: explain_windows(pred, text, wl.data(), wl.shape()[0])[1]["chars"] == {212, 518}
inline json explain_windows(const Predictor& pred, const std::string& text, const float* logits, std::size_t w) {
    const SlidingWindow& sw = pred.options().window;
    const Encoding enc = pred.tokenizer().encode(text, /*add_special_tokens=*/false);
    const std::size_t n = enc.offsets.size(), m = sw.content_length();
    const std::vector<std::size_t> starts = sw.window_starts(n);
    const std::vector<std::size_t> cp = code_point_index(text);
    const auto& labels = pred.labels();
    const std::size_t k = pred.model().config().num_labels();
    json out = json::array();
    for (std::size_t i = 0; i < w && i < starts.size(); ++i) {
        const std::size_t tb = starts[i], te = std::min(tb + m, n);
        const std::size_t cb = te > tb ? cp[enc.offsets[tb].first] : 0, ce = te > tb ? cp[enc.offsets[te - 1].second] : 0;
        const std::vector<float> p = softmax_row(logits + i * k, k);
        std::size_t best = 0;
        for (std::size_t j = 1; j < k; ++j)
            if (logits[i * k + j] > logits[i * k + best]) best = j;
        json probs = json::object();
        for (std::size_t j = 0; j < k; ++j) probs[j < labels.size() ? labels[j] : std::to_string(j)] = detail::short_double(p[j]);
        out.push_back({{"window", i},
                       {"tokens", {tb, te}},
                       {"chars", {cb, ce}},
                       {"label", best < labels.size() ? labels[best] : std::to_string(best)},
                       {"probability", detail::short_double(p[best])},
                       {"probabilities", probs}});
    }
    return out;
}

}  // namespace rgrid::serve
