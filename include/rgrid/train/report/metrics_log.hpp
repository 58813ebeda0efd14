#pragma once
// metrics.jsonl: one JSON object per line, appended as training goes (one line per logging
// step, one per evaluation, one for the train summary), so a crashed run keeps its history
// and `jq`/pandas read it directly (`pd.read_json(path, lines=True)`).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "rgrid/core/error.hpp"

namespace rgrid {

/// A JSON value of a log field: number, integer or string.
using LogValue = std::variant<double, std::int64_t, std::string>;
/// One log line: ordered (name, value) fields.
using LogRecord = std::vector<std::pair<std::string, LogValue>>;

namespace detail {
inline std::string json_escape(const std::string& s) {
    std::string o;
    o.reserve(s.size() + 2);
    for (unsigned char c : s) {
        switch (c) {
            case '"': o += "\\\""; break;
            case '\\': o += "\\\\"; break;
            case '\n': o += "\\n"; break;
            case '\r': o += "\\r"; break;
            case '\t': o += "\\t"; break;
            default:
                if (c < 0x20) {
                    char b[8];
                    std::snprintf(b, sizeof b, "\\u%04x", c);
                    o += b;
                } else {
                    o += static_cast<char>(c);
                }
        }
    }
    return o;
}
}  // namespace detail

/// The record as one line of JSON (non-finite numbers become null, as JSON has no NaN).
/// Example: `to_json_line({{"step", std::int64_t(10)}, {"loss", 0.53}})` → `{"step":10,"loss":0.53}`
inline std::string to_json_line(const LogRecord& rec) {
    std::string s = "{";
    for (std::size_t i = 0; i < rec.size(); ++i) {
        if (i) s += ',';
        s += '"' + detail::json_escape(rec[i].first) + "\":";
        const auto& v = rec[i].second;
        if (auto d = std::get_if<double>(&v)) {
            if (!std::isfinite(*d)) {
                s += "null";
            } else {
                char b[40];
                std::snprintf(b, sizeof b, "%.10g", *d);
                s += b;
            }
        } else if (auto n = std::get_if<std::int64_t>(&v)) {
            s += std::to_string(*n);
        } else {
            s += '"' + detail::json_escape(std::get<std::string>(v)) + '"';
        }
    }
    return s + "}";
}

/// Appends JSON lines to a file, flushing each line.
/// Example: `MetricsLog log("runs/x/metrics.jsonl"); log.write({{"epoch", 1.0}, {"eval_f1", 0.9}});`
class MetricsLog {
public:
    /// Opens `path`; `truncate` starts a fresh file (a new run), otherwise lines are appended (resume).
    explicit MetricsLog(const std::string& path, bool truncate = true)
        : path_(path), out_(path, truncate ? std::ios::trunc : std::ios::app) {
        RGRID_CHECK(out_.good(), "MetricsLog: cannot open '", path, "' for writing");
    }
    void write(const LogRecord& rec) {
        out_ << to_json_line(rec) << '\n';
        out_.flush();
        RGRID_CHECK(out_.good(), "MetricsLog: write to '", path_, "' failed");
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::ofstream out_;
};

}  // namespace rgrid
