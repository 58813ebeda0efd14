#pragma once
// The only file in rgrid that includes nlohmann/json: swapping the JSON library is a change here.
#include <nlohmann/json.hpp>

namespace rgrid {
/// JSON value (nlohmann::json). Example: `rgrid::json j = rgrid::json::parse(line); j["text"].get<std::string>();`
using json = nlohmann::json;
}  // namespace rgrid
