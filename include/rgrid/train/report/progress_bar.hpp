#pragma once
// A tqdm/Hugging Face-style progress bar written to an std::ostream the program supplies:
//  45%|█████████           | 450/1000 [00:12<00:15, 36.20it/s, loss=0.5321]
// Library code never prints on its own; the caller passes the stream (or uses the pure
// render() to get the line).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <ostream>
#include <string>

namespace rgrid {

namespace detail {
/// "mm:ss" or "h:mm:ss" (tqdm's format); "?" for unknown.
inline std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    auto s = static_cast<long long>(seconds + 0.5);
    char buf[32];
    if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%02lld:%02lld", s / 60, s % 60);
    return buf;
}
}  // namespace detail

/// Step/total, percentage, elapsed<remaining, rate and a running loss.
/// Example:
///   ProgressBar bar(std::cerr, total_steps, "train");
///   for (...) bar.update(step, loss);
///   bar.close();
class ProgressBar {
public:
    /// `redraw`: rewrite one line with '\r' (terminal); otherwise print a new line every
    /// `line_every` steps (logs). `min_interval_s` throttles redraws.
    ProgressBar(std::ostream& os, std::size_t total, std::string desc = {}, bool redraw = true,
                std::size_t line_every = 0, double min_interval_s = 0.2)
        : os_(os), total_(total), desc_(std::move(desc)), redraw_(redraw), line_every_(line_every),
          min_interval_s_(min_interval_s), start_(Clock::now()) {}

    /// The bar line for `step` of `total` after `elapsed_s` seconds (pure; used by update()).
    static std::string render(std::size_t step, std::size_t total, double elapsed_s, std::optional<double> loss,
                              const std::string& desc = {}, std::size_t bar_width = 20) {
        std::string out;
        if (!desc.empty()) out += desc + ": ";
        const double frac = total ? std::min(1.0, double(step) / double(total)) : 0.0;
        char buf[160];
        std::snprintf(buf, sizeof buf, "%3d%%|", static_cast<int>(frac * 100));
        out += buf;
        const auto filled = static_cast<std::size_t>(frac * double(bar_width));
        for (std::size_t i = 0; i < bar_width; ++i) out += i < filled ? "\u2588" : " ";
        const double rate = elapsed_s > 0 ? double(step) / elapsed_s : 0.0;
        const double eta = rate > 0 ? double(total > step ? total - step : 0) / rate : NAN;
        std::string rate_s;
        if (rate >= 1 || rate == 0) std::snprintf(buf, sizeof buf, "%.2fit/s", rate);
        else std::snprintf(buf, sizeof buf, "%.2fs/it", 1.0 / rate);
        rate_s = buf;
        std::snprintf(buf, sizeof buf, "| %zu/%zu [%s<%s, %s", step, total, detail::format_duration(elapsed_s).c_str(),
                      detail::format_duration(eta).c_str(), rate_s.c_str());
        out += buf;
        if (loss) {
            std::snprintf(buf, sizeof buf, ", loss=%.4f", *loss);
            out += buf;
        }
        out += "]";
        return out;
    }

    /// Reports progress at `step` (1-based count of finished steps).
    void update(std::size_t step, std::optional<double> loss = std::nullopt) {
        step_ = step;
        loss_ = loss;
        const double now = elapsed();
        const bool last = step >= total_;
        if (redraw_) {
            if (!last && now - last_draw_ < min_interval_s_ && drawn_) return;
            os_ << '\r' << render(step, total_, now, loss, desc_) << std::flush;
            drawn_ = true;
            last_draw_ = now;
        } else if (last || (line_every_ && step % line_every_ == 0)) {
            os_ << render(step, total_, now, loss, desc_) << '\n' << std::flush;
        }
    }
    /// Ends the bar line (prints the final state once).
    void close() {
        if (closed_) return;
        closed_ = true;
        if (redraw_) os_ << '\r' << render(step_, total_, elapsed(), loss_, desc_) << '\n' << std::flush;
    }
    double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

private:
    using Clock = std::chrono::steady_clock;
    std::ostream& os_;
    std::size_t total_;
    std::string desc_;
    bool redraw_;
    std::size_t line_every_;
    double min_interval_s_;
    Clock::time_point start_;
    std::size_t step_ = 0;
    std::optional<double> loss_;
    double last_draw_ = 0;
    bool drawn_ = false, closed_ = false;
};

}  // namespace rgrid
