// Writes an rgrid checkpoint for the PyTorch reference to load (CTest bert_interop_*):
// the golden tiny weights in a float model, saved with save_pretrained, plus the logits
// rgrid computes for the golden batch. make_bert_parity.py check loads the directory with
// load_state_dict(strict=True) and compares its logits with these. Likewise the golden tiny
// BertForMaskedLM (mlm_ckpt/, rgrid_masked_logits.safetensors: the logits of the chosen rows of
// the golden MLM batch), which make_mlm_parity.py check loads with AutoModelForMaskedLM.
#include <fstream>
#include <iostream>

#include "rgrid/io/pretrained.hpp"

int main(int argc, char** argv) {
    using namespace rgrid;
    if (argc != 2) {
        std::cerr << "usage: bert_interop_export OUT_DIR\n";
        return 2;
    }
    try {
        const std::string golden = RGRID_TEST_DATA_DIR, out = argv[1];
        std::filesystem::create_directories(out);
        Rng rng(1);
        BertForSequenceClassification<float> model(BertConfig::load(golden + "/bert_tiny_config.json"), rng);
        load_state_dict(model, safetensors::read(golden + "/bert_tiny_weights.safetensors"), Strict::Yes);
        model.eval();
        {
            std::ofstream vocab(out + "/vocab_src.txt");
            for (std::size_t i = 0; i < model.config().vocab_size; ++i) vocab << "[unused" << i << "]\n";
        }
        save_pretrained(model, out + "/ckpt", out + "/vocab_src.txt");
        // reload what was written, so the logits come from the checkpoint itself
        auto loaded = from_pretrained<float>(out + "/ckpt");
        auto io = safetensors::read(golden + "/bert_tiny_io.safetensors");
        Var<float> logits = loaded->forward(io.at("input_ids").as<std::int64_t>(), io.at("token_type_ids").as<std::int64_t>(),
                                            io.at("attention_mask").as<std::int64_t>());
        safetensors::write(out + "/rgrid_logits.safetensors", {{"logits", safetensors::StoredTensor::from(logits.value())}});
        std::cout << "wrote " << out << "/ckpt and rgrid_logits.safetensors\n";

        BertForMaskedLM<float> mlm(BertConfig::load(golden + "/mlm_tiny_config.json"), rng);
        load_state_dict(mlm, safetensors::read(golden + "/mlm_tiny_weights.safetensors"), Strict::Yes);
        save_pretrained(mlm, out + "/mlm_ckpt", out + "/vocab_src.txt");
        auto mlm_loaded = masked_lm_from_pretrained<float>(out + "/mlm_ckpt");
        auto mio = safetensors::read(golden + "/mlm_tiny_io.safetensors");
        MaskedLmOutput<float> mo =
            mlm_loaded->forward(mio.at("input_ids").as<std::int64_t>(), mio.at("token_type_ids").as<std::int64_t>(),
                                mio.at("attention_mask").as<std::int64_t>(), mio.at("labels").as<std::int64_t>());
        safetensors::write(out + "/rgrid_masked_logits.safetensors",
                           {{"masked_logits", safetensors::StoredTensor::from(mo.logits.value())}});
        std::cout << "wrote " << out << "/mlm_ckpt and rgrid_masked_logits.safetensors\n";
    } catch (const std::exception& e) {
        std::cerr << "bert_interop_export: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
