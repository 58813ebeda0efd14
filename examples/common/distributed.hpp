#pragma once
// The programs' side of data parallelism (docs/distributed.md). In a build with MPI
// (RGRID_WITH_MPI) and started by mpirun/srun with more than one rank, the programs train and
// predict on every rank through rgrid/distributed/; otherwise every call here is the
// single-process path, so one main.cpp serves both builds.
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "rgrid/distributed/resume_check.hpp"
#include "rgrid/train/predictor.hpp"
#include "rgrid/train/trainer.hpp"
#if RGRID_WITH_MPI
#include "rgrid/distributed/data_parallel.hpp"
#endif

namespace rgrid::cli {

/// Example: `cli::Distributed dist(argc, argv, "rgrid-finetune"); if (dist.is_main()) std::cout << ...;`
class Distributed {
public:
    Distributed(int& argc, char**& argv, const char* program)
#if RGRID_WITH_MPI
        : session_(argc, argv)
#endif
    {
        (void)argc;
        (void)argv;
        if (world_size() > 1) install_stop_message(program, rank());
    }

#if RGRID_WITH_MPI
    int rank() const { return session_.rank(); }
    int world_size() const { return session_.size(); }
#else
    int rank() const { return 0; }
    int world_size() const { return 1; }
#endif
    bool is_main() const { return rank() == 0; }
    /// " (rank 1 of 2)" in a multi-rank run, else "" (for error messages).
    std::string where() const {
        return world_size() > 1 ? " (rank " + std::to_string(rank()) + " of " + std::to_string(world_size()) + ")"
                                : "";
    }

    /// After an error on this rank: in a multi-rank run ends every rank now (MPI_Abort, so no
    /// peer waits for a collective this rank will never join); otherwise returns.
    void abort_job(int code) const {
#if RGRID_WITH_MPI
        if (world_size() > 1) session_.abort(code);
#endif
        (void)code;
    }

    /// Sets up data parallelism for a Trainer program: ranks > 0 save nothing. `timeout` bounds
    /// every collective (seconds).
    rgrid::TrainingArguments adapt(rgrid::TrainingArguments args, double timeout) {
#if RGRID_WITH_MPI
        if (world_size() > 1) {
            comm_ = std::make_unique<rgrid::distributed::Communicator>(timeout);
            dp_ = std::make_unique<rgrid::distributed::DataParallel>(*comm_);
            return dp_->adapt(std::move(args));
        }
#endif
        (void)timeout;
        return args;
    }
    std::shared_ptr<rgrid::Objective> wrap(std::shared_ptr<rgrid::Objective> objective) const {
#if RGRID_WITH_MPI
        if (dp_) return dp_->wrap(std::move(objective));
#endif
        return objective;
    }
    void check_resume(const std::string& dir) const { rgrid::distributed::check_resume_world_size(dir, world_size()); }
    void attach(rgrid::Trainer& trainer) {
#if RGRID_WITH_MPI
        if (dp_) dp_->attach(trainer);
#endif
        (void)trainer;
    }

    /// Window logits with the model's batches dealt round-robin over the ranks and summed on
    /// rank 0 (other ranks get only their share): the single-process result, bit for bit.
    rgrid::Tensor<float> window_logits(const rgrid::Predictor& predictor, const std::vector<rgrid::Window>& windows,
                                       double timeout) const {
#if RGRID_WITH_MPI
        if (world_size() > 1) {
            rgrid::distributed::Communicator comm(timeout);
            rgrid::Tensor<float> wl = predictor.window_logits(windows, std::size_t(rank()), std::size_t(world_size()));
            comm.sum_to_root(wl.data(), wl.size(), "the prediction reduce");
            return wl;
        }
#endif
        (void)timeout;
        return predictor.window_logits(windows);
    }

private:
    // A rank the launcher stops (mpirun/srun send SIGTERM to all ranks when one dies) says so
    // before it goes, with async-signal-safe write(2) only.
    static void install_stop_message(const char* program, int rank) {
        static char msg[256];
        std::string m = std::string(program) + ": rank " + std::to_string(rank) +
                        ": stopped by the launcher (SIGTERM): another rank failed or the job was cancelled; "
                        "continue with --resume (docs/distributed.md)\n";
        std::strncpy(msg, m.c_str(), sizeof msg - 1);
        std::signal(SIGTERM, [](int) {
            [[maybe_unused]] auto n = ::write(2, msg, std::strlen(msg));
            std::_Exit(143);
        });
    }

#if RGRID_WITH_MPI
    rgrid::distributed::Session session_;
    std::unique_ptr<rgrid::distributed::Communicator> comm_;
    std::unique_ptr<rgrid::distributed::DataParallel> dp_;
#endif
};

/// The programs' main(): starts MPI when launched by mpirun/srun, returns `run(argc, argv, dist)`,
/// and turns an exception into "PROGRAM: error (rank r of W): what" on stderr, exit status 1,
/// ending every rank of a multi-rank job.
/// Example: `int main(int argc, char** argv) { return cli::distributed_main(argc, argv, "rgrid-predict", run); }`
template <class Run>
int distributed_main(int argc, char** argv, const char* program, Run run) {
    Distributed dist(argc, argv, program);
    try {
        return run(argc, argv, dist);
    } catch (const std::exception& e) {
        std::cerr << program << ": error" << dist.where() << ": " << e.what() << '\n';
        dist.abort_job(1);
        return 1;
    }
}

}  // namespace rgrid::cli
