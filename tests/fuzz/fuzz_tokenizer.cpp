// libFuzzer target: BertTokenizer over the shipped bert-base-uncased vocab (uncased and
// cased) and SlidingWindow.
// Input: 2 option bytes (cased flag, max_length, stride), then the text (any bytes).
// Checks: encode() and encode_ids() agree; all vectors of an Encoding have one length;
// ids are in the vocabulary; offsets lie inside the text; decode() accepts every id it got;
// SlidingWindow's windows are [CLS] content [SEP], at most max_length long, consecutive
// windows overlap by exactly `stride` content tokens, and together they cover the content.
#include <memory>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/text/sliding_window.hpp"

#ifndef RGRID_FUZZ_VOCAB
#error "RGRID_FUZZ_VOCAB must name examples/assets/bert-base-uncased-vocab.txt"
#endif

namespace {
const rgrid::BertTokenizer& tokenizer(bool cased) {
    static const auto uncased = std::make_unique<rgrid::BertTokenizer>(rgrid::BertTokenizer::from_file(RGRID_FUZZ_VOCAB, true));
    static const auto with_case = std::make_unique<rgrid::BertTokenizer>(rgrid::BertTokenizer::from_file(RGRID_FUZZ_VOCAB, false));
    return cased ? *with_case : *uncased;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    (void)tokenizer(false);
    (void)tokenizer(true);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rgrid::fuzz::Input in{data, size};
    const std::uint8_t o1 = in.byte(), o2 = in.byte();
    const rgrid::BertTokenizer& tok = tokenizer((o1 & 1) != 0);
    const std::string_view text = in.rest();

    const rgrid::Encoding e = tok.encode(text);
    const std::vector<rgrid::TokenId> ids = tok.encode_ids(text);
    RGRID_FUZZ_CHECK(e.ids == ids);
    const std::size_t n = e.size();
    RGRID_FUZZ_CHECK(n >= 2 && e.ids.front() == tok.cls_id() && e.ids.back() == tok.sep_id());
    RGRID_FUZZ_CHECK(e.type_ids.size() == n && e.attention_mask.size() == n && e.special_tokens_mask.size() == n &&
                     e.tokens.size() == n && e.offsets.size() == n);
    const auto vocab_size = static_cast<rgrid::TokenId>(tok.vocab().size());
    for (std::size_t i = 0; i < n; ++i) {
        RGRID_FUZZ_CHECK(e.ids[i] >= 0 && e.ids[i] < vocab_size);
        RGRID_FUZZ_CHECK(e.tokens[i] == tok.vocab().token(e.ids[i]));
        RGRID_FUZZ_CHECK(e.offsets[i].first <= e.offsets[i].second && e.offsets[i].second <= text.size());
    }
    const std::vector<rgrid::TokenId> content = tok.encode_ids(text, /*add_special_tokens=*/false);
    RGRID_FUZZ_CHECK(content.size() + 2 == n);
    (void)tok.decode(ids);
    (void)tok.decode(ids, /*skip_special_tokens=*/false);

    // Windows: max_length in [3, 66], stride in [0, max_length - 3].
    rgrid::SlidingWindow sw;
    sw.max_length = 3 + (o1 >> 2);
    sw.stride = o2 % (sw.max_length - 2);
    sw.max_windows = (o2 & 0x80) ? 2 : 0;
    const auto windows = sw.windows(content, tok.cls_id(), tok.sep_id());
    RGRID_FUZZ_CHECK(!windows.empty());
    const std::size_t m = sw.max_length - 2;
    std::size_t covered = 0;
    for (std::size_t w = 0; w < windows.size(); ++w) {
        const auto& win = windows[w];
        RGRID_FUZZ_CHECK(win.size() >= 2 && win.size() <= sw.max_length);
        RGRID_FUZZ_CHECK(win.front() == tok.cls_id() && win.back() == tok.sep_id());
        const std::size_t start = w * (m - sw.stride);
        RGRID_FUZZ_CHECK(start + win.size() - 2 <= content.size());
        for (std::size_t i = 1; i + 1 < win.size(); ++i) RGRID_FUZZ_CHECK(win[i] == content[start + i - 1]);
        covered = start + win.size() - 2;
    }
    if (sw.max_windows == 0) RGRID_FUZZ_CHECK(covered == content.size());
    return 0;
}
