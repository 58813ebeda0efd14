#pragma once
// DataParallel: any Trainer program on several MPI ranks, one model replica per rank (the
// semantics of PyTorch DDP / Horovod). A program changes three lines:
//   DataParallel dp(comm);
//   args = dp.adapt(args);                          // only rank 0 writes checkpoints and reports
//   Trainer trainer(dp.wrap(objective), args);      // rank r trains on its shard of every step
//   dp.attach(trainer);                             // rank 0's weights, gradient all-reduce
// What each part does:
//   data      ShardedObjective: the objective's batches of per_device_train_batch_size b, in its
//             shuffled order (a function of (seed, epoch) only, the same for every world size),
//             dealt round-robin: micro-batch k of rank r is the objective's batch k·W + r. So
//             step s of W ranks with N accumulation steps reads the objective's batches
//             s·W·N … (s+1)·W·N − 1, exactly those of one process accumulating W·N (global
//             batch W·N·b). An epoch's last batches that do not fill all W ranks are dropped.
//   weights   attach() broadcasts rank 0's parameters (its init, or its resumed checkpoint).
//   gradients GradientReducer (distributed/gradient_reducer.hpp): bucketed all-reduce started
//             from the autograd hooks while backward runs, waited in on_gradients, before
//             clipping; clipping and AdamW then run on identical gradients on every rank.
//   dropout   rank r's micro-batch draws its dropout from Rng(next draw of the Trainer's stream)
//             .fork(r): streams from (seed, step, rank), and resumable (the Trainer's stream is
//             the same on every rank and saved in its checkpoint).
//   loss      the logged loss is the mean over ranks (one scalar all-reduce per micro-batch; the
//             gradient is untouched: the offset added is a constant).
//   eval      classification: the validation windows' batches are sharded across ranks and the
//             logits summed (Predictor::window_logits), so every rank gets the single-process
//             report, bit for bit. Other objectives evaluate on every rank.
//   files     rank 0 only (TrainingArguments::should_save); checkpoints carry distributed.json
//             (the world size) and a resume with another world size is refused.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "rgrid/core/json.hpp"
#include "rgrid/distributed/communicator.hpp"
#include "rgrid/distributed/gradient_reducer.hpp"
#include "rgrid/distributed/resume_check.hpp"
#include "rgrid/train/classification_objective.hpp"
#include "rgrid/train/objective.hpp"
#include "rgrid/train/trainer.hpp"

namespace rgrid::distributed {

/// Rank `rank`'s share of an objective: micro-batch k is the inner objective's batch k·W + rank.
/// Example: `auto mine = std::make_shared<ShardedObjective>(inner, comm);`
class ShardedObjective : public Objective {
public:
    ShardedObjective(std::shared_ptr<Objective> inner, const Communicator& comm)
        : inner_(std::move(inner)), comm_(comm) {
        RGRID_CHECK(inner_, "ShardedObjective: no objective");
        RGRID_CHECK(inner_->batches_per_epoch() >= std::size_t(comm_.size()), "distributed: the training data has ",
                    inner_->batches_per_epoch(), " batches per epoch, fewer than the ", comm_.size(),
                    " ranks; use a smaller --batch-size or fewer ranks");
    }

    Module<float>& model() override { return inner_->model(); }
    std::size_t batches_per_epoch() const override { return inner_->batches_per_epoch() / std::size_t(comm_.size()); }
    Batch batch(std::size_t epoch, std::size_t k) override {
        return inner_->batch(epoch, k * std::size_t(comm_.size()) + std::size_t(comm_.rank()));
    }
    Var<float> loss(const Batch& batch, Rng& dropout_rng) override {
        Rng mine = Rng(dropout_rng.next_u64()).fork(std::uint64_t(comm_.rank()));
        Var<float> local = inner_->loss(batch, mine);
        double mean = local.value()();
        comm_.all_sum(&mean, 1, "the loss all-reduce");
        mean /= double(comm_.size());
        Tensor<float> offset = Tensor<float>::from_shape(local.value().shape());
        offset.fill(float(mean - double(local.value()())));
        return local + Var<float>(std::move(offset));  // value: the mean over ranks; gradient: unchanged
    }
    EvalReport evaluate() override {
        auto* c = dynamic_cast<ClassificationObjective*>(inner_.get());
        if (!c) return inner_->evaluate();
        const auto t0 = std::chrono::steady_clock::now();
        const WindowedDocs& wd = c->val_windows();
        Tensor<float> wl = c->predictor().window_logits(wd.windows, std::size_t(comm_.rank()), std::size_t(comm_.size()));
        comm_.all_sum(wl.data(), wl.size(), "the evaluation all-reduce");  // one rank's rows + zeros: exact
        return evaluate_window_logits(c->predictor(), wd, c->val_labels(), wl, t0);
    }
    double score(const EvalReport& r) const override { return inner_->score(r); }
    LogRecord eval_fields(const EvalReport& ev) const override { return inner_->eval_fields(ev); }
    /// The inner objective's files plus distributed.json (world size, for resume).
    void save(const std::string& dir) const override {
        inner_->save(dir);
        std::ofstream(dir + "/distributed.json") << json{{"world_size", comm_.size()}}.dump(2) << '\n';
    }
    TrainBegin describe() const override { return inner_->describe(); }

    Objective& inner() { return *inner_; }

private:
    std::shared_ptr<Objective> inner_;
    const Communicator& comm_;
};

/// Data parallelism for a Trainer over MPI_COMM_WORLD (see the top of this file).
/// Example:
///   Session mpi(argc, argv); Communicator comm; DataParallel dp(comm);
///   args = dp.adapt(args);
///   Trainer trainer(dp.wrap(std::make_shared<ClassificationObjective>(model, tok, "", args, train, val)), args);
///   if (resume) { dp.check_resume(dir); trainer.resume_from(dir); }
///   dp.attach(trainer);
///   trainer.train();
class DataParallel {
public:
    explicit DataParallel(const Communicator& comm, ReducerOptions opt = {}) : comm_(comm), opt_(opt) {}

    int rank() const { return comm_.rank(); }
    int world_size() const { return comm_.size(); }
    bool is_main() const { return comm_.rank() == 0; }

    /// The arguments for this rank: ranks > 0 write no checkpoints and no report files.
    TrainingArguments adapt(TrainingArguments args) const {
        args.should_save = is_main();
        return args;
    }
    /// This rank's shard of `objective`.
    std::shared_ptr<Objective> wrap(std::shared_ptr<Objective> objective) const {
        return std::make_shared<ShardedObjective>(std::move(objective), comm_);
    }
    /// Refuses to resume `dir` with another number of ranks than wrote it (resume_check.hpp).
    void check_resume(const std::string& dir) const { check_resume_world_size(dir, comm_.size()); }
    /// Broadcasts rank 0's weights, checks that every rank is at the same step, and installs the
    /// gradient all-reduce (hooks + on_backward_begin/on_gradients callbacks). Call after
    /// resume_from() and before train(); the Trainer must outlive this object's use.
    void attach(Trainer& trainer) {
        auto params = trainer.objective().model().parameters();
        for (auto* p : params) comm_.broadcast(p->data(), p->numel(), 0, "the weight broadcast");
        std::uint64_t step[2] = {trainer.state().global_step, ~std::uint64_t(trainer.state().global_step)};
        comm_.all_max(step, 2, "the step check");  // max of s and of ~s: equal on all ranks iff s is
        RGRID_CHECK(step[0] == ~step[1], "distributed: the ranks are at different steps (rank ", comm_.rank(),
                    " at ", trainer.state().global_step, "): every rank must resume from the same checkpoint "
                    "(a shared file system; docs/distributed.md)");
        reducer_ = std::make_unique<GradientReducer>(comm_, std::move(params), opt_);
        TrainerCallback cb;
        cb.on_backward_begin = [r = reducer_.get()](bool last) { r->arm(last); };
        cb.on_gradients = [r = reducer_.get()](const std::vector<Var<float>*>&) { r->finish(); };
        trainer.add_callback(std::move(cb));
    }

    const GradientReducer& reducer() const {
        RGRID_CHECK(reducer_, "DataParallel: attach() a Trainer first");
        return *reducer_;
    }

private:
    const Communicator& comm_;
    ReducerOptions opt_;
    std::unique_ptr<GradientReducer> reducer_;
};

}  // namespace rgrid::distributed
