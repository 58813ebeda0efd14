#pragma once
// GradientReducer: averages the gradients of a model's parameters over all ranks, in buckets,
// overlapped with backward (the scheme of PyTorch DDP's reducer and Horovod's fusion buffer).
//   buckets   parameters in REVERSE registration order (backward produces the last layers'
//             gradients first), cut into buckets of at most bucket_bytes (25 MB, DDP's default;
//             a larger parameter, e.g. the word embeddings, is a bucket of its own)
//   overlap   each parameter's grad_ready_hook (autograd/var.hpp) copies its gradient into its
//             bucket; a full bucket starts MPI_Iallreduce(SUM) at once, while backward goes on.
//             Buckets start strictly in index order, so every rank issues the same collectives
//             in the same order (an MPI requirement), whatever the order of the hooks.
//   finish()  (the Trainer's on_gradients, before clipping) starts what is left, waits for
//             everything (deadline-bounded, distributed/communicator.hpp) and writes
//             sum / world_size back into each gradient.
// With gradient accumulation the hooks add each micro-batch's gradient to the buckets and only
// the last micro-batch's backward starts the all-reduce (arm(false) before the others: DDP's
// no_sync). A parameter without a gradient in the step contributes zeros and is left without
// one (so AdamW skips it as in one process).
// Determinism: for 2 ranks the sum g0 + g1 is the same bits in either order, and x/2 is exact, so
// 2 ranks × batch b reproduce one process accumulating 2 micro-batches of b (fl(g0/2 + g1/2))
// bit for bit. For more ranks the order of MPI's sum is the library's choice.
// https://pytorch.org/docs/stable/notes/ddp.html#internal-design
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <vector>

#include "rgrid/autograd/var.hpp"
#include "rgrid/distributed/communicator.hpp"

namespace rgrid::distributed {

/// Options of GradientReducer (and of DataParallel).
struct ReducerOptions {
    std::size_t bucket_bytes = std::size_t(25) << 20;  // DDP's bucket_cap_mb = 25
    bool overlap = true;                               // false: all buckets start after backward
};

/// Time and volume of the last finish() (for benchmarks and the docs' cost model).
struct ReducerStats {
    double wait_seconds = 0;     // blocked in finish() waiting for the all-reduces
    double finish_seconds = 0;   // the whole of finish(): start the rest, wait, write back
    std::size_t bytes = 0;       // gradient bytes all-reduced per step (every bucket)
    std::size_t buckets = 0;
    std::size_t started_in_backward = 0;  // buckets started from hooks, before finish()
};

/// Example:
///   GradientReducer reducer(comm, model.parameters(), {});
///   reducer.arm(true); backward(loss); reducer.finish();   // grads now averaged over ranks
class GradientReducer {
public:
    GradientReducer(const Communicator& comm, std::vector<Var<float>*> params, ReducerOptions opt = {})
        : comm_(comm), params_(std::move(params)), opt_(opt) {
        RGRID_CHECK(opt_.bucket_bytes > 0, "GradientReducer: bucket_bytes must be > 0");
        slot_of_.resize(params_.size());
        for (std::size_t k = params_.size(); k-- > 0;) {  // reverse registration order
            const std::size_t bytes = params_[k]->numel() * sizeof(float);
            if (buckets_.empty() ||
                (!buckets_.back().buffer.empty() && buckets_.back().buffer.size() * sizeof(float) + bytes > opt_.bucket_bytes))
                buckets_.push_back({});  // a parameter larger than the cap gets a bucket of its own
            Bucket& b = buckets_.back();
            slot_of_[k] = {buckets_.size() - 1, b.buffer.size()};
            b.members.push_back(k);
            b.buffer.resize(b.buffer.size() + params_[k]->numel());
        }
        for (auto& b : buckets_) stats_.bytes += b.buffer.size() * sizeof(float);
        stats_.buckets = buckets_.size();
        if (opt_.overlap)
            for (std::size_t k = 0; k < params_.size(); ++k)
                params_[k]->node()->grad_ready_hook = [this, k](rgrid::detail::Node<float>&) { on_ready(k); };
        reset();
    }
    ~GradientReducer() {
        for (auto* p : params_)
            if (p->defined()) p->node()->grad_ready_hook = nullptr;
    }
    GradientReducer(const GradientReducer&) = delete;
    GradientReducer& operator=(const GradientReducer&) = delete;

    /// Whether the coming backward is the one to reduce (the last micro-batch of a step).
    void arm(bool on) { armed_ = on; }

    /// Completes the reduction: every bucket summed over ranks, gradients = sum / world size.
    void finish() {
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t k = 0; k < params_.size(); ++k)
            if (!ready_[k]) add_to_slot(k, /*last=*/true);  // not reached by the hooks (no overlap, or no gradient)
        start_ready_buckets();
        std::vector<MPI_Request> reqs;
        for (auto& b : buckets_) reqs.push_back(b.request);
        const auto w0 = std::chrono::steady_clock::now();
        comm_.wait(reqs.data(), reqs.size(), "the gradient all-reduce");
        const auto w1 = std::chrono::steady_clock::now();
        const float inv = 1.f / float(comm_.size());
        for (std::size_t k = 0; k < params_.size(); ++k) {
            if (!had_grad_[k]) continue;
            const auto [bi, off] = slot_of_[k];
            const float* src = buckets_[bi].buffer.data() + off;
            float* dst = params_[k]->grad().data();
            for (std::size_t i = 0, n = params_[k]->numel(); i < n; ++i) dst[i] = src[i] * inv;
        }
        stats_.wait_seconds = std::chrono::duration<double>(w1 - w0).count();
        stats_.finish_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        stats_.started_in_backward = started_in_backward_;
        reset();
    }

    const ReducerStats& stats() const { return stats_; }
    std::size_t num_buckets() const { return buckets_.size(); }

private:
    struct Bucket {
        std::vector<std::size_t> members;  // parameter indices
        std::vector<float> buffer;
        std::size_t ready = 0;
        bool started = false;
        MPI_Request request = MPI_REQUEST_NULL;
    };
    struct Slot {
        std::size_t bucket, offset;
    };

    void reset() {
        ready_.assign(params_.size(), false);
        had_grad_.assign(params_.size(), false);
        for (auto& b : buckets_) {
            b.ready = 0;
            b.started = false;
            b.request = MPI_REQUEST_NULL;
        }
        next_bucket_ = 0;
        armed_ = false;
        started_in_backward_ = 0;
    }

    // Every micro-batch's gradient is added to the bucket on its own and then released, so the
    // next micro-batch computes a fresh one (PyTorch's AccumulateGrad order, the same as the
    // Trainer's gradient accumulation): the sums of all paths round alike.
    void on_ready(std::size_t k) {
        if (ready_[k]) return;
        add_to_slot(k, armed_);
        if (!armed_) return;
        const std::size_t before = next_bucket_;
        start_ready_buckets();
        started_in_backward_ += next_bucket_ - before;
        if (next_bucket_ > 0) {  // let MPI progress the started ones (no progress thread in OpenMPI)
            std::vector<MPI_Request> reqs;
            for (std::size_t i = 0; i < next_bucket_; ++i) reqs.push_back(buckets_[i].request);
            comm_.test(reqs.data(), reqs.size());
            for (std::size_t i = 0; i < next_bucket_; ++i) buckets_[i].request = reqs[i];
        }
    }

    // slot += this pass's gradient (a copy for the first), which is then released; `last`: the
    // parameter's slot is final for this step.
    void add_to_slot(std::size_t k, bool last) {
        const auto [bi, off] = slot_of_[k];
        float* dst = buckets_[bi].buffer.data() + off;
        const std::size_t n = params_[k]->numel();
        if (params_[k]->has_grad()) {
            const float* g = params_[k]->grad().data();
            if (had_grad_[k]) for (std::size_t i = 0; i < n; ++i) dst[i] += g[i];
            else std::memcpy(dst, g, n * sizeof(float));
            had_grad_[k] = true;
            params_[k]->zero_grad();
        }
        if (!last) return;
        if (!had_grad_[k]) std::fill(dst, dst + n, 0.f);
        ready_[k] = true;
        ++buckets_[bi].ready;
    }

    void start_ready_buckets() {
        while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].ready == buckets_[next_bucket_].members.size()) {
            Bucket& b = buckets_[next_bucket_++];
            b.request = comm_.start_all_sum(b.buffer.data(), b.buffer.size(), "the gradient all-reduce");
            b.started = true;
        }
    }

    const Communicator& comm_;
    std::vector<Var<float>*> params_;
    ReducerOptions opt_;
    std::vector<Bucket> buckets_;
    std::vector<Slot> slot_of_;
    std::vector<bool> ready_, had_grad_;
    std::size_t next_bucket_ = 0, started_in_backward_ = 0;
    bool armed_ = false;
    ReducerStats stats_;
};

}  // namespace rgrid::distributed
