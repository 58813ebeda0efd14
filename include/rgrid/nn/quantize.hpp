#pragma once
// Dynamic int8 quantization of a BERT classifier, as onnxruntime.quantization.quantize_dynamic
// and torch.ao.quantization.quantize_dynamic do: every Linear of the encoder (query, key,
// value, attention output, intermediate, output; the pooler on request) gets int8 weights
// per output channel and quantizes its input per row at run time (nn/quantized_linear.hpp);
// embeddings, LayerNorm, softmax, GELU and the classifier stay fp32.
// https://pytorch.org/docs/stable/generated/torch.ao.quantization.quantize_dynamic.html
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rgrid/core/sgemm_avx512.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/nn/linear.hpp"
#include "rgrid/nn/quantized_linear.hpp"

namespace rgrid {

/// Which Linears quantize_dynamic converts besides the encoder's.
struct QuantizeOptions {
    bool pooler = false;  // bert.pooler.dense (one (H, H) product per window: little time, kept fp32 by default)
};

/// The Linears dynamic quantization converts, by module name (the parameter prefix, e.g.
/// "bert.encoder.layer.0.attention.self.query"), in registration order.
inline std::vector<std::pair<std::string, Linear<float>*>> quantizable_linears(BertForSequenceClassification<float>& model,
                                                                               const QuantizeOptions& opt = {}) {
    std::vector<std::pair<std::string, Linear<float>*>> out;
    std::size_t i = 0;
    for (auto& l : model.bert.encoder.layer) {
        const std::string p = "bert.encoder.layer." + std::to_string(i++) + ".";
        out.emplace_back(p + "attention.self.query", &l.attention.self.query);
        out.emplace_back(p + "attention.self.key", &l.attention.self.key);
        out.emplace_back(p + "attention.self.value", &l.attention.self.value);
        out.emplace_back(p + "attention.output.dense", &l.attention.output.dense);
        out.emplace_back(p + "intermediate.dense", &l.intermediate.dense);
        out.emplace_back(p + "output.dense", &l.output.dense);
    }
    if (opt.pooler && model.bert.pooler) out.emplace_back("bert.pooler.dense", &model.bert.pooler->dense);
    return out;
}

/// Quantizes `model` in place (its fp32 weights stay; forward() uses the int8 layers until
/// dequantize()). Returns the names of the converted Linears.
/// Example: `quantize_dynamic(model); NoGradGuard g; auto logits = model.forward(ids, types, mask);`
inline std::vector<std::string> quantize_dynamic(BertForSequenceClassification<float>& model,
                                                 const QuantizeOptions& opt = {}) {
    std::vector<std::string> names;
    for (auto& [name, lin] : quantizable_linears(model, opt)) {
        const Tensor<float>* b = lin->bias.defined() ? &lin->bias.value() : nullptr;
        lin->quantized = std::make_shared<const QuantizedLinear>(QuantizedLinear::quantize(lin->weight.value(), b, name));
        names.push_back(name);
    }
    return names;
}

/// Removes every int8 layer: forward() is fp32 again.
inline void dequantize(BertForSequenceClassification<float>& model) {
    for (auto& [name, lin] : quantizable_linears(model, {.pooler = true})) lin->quantized.reset();
}

/// fp32 inference: packs the weight of every encoder Linear and the pooler once for rgrid's
/// AVX-512 GEMM (core/sgemm_avx512.hpp), so that forward() under NoGradGuard stops repacking
/// them on every product (at batch 1 that packing is a quarter of the GEMM time). Results are
/// bit-identical. Does nothing where the kernel is not in use (returns 0), and skips int8
/// layers. A snapshot, like quantize_dynamic: unpack_for_inference() before training again.
/// Returns the number of Linears packed. Predictor::from_pretrained calls it.
inline std::size_t pack_for_inference(BertForSequenceClassification<float>& model) {
    if (sgemm_kernel() != SgemmKernel::Avx512) return 0;
    std::size_t count = 0;
    for (auto& [name, lin] : quantizable_linears(model, {.pooler = true})) {
        if (lin->quantized) continue;
        lin->packed = std::make_shared<const PackedSgemmB>(
            pack_sgemm_b(true, lin->weight.data(), lin->in_features(), lin->in_features(), lin->out_features()));
        ++count;
    }
    return count;
}

/// Drops the packed weights of pack_for_inference: forward() uses the weights themselves again.
inline void unpack_for_inference(BertForSequenceClassification<float>& model) {
    for (auto& [name, lin] : quantizable_linears(model, {.pooler = true})) lin->packed.reset();
}

/// The names of the Linears of `model` that run in int8.
inline std::vector<std::string> quantized_linears(BertForSequenceClassification<float>& model) {
    std::vector<std::string> names;
    for (auto& [name, lin] : quantizable_linears(model, {.pooler = true}))
        if (lin->quantized) names.push_back(name);
    return names;
}

}  // namespace rgrid
