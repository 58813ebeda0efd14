// The rgrid side of the interop tests with the real Hugging Face stack (tests/interop/hf_side.py):
//   rgrid_side finetune OUT GOLDEN_DIR   fine-tunes a tiny BERT over the bert-base-uncased vocabulary
//                                        for a few Trainer steps, saves it (OUT/best), reloads it and
//                                        writes OUT/rgrid.jsonl: ids (first 512-token window) and logits
//                                        of every tokenizer golden, for transformers to reproduce
//   rgrid_side check-hf CKPT             loads a checkpoint written by transformers (hf_side.py train)
//                                        through Predictor::from_pretrained and compares its ids and
//                                        logits with CKPT/hf_logits.jsonl (max |diff| <= 1e-5)
//   rgrid_side encode MODEL_DIR GOLDEN_DIR OUT.jsonl
//                                        ids of every golden with MODEL_DIR's vocab.txt + tokenizer_config
// Exit status: 0 pass, 1 mismatch or error.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "rgrid/core/json.hpp"
#include "rgrid/io/pretrained.hpp"
#include "rgrid/train/predictor.hpp"
#include "rgrid/train/trainer.hpp"

using namespace rgrid;

namespace {

std::vector<std::string> golden_texts(const std::string& golden_dir) {
    std::vector<std::string> texts;
    for (const char* f : {"golden_public.jsonl", "golden_windows.jsonl"}) {
        std::ifstream in(golden_dir + "/" + f, std::ios::binary);
        RGRID_CHECK(in, "cannot open ", golden_dir, "/", f);
        std::string line;
        while (std::getline(in, line))
            if (!line.empty()) texts.push_back(json::parse(line).at("text").get<std::string>());
    }
    return texts;
}

// [CLS] + the first 510 content ids + [SEP]: HF's truncation=True, max_length=512.
std::vector<TokenId> first_window(const BertTokenizer& tok, const std::string& text, std::size_t max_length) {
    SlidingWindow sw{.max_length = max_length, .stride = 0, .max_windows = 1};
    return sw.windows(tok.encode_ids(text, false), tok.vocab().cls_id(), tok.vocab().sep_id()).at(0);
}

std::vector<float> logits_of(const BertForSequenceClassification<float>& model, const std::vector<TokenId>& ids) {
    const std::size_t t = ids.size();
    IndexTensor in = IndexTensor::from_shape({1, t}), types = zeros<std::int64_t>({1, t}),
                mask = IndexTensor::from_shape({1, t});
    for (std::size_t i = 0; i < t; ++i) in(0, i) = ids[i], mask(0, i) = 1;
    NoGradGuard no_grad;
    Rng unused(0);                                       // eval mode: dropout is the identity
    Var<float> l = model.forward(in, types, mask, unused);  // (1, K)
    return std::vector<float>(l.data(), l.data() + l.value().size());
}

int finetune(const std::string& out, const std::string& golden_dir) {
    const auto texts = golden_texts(golden_dir);
    auto tok = std::make_shared<const BertTokenizer>(BertTokenizer::from_file(golden_dir + "/vocab.txt"));
    BertConfig cfg;  // tiny, over the full bert-base-uncased vocabulary
    cfg.hidden_size = 32, cfg.num_hidden_layers = 2, cfg.num_attention_heads = 4, cfg.intermediate_size = 64;
    cfg.vocab_size = tok->vocab().size();
    cfg.id2label = {"ham", "spam"};
    Rng rng(7);
    auto model = std::make_shared<BertForSequenceClassification<float>>(cfg, rng);
    Dataset train, val;
    train.label_names = val.label_names = cfg.id2label;
    for (std::size_t i = 0; i < 48; ++i) train.examples.push_back({texts[i], cfg.id2label[i % 2]});
    for (std::size_t i = 48; i < 56; ++i) val.examples.push_back({texts[i], cfg.id2label[i % 2]});
    TrainingArguments args{.output_dir = out, .num_train_epochs = 1, .per_device_train_batch_size = 8,
                           .learning_rate = 1e-3, .max_length = 64, .stride = 16, .max_windows = 1, .seed = 3};
    Trainer trainer(model, tok, golden_dir + "/vocab.txt", args, train, val);
    trainer.train();
    // reload what was written, as a user would
    const std::string ckpt = out + "/best";
    auto loaded = from_pretrained<float>(ckpt);
    const BertTokenizer again = tokenizer_from_pretrained(ckpt);
    std::ofstream res(out + "/rgrid.jsonl", std::ios::binary);
    for (const auto& text : texts) {
        const auto ids = first_window(again, text, 512);
        res << json{{"ids", ids}, {"logits", logits_of(*loaded, ids)}}.dump(-1, ' ', false, json::error_handler_t::replace)
            << '\n';
    }
    std::cout << "rgrid_side: fine-tuned " << ckpt << ", wrote ids and logits of " << texts.size() << " goldens\n";
    return 0;
}

int check_hf(const std::string& ckpt) {
    Predictor p = Predictor::from_pretrained(ckpt);
    std::ifstream in(ckpt + "/hf_logits.jsonl", std::ios::binary);
    RGRID_CHECK(in, "cannot open ", ckpt, "/hf_logits.jsonl");
    std::string line;
    std::size_t n = 0, bad = 0;
    double worst = 0;
    while (std::getline(in, line)) {
        const json j = json::parse(line);
        const std::string text = j.at("text").get<std::string>();
        const auto want_ids = j.at("ids").get<std::vector<TokenId>>();
        const auto want = j.at("logits").get<std::vector<float>>();
        const auto ids = first_window(p.tokenizer(), text, p.options().window.max_length);
        if (ids != want_ids) {
            std::cerr << "ids differ for text " << n << "\n";
            ++bad;
        }
        const Prediction pr = p.predict(text);  // one window: the document logits are the window's
        for (std::size_t k = 0; k < want.size(); ++k) worst = std::max(worst, std::fabs(double(pr.logits.at(k)) - want[k]));
        ++n;
    }
    std::cout << "rgrid_side: " << n << " texts through Predictor::from_pretrained(" << ckpt
              << "), max |logits - transformers| = " << worst << " (tol 1e-5), " << bad << " id mismatches\n";
    return n > 0 && bad == 0 && worst <= 1e-5 ? 0 : 1;
}

int encode(const std::string& model_dir, const std::string& golden_dir, const std::string& out) {
    const BertTokenizer tok = tokenizer_from_pretrained(model_dir);
    std::ofstream res(out, std::ios::binary);
    std::size_t n = 0;
    for (const auto& text : golden_texts(golden_dir)) res << json{{"ids", tok.encode_ids(text)}}.dump() << '\n', ++n;
    std::cout << "rgrid_side: encoded " << n << " goldens with " << model_dir << "/vocab.txt\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    const std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() == 3 && a[0] == "finetune") return finetune(a[1], a[2]);
    if (a.size() == 2 && a[0] == "check-hf") return check_hf(a[1]);
    if (a.size() == 4 && a[0] == "encode") return encode(a[1], a[2], a[3]);
    std::cerr << "usage: rgrid_side finetune OUT GOLDEN_DIR | check-hf CKPT | encode MODEL_DIR GOLDEN_DIR OUT.jsonl\n";
    return 2;
} catch (const std::exception& e) {
    std::cerr << "rgrid_side: " << e.what() << "\n";
    return 1;
}
