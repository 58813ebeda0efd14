// Trainer + Predictor end to end on a generated two-topic data set with a very small BERT:
// it learns (known accuracy), checkpoints round-trip through Predictor with identical
// probabilities, window order does not change a document's prediction, the training state
// round-trips, and bad inputs are clear errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/error_of.hpp"
#include "common/tiny_bert.hpp"
#include "rgrid/train/mlm_objective.hpp"
#include "rgrid/train/trainer.hpp"

using namespace rgrid;
using rgrid::test::error_of;

namespace {
const char* kVocab = RGRID_SOURCE_DIR "/examples/assets/bert-base-uncased-vocab.txt";

// Two topics; each document mixes topic words with shared filler, 6..40 words, so with
// max_length 16 many documents need several windows.
Dataset topics(std::size_t n, std::uint64_t seed) {
    const std::vector<std::string> sports{"ball", "team", "goal", "match", "player", "score", "coach", "league"};
    const std::vector<std::string> food{"bread", "cheese", "apple", "soup", "rice", "salad", "butter", "pasta"};
    const std::vector<std::string> filler{"the", "and", "today", "very", "with", "we", "saw", "good"};
    Rng rng(seed);
    Dataset ds;
    ds.label_names = {"food", "sports"};
    for (std::size_t i = 0; i < n; ++i) {
        const bool is_sports = rng.below(2) == 1;
        const auto& topic = is_sports ? sports : food;
        std::string text;
        const std::size_t words = 6 + rng.below(35);
        for (std::size_t w = 0; w < words; ++w) {
            const auto& src = rng.below(2) ? topic : filler;
            text += (w ? " " : "") + src[rng.below(src.size())];
        }
        ds.examples.push_back({text, is_sports ? "sports" : "food"});
    }
    return ds;
}

BertConfig small_config(const std::vector<std::string>& labels) { return test::tiny_bert_config(labels); }

std::string temp_dir(const std::string& name) {
    auto p = std::filesystem::path(::testing::TempDir()) / ("rgrid_train_" + name);
    std::filesystem::remove_all(p);
    return p.string();
}

TrainingArguments small_args(const std::string& out) {
    return TrainingArguments{.output_dir = out, .num_train_epochs = 4, .per_device_train_batch_size = 8,
                             .learning_rate = 2e-3, .warmup_ratio = 0.1, .max_length = 16, .stride = 4,
                             .seed = 3, .logging_steps = 5};
}

// Every parameter bit-identical, by name.
void expect_same_weights(const Module<float>& a, const Module<float>& b) {
    auto pa = a.named_parameters(), pb = b.named_parameters();
    ASSERT_EQ(pa.size(), pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) {
        const auto& x = pa[i].second->value();
        const auto& y = pb[i].second->value();
        ASSERT_EQ(x.size(), y.size());
        EXPECT_TRUE(std::equal(x.data(), x.data() + x.size(), y.data())) << pa[i].first;
    }
}

struct Fixture {
    std::shared_ptr<const BertTokenizer> tok = std::make_shared<const BertTokenizer>(BertTokenizer::from_file(kVocab));
    Dataset train = topics(96, 1), val = topics(48, 2);
};
}  // namespace

TEST(Trainer, LearnsTopicsAndCheckpointsRoundTrip) {
    Fixture f;
    Rng rng(11);
    auto model = std::make_shared<BertForSequenceClassification<float>>(small_config(f.train.label_names), rng);
    const std::string out = temp_dir("learn");
    Trainer trainer(model, f.tok, kVocab, small_args(out), f.train, f.val);
    EXPECT_GT(trainer.train_windows().windows.size(), f.train.size());  // the long-text path is used
    std::vector<EvalReport> evals;
    TrainerCallback cb;
    cb.on_evaluate = [&](const EpochRow&, const EvalReport& r) { evals.push_back(r); };
    trainer.add_callback(cb);
    TrainOutput o = trainer.train();

    EXPECT_EQ(o.global_step, 4 * ((trainer.train_windows().windows.size() + 7) / 8));
    ASSERT_EQ(evals.size(), 4u);
    EXPECT_LT(evals.back().loss, evals.front().loss);
    EXPECT_GE(evals.back().accuracy, 0.95) << evals.back().classification_report();
    EXPECT_EQ(evals.back().documents, 48u);
    EXPECT_NEAR(o.best_f1, std::max_element(evals.begin(), evals.end(), [](auto& a, auto& b) {
                               return a.weighted.f1 < b.weighted.f1;
                           })->weighted.f1, 1e-12);

    for (const char* f1 : {"best/config.json", "best/model.safetensors", "best/vocab.txt", "last/model.safetensors",
                           "last/training_state.safetensors", "last/inference_config.json", "metrics.jsonl", "curves.svg"})
        EXPECT_TRUE(std::filesystem::exists(out + "/" + f1)) << f1;

    // Checkpoint round trip: DIR/last holds the final weights; Predictor reproduces them exactly.
    std::vector<std::string> texts;
    for (auto& e : f.val.examples) texts.push_back(e.text);
    auto in_memory = trainer.predictor().predict(texts);
    auto loaded = Predictor::from_pretrained(out + "/last");
    EXPECT_EQ(loaded.options().window.max_length, 16u);
    auto again = loaded.predict(texts);
    ASSERT_EQ(again.size(), in_memory.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        EXPECT_EQ(again[i].label, in_memory[i].label);
        EXPECT_EQ(again[i].probabilities, in_memory[i].probabilities) << "document " << i;
        EXPECT_EQ(again[i].windows, in_memory[i].windows);
    }
    // evaluate() on a data set agrees with the Predictor's labels.
    EvalReport r = evaluate(loaded, f.val);
    for (std::size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(r.y_pred[i], std::int64_t(again[i].label_id));

    // Training state round trip: moments, step and RNG as saved.
    AdamW<float> opt(decay_groups(model->named_parameters(), 0.01), {.lr = 1e-3});
    Rng restored(0);
    TrainerState st = load_training_state(out + "/last/training_state.safetensors", *model, opt, restored);
    EXPECT_EQ(st, trainer.state());
    EXPECT_EQ(st.epoch, 4u);
    EXPECT_EQ(st.global_step, o.global_step);
    auto* w = &model->classifier.weight;
    EXPECT_EQ(opt.state(w).step, std::int64_t(o.global_step));
    EXPECT_GT(std::abs(opt.state(w).exp_avg_sq(0, 0)), 0.f);
}

TEST(Predictor, WindowOrderDoesNotChangeThePrediction) {
    Rng rng(5);
    Tensor<float> wl = Tensor<float>::from_shape({5, 3});
    for (std::size_t i = 0; i < wl.size(); ++i) wl.data()[i] = rng.normal<float>();
    std::vector<std::size_t> doc{0, 0, 0, 0, 0};
    std::vector<std::size_t> perm{3, 0, 4, 2, 1};
    Tensor<float> shuffled = Tensor<float>::from_shape({5, 3});
    for (std::size_t r = 0; r < 5; ++r)
        std::copy(wl.data() + perm[r] * 3, wl.data() + perm[r] * 3 + 3, shuffled.data() + r * 3);
    for (Aggregation a : {Aggregation::Mean, Aggregation::Max, Aggregation::Vote}) {
        auto x = aggregate_documents(wl, doc, 1, a), y = aggregate_documents(shuffled, doc, 1, a);
        auto px = make_prediction(x.logits.data(), 3, a, {"a", "b", "c"}, 5);
        auto py = make_prediction(y.logits.data(), 3, a, {"a", "b", "c"}, 5);
        EXPECT_EQ(px.label, py.label) << aggregation_name(a);
        EXPECT_EQ(px.probabilities, py.probabilities) << aggregation_name(a);
    }
    // Mean of logits by hand, and a vote tie goes to the lowest label.
    Tensor<float> two = Tensor<float>{{1.f, 3.f}, {3.f, 1.f}};
    auto m = aggregate_documents(two, {0, 0}, 1, Aggregation::Mean);
    EXPECT_FLOAT_EQ(m.logits(0, 0), 2.f);
    auto v = make_prediction(aggregate_documents(two, {0, 0}, 1, Aggregation::Vote).logits.data(), 2, Aggregation::Vote,
                             {"x", "y"}, 2);
    EXPECT_EQ(v.label, "x");
    EXPECT_FLOAT_EQ(v.probabilities[0], 0.5f);
    EXPECT_THROW(aggregate_documents(two, {0, 2}, 2, Aggregation::Mean), Error);  // doc id out of range
    EXPECT_THROW(aggregate_documents(two, {1, 1}, 2, Aggregation::Mean), Error);  // document 0 has no window
}

TEST(Trainer, BadInputsAreClearErrors) {
    Fixture f;
    Rng rng(1);
    auto model = std::make_shared<BertForSequenceClassification<float>>(small_config(f.train.label_names), rng);
    const std::string out = temp_dir("bad");
    Dataset val = f.val;
    val.examples[3].label = "weather";
    auto msg = error_of([&] { Trainer(model, f.tok, kVocab, small_args(out), f.train, val); });
    EXPECT_NE(msg.find("unknown label 'weather'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("validation"), std::string::npos) << msg;

    Dataset empty;
    empty.label_names = f.train.label_names;
    msg = error_of([&] { Trainer(model, f.tok, kVocab, small_args(out), empty, f.val); });
    EXPECT_NE(msg.find("training set is empty"), std::string::npos) << msg;

    auto args = small_args(out);
    args.max_length = 513;
    msg = error_of([&] { Trainer(model, f.tok, kVocab, args, f.train, f.val); });
    EXPECT_NE(msg.find("max_length must be in [3, 512], got 513"), std::string::npos) << msg;

    args = small_args(out);
    args.stride = 14;  // max_length 16 - 2
    msg = error_of([&] { Trainer(model, f.tok, kVocab, args, f.train, f.val); });
    EXPECT_NE(msg.find("stride (14) must be smaller than max_length - 2 (14)"), std::string::npos) << msg;

    args = small_args(out);
    args.max_length = 128;  // the model has 64 positions
    msg = error_of([&] { Trainer(model, f.tok, kVocab, args, f.train, f.val); });
    EXPECT_NE(msg.find("max_position_embeddings 64"), std::string::npos) << msg;

    EXPECT_THROW(parse_aggregation("median"), Error);
    EXPECT_THROW(Predictor::from_pretrained(out + "/does-not-exist"), Error);
}

TEST(Trainer, ResumeFromLastIsBitExact) {
    Fixture f;
    auto args_for = [&](const std::string& out) {
        auto a = small_args(out);
        a.num_train_epochs = 3;
        return a;
    };
    // Uninterrupted run.
    Rng rng_a(21);
    auto a = std::make_shared<BertForSequenceClassification<float>>(small_config(f.train.label_names), rng_a);
    Trainer ta(a, f.tok, kVocab, args_for(temp_dir("resume_a")), f.train, f.val);
    ta.train();
    // Same run, killed right after the epoch-1 save, then resumed from DIR/last in a new process-like setup.
    const std::string out_b = temp_dir("resume_b");
    {
        Rng rng_b(21);
        auto b = std::make_shared<BertForSequenceClassification<float>>(small_config(f.train.label_names), rng_b);
        Trainer tb(b, f.tok, kVocab, args_for(out_b), f.train, f.val);
        struct Killed {};
        TrainerCallback kill;
        kill.on_save = [](const std::string&, bool best) { if (!best) throw Killed{}; };
        tb.add_callback(kill);
        EXPECT_THROW(tb.train(), Killed);
    }
    std::shared_ptr<BertForSequenceClassification<float>> c = from_pretrained<float>(out_b + "/last");
    Trainer tc(c, f.tok, kVocab, args_for(out_b), f.train, f.val);
    tc.resume_from(out_b + "/last");
    EXPECT_EQ(tc.state().epoch, 1u);
    TrainOutput oc = tc.train();
    EXPECT_EQ(oc.global_step, ta.state().global_step);
    expect_same_weights(*a, *c);
    EXPECT_EQ(tc.state(), ta.state());
}

namespace {
// (type, step) of every line of a metrics.jsonl, e.g. ("log", 5), ("eval", 12), ("train_summary", 36).
std::vector<std::pair<std::string, long>> logged_steps(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::pair<std::string, long>> out;
    for (std::string line; std::getline(in, line);) {
        const auto t = line.find("\"type\":\"") + 8;
        const std::string type = line.substr(t, line.find('"', t) - t);
        auto s = line.find("\"step\":");
        if (s == std::string::npos) s = line.find("\"global_step\":") + 7;
        out.emplace_back(type, std::stol(line.substr(s + 7)));
    }
    return out;
}
}  // namespace

// Killed in the middle of epoch 2 (after its first log lines were written), resumed from
// DIR/last (end of epoch 1): metrics.jsonl then holds each step once, in the same order as an
// uninterrupted run, and on_gradients ran once per optimizer step between backward and clipping.
TEST(Trainer, ResumedRunLogsEveryStepOnce) {
    Fixture f;
    auto args_for = [&](const std::string& out) {
        auto a = small_args(out);
        a.num_train_epochs = 3;
        a.logging_steps = 2;
        return a;
    };
    const std::string out_a = temp_dir("relog_a"), out_b = temp_dir("relog_b");
    Rng rng_a(21);
    auto a = std::make_shared<BertForSequenceClassification<float>>(small_config(f.train.label_names), rng_a);
    Trainer ta(a, f.tok, kVocab, args_for(out_a), f.train, f.val);
    ta.train();
    {
        Rng rng_b(21);
        auto b = std::make_shared<BertForSequenceClassification<float>>(small_config(f.train.label_names), rng_b);
        Trainer tb(b, f.tok, kVocab, args_for(out_b), f.train, f.val);
        struct Killed {};
        TrainerCallback kill;
        auto epoch = std::make_shared<std::size_t>(0);
        kill.on_epoch_begin = [epoch](std::size_t e, std::size_t) { *epoch = e; };
        kill.on_step_end = [epoch](std::size_t step, std::size_t, double) {
            if (*epoch == 2 && step == 5) throw Killed{};
        };
        tb.add_callback(kill);
        EXPECT_THROW(tb.train(), Killed);
    }
    const auto before = logged_steps(out_b + "/metrics.jsonl");
    ASSERT_FALSE(before.empty());
    EXPECT_GT(before.back().second, long(ta.state().global_step / 3));  // epoch 2 had logged lines

    std::shared_ptr<BertForSequenceClassification<float>> c = from_pretrained<float>(out_b + "/last");
    Trainer tc(c, f.tok, kVocab, args_for(out_b), f.train, f.val);
    tc.resume_from(out_b + "/last");
    std::size_t gradient_calls = 0;
    TrainerCallback hook;
    hook.on_gradients = [&](const std::vector<Var<float>*>& params) {
        ++gradient_calls;
        EXPECT_EQ(params.size(), c->parameters().size());
        EXPECT_TRUE(params.front()->has_grad());  // after backward
    };
    tc.add_callback(hook);
    const std::size_t start = tc.state().global_step;
    tc.train();
    EXPECT_EQ(gradient_calls, tc.state().global_step - start);
    EXPECT_EQ(logged_steps(out_b + "/metrics.jsonl"), logged_steps(out_a + "/metrics.jsonl"));
    EXPECT_EQ(tc.state(), ta.state());
}

// --gradient-accumulation-steps (HF semantics): the loss of each micro-batch is scaled by 1/N
// and the optimizer steps once per N micro-batches, so N micro-batches of b windows give the
// gradient of one batch of N·b windows (the mean over the same windows, summed in another
// order: fp32 tolerance). Dropout is off so both runs see the same function.
TEST(Trainer, GradientAccumulationMatchesOneLargerBatch) {
    Fixture f;
    Dataset train = topics(8, 5);
    BertConfig cfg = small_config(train.label_names);
    cfg.hidden_dropout_prob = 0;
    cfg.attention_probs_dropout_prob = 0;
    auto run = [&](std::size_t batch, std::size_t accumulation, const std::string& name) {
        Rng rng(11);
        auto model = std::make_shared<BertForSequenceClassification<float>>(cfg, rng);
        TrainingArguments args = small_args(temp_dir(name));
        args.num_train_epochs = 1;
        args.max_windows = 1;  // 8 documents = 8 windows: one batch of 8, or 2 micro-batches of 4
        args.per_device_train_batch_size = batch;
        args.gradient_accumulation_steps = accumulation;
        args.evaluate_each_epoch = false;
        args.save_each_epoch = false;
        args.logging_steps = 1;
        Trainer trainer(model, f.tok, kVocab, args, train, {});
        EXPECT_EQ(trainer.train_windows().windows.size(), 8u);
        std::vector<Tensor<float>> grads;
        std::size_t backwards = 0, logs = 0;
        TrainerCallback cb;
        cb.on_backward_begin = [&](bool) { ++backwards; };
        cb.on_gradients = [&](const std::vector<Var<float>*>& ps) {
            for (auto* p : ps) grads.push_back(p->grad());
        };
        cb.on_log = [&](const LogRecord&) { ++logs; };
        trainer.add_callback(cb);
        TrainOutput o = trainer.train();
        EXPECT_EQ(o.global_step, 1u) << name;  // one optimizer step either way
        EXPECT_EQ(backwards, accumulation) << name;
        EXPECT_EQ(logs, 1u) << name;            // logging per optimizer step, not per micro-batch
        return grads;
    };
    const auto one = run(8, 1, "accum1");
    const auto two = run(4, 2, "accum2");
    ASSERT_EQ(one.size(), two.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
        ASSERT_EQ(one[i].shape(), two[i].shape());
        float scale = 1e-3f, diff = 0;
        for (std::size_t j = 0; j < one[i].size(); ++j) {
            scale = std::max(scale, std::abs(one[i].data()[j]));
            diff = std::max(diff, std::abs(one[i].data()[j] - two[i].data()[j]));
        }
        EXPECT_LT(diff / scale, 1e-4f) << "parameter " << i;
    }
    EXPECT_TRUE(error_of([] { TrainingArguments a{.output_dir = "x", .gradient_accumulation_steps = 0}; a.validate(); })
                    .find("gradient_accumulation_steps") != std::string::npos);
}

// ---- masked-LM pretraining through the same loop (train/mlm_objective.hpp, issue 15) ---------

namespace {
struct MlmRun {
    std::shared_ptr<BertForMaskedLM<float>> model;
    std::shared_ptr<MaskedLmObjective> objective;
    std::unique_ptr<Trainer> trainer;
};
TrainingArguments mlm_args(const std::string& out) {
    TrainingArguments a{.output_dir = out, .num_train_epochs = 3, .per_device_train_batch_size = 4,
                        .learning_rate = 2e-3, .warmup_ratio = 0.1, .max_length = 16, .stride = 0, .seed = 8,
                        .logging_steps = 2};
    return a;
}
// A tiny BertForMaskedLM over the bert-base vocabulary, pretraining on the topic texts
// (16-token concatenated blocks, 10% of the documents held out); `model` loads weights from a
// checkpoint directory instead of a fresh init when given.
MlmRun mlm_run(const Fixture& f, const TrainingArguments& args, std::shared_ptr<BertForMaskedLM<float>> model = {}) {
    MlmRun r;
    if (!model) {
        Rng rng(31);
        model = std::make_shared<BertForMaskedLM<float>>(test::tiny_bert_config({"a", "b"}), rng);
    }
    r.model = model;
    auto blocks = make_text_blocks(*f.tok, texts_of(f.train), {.max_length = 16, .eval_share = 0.1, .seed = args.seed});
    r.objective = std::make_shared<MaskedLmObjective>(model, f.tok, std::move(blocks), args,
                                                      MaskedLmOptions{.whole_word_mask = true});
    r.trainer = std::make_unique<Trainer>(r.objective, args);
    return r;
}
}  // namespace

// The held-out loss falls, checkpoints are BertForMaskedLM directories, a killed run resumed
// from DIR/last (mid-epoch kill: it continues from the end of epoch 1) ends with the same
// weights and state as the uninterrupted one, and an MLM checkpoint fine-tunes.
TEST(MaskedLmTrainer, LearnsCheckpointsAndResumesBitExact) {
    Fixture f;
    const std::string out_a = temp_dir("mlm_a"), out_b = temp_dir("mlm_b");
    MlmRun a = mlm_run(f, mlm_args(out_a));
    std::vector<double> eval_losses;
    TrainerCallback watch;
    watch.on_evaluate = [&](const EpochRow& row, const EvalReport& ev) {
        eval_losses.push_back(ev.loss);
        EXPECT_EQ(row.validation_loss, ev.loss);
    };
    a.trainer->add_callback(watch);
    const TrainOutput oa = a.trainer->train();
    ASSERT_EQ(eval_losses.size(), 3u);
    EXPECT_LT(eval_losses.back(), eval_losses.front());
    EXPECT_LT(eval_losses.back(), std::log(30522.0) - 1.0);  // well below the untrained ln V
    EXPECT_GT(oa.best_f1, 0.0);                                // 1 / perplexity
    EXPECT_NEAR(-std::log(oa.best_f1), *std::min_element(eval_losses.begin(), eval_losses.end()), 1e-9);
    EXPECT_GT(a.objective->last_evaluation().num_masked, 0u);

    {  // the same run, killed in the middle of epoch 2
        MlmRun b = mlm_run(f, mlm_args(out_b));
        struct Killed {};
        TrainerCallback kill;
        auto epoch = std::make_shared<std::size_t>(0);
        kill.on_epoch_begin = [epoch](std::size_t e, std::size_t) { *epoch = e; };
        kill.on_step_end = [epoch](std::size_t step, std::size_t, double) {
            if (*epoch == 2 && step == 3) throw Killed{};
        };
        b.trainer->add_callback(kill);
        EXPECT_THROW(b.trainer->train(), Killed);
    }
    std::shared_ptr<BertForMaskedLM<float>> loaded = masked_lm_from_pretrained<float>(out_b + "/last");
    MlmRun c = mlm_run(f, mlm_args(out_b), loaded);
    c.trainer->resume_from(out_b + "/last");
    EXPECT_EQ(c.trainer->state().epoch, 1u);
    c.trainer->train();
    expect_same_weights(*a.model, *c.model);
    EXPECT_EQ(c.trainer->state(), a.trainer->state());

    // DIR/best is a BertForMaskedLM checkpoint; the classifier loads its encoder
    LoadReport rep;
    auto clf = from_pretrained<float>(out_a + "/best", {.id2label = f.train.label_names}, &rep);
    EXPECT_EQ(rep.reinitialized.size(), 4u);  // pooler + classifier
    EXPECT_EQ(unused_keys(rep).size(), 5u);   // cls.predictions.*
    auto best = masked_lm_from_pretrained<float>(out_a + "/best");
    EXPECT_EQ(clf->bert.embeddings.word_embeddings.weight.value(), best->bert.embeddings.word_embeddings.weight.value());
}

// max_steps (HF): exactly that many optimizer steps; the last epoch is cut short and still
// evaluated and saved; the schedule decays to 0 at max_steps.
TEST(MaskedLmTrainer, MaxStepsStopsMidEpoch) {
    Fixture f;
    auto args = mlm_args(temp_dir("mlm_max_steps"));
    MlmRun probe = mlm_run(f, args);
    const std::size_t per_epoch = probe.objective->batches_per_epoch();
    ASSERT_GT(per_epoch, 4u);
    args.max_steps = per_epoch + 3;
    MlmRun r = mlm_run(f, args);
    std::vector<std::size_t> epoch_steps;
    std::size_t evals = 0;
    double last_lr = -1;
    TrainerCallback cb;
    cb.on_epoch_begin = [&](std::size_t, std::size_t steps) { epoch_steps.push_back(steps); };
    cb.on_evaluate = [&](const EpochRow&, const EvalReport&) { ++evals; };
    cb.on_log = [&](const LogRecord& rec) {
        if (auto lr = detail::log_field<double>(rec, "learning_rate")) last_lr = *lr;
    };
    r.trainer->add_callback(cb);
    const TrainOutput o = r.trainer->train();
    EXPECT_EQ(o.global_step, per_epoch + 3);
    EXPECT_EQ(epoch_steps, (std::vector<std::size_t>{per_epoch, 3}));
    EXPECT_EQ(evals, 2u);
    EXPECT_TRUE(std::filesystem::exists(args.output_dir + "/last/model.safetensors"));
    EXPECT_GE(last_lr, 0.0);
    EXPECT_LT(last_lr, args.learning_rate * 0.2);
}

// A batch in which no position was chosen gives a zero loss that backward() accepts and that
// leaves every parameter without a gradient (the optimizer step then skips them all).
TEST(MaskedLmTrainer, ABatchWithoutChosenPositionsIsAZeroStep) {
    Fixture f;
    MlmRun r = mlm_run(f, mlm_args(temp_dir("mlm_zero")));
    Batch b = r.objective->batch(0, 0);
    b.labels.fill(MaskedLmCollator::ignore_index);
    Rng rng(1);
    Var<float> loss = r.objective->loss(b, rng);
    EXPECT_EQ(loss.value()(), 0.f);
    backward(loss);
    for (auto* p : r.model->parameters()) EXPECT_FALSE(p->has_grad());
    // a real batch: labels (B, T), the masked ids differ from the originals only at chosen positions
    Batch real = r.objective->batch(0, 0);
    EXPECT_EQ(real.labels.shape(), real.input_ids.shape());
    EXPECT_GT(r.objective->loss(real, rng).value()(), 0.f);
}
