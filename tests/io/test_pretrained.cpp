// Checkpoint directories: save_pretrained -> from_pretrained bit-exact, HF legacy names,
// missing/replaced classifier heads, strict-mode and shape errors, atomic writes.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "rgrid/io/pretrained.hpp"
#include "common/error_of.hpp"
#include "rgrid/train/predictor.hpp"

using namespace rgrid;
namespace st = rgrid::safetensors;
namespace fs = std::filesystem;

namespace {

const std::string golden = RGRID_TEST_DATA_DIR;

struct TempDir {
    fs::path path;
    explicit TempDir(const std::string& name)
        : path(fs::temp_directory_path() / ("rgrid_test_pretrained_" + name + "_" + std::to_string(::getpid()))) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string operator/(const std::string& f) const { return (path / f).string(); }
};

std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string write_vocab(const TempDir& d, std::size_t n) {
    std::ofstream out(d / "src_vocab.txt");
    const char* special[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (std::size_t i = 0; i < n; ++i) out << (i < 5 ? special[i] : "tok" + std::to_string(i)) << "\n";
    return d / "src_vocab.txt";
}

BertConfig golden_config() { return BertConfig::load(golden + "/bert_tiny_config.json"); }
st::TensorMap golden_weights() { return st::read(golden + "/bert_tiny_weights.safetensors"); }

// A golden checkpoint directory, optionally transformed (names, dropped keys).
void write_checkpoint(const TempDir& d, const st::TensorMap& m, const BertConfig& c) {
    st::write(d / "model.safetensors", m);
    c.save(d / "config.json");
}

using rgrid::test::error_of;

}  // namespace

TEST(Pretrained, SaveThenLoadIsBitExact) {
    TempDir d("roundtrip");
    Rng rng(21);
    BertConfig c = golden_config();
    c.id2label = {"ham", "spam", "phish"};
    BertForSequenceClassification<float> model(c, rng);
    load_state_dict(model, golden_weights());
    const std::string vocab = write_vocab(d, c.vocab_size);
    const std::string out = d / "ckpt";
    save_pretrained(model, out, vocab, /*do_lower_case=*/false);
    for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"})
        EXPECT_TRUE(fs::exists(fs::path(out) / f)) << f;
    for (auto& e : fs::directory_iterator(out))  // no temp files left behind
        EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
    EXPECT_EQ(slurp(out + "/vocab.txt"), slurp(vocab));
    json tc = json::parse(slurp(out + "/tokenizer_config.json"));
    EXPECT_EQ(tc["do_lower_case"], false);
    EXPECT_EQ(tc["model_max_length"], 512);
    EXPECT_EQ(tc["tokenizer_class"], "BertTokenizer");
    EXPECT_FALSE(pretrained_do_lower_case(out));
    json cj = json::parse(slurp(out + "/config.json"));
    EXPECT_EQ(cj["label2id"]["phish"], 2);
    EXPECT_EQ(cj["architectures"][0], "BertForSequenceClassification");
    // every tensor is F32 and named as torch's state_dict
    auto stored = st::read(out + "/model.safetensors");
    EXPECT_EQ(stored.size(), model.named_parameters().size());
    for (auto& [k, t] : stored) EXPECT_EQ(t.dtype, st::Dtype::F32) << k;

    LoadReport rep;
    auto loaded = from_pretrained<float>(out, {}, &rep);
    EXPECT_TRUE(rep.missing.empty() && rep.unexpected.empty() && rep.renamed.empty() && rep.reinitialized.empty());
    EXPECT_EQ(loaded->config(), model.config());
    EXPECT_FALSE(loaded->is_training());
    auto a = model.named_parameters(), b = loaded->named_parameters();
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].first, b[i].first);
        EXPECT_EQ(a[i].second->value(), b[i].second->value()) << a[i].first;  // exact
    }
    // saving again over an existing checkpoint replaces it
    save_pretrained(*loaded, out, vocab, true);
    EXPECT_TRUE(pretrained_do_lower_case(out));
}

TEST(Pretrained, LegacyNamesNoPrefixAndExtraHeadsLoad) {
    auto ref = golden_weights();
    st::TensorMap legacy;
    for (auto& [k, t] : ref) {
        std::string n = k;
        if (n.ends_with("LayerNorm.weight")) n = n.substr(0, n.size() - 6) + "gamma";
        else if (n.ends_with("LayerNorm.bias")) n = n.substr(0, n.size() - 4) + "beta";
        if (n.rfind("bert.", 0) == 0) n = n.substr(5);  // a BertModel-style checkpoint without "bert."
        legacy[n] = t;
    }
    legacy["cls.predictions.bias"] = st::StoredTensor::from(zeros<float>({99}));
    legacy["cls.predictions.transform.dense.weight"] = st::StoredTensor::from(zeros<float>({32, 32}));
    legacy["embeddings.position_ids"] = st::StoredTensor::from(index_tensor({0, 1, 2}, {1, 3}));
    Rng rng(3);
    BertForSequenceClassification<double> model(golden_config(), rng);
    auto rep = load_state_dict(model, legacy, Strict::Yes);
    EXPECT_TRUE(rep.missing.empty());
    EXPECT_TRUE(rep.unexpected.empty());
    EXPECT_EQ(rep.skipped.size(), 3u);
    EXPECT_EQ(rep.renamed.size(), ref.size() - 2);  // all but classifier.*
    bool saw_gamma = false;
    for (auto& [from, to] : rep.renamed)
        if (from == "encoder.layer.1.output.LayerNorm.gamma") {
            saw_gamma = true;
            EXPECT_EQ(to, "bert.encoder.layer.1.output.LayerNorm.weight");
        }
    EXPECT_TRUE(saw_gamma);
    for (auto& [name, p] : model.named_parameters()) EXPECT_EQ(p->value(), ref.at(name).as<double>()) << name;
}

TEST(Pretrained, StrictModeAndShapeErrorsNameTheKeys) {
    Rng rng(3);
    BertForSequenceClassification<float> model(golden_config(), rng);
    auto m = golden_weights();
    m.erase("bert.pooler.dense.bias");
    m["bert.encoder.layer.0.extra.weight"] = st::StoredTensor::from(zeros<float>({2}));
    std::string e = error_of([&] { load_state_dict(model, m, Strict::Yes); });
    EXPECT_NE(e.find("missing"), std::string::npos) << e;
    EXPECT_NE(e.find("bert.pooler.dense.bias"), std::string::npos) << e;
    m["bert.pooler.dense.bias"] = golden_weights().at("bert.pooler.dense.bias");
    e = error_of([&] { load_state_dict(model, m, Strict::Yes); });
    EXPECT_NE(e.find("unexpected"), std::string::npos) << e;
    EXPECT_NE(e.find("bert.encoder.layer.0.extra.weight"), std::string::npos) << e;
    auto rep = load_state_dict(model, m, Strict::No);
    EXPECT_EQ(rep.unexpected, std::vector<std::string>{"bert.encoder.layer.0.extra.weight"});

    auto bad = golden_weights();
    bad["bert.encoder.layer.1.intermediate.dense.weight"] = st::StoredTensor::from(zeros<float>({32, 64}));
    e = error_of([&] { load_state_dict(model, bad, Strict::No); });
    EXPECT_NE(e.find("bert.encoder.layer.1.intermediate.dense.weight"), std::string::npos) << e;
    EXPECT_NE(e.find("(32, 64)"), std::string::npos) << e;
    EXPECT_NE(e.find("(64, 32)"), std::string::npos) << e;
}

TEST(Pretrained, MissingClassifierGetsAFreshHeadForTheRequestedLabels) {
    TempDir d("encoder_only");
    auto m = golden_weights();
    m.erase("classifier.weight");
    m.erase("classifier.bias");
    m["cls.predictions.decoder.weight"] = st::StoredTensor::from(zeros<float>({99, 32}));
    write_checkpoint(d, m, golden_config());
    LoadReport rep;
    auto model = from_pretrained<float>(d.path.string(), {.id2label = std::vector<std::string>{"a", "b", "c", "d", "e"}, .seed = 5}, &rep);
    EXPECT_EQ(model->num_labels(), 5u);
    EXPECT_EQ(model->config().id2label[4], "e");
    EXPECT_EQ(rep.reinitialized, (std::vector<std::string>{"classifier.weight", "classifier.bias"}));
    EXPECT_EQ(shape_of(model->classifier.weight.value()), (Shape{5, 32}));
    for (float x : model->classifier.bias.value()) EXPECT_EQ(x, 0.f);
    double s2 = 0;
    for (float x : model->classifier.weight.value()) s2 += double(x) * x;
    EXPECT_NEAR(std::sqrt(s2 / 160), 0.02, 0.006);
    EXPECT_EQ(model->bert.pooler->dense.weight.value(), m.at("bert.pooler.dense.weight").as<float>());
}

TEST(Pretrained, LabelOverrideReplacesAStoredHeadOfAnotherSize) {
    TempDir d("override");
    write_checkpoint(d, golden_weights(), golden_config());  // 3 labels
    LoadReport rep;
    auto two = from_pretrained<double>(d.path.string(), {.num_labels = 2}, &rep);
    EXPECT_EQ(two->num_labels(), 2u);
    EXPECT_EQ(two->config().id2label, (std::vector<std::string>{"LABEL_0", "LABEL_1"}));
    EXPECT_EQ(rep.reinitialized.size(), 2u);
    auto same = from_pretrained<double>(d.path.string(), {.num_labels = 3}, &rep);  // same size: kept
    EXPECT_TRUE(rep.reinitialized.empty());
    EXPECT_EQ(same->classifier.weight.value(), golden_weights().at("classifier.weight").as<double>());
    EXPECT_EQ(same->config().id2label[2], "pos");
}

TEST(Pretrained, FromPretrainedErrors) {
    TempDir d("errors");
    EXPECT_NE(error_of([&] { from_pretrained<float>(d / "nope"); }).find("not a directory"), std::string::npos);
    golden_config().save(d / "config.json");
    EXPECT_NE(error_of([&] { from_pretrained<float>(d.path.string()); }).find("model.safetensors"), std::string::npos);
    std::ofstream(d / "model.safetensors") << "garbage!";
    std::string e = error_of([&] { from_pretrained<float>(d.path.string()); });
    EXPECT_NE(e.find(d / "model.safetensors"), std::string::npos) << e;
    auto m = golden_weights();
    m.erase("bert.embeddings.LayerNorm.bias");
    write_checkpoint(d, m, golden_config());
    e = error_of([&] { from_pretrained<float>(d.path.string()); });
    EXPECT_NE(e.find("bert.embeddings.LayerNorm.bias"), std::string::npos) << e;
    std::ofstream(d / "config.json") << "{\"hidden_size\": 33, \"num_attention_heads\": 4}";
    e = error_of([&] { from_pretrained<float>(d.path.string()); });
    EXPECT_NE(e.find("config.json"), std::string::npos) << e;
    EXPECT_NE(error_of([&] { save_pretrained(BertForSequenceClassification<float>(golden_config(), *std::make_unique<Rng>(1)), d / "x", d / "no-vocab.txt"); })
                  .find("no-vocab.txt"),
              std::string::npos);
}

TEST(Pretrained, AtomicWriteReplacesWholeFiles) {
    TempDir d("atomic");
    write_file_atomic(d / "f.json", std::string("{\"v\": 1}"));
    write_file_atomic(d / "f.json", std::string("{\"v\": 2}"));
    EXPECT_EQ(slurp(d / "f.json"), "{\"v\": 2}");
    std::size_t n = 0;
    for (auto& e : fs::directory_iterator(d.path)) { (void)e; ++n; }
    EXPECT_EQ(n, 1u);
    EXPECT_THROW(write_file_atomic(d / "missing-dir/f.json", std::string("x")), Error);
}

// A writer killed mid-save leaves `.<name>.tmp.<pid>`; the next save of that file removes it
// once its process is gone, and leaves the temp files of live writers and of other files alone.
TEST(Pretrained, AtomicWriteRemovesTempFilesOfDeadWriters) {
    TempDir d("atomic-stale");
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) ::_exit(0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);  // reaped: its pid names no process now
    const std::string dead = d / (".f.json.tmp." + std::to_string(child));
    const std::string live = d / ".f.json.tmp.1";  // pid 1 always exists
    const std::string other = d / (".g.json.tmp." + std::to_string(child));
    for (const auto& p : {dead, live, other}) std::ofstream(p) << "partial";
    write_file_atomic(d / "f.json", std::string("{}"));
    EXPECT_FALSE(fs::exists(dead));
    EXPECT_TRUE(fs::exists(live));
    EXPECT_TRUE(fs::exists(other));
    EXPECT_EQ(slurp(d / "f.json"), "{}");
}

TEST(Pretrained, ClassifierCheckpointLoadsIntoBertModel) {
    Rng rng(8);
    BertModel<double> encoder(golden_config(), rng);
    auto rep = load_state_dict(encoder, golden_weights(), Strict::No);
    EXPECT_TRUE(rep.missing.empty());
    EXPECT_EQ(rep.unexpected, (std::vector<std::string>{"classifier.bias", "classifier.weight"}));
    EXPECT_EQ(encoder.pooler->dense.bias.value(), golden_weights().at("bert.pooler.dense.bias").as<double>());
}

// ---- a pretrained encoder into a classifier, as transformers does (issue 13 item 2) ----------

namespace {
// The golden weights as a BertModel checkpoint: no "bert." prefix, no classifier, optionally no pooler.
st::TensorMap bert_model_weights(bool with_pooler) {
    st::TensorMap m;
    for (auto& [k, t] : golden_weights()) {
        if (k.rfind("classifier.", 0) == 0) continue;
        if (!with_pooler && k.rfind("bert.pooler.", 0) == 0) continue;
        m[k.substr(5)] = t;
    }
    return m;
}
BertConfig bert_model_config() {
    BertConfig c = golden_config();
    c.set_num_labels(2);  // what a BertModel config.json without id2label reads as
    return c;
}
double rms(const Tensor<float>& t) {
    double s2 = 0;
    for (float x : t) s2 += double(x) * x;
    return std::sqrt(s2 / double(t.size()));
}
}  // namespace

TEST(Pretrained, BertModelWithoutPoolerLoadsIntoAClassifierAndSaysWhatIsNew) {
    TempDir d("bertmodel");
    auto m = bert_model_weights(/*with_pooler=*/false);
    m["qa_outputs.weight"] = st::StoredTensor::from(zeros<float>({2, 32}));  // another task's head
    write_checkpoint(d, m, bert_model_config());
    std::ostringstream log;
    LoadReport rep;
    auto model = from_pretrained<float>(d.path.string(), {.id2label = std::vector<std::string>{"ham", "spam", "x"},
                                                          .seed = 7, .log = &log}, &rep);
    EXPECT_EQ(rep.reinitialized, (std::vector<std::string>{"bert.pooler.dense.weight", "bert.pooler.dense.bias",
                                                           "classifier.weight", "classifier.bias"}));
    EXPECT_EQ(rep.unexpected, std::vector<std::string>{"qa_outputs.weight"});
    // HF's _init_weights: Linear weight ~ Normal(0, initializer_range = 0.02), bias 0
    EXPECT_NEAR(rms(model->bert.pooler->dense.weight.value()), 0.02, 0.003);  // 1024 draws
    EXPECT_NEAR(rms(model->classifier.weight.value()), 0.02, 0.006);         // 96 draws
    for (float x : model->bert.pooler->dense.bias.value()) EXPECT_EQ(x, 0.f);
    for (float x : model->classifier.bias.value()) EXPECT_EQ(x, 0.f);
    EXPECT_EQ(model->bert.encoder.layer[1].output.dense.weight.value(),
              golden_weights().at("bert.encoder.layer.1.output.dense.weight").as<float>());
    // reported once, in transformers' words, naming every new tensor and the unused key
    const std::string text = log.str();
    EXPECT_EQ(text, load_warnings(rep, d.path.string()));
    const std::string head = "Some weights of BertForSequenceClassification were not initialized";
    EXPECT_NE(text.find(head), std::string::npos) << text;
    EXPECT_EQ(text.find(head), text.rfind(head)) << text;
    for (const char* k : {"bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias",
                          "qa_outputs.weight"})
        EXPECT_NE(text.find(k), std::string::npos) << k << "\n" << text;
    EXPECT_NE(text.find("were not used when initializing"), std::string::npos) << text;
    // a complete checkpoint says nothing
    TempDir full("bertmodel-full");
    write_checkpoint(full, golden_weights(), golden_config());
    std::ostringstream quiet;
    from_pretrained<float>(full.path.string(), {.log = &quiet});
    EXPECT_EQ(quiet.str(), "");
}

TEST(Pretrained, CheckpointErrorsNameTheFieldTensorAndBothSizes) {
    TempDir d("clear-errors");
    // model_type of another architecture
    write_checkpoint(d, golden_weights(), golden_config());
    {
        json cj = json::parse(slurp(d / "config.json"));
        cj["model_type"] = "roberta";
        std::ofstream(d / "config.json") << cj.dump(2);
    }
    std::string e = error_of([&] { from_pretrained<float>(d.path.string()); });
    EXPECT_NE(e.find("model_type"), std::string::npos) << e;
    EXPECT_NE(e.find("roberta"), std::string::npos) << e;
    EXPECT_NE(e.find("config.json"), std::string::npos) << e;
    // a tensor of the wrong shape, through from_pretrained
    auto bad = golden_weights();
    bad["bert.embeddings.word_embeddings.weight"] = st::StoredTensor::from(zeros<float>({98, 32}));
    write_checkpoint(d, bad, golden_config());
    e = error_of([&] { from_pretrained<float>(d.path.string()); });
    EXPECT_NE(e.find("bert.embeddings.word_embeddings.weight"), std::string::npos) << e;
    EXPECT_NE(e.find("(98, 32)"), std::string::npos) << e;
    EXPECT_NE(e.find("(99, 32)"), std::string::npos) << e;
    // a vocab.txt that does not fit the embedding matrix
    write_checkpoint(d, golden_weights(), golden_config());
    std::filesystem::copy_file(write_vocab(d, 98), d / "vocab.txt", fs::copy_options::overwrite_existing);
    e = error_of([&] { tokenizer_from_pretrained(d.path.string()); });
    EXPECT_NE(e.find("vocab.txt has 98 tokens"), std::string::npos) << e;
    EXPECT_NE(e.find("vocab_size = 99"), std::string::npos) << e;
    std::filesystem::copy_file(write_vocab(d, 99), d / "vocab.txt", fs::copy_options::overwrite_existing);
    EXPECT_EQ(tokenizer_from_pretrained(d.path.string()).vocab().size(), 99u);
    fs::remove(d / "vocab.txt");
    EXPECT_NE(error_of([&] { tokenizer_from_pretrained(d.path.string()); }).find("vocab.txt not found"),
              std::string::npos);
}

TEST(Pretrained, NonFiniteWeightsAreRefusedNamingTheTensor) {
    TempDir d("nonfinite");
    for (float v : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
        auto m = golden_weights();
        Tensor<float> w = m.at("bert.encoder.layer.1.attention.self.key.weight").as<float>();
        w(3, 5) = v;
        m["bert.encoder.layer.1.attention.self.key.weight"] = st::StoredTensor::from(w);
        write_checkpoint(d, m, golden_config());
        const std::string e = error_of([&] { from_pretrained<float>(d.path.string()); });
        EXPECT_NE(e.find("bert.encoder.layer.1.attention.self.key.weight"), std::string::npos) << e;
        EXPECT_NE(e.find("NaN/Inf"), std::string::npos) << e;
        EXPECT_NE(e.find("element 101 of 1024"), std::string::npos) << e;  // row 3, column 5 of (32, 32)
        // nothing is copied into a model when one tensor is bad
        Rng rng(2);
        BertForSequenceClassification<double> model(golden_config(), rng);
        const Tensor<double> before = model.bert.embeddings.word_embeddings.weight.value();
        EXPECT_THROW(load_state_dict(model, m, Strict::Yes), Error);
        EXPECT_EQ(model.bert.embeddings.word_embeddings.weight.value(), before);
    }
}

TEST(Pretrained, SaveReusesTheTokenizersVocabularyInMemory) {
    TempDir d("save-tokenizer");
    const std::string src = write_vocab(d, 99);
    const BertTokenizer tok(Vocab::from_file(src), /*do_lower_case=*/false);
    fs::remove(src);  // nothing is read from disk
    Rng rng(4);
    BertForSequenceClassification<float> model(golden_config(), rng);
    save_pretrained(model, d / "ckpt", tok);
    write_vocab(d, 99);
    EXPECT_EQ(slurp(d / "ckpt/vocab.txt"), slurp(src));
    EXPECT_FALSE(pretrained_do_lower_case(d / "ckpt"));
    const BertTokenizer again = tokenizer_from_pretrained(d / "ckpt");
    EXPECT_EQ(again.vocab().tokens(), tok.vocab().tokens());
    EXPECT_FALSE(again.do_lower_case());
}

// The real pretrained package (scripts/get-model.sh): all-MiniLM-L6-v2, a BertModel with a pooler.
TEST(Pretrained, MiniLmBertModelLoadsIntoAClassifier) {
    const std::string dir = std::string(RGRID_SOURCE_DIR) + "/models/minilm-l6";
    if (!fs::exists(dir + "/model.safetensors")) GTEST_SKIP() << dir << " is absent (run scripts/get-model.sh)";
    std::ostringstream log;
    LoadReport rep;
    auto model = from_pretrained<float>(dir, {.id2label = std::vector<std::string>{"ham", "spam"}, .log = &log}, &rep);
    EXPECT_EQ(rep.reinitialized, (std::vector<std::string>{"classifier.weight", "classifier.bias"}));
    EXPECT_TRUE(rep.unexpected.empty()) << detail::join(rep.unexpected);
    EXPECT_EQ(model->config().num_hidden_layers, 6u);
    EXPECT_EQ(model->config().hidden_size, 384u);
    EXPECT_NE(log.str().find("[classifier.weight, classifier.bias]"), std::string::npos) << log.str();
    EXPECT_EQ(tokenizer_from_pretrained(dir).vocab().size(), 30522u);
}

// rgrid-predict and rgrid-serve load through Predictor::from_pretrained: a checkpoint without a
// trained head is refused, naming what is missing; a vocab.txt of another size too.
TEST(Pretrained, PredictorRefusesACheckpointWithoutItsClassifier) {
    TempDir d("predict-encoder");
    write_checkpoint(d, bert_model_weights(/*with_pooler=*/true), bert_model_config());
    std::filesystem::copy_file(write_vocab(d, 99), d / "vocab.txt");
    std::string e = error_of([&] { Predictor::from_pretrained(d.path.string()); });
    EXPECT_NE(e.find("no trained classification head"), std::string::npos) << e;
    EXPECT_NE(e.find("classifier.weight, classifier.bias"), std::string::npos) << e;
    EXPECT_EQ(e.find("pooler"), std::string::npos) << e;  // the pooler is there
    write_checkpoint(d, bert_model_weights(/*with_pooler=*/false), bert_model_config());
    e = error_of([&] { Predictor::from_pretrained(d.path.string()); });
    EXPECT_NE(e.find("bert.pooler.dense.weight"), std::string::npos) << e;
    // the complete checkpoint predicts; with a vocabulary of another size it is refused
    write_checkpoint(d, golden_weights(), golden_config());
    save_predictor_options(d.path.string(), {.window = SlidingWindow{.max_length = 16, .stride = 4}});
    EXPECT_EQ(Predictor::from_pretrained(d.path.string()).predict("tok7 tok8").probabilities.size(), 3u);
    std::filesystem::copy_file(write_vocab(d, 100), d / "vocab.txt", fs::copy_options::overwrite_existing);
    e = error_of([&] { Predictor::from_pretrained(d.path.string()); });
    EXPECT_NE(e.find("100 tokens"), std::string::npos) << e;
    EXPECT_NE(e.find("vocab_size = 99"), std::string::npos) << e;
}

// transformers 5 saves tokenizer.json and no vocab.txt: its WordPiece vocabulary is read instead.
TEST(Pretrained, TokenizerJsonStandsInForVocabTxt) {
    const std::string minilm = std::string(RGRID_SOURCE_DIR) + "/models/minilm-l6";
    if (!fs::exists(minilm + "/tokenizer.json")) GTEST_SKIP() << minilm << " is absent (run scripts/get-model.sh)";
    TempDir d("tokenizer-json");
    fs::copy_file(minilm + "/tokenizer.json", d / "tokenizer.json");
    const BertTokenizer from_json = tokenizer_from_pretrained(d.path.string());
    const BertTokenizer from_txt = tokenizer_from_pretrained(minilm);
    EXPECT_EQ(from_json.vocab().tokens(), from_txt.vocab().tokens());
    EXPECT_TRUE(from_json.do_lower_case());
    const std::string text = "Héllo, WORLD! unaffable 東京 don't";
    EXPECT_EQ(from_json.encode_ids(text), from_txt.encode_ids(text));
    // another pipeline is refused naming the field
    json j = json::parse(slurp(d / "tokenizer.json"));
    j["model"]["type"] = "BPE";
    std::ofstream(d / "tokenizer.json") << j.dump();
    std::string e = error_of([&] { tokenizer_from_pretrained(d.path.string()); });
    EXPECT_NE(e.find("model.type is \"BPE\""), std::string::npos) << e;
    j["model"]["type"] = "WordPiece";
    j["normalizer"]["strip_accents"] = true;
    j["normalizer"]["lowercase"] = false;
    std::ofstream(d / "tokenizer.json") << j.dump();
    e = error_of([&] { tokenizer_from_pretrained(d.path.string()); });
    EXPECT_NE(e.find("normalizer.strip_accents"), std::string::npos) << e;
}

// ---- masked-LM checkpoints (issue 15 item 1) -------------------------------------------------

namespace {
BertConfig mlm_golden_config() { return BertConfig::load(golden + "/mlm_tiny_config.json"); }
st::TensorMap mlm_golden_weights() { return st::read(golden + "/mlm_tiny_weights.safetensors"); }
// The golden MLM weights (transformers' BertForMaskedLM, tests/golden/make_mlm_parity.py), loaded strictly.
std::unique_ptr<BertForMaskedLM<float>> golden_masked_lm() {
    Rng rng(2);
    auto m = std::make_unique<BertForMaskedLM<float>>(mlm_golden_config(), rng);
    const LoadReport rep = load_state_dict(*m, mlm_golden_weights(), Strict::Yes);
    EXPECT_TRUE(rep.skipped.empty()) << detail::join(rep.skipped);
    return m;
}
void expect_same_parameters(const Module<float>& a, const Module<float>& b) {
    auto pa = a.named_parameters(), pb = b.named_parameters();
    ASSERT_EQ(pa.size(), pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) {
        EXPECT_EQ(pa[i].first, pb[i].first);
        EXPECT_EQ(pa[i].second->value(), pb[i].second->value()) << pa[i].first;
    }
}
}  // namespace

// save_pretrained(BertForMaskedLM) -> masked_lm_from_pretrained: bit-exact, architectures
// BertForMaskedLM, the tied decoder stored once under HF's key list, nothing to report.
TEST(PretrainedMlm, SaveThenLoadIsBitExact) {
    TempDir d("mlm-roundtrip");
    auto model = golden_masked_lm();
    save_pretrained(*model, d / "ckpt", write_vocab(d, 99));
    const json cj = json::parse(slurp(d / "ckpt/config.json"));
    EXPECT_EQ(cj["architectures"], json::array({"BertForMaskedLM"}));
    EXPECT_EQ(cj["model_type"], "bert");
    std::vector<std::string> keys;
    for (auto& [k, t] : st::read(d / "ckpt/model.safetensors")) keys.push_back(k);
    std::vector<std::string> want;
    {
        std::ifstream in(golden + "/mlm_tiny_keys.txt");
        for (std::string l; std::getline(in, l);)
            if (!l.empty()) want.push_back(l);
    }
    std::sort(want.begin(), want.end());
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(keys, want);  // what transformers' save_pretrained writes: no cls.predictions.decoder.*
    std::ostringstream log;
    LoadReport rep;
    auto back = masked_lm_from_pretrained<float>(d / "ckpt", {.log = &log}, &rep);
    expect_same_parameters(*model, *back);
    EXPECT_TRUE(rep.missing.empty() && rep.unexpected.empty() && rep.reinitialized.empty() && rep.skipped.empty());
    EXPECT_EQ(log.str(), "");
    EXPECT_FALSE(back->is_training());
    EXPECT_EQ(&back->cls.predictions.decoder_weight(), &back->bert.embeddings.word_embeddings.weight);  // still tied
    // the classifier's save names its own architecture
    Rng rng(1);
    BertForSequenceClassification<float> clf(golden_config(), rng);
    save_pretrained(clf, d / "clf", write_vocab(d, 99));
    EXPECT_EQ(json::parse(slurp(d / "clf/config.json"))["architectures"], json::array({"BertForSequenceClassification"}));
}

// The decoder under its tied alias names (torch .bin conversions hold both, some only the alias).
TEST(PretrainedMlm, TiedDecoderAliasesLoad) {
    auto ref = golden_masked_lm();
    const auto w = mlm_golden_weights();
    // both names: the alias is redundant and skipped
    st::TensorMap both = w;
    both["cls.predictions.decoder.weight"] = w.at("bert.embeddings.word_embeddings.weight");
    both["cls.predictions.decoder.bias"] = w.at("cls.predictions.bias");
    Rng rng(9);
    BertForMaskedLM<float> a(mlm_golden_config(), rng);
    LoadReport rep = load_state_dict(a, both, Strict::Yes);
    EXPECT_EQ(rep.skipped, (std::vector<std::string>{"cls.predictions.decoder.bias", "cls.predictions.decoder.weight"}));
    expect_same_parameters(*ref, a);
    // only the aliases: they fill the word embeddings and the head's bias
    st::TensorMap only = w;
    only.erase("bert.embeddings.word_embeddings.weight");
    only.erase("cls.predictions.bias");
    only["cls.predictions.decoder.weight"] = w.at("bert.embeddings.word_embeddings.weight");
    only["cls.predictions.decoder.bias"] = w.at("cls.predictions.bias");
    BertForMaskedLM<float> b(mlm_golden_config(), rng);
    rep = load_state_dict(b, only, Strict::Yes);
    EXPECT_TRUE(rep.skipped.empty());
    EXPECT_EQ(rep.renamed.size(), 2u);
    expect_same_parameters(*ref, b);
    // both the alias and its target with different values is still the target's (HF ties to the embedding)
    st::TensorMap clash = both;
    clash["cls.predictions.decoder.weight"] = st::StoredTensor::from(zeros<float>({99, 32}));
    BertForMaskedLM<float> c(mlm_golden_config(), rng);
    load_state_dict(c, clash, Strict::Yes);
    EXPECT_EQ(c.bert.embeddings.word_embeddings.weight.value(), ref->bert.embeddings.word_embeddings.weight.value());
}

// An MLM checkpoint fine-tunes: the classifier drops cls.* (reported as not used, in
// transformers' words) and starts a fresh pooler and classifier (HF init, reported).
TEST(PretrainedMlm, MlmCheckpointLoadsIntoAClassifierWithANote) {
    TempDir d("mlm-into-clf");
    auto mlm = golden_masked_lm();
    save_pretrained(*mlm, d / "ckpt", write_vocab(d, 99));
    std::ostringstream log;
    LoadReport rep;
    auto clf = from_pretrained<float>(d / "ckpt", {.id2label = std::vector<std::string>{"ham", "spam"}, .seed = 4,
                                                   .log = &log}, &rep);
    EXPECT_EQ(rep.reinitialized, (std::vector<std::string>{"bert.pooler.dense.weight", "bert.pooler.dense.bias",
                                                           "classifier.weight", "classifier.bias"}));
    EXPECT_TRUE(rep.unexpected.empty());
    EXPECT_EQ(unused_keys(rep).size(), 5u) << detail::join(unused_keys(rep));  // cls.predictions.{bias, transform.*}
    EXPECT_EQ(clf->bert.encoder.layer[0].attention.self.query.weight.value(),
              mlm->bert.encoder.layer[0].attention.self.query.weight.value());
    EXPECT_EQ(clf->bert.embeddings.word_embeddings.weight.value(), mlm->bert.embeddings.word_embeddings.weight.value());
    EXPECT_NEAR(rms(clf->classifier.weight.value()), 0.02, 0.008);
    for (float x : clf->bert.pooler->dense.bias.value()) EXPECT_EQ(x, 0.f);
    const std::string text = log.str();
    for (const char* s : {"Some weights of BertForSequenceClassification were not initialized", "classifier.weight",
                          "bert.pooler.dense.weight", "were not used when initializing BertForSequenceClassification",
                          "cls.predictions.bias", "cls.predictions.transform.dense.weight", "This IS expected"})
        EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;
    EXPECT_EQ(tokenizer_from_pretrained(d / "ckpt").vocab().size(), 99u);
}

// A BertModel checkpoint (no MLM head, with a pooler) into BertForMaskedLM: a fresh head with
// HF's init, reported; the pooler is not used.
TEST(PretrainedMlm, BertModelCheckpointGetsAFreshMlmHead) {
    TempDir d("bertmodel-into-mlm");
    write_checkpoint(d, bert_model_weights(/*with_pooler=*/true), bert_model_config());
    std::ostringstream log;
    LoadReport rep;
    auto mlm = masked_lm_from_pretrained<float>(d.path.string(), {.seed = 5, .log = &log}, &rep);
    EXPECT_EQ(rep.reinitialized,
              (std::vector<std::string>{"cls.predictions.bias", "cls.predictions.transform.dense.weight",
                                        "cls.predictions.transform.dense.bias",
                                        "cls.predictions.transform.LayerNorm.weight",
                                        "cls.predictions.transform.LayerNorm.bias"}));
    EXPECT_EQ(rep.unexpected, (std::vector<std::string>{"pooler.dense.bias", "pooler.dense.weight"}));
    const auto& t = mlm->cls.predictions.transform;
    EXPECT_NEAR(rms(t.dense.weight.value()), 0.02, 0.003);  // 1024 draws of Normal(0, 0.02)
    for (float x : t.dense.bias.value()) EXPECT_EQ(x, 0.f);
    for (float x : t.LayerNorm.weight.value()) EXPECT_EQ(x, 1.f);
    for (float x : mlm->cls.predictions.bias.value()) EXPECT_EQ(x, 0.f);
    EXPECT_EQ(mlm->bert.embeddings.word_embeddings.weight.value(),
              golden_weights().at("bert.embeddings.word_embeddings.weight").as<float>());
    const std::string text = log.str();
    for (const char* s : {"Some weights of BertForMaskedLM were not initialized", "cls.predictions.transform.dense.weight",
                          "were not used when initializing BertForMaskedLM", "pooler.dense.weight"})
        EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;
    // the same seed gives the same head
    auto again = masked_lm_from_pretrained<float>(d.path.string(), {.seed = 5});
    EXPECT_EQ(again->cls.predictions.transform.dense.weight.value(), t.dense.weight.value());
    // a checkpoint missing an encoder tensor is still an error naming it
    auto m = bert_model_weights(true);
    m.erase("encoder.layer.1.output.dense.weight");
    write_checkpoint(d, m, bert_model_config());
    const std::string e = error_of([&] { masked_lm_from_pretrained<float>(d.path.string()); });
    EXPECT_NE(e.find("bert.encoder.layer.1.output.dense.weight"), std::string::npos) << e;
}

TEST(PretrainedMlm, MiniLmGetsAFreshMlmHead) {
    const std::string dir = std::string(RGRID_SOURCE_DIR) + "/models/minilm-l6";
    if (!fs::exists(dir + "/model.safetensors")) GTEST_SKIP() << dir << " is absent (run scripts/get-model.sh)";
    std::ostringstream log;
    LoadReport rep;
    auto mlm = masked_lm_from_pretrained<float>(dir, {.log = &log}, &rep);
    EXPECT_EQ(rep.reinitialized.size(), 5u) << detail::join(rep.reinitialized);
    for (const auto& k : rep.reinitialized) EXPECT_EQ(k.rfind("cls.predictions.", 0), 0u) << k;
    for (const auto& k : rep.unexpected) EXPECT_NE(k.find("pooler."), std::string::npos) << k;
    EXPECT_EQ(mlm->vocab_size(), 30522u);
    EXPECT_NE(log.str().find("Some weights of BertForMaskedLM were not initialized"), std::string::npos) << log.str();
}
