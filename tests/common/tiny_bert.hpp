#pragma once
// A very small BERT configuration for tests that train or save a model: hidden 32,
// intermediate 64, the other sizes as asked (shared by the test executables).
#include <cstddef>
#include <string>
#include <vector>

#include "rgrid/nn/bert_config.hpp"

namespace rgrid::test {

/// The sizes that differ between tests; the rest is BertConfig's default (vocab 30522).
struct TinyBert {
    std::size_t layers = 1;
    std::size_t heads = 2;
    std::size_t max_positions = 64;
    std::size_t vocab_size = 30522;
    double initializer_range = 0.02;
};

/// Example: `BertConfig c = tiny_bert_config({"ham", "spam"}, {.layers = 2});`
inline BertConfig tiny_bert_config(std::vector<std::string> labels, TinyBert t = {}) {
    BertConfig c;
    c.vocab_size = t.vocab_size;
    c.hidden_size = 32;
    c.num_hidden_layers = t.layers;
    c.num_attention_heads = t.heads;
    c.intermediate_size = 64;
    c.max_position_embeddings = t.max_positions;
    c.initializer_range = t.initializer_range;
    c.id2label = std::move(labels);
    return c;
}

}  // namespace rgrid::test
