// Masked-LM data: MaskedLmCollator (DataCollatorForLanguageModeling's statistics over many
// draws, specials and padding never chosen, whole words intact, reproducible for a seed,
// options validated) and text_blocks.hpp (group_texts blocks, sliding windows, held-out share).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "common/error_of.hpp"
#include "rgrid/data/mlm_collator.hpp"
#include "rgrid/data/text_blocks.hpp"
#include "rgrid/data/text_corpus.hpp"

using namespace rgrid;
using rgrid::test::error_of;

namespace {

const BertTokenizer& tok() {
    static BertTokenizer t = BertTokenizer::from_file(RGRID_SOURCE_DIR "/examples/assets/bert-base-uncased-vocab.txt");
    return t;
}

// B rows of [CLS] + random word ids (some [UNK]/[MASK]/[SEP] inside) + [SEP], padded to T.
Batch random_batch(std::size_t B, std::size_t T, std::uint64_t seed) {
    const Vocab& v = tok().vocab();
    Rng rng(seed);
    std::vector<Window> ws;
    for (std::size_t b = 0; b < B; ++b) {
        const std::size_t len = T / 2 + rng.below(T / 2 + 1);  // T/2 .. T: some rows padded
        Window w{b, -1, {v.cls_id()}};
        while (w.ids.size() + 1 < len) {
            const std::uint64_t r = rng.below(100);
            w.ids.push_back(r == 0 ? v.unk_id() : r == 1 ? v.mask_id() : r == 2 ? v.sep_id()
                                                                                 : TokenId(1000 + rng.below(29000)));
        }
        w.ids.push_back(v.sep_id());
        ws.push_back(std::move(w));
    }
    Batcher batcher(ws, {.batch_size = B, .shuffle = false, .pad_id = v.pad_id()});
    std::vector<std::size_t> all(B);
    for (std::size_t i = 0; i < B; ++i) all[i] = i;
    return batcher.make_batch(all);
}

bool is_special(TokenId id) {
    const Vocab& v = tok().vocab();
    return id == v.pad_id() || id == v.unk_id() || id == v.cls_id() || id == v.sep_id() || id == v.mask_id();
}

}  // namespace

TEST(MaskedLmCollator, OptionsAreValidatedNamingTheOption) {
    for (double p : {0.0, 1.0, 1.5, -0.1}) {
        const std::string e = error_of([&] { MaskedLmCollator(tok().vocab(), {.mlm_probability = p}); });
        EXPECT_NE(e.find("mlm_probability"), std::string::npos) << e;
    }
    EXPECT_NE(error_of([] { MaskedLmCollator(tok().vocab(), {.mask_replace_prob = 0.9, .random_replace_prob = 0.2}); })
                  .find("must not exceed 1"),
              std::string::npos);
    EXPECT_NE(error_of([] { MaskedLmCollator(tok().vocab(), {.random_replace_prob = -0.5}); }).find("random_replace_prob"),
              std::string::npos);
    EXPECT_NE(error_of([] { MaskedLmCollator(Vocab({"[PAD]", "[CLS]", "a"})); }).find("[MASK]"), std::string::npos);
    MaskedLmCollator c(tok().vocab());
    Rng rng(1);
    EXPECT_NE(error_of([&] { c.mask(index_tensor({101, 40000}, {1, 2}), {}, index_tensor({1, 1}, {1, 2}), rng); })
                  .find("id 40000"),
              std::string::npos);
    EXPECT_NE(error_of([&] { c.mask(index_tensor({101, 102}, {1, 2}), {}, index_tensor({1, 1, 1}, {1, 3}), rng); })
                  .find("attention_mask"),
              std::string::npos);
}

// 80/10/10 over ~100,000 maskable positions: the chosen share is 0.15 (σ ≈ 0.0011), and of
// the ~15,000 chosen 80% [MASK], 10% random, 10% unchanged (σ ≤ 0.0033); tolerances ≈ 4σ.
TEST(MaskedLmCollator, StatisticsOverManyDrawsMatch801010) {
    MaskedLmCollator collate(tok().vocab());
    Rng rng(2024);
    std::size_t maskable = 0, chosen = 0, to_mask = 0, to_random = 0, kept = 0;
    double random_sum = 0;
    const std::size_t V = tok().vocab().size();
    for (int draw = 0; draw < 16; ++draw) {
        const Batch b = random_batch(64, 128, 100 + draw);
        const MaskedLmBatch m = collate(b, rng);
        std::size_t n = 0;
        for (std::size_t i = 0; i < b.input_ids.size(); ++i) {
            const auto id = b.input_ids.data()[i], x = m.input_ids.data()[i], y = m.labels.data()[i];
            const bool real = b.attention_mask.data()[i] == 1;
            if (!real || is_special(static_cast<TokenId>(id))) {  // never chosen, never changed
                ASSERT_EQ(y, -100) << "special or pad chosen at flat " << i;
                ASSERT_EQ(x, id);
                continue;
            }
            ++maskable;
            if (y == -100) {
                ASSERT_EQ(x, id) << "an unchosen position changed";
                continue;
            }
            ASSERT_EQ(y, id) << "label is not the original id";
            ++chosen;
            ++n;
            if (x == collate.mask_id()) ++to_mask;
            else if (x == id) ++kept;
            else ++to_random, random_sum += static_cast<double>(x);
        }
        EXPECT_EQ(m.num_masked, n);
        EXPECT_EQ(m.attention_mask, b.attention_mask);
        EXPECT_EQ(m.token_type_ids, b.token_type_ids);
    }
    const double c = static_cast<double>(chosen);
    std::cout << "[mlm masking] " << maskable << " maskable, chosen " << c / maskable << ", [MASK] " << to_mask / c
              << ", random " << to_random / c << ", unchanged " << kept / c << "\n";
    ASSERT_GT(maskable, 90000u);
    EXPECT_NEAR(c / maskable, 0.15, 0.005);
    EXPECT_NEAR(to_mask / c, 0.8, 0.013);
    EXPECT_NEAR(to_random / c, 0.1, 0.01);
    EXPECT_NEAR(kept / c, 0.1, 0.01);
    EXPECT_NEAR(random_sum / to_random, (V - 1) / 2.0, 0.03 * V);  // uniform over the whole vocabulary
}

TEST(MaskedLmCollator, SameSeedSameMasksAndTheStreamAdvances) {
    MaskedLmCollator collate(tok().vocab(), {.mlm_probability = 0.3});
    const Batch b = random_batch(8, 64, 5);
    Rng r1(7), r2(7), r3(8);
    const MaskedLmBatch a = collate(b, r1), a2 = collate(b, r2), other = collate(b, r3);
    EXPECT_EQ(a.input_ids, a2.input_ids);
    EXPECT_EQ(a.labels, a2.labels);
    EXPECT_NE(a.labels, other.labels);
    EXPECT_EQ(r1.counter(), 3u * a.input_ids.size());  // 3 draws per position, whatever was chosen
    const MaskedLmBatch next = collate(b, r1);
    EXPECT_NE(next.labels, a.labels);
    // a stream restored from (key, counter) continues with the same masks (resume)
    Rng restored;
    restored.set_state(r2.key(), r2.counter());
    EXPECT_EQ(collate(b, restored).labels, next.labels);
}

TEST(MaskedLmCollator, ReplaceProbabilitiesAreOptions) {
    MaskedLmCollator all_mask(tok().vocab(), {.mlm_probability = 0.5, .mask_replace_prob = 1.0, .random_replace_prob = 0.0});
    const Batch b = random_batch(8, 64, 9);
    Rng rng(3);
    const MaskedLmBatch m = all_mask(b, rng);
    ASSERT_GT(m.num_masked, 50u);
    for (std::size_t i = 0; i < m.labels.size(); ++i)
        if (m.labels.data()[i] != -100) EXPECT_EQ(m.input_ids.data()[i], all_mask.mask_id());
}

// Whole words: every "##" piece is chosen exactly when the piece that starts its word is;
// the word-level rate is mlm_probability.
TEST(MaskedLmCollator, WholeWordMaskingKeepsWordsIntact) {
    const std::string text =
        "unbelievably tokenization hyperparameters electroencephalography are antidisestablishmentarianism "
        "so the quick brown fox jumps over incomprehensibilities and pseudopseudohypoparathyroidism";
    std::vector<TokenId> ids = tok().encode_ids(text, false);
    const Vocab& v = tok().vocab();
    std::size_t pieces = 0;
    for (TokenId id : ids) pieces += v.token(id).rfind("##", 0) == 0;
    ASSERT_GT(pieces, 20u) << "the text should hold many multi-piece words";
    std::vector<Window> ws;
    for (std::size_t r = 0; r < 16; ++r) {
        Window w{r, -1, {v.cls_id()}};
        // rows start at different pieces, so some begin with an orphan "##" piece after [CLS]
        w.ids.insert(w.ids.end(), ids.begin() + static_cast<std::ptrdiff_t>(r % 4), ids.end());
        w.ids.push_back(v.sep_id());
        ws.push_back(std::move(w));
    }
    Batcher batcher(ws, {.batch_size = 16, .shuffle = false});
    std::vector<std::size_t> all(16);
    for (std::size_t i = 0; i < 16; ++i) all[i] = i;
    const Batch b = batcher.make_batch(all);
    MaskedLmCollator collate(v, {.whole_word_mask = true});
    Rng rng(11);
    std::size_t words = 0, chosen_words = 0;
    for (int draw = 0; draw < 200; ++draw) {
        const MaskedLmBatch m = collate(b, rng);
        const std::size_t T = b.input_ids.shape()[1];
        for (std::size_t r = 0; r < b.input_ids.shape()[0]; ++r)
            for (std::size_t t = 1; t < T; ++t) {
                const auto id = static_cast<TokenId>(b.input_ids(r, t));
                if (b.attention_mask(r, t) == 0 || is_special(id)) continue;
                const bool piece = v.token(id).rfind("##", 0) == 0;
                const bool prev_special = is_special(static_cast<TokenId>(b.input_ids(r, t - 1)));
                if (piece && !prev_special) {
                    ASSERT_EQ(m.labels(r, t) != -100, m.labels(r, t - 1) != -100)
                        << "piece '" << v.token(id) << "' split from its word (row " << r << ", t " << t << ")";
                } else {
                    ++words;
                    chosen_words += m.labels(r, t) != -100;
                }
            }
    }
    EXPECT_NEAR(static_cast<double>(chosen_words) / words, 0.15, 0.01) << words << " words";
}

// ---------------------------------------------------------------- blocks

TEST(TextBlocks, GroupTextsAsDocumented) {
    const TokenId cls = 101, sep = 102;
    const std::vector<std::vector<TokenId>> docs = {{1, 2, 3}, {4, 5, 6, 7, 8, 9, 10}, {}, {11}};
    std::size_t dropped = 0;
    auto blocks = group_texts(docs, {0, 1, 2}, 8, cls, sep, &dropped);
    ASSERT_EQ(blocks.size(), 2u);
    EXPECT_EQ(blocks[0].ids, (std::vector<TokenId>{cls, 1, 2, 3, sep, 4, 5, sep}));
    EXPECT_EQ(blocks[1].ids, (std::vector<TokenId>{cls, 6, 7, 8, 9, 10, sep, sep}));
    EXPECT_EQ(blocks[0].doc_id, 0u);
    EXPECT_EQ(blocks[1].doc_id, 1u);
    EXPECT_EQ(blocks[1].label, -1);
    EXPECT_EQ(dropped, 0u);
    blocks = group_texts(docs, {0, 1, 3}, 8, cls, sep, &dropped);  // 14 ids: the last 2 are dropped
    EXPECT_EQ(blocks.size(), 2u);
    EXPECT_EQ(dropped, 2u);
}

TEST(TextBlocks, ConcatenatedBlocksHoldTheWholeStreamAndAHeldOutShare) {
    std::vector<std::string> texts;
    for (int i = 0; i < 40; ++i)
        texts.push_back("message " + std::to_string(i) + " about the weekly meeting and a free offer number " +
                        std::to_string(i * 7) + (i % 3 ? " with some more words to vary the length" : ""));
    const TextBlocks tb = make_text_blocks(tok(), texts, {.max_length = 16, .eval_share = 0.1, .seed = 3});
    EXPECT_EQ(tb.eval_docs.size(), 4u);
    EXPECT_EQ(tb.train_docs.size(), 36u);
    std::vector<std::size_t> both = tb.train_docs;
    both.insert(both.end(), tb.eval_docs.begin(), tb.eval_docs.end());
    std::sort(both.begin(), both.end());
    for (std::size_t i = 0; i < both.size(); ++i) EXPECT_EQ(both[i], i);  // disjoint, complete
    // The train blocks, unwrapped, are the train documents' stream (each doc + [SEP]) up to the drop.
    std::vector<TokenId> stream, unwrapped;
    for (std::size_t d : tb.train_docs) {
        auto ids = tok().encode_ids(texts[d], false);
        stream.insert(stream.end(), ids.begin(), ids.end());
        stream.push_back(tok().sep_id());
    }
    for (const Window& w : tb.train) {
        ASSERT_EQ(w.ids.size(), 16u);
        EXPECT_EQ(w.ids.front(), tok().cls_id());
        EXPECT_EQ(w.ids.back(), tok().sep_id());
        unwrapped.insert(unwrapped.end(), w.ids.begin() + 1, w.ids.end() - 1);
    }
    ASSERT_LE(unwrapped.size(), stream.size());
    EXPECT_LT(stream.size() - unwrapped.size(), 14u);
    EXPECT_TRUE(std::equal(unwrapped.begin(), unwrapped.end(), stream.begin()));
    EXPECT_FALSE(tb.eval.empty());
    // Deterministic for a seed; another seed holds out other documents.
    EXPECT_EQ(make_text_blocks(tok(), texts, {.max_length = 16, .eval_share = 0.1, .seed = 3}).eval_docs, tb.eval_docs);
    EXPECT_NE(make_text_blocks(tok(), texts, {.max_length = 16, .eval_share = 0.1, .seed = 4}).eval_docs, tb.eval_docs);
}

TEST(TextBlocks, SlidingWindowsPerDocument) {
    const std::vector<std::string> texts = {"one two three four five six seven eight nine ten eleven twelve", "", "hello"};
    const TextBlocks tb = make_text_blocks(
        tok(), texts, {.max_length = 8, .mode = BlockMode::SlidingWindow, .stride = 2, .eval_share = 0.0});
    EXPECT_TRUE(tb.eval.empty());
    // 12 content tokens, M = 6, step 4: windows at 0, 4, 8 (reaches the end); "" skipped; "hello" one window.
    ASSERT_EQ(tb.train.size(), 4u);
    EXPECT_EQ(tb.train[0].ids.size(), 8u);
    EXPECT_EQ(tb.train[2].ids.size(), 6u);
    EXPECT_EQ(tb.train[3].doc_id, 2u);
    EXPECT_EQ(tb.train[3].ids, (std::vector<TokenId>{tok().cls_id(), tok().vocab().id("hello"), tok().sep_id()}));
    EXPECT_EQ(std::vector<TokenId>(tb.train[0].ids.begin() + 5, tb.train[0].ids.begin() + 7),
              std::vector<TokenId>(tb.train[1].ids.begin() + 1, tb.train[1].ids.begin() + 3));  // overlap of 2
}

TEST(TextBlocks, BadCorporaAndOptionsAreClearErrors) {
    EXPECT_NE(error_of([] { make_text_blocks(tok(), {"", "  "}); }).find("empty corpus"), std::string::npos);
    const std::string small = error_of([] { make_text_blocks(tok(), {"a few words", "and more"}, {.eval_share = 0.0}); });
    EXPECT_NE(small.find("too small for one block of max_length 128"), std::string::npos) << small;
    const std::string held = error_of([] {
        make_text_blocks(tok(), {std::string(400, 'a') + " b c d e f g h i j k l m n o p", "x"},
                         {.max_length = 8, .eval_share = 0.5, .seed = 1});
    });
    EXPECT_NE(held.find("too small"), std::string::npos) << held;
    EXPECT_NE(error_of([] { make_text_blocks(tok(), {"a"}, {.eval_share = 1.0}); }).find("eval_share"), std::string::npos);
    EXPECT_NE(error_of([] { make_text_blocks(tok(), {"a"}, {.max_length = 2}); }).find("max_length"), std::string::npos);
    EXPECT_NE(error_of([] { make_text_blocks(tok(), {"a b"}, {.eval_share = 0.2}); }).find("at least 2 documents"),
              std::string::npos);
}

// ---------------------------------------------------------------- text files

namespace {
std::string write_temp(const std::string& name, const std::string& bytes) {
    const std::string path = std::string(RGRID_BINARY_DIR) + "/mlm_text_" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}
}  // namespace

TEST(TextCorpus, ParagraphsAndLines) {
    const std::string path = write_temp("ok.txt", "\xEF\xBB\xBF" "first line\r\nsame doc\n\n  \t\nsecond caf\xC3\xA9\n\n\nthird\n");
    EXPECT_EQ(read_text_documents(path), (std::vector<std::string>{"first line\nsame doc", "second caf\xC3\xA9", "third"}));
    EXPECT_EQ(read_text_documents(path, TextUnit::Line),
              (std::vector<std::string>{"first line", "same doc", "second caf\xC3\xA9", "third"}));
    EXPECT_TRUE(read_text_documents(write_temp("empty.txt", "")).empty());
}

TEST(TextCorpus, NotUtf8IsAnErrorNamingFileLineAndByte) {
    const std::string path = write_temp("latin1.txt", "ok line\n\nab caf\xE9 au lait\n");
    const std::string e = error_of([&] { read_text_documents(path); });
    EXPECT_NE(e.find(path + ":3: not valid UTF-8"), std::string::npos) << e;
    EXPECT_NE(e.find("byte 15 of the file, column 7"), std::string::npos) << e;
    EXPECT_NE(error_of([] { read_text_documents("/nonexistent/corpus.txt"); }).find("/nonexistent/corpus.txt"),
              std::string::npos);
}
