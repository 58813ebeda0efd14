// Exact ids against Hugging Face tokenizers on every public golden and window set
// (../shared/golden/tokenizer/, see its README.md).
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rgrid/core/json.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/text/sliding_window.hpp"

namespace {

const std::string kGoldenDir = std::string(RGRID_SHARED_DIR) + "/golden/tokenizer/";

std::vector<rgrid::json> read_jsonl(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot open " << path;
    std::vector<rgrid::json> out;
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) out.push_back(rgrid::json::parse(line));
    return out;
}

const rgrid::BertTokenizer& uncased() {
    static const rgrid::BertTokenizer tok = rgrid::BertTokenizer::from_file(kGoldenDir + "vocab.txt");
    return tok;
}

TEST(TokenizerGoldens, AllPublicGoldensExactIds) {
    const auto goldens = read_jsonl(kGoldenDir + "golden_public.jsonl");
    ASSERT_EQ(goldens.size(), 458u);
    std::size_t failures = 0, with_nul = 0;
    for (const auto& g : goldens) {
        const std::string text = g.at("text").get<std::string>();
        with_nul += text.find('\0') != std::string::npos;
        const auto expected = g.at("ids").get<std::vector<rgrid::TokenId>>();
        const auto ids = uncased().encode_ids(text);
        if (ids != expected && ++failures <= 10)
            ADD_FAILURE() << g.at("src").get<std::string>() << ": ids differ for text " << rgrid::json(text).dump();
        // The full encoding gives the same ids.
        if (uncased().encode(text).ids != expected && ++failures <= 10)
            ADD_FAILURE() << g.at("src").get<std::string>() << ": encode() ids differ";
    }
    EXPECT_EQ(failures, 0u);
    EXPECT_GT(with_nul, 0u) << "the JSON reader must keep embedded NULs";
}

TEST(TokenizerGoldens, AllWindowSetsMatch) {
    const auto sets = read_jsonl(kGoldenDir + "golden_windows.jsonl");
    ASSERT_EQ(sets.size(), 20u);
    for (const auto& s : sets) {
        const std::string src = s.at("src").get<std::string>();
        const auto content = uncased().encode_ids(s.at("text").get<std::string>(), false);
        EXPECT_EQ(content.size(), s.at("n_content_tokens").get<std::size_t>()) << src;
        rgrid::SlidingWindow sw{.max_length = s.at("max_length").get<std::size_t>(),
                                .stride = s.at("stride").get<std::size_t>()};
        const auto windows = sw.windows(content, uncased().cls_id(), uncased().sep_id());
        EXPECT_EQ(windows, s.at("windows").get<std::vector<std::vector<rgrid::TokenId>>>()) << src;
        EXPECT_EQ(sw.window_starts(content.size()), s.at("window_starts").get<std::vector<std::size_t>>()) << src;
    }
}

}  // namespace
