// Tokenizer throughput (MB/s via bytes_per_second, tokens/s via items_per_second), one thread.
//
// Corpus: $RGRID_TOKENIZER_CORPUS (.csv with a "text" column, or .jsonl with {"text": ...}
// lines), else data/spamassassin.csv when present (scripts/get-data.sh), else a generated
// e-mail-like text. Vocab: $RGRID_VOCAB or examples/assets/bert-base-uncased-vocab.txt.
//
//   build/bin/bench_tokenizer --benchmark_filter=Corpus
//   benchmarks/compare_tokenizer.sh     # against Hugging Face tokenizers, same texts, alternating
//
// The naive WordPiece (HF's algorithm: try the longest substring first, shrink by one char,
// hash lookup of a freshly built string) sits next to rgrid's trie walk for comparison.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <benchmark/benchmark.h>

#include "rgrid/data/csv.hpp"
#include "rgrid/core/json.hpp"
#include "rgrid/text/bert_tokenizer.hpp"

namespace {

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

std::vector<std::string> generated_corpus() {
    const std::vector<std::string> parts = {
        "Received: from mail.example.com (mail [192.168.0.1]) by host; Mon, 30 Sep 2002 13:37:10 +0100\n",
        "Dear friend, CLICK HERE to claim your $1,000,000 prize!!! Unsubscribe: http://example.com/u?id=42\n",
        "I can't reproduce this error; the patch looks fine to me. Caf\xC3\xA9 na\xC3\xAFve r\xC3\xA9sum\xC3\xA9.\n",
        "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEA\n",
        "\xE4\xB8\xAD\xE6\x96\x87 \xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4 \xE3\x81\x8B\xE3\x81\xAA telecommunications\n"};
    std::vector<std::string> texts;
    for (int i = 0; i < 2000; ++i) {
        std::string t;
        for (int k = 0; k < 20; ++k) t += parts[static_cast<std::size_t>((i * 7 + k * 3) % 5)];
        texts.push_back(std::move(t));
    }
    return texts;
}

std::vector<std::string> load_corpus(std::string& name) {
    std::string path = env_or("RGRID_TOKENIZER_CORPUS", "");
    if (path.empty() && std::filesystem::exists(std::string(RGRID_SOURCE_DIR) + "/data/spamassassin.csv"))
        path = std::string(RGRID_SOURCE_DIR) + "/data/spamassassin.csv";
    if (path.empty()) {
        name = "generated";
        return generated_corpus();
    }
    name = std::filesystem::path(path).filename().string();
    std::vector<std::string> texts;
    if (path.size() > 4 && path.compare(path.size() - 4, 4, ".csv") == 0) {
        const rgrid::CsvTable t = rgrid::read_csv(path);
        std::size_t col = t.header.size();
        for (std::size_t i = 0; i < t.header.size(); ++i)
            if (t.header[i] == "text") col = i;
        RGRID_CHECK(col < t.header.size(), path, ": no 'text' column");
        for (const auto& row : t.rows) texts.push_back(row[col]);
    } else {
        std::ifstream in(path, std::ios::binary);
        RGRID_CHECK(in.good(), "cannot open corpus '", path, "'");
        std::string line;
        while (std::getline(in, line))
            if (!line.empty()) texts.push_back(rgrid::json::parse(line).at("text").get<std::string>());
    }
    return texts;
}

struct Fixture {
    std::string name;
    std::vector<std::string> texts;
    std::size_t bytes = 0;
    rgrid::BertTokenizer tok;

    Fixture()
        : texts(load_corpus(name)),
          tok(rgrid::BertTokenizer::from_file(
              env_or("RGRID_VOCAB", std::string(RGRID_SOURCE_DIR) + "/examples/assets/bert-base-uncased-vocab.txt"))) {
        for (const auto& t : texts) bytes += t.size();
    }
};

const Fixture& fixture() {
    static const Fixture f;
    return f;
}

// The whole corpus per iteration through the fast path (ids only).
void BM_Tokenizer_EncodeIds_Corpus(benchmark::State& state) {
    const Fixture& f = fixture();
    std::vector<rgrid::TokenId> ids;
    std::size_t tokens = 0;
    for (auto _ : state) {
        for (const auto& t : f.texts) {
            ids.clear();
            f.tok.append_ids(t, ids);
            tokens += ids.size();
            benchmark::DoNotOptimize(ids.data());
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * f.bytes));
    state.SetItemsProcessed(static_cast<std::int64_t>(tokens));
    state.SetLabel(f.name + ", " + std::to_string(f.texts.size()) + " texts");
}
BENCHMARK(BM_Tokenizer_EncodeIds_Corpus)->Unit(benchmark::kMillisecond);

// Full Encoding (tokens, offsets, masks) for the whole corpus.
void BM_Tokenizer_Encode_Corpus(benchmark::State& state) {
    const Fixture& f = fixture();
    std::size_t tokens = 0;
    for (auto _ : state)
        for (const auto& t : f.texts) {
            const rgrid::Encoding e = f.tok.encode(t);
            tokens += e.size();
            benchmark::DoNotOptimize(e.ids.data());
        }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * f.bytes));
    state.SetItemsProcessed(static_cast<std::int64_t>(tokens));
}
BENCHMARK(BM_Tokenizer_Encode_Corpus)->Unit(benchmark::kMillisecond);

// ---- WordPiece alone: naive (HF's loop) vs trie, on the corpus' words -------------------
const std::vector<std::string>& corpus_words() {
    static const std::vector<std::string> words = [] {
        std::vector<std::string> w;
        const rgrid::BasicTokenizer basic;
        std::size_t bytes = 0;
        for (const auto& t : fixture().texts) {
            basic.for_each_word(t, [&](const rgrid::BasicWord& bw) {
                if (bw.special < 0 && bytes < 4'000'000) w.emplace_back(bw.text), bytes += bw.text.size();
            });
            if (bytes >= 4'000'000) break;
        }
        return w;
    }();
    return words;
}

// Reference: HF's WordPiece loop, candidate strings built per try (O(n^2) per word).
std::vector<rgrid::TokenId> naive_wordpiece(const rgrid::Vocab& vocab, const std::string& word, rgrid::TokenId unk) {
    std::vector<rgrid::TokenId> out;
    std::size_t chars = 0;
    for (char c : word) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (chars > 100) return {unk};
    std::size_t start = 0;
    while (start < word.size()) {
        std::size_t end = word.size();
        std::optional<rgrid::TokenId> found;
        while (start < end) {
            std::string sub = word.substr(start, end - start);
            if (start > 0) sub = "##" + sub;
            if ((found = vocab.find(sub))) break;
            do --end;
            while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
        }
        if (!found) return {unk};
        out.push_back(*found);
        start = end;
    }
    return out;
}

void BM_WordPiece_Naive(benchmark::State& state) {
    const auto& words = corpus_words();
    const auto& tok = fixture().tok;
    std::size_t bytes = 0;
    for (const auto& w : words) bytes += w.size();
    for (auto _ : state)
        for (const auto& w : words) benchmark::DoNotOptimize(naive_wordpiece(tok.vocab(), w, tok.unk_id()));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_WordPiece_Naive)->Unit(benchmark::kMillisecond);

void BM_WordPiece_Trie(benchmark::State& state) {
    const auto& words = corpus_words();
    const auto& wp = fixture().tok.wordpiece();
    std::size_t bytes = 0;
    for (const auto& w : words) bytes += w.size();
    std::size_t pieces = 0;
    for (auto _ : state)
        for (const auto& w : words) {
            std::size_t chars = 0;
            for (char c : w) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
            wp.tokenize(w, chars, [&](rgrid::TokenId, std::size_t, std::size_t) { ++pieces; });
        }
    benchmark::DoNotOptimize(pieces);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_WordPiece_Trie)->Unit(benchmark::kMillisecond);

// A 1 MB base64 attachment line (one word -> [UNK]) and a 1 MB line of 90-char words.
void BM_Tokenizer_Base64Words(benchmark::State& state) {
    std::string text;
    const std::string b64 = "R0lGODlhAQABAIAAAAAAAP8yH5BAEAAAAALAAAAAABAAEAAAIBRAA7R0lGODlhAQABAIAAAAAAAPyH5BAEAAAAALAAAAAAB";
    while (text.size() < 1'000'000) text += b64.substr(0, 90) + "\n";
    const auto& tok = fixture().tok;
    for (auto _ : state) benchmark::DoNotOptimize(tok.encode_ids(text));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Tokenizer_Base64Words)->Unit(benchmark::kMillisecond);

}  // namespace
