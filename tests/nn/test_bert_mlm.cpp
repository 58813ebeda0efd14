// BertForMaskedLM against transformers' own BertForMaskedLM (torch 2.13, transformers 5.24):
// names, logits on the chosen rows, loss for a fixed mask and every gradient (the tied word
// embeddings included), from tests/golden/mlm_tiny_*.safetensors written by
// tests/golden/make_mlm_parity.py (CTest mlm_golden_regenerate re-runs it with the venv);
// plus the round trip rgrid checkpoint -> transformers AutoModelForMaskedLM (same logits),
// and the MLM objective pieces (train/mlm_objective.hpp): batch loss, held-out evaluation, learning.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "rgrid/io/pretrained.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/optim/adamw.hpp"
#include "rgrid/train/mlm_objective.hpp"
#include "parity_check.hpp"

using namespace rgrid;
namespace st = rgrid::safetensors;

namespace {

const std::string golden = RGRID_TEST_DATA_DIR;
const std::string venv_python = std::string(RGRID_SOURCE_DIR) + "/.venv/bin/python";

BertConfig mlm_config() { return BertConfig::load(golden + "/mlm_tiny_config.json"); }

// Exactly the golden keys, by name (load_state_dict skips cls.* heads today, see docs/model.md).
template <class T>
std::unique_ptr<BertForMaskedLM<T>> golden_mlm() {
    Rng rng(3);
    auto m = std::make_unique<BertForMaskedLM<T>>(mlm_config(), rng);
    const auto map = st::read(golden + "/mlm_tiny_weights.safetensors");
    EXPECT_EQ(map.size(), m->named_parameters().size());
    for (auto& [name, p] : m->named_parameters()) {
        const Tensor<T> v = map.at(name).template as<T>();
        EXPECT_EQ(shape_of(v), shape_of(p->value())) << name;
        std::copy(v.data(), v.data() + v.size(), p->data());
    }
    m->eval();
    return m;
}

struct MlmBatch {
    IndexTensor ids, types, mask, labels;
};
MlmBatch golden_batch(const st::TensorMap& io) {
    return {io.at("input_ids").as<std::int64_t>(), io.at("token_type_ids").as<std::int64_t>(),
            io.at("attention_mask").as<std::int64_t>(), io.at("labels").as<std::int64_t>()};
}

}  // namespace

TEST(BertMlm, NamesMatchTransformers) {
    Rng rng(1);
    BertForMaskedLM<float> m(mlm_config(), rng);
    std::vector<std::string> names;
    for (auto& [n, p] : m.named_parameters()) names.push_back(n);
    EXPECT_EQ(names, test::read_lines(golden + "/mlm_tiny_keys.txt"));
    // No pooler (add_pooling_layer=False), and one tensor for the embeddings and the decoder.
    EXPECT_FALSE(m.bert.pooler.has_value());
    EXPECT_EQ(m.cls.predictions.decoder_weight().node_ptr(), m.bert.embeddings.word_embeddings.weight.node_ptr());
    EXPECT_EQ(std::count(names.begin(), names.end(), "bert.embeddings.word_embeddings.weight"), 1);
}

TEST(BertMlm, HfInitialization) {
    Rng rng(5);
    BertForMaskedLM<float> m(mlm_config(), rng);
    const auto& t = m.cls.predictions.transform;
    for (std::size_t i = 0; i < t.LayerNorm.weight.numel(); ++i) {
        EXPECT_EQ(t.LayerNorm.weight.value()(i), 1.0f);
        EXPECT_EQ(t.LayerNorm.bias.value()(i), 0.0f);
    }
    for (std::size_t i = 0; i < m.cls.predictions.bias.numel(); ++i) EXPECT_EQ(m.cls.predictions.bias.value()(i), 0.0f);
    double sq = 0;
    for (std::size_t i = 0; i < t.dense.weight.numel(); ++i) sq += std::pow(t.dense.weight.data()[i], 2);
    EXPECT_NEAR(std::sqrt(sq / t.dense.weight.numel()), 0.02, 0.004);  // Normal(0, initializer_range)
}

template <class T>
void check_mlm_parity(double tol, double grad_rel_tol) {
    auto io = st::read(golden + "/mlm_tiny_io.safetensors");
    auto model = golden_mlm<T>();
    MlmBatch b = golden_batch(io);
    MaskedLmOutput<T> out = model->forward(b.ids, b.types, b.mask, b.labels);
    const Tensor<double> ref_logits = io.at("masked_logits").as<double>();  // (N, V)
    ASSERT_EQ(out.logits.dim(), 2u);
    EXPECT_EQ(out.logits.size(0), 6u);  // only the chosen rows are decoded
    const double dl = test::max_abs_diff(out.logits.value(), ref_logits);
    EXPECT_LE(dl, tol) << "max |masked logits - transformers|";
    const double dloss = std::abs(static_cast<double>(out.loss.value()()) - io.at("loss").as<double>()());
    EXPECT_LE(dloss, tol) << "|loss - transformers|";
    backward(out.loss);
    const test::GradParity g = test::expect_grads_match(*model, io, grad_rel_tol);
    std::cout << "[mlm parity " << (sizeof(T) == 8 ? "double" : "float") << "] max |Δlogits| " << dl << ", |Δloss| "
              << dloss << ", worst grad rel " << g.worst << " (" << g.name << ")\n";
}

TEST(BertMlmParity, ForwardBackwardDoubleMatchesTransformers) { check_mlm_parity<double>(1e-10, 1e-9); }
TEST(BertMlmParity, ForwardBackwardFloatMatchesTransformers) { check_mlm_parity<float>(1e-5, 1e-4); }

// The word-embedding gradient holds both uses: the input lookup (rows of the input ids only)
// and the decoder (every row). Without the decoder's share, ids absent from the batch get 0.
TEST(BertMlm, TiedEmbeddingGetsTheDecoderGradient) {
    auto io = st::read(golden + "/mlm_tiny_io.safetensors");
    auto model = golden_mlm<double>();
    MlmBatch b = golden_batch(io);
    backward(model->forward(b.ids, b.types, b.mask, b.labels).loss);
    const auto& g = model->bert.embeddings.word_embeddings.weight.grad();  // (V, H)
    const std::int64_t absent = 90;  // not an input id of the golden batch
    ASSERT_EQ(std::count(b.ids.begin(), b.ids.end(), absent), 0);
    double row = 0;
    for (std::size_t j = 0; j < g.shape()[1]; ++j) row = std::max(row, std::abs(g(absent, j)));
    EXPECT_GT(row, 1e-6);
    // and the decoder share equals ∂loss/∂logits ᵀ · transform(h): row `absent` matches transformers
    const Tensor<double> ref = io.at("grad.bert.embeddings.word_embeddings.weight").as<double>();
    for (std::size_t j = 0; j < g.shape()[1]; ++j) EXPECT_NEAR(g(absent, j), ref(absent, j), 1e-12);
}

TEST(BertMlm, PaddingAndUnchosenPositionsDoNotChangeTheLoss) {
    auto io = st::read(golden + "/mlm_tiny_io.safetensors");
    auto model = golden_mlm<double>();
    MlmBatch b = golden_batch(io);
    const double loss = model->forward(b.ids, b.types, b.mask, b.labels).loss.value()();
    // two more padding columns: same chosen rows, same loss
    const std::size_t B = b.ids.shape()[0], Tn = b.ids.shape()[1];
    const IndexTensor z = IndexTensor::from_shape({B, Tn + 2});
    MlmBatch p{z, z, z, z};
    p.ids.fill(0);
    p.types.fill(0);
    p.mask.fill(0);
    p.labels.fill(-100);
    for (std::size_t i = 0; i < B; ++i)
        for (std::size_t t = 0; t < Tn; ++t) {
            p.ids(i, t) = b.ids(i, t);
            p.types(i, t) = b.types(i, t);
            p.mask(i, t) = b.mask(i, t);
            p.labels(i, t) = b.labels(i, t);
        }
    EXPECT_NEAR(model->forward(p.ids, p.types, p.mask, p.labels).loss.value()(), loss, 1e-12);
}

TEST(BertMlm, BadLabelsAreClearErrors) {
    Rng rng(2);
    BertForMaskedLM<float> m(mlm_config(), rng);
    m.eval();
    IndexTensor ids = index_tensor({2, 5, 4, 3}, {1, 4});
    auto message = [&](const IndexTensor& labels) {
        try {
            m.forward(ids, IndexTensor{}, IndexTensor{}, labels);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(message(index_tensor({-100, -100, -100, -100}, {1, 4})).find("no position"), std::string::npos);
    EXPECT_NE(message(index_tensor({-100, -100, 99, -100}, {1, 4})).find("label 99"), std::string::npos);
    EXPECT_NE(message(index_tensor({-100, 7}, {1, 2})).find("labels"), std::string::npos);
    EXPECT_EQ(message(index_tensor({-100, -100, 7, -100}, {1, 4})), "no error");
}

// rgrid's tensors + config.json with architectures ["BertForMaskedLM"] are a checkpoint that
// transformers' AutoModelForMaskedLM loads (no missing/unexpected key, decoder re-tied) and
// that gives the same logits (1e-5 in float). Skipped, saying why, without the venv.
TEST(BertMlm, CheckpointLoadsInTransformersWithTheSameLogits) {
    if (!std::filesystem::exists(venv_python)) GTEST_SKIP() << venv_python << " not found (scripts/setup-python.sh makes it)";
    auto model = golden_mlm<float>();
    const std::string dir = std::string(RGRID_BINARY_DIR) + "/mlm_interop/ckpt";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    json cfg = model->config().to_json();
    cfg["architectures"] = json::array({"BertForMaskedLM"});
    write_file_atomic(dir + "/config.json", cfg.dump(2) + "\n");
    const auto bytes = st::serialize(state_dict(*model), {{"format", "pt"}});
    write_file_atomic(dir + "/model.safetensors", bytes.data(), bytes.size());

    auto io = st::read(golden + "/mlm_tiny_io.safetensors");
    MlmBatch b = golden_batch(io);
    MaskedLmOutput<float> out = model->forward(b.ids, b.types, b.mask, b.labels);
    const std::string logits = std::string(RGRID_BINARY_DIR) + "/mlm_interop/rgrid_masked_logits.safetensors";
    st::write(logits, {{"masked_logits", st::StoredTensor::from(out.logits.value())}});
    const std::string cmd = "HF_HUB_OFFLINE=1 " + venv_python + " " + golden + "/make_mlm_parity.py check --checkpoint " +
                            dir + " --logits " + logits;
    const int rc = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(rc)) << cmd;
    if (WEXITSTATUS(rc) == 77) GTEST_SKIP() << "torch/transformers not importable by " << venv_python;
    EXPECT_EQ(WEXITSTATUS(rc), 0) << cmd;
}

// ---------------------------------------------------------------- the objective (train/mlm_objective.hpp)

namespace {
// The golden config's vocabulary: [PAD] [UNK] [CLS] [SEP] [MASK] then w5 … w98.
Vocab tiny_vocab() {
    std::vector<std::string> t = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 5; i < 99; ++i) t.push_back("w" + std::to_string(i));
    return Vocab(t);
}
// Blocks of 16 ids: [CLS] + 14 ids counting up by one through 20 words (w10 … w29) from a
// random start + [SEP]: a masked id is its left neighbour + 1, so context beats the unigram
// guess (ln 20 ≈ 3.0).
std::vector<Window> pattern_blocks(std::size_t n, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<Window> out;
    for (std::size_t b = 0; b < n; ++b) {
        Window w{b, -1, {2}};
        const std::int64_t start = static_cast<std::int64_t>(rng.below(20));
        for (std::int64_t t = 0; t < 14; ++t) w.ids.push_back(static_cast<TokenId>(10 + (start + t) % 20));
        w.ids.push_back(3);
        out.push_back(std::move(w));
    }
    return out;
}
}  // namespace

// Every chosen token weighs the same whatever the batching: equal-length blocks get the same
// masks for any batch size (the draws follow the flat position), so the loss is identical.
TEST(MlmObjective, EvaluationIsATokenWeightedMeanIndependentOfBatchSize) {
    auto model = golden_mlm<double>();
    model->train();
    const Vocab v = tiny_vocab();
    MaskedLmCollator collate(v);
    const auto blocks = pattern_blocks(7, 1);
    const MlmEvalReport a = evaluate_mlm(*model, blocks, collate, {.batch_size = 1});
    const MlmEvalReport b = evaluate_mlm(*model, blocks, collate, {.batch_size = 3});
    EXPECT_TRUE(model->is_training()) << "training mode restored";
    EXPECT_EQ(a.num_masked, b.num_masked);
    EXPECT_GT(a.num_masked, 5u);
    EXPECT_NEAR(a.loss, b.loss, 1e-12);
    EXPECT_DOUBLE_EQ(a.perplexity, std::exp(a.loss));
    EXPECT_EQ(a.blocks, 7u);
    // by hand: one batch of all blocks, the same seed's masks, loss · count
    Batcher all(blocks, {.batch_size = 7, .shuffle = false});
    Rng mask_rng(MlmEvalOptions{}.mask_seed), none(0);
    model->eval();
    const MaskedLmBatch mb = collate(all.make_batch({0, 1, 2, 3, 4, 5, 6}), mask_rng);
    const MlmLoss<double> l = mlm_loss(*model, mb, none);
    EXPECT_EQ(l.num_masked, a.num_masked);
    EXPECT_NEAR(l.loss.value()(), a.loss, 1e-12);
    EXPECT_THROW(evaluate_mlm(*model, {}, collate), Error);
}

TEST(MlmObjective, ABatchWithoutChosenPositionsIsSkippedNotNaN) {
    auto model = golden_mlm<float>();
    MaskedLmBatch mb;
    mb.input_ids = index_tensor({2, 7, 3}, {1, 3});
    mb.token_type_ids = index_tensor({0, 0, 0}, {1, 3});
    mb.attention_mask = index_tensor({1, 1, 1}, {1, 3});
    mb.labels = index_tensor({-100, -100, -100}, {1, 3});
    Rng rng(1);
    const MlmLoss<float> l = mlm_loss(*model, mb, rng);
    EXPECT_EQ(l.num_masked, 0u);
    EXPECT_FALSE(l.loss.defined());
}

// The pieces learn: STEPS AdamW steps on the pattern corpus take the held-out loss from the
// untrained ln(V) ≈ 4.6 to well below the unigram ln(20) ≈ 3.0 (a tiny model, a few seconds).
TEST(MlmObjective, TinyModelLearnsThePattern) {
    Rng init(5);
    BertConfig c = mlm_config();
    BertForMaskedLM<float> model(c, init);
    const Vocab v = tiny_vocab();
    MaskedLmCollator collate(v);
    const auto train = pattern_blocks(256, 2), held_out = pattern_blocks(32, 3);
    const double before = evaluate_mlm(model, held_out, collate).loss;
    constexpr std::size_t kSteps = 500;
    AdamW<float> opt(decay_groups(model.named_parameters(), 0.01), {.lr = 3e-3});
    Batcher batcher(train, {.batch_size = 16, .seed = 4});
    Rng mask_rng(6);
    std::size_t steps = 0;
    for (std::size_t epoch = 0; steps < kSteps; ++epoch)
        for (auto& idx : batcher.plan(epoch)) {
            if (steps == kSteps) break;
            const MlmLoss<float> l = mlm_loss(model, collate(batcher.make_batch(idx), mask_rng), model.dropout_rng);
            if (l.num_masked == 0) continue;
            backward(l.loss);
            opt.step();
            model.zero_grad();
            ++steps;
        }
    const MlmEvalReport after = evaluate_mlm(model, held_out, collate);
    std::cout << "[mlm learning] held-out loss " << before << " -> " << after.loss << " (perplexity " << after.perplexity
              << ")\n";
    EXPECT_GT(before, 4.0);
    EXPECT_LT(after.loss, 2.0);  // measured 1.11 (dropout 0.1 on)
}
