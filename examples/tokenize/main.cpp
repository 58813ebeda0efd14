// rgrid-tokenize: BERT token ids for JSON lines, identical to Hugging Face's BertTokenizerFast.
//
//   rgrid-tokenize --vocab FILE [--cased] [--max-length L --stride S]  < in.jsonl > out.jsonl
//
// Each input line {"text": "..."} gives one output line, in order: {"ids": [...]}
// ([CLS] ... [SEP]), or with --max-length {"windows": [[...], ...]} (sliding windows of at
// most L ids overlapping by S content tokens; stride defaults to 128). Blank lines are
// skipped. A line that is not valid JSON, or has no "text" string, is an error naming the
// line number: exit status 2. Bad options: exit status 1.
#include <cstdlib>
#include <iostream>
#include <string>

#include "rgrid/io/json.hpp"
#include "rgrid/text/bert_tokenizer.hpp"
#include "rgrid/text/sliding_window.hpp"

namespace {

int usage(const std::string& why) {
    std::cerr << "rgrid-tokenize: " << why << "\n"
              << "usage: rgrid-tokenize --vocab FILE [--cased] [--max-length L --stride S] < in.jsonl\n";
    return 1;
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r") == std::string::npos; }

}  // namespace

int main(int argc, char** argv) {
    std::string vocab;
    bool cased = false;
    rgrid::SlidingWindow window;
    bool windows = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--vocab") vocab = value();
        else if (a == "--cased") cased = true;
        else if (a == "--max-length") windows = true, window.max_length = std::strtoul(value().c_str(), nullptr, 10);
        else if (a == "--stride") window.stride = std::strtoul(value().c_str(), nullptr, 10);
        else if (a == "--help" || a == "-h") return usage("BERT token ids for JSON lines {\"text\": ...}"), 0;
        else return usage("unknown option '" + a + "'");
    }
    if (vocab.empty()) return usage("--vocab FILE is required");
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
