#pragma once
// The tiny-BERT goldens made by tests/golden/make_bert_parity.py (real PyTorch): their config,
// weights and batch, and a model loaded from them (shared by tests/nn and tests/optim).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "rgrid/io/pretrained.hpp"
#include "rgrid/nn/bert.hpp"

namespace rgrid::test {

inline const std::string golden = RGRID_TEST_DATA_DIR;

inline BertConfig golden_config() { return BertConfig::load(golden + "/bert_tiny_config.json"); }

struct GoldenBatch {
    IndexTensor ids, types, mask, labels;
};
inline GoldenBatch golden_batch(const safetensors::TensorMap& io) {
    return {io.at("input_ids").as<std::int64_t>(), io.at("token_type_ids").as<std::int64_t>(),
            io.at("attention_mask").as<std::int64_t>(), io.at("labels").as<std::int64_t>()};
}

template <class T>
double max_abs_diff(const Tensor<T>& a, const Tensor<double>& b) {
    EXPECT_EQ(shape_of(a), shape_of(b));
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a.data()[i]) - b.data()[i]));
    return m;
}
inline double max_abs(const Tensor<double>& a) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a.data()[i]));
    return m;
}

// Loads the golden weights into a fresh model of type T (strict: every key, exact shapes).
template <class T>
std::unique_ptr<BertForSequenceClassification<T>> golden_model() {
    Rng rng(7);
    auto m = std::make_unique<BertForSequenceClassification<T>>(golden_config(), rng);
    auto rep = load_state_dict(*m, safetensors::read(golden + "/bert_tiny_weights.safetensors"), Strict::Yes);
    EXPECT_TRUE(rep.missing.empty() && rep.unexpected.empty() && rep.renamed.empty());
    m->eval();
    return m;
}

}  // namespace rgrid::test
