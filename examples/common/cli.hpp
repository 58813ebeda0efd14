#pragma once
// The command-line conventions every rgrid-* program shares, on top of CLI11 (Debian
// libcli11-dev, header-only; https://cliutils.github.io/CLI11/book/). A program declares each
// option once — name, the variable it fills (its type and default), help, range — and gets:
//   --help     every option with its default and range     --version  "rgrid-<name> 0.1.0"
//   --name value or --name=value; an option given twice: the last one wins
//   a usage error (unknown option, missing or malformed value, value out of range, missing
//   required option) is one line on stderr naming the option, and exit status 2
// Example:
//   CLI::App app{"what the program does", "rgrid-x"};
//   rgrid::cli::conventions(app);
//   std::size_t epochs = 3;
//   app.add_option("--epochs", epochs, "passes over the data")->check(rgrid::cli::count(1));
//   if (auto status = rgrid::cli::parse(app, argc, argv)) return *status;
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

#include <CLI/CLI.hpp>

#include "rgrid/version.hpp"

namespace rgrid::cli {

/// Upper bound of every thread-count option: more threads than this is a typo, not a machine.
inline constexpr std::uint64_t kMaxThreads = 1024;

/// `text` with line breaks at spaces so that no line is longer than `width` (longer words stay whole).
inline std::string wrap(const std::string& text, std::size_t width) {
    std::string out, line;
    std::istringstream words(text);
    for (std::string w; words >> w;) {
        if (!line.empty() && line.size() + 1 + w.size() > width) out += line + "\n", line.clear();
        line += (line.empty() ? "" : " ") + w;
    }
    return out + line;
}

/// Help lines as "  --epochs UINT   passes over the data (default 3; >= 1)", wrapped at 100 columns.
class HelpFormatter : public CLI::Formatter {
public:
    static constexpr std::size_t kWidth = 100;
    std::string make_description(const CLI::App* app) const override {
        return wrap(app->get_description(), kWidth) + "\n\n";
    }
    std::string make_option_opts(const CLI::Option* opt) const override {
        if (opt->get_type_size() == 0) return "";  // a flag takes no value
        const std::string type = opt->get_type_name();
        return " " + type.substr(0, type.find(':'));  // CLI11 appends validator notes after ':'
    }
    std::string make_option_desc(const CLI::Option* opt) const override {
        std::string notes;
        auto note = [&](const std::string& s) { notes += (notes.empty() ? "" : "; ") + s; };
        if (opt->get_required()) note("required");
        if (opt->get_type_size() != 0 && !opt->get_default_str().empty()) note("default " + opt->get_default_str());
        const std::string type = opt->get_type_name();
        if (const auto colon = type.find(':'); colon != std::string::npos) note(type.substr(colon + 1));
        return wrap(opt->get_description() + (notes.empty() ? "" : " (" + notes + ")"), kWidth - get_column_width());
    }
};

/// Applies the conventions above to `app` (named "rgrid-<name>").
inline void conventions(CLI::App& app) {
    app.option_defaults()->always_capture_default()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    auto formatter = std::make_shared<HelpFormatter>();
    formatter->column_width(26);
    app.formatter(formatter);
    app.set_version_flag("--version", app.get_name() + " " + std::to_string(RGRID_VERSION_MAJOR) + "." +
                                          std::to_string(RGRID_VERSION_MINOR) + "." +
                                          std::to_string(RGRID_VERSION_PATCH));
}

/// A whole number written with digits only (no sign, no space) within [lo, hi].
/// Example: `app.add_option("--threads", n, "threads")->check(cli::count(1, cli::kMaxThreads));`
inline CLI::Validator count(std::uint64_t lo = 0, std::uint64_t hi = std::numeric_limits<std::uint64_t>::max()) {
    const bool bounded = hi != std::numeric_limits<std::uint64_t>::max();
    const std::string range = bounded ? "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]"
                                      : (lo > 0 ? ">= " + std::to_string(lo) : "");
    return CLI::Validator(
        [lo, hi, range](std::string& s) -> std::string {
            std::uint64_t v = 0;
            const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
            if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
                return "'" + s + "' is not a whole number" + (range.empty() ? std::string(" >= 0") : " " + range);
            if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi)
                return s + " is out of range" + (range.empty() ? std::string(" (64 bits)") : ": must be " + range);
            return "";
        },
        range, "count");
}

/// A finite number (std::stod's syntax, e.g. 5e-5) within [lo, hi], or (lo, hi] when
/// `lo_open`. Example: `->check(cli::real(0, 1))` for a ratio.
inline CLI::Validator real(double lo = -std::numeric_limits<double>::infinity(),
                           double hi = std::numeric_limits<double>::infinity(), bool lo_open = false) {
    auto str = [](double v) {
        std::ostringstream os;
        os << v;
        return os.str();
    };
    std::string range;
    if (std::isfinite(lo) && std::isfinite(hi))
        range = "in " + std::string(lo_open ? "(" : "[") + str(lo) + ", " + str(hi) + "]";
    else if (std::isfinite(lo)) range = (lo_open ? "> " : ">= ") + str(lo);
    else if (std::isfinite(hi)) range = "<= " + str(hi);
    return CLI::Validator(
        [lo, hi, lo_open, range](std::string& s) -> std::string {
            std::size_t used = 0;
            double v = 0;
            try { v = std::stod(s, &used); } catch (const std::exception&) { used = 0; }
            if (used == 0 || used != s.size() || !std::isfinite(v)) return "'" + s + "' is not a finite number";
            if (v < lo || v > hi || (lo_open && v == lo)) return s + " is out of range: must be " + range;
            return "";
        },
        range, "real");
}

/// A text with at least one character that is not white space.
inline CLI::Validator non_blank() {
    return CLI::Validator(
        [](std::string& s) -> std::string {
            return s.find_first_not_of(" \t\r\n\f\v") == std::string::npos ? "empty or only white space" : "";
        },
        "", "non_blank");
}

/// A value the program checks itself: `check(value)` throws (an rgrid::Error naming the problem)
/// when it is not acceptable. Example: `->check(cli::accepted_by([](const std::string& s) { parse_ratios(s); }))`
template <class F>
CLI::Validator accepted_by(F check) {
    return CLI::Validator(
        [check](std::string& s) -> std::string {
            try {
                check(s);
            } catch (const std::exception& e) {
                return e.what();
            }
            return "";
        },
        "", "accepted_by");
}

/// Parses the command line. Returns the exit status when the program should stop now —
/// 0 after --help or --version (printed on stdout), `usage_status` after a usage error
/// (printed on stderr with the program's name) — and nothing when it should run.
inline std::optional<int> parse(CLI::App& app, int argc, const char* const* argv, int usage_status = 2) {
    try {
        app.parse(argc, argv);
        return std::nullopt;
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help, --version
        std::string what = e.what();
        if (dynamic_cast<const CLI::ExtrasError*>(&e) && !app.remaining().empty()) {
            const std::string first = app.remaining().front();
            what = (first.rfind("-", 0) == 0 ? "unknown option '" : "unexpected argument '") + first + "'";
        } else if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && what.size() > 8 &&
                   what.compare(what.size() - 8, 8, " missing") == 0) {
            what = what.substr(0, what.find(':')) + " needs a value";  // "--epochs: 1 required UINT missing"
        }
        std::cerr << app.get_name() << ": " << what << "\n" << app.get_name() << " --help lists the options\n";
        return usage_status;
    }
}

}  // namespace rgrid::cli
