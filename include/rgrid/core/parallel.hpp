#pragma once
// parallel_for over a small persistent thread pool, and the one thread-count knob
// (set_num_threads) that also sets OpenBLAS, so elementwise loops and GEMMs use the
// same number of threads and never oversubscribe the machine.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "rgrid/core/blas.hpp"

namespace rgrid {

namespace detail {
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
        stop_ = false;
        const std::size_t gen = generation_;  // workers wait for the next job, not a past one
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
            std::lock_guard<std::mutex> lk(mutex_);
            job_ = &fn;
            parts_ = parts;
            pending_ = parts - 1;
            error_ = nullptr;
            ++generation_;
        }
        cv_.notify_all();
        std::exception_ptr err;
        in_region() = true;
        try { fn(0); } catch (...) { err = std::current_exception(); }
        in_region() = false;
        std::unique_lock<std::mutex> lk(mutex_);
        done_cv_.wait(lk, [&] { return pending_ == 0; });
        job_ = nullptr;
        if (!err) err = error_;
        if (err) std::rethrow_exception(err);
    }

    ~ThreadPool() { stop_workers(); }

private:
    static bool& in_region() {
        thread_local bool flag = false;
        return flag;
    }
    ThreadPool() {
        unsigned hc = std::thread::hardware_concurrency();
        resize(hc == 0 ? 1 : hc);
    }
    void stop_workers() {
        {
            std::lock_guard<std::mutex> lk(mutex_);
            stop_ = true;
        }
        cv_.notify_all();
        for (auto& w : workers_) w.join();
        workers_.clear();
    }
    void loop(std::size_t id, std::size_t seen) {
        in_region() = true;
        for (;;) {
            const std::function<void(std::size_t)>* job;
            {
                std::unique_lock<std::mutex> lk(mutex_);
                cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
                if (stop_) return;
                seen = generation_;
                if (id >= parts_) continue;
                job = job_;
            }
            std::exception_ptr err;
            try { (*job)(id); } catch (...) { err = std::current_exception(); }
            std::lock_guard<std::mutex> lk(mutex_);
            if (err && !error_) error_ = err;
            if (--pending_ == 0) done_cv_.notify_all();
        }
    }

    std::vector<std::thread> workers_;
    std::mutex mutex_, call_mutex_;
    std::condition_variable cv_, done_cv_;
    const std::function<void(std::size_t)>* job_ = nullptr;
    std::size_t parts_ = 0, pending_ = 0, generation_ = 0;
    std::exception_ptr error_;
    bool stop_ = false;
};
}  // namespace detail

/// Threads used by rgrid's loops and by OpenBLAS. Example: `rgrid::set_num_threads(2);`
inline void set_num_threads(std::size_t n) {
    n = std::max<std::size_t>(n, 1);
    detail::ThreadPool::instance().resize(n);
    set_blas_threads(static_cast<int>(n));
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
