#pragma once
// parallel_for over a small persistent thread pool, and the one thread-count knob
// (set_num_threads). rgrid owns all of its threads: OpenBLAS is kept single-threaded and
// core/blas.hpp splits large GEMMs across this pool, so elementwise loops and GEMMs run on
// the same threads and no second set of threads spins while the first computes.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

extern "C" {
// OpenBLAS extensions (declared here so we do not depend on which cblas.h is found).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace rgrid {

namespace detail {
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Spins while pred() is false for at most `budget`, checking the clock every 64 polls.
// Returns pred()'s last value. Spinning first and sleeping after keeps the hand-off between
// back-to-back parallel regions (a GEMM, then a LayerNorm, ...) at well under a microsecond,
// without burning a core for long when the pool is idle.
template <class Pred>
bool spin_until(Pred pred, std::chrono::microseconds budget) {
    const auto until = std::chrono::steady_clock::now() + budget;
    for (unsigned i = 1;; ++i) {
        if (pred()) return true;
        cpu_relax();
        if ((i & 63) == 0 && std::chrono::steady_clock::now() >= until) return pred();
    }
}

class ThreadPool {
public:
    static ThreadPool& instance() {
        static ThreadPool pool;
        return pool;
    }
    std::size_t size() const { return workers_.size() + 1; }  // the caller works too

    void resize(std::size_t n) {
        std::lock_guard<std::mutex> call(call_mutex_);
        stop_workers();
        n = std::max<std::size_t>(n, 1);
        stop_.store(false);
        const std::size_t gen = generation_.load();  // workers wait for the next job, not a past one
        for (std::size_t i = 0; i + 1 < n; ++i) workers_.emplace_back([this, i, gen] { loop(i + 1, gen); });
    }

    // Runs fn(part) for part in [0, parts) with parts ≤ size(); part 0 on the caller.
    void run(std::size_t parts, const std::function<void(std::size_t)>& fn) {
        if (parts <= 1 || workers_.empty() || in_region()) {  // nested regions run inline
            for (std::size_t p = 0; p < parts; ++p) fn(p);
            return;
        }
        std::unique_lock<std::mutex> call(call_mutex_);  // one parallel region at a time
        {
            std::lock_guard<std::mutex> lk(mutex_);  // workers take their snapshot under it
            job_ = &fn;
            parts_ = parts;
            error_ = nullptr;
            pending_.store(parts - 1);
            generation_.fetch_add(1);
        }
        cv_.notify_all();
        std::exception_ptr err;
        in_region() = true;
        try { fn(0); } catch (...) { err = std::current_exception(); }
        in_region() = false;
        if (!spin_until([&] { return pending_.load() == 0; }, kSpin)) {
            std::unique_lock<std::mutex> lk(mutex_);
            done_cv_.wait(lk, [&] { return pending_.load() == 0; });
        }
        if (!err) {
            std::lock_guard<std::mutex> lk(mutex_);
            err = error_;
        }
        if (err) std::rethrow_exception(err);
    }

    ~ThreadPool() { stop_workers(); }

    // True on a thread that is running a part of a parallel region (nested regions run inline).
    static bool& in_region() {
        thread_local bool flag = false;
        return flag;
    }

private:
    static constexpr std::chrono::microseconds kSpin{200};

    ThreadPool() {
        openblas_set_num_threads(1);  // GEMMs are split across this pool (core/blas.hpp)
        unsigned hc = std::thread::hardware_concurrency();
        resize(hc == 0 ? 1 : hc);
    }
    void stop_workers() {
        {
            std::lock_guard<std::mutex> lk(mutex_);
            stop_.store(true);
        }
        cv_.notify_all();
        for (auto& w : workers_) w.join();
        workers_.clear();
    }
    void loop(std::size_t id, std::size_t seen) {
        in_region() = true;
        for (;;) {
            auto fresh = [&] { return stop_.load() || generation_.load() != seen; };
            if (!spin_until(fresh, kSpin)) {
                std::unique_lock<std::mutex> lk(mutex_);
                cv_.wait(lk, fresh);
            }
            const std::function<void(std::size_t)>* job = nullptr;
            {
                std::lock_guard<std::mutex> lk(mutex_);  // a consistent (generation, job, parts)
                if (stop_.load()) return;
                seen = generation_.load();
                if (id < parts_) job = job_;
            }
            if (!job) continue;  // not needed for this region
            std::exception_ptr err;
            try { (*job)(id); } catch (...) { err = std::current_exception(); }
            if (err) {
                std::lock_guard<std::mutex> lk(mutex_);
                if (!error_) error_ = err;
            }
            if (pending_.fetch_sub(1) == 1) {
                std::lock_guard<std::mutex> lk(mutex_);  // the caller may be between its check and its wait
                done_cv_.notify_all();
            }
        }
    }

    std::vector<std::thread> workers_;
    std::mutex mutex_, call_mutex_;
    std::condition_variable cv_, done_cv_;
    // job_, parts_ and error_ are guarded by mutex_; generation_ and pending_ are also read
    // without it while spinning.
    const std::function<void(std::size_t)>* job_ = nullptr;
    std::size_t parts_ = 0;
    std::atomic<std::size_t> pending_{0}, generation_{0};
    std::atomic<bool> stop_{false};
    std::exception_ptr error_;
};
}  // namespace detail

/// Threads used by rgrid's loops and GEMMs (OpenBLAS itself stays single-threaded; rgrid
/// splits each large GEMM across these threads). Example: `rgrid::set_num_threads(2);`
inline void set_num_threads(std::size_t n) {
    n = std::max<std::size_t>(n, 1);
    detail::ThreadPool::instance().resize(n);
    openblas_set_num_threads(1);
}
inline std::size_t num_threads() { return detail::ThreadPool::instance().size(); }

/// Calls fn(begin, end) on disjoint chunks covering [0, n), in parallel when the work is
/// large enough (`grain` = minimum items per chunk). Chunks are contiguous and fixed by
/// (n, threads), so any per-index computation gives the same result for any thread count.
/// Example: parallel_for(n, 4096, [&](size_t b, size_t e) { for (auto i = b; i < e; ++i) y[i] = 2 * x[i]; });
template <class F>
void parallel_for(std::size_t n, std::size_t grain, F&& fn) {
    if (n == 0) return;
    auto& pool = detail::ThreadPool::instance();
    std::size_t parts = std::min(pool.size(), (n + std::max<std::size_t>(grain, 1) - 1) / std::max<std::size_t>(grain, 1));
    if (parts <= 1) {
        fn(std::size_t(0), n);
        return;
    }
    const std::size_t chunk = (n + parts - 1) / parts;
    std::function<void(std::size_t)> job = [&](std::size_t p) {
        std::size_t b = p * chunk, e = std::min(n, b + chunk);
        if (b < e) fn(b, e);
    };
    pool.run(parts, job);
}

}  // namespace rgrid
