// BERT against PyTorch: names, logits, loss and every gradient, compared
// with tests/golden/*.safetensors written by tests/golden/make_bert_parity.py (real torch;
// CTest test bert_golden_regenerate re-runs it and checks these files on every ./test.sh).
// Plus HF initialization, dropout/eval behaviour and a learning sanity check.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include "common/golden_bert.hpp"
#include "common/tiny_bert.hpp"
#include "rgrid/io/pretrained.hpp"
#include "rgrid/nn/bert.hpp"
#include "rgrid/optim/adamw.hpp"
#include "rgrid/optim/clip_grad.hpp"
#include "rgrid/optim/schedule.hpp"
#include "parity_check.hpp"

using namespace rgrid;
using namespace rgrid::test;
namespace st = rgrid::safetensors;


TEST(Bert, NamesMatchPyTorchStateDict) {
    Rng rng(1);
    BertForSequenceClassification<float> model(golden_config(), rng);
    std::vector<std::string> names;
    for (auto& [n, p] : model.named_parameters()) names.push_back(n);
    EXPECT_EQ(names, read_lines(golden + "/bert_tiny_keys.txt"));
    // The HF layout with 12 layers too (5 + 12*16 + 2 + 2 tensors); small sizes keep it fast.
    Rng rng2(1);
    BertConfig deep = BertConfig::preset("base");
    deep.vocab_size = 64;
    deep.hidden_size = 24;
    deep.intermediate_size = 48;
    BertForSequenceClassification<float> big(deep, rng2);
    auto np = big.named_parameters();
    ASSERT_EQ(np.size(), 5u + 12 * 16 + 2 + 2);
    EXPECT_EQ(np[5 + 11 * 16 + 3].first, "bert.encoder.layer.11.attention.self.key.bias");
    EXPECT_EQ(shape_of(np[5 + 10].second->value()), (Shape{48, 24}));  // intermediate.dense.weight (I, H)
    EXPECT_EQ(np[5 + 10].first, "bert.encoder.layer.0.intermediate.dense.weight");
    EXPECT_EQ(np.back().first, "classifier.bias");
}

TEST(Bert, HfInitialization) {
    Rng rng(3);
    BertConfig c = BertConfig::preset("tiny");
    c.vocab_size = 1000;
    BertForSequenceClassification<double> model(c, rng);
    for (auto& [name, p] : model.named_parameters()) {
        const auto& v = p->value();
        if (name.find("LayerNorm.weight") != std::string::npos) {
            EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](double x) { return x == 1.0; })) << name;
        } else if (name.ends_with("bias")) {
            EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](double x) { return x == 0.0; })) << name;
        } else {
            double s = 0, s2 = 0;
            for (double x : v) { s += x; s2 += x * x; }
            const double n = static_cast<double>(v.size()), mean = s / n, sd = std::sqrt(s2 / n - mean * mean);
            EXPECT_NEAR(mean, 0.0, 0.004) << name;
            const double tol = name.find("word_embeddings") != std::string::npos ? 0.001 : 0.003;
            EXPECT_NEAR(sd, c.initializer_range, tol + 0.02 / std::sqrt(n) * 5) << name;
        }
    }
    const auto& we = model.bert.embeddings.word_embeddings.weight.value();
    for (std::size_t j = 0; j < c.hidden_size; ++j) EXPECT_EQ(we(c.pad_token_id, j), 0.0);
    // Same seed, same weights; another seed, other weights.
    Rng r1(11), r2(11), r3(12);
    BertForSequenceClassification<float> a(c, r1), b(c, r2), d(c, r3);
    EXPECT_EQ(a.classifier.weight.value(), b.classifier.weight.value());
    EXPECT_NE(a.classifier.weight.value(), d.classifier.weight.value());
}

template <class T>
void check_forward_backward_parity(double logits_tol, double grad_rel_tol) {
    auto io = st::read(golden + "/bert_tiny_io.safetensors");
    auto model = golden_model<T>();
    GoldenBatch b = golden_batch(io);
    Var<T> logits = model->forward(b.ids, b.types, b.mask);
    const double dl = max_abs_diff(logits.value(), io.at("logits").as<double>());
    EXPECT_LE(dl, logits_tol) << "max |logits - torch|";
    Var<T> loss = ops::cross_entropy(logits, b.labels);
    const double dloss = std::abs(static_cast<double>(loss.value()()) - io.at("loss").as<double>()());
    EXPECT_LE(dloss, logits_tol) << "|loss - torch|";
    backward(loss);
    const test::GradParity g = test::expect_grads_match(*model, io, grad_rel_tol);
    std::cout << "[parity " << (sizeof(T) == 8 ? "double" : "float") << "] max |Δlogits| " << dl << ", |Δloss| " << dloss
              << ", worst grad rel " << g.worst << " (" << g.name << ")\n";
}

TEST(BertParity, ForwardBackwardDoubleMatchesPyTorch) { check_forward_backward_parity<double>(1e-5, 1e-4); }
TEST(BertParity, ForwardBackwardFloatMatchesPyTorch) { check_forward_backward_parity<float>(1e-5, 1e-4); }

TEST(Bert, DropoutOnlyInTrainingAndReproducible) {
    BertConfig c = golden_config();
    c.hidden_dropout_prob = 0.3;
    c.attention_probs_dropout_prob = 0.3;
    Rng r1(5), r2(5);
    BertForSequenceClassification<float> a(c, r1), b(c, r2);
    auto io = st::read(golden + "/bert_tiny_io.safetensors");
    GoldenBatch bt = golden_batch(io);
    a.eval();
    auto e1 = a.forward(bt.ids, bt.types, bt.mask).value();
    auto e2 = a.forward(bt.ids, bt.types, bt.mask).value();
    EXPECT_EQ(e1, e2);
    a.train();
    b.train();
    auto t1 = a.forward(bt.ids, bt.types, bt.mask).value();
    auto t2 = a.forward(bt.ids, bt.types, bt.mask).value();
    EXPECT_NE(t1, e1);
    EXPECT_NE(t1, t2);
    EXPECT_EQ(b.forward(bt.ids, bt.types, bt.mask).value(), t1);  // same seed, same masks
    EXPECT_TRUE(a.bert.encoder.layer[1].attention.self.dropout.is_training());
}

TEST(Bert, InputErrorsNameTheProblem) {
    Rng rng(1);
    BertForSequenceClassification<float> m(golden_config(), rng);
    IndexTensor ids = index_tensor({2, 5, 200}, {1, 3});
    try {
        m.forward(ids, IndexTensor(), IndexTensor());
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("200"), std::string::npos) << e.what();
    }
    IndexTensor long_ids = xt::ones<std::int64_t>(Shape{1, 17});
    EXPECT_THROW(m.forward(long_ids, IndexTensor(), IndexTensor()), Error);  // > max_position_embeddings
    IndexTensor ok = index_tensor({2, 5, 3}, {1, 3});
    EXPECT_THROW(m.forward(ok, IndexTensor(), index_tensor({1, 1}, {1, 2})), Error);
    EXPECT_THROW(m.forward(ok, IndexTensor(), index_tensor({1, 2, 1}, {1, 3})), Error);
    // empty types/mask mean zeros/ones
    m.eval();
    auto a = m.forward(ok, IndexTensor(), IndexTensor()).value();
    auto b = m.forward(ok, xt::zeros<std::int64_t>(Shape{1, 3}), xt::ones<std::int64_t>(Shape{1, 3})).value();
    EXPECT_EQ(a, b);
}

TEST(Bert, PaddingDoesNotChangeLogits) {
    auto m = golden_model<double>();
    IndexTensor a = index_tensor({2, 17, 45, 3}, {1, 4});
    IndexTensor b = index_tensor({2, 17, 45, 3, 0, 0, 0}, {1, 7});
    IndexTensor mb = index_tensor({1, 1, 1, 1, 0, 0, 0}, {1, 7});
    auto la = m->forward(a, IndexTensor(), IndexTensor()).value();
    auto lb = m->forward(b, IndexTensor(), mb).value();
    for (std::size_t k = 0; k < la.size(); ++k) EXPECT_NEAR(la.data()[k], lb.data()[k], 1e-12);
}

// A tiny BERT from scratch learns a keyword rule: label = which of three keywords occurs.
TEST(BertLearning, TinyBertFitsKeywordRule) {
    const auto t0 = std::chrono::steady_clock::now();
    const BertConfig c =
        test::tiny_bert_config({"none", "alpha", "beta"}, {.layers = 2, .heads = 4, .max_positions = 16, .vocab_size = 40});
    Rng rng(2024);
    BertForSequenceClassification<float> model(c, rng);
    // 48 examples of length 4..10: [CLS]=1 content... [SEP]=2, pad 0; keywords 5 (alpha), 6 (beta)
    const std::size_t N = 48, Tn = 12;
    IndexTensor ids = xt::zeros<std::int64_t>(Shape{N, Tn}), mask = xt::zeros<std::int64_t>(Shape{N, Tn});
    IndexTensor labels = IndexTensor::from_shape({N});
    Rng data(99);
    for (std::size_t i = 0; i < N; ++i) {
        const std::size_t len = 4 + data.below(7);
        const std::int64_t label = static_cast<std::int64_t>(i % 3);
        ids(i, 0) = 1;
        for (std::size_t t = 1; t <= len; ++t) ids(i, t) = 7 + static_cast<std::int64_t>(data.below(c.vocab_size - 7));
        if (label > 0) ids(i, 1 + data.below(len)) = 4 + label;  // 5 or 6 somewhere in the text
        ids(i, len + 1) = 2;
        for (std::size_t t = 0; t <= len + 1; ++t) mask(i, t) = 1;
        labels(i) = label;
    }
    model.train();
    AdamW<float> opt(decay_groups(model.named_parameters(), 0.01), {.lr = 2e-3});
    const std::size_t epochs = 60, bs = 16, steps = epochs * (N / bs);
    LinearSchedule sched{steps / 10, steps};
    double first_loss = 0, last_loss = 0;
    std::size_t step = 0;
    for (std::size_t ep = 0; ep < epochs; ++ep) {
        double epoch_loss = 0;
        for (std::size_t b0 = 0; b0 < N; b0 += bs) {
            auto rows = xt::range(b0, b0 + bs);
            IndexTensor bi = xt::view(ids, rows, xt::all()), bm = xt::view(mask, rows, xt::all());
            IndexTensor bl = xt::view(labels, rows);
            Var<float> loss = ops::cross_entropy(model.forward(bi, IndexTensor(), bm), bl);
            epoch_loss += loss.value()() / (N / bs);
            backward(loss);
            clip_grad_norm(model.parameters(), 1.0);
            opt.set_lr_multiplier(sched(step++));
            opt.step();
            model.zero_grad();
        }
        if (ep == 0) first_loss = epoch_loss;
        last_loss = epoch_loss;
    }
    model.eval();
    NoGradGuard ng;
    auto logits = model.forward(ids, IndexTensor(), mask).value();
    std::size_t correct = 0;
    for (std::size_t i = 0; i < N; ++i) {
        std::size_t best = 0;
        for (std::size_t k = 1; k < 3; ++k)
            if (logits(i, k) > logits(i, best)) best = k;
        correct += best == static_cast<std::size_t>(labels(i));
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "[learning] loss " << first_loss << " -> " << last_loss << ", train accuracy " << correct << "/" << N
              << " in " << secs << " s\n";
    EXPECT_LT(last_loss, 0.5 * first_loss);
    EXPECT_LT(last_loss, 0.1);
    EXPECT_EQ(correct, N);
}

TEST(Bert, ResetClassifierGivesAFreshHead) {
    auto m = golden_model<float>();
    Rng rng(4);
    const auto pooler = m->bert.pooler->dense.weight.value();
    m->reset_classifier({"x", "y"}, rng);
    EXPECT_EQ(m->num_labels(), 2u);
    EXPECT_EQ(m->config().id2label, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(shape_of(m->classifier.weight.value()), (Shape{2, 32}));
    EXPECT_EQ(m->classifier.bias.value(), zeros<float>({2}));
    EXPECT_EQ(m->bert.pooler->dense.weight.value(), pooler);
    auto io = st::read(golden + "/bert_tiny_io.safetensors");
    GoldenBatch b = golden_batch(io);
    EXPECT_EQ(shape_of(m->forward(b.ids, b.types, b.mask).value()), (Shape{3, 2}));
    EXPECT_THROW(m->reset_classifier({}, rng), Error);
}
