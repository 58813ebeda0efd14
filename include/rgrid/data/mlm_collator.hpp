#pragma once
// Masking for masked-language-model training, as Hugging Face's
// DataCollatorForLanguageModeling (mlm=True) does it:
//   1. every maskable position is chosen with probability mlm_probability (0.15); special
//      tokens ([PAD] [UNK] [CLS] [SEP] [MASK], HF's all_special_ids) and padding
//      (attention_mask 0) are never chosen;
//   2. of the chosen positions, mask_replace_prob (80%) become [MASK], random_replace_prob
//      (10%) a uniformly random id of the vocabulary, the rest (10%) stay unchanged;
//   3. labels are the original ids at the chosen positions and -100 everywhere else, so the
//      loss is the mean cross-entropy over the chosen positions only.
// Whole-word masking (optional): a word is a token that does not start with "##" plus the
// "##" pieces after it; the choice is made once per word, at its first piece, with
// probability mlm_probability, and all its pieces are chosen together (a "##" piece right
// after a special token or at the start of a row, e.g. a word cut by a block boundary,
// starts a word of its own). The 80/10/10 replacement is then drawn per piece.
// Difference from transformers 5.24: its whole-word mode finds words from character
// offsets and forces mask_replace_prob = 1; here the options apply unchanged (set
// mask_replace_prob = 1, random_replace_prob = 0 for HF's behaviour).
// https://huggingface.co/docs/transformers/main_classes/data_collator#transformers.DataCollatorForLanguageModeling
//
// Randomness: the draws of flat position i (b·T + t) of a call are rng.at(c + 3i + k),
// k = 0 (chosen?), 1 (which replacement), 2 (the random id), with c = rng.counter() at the
// call; the call then skips 3·B·T draws. So the masks depend only on the Rng state and the
// batch shape: the same seed gives the same masks, whatever the thread count, and a run
// resumed from a saved (key, counter) continues the same sequence of masks.
// Legend: B batch, T tokens, V vocabulary size.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/rng.hpp"
#include "rgrid/core/tensor.hpp"
#include "rgrid/data/batcher.hpp"
#include "rgrid/text/vocab.hpp"

namespace rgrid {

/// Options of MaskedLmCollator (HF DataCollatorForLanguageModeling's names).
/// Example: `MaskedLmOptions{.mlm_probability = 0.15, .whole_word_mask = true}`
struct MaskedLmOptions {
    double mlm_probability = 0.15;     // share of maskable positions chosen, in (0, 1)
    double mask_replace_prob = 0.8;    // of the chosen: replaced by [MASK]
    double random_replace_prob = 0.1;  // of the chosen: replaced by a random token (the rest stay)
    bool whole_word_mask = false;      // choose all "##" pieces of a word together

    /// Throws naming the option: mlm_probability in (0, 1); the two replace probabilities in
    /// [0, 1] with a sum ≤ 1.
    void validate() const {
        RGRID_CHECK(mlm_probability > 0.0 && mlm_probability < 1.0, "MaskedLmOptions: mlm_probability ",
                    mlm_probability, " must be in (0, 1) (BERT uses 0.15)");
        RGRID_CHECK(mask_replace_prob >= 0.0 && mask_replace_prob <= 1.0, "MaskedLmOptions: mask_replace_prob ",
                    mask_replace_prob, " must be in [0, 1]");
        RGRID_CHECK(random_replace_prob >= 0.0 && random_replace_prob <= 1.0, "MaskedLmOptions: random_replace_prob ",
                    random_replace_prob, " must be in [0, 1]");
        RGRID_CHECK(mask_replace_prob + random_replace_prob <= 1.0 + 1e-12, "MaskedLmOptions: mask_replace_prob ",
                    mask_replace_prob, " + random_replace_prob ", random_replace_prob, " must not exceed 1");
    }
};

/// A masked batch: the model's inputs and the MLM labels, all (B, T).
struct MaskedLmBatch {
    IndexTensor input_ids;       // (B, T) with the chosen positions replaced (80/10/10)
    IndexTensor token_type_ids;  // (B, T) unchanged
    IndexTensor attention_mask;  // (B, T) unchanged
    IndexTensor labels;          // (B, T) original id at the chosen positions, -100 elsewhere
    std::size_t num_masked = 0;  // chosen positions (rows the decoder will run on)
};

/// DataCollatorForLanguageModeling for rgrid batches: chooses positions, replaces them and
/// builds the labels (see the header comment for the exact rules and draws). Immutable after
/// construction; every call takes the Rng to draw from.
/// Example:
///   MaskedLmCollator collate(tok.vocab(), {.mlm_probability = 0.15});
///   Rng mask_rng(42);
///   MaskedLmBatch mb = collate(batcher.make_batch(idx), mask_rng);
///   auto out = model.forward(mb.input_ids, mb.token_type_ids, mb.attention_mask, mb.labels);
class MaskedLmCollator {
public:
    static constexpr std::int64_t ignore_index = -100;  // torch CrossEntropyLoss's

    MaskedLmCollator(const Vocab& vocab, MaskedLmOptions options = {})
        : options_(options), vocab_size_(vocab.size()), never_(vocab.size(), 0), continuation_(vocab.size(), 0) {
        options_.validate();
        const auto mask = vocab.find("[MASK]");
        RGRID_CHECK(mask.has_value(), "MaskedLmCollator: the vocabulary has no [MASK] token (", vocab.size(),
                    " tokens); masked-LM training needs one");
        mask_id_ = *mask;
        for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
            if (auto id = vocab.find(s)) never_[static_cast<std::size_t>(*id)] = 1;
        for (std::size_t i = 0; i < vocab.size(); ++i)
            continuation_[i] = vocab.token(static_cast<TokenId>(i)).rfind("##", 0) == 0;
    }

    const MaskedLmOptions& options() const { return options_; }
    TokenId mask_id() const { return mask_id_; }
    /// Whether `id` may ever be chosen (not a special token).
    bool maskable(TokenId id) const { return id >= 0 && static_cast<std::size_t>(id) < vocab_size_ && !never_[id]; }

    /// Masks a Batcher batch (input_ids, token_type_ids, attention_mask; its labels are ignored).
    MaskedLmBatch operator()(const Batch& batch, Rng& rng) const {
        return mask(batch.input_ids, batch.token_type_ids, batch.attention_mask, rng);
    }

    /// input_ids, attention_mask (B, T) (token_type_ids (B, T), or IndexTensor{} for all 0) -> the masked batch.
    MaskedLmBatch mask(const IndexTensor& input_ids, const IndexTensor& token_type_ids, const IndexTensor& attention_mask,
                       Rng& rng) const {
        RGRID_CHECK(input_ids.dimension() == 2, "MaskedLmCollator: input_ids must be (B, T), got ", shape_str(input_ids));
        const Shape bt = shape_of(input_ids);
        check_shape(attention_mask, bt, "MaskedLmCollator: attention_mask");
        const bool no_types = token_type_ids.dimension() == 0 || token_type_ids.size() == 0;  // IndexTensor{}: all 0
        if (!no_types) check_shape(token_type_ids, bt, "MaskedLmCollator: token_type_ids");
        const std::size_t B = bt[0], Tn = bt[1], n = B * Tn;
        const std::int64_t* ids = input_ids.data();
        const std::int64_t* att = attention_mask.data();
        for (std::size_t i = 0; i < n; ++i)
            RGRID_CHECK(ids[i] >= 0 && static_cast<std::size_t>(ids[i]) < vocab_size_, "MaskedLmCollator: id ", ids[i],
                        " at (", i / Tn, ", ", i % Tn, ") is outside the vocabulary of ", vocab_size_, " tokens");

        MaskedLmBatch out;
        out.input_ids = input_ids;
        out.token_type_ids = no_types ? IndexTensor(IndexTensor::from_shape(bt)) : token_type_ids;
        if (no_types) out.token_type_ids.fill(0);
        out.attention_mask = attention_mask;
        out.labels = IndexTensor::from_shape(bt);
        out.labels.fill(ignore_index);
        std::int64_t* x = out.input_ids.data();
        std::int64_t* y = out.labels.data();

        const std::uint64_t base = rng.counter();
        auto draw = [&](std::size_t i, std::uint64_t k) { return rng.at(base + 3 * i + k); };
        const double p = options_.mlm_probability;
        for (std::size_t b = 0; b < B; ++b) {
            bool word_chosen = false;  // whole-word mode: the decision of the current word
            for (std::size_t t = 0; t < Tn; ++t) {
                const std::size_t i = b * Tn + t;
                const bool can = att[i] != 0 && !never_[ids[i]];
                bool chosen = false;
                if (can) {
                    const bool starts_word = !options_.whole_word_mask || !continuation_[ids[i]] || t == 0 ||
                                             att[i - 1] == 0 || never_[ids[i - 1]];
                    if (starts_word) word_chosen = Rng::to_unit<double>(draw(i, 0)) < p;
                    chosen = word_chosen;
                } else {
                    word_chosen = false;
                }
                if (!chosen) continue;
                y[i] = ids[i];
                ++out.num_masked;
                const double u = Rng::to_unit<double>(draw(i, 1));
                if (u < options_.mask_replace_prob) {
                    x[i] = mask_id_;
                } else if (u < options_.mask_replace_prob + options_.random_replace_prob) {
                    x[i] = static_cast<std::int64_t>((static_cast<unsigned __int128>(draw(i, 2)) * vocab_size_) >> 64);
                }  // else: unchanged
            }
        }
        rng.skip(3 * static_cast<std::uint64_t>(n));
        return out;
    }

private:
    MaskedLmOptions options_;
    std::size_t vocab_size_;
    TokenId mask_id_ = 0;
    std::vector<char> never_;         // per id: a special token, never chosen
    std::vector<char> continuation_;  // per id: a "##" piece
};

}  // namespace rgrid
