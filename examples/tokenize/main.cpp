// rgrid-tokenize: BERT token ids for JSON lines, identical to Hugging Face's BertTokenizerFast.
//
//   rgrid-tokenize --vocab FILE [--cased] [--max-length L --stride S]  < in.jsonl > out.jsonl
//
// Each input line {"text": "..."} gives one output line, in order: {"ids": [...]}
// ([CLS] ... [SEP]), or with --max-length {"windows": [[...], ...]} (sliding windows of at
// most L ids overlapping by S content tokens; stride defaults to 128). Blank lines are
// skipped. A line that is not valid JSON, or has no "text" string, is an error naming the
// line number: exit status 2. Bad options: exit status 1 (examples/common/cli.hpp).
#include <iostream>
#include <optional>
#include <string>

#include "common/cli.hpp"
#include "rgrid/core/json.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/text/sliding_window.hpp"

namespace {

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r") == std::string::npos; }

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"BERT token ids for JSON lines {\"text\": ...} on stdin, one {\"ids\": [...]} (or with --max-length "
                 "{\"windows\": [[...], ...]}) line per input line on stdout.",
                 "rgrid-tokenize"};
    rgrid::cli::conventions(app);
    std::string vocab;
    bool cased = false;
    rgrid::SlidingWindow window;
    std::optional<std::size_t> max_length;  // set: windows instead of one id list per text
    app.add_option("--vocab", vocab, "WordPiece vocab.txt")->required()->type_name("FILE");
    app.add_flag("--cased", cased, "keep case and accents (for cased vocabularies)");
    app.add_option("--max-length", max_length, "cut each text into sliding windows of at most this many ids")
        ->check(rgrid::cli::count(3, 512));
    app.add_option("--stride", window.stride, "overlap of consecutive windows, in tokens")
        ->check(rgrid::cli::count());
    if (auto status = rgrid::cli::parse(app, argc, argv, /*usage_status=*/1)) return *status;  // 2: a bad line
    const bool windows = max_length.has_value();
    if (windows) window.max_length = *max_length;
    try {
        if (windows) window.validate();
        const auto tok = rgrid::BertTokenizer::from_file(vocab, /*do_lower_case=*/!cased);
        std::ios::sync_with_stdio(false);
        std::string line;
        std::size_t line_no = 0;
        while (std::getline(std::cin, line)) {
            ++line_no;
            if (blank(line)) continue;
            rgrid::json in = rgrid::json::parse(line, nullptr, /*allow_exceptions=*/false);
            if (in.is_discarded() || !in.is_object() || !in.contains("text") || !in["text"].is_string()) {
                std::cerr << "rgrid-tokenize: line " << line_no << ": "
                          << (in.is_discarded() ? "not valid JSON" : "expected an object with a \"text\" string")
                          << "\n";
                return 2;
            }
            const std::string& text = in["text"].get_ref<const std::string&>();
            rgrid::json out;
            if (windows)
                out["windows"] = window.windows(tok.encode_ids(text, false), tok.cls_id(), tok.sep_id());
            else
                out["ids"] = tok.encode_ids(text);
            std::cout << out.dump() << '\n';
        }
        std::cout.flush();
    } catch (const std::exception& e) {
        std::cerr << "rgrid-tokenize: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
