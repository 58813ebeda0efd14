#pragma once
// serve::DynamicBatcher: runs the windows of concurrent requests together, as Triton's dynamic
// batcher and TorchServe's batch_size/max_batch_delay do. Each request hands over its windows
// (all documents of one POST /predict) and blocks; one batcher thread takes windows from the
// queue in arrival order, up to `max_batch` windows, as soon as that many are waiting or the
// oldest has waited `max_wait`, whichever comes first, and runs them as one
// Predictor::window_logits call. One refinement: a partial batch waits only while another
// request is on its way (announced with arrive(), still being read or tokenized), so a lone
// client does not pay max_wait on every request; under load the batch fills meanwhile. A long document's windows may be spread over several batches
// and share a batch with other requests' windows; each request gets back exactly the logit rows
// of its own windows, in its own order. The rows equal an unbatched pass within float rounding
// (other windows in a batch only change the padding; see tests/serve).
// A request whose client has gone is dropped: its windows not yet taken are never computed.
// Legend: W windows, K labels.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "rgrid/core/error.hpp"
#include "rgrid/core/tensor.hpp"
#include "rgrid/text/sliding_window.hpp"
#include "rgrid/train/predictor.hpp"

namespace rgrid::serve {

/// When the batcher runs a batch. Example: `BatchOptions{.max_batch = 32, .max_wait = std::chrono::milliseconds(5)}`.
struct BatchOptions {
    std::size_t max_batch = 32;                     // windows per model pass at most
    std::chrono::microseconds max_wait{5000};       // the oldest waiting window waits at most this
};

/// Counters for GET /info and the tests.
struct BatchStats {
    std::size_t batches = 0;    // model passes run
    std::size_t windows = 0;    // windows computed
    std::size_t max_seen = 0;   // largest batch so far
    std::size_t mixed = 0;      // batches holding windows of more than one request
    std::size_t dropped = 0;    // windows never computed because their client had gone
};

/// One batcher thread over a shared Predictor.
/// Example:
///   serve::DynamicBatcher b(predictor, {.max_batch = 32});
///   std::optional<Tensor<float>> logits = b.run(windows, [] { return false; });  // (W, K)
class DynamicBatcher {
public:
    DynamicBatcher(std::shared_ptr<const Predictor> predictor, BatchOptions opt)
        : predictor_(std::move(predictor)), opt_(opt) {
        RGRID_CHECK(predictor_, "DynamicBatcher: a Predictor is required");
        RGRID_CHECK(opt_.max_batch > 0, "DynamicBatcher: max_batch must be > 0");
        RGRID_CHECK(opt_.max_wait.count() >= 0, "DynamicBatcher: max_wait must be >= 0");
        thread_ = std::thread([this] { loop(); });
    }
    ~DynamicBatcher() { stop(); }
    DynamicBatcher(const DynamicBatcher&) = delete;
    DynamicBatcher& operator=(const DynamicBatcher&) = delete;

    /// A request on its way: partial batches wait for it (up to max_wait) until it is handed
    /// to run() or the Arrival is destroyed. Example: `auto a = b.arrive(); ...; b.run(w, gone, &a);`
    class Arrival {
    public:
        explicit Arrival(DynamicBatcher* b) : b_(b) {}
        Arrival(Arrival&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
        Arrival& operator=(Arrival&&) = delete;
        ~Arrival() {
            if (!b_) return;
            std::lock_guard<std::mutex> lock(b_->mutex_);
            release_locked();
        }
        void release_locked() {  // under the batcher's mutex
            if (!b_) return;
            --b_->arriving_;
            b_->work_cv_.notify_one();
            b_ = nullptr;
        }

    private:
        DynamicBatcher* b_;
    };
    Arrival arrive() {
        std::lock_guard<std::mutex> lock(mutex_);
        ++arriving_;
        return Arrival(this);
    }

    /// The logits (W, K) of `windows`, row i = windows[i]; blocks until they are computed.
    /// `gone` is asked every few milliseconds while waiting; when it returns true the request
    /// is dropped and nullopt returned. Rethrows an error of the model pass. `arrival` (this
    /// request's announcement, if any) ends when the windows are queued.
    std::optional<Tensor<float>> run(std::vector<Window> windows, const std::function<bool()>& gone,
                                     Arrival* arrival = nullptr) {
        const std::size_t k = predictor_->model().config().num_labels();
        auto job = std::make_shared<Job>();
        job->logits = Tensor<float>::from_shape({windows.size(), k});  // (W, K)
        job->windows = std::move(windows);
        job->enqueued = Clock::now();
        std::unique_lock<std::mutex> lock(mutex_);
        if (arrival) arrival->release_locked();
        if (job->windows.empty()) return job->logits;
        RGRID_CHECK(!stopping_, "DynamicBatcher::run: the batcher is stopped");
        queue_.push_back(job);
        pending_ += job->windows.size();
        work_cv_.notify_one();
        while (!job->finished()) {
            done_cv_.wait_for(lock, std::chrono::milliseconds(20));
            if (!job->finished() && gone && gone()) {
                job->cancelled = true;  // the loop drops its windows not yet taken
                return std::nullopt;
            }
        }
        if (job->error) std::rethrow_exception(job->error);
        return std::move(job->logits);
    }

    /// Finishes the queued work and joins the thread. Idempotent.
    void stop() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) return;
            stopping_ = true;
        }
        work_cv_.notify_all();
        thread_.join();
    }

    const BatchOptions& options() const { return opt_; }
    BatchStats stats() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return stats_;
    }

private:
    using Clock = std::chrono::steady_clock;
    struct Job {
        std::vector<Window> windows;
        Tensor<float> logits;        // (W, K), filled piece by piece
        std::size_t taken = 0;       // windows handed to a batch so far
        std::size_t done = 0;        // windows whose rows are filled
        bool cancelled = false;
        std::exception_ptr error;
        Clock::time_point enqueued;
        bool finished() const { return error || done == windows.size(); }
    };
    struct Piece {
        std::shared_ptr<Job> job;
        std::size_t first, count;  // windows [first, first + count) of job
    };

    /// Drops cancelled jobs at the queue's front (under the lock).
    void drop_cancelled() {
        for (auto it = queue_.begin(); it != queue_.end();) {
            if ((*it)->cancelled) {
                const std::size_t left = (*it)->windows.size() - (*it)->taken;
                pending_ -= left;
                stats_.dropped += left;
                it = queue_.erase(it);
            } else {
                ++it;
            }
        }
    }

    void loop() {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            drop_cancelled();
            if (queue_.empty()) {
                if (stopping_) return;
                work_cv_.wait_for(lock, std::chrono::milliseconds(50));
                continue;
            }
            // Wait for a full batch or the oldest window's deadline, while more requests are on
            // their way (run at once when stopping).
            const auto deadline = queue_.front()->enqueued + opt_.max_wait;
            if (pending_ < opt_.max_batch && arriving_ > 0 && !stopping_ && Clock::now() < deadline) {
                work_cv_.wait_until(lock, deadline);
                continue;
            }
            std::vector<Piece> pieces;
            std::size_t room = opt_.max_batch;
            while (room > 0 && !queue_.empty()) {
                auto& job = queue_.front();
                const std::size_t n = std::min(room, job->windows.size() - job->taken);
                pieces.push_back({job, job->taken, n});
                job->taken += n;
                room -= n;
                pending_ -= n;
                if (job->taken == job->windows.size()) queue_.pop_front();
            }
            lock.unlock();
            std::vector<Window> batch;
            batch.reserve(opt_.max_batch - room);
            for (const auto& p : pieces)
                batch.insert(batch.end(), p.job->windows.begin() + static_cast<std::ptrdiff_t>(p.first),
                             p.job->windows.begin() + static_cast<std::ptrdiff_t>(p.first + p.count));
            Tensor<float> wl;
            std::exception_ptr error;
            try {
                wl = predictor_->window_logits(batch);  // (B, K)
            } catch (...) {
                error = std::current_exception();
            }
            lock.lock();
            std::size_t row = 0;
            const std::size_t k = error ? 0 : wl.shape()[1];
            for (const auto& p : pieces) {
                if (error) p.job->error = error;
                else std::copy(wl.data() + row * k, wl.data() + (row + p.count) * k,
                               p.job->logits.data() + p.first * k);
                p.job->done += p.count;
                row += p.count;
            }
            ++stats_.batches;
            stats_.windows += batch.size();
            stats_.max_seen = std::max(stats_.max_seen, batch.size());
            stats_.mixed += pieces.size() > 1;
            done_cv_.notify_all();
        }
    }

    std::shared_ptr<const Predictor> predictor_;
    BatchOptions opt_;
    mutable std::mutex mutex_;
    std::condition_variable work_cv_, done_cv_;
    std::deque<std::shared_ptr<Job>> queue_;
    std::size_t pending_ = 0;  // windows queued and not yet taken
    std::size_t arriving_ = 0;  // requests announced with arrive() and not yet queued
    bool stopping_ = false;
    BatchStats stats_;
    std::thread thread_;
};

}  // namespace rgrid::serve
