#pragma once
// Plain-text corpora for masked-LM pretraining: a UTF-8 text file read as documents, either
// paragraphs (runs of non-blank lines, separated by blank lines) or one document per line
// (run_mlm.py's --line_by_line). Unlike CSV data (repaired and counted), a text corpus that
// is not UTF-8 is an error naming the file, the line and the byte: pretraining on mojibake
// silently teaches the model the wrong text.
#include <cstddef>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/text/unicode.hpp"

namespace rgrid {

/// What one document of a text file is.
enum class TextUnit {
    Paragraph,  // consecutive non-blank lines, joined with "\n"; blank lines separate documents
    Line,       // every non-blank line on its own
};

/// Reads `path` as documents (CR of CRLF endings and a leading UTF-8 BOM dropped; lines of
/// only spaces/tabs count as blank). Invalid UTF-8 throws with the file, line and byte offset.
/// An empty file gives no documents (make_text_blocks then reports the empty corpus).
/// Example: `auto docs = read_text_documents("corpus.txt");  // paragraphs`
inline std::vector<std::string> read_text_documents(const std::string& path, TextUnit unit = TextUnit::Paragraph) {
    std::ifstream in(path, std::ios::binary);
    RGRID_CHECK(in.good(), "read_text_documents: cannot open '", path, "'");
    std::vector<std::string> docs;
    std::string line, current;
    std::size_t line_no = 0, offset = 0;
    auto flush = [&] {
        if (!current.empty()) docs.push_back(std::move(current));
        current.clear();
    };
    while (std::getline(in, line)) {
        ++line_no;
        const std::size_t line_bytes = line.size() + 1;
        if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!is_valid_utf8(line)) {
            std::size_t bad = 0;  // offset of the first invalid sequence in the line
            for (const char *p = line.data(), *end = p + line.size(); p < end; p += decode_utf8(p, end).len) {
                const DecodedChar d = decode_utf8(p, end);
                if (d.cp == kReplacementChar && !(d.len == 3 && std::memcmp(p, "\xEF\xBF\xBD", 3) == 0)) {
                    bad = static_cast<std::size_t>(p - line.data());
                    break;
                }
            }
            throw Error(detail::concat("read_text_documents: ", path, ":", line_no, ": not valid UTF-8 (byte ", offset + bad,
                                       " of the file, column ", bad + 1, " of the line); convert it first, e.g. ",
                                       "iconv -f latin1 -t utf-8"));
        }
        offset += line_bytes;
        const bool blank = line.find_first_not_of(" \t") == std::string::npos;
        if (unit == TextUnit::Line) {
            if (!blank) docs.push_back(line);
            continue;
        }
        if (blank) {
            flush();
        } else {
            if (!current.empty()) current += '\n';
            current += line;
        }
    }
    flush();
    return docs;
}

}  // namespace rgrid
