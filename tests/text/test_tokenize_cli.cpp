// Runs the built rgrid-tokenize program on a few JSON lines (incl. a bad one -> exit 2).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace {

struct CliResult {
    int status;
    std::string out, err;
};

CliResult run_cli(const std::string& args, const std::string& input) {
#ifndef RGRID_HAVE_TOKENIZE_CLI
    (void)args, (void)input;
    return {-1, "", ""};
#endif
    // Per-process names: CTest runs these tests as parallel processes.
    const std::string dir = ::testing::TempDir() + "rgrid_tokenize_" + std::to_string(::getpid());
    const std::string in = dir + "_in.jsonl", out = dir + "_out.jsonl", err = dir + "_err.txt";
    std::ofstream(in, std::ios::binary) << input;
    const std::string cmd = std::string(RGRID_BINARY_DIR) + "/bin/rgrid-tokenize " + args + " < " + in + " > " + out +
                            " 2> " + err;
    const int rc = std::system(cmd.c_str());
    auto slurp = [](const std::string& p) {
        std::ifstream f(p, std::ios::binary);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    };
    CliResult r{WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(out), slurp(err)};
    for (const auto& f : {in, out, err}) std::remove(f.c_str());
    return r;
}

#ifdef RGRID_HAVE_TOKENIZE_CLI
constexpr bool kHaveCli = true;
#else
constexpr bool kHaveCli = false;
#endif

const std::string kVocab = "--vocab " + std::string(RGRID_SOURCE_DIR) + "/examples/assets/bert-base-uncased-vocab.txt";

TEST(TokenizeCli, IdsInOrder) {
    if (!kHaveCli) GTEST_SKIP() << "rgrid-tokenize is not built (RGRID_BUILD_EXAMPLES=OFF)";
    const CliResult r = run_cli(kVocab, "{\"text\": \"Hello, world!\"}\n\n{\"text\": \"a[MASK]b\", \"label\": \"x\"}\n{\"text\":\"\"}\n");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "{\"ids\":[101,7592,1010,2088,999,102]}\n{\"ids\":[101,1037,103,1038,102]}\n{\"ids\":[101,102]}\n");
}

TEST(TokenizeCli, WindowsAndCased) {
    if (!kHaveCli) GTEST_SKIP() << "rgrid-tokenize is not built (RGRID_BUILD_EXAMPLES=OFF)";
    const CliResult r = run_cli(kVocab + " --max-length 4 --stride 1", "{\"text\": \"a b c d\"}\n");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "{\"windows\":[[101,1037,1038,102],[101,1038,1039,102],[101,1039,1040,102]]}\n");
    const CliResult c = run_cli(kVocab + " --cased", "{\"text\": \"hello Hello\"}\n");
    EXPECT_EQ(c.status, 0) << c.err;
    EXPECT_EQ(c.out, "{\"ids\":[101,7592,100,102]}\n");
}

TEST(TokenizeCli, BadJsonLineExitsTwoNamingTheLine) {
    if (!kHaveCli) GTEST_SKIP() << "rgrid-tokenize is not built (RGRID_BUILD_EXAMPLES=OFF)";
    const CliResult r = run_cli(kVocab, "{\"text\": \"ok\"}\n{\"text\": oops}\n{\"text\": \"never\"}\n");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "{\"ids\":[101,7929,102]}\n");
    const CliResult m = run_cli(kVocab, "{\"txt\": \"x\"}\n");
    EXPECT_EQ(m.status, 2);
    EXPECT_NE(m.err.find("line 1"), std::string::npos) << m.err;
    EXPECT_EQ(run_cli("--max-length 600 " + kVocab, "").status, 1);
    EXPECT_EQ(run_cli("", "").status, 1);
}

}  // namespace
