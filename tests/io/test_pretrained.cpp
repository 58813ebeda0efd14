// Checkpoint directories: save_pretrained -> from_pretrained bit-exact, HF legacy names,
// missing/replaced classifier heads, strict-mode and shape errors, atomic writes.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "rgrid/io/pretrained.hpp"

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

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

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
