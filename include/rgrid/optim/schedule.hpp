#pragma once
// Linear warmup then linear decay to 0: HF get_linear_schedule_with_warmup.
// https://huggingface.co/docs/transformers/main_classes/optimizer_schedules#transformers.get_linear_schedule_with_warmup
#include <algorithm>
#include <cstddef>

#include "rgrid/core/error.hpp"

namespace rgrid {

/// The learning-rate multiplier for optimizer step `step` (0-based): step/warmup during
/// warmup, then (total-step)/(total-warmup), never below 0. Like torch's LambdaLR, step 0
/// of a warmup runs with multiplier 0.
/// Example: `LinearSchedule sched{100, 1000}; opt.set_lr(base_lr * sched(step));`
struct LinearSchedule {
    std::size_t warmup_steps = 0;
    std::size_t total_steps = 1;

    LinearSchedule(std::size_t warmup, std::size_t total) : warmup_steps(warmup), total_steps(total) {
        RGRID_CHECK(total > 0, "LinearSchedule: total_steps must be positive");
        RGRID_CHECK(warmup <= total, "LinearSchedule: warmup_steps ", warmup, " exceeds total_steps ", total);
    }
    double multiplier(std::size_t step) const {
        if (step < warmup_steps) return static_cast<double>(step) / static_cast<double>(std::max<std::size_t>(1, warmup_steps));
        if (step >= total_steps) return 0.0;
        return static_cast<double>(total_steps - step) /
               static_cast<double>(std::max<std::size_t>(1, total_steps - warmup_steps));
    }
    double operator()(std::size_t step) const { return multiplier(step); }
};

}  // namespace rgrid
