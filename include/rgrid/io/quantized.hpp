#pragma once
// int8 checkpoints (what rgrid-quantize writes): an HF checkpoint directory whose encoder
// Linears are stored quantized, and the checks that keep a checkpoint from loading where it
// does not fit. Layout (docs/int8.md):
//   config.json        the BertConfig fields + "quantization_config": {"quant_method":
//                      "rgrid_dynamic_int8", "format_version": 1, "weight_dtype": "int8",
//                      "weight_scheme": "symmetric_per_output_channel", "activation_dtype": "uint8",
//                      "activation_scheme": "asymmetric_per_row_dynamic", "modules": [names]}
//   model.safetensors  for each module P in "modules": P.weight I8 (out, in), P.weight_scale F32
//                      (out), P.bias F32 (out); every other tensor F32 as in an fp32 checkpoint;
//                      __metadata__ {"format": "pt", "rgrid_quantization": "dynamic_int8"}
//   vocab.txt, tokenizer_config.json (and inference_config.json when the source has one)
// Weight i of module P is weight_scale[i] · weight[i, :] in fp32.
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/json.hpp"
#include "rgrid/io/atomic_file.hpp"
#include "rgrid/io/pretrained.hpp"
#include "rgrid/io/safetensors.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/nn/quantize.hpp"
#include "rgrid/text/vocab.hpp"

namespace rgrid {

inline constexpr const char* kInt8QuantMethod = "rgrid_dynamic_int8";

/// Whether `dir`/config.json declares an int8 checkpoint (has "quantization_config").
inline bool is_quantized_checkpoint(const std::string& dir) {
    const std::string path = (std::filesystem::path(dir) / "config.json").string();
    if (!std::filesystem::exists(path)) return false;
    return read_json_object(path, "is_quantized_checkpoint").contains("quantization_config");
}

/// Writes `model` (quantized with quantize_dynamic; its quantized Linears are stored in
/// int8) as a checkpoint directory in the layout above, each file atomically.
/// Example: `quantize_dynamic(*model); save_quantized(*model, "out/int8", tokenizer);`
inline void save_quantized(BertForSequenceClassification<float>& model, const std::string& dir,
                           const BertTokenizer& tokenizer) {
    namespace fs = std::filesystem;
    const std::vector<std::string> modules = quantized_linears(model);
    RGRID_CHECK(!modules.empty(), "save_quantized: the model has no int8 layer (call quantize_dynamic first)");
    save_pretrained(model, dir, tokenizer);  // config, vocabulary, tokenizer config, fp32 weights: replaced below
    safetensors::TensorMap map = state_dict(model);
    for (auto& [name, lin] : quantizable_linears(model, {.pooler = true})) {
        if (!lin->quantized) continue;
        map[name + ".weight"] = safetensors::StoredTensor::from(lin->quantized->weight);
        map[name + ".weight_scale"] = safetensors::StoredTensor::from(lin->quantized->weight_scale);
    }
    const auto bytes = safetensors::serialize(map, {{"format", "pt"}, {"rgrid_quantization", "dynamic_int8"}});
    write_file_atomic((fs::path(dir) / "model.safetensors").string(), bytes.data(), bytes.size());
    json cfg = model.config().to_json();
    cfg["quantization_config"] = {{"quant_method", kInt8QuantMethod},
                                  {"format_version", 1},
                                  {"weight_dtype", "int8"},
                                  {"weight_scheme", "symmetric_per_output_channel"},
                                  {"activation_dtype", "uint8"},
                                  {"activation_scheme", "asymmetric_per_row_dynamic"},
                                  {"modules", modules}};
    write_file_atomic((fs::path(dir) / "config.json").string(), cfg.dump(2) + "\n");
}

/// Loads an int8 checkpoint directory (the layout above) into a model whose listed Linears
/// run in int8 (their fp32 weights hold the dequantized values). Refuses, naming the file and
/// tensor: an fp32 checkpoint (no quantization_config), another quant_method or
/// format_version, a module list naming no quantizable Linear, a weight that is not I8 or
/// whose shape differs from the model's, a missing or non-F32 weight_scale, a scale that is
/// not finite and > 0, and everything load_state_dict refuses.
/// Example: `auto model = load_quantized("runs/spam/best-int8");`
inline std::unique_ptr<BertForSequenceClassification<float>> load_quantized(const std::string& dir) {
    namespace fs = std::filesystem;
    const std::string config_path = (fs::path(dir) / "config.json").string();
    const std::string weights = (fs::path(dir) / "model.safetensors").string();
    RGRID_CHECK(fs::is_directory(dir), "load_quantized: ", dir, " is not a directory");
    const json j = read_json_object(config_path, "load_quantized");
    RGRID_CHECK(j.contains("quantization_config"), "load_quantized: ", config_path,
                " has no quantization_config: this is an fp32 checkpoint. Quantize it with rgrid-quantize ", dir,
                " OUT_DIR, or load it as fp32 and quantize on load (rgrid-predict --int8)");
    const json& q = j["quantization_config"];
    RGRID_CHECK(q.is_object() && q.value("quant_method", std::string()) == kInt8QuantMethod, "load_quantized: ",
                config_path, ": quantization_config.quant_method is ",
                q.is_object() && q.contains("quant_method") ? q["quant_method"].dump() : std::string("missing"),
                ", rgrid reads only \"", kInt8QuantMethod, "\" (written by rgrid-quantize)");
    RGRID_CHECK(q.contains("format_version") && q["format_version"] == 1, "load_quantized: ", config_path,
                ": quantization_config.format_version must be 1");
    RGRID_CHECK(q.contains("modules") && q["modules"].is_array() && !q["modules"].empty(), "load_quantized: ",
                config_path, ": quantization_config.modules must be a non-empty list of Linear names");
    const BertConfig cfg = BertConfig::load(config_path);
    RGRID_CHECK(fs::exists(weights), "load_quantized: ", weights, " not found");
    safetensors::TensorMap map = safetensors::read(weights);
    Rng rng(0);
    auto model = std::make_unique<BertForSequenceClassification<float>>(cfg, rng);
    std::map<std::string, Linear<float>*> linears;
    for (auto& [name, lin] : quantizable_linears(*model, {.pooler = true})) linears[name] = lin;
    std::vector<std::pair<Linear<float>*, std::shared_ptr<const QuantizedLinear>>> layers;
    std::set<std::string> seen;
    for (const auto& m : q["modules"]) {
        RGRID_CHECK(m.is_string(), "load_quantized: ", config_path, ": quantization_config.modules holds ", m.dump(),
                    ", not a name");
        const std::string name = m.get<std::string>();
        RGRID_CHECK(linears.count(name), "load_quantized: ", config_path, ": quantization_config.modules names '", name,
                    "', which is not a quantizable Linear of this model (the encoder's and the pooler's)");
        RGRID_CHECK(seen.insert(name).second, "load_quantized: ", config_path, ": module '", name, "' listed twice");
        Linear<float>& lin = *linears[name];
        const std::string wk = name + ".weight", sk = name + ".weight_scale", bk = name + ".bias";
        const std::string at = "load_quantized: " + weights + ": ";
        RGRID_CHECK(map.count(wk), at, "tensor ", wk, " is missing");
        const auto& w = map.at(wk);
        RGRID_CHECK(w.dtype == safetensors::Dtype::I8, at, "tensor ", wk, " is ", safetensors::dtype_name(w.dtype),
                    ", an int8 checkpoint stores quantized weights as I8");
        const Shape want = shape_of(lin.weight.value());
        RGRID_CHECK(w.shape == want, at, "tensor ", wk, " has shape ", shape_str(w.shape), " but the model's is ",
                    shape_str(want));
        RGRID_CHECK(map.count(sk), at, "tensor ", sk, " (the per-channel scales of ", wk, ") is missing");
        const auto& s = map.at(sk);
        RGRID_CHECK(s.dtype == safetensors::Dtype::F32, at, "tensor ", sk, " is ", safetensors::dtype_name(s.dtype),
                    ", expected F32");
        RGRID_CHECK(s.shape == Shape{want[0]}, at, "tensor ", sk, " has shape ", shape_str(s.shape), ", expected (",
                    want[0], ")");
        RGRID_CHECK(map.count(bk), at, "tensor ", bk, " is missing");
        Tensor<std::int8_t> codes = Tensor<std::int8_t>::from_shape(want);
        std::memcpy(codes.data(), w.bytes.data(), w.bytes.size());
        auto ql = std::make_shared<const QuantizedLinear>(std::move(codes), s.as<float>(), map.at(bk).as<float>(),
                                                          weights + ": " + name);
        map[wk] = safetensors::StoredTensor::from(ql->dequantized_weight());  // the fp32 view, for load_state_dict
        map.erase(sk);
        layers.emplace_back(&lin, std::move(ql));
    }
    for (const auto& [key, t] : map)
        RGRID_CHECK(t.dtype != safetensors::Dtype::I8, "load_quantized: ", weights, ": tensor ", key,
                    " is I8 but its module is not in quantization_config.modules of ", config_path);
    try {
        load_state_dict(*model, map, Strict::Yes);
    } catch (const Error& e) {
        throw Error(detail::concat("load_quantized: ", weights, ": ", e.what()));
    }
    for (auto& [lin, ql] : layers) lin->quantized = std::move(ql);
    model->eval();
    return model;
}

}  // namespace rgrid
