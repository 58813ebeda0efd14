// Non-finite guard (issue 8, item 3): when the loss turns NaN mid-training, the Trainer stops
// with an error naming the step, epoch and batch, and the last good checkpoint (DIR/last from
// the previous epoch) stays intact and loadable with finite weights.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "common/tiny_bert.hpp"
#include "rgrid/train/trainer.hpp"

namespace {
const char* kVocab = RGRID_SOURCE_DIR "/examples/assets/bert-base-uncased-vocab.txt";

rgrid::Dataset two_topics(std::size_t n) {
    rgrid::Dataset ds;
    ds.label_names = {"food", "sports"};
    for (std::size_t i = 0; i < n; ++i)
        ds.examples.push_back(i % 2 ? rgrid::Example{"the team scored a goal in the match " + std::to_string(i), "sports"}
                                    : rgrid::Example{"bread and cheese with soup " + std::to_string(i), "food"});
    return ds;
}
}  // namespace

TEST(NonFiniteGuard, NanLossStopsTrainingNamingTheStepAndKeepsTheLastCheckpoint) {
    auto tok = std::make_shared<const rgrid::BertTokenizer>(rgrid::BertTokenizer::from_file(kVocab));
    const rgrid::Dataset train = two_topics(16), val = two_topics(4);
    const rgrid::BertConfig cfg = rgrid::test::tiny_bert_config(train.label_names, {.max_positions = 32});
    rgrid::Rng rng(5);
    auto model = std::make_shared<rgrid::BertForSequenceClassification<float>>(cfg, rng);
    const std::string out = (std::filesystem::path(::testing::TempDir()) / "rgrid_nonfinite_guard").string();
    std::filesystem::remove_all(out);
    rgrid::TrainingArguments args{.output_dir = out, .num_train_epochs = 3, .per_device_train_batch_size = 8,
                                  .learning_rate = 1e-3, .max_length = 16, .stride = 4, .seed = 1};
    rgrid::Trainer trainer(model, tok, kVocab, args, train, val);
    rgrid::TrainerCallback poison;
    poison.on_epoch_begin = [&](std::size_t epoch, std::size_t) {
        if (epoch != 2) return;
        for (auto& [name, p] : model->named_parameters())
            if (name == "classifier.weight") p->data()[0] = std::numeric_limits<float>::quiet_NaN();
    };
    trainer.add_callback(poison);
    try {
        trainer.train();
        FAIL() << "training went on with a NaN weight";
    } catch (const rgrid::Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("non-finite"), std::string::npos) << msg;
        EXPECT_NE(msg.find("step 3"), std::string::npos) << msg;  // 2 steps per epoch: the first of epoch 2
        EXPECT_NE(msg.find("epoch 2, batch 1"), std::string::npos) << msg;
    }
    auto last = rgrid::from_pretrained<float>(out + "/last");  // the epoch-1 checkpoint
    for (const auto& [name, p] : last->named_parameters())
        for (std::size_t i = 0; i < p->numel(); ++i) ASSERT_TRUE(std::isfinite(p->data()[i])) << name;
    std::filesystem::remove_all(out);
}
