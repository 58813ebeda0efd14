// Crash-safe checkpoints (issue 8, item 2): a child process saves a small BERT (4 MB) with
// save_pretrained() in a loop and is SIGKILLed at random moments, 16 times; after every kill
// the directory must load with from_pretrained() and hold one whole version of the weights,
// never older than the last one seen. Two label sets alternate between versions, so a
// directory whose config.json and model.safetensors come from different saves is detected
// (each file is atomic; the directory as a whole is not) and reported.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "rgrid/io/pretrained.hpp"

namespace {
namespace fs = std::filesystem;
using Model = rgrid::BertForSequenceClassification<float>;
const std::string kVocab = RGRID_SOURCE_DIR "/examples/assets/bert-base-uncased-vocab.txt";

std::unique_ptr<Model> make_model(const std::string& tag) {
    rgrid::BertConfig cfg = rgrid::BertConfig::preset("tiny");
    cfg.vocab_size = 4000;  // ~1 M parameters: a save takes long enough to be hit, and the test stays fast
    cfg.id2label = {tag + "_a", tag + "_b"};
    rgrid::Rng rng(1);
    return std::make_unique<Model>(cfg, rng);
}
// Version k of the checkpoint: every weight is k; odd versions carry the labels "odd_*".
void save_version(Model& even, Model& odd, long k, const std::string& dir) {
    Model& m = (k % 2) ? odd : even;
    for (auto& [name, p] : m.named_parameters()) std::fill(p->data(), p->data() + p->numel(), static_cast<float>(k));
    rgrid::save_pretrained(m, dir, kVocab);
}
struct Loaded {
    long weights_version;
    bool config_odd;
};
// Loads `dir` and checks that all weights belong to one version.
Loaded load_checked(const std::string& dir) {
    auto m = rgrid::from_pretrained<float>(dir);
    const auto params = m->named_parameters();
    const float v = params.front().second->data()[0];
    for (const auto& [name, p] : params)
        for (std::size_t i = 0; i < p->numel(); ++i)
            if (p->data()[i] != v) throw rgrid::Error(name + " mixes two saved versions");
    return {static_cast<long>(v), m->config().id2label.at(0).rfind("odd", 0) == 0};
}
std::size_t temp_files(const std::string& dir) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().find(".tmp.") != std::string::npos) ++n;
    return n;
}
}  // namespace

TEST(CrashSafeSave, SigkillAtRandomPointsAlwaysLeavesALoadableCheckpoint) {
    const std::string dir = (fs::temp_directory_path() / ("rgrid-crash-save-" + std::to_string(::getpid()))).string();
    fs::remove_all(dir);
    auto even = make_model("even"), odd = make_model("odd");

    const auto t0 = std::chrono::steady_clock::now();
    save_version(*even, *odd, 0, dir);
    const double save_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(load_checked(dir).weights_version, 0);

    std::mt19937 gen(8);
    std::uniform_real_distribution<double> delay(0.0, 2.5 * save_s);
    long last = 0;
    int killed_mid_write = 0, torn = 0;
    const int kills = 16;
    for (int i = 0; i < kills; ++i) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {  // child: save newer versions until killed
            for (long k = last + 1;; ++k) save_version(*even, *odd, k, dir);
        }
        std::this_thread::sleep_for(std::chrono::duration<double>(delay(gen)));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status)) << "the saving child ended on its own (status " << status << ")";
        if (temp_files(dir) > 0) ++killed_mid_write;
        Loaded got{};
        ASSERT_NO_THROW(got = load_checked(dir)) << "after kill " << i + 1;
        EXPECT_GE(got.weights_version, last) << "an older checkpoint came back after kill " << i + 1;
        if (got.config_odd != (got.weights_version % 2 == 1)) ++torn;
        last = got.weights_version;
        for (const auto& e : fs::directory_iterator(dir))  // what a killed writer leaves behind
            if (e.path().filename().string().find(".tmp.") != std::string::npos) fs::remove(e.path());
    }
    std::printf("[crash-safe save] one save %.3f s; %d kills, %d mid-write (temp file left), last version %ld, "
                "%d with config.json and model.safetensors from different saves\n",
                save_s, kills, killed_mid_write, last, torn);
    EXPECT_GT(killed_mid_write, 0) << "no kill landed inside a write: the test did not exercise anything";
    fs::remove_all(dir);
}
