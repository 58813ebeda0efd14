// rgrid-quantize: writes the int8 form of a fine-tuned checkpoint (dynamic quantization: the
// encoder's Linears with int8 weights per output channel, activations quantized per row at run
// time). The output loads with rgrid-predict --model OUT_DIR and rgrid-serve. See README.md
// and docs/int8.md.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "common/cli.hpp"
#include "rgrid/io/quantized.hpp"
#include "rgrid/train/predictor.hpp"

using namespace rgrid;
namespace fs = std::filesystem;

int main(int argc, char** argv) try {
    CLI::App app{"Quantizes a fine-tuned fp32 checkpoint to int8 (as onnxruntime's and PyTorch's quantize_dynamic): "
                 "every Linear of the encoder gets int8 weights with one scale per output channel; embeddings, "
                 "LayerNorm, softmax and the classifier stay fp32. OUT_DIR is a checkpoint directory "
                 "(config.json with quantization_config, model.safetensors with I8 weights, vocab.txt).",
                 "rgrid-quantize"};
    cli::conventions(app);
    std::string in_dir, out_dir;
    bool pooler = false;
    app.add_option("IN_DIR", in_dir, "an fp32 checkpoint directory (rgrid-finetune's best/ or a transformers one)")
        ->required()->check(CLI::ExistingDirectory);
    app.add_option("OUT_DIR", out_dir, "where the int8 checkpoint goes (created; files replaced atomically)")->required();
    app.add_flag("--pooler", pooler, "quantize the pooler's dense layer too (default: fp32, as the classifier)");
    if (auto status = cli::parse(app, argc, argv)) return *status;
    std::error_code ec;
    RGRID_CHECK(!fs::exists(out_dir) || !fs::equivalent(in_dir, out_dir, ec), "OUT_DIR ", out_dir,
                " is IN_DIR; write the int8 checkpoint to another directory (the fp32 one is its source)");
    RGRID_CHECK(!is_quantized_checkpoint(in_dir), "IN_DIR ", in_dir,
                " is already an int8 checkpoint (config.json has quantization_config); quantize the fp32 checkpoint "
                "it came from");

    Predictor p = Predictor::from_pretrained(in_dir);  // refuses a checkpoint without a trained head
    const auto names = quantize_dynamic(p.model(), {.pooler = pooler});
    save_quantized(p.model(), out_dir, p.tokenizer());
    const fs::path opts = fs::path(in_dir) / "inference_config.json";
    if (fs::exists(opts)) save_predictor_options(out_dir, load_predictor_options(in_dir));
    const auto in_bytes = fs::file_size(fs::path(in_dir) / "model.safetensors");
    const auto out_bytes = fs::file_size(fs::path(out_dir) / "model.safetensors");
    std::printf("quantized %zu Linear layers to int8 (%s ... %s)\nwrote %s: model.safetensors %.1f MB (fp32: %.1f MB)\n",
                names.size(), names.front().c_str(), names.back().c_str(), out_dir.c_str(), out_bytes / 1e6,
                in_bytes / 1e6);
    return 0;
} catch (const std::exception& e) {
    std::cerr << "rgrid-quantize: error: " << e.what() << '\n';
    return 1;
}
