#pragma once
// FLOP counts for BERT benchmarks: matrix-product work only (the convention of the
// field: elementwise ops, softmax, LayerNorm and the embedding gathers are not counted).
// Used by bench_bert.cpp and bench_layers.cpp for their GFLOP/s counters; compare.sh
// applies the same formula to the peers' times (benchmarks/compare.sh, flops()).
//
// Legend: B batch, T tokens, H hidden, I intermediate, L layers, K labels, N = B·T.
// Per encoder layer, forward:
//   Q, K, V and attention-output projections  4 · 2·N·H·H
//   intermediate and output dense             2 · 2·N·H·I
//   scores Q·Kᵀ and context P·V               2 · 2·B·T·T·H   (summed over heads)
// plus pooler 2·B·H·H and classifier 2·B·H·K. A training step counts 3× the forward
// (backward computes two products per forward product: input and weight gradients).
#include <cstddef>

namespace rgrid::bench {

struct BertShape {
    std::size_t layers, hidden, intermediate, labels = 2;
};

/// Matrix-product FLOPs of one encoder layer's forward pass at (B, T).
inline double encoder_layer_flops(const BertShape& s, std::size_t B, std::size_t T) {
    const double N = double(B) * double(T), H = double(s.hidden), I = double(s.intermediate);
    return 2.0 * N * (4.0 * H * H + 2.0 * H * I) + 4.0 * double(B) * double(T) * double(T) * H;
}

/// Matrix-product FLOPs of BertForSequenceClassification's forward pass at (B, T).
inline double bert_forward_flops(const BertShape& s, std::size_t B, std::size_t T) {
    const double H = double(s.hidden);
    return double(s.layers) * encoder_layer_flops(s, B, T) + 2.0 * double(B) * H * H +
           2.0 * double(B) * H * double(s.labels);
}

/// A fine-tuning step: forward + backward (2× forward).
inline double bert_train_step_flops(const BertShape& s, std::size_t B, std::size_t T) {
    return 3.0 * bert_forward_flops(s, B, T);
}

/// A masked-LM training step (BertForMaskedLM, no pooler) with `chosen` predicted positions:
/// 3 × (the encoder + the head on the chosen rows only: transform 2·n·H·H, decoder 2·n·H·V).
inline double mlm_train_step_flops(const BertShape& s, std::size_t B, std::size_t T, std::size_t chosen,
                                   std::size_t vocab) {
    const double H = double(s.hidden), n = double(chosen);
    return 3.0 * (double(s.layers) * encoder_layer_flops(s, B, T) + 2.0 * n * H * H + 2.0 * n * H * double(vocab));
}

}  // namespace rgrid::bench
