#pragma once
// The JSON funnel: the only file in rgrid that includes nlohmann/json (swapping the JSON
// library is a change here), plus read_json_object(), the one reader of small JSON files
// (config.json, tokenizer_config.json, inference_config.json).
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "rgrid/core/error.hpp"

namespace rgrid {
/// JSON value (nlohmann::json). Example: `rgrid::json j = rgrid::json::parse(line); j["text"].get<std::string>();`
using json = nlohmann::json;

/// Reads the file at `path` and parses it as one JSON object. Errors start with `who` and name
/// the file: "who: cannot open PATH", "who: PATH is not valid JSON (…)", "who: PATH is not a JSON object".
/// Example: `json j = read_json_object("ckpt/config.json", "BertConfig");`
inline json read_json_object(const std::string& path, const std::string& who) {
    std::ifstream in(path, std::ios::binary);
    RGRID_CHECK(in, who, ": cannot open ", path);
    std::stringstream ss;
    ss << in.rdbuf();
    json j;
    try {
        j = json::parse(ss.str());
    } catch (const json::exception& e) {
        throw Error(detail::concat(who, ": ", path, " is not valid JSON (", e.what(), ")"));
    }
    RGRID_CHECK(j.is_object(), who, ": ", path, " is not a JSON object");
    return j;
}
}  // namespace rgrid
